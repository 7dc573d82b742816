"""The grading sandbox of ``tools/grading/sandbox.py``, by what hostile code can do.

Each test runs a small Python program inside the sandbox, the way a student's
notebook would, and checks its effect on the host: what it can see and write,
the network, other processes, memory, file size, processes, and the wall
clock, which must leave no process behind. The tests that need bubblewrap
are skipped, with the reason, when it is missing or cannot start here; the
uid tests need root.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from grading import sandbox  # noqa: E402


def _sandbox_problem():
    try:
        sandbox.check_available()
    except sandbox.SandboxUnavailable as error:
        return str(error)
    return None


PROBLEM = _sandbox_problem()
needs_bwrap = pytest.mark.skipif(PROBLEM is not None, reason=f"no sandbox here: {PROBLEM}")
IS_ROOT = os.geteuid() == 0
needs_root = pytest.mark.skipif(not IS_ROOT, reason="per-slot uids are used only as root")

# what every program below starts with: report(dict) writes out.json in work
PRELUDE = """\
import json, os, sys, time
def report(values):
    with open(os.path.join(os.environ["GRADING_ROOT"], "out.json"), "w") as out:
        json.dump(values, out)
"""

# fork a daemon that leaves the session, waits, then writes `marker` in work
DAEMON = """\
if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        time.sleep(2)
        with open(os.path.join(os.environ["GRADING_ROOT"], "marker"), "w") as out:
            out.write("the daemon outlived the run")
    os._exit(0)
"""


# Slots (uids) of their own: the grading tests may run sandboxes at the same time
# (pytest-xdist), as slots 0 and 1, and these tests look for leftover processes by uid.
SLOT = 20


def run_python(work, code, **options):
    """Run ``code`` (after PRELUDE) with the base Python in ``work``; return (Finished, report)."""
    options.setdefault("slot", SLOT)
    work.mkdir(exist_ok=True)
    finished = sandbox.run(["python3", "-c", PRELUDE + textwrap.dedent(code)], work=work,
                           **options)
    out = work / "out.json"
    return finished, json.loads(out.read_text()) if out.exists() else None


def live_processes_of(uid):
    """Host pids of the running (not zombie) processes whose real uid is ``uid``."""
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            status = Path(f"/proc/{entry}/status").read_text()
        except OSError:
            continue
        fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
        if int(fields["Uid"].split()[0]) == uid and fields["State"].split()[0] not in "ZX":
            found.append(int(entry))
    return found


def assert_nothing_left(work, slot=SLOT):
    """No process of the slot's uid runs now, and the daemon never writes its marker."""
    if IS_ROOT:
        uid = sandbox.SLOT_UID_BASE + slot
        assert live_processes_of(uid) == [], f"processes of uid {uid} outlived the run"
    time.sleep(2.5)  # past the daemon's 2 s
    assert not (work / "marker").exists(), "a process of the run wrote its marker afterwards"


@needs_bwrap
def test_host_is_invisible_and_read_only(tmp_path):
    secret = tmp_path / "instructor_key.txt"
    secret.write_text("the answers")
    shared = tmp_path / "shared"
    shared.mkdir()
    (shared / "data.txt").write_text("read me")
    work = tmp_path / "work"
    finished, seen = run_python(work, f"""
        def write(path):
            try:
                with open(path, "w") as out:
                    out.write("x")
                return "written"
            except OSError as error:
                return type(error).__name__
        report({{
            "visible": [p for p in {[str(ROOT / "pyproject.toml"), str(ROOT / "tinynet"),
                                     str(secret), str(work), "/etc/shadow", "/home"]!r}
                        if os.path.exists(p)],
            "root_folder": sorted(os.listdir("/root")) if os.path.exists("/root") else [],
            "shared": open("/opt/shared/data.txt").read(),
            "usr": write("/usr/planted"),
            "etc": write("/etc/passwd"),
            "bind": write("/opt/shared/planted"),
            "grading": write("/grading/written.txt"),
            "cwd": os.getcwd(),
        }})
    """, read_only=[(shared, "/opt/shared")])
    assert finished.returncode == 0 and not finished.timed_out
    assert seen["visible"] == []
    assert seen["root_folder"] in ([], [".pyenv"]), "only the base Python's folder is in /root"
    assert seen["shared"] == "read me"
    assert seen["usr"] != "written" and seen["etc"] != "written"
    assert seen["bind"] == "OSError" or seen["bind"].endswith("Error")
    assert not (shared / "planted").exists() and not Path("/usr/planted").exists()
    assert seen["grading"] == "written" and (work / "written.txt").read_text() == "x"
    assert seen["cwd"] == "/grading"


