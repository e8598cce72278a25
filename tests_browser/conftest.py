"""Servers, browser and pages for the browser test of the course's widgets (`make test-browser`).

Three front ends run the real chapters, each a server started here on a free loopback port with a random token:

* ``lab-repository``: JupyterLab (the course's environment, .venv/) rooted at the repository, as after a clone;
* ``lab-notebooks``: the same rooted at notebooks/, as ``make lab`` starts it;
* ``notebook6-ipywidgets7``: the classic Notebook 6.5 with widgetsnbextension 3 and ipywidgets 7, the widget
  protocol Colab's front end speaks, rooted at the repository, from .venv-colab/ (Colab's versions,
  colab/requirements.txt: notebook 6.5.7, widgetsnbextension 3.6.10, ipywidgets 7.7.1, anywidget 0.9.21).

Chapters are found by what their code calls (``DigitCanvas(``, ``neuron_explorer(``, ``network_explorer(``),
never by file name or number. A test opens its chapter, clears the committed outputs, runs every cell in the
browser and then works the widget with the mouse. Nothing is ever saved: autosave is off, and a test fails if
its server saved a file meanwhile. The browser may load nothing from outside the machine: requests to
other hosts are refused, so the Colab badge (an image) cannot load, and that is the only console error allowed.
Screenshots go to build/browser/<front end>/.
"""
from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlparse

import pytest
from playwright.sync_api import Browser, Locator, Page, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
SHOTS = ROOT / "build" / "browser"
LAB_PYTHON = Path(os.environ.get("BROWSER_LAB_PYTHON", ROOT / ".venv" / "bin" / "python"))
CLASSIC_PYTHON = Path(os.environ.get("BROWSER_CLASSIC_PYTHON", ROOT / ".venv-colab" / "bin" / "python"))
CHROMIUM = os.environ.get("BROWSER_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")

SERVER_START_S = 180          # a cold server start on a busy 2-core machine takes 5-20 s
RUN_ALL_MS = 900_000          # every cell of one chapter in the browser: 15-60 s measured on the 2-core machine
UI_MS = 60_000                # one widget reacting to the mouse: well under a second measured
LOOPBACK = ("127.0.0.1", "localhost", "[::1]", "::1")

# JupyterLab user settings for the test: never save (autosave off), every cell in the page (no windowing, so
# the DOM holds each cell's prompt), no question about news and no update check (nothing outside to ask).
LAB_SETTINGS = {
    "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false",
                                                                      "checkForUpdates": False},
}


# ------------------------------------------------------------------------------------------------ the chapters

