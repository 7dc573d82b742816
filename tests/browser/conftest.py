"""Fixtures for the browser tests: Chromium, servers on free loopback ports, screenshots.

Every server runs in its own process group, on 127.0.0.1 with a free port,
with its own Jupyter config, runtime, data, workspace and settings folders
under pytest's tmp_path, and is stopped by its process group id when the
fixture ends, whether the test passed or not.
"""

import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from drive_panel import SCREENSHOTS

ROOT = Path(__file__).resolve().parents[2]
# Known to work with Debian's chromium on this kind of machine (NOTEBOOK_CI.md).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage"]
SERVER_START_TIMEOUT = 90  # seconds


def chromium_executable():
    """Debian's chromium (or $TINYNET_CHROMIUM); None means Playwright's own download."""
    for candidate in (os.environ.get("TINYNET_CHROMIUM"), shutil.which("chromium"),
                      "/usr/bin/chromium"):
        if candidate and Path(candidate).exists():
            return candidate
    return None


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """A command started in its own process group, stopped by that group's id."""

    def __init__(self, name, command, url, cwd, env, log_dir):
        self.name, self.url = name, url
        self.log_path = Path(log_dir) / f"{name}.log"
        self._log = open(self.log_path, "w")
        self.process = subprocess.Popen(command, cwd=cwd, env=env, stdout=self._log,
                                        stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                        start_new_session=True)
        self.pgid = os.getpgid(self.process.pid)

    def wait_until_up(self, probe_url, timeout=SERVER_START_TIMEOUT):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited with {self.process.returncode} "
                                   f"before it served; its log:\n{self.log()}")
            try:
                with urllib.request.urlopen(probe_url, timeout=5) as response:
                    if response.status == 200:
                        return self
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.25)
        raise RuntimeError(f"{self.name} did not answer {probe_url} within {timeout} s; "
                           f"its log:\n{self.log()}")

    def log(self):
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self):
        """SIGTERM to the whole group (server, kernels, make's children), then SIGKILL."""
        for sig, wait in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            try:
                os.killpg(self.pgid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(timeout=wait)
            except subprocess.TimeoutExpired:
                continue
            # the leader is gone; make sure no child of the group lingers
            try:
                os.killpg(self.pgid, 0)
            except ProcessLookupError:
                break
        self._log.close()


def _jupyter_env(tmp):
    """Environment with private Jupyter folders, the news and autosave off, no windowing."""
    folders = {name: tmp / name for name in ("config", "runtime", "data", "workspaces", "settings")}
    for folder in folders.values():
        folder.mkdir(parents=True, exist_ok=True)
    user_settings = {
        "@jupyterlab/apputils-extension/notification.jupyterlab-settings":
            {"fetchNews": "false", "checkForUpdates": False},
        # keep every cell in the DOM so that locators find the panel wherever it is
        "@jupyterlab/notebook-extension/tracker.jupyterlab-settings":
            {"windowingMode": "none"},
        # never write the browser's outputs back into a notebook
        "@jupyterlab/docmanager-extension/plugin.jupyterlab-settings": {"autosave": False},
    }
    for relative, values in user_settings.items():
        path = folders["settings"] / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(values))
    env = dict(os.environ)
    env.update({
        "JUPYTER_CONFIG_DIR": str(folders["config"]),
        "JUPYTER_RUNTIME_DIR": str(folders["runtime"]),
        "JUPYTER_DATA_DIR": str(folders["data"]),
        "JUPYTERLAB_WORKSPACES_DIR": str(folders["workspaces"]),
        "JUPYTERLAB_SETTINGS_DIR": str(folders["settings"]),
        "JUPYTER_PLATFORM_DIRS": "1",
        # the kernel's "python" is this environment's, whatever PATH said
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
    })
    return env


@pytest.fixture(scope="session")
def browser(tmp_path_factory):
    """Headless Chromium with a fresh user-data directory, for the whole session."""
    from playwright.sync_api import sync_playwright

    executable = chromium_executable()
    user_data = tmp_path_factory.mktemp("chromium-profile")
    with sync_playwright() as playwright:
        options = {"headless": True, "args": CHROMIUM_FLAGS,
                   "viewport": {"width": 1400, "height": 1000}}
        if executable:
            options["executable_path"] = executable
        try:
            context = playwright.chromium.launch_persistent_context(str(user_data), **options)
        except Exception as error:
            raise RuntimeError(
                "Chromium did not start. `make test` (or `make chromium`) installs it: "
                "Debian's package as root, otherwise `python -m playwright install "
                f"chromium`. Tried executable {executable or 'Playwright default'}.") from error
        context.set_default_timeout(30_000)
        yield context
        context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"report_{report.when}", report)
    return report


