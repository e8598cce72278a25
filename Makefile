# The course's commands. A new user needs two: `make course` and `make test` (each sets up what it needs).
# They run the maintainer tooling in tools/ (`python -m tools.authoring ...`, `python -m tools.bench`) from the
# repository root; course_utils/ is only what the notebooks import.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
NBVAL  := --nbval --nbval-current-env --nbval-sanitize-with tests/sanitize.cfg
# Two pytest-xdist workers. loadgroup with the root conftest.py's chapter groups: one worker runs all the cells of
# notebooks/NN_x.ipynb and then student/NN_x.ipynb, in order; --no-loadscope-reorder keeps conftest.py's order
# (slowest chapters first, the unit tests last) instead of xdist's "groups with most tests first".
XDIST  := -n 2 --dist loadgroup --no-loadscope-reorder
# test-portable: a second CPU setting, as on another machine: PyTorch's portable kernels instead of AVX2/AVX-512
# ones, MKL in its reproducible mode, oneDNN limited to AVX2.
PORTABLE_CPU := ATEN_CPU_CAPABILITY=default MKL_CBWR=COMPATIBLE ONEDNN_MAX_CPU_ISA=AVX2
# Idle PyTorch/OpenMP worker threads sleep instead of spinning. When the CPU is shared (another job,
# parallel test workers) spinning threads made small tensor operations up to 30x slower here.
export OMP_WAIT_POLICY := PASSIVE

.PHONY: help venv data course lab test test-portable test-colab test-browser nbgrader test-nbgrader notebooks student colab bench clean

help:
	@echo "make course        execute every notebook into build/ (executed .ipynb + HTML) and print the times"
	@echo "make test          unit tests + nbval over notebooks/ and student/ + pair, badge and student checks (2 workers)"
	@echo "make test-portable nbval over notebooks/ and student/ again under a second CPU setting ($(PORTABLE_CPU))"
	@echo "make test-colab    course_utils' unit tests + every notebook and student edition (nbval-lax) under Colab's versions (colab/requirements.txt)"
	@echo "make test-browser  the canvas and the explorers in a real browser (chromium + Playwright): JupyterLab at the repository and at notebooks/, the canvas also in Notebook 6.5 with ipywidgets 7"
	@echo "make nbgrader      the nbgrader course in build/nbgrader/ (every chapter an assignment) + nbgrader in .venv-instructor/"
	@echo "make test-nbgrader nbgrader itself grades every chapter: generate_assignment, then autograde solved/unsolved/one solved"
	@echo "make lab           JupyterLab on notebooks/"
	@echo "make notebooks     re-execute notebooks in place (refresh committed outputs); NB=03 for one"
	@echo "make student       rebuild the student editions in student/ (and the exercise table in INSTRUCTORS.md)"
	@echo "make colab         rewrite badges and Colab setup cells from [tool.course] in pyproject.toml"
	@echo "make bench         time one training epoch per data path on this machine into bench/results.md"
	@echo "make venv data     the environment (.venv, exact pins) and verified MNIST (data/)"

# requirements.txt pins the whole environment; tools/requirements.txt the tooling's own share of it (same pins).
venv: $(STAMP)
$(STAMP): requirements.txt tools/requirements.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements.txt -r tools/requirements.txt
	$(PY) -m pip install --quiet --no-deps -e .
	$(PY) -c "import torch, torchvision; print('torch', torch.__version__, '+ torchvision', torchvision.__version__, 'import fine')"
	touch $(STAMP)

data: venv
	$(PY) -m course_utils data

course: venv data
	$(PY) -m tools.authoring course

lab: venv data
	$(VENV)/bin/jupyter lab notebooks/

