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

.PHONY: help venv data course lab test test-portable notebooks student colab bench clean

help:
	@echo "make course        execute every notebook into build/ (executed .ipynb + HTML) and print the times"
	@echo "make test          unit tests + nbval over notebooks/ and student/ + pair, badge and student checks (2 workers)"
	@echo "make test-portable nbval over notebooks/ and student/ again under a second CPU setting ($(PORTABLE_CPU))"
	@echo "make lab           JupyterLab on notebooks/"
	@echo "make notebooks     re-execute notebooks in place (refresh committed outputs); NB=03 for one"
	@echo "make student       rebuild the student editions in student/"
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

# A subset: NBVAL_PATHS="notebooks/06_training.ipynb student/06_training.ipynb" (fewer notebooks), TEST_PATHS= (no
# unit tests), e.g. `make test TEST_PATHS= NBVAL_PATHS="notebooks/06_training.ipynb student/06_training.ipynb"`.
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

notebooks: venv data
	$(PY) -m tools.authoring refresh $(NB)
	$(PY) -m tools.authoring student

student: venv
	$(PY) -m tools.authoring student

colab: venv
	$(PY) -m tools.authoring colab

# Seconds per training epoch, DataLoader + ToTensor vs preloaded tensors, for each case in
# tools/bench.py; adds or refreshes this machine's section of bench/results.md.
bench: venv data
	$(PY) -m tools.bench

clean:
	rm -rf build .pytest_cache
