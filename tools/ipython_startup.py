# IPython startup file of `make test` and `make test-portable` (copied by the Makefile into the test session's
# own IPYTHONDIR as profile_default/startup/00-course-runcache.py): every notebook kernel of the session runs
# it before the notebook's first cell. With $COURSE_RUN_CACHE set it installs the run cache (tools/runcache.py)
# around course_utils' fit and fit_seeds. The kernel runs in the notebook's folder, where `tools` cannot be
# imported; $COURSE_REPO_ROOT (set by the Makefile) says where it is. sys.path is left as the notebook would
# have it: the repository root is on it only while tools.runcache is imported.
# (Comments, not a module docstring: IPython runs this file in the notebook's namespace, where a docstring
# would become the notebook's __doc__.)
import os as _os
import sys as _sys


def _install_course_run_cache() -> None:
    """Install the run cache when $COURSE_RUN_CACHE is set (the repository root on sys.path only to import it)."""
    root = _os.environ.get("COURSE_REPO_ROOT")
    if not _os.environ.get("COURSE_RUN_CACHE"):
        return
    if not root:
        raise RuntimeError("COURSE_RUN_CACHE is set but COURSE_REPO_ROOT is not: run the tests with `make test`")
    import course_utils  # noqa: F401  (the installed package, imported before the root is on sys.path)

    _sys.path.insert(0, root)
    try:
        from tools import runcache
    finally:
        _sys.path.remove(root)
    runcache.install()


_install_course_run_cache()
del _install_course_run_cache, _os, _sys