# The run cache of a test session (tools/runcache.py): a fresh COURSE_RUN_CACHE folder per run, so a student
# edition reuses the trainings its full notebook just did (identical arguments, weights, generators) instead of
# repeating them. It wraps course_utils' fit and fit_seeds from outside, in the notebook kernels only: a fresh
# IPYTHONDIR whose startup file (tools/ipython_startup.py) installs it before a notebook's first cell, with
# COURSE_REPO_ROOT telling the kernel (which runs in the notebook's folder) where tools/ is. The trap removes both
# folders. Used as `$(RUN_CACHE_SESSION) && <command>` in one shell line.
RUN_CACHE_SESSION = cache=$$(mktemp -d) && ipython=$$(mktemp -d) && trap 'rm -rf "$$cache" "$$ipython"' EXIT && \
	mkdir -p "$$ipython/profile_default/startup" && \
	cp tools/ipython_startup.py "$$ipython/profile_default/startup/00-course-runcache.py" && \
	export COURSE_RUN_CACHE="$$cache" IPYTHONDIR="$$ipython" COURSE_REPO_ROOT="$(CURDIR)"

# A subset: NBVAL_PATHS="notebooks/07_training.ipynb student/07_training.ipynb" (fewer notebooks), TEST_PATHS= (no
# unit tests), e.g. `make test TEST_PATHS= NBVAL_PATHS="notebooks/07_training.ipynb student/07_training.ipynb"`.
TEST_PATHS ?= tests
NBVAL_PATHS ?= notebooks student
test: venv data
	$(RUN_CACHE_SESSION) && \
	$(PY) -m pytest $(TEST_PATHS) $(NBVAL_PATHS) $(NBVAL) $(XDIST) -p no:cacheprovider

# The notebooks' committed outputs must also hold on a machine whose CPU gives PyTorch other kernels.
# Its own fresh run cache: nothing trained under the first setting is reused. NBVAL_PATHS=notebooks/01_data.ipynb
# runs fewer notebooks.
test-portable: venv data
	@echo "test-portable: CPU setting $(PORTABLE_CPU)"
	@env $(PORTABLE_CPU) $(PY) -c "import torch; print('test-portable: torch CPU capability', torch.backends.cpu.get_cpu_capability())"
	$(RUN_CACHE_SESSION) && \
	env $(PORTABLE_CPU) $(PY) -m pytest $(NBVAL_PATHS) $(NBVAL) $(XDIST) -p no:cacheprovider

# Colab's preinstalled versions (colab/requirements.txt, from googlecolab/backend-info; its header says how to move
# them) in a second environment, .venv-colab/, rebuilt from scratch when that list changes. The test tooling goes in
# after it at the main requirements.txt's pins, constrained by the list (-c): pip fails rather than change a Colab
# version. The course goes in as on Colab, `pip install --no-deps` from a fresh copy of the source, at every run
# (checked first: the setup cell's install with dependencies would add nothing else); then `colab/pins.py check`
# prints the versions and fails if any differs from the list. Then course_utils' unit tests (every tests/test_*.py
# whose module does not import tools/ at its top: those test the tooling, which needs its own packages) and every
# notebook and student edition under nbval-lax (outputs not compared; any error or failed assert fails).
# Python: python3.13 (the list's version) on PATH, else the newest 3.13 installed by pyenv (its python3.13 shim
# answers only while 3.13 is an active version), else set COLAB_PYTHON=/path/to/python3.13. The notebook kernels get
# a fresh IPYTHONDIR (no profile or startup file of this machine's user).
COLAB_VENV   := .venv-colab
COLAB_PY     := $(COLAB_VENV)/bin/python
COLAB_STAMP  := $(COLAB_VENV)/.installed
COLAB_PYVER   = $(shell $(PYTHON) colab/pins.py python)
COLAB_PYTHON ?= $(shell for p in python$(COLAB_PYVER) $$(ls -d "$${PYENV_ROOT:-$$HOME/.pyenv}"/versions/$(COLAB_PYVER).*/bin/python$(COLAB_PYVER) 2>/dev/null | sort -rV); do "$$p" -c "" 2>/dev/null && { command -v "$$p"; break; }; done)
COLAB_TOOLING := pytest pytest-xdist nbval
COLAB_UNIT_TESTS ?= $(shell grep -L -E '^(from|import)[[:space:]]+tools([.[:space:]]|$$)' tests/test_*.py)
COLAB_NBVAL_PATHS ?= notebooks student
COURSE_SOURCE := pyproject.toml README.md course_utils
# Two workers, one notebook's cells in one kernel and in order (xdist's loadfile), in conftest.py's order, slowest
# first. Not make test's chapter groups: those keep a student edition after its notebook for the run cache, which
# this job leaves out (a learner's kernel has none), so notebooks/08 and student/08 can run side by side.
COLAB_XDIST := -n 2 --dist loadfile --no-loadscope-reorder