@needs_bwrap
def test_environment_and_home_are_fresh(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYNET_INSTRUCTOR_TOKEN", "secret")
    finished, seen = run_python(tmp_path / "work", """
        home = os.environ["HOME"]
        report({
            "env": dict(os.environ),
            "home": sorted(os.listdir(home)),
            "ipython": os.path.exists(os.path.expanduser("~/.ipython")),
            "jupyter": os.path.exists(os.path.expanduser("~/.jupyter")),
            "tmp_writable": os.access(os.environ["TMPDIR"], os.W_OK),
            "capabilities": [line.split()[1] for line in open("/proc/self/status")
                             if line.startswith(("CapPrm", "CapEff", "CapBnd", "CapAmb"))],
            "no_new_privs": "NoNewPrivs:\t1" in open("/proc/self/status").read(),
        })
    """, env={"STUDENT": "alice"})
    assert finished.returncode == 0
    env = seen["env"]
    assert env["HOME"] == "/grading/home" and env["GRADING_ROOT"] == "/grading"
    assert env["TMPDIR"] == "/tmp" and seen["tmp_writable"]
    assert env["LANG"] == "C.UTF-8" and env["STUDENT"] == "alice"
    assert set(env) <= {"PATH", "LANG", "HOME", "TMPDIR", "GRADING_ROOT", "STUDENT", "PWD"}
    assert seen["home"] == [] and not seen["ipython"] and not seen["jupyter"]
    assert seen["capabilities"] == ["0000000000000000"] * 4
    if IS_ROOT:
        assert seen["no_new_privs"]


@needs_bwrap
def test_no_network(tmp_path):
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]
        finished, seen = run_python(tmp_path / "work", f"""
            import socket
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=3).close()
                outcome = "connected"
            except OSError as error:
                outcome = type(error).__name__
            report({{"outcome": outcome}})
        """)
        server.setblocking(False)
        with pytest.raises(BlockingIOError):
            server.accept()  # nobody knocked
    assert finished.returncode == 0
    assert seen["outcome"] != "connected"


@needs_bwrap
def test_sees_only_its_own_processes(tmp_path):
    finished, seen = run_python(tmp_path / "work", f"""
        try:
            os.kill({os.getpid()}, 0)
            reach = "signalled"
        except OSError as error:
            reach = type(error).__name__
        report({{"pids": sorted(int(p) for p in os.listdir("/proc") if p.isdigit()),
                 "reach": reach}})
    """)
    assert finished.returncode == 0
    assert os.getpid() not in seen["pids"] and len(seen["pids"]) <= 3, seen["pids"]
    assert seen["reach"] == "ProcessLookupError"


@needs_bwrap
def test_ten_gib_cannot_be_allocated(tmp_path):
    # numpy from the project's environment, bound read-only
    site_packages = str(Path(np.__file__).resolve().parent.parent)
    finished, seen = run_python(tmp_path / "work", """
        import numpy as np
        outcome = {}
        for name, allocate in [("bytearray", lambda: bytearray(10 * 2**30)),
                               ("numpy", lambda: np.ones(10 * 2**30, dtype=np.uint8))]:
            try:
                allocate()
                outcome[name] = "allocated"
            except MemoryError:
                outcome[name] = "MemoryError"
        report(outcome)
    """, read_only=[(site_packages, "/opt/site-packages")],   # the venv may sit under /tmp
        env={"PYTHONPATH": "/opt/site-packages", "OPENBLAS_NUM_THREADS": "1"})
    assert sandbox.Limits().memory_bytes == sandbox.DEFAULT_MEMORY_BYTES < 10 * 2**30
    assert finished.returncode == 0
    assert seen == {"bytearray": "MemoryError", "numpy": "MemoryError"}