def chapter_calling(call: str) -> Path:
    """The one notebook in notebooks/ whose code (not an import or a comment) calls ``call``, e.g. ``DigitCanvas``."""
    pattern = re.compile(rf"\b{re.escape(call)}\(")
    found = []
    for path in sorted(NOTEBOOKS.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            source = cell["source"] if isinstance(cell["source"], str) else "".join(cell["source"])
            lines = [line for line in source.splitlines()
                     if not re.match(r"\s*(#|from\s|import\s)", line)]
            if cell["cell_type"] == "code" and any(pattern.search(line) for line in lines):
                found.append(path)
                break
    assert len(found) == 1, f"expected one chapter whose code calls {call}(, found {[p.name for p in found]}"
    return found[0]


def has_widget_outputs(notebook: Path) -> bool:
    """Whether the chapter's committed outputs show a widget (the classic front end re-renders those)."""
    cells = json.loads(notebook.read_text(encoding="utf-8"))["cells"]
    return any("application/vnd.jupyter.widget-view+json" in output.get("data", {})
               for cell in cells for output in cell.get("outputs", []))


# The classic front end's widget manager (widgetsnbextension 3), once it has read the widgets from the kernel,
# re-renders every output that shows a widget, and a view it removes that way stays blank (it forgets the model
# id). It reads from the kernel through the shell channel, so when the cells run first it finishes only after the
# last one, and blanks the widgets they made. The test therefore waits for that re-rendering before it runs a
# cell: each re-rendered cell is cleared first, and this counts the clearings ('clear_output.CodeCell' events),
# listening from the moment the page can load a module, long before a kernel answers.
CLASSIC_CLEAR_COUNTER = """(() => { window.__cellsCleared = 0; const poll = setInterval(() => {
  if (!window.requirejs) return;
  clearInterval(poll);
  window.requirejs(['base/js/events'], events => events.on('clear_output.CodeCell', () => { window.__cellsCleared++; }));
}, 5); })()"""


# ------------------------------------------------------------------------------------------------ the servers

def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """One Jupyter server process of the test, rooted at ``root``."""

    name: str
    kind: str               # "lab" or "classic"
    python: Path
    root: Path
    tmp: Path
    token: str = field(default_factory=lambda: secrets.token_hex(16))
    port: int = 0
    process: subprocess.Popen | None = None

    def command(self) -> list[str]:
        common = ["--no-browser", "--allow-root", "--ip=127.0.0.1", f"--port={self.port}", "--port-retries=0"]
        if self.kind == "lab":
            return [str(self.python), "-m", "jupyterlab", *common, f"--IdentityProvider.token={self.token}",
                    f"--ServerApp.root_dir={self.root}", "--LabApp.expose_app_in_browser=True",
                    f"--LabApp.user_settings_dir={self.tmp / 'lab-settings'}",
                    f"--LabApp.workspaces_dir={self.tmp / 'lab-workspaces'}"]
        return [str(self.python), "-m", "notebook", *common, f"--NotebookApp.token={self.token}",
                f"--notebook-dir={self.root}"]

    def environment(self) -> dict[str, str]:
        """This machine's environment with Jupyter's and IPython's user folders replaced by empty ones."""
        env = dict(os.environ)
        for key in ("JUPYTER_CONFIG_DIR", "JUPYTER_DATA_DIR", "JUPYTER_RUNTIME_DIR", "IPYTHONDIR"):
            env[key] = str(self.tmp / key.lower())
        env["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
        return env

    def start(self) -> None:
        if not self.python.exists():
            pytest.fail(f"{self.name}: no {self.python}; `make test-browser` builds it")
        for name, settings in LAB_SETTINGS.items():
            path = self.tmp / "lab-settings" / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(settings))
        log = self.log
        for _attempt in range(3):            # another process may take the free port before the server binds it
            self.port = free_port()
            with log.open("ab") as out:
                self.process = subprocess.Popen(self.command(), cwd=self.root, env=self.environment(), stdout=out,
                                                stderr=subprocess.STDOUT, start_new_session=True)
            deadline = time.monotonic() + SERVER_START_S
            while time.monotonic() < deadline and self.process.poll() is None:
                try:
                    self.api("GET", "api/status")
                    return
                except (OSError, urllib.error.URLError):
                    time.sleep(0.25)
            self.stop()
        pytest.fail(f"{self.name}: the server did not start; its log:\n{log.read_text(errors='replace')[-4000:]}")

    @property
    def log(self) -> Path:
        return self.tmp / "server.log"

    def saves_since(self, offset: int) -> list[str]:
        """The files the server saved after its log had ``offset`` bytes (both front ends log each save)."""
        text = self.log.read_bytes()[offset:].decode(errors="replace")
        return [line for line in text.splitlines() if "Saving file at" in line]

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}/{path}?token={self.token}"

    def api(self, method: str, path: str) -> object:
        request = urllib.request.Request(self.url(path), method=method)
        with urllib.request.urlopen(request, timeout=10) as response:
            body = response.read()
        return json.loads(body) if body else None

    def shutdown_kernels(self) -> None:
        """End the sessions (and their kernels) the pages started."""
        for session in self.api("GET", "api/sessions") or []:
            self.api("DELETE", f"api/sessions/{session['id']}")

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)          # the server shuts its kernels down, then exits
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)   # its own process group: the server and its kernels
            self.process.wait(timeout=30)