$(COLAB_STAMP): colab/requirements.txt
	@test -n "$(COLAB_PYTHON)" || { echo "test-colab: no Python $(COLAB_PYVER) found: put python$(COLAB_PYVER) on PATH or run make test-colab COLAB_PYTHON=/path/to/python$(COLAB_PYVER)" >&2; exit 1; }
	rm -rf $(COLAB_VENV)
	$(COLAB_PYTHON) -m venv $(COLAB_VENV)
	@echo "test-colab: installing Colab's versions (torch from PyPI is a CUDA build: about 3 GB to download when not cached)"
	$(COLAB_PY) -m pip install --quiet -r colab/requirements.txt
	$(COLAB_PY) colab/pins.py tooling requirements.txt > $(COLAB_VENV)/tooling-constraints.txt
	$(COLAB_PY) -m pip install --quiet -c colab/requirements.txt -c $(COLAB_VENV)/tooling-constraints.txt $(COLAB_TOOLING)
	touch $(COLAB_STAMP)

test-colab: $(COLAB_STAMP)
	src=$$(mktemp -d) && trap 'rm -rf "$$src"' EXIT && cp -R $(COURSE_SOURCE) "$$src"/ && \
	$(COLAB_PY) -m pip install --quiet --dry-run --report $(COLAB_VENV)/setup-cell.json "$$src" && \
	$(COLAB_PY) colab/pins.py setup-cell $(COLAB_VENV)/setup-cell.json && \
	$(COLAB_PY) -m pip install --quiet --no-deps --force-reinstall "$$src"
	$(COLAB_PY) colab/pins.py check
	@echo "test-colab: unit tests: $(COLAB_UNIT_TESTS)"
	@echo "test-colab: not run (tests of tools/): $(filter-out $(COLAB_UNIT_TESTS),$(wildcard tests/test_*.py))"
	$(COLAB_PY) -m course_utils data
	ipython=$$(mktemp -d) && trap 'rm -rf "$$ipython"' EXIT && export IPYTHONDIR="$$ipython" PYDEVD_DISABLE_FILE_VALIDATION=1 && \
	$(COLAB_PY) -m pytest $(COLAB_UNIT_TESTS) $(COLAB_NBVAL_PATHS) --nbval-lax --nbval-current-env $(COLAB_XDIST) -p no:cacheprovider

# Instructors: nbgrader (tools/requirements-instructor.txt) in its own environment, .venv-instructor/, so the
# course's .venv (and the JupyterLab of `make lab`) stays exactly as requirements.txt says. requirements.txt
# constrains it, so the Jupyter packages the two share have the same versions. Notebooks graded there run in .venv:
# .venv's ipykernel is installed into .venv-instructor as its python3 kernel, which nbgrader finds before its own.
INSTRUCTOR_VENV  := .venv-instructor
INSTRUCTOR_STAMP := $(INSTRUCTOR_VENV)/.installed
NBGRADER         := $(INSTRUCTOR_VENV)/bin/nbgrader

INSTRUCTOR_KERNEL := $(INSTRUCTOR_VENV)/share/jupyter/kernels/python3/kernel.json