@needs_bwrap
def test_file_size_is_limited(tmp_path):
    work = tmp_path / "work"
    finished, seen = run_python(work, """
        try:
            with open("big", "wb") as out:
                for _ in range(4):
                    out.write(bytes(2**20))
            outcome = "written"
        except OSError as error:
            outcome = error.strerror
        report({"outcome": outcome})
    """, limits=sandbox.Limits(file_bytes=2 * 2**20))
    assert finished.returncode == 0
    assert seen["outcome"] == "File too large"
    assert (work / "big").stat().st_size <= 2 * 2**20


@needs_bwrap
@needs_root
def test_fork_loop_stops_at_the_process_limit(tmp_path):
    finished, seen = run_python(tmp_path / "work", """
        forked, error = 0, None
        for _ in range(200):
            try:
                pid = os.fork()
            except OSError as failure:
                error = type(failure).__name__
                break
            if pid == 0:
                time.sleep(60)
                os._exit(0)
            forked += 1
        report({"forked": forked, "error": error})
    """, limits=sandbox.Limits(processes=32, wall_seconds=20))
    assert finished.returncode == 0 and not finished.timed_out
    assert seen["error"] == "BlockingIOError" and 0 < seen["forked"] < 32, seen
    assert live_processes_of(sandbox.SLOT_UID_BASE + SLOT) == []


@needs_bwrap
def test_wall_clock_stops_an_endless_command(tmp_path):
    finished = sandbox.run(["sleep", "1000"], work=tmp_path, slot=SLOT,
                           limits=sandbox.Limits(wall_seconds=1))
    assert finished.timed_out and finished.returncode is None
    assert 1 <= finished.seconds < 5
    if IS_ROOT:
        assert live_processes_of(sandbox.SLOT_UID_BASE + SLOT) == []


@needs_bwrap
@pytest.mark.parametrize("top_waits", [True, False], ids=["timed-out", "exited"])
def test_no_daemon_outlives_the_run(tmp_path, top_waits):
    work = tmp_path / "work"
    program = DAEMON + f'open("started", "w").close()\nif {top_waits}:\n    time.sleep(1000)\n'
    finished, _ = run_python(work, program, limits=sandbox.Limits(wall_seconds=1))
    assert (work / "started").exists(), "the program did not run"
    assert finished.timed_out is top_waits
    assert_nothing_left(work)


