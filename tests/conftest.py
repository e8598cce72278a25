"""pytest set-up shared by the unit tests and the nbval notebook runs.

Registers a small reporter that ends the run with one line per executed notebook (cells run, time,
result), so the output of `make test` shows which notebooks and student editions nbval executed.
"""
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")  # unit tests draw figures off-screen


class NotebookReport:
    def __init__(self):
        self.cells = defaultdict(int)
        self.seconds = defaultdict(float)
        self.failed = defaultdict(int)

    def pytest_runtest_logreport(self, report):
        path = report.nodeid.split("::")[0]
        if not path.endswith(".ipynb"):
            return
        self.seconds[path] += report.duration
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
            terminalreporter.write_line(f"{path:<44} {self.cells[path]:>3} cells {self.seconds[path]:7.1f} s  {status}")
        terminalreporter.write_line(f"{len(self.cells)} notebooks, {sum(self.seconds.values()):.0f} s of cell execution")


def pytest_configure(config):
    if not config.pluginmanager.has_plugin("course-notebook-report"):
        config.pluginmanager.register(NotebookReport(), "course-notebook-report")