# The explorers are not run in the classic front end: its ipywidgets 7 (widgetsnbextension 3.6.10) cannot create
# an Output widget there ("_deserialize_state is not a function": the classic OutputModel is made with Backbone's
# extend, which drops the static methods of its class-based parent), and both explorers hold one.
FRONT_ENDS = {
    "lab-repository": ("lab", LAB_PYTHON, ROOT),
    "lab-notebooks": ("lab", LAB_PYTHON, NOTEBOOKS),
    "notebook6-ipywidgets7": ("classic", CLASSIC_PYTHON, ROOT),
}
LAB = ["lab-repository", "lab-notebooks"]
ALL = list(FRONT_ENDS)


@pytest.fixture(scope="session", autouse=True)
def screenshots() -> Path:
    shutil.rmtree(SHOTS, ignore_errors=True)
    SHOTS.mkdir(parents=True)
    return SHOTS


@pytest.fixture(scope="session")
def server(request: pytest.FixtureRequest) -> Iterator[Server]:
    """The server of the front end a test is parametrized with (``@pytest.mark.parametrize("server", ...)``)."""
    kind, python, root = FRONT_ENDS[request.param]
    with tempfile.TemporaryDirectory(prefix=f"browser-{request.param}-") as tmp:
        server = Server(request.param, kind, python, root, Path(tmp))
        server.start()
        try:
            yield server
        finally:
            server.stop()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    assert CHROMIUM, "no chromium on PATH: `apt-get install -y chromium` (make test-browser does)"
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield browser
        browser.close()


# ------------------------------------------------------------------------------------------------ the pages

@dataclass
class Console:
    """Console errors and uncaught exceptions of one page, and the outside images it could not load."""

    errors: list[str] = field(default_factory=list)
    outside_images: set[str] = field(default_factory=set)

    def unexpected(self) -> list[str]:
        """Every error except 'Failed to load resource' for an image from another host (offline: the badge)."""
        return [e for e in self.errors
                if not (e.startswith("Failed to load resource") and e.split(" @ ")[-1] in self.outside_images)]


def is_loopback(url: str) -> bool:
    return urlparse(url).hostname in LOOPBACK or not urlparse(url).hostname


