"""tools: the course's maintainer tooling, run by the Makefile from the repository root; not for learners.

Nothing here is installed: the course's package (what the notebooks import, what Colab installs) is
course_utils alone. Modules, one concern each, imported only in this order (no cycles):

- config: repository paths, the course config ([tool.course] in pyproject.toml), the notebook list, badges
- student: the student editions (solutions turned into stubs, outputs cleared); uses config
- authoring: ``python -m tools.authoring colab|student|check|course|refresh``; uses config and student
- bench: ``python -m tools.bench`` (make bench), seconds per training epoch into bench/results.md
- runcache: the run cache of a `make test` session, which ipython_startup.py installs in its notebook kernels

The tooling's own dependencies, beyond course_utils', are pinned in tools/requirements.txt.
"""