$(INSTRUCTOR_STAMP): tools/requirements-instructor.txt requirements.txt
	rm -rf $(INSTRUCTOR_VENV)
	$(PYTHON) -m venv $(INSTRUCTOR_VENV)
	$(INSTRUCTOR_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(INSTRUCTOR_VENV)/bin/python -m pip install --quiet -c requirements.txt -r tools/requirements-instructor.txt
	$(NBGRADER) --version
	touch $(INSTRUCTOR_STAMP)

$(INSTRUCTOR_KERNEL): $(STAMP) $(INSTRUCTOR_STAMP)
	$(PY) -m ipykernel install --prefix "$(CURDIR)/$(INSTRUCTOR_VENV)" --name python3 --display-name "Python 3"

# The nbgrader course, made from notebooks/: build/nbgrader/source/NN_x/NN_x.ipynb and nbgrader_config.py
# (tools/grading.py). INSTRUCTORS.md says how to grade with it.
nbgrader: venv $(INSTRUCTOR_KERNEL)
	$(PY) -m tools.grading write

# For every chapter (NBGRADER_NAMES="03 09" for some), in a temporary course folder with its own sqlite gradebook:
# nbgrader generate_assignment, then nbgrader autograde on the solution, on the release notebook as handed out and
# on it with only the first exercise solved; fails unless they score full, zero and that exercise's points, and
# no cell but a failing check raises. Two chapters at a time, slowest first; the run cache of `make test` lets the
# second and third run of a chapter reuse its trainings.
NBGRADER_NAMES ?=
test-nbgrader: venv data $(INSTRUCTOR_KERNEL)
	$(RUN_CACHE_SESSION) && \
	$(PY) -m tools.grading test --nbgrader $(NBGRADER) --jobs 2 $(NBGRADER_NAMES)

# The widgets in a real browser (tests_browser/, README "The widgets in a browser"): Debian's chromium, driven by
# Playwright from tests_browser/.venv/ (tests_browser/requirements.txt, nothing else), runs the real chapters in
# JupyterLab from .venv (rooted at the repository, then at notebooks/) and the canvas chapter in the classic
# Notebook 6.5 with ipywidgets 7 from .venv-colab/ (Colab's versions, with this course installed as test-colab
# installs it). chromium comes from apt when missing (as root, as in CI). Screenshots: build/browser/.
BROWSER_VENV  := tests_browser/.venv
BROWSER_PY    := $(BROWSER_VENV)/bin/python
BROWSER_STAMP := $(BROWSER_VENV)/.installed

$(BROWSER_STAMP): tests_browser/requirements.txt
	rm -rf $(BROWSER_VENV)
	$(PYTHON) -m venv $(BROWSER_VENV)
	$(BROWSER_PY) -m pip install --quiet --upgrade pip
	$(BROWSER_PY) -m pip install --quiet -r tests_browser/requirements.txt
	touch $(BROWSER_STAMP)

test-browser: venv data $(COLAB_STAMP) $(BROWSER_STAMP)
	@command -v chromium >/dev/null || { test "$$(id -u)" = 0 || { echo "test-browser: no chromium; run: sudo apt-get install -y chromium" >&2; exit 1; }; \
	  echo "test-browser: installing Debian's chromium (apt)"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }
	src=$$(mktemp -d) && trap 'rm -rf "$$src"' EXIT && cp -R $(COURSE_SOURCE) "$$src"/ && \
	$(COLAB_PY) -m pip install --quiet --no-deps --force-reinstall "$$src"
	$(BROWSER_PY) -m pytest -c tests_browser/pytest.ini tests_browser

notebooks: venv data
	$(PY) -m tools.authoring refresh $(NB)
	$(PY) -m tools.authoring student
	$(PY) -m tools.grading table --write

# The student editions, and the table of every chapter's exercises in INSTRUCTORS.md.
student: venv
	$(PY) -m tools.authoring student
	$(PY) -m tools.grading table --write

colab: venv
	$(PY) -m tools.authoring colab

# Seconds per training epoch, DataLoader + ToTensor vs preloaded tensors, for each case in
# tools/bench.py; adds or refreshes this machine's section of bench/results.md.
bench: venv data
	$(PY) -m tools.bench

clean:
	rm -rf build .pytest_cache
