"""pytest set-up for the nbval runs of notebooks/ and student/ (`make test`, `make test-portable`).

It lives at the repository root, not in tests/, because pytest loads a conftest.py only for the folders it
collects from and the folders above them: `pytest notebooks student --nbval` never loads tests/conftest.py.

1. Chapter groups for pytest-xdist. With ``-n 2 --dist loadgroup`` every cell of notebooks/NN_x.ipynb and
   of student/NN_x.ipynb belongs to the group "NN_x", and one worker runs a whole group in the order of the
   collection (xdist/scheduler/loadscope.py hands a group to one worker and sends its items in collection
   order). So all cells of a notebook share one kernel, and the student edition runs after its full notebook
   on the same worker, where it reuses that notebook's trainings through $COURSE_RUN_CACHE.
   The group comes from the notebook's path, in the scheduler below (ChapterScheduling). Each nbval item also
   gets the mark ``xdist_group("NN_x")``, but xdist alone does not group by it here: xdist 3.8 passes the
   mark to the controller as an "@group" suffix it writes into ``item._nodeid``, which pytest 9.2 no longer
   reads (its node ids are structured), so the suffix is silently lost (pytest-xdist issue #1386).
2. Order. nbval items come first, the slowest chapters first (SLOWEST_FIRST, then the rest in chapter order),
   each chapter's notebook before its student edition, every notebook's cells in order; the unit tests
   follow, small pieces of work that fill whichever worker finishes first. xdist keeps this order only with
   ``--no-loadscope-reorder``: its default sorts the groups by their number of tests.
3. A table at the end with one line per executed notebook (cells run, time, worker, result), printed by the
   process that writes the terminal summary: the xdist controller, which receives every worker's reports.
4. Kernel starts are retried (twice at most) when a kernel dies before it answers: with two workers
   starting kernels at once, both can be handed the same free port.
"""
from collections import defaultdict
from pathlib import Path, PurePosixPath

import pytest

# Longest chapters (notebook + student edition) first, so the two workers of `make test` end close together.
# Measured on the 2-core machine of README.md; update from the table `make test` prints at its end.
# chapters by name without their number, so renumbering the chapters keeps the order
SLOWEST_FIRST = ("dense_vs_cnn", "ml_engineering", "evaluation", "training")
EDITIONS = ("notebooks", "student")  # within a chapter group: the full notebook runs first


def notebook_of(item) -> Path | None:
    """The notebook an nbval item (one cell) belongs to, or None for any other test."""
    path = Path(str(item.path))
    return path if path.suffix == ".ipynb" else None


def chapter_of(nodeid: str) -> str | None:
    """The chapter group of a node id, "09_dense_vs_cnn" for notebooks/ and student/09_dense_vs_cnn.ipynb::Cell 3."""
    path = PurePosixPath(nodeid.split("::", 1)[0])
    return path.stem if path.suffix == ".ipynb" else None


def chapter_rank(stem: str) -> tuple[int, str]:
    name = stem.split("_", 1)[-1]                    # "09_dense_vs_cnn" -> "dense_vs_cnn"
    return (SLOWEST_FIRST.index(name), stem) if name in SLOWEST_FIRST else (len(SLOWEST_FIRST), stem)


def edition_rank(path: Path) -> int:
    return EDITIONS.index(path.parent.name) if path.parent.name in EDITIONS else len(EDITIONS)


# tryfirst: xdist's worker reads the xdist_group marks in its own pytest_collection_modifyitems, after this one.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config, items):
    position = {id(item): i for i, item in enumerate(items)}

    def order(item):
        path = notebook_of(item)
        if path is None:
            return (1, (0, ""), 0, "", position[id(item)])
        return (0, chapter_rank(path.stem), edition_rank(path), str(path), position[id(item)])

    for item in items:
        path = notebook_of(item)
        if path is not None:
            item.add_marker(pytest.mark.xdist_group(path.stem))
    items.sort(key=order)  # every key ends in the collection position: a notebook's cells keep their order


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """For ``--dist loadgroup`` (on the xdist controller): xdist's loadgroup scheduler, grouping notebooks by chapter."""
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadGroupScheduling

    class ChapterScheduling(LoadGroupScheduling):
        def _split_scope(self, nodeid):
            chapter = chapter_of(nodeid)
            return f"chapter {chapter}" if chapter else super()._split_scope(nodeid)

    return ChapterScheduling(config, log)


class NotebookReport:
    def __init__(self):
        self.cells = defaultdict(int)
        self.seconds = defaultdict(float)
        self.failed = defaultdict(int)
        self.workers = defaultdict(set)

    def pytest_runtest_logreport(self, report):
        path = report.nodeid.split("::")[0]
        if not path.endswith(".ipynb"):
            return
        self.seconds[path] += report.duration
        worker = getattr(getattr(report, "node", None), "gateway", None)  # set by xdist on the controller
        if worker is not None:
            self.workers[path].add(worker.id)
        if report.when == "call":
            self.cells[path] += 1
            self.failed[path] += report.failed
        elif report.failed:
            self.failed[path] += 1

    def pytest_terminal_summary(self, terminalreporter):
        if not self.cells:
            return
        terminalreporter.section("notebooks executed by nbval")
        for path in sorted(self.cells):
            status = "ok" if not self.failed[path] else f"{self.failed[path]} FAILED"
            worker = f" on {','.join(sorted(self.workers[path]))}" if self.workers[path] else ""
            terminalreporter.write_line(f"{path:<44} {self.cells[path]:>3} cells {self.seconds[path]:7.1f} s"
                                        f"{worker}  {status}")
        workers = set().union(*self.workers.values())
        spread = f", spread over {len(workers)} workers" if len(workers) > 1 else ""
        terminalreporter.write_line(f"{len(self.cells)} notebooks, {sum(self.seconds.values()):.0f} s of cell "
                                    f"execution{spread}")


def _start_kernel_with_retries(start, tries: int = 3):
    """nbval's kernel start, tried up to ``tries`` times. Two workers that start kernels at the same moment
    can pick the same free TCP port; the loser's kernel dies before it answers ("Kernel died before replying
    to kernel_info"). A fresh start picks new ports. A kernel that fails every time still fails the test."""
    def start_new_kernel(*args, **kwargs):
        for attempt in range(1, tries + 1):
            try:
                return start(*args, **kwargs)
            except RuntimeError:
                if attempt == tries:
                    raise
    return start_new_kernel


def pytest_configure(config):
    try:
        import nbval.kernel
    except ImportError:
        pass
    else:
        if not hasattr(nbval.kernel.start_new_kernel, "__wrapped_start__"):
            retrying = _start_kernel_with_retries(nbval.kernel.start_new_kernel)
            retrying.__wrapped_start__ = nbval.kernel.start_new_kernel
            nbval.kernel.start_new_kernel = retrying
    # Only the process that reports: under xdist that is the controller (workers have config.workerinput).
    if hasattr(config, "workerinput"):
        return
    if not config.pluginmanager.has_plugin("course-notebook-report"):
        config.pluginmanager.register(NotebookReport(), "course-notebook-report")