@pytest.fixture
def page(browser, request):
    """A new tab; on failure a full-page screenshot goes to tests/browser/screenshots/."""
    tab = browser.new_page()
    messages = []
    tab.on("console", lambda m: messages.append(f"{m.type}: {m.text}") if m.type == "error"
           else None)
    yield tab
    report = getattr(request.node, "report_call", None)
    if report is not None and report.failed:
        SCREENSHOTS.mkdir(exist_ok=True)
        path = SCREENSHOTS / f"FAILED-{request.node.name}.png"
        try:
            tab.screenshot(path=str(path), full_page=True)
            print(f"\nscreenshot of the failure: {path}")
        except Exception as error:  # the page may be gone; the report matters more
            print(f"\nno screenshot: {error}")
        if messages:
            print("browser console errors:\n" + "\n".join(messages[-20:]))
    tab.close()


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on a free loopback port with a token, serving a copy of the notebooks.

    Yields ``(base_url, token)``. The notebooks are copied so that nothing the
    browser does can change the committed ones.
    """
    tmp = tmp_path_factory.mktemp("lab")
    root = tmp / "notebooks"
    shutil.copytree(ROOT / "notebooks", root, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    port, token = free_port(), secrets.token_hex(16)
    command = [sys.executable, "-m", "jupyterlab", "--no-browser",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}",
               "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={root}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    server = Server("jupyterlab", command, f"http://127.0.0.1:{port}", root,
                    _jupyter_env(tmp), tmp)
    try:
        server.wait_until_up(f"{server.url}/api/status?token={token}")
        yield server.url, token
    finally:
        server.stop()


def kernel_processes(root_pid):
    """Process ids of the Jupyter kernels started under ``root_pid`` (any depth).

    Kernels run in sessions of their own, so they are found by parentage in
    /proc, not by process group.
    """
    parents, commands = {}, {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
            commands[int(entry.name)] = (entry / "cmdline").read_bytes()
        except OSError:  # the process ended meanwhile
            continue
        parents[int(entry.name)] = int(stat.rsplit(")", 1)[1].split()[1])

    def descends(pid):
        seen = set()
        while pid in parents and pid not in seen:
            if pid == root_pid:
                return True
            seen.add(pid)
            pid = parents[pid]
        return False

    return sorted(pid for pid, command in commands.items()
                  if b"ipykernel_launcher" in command and descends(pid))


def _start_present(tmp_path_factory, voila_flags=""):
    tmp = tmp_path_factory.mktemp("present")
    port = free_port()
    env = _jupyter_env(tmp)
    env.pop("MAKEFLAGS", None)
    env.pop("MFLAGS", None)
    command = ["make", "--no-print-directory", "present", f"PORT={port}"]
    if voila_flags:
        command.append(f"VOILA_FLAGS={voila_flags}")
    server = Server("voila", command, f"http://127.0.0.1:{port}", ROOT, env, tmp)
    try:
        # a static file: asking for the page itself would start a kernel
        return server.wait_until_up(f"{server.url}/voila/static/voila.js")
    except BaseException:
        server.stop()
        raise


@pytest.fixture(scope="module")
def present_server(tmp_path_factory):
    """`make present` (Voila) as it is, on a free loopback port. Yields the Server."""
    server = _start_present(tmp_path_factory)
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def present(present_server):
    """The URL of `make present`."""
    return present_server.url


# Short enough for a test, long enough for a page on a busy machine to load
# and connect to its kernel before the culler looks at it.
TEST_CULL_IDLE_TIMEOUT = 10  # seconds
TEST_CULL_INTERVAL = 2


@pytest.fixture(scope="module")
def present_culling(tmp_path_factory):
    """`make present` with the culler's timeout shortened from minutes to seconds."""
    server = _start_present(
        tmp_path_factory,
        f"--MappingKernelManager.cull_idle_timeout={TEST_CULL_IDLE_TIMEOUT} "
        f"--MappingKernelManager.cull_interval={TEST_CULL_INTERVAL}")
    try:
        yield server
    finally:
        server.stop()