@dataclass
class Chapter:
    """One chapter open in a browser page of a front end, with its cells run."""

    page: Page
    server: Server
    path: Path
    console: Console

    @property
    def lab(self) -> bool:
        return self.server.kind == "lab"

    def open_and_run(self) -> None:
        """Open the chapter, clear its committed outputs and run every cell; fail on an error in a cell."""
        relative = self.path.relative_to(self.server.root).as_posix()
        if self.lab:
            self.page.goto(self.server.url(f"lab/tree/{quote(relative)}"))
            self.page.wait_for_function(
                """path => { const w = window.jupyterapp && jupyterapp.shell.currentWidget;
                   const kernel = w && w.context && w.context.path === path && w.sessionContext.session
                                  && w.sessionContext.session.kernel;
                   return !!kernel && kernel.connectionStatus === 'connected' && kernel.status === 'idle'; }""",
                arg=relative, timeout=UI_MS)
            self.page.evaluate("""async () => {
                await jupyterapp.commands.execute('notebook:clear-all-cell-outputs');
                await jupyterapp.commands.execute('notebook:run-all-cells'); }""")
            done = """() => { const w = jupyterapp.shell.currentWidget; let unrun = 0;
                for (const cell of w.content.widgets) {
                  if (cell.model.type !== 'code') continue;
                  if (cell.node.querySelector('.jp-InputPrompt').textContent.includes('*')) return false;
                  for (const o of cell.model.outputs.toJSON())
                    if (o.output_type === 'error') return {error: o.ename + ': ' + o.evalue};
                  if (cell.model.executionCount === null) unrun++;
                }
                return unrun === 0 ? {done: true} : false; }"""
        else:
            self.page.goto(self.server.url(f"notebooks/{quote(relative)}"))
            self.page.wait_for_function(
                """() => window.Jupyter && Jupyter.notebook && Jupyter.notebook._fully_loaded
                   && Jupyter.notebook.kernel && Jupyter.notebook.kernel.is_connected()""", timeout=UI_MS)
            if has_widget_outputs(self.path):
                self.page.wait_for_function("() => window.__cellsCleared > 0", timeout=UI_MS)
            self.page.evaluate("""() => { Jupyter.notebook.set_autosave_interval(0);
                Jupyter.notebook.clear_all_output(); Jupyter.notebook.execute_all_cells(); }""")
            done = """() => { const cells = Jupyter.notebook.get_cells().filter(c => c.cell_type === 'code');
                if (cells.some(c => c.input_prompt_number === '*')) return false;
                for (const c of cells)
                  for (const o of c.output_area.outputs)
                    if (o.output_type === 'error') return {error: o.ename + ': ' + o.evalue};
                return cells.every(c => typeof c.input_prompt_number === 'number') ? {done: true} : false; }"""
        result = self.page.wait_for_function(done, timeout=RUN_ALL_MS).json_value()
        assert "error" not in result, f"{self.path.name}: a cell failed in the browser: {result['error']}"

    def cell_with(self, inside: Locator | str) -> Locator:
        """The cell (input and outputs) whose output holds ``inside``."""
        cells = self.page.locator(".jp-Notebook .jp-Cell" if self.lab else "#notebook-container .cell")
        return cells.filter(has=self.page.locator(inside) if isinstance(inside, str) else inside)

    def outputs(self, cell: Locator) -> Locator:
        return cell.locator(".jp-OutputArea" if self.lab else ".output_wrapper")

    def screenshot(self, cell: Locator, name: str) -> Path:
        path = SHOTS / self.server.name / f"{name}.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        cell.scroll_into_view_if_needed()
        cell.screenshot(path=str(path))
        return path


@pytest.fixture
def open_chapter(server: Server, browser: Browser) -> Iterator:
    """``open_chapter(path)``: a Chapter with its cells run in a fresh page of ``server``; checks on the way out."""
    chapters: list[Chapter] = []
    log_offset = server.log.stat().st_size
    context = browser.new_context(viewport={"width": 1280, "height": 1000})

    def route(route, request):  # nothing from outside: the machine has no internet, CI neither
        if is_loopback(request.url):
            route.continue_()
        else:
            route.abort("internetdisconnected")

    context.route("**/*", route)

    def open_(path: Path) -> Chapter:
        page = context.new_page()
        if server.kind == "classic":
            page.add_init_script(CLASSIC_CLEAR_COUNTER)
        console = Console()
        page.on("console", lambda m: m.type == "error" and console.errors.append(
            f"{m.text} @ {m.location.get('url', '')}" if m.text.startswith("Failed to load resource") else m.text))
        page.on("pageerror", lambda e: console.errors.append(f"uncaught: {e}"))
        page.on("requestfailed", lambda r: r.resource_type == "image" and not is_loopback(r.url)
                and console.outside_images.add(r.url))
        chapter = Chapter(page, server, path, console)
        chapters.append(chapter)
        chapter.open_and_run()
        return chapter

    try:
        yield open_
        for chapter in chapters:
            log = SHOTS / server.name / f"console-{chapter.path.stem}.txt"
            log.parent.mkdir(parents=True, exist_ok=True)
            log.write_text("".join(f"{e}\n" for e in chapter.console.errors))
            assert chapter.console.unexpected() == [], f"{chapter.path.name}: browser console errors"
    finally:
        context.close()
        server.shutdown_kernels()
        assert server.saves_since(log_offset) == [], "the browser test must never save a chapter"