@needs_bwrap
def test_interrupted_caller_leaves_nothing(tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    program = PRELUDE + DAEMON + 'open("started", "w").close()\ntime.sleep(1000)\n'
    caller = subprocess.Popen([sys.executable, "-c", textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(ROOT / "tools")!r})
        from grading import sandbox
        sandbox.run(["python3", "-c", {program!r}], work={str(work)!r}, slot={SLOT})
    """)])
    deadline = time.monotonic() + 10
    while not (work / "started").exists() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert (work / "started").exists(), "the sandboxed program did not start"
    caller.send_signal(subprocess.signal.SIGINT)
    assert caller.wait(timeout=10) != 0  # KeyboardInterrupt, re-raised after the cleanup
    assert_nothing_left(work)


@needs_bwrap
@needs_root
def test_parallel_slots_run_as_different_uids(tmp_path):
    seen = {}

    def grade(slot):
        seen[slot] = run_python(tmp_path / f"student{slot}", """
            time.sleep(0.5)
            report({"uid": os.getuid(), "gid": os.getgid(), "groups": os.getgroups()})
        """, slot=slot)

    threads = [threading.Thread(target=grade, args=(slot,)) for slot in (SLOT, SLOT + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for slot in (SLOT, SLOT + 1):
        uid = sandbox.SLOT_UID_BASE + slot
        finished, ids = seen[slot]
        assert finished.returncode == 0
        assert ids == {"uid": uid, "gid": uid, "groups": []}
        assert (tmp_path / f"student{slot}").stat().st_uid == uid


@needs_bwrap
@needs_root
def test_ordinary_user_runs_as_itself_with_limits():
    """Run the module as ``nobody`` (user namespace, no setpriv) with the system Python."""
    python = shutil.which("python3", path="/usr/bin:/bin")
    if python is None:
        pytest.skip("no system python3 for an ordinary user")
    folder = Path(tempfile.mkdtemp(prefix="sandbox-nobody-"))
    try:
        shutil.copy(ROOT / "tools" / "grading" / "sandbox.py", folder / "sandbox.py")
        (folder / "work").mkdir()
        os.chmod(folder, 0o755)
        os.chown(folder / "work", 65534, 65534)
        program = PRELUDE + textwrap.dedent("""
            import resource
            try:
                bytearray(10 * 2**30)
                memory = "allocated"
            except MemoryError:
                memory = "MemoryError"
            report({"uid": os.getuid(), "cwd": os.getcwd(), "memory": memory,
                    "project": os.path.exists(os.environ["PROJECT"]),
                    "limits": [resource.getrlimit(limit)[1] for limit in (
                        resource.RLIMIT_AS, resource.RLIMIT_FSIZE, resource.RLIMIT_NOFILE,
                        resource.RLIMIT_NPROC)]})
        """)
        caller = textwrap.dedent(f"""
            import sys
            sys.path.insert(0, {str(folder)!r})
            import sandbox
            limits = sandbox.Limits(memory_bytes=2**30, file_bytes=2**20, open_files=64,
                                    processes=100, wall_seconds=20)
            finished = sandbox.run(["python3", "-c", {program!r}], work={str(folder / "work")!r},
                                   limits=limits, env={{"PROJECT": {str(ROOT)!r}}})
            assert finished.returncode == 0, finished
        """)
        done = subprocess.run(
            ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", python, "-c", caller],
            env={"PATH": "/usr/bin:/bin"}, cwd=folder, capture_output=True, text=True,
            timeout=30,
        )
        if done.returncode != 0 and "namespace" in done.stderr:
            pytest.skip(f"user namespaces unavailable to ordinary users: {done.stderr[-300:]}")
        assert done.returncode == 0, done.stderr
        seen = json.loads((folder / "work" / "out.json").read_text())
        assert seen["uid"] == 65534 and seen["cwd"] == "/grading"
        assert seen["memory"] == "MemoryError" and not seen["project"]
        assert seen["limits"] == [2**30, 2**20, 64, 100]
    finally:
        shutil.rmtree(folder)


def test_unsandboxed_run_still_has_the_clock_and_limits(tmp_path):
    work = tmp_path / "work"
    finished, _ = run_python(work, """
        try:
            bytearray(10 * 2**30)
            memory = "allocated"
        except MemoryError:
            memory = "MemoryError"
        report({"memory": memory, "root": os.environ["GRADING_ROOT"], "cwd": os.getcwd(),
                "home": os.environ["HOME"]})
        if os.fork() == 0:  # stays in the process group
            time.sleep(2)
            open("marker", "w").close()
            os._exit(0)
        time.sleep(1000)
    """, sandboxed=False, limits=sandbox.Limits(wall_seconds=1))
    assert finished.timed_out and finished.returncode is None
    seen = json.loads((work / "out.json").read_text())
    assert seen == {"memory": "MemoryError", "root": str(work), "cwd": str(work),
                    "home": str(work / "home")}
    time.sleep(2.5)
    assert not (work / "marker").exists(), "a child in the process group outlived the run"


def test_check_available_says_how_to_install(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))  # no bwrap on it
    assert sandbox.find_bwrap() is None
    with pytest.raises(sandbox.SandboxUnavailable, match="apt-get install bubblewrap") as caught:
        sandbox.check_available()
    assert "make sandbox" in str(caught.value) and "UNSANDBOXED=1" in str(caught.value)


def test_bad_arguments_are_refused_with_the_fix(tmp_path):
    with pytest.raises(TypeError, match="non-empty list of strings"):
        sandbox.run("python3 -c pass", work=tmp_path)
    with pytest.raises(ValueError, match="work must be an existing folder"):
        sandbox.run(["true"], work=tmp_path / "missing")
    with pytest.raises(ValueError, match="outside /grading"):
        sandbox.run(["true"], work=tmp_path, read_only=[(tmp_path, "/grading/data")])
    with pytest.raises(ValueError, match="bind a path at itself"):
        sandbox.run(["true"], work=tmp_path, read_only=[(tmp_path, "/opt/data")],
                    sandboxed=False)
