"""Run one student's command in a bubblewrap sandbox, with limits and a wall clock.

Student code is hostile: it may read the instructor's files, write other
students' folders, leave processes behind, fork without end, allocate or write
without end, or use the network. :func:`run` starts a command where

* the system is read-only and minimal: ``/usr`` (and the ``/bin``, ``/sbin``,
  ``/lib*`` links or folders), a few files of ``/etc``, the running Python's
  installation (``sys.base_prefix``, at its own path) and the caller's
  ``read_only`` folders (the folders above them are created empty). The
  project tree, ``/home``, the rest of ``/root``, the other students'
  folders are not there at all;
* ``work`` (a host folder) is the only writable folder, at ``/grading``, and
  the current directory; ``HOME`` is ``/grading/home``, ``TMPDIR`` a private
  tmpfs ``/tmp`` of at most ``limits.file_bytes``;
* there is no network, the command sees only its own processes, and it has no
  capabilities;
* memory (address space), file size, open files and processes are limited
  (:class:`Limits`), and a wall clock covers the whole run: when it runs out,
  or when the caller is interrupted, every process of the sandbox is killed.

Paths: one rule
---------------
Inside the sandbox ``work`` is ``/grading``; with ``sandboxed=False`` it is
the host folder itself. The command always starts in ``work`` and finds it in
the environment variable ``GRADING_ROOT``: refer to files there by relative
paths or through ``$GRADING_ROOT``, never by writing ``/grading``. Read-only
folders keep one path in both modes only when they are bound at their own
path (``(p, p)``); ``sandboxed=False`` refuses any other pair.

Root and ordinary users
-----------------------
The kernel does not enforce ``RLIMIT_NPROC`` for root. When the grader runs
as root, the command therefore runs as uid and gid ``SLOT_UID_BASE + slot``
(``setpriv`` inside the sandbox, no supplementary groups, no capabilities,
``no_new_privs``) and ``work`` is handed to that uid first: students graded
in parallel slots cannot signal each other, and the process limit counts
per student. Pick slot uids no real account uses. An ordinary user runs the
command as itself, inside a user namespace (unprivileged user namespaces must
be enabled); the limits are the same, but the process limit then counts
every process of that user.

``sandboxed=False`` is the documented unsafe switch (``UNSANDBOXED=1``) for
machines without bubblewrap: same environment, limits, wall clock and kill of
the process group, but the command sees the whole machine as the caller, a
daemon that leaves the process group with ``setsid`` is not found, and as
root the process limit is not enforced.

Not limited here: the total space written in ``work`` (each file is at most
``file_bytes``, but there may be many; give ``work`` its own small
filesystem or a quota if that matters) and CPU time other than by the wall
clock. ``/dev/shm`` is not writable for a slot uid.
"""

import json
import os
import select
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MEMORY_BYTES = 4 * 2**30
SLOT_UID_BASE = 61000
INSIDE_ROOT = "/grading"

# system folders bound read-only (a symbolic link such as /bin -> usr/bin is
# recreated as the same link)
SYSTEM_PATHS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# what programs read from /etc; the rest of /etc (shadow, ssh keys, ...) is not there
ETC_PATHS = (
    "passwd", "group", "nsswitch.conf", "hosts", "host.conf",
    "ld.so.cache", "ld.so.conf", "ld.so.conf.d",
    "localtime", "timezone", "ssl", "ca-certificates", "alternatives", "fonts",
    "mime.types",
)
INSTALL_HINT = (
    "Install bubblewrap (Debian/Ubuntu: sudo apt-get install bubblewrap, or `make sandbox`), "
    "or grade without a sandbox with UNSANDBOXED=1 (unsafe: student code then runs with "
    "your rights and sees the whole machine)."
)


class SandboxUnavailable(RuntimeError):
    """bubblewrap is missing or cannot create its namespaces on this machine."""


@dataclass
class Limits:
    """What one student's run may use.

    Every process inside gets the same soft and hard limits, so the student
    cannot raise them.

    Attributes
    ----------
    memory_bytes : int
        Address space of each process (``RLIMIT_AS``).
    processes : int
        Processes of the sandbox's uid (``RLIMIT_NPROC``).
    file_bytes : int
        Largest file a process may write (``RLIMIT_FSIZE``), the log included;
        also the size of the tmpfs ``/tmp``.
    open_files : int
        Open file descriptors per process (``RLIMIT_NOFILE``).
    wall_seconds : float
        One budget for the whole run.
    """

    memory_bytes: int = DEFAULT_MEMORY_BYTES
    processes: int = 256
    file_bytes: int = 256 * 2**20
    open_files: int = 1024
    wall_seconds: float = 600


@dataclass
class Finished:
    """How a run ended.

    Attributes
    ----------
    returncode : int or None
        The command's exit status; death by signal N is 128 + N in the
        sandbox (as bubblewrap reports it), -N without. None when the wall
        clock stopped it.
    timed_out : bool
        True when the wall clock ran out and the sandbox was killed.
    seconds : float
        Wall time of the run.
    """

    returncode: int | None
    timed_out: bool
    seconds: float


def find_bwrap() -> str | None:
    """Return the path of the ``bwrap`` program, or None when it is not installed."""
    return shutil.which("bwrap")


def check_available() -> None:
    """Check that bubblewrap is installed and can start a sandbox here.

    Raises
    ------
    SandboxUnavailable
        With how to install bubblewrap, or why its namespaces fail and how to
        enable them, and the ``UNSANDBOXED=1`` switch.
    """
    bwrap = find_bwrap()
    if bwrap is None:
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed. {INSTALL_HINT}")
    for tool in ("prlimit", "setpriv") if _is_root() else ("prlimit",):
        if shutil.which(tool) is None:
            raise SandboxUnavailable(
                f"{tool} is not installed; it comes with util-linux (apt-get install util-linux)."
            )
    probe = [bwrap, *_namespace_options(), "--ro-bind", "/", "/", "--proc", "/proc",
             "--dev", "/dev", "true"]
    try:
        done = subprocess.run(probe, stdin=subprocess.DEVNULL, capture_output=True,
                              timeout=30, check=False)
    except subprocess.TimeoutExpired:
        raise SandboxUnavailable(f"{bwrap} did not start a sandbox within 30 s.") from None
    if done.returncode != 0:
        error = done.stderr.decode(errors="replace").strip()[-500:]
        raise SandboxUnavailable(
            f"{bwrap} cannot create its namespaces here: {error!r}. Unprivileged user "
            "namespaces may be disabled: enable them with `sysctl -w "
            "kernel.unprivileged_userns_clone=1` (Debian kernels) and a non-zero "
            "`sysctl user.max_user_namespaces`; on Ubuntu 24.04 also allow them in AppArmor "
            "(kernel.apparmor_restrict_unprivileged_userns=0), or run the grader as root. "
            "Or grade without a sandbox with UNSANDBOXED=1 (unsafe)."
        )


def run(command, *, work, read_only=(), env=None, limits=None, slot=0, log=None,
        sandboxed=True) -> Finished:
    """Run ``command`` for one student, sandboxed, limited, within a wall clock.

    Parameters
    ----------
    command : list of str
        Program and arguments, as paths inside the sandbox (the base Python
        is at its host path, ``sys.base_prefix``, and on ``PATH``).
    work : str or Path
        The student's host folder: ``/grading`` inside, writable, the current
        directory. ``work/home`` is created for ``HOME``. As root, ``work`` is
        handed to the slot's uid.
    read_only : sequence of (str, str)
        ``(host_path, inside_path)`` pairs bound read-only, e.g. the packages
        the command imports; ``inside_path`` is absolute and not under
        ``/grading``, ``/tmp``, ``/dev`` or ``/proc``. With
        ``sandboxed=False`` each pair must be ``(p, p)``.
    env : dict of str to str, optional
        The command's environment, on top of ``PATH`` (the base Python's
        ``bin`` first) and ``LANG=C.UTF-8``, which it may replace. ``HOME``,
        ``TMPDIR`` and ``GRADING_ROOT`` are always set by ``run``. Nothing of
        the caller's own environment passes.
    limits : Limits, optional
        Memory, processes, file size, open files and the wall clock;
        default ``Limits()``.
    slot : int
        Which of the parallel graders this is; as root the command runs as
        uid and gid ``SLOT_UID_BASE + slot``.
    log : str or Path, optional
        Host file for the command's stdout and stderr (truncated first; at
        most ``limits.file_bytes``). Keep it outside ``work``. Default: discarded.
    sandboxed : bool
        False runs without bubblewrap (unsafe, see the module's notes).

    Returns
    -------
    Finished
        Exit status, whether the wall clock stopped it, and the time taken.
        When ``run`` returns or raises, no process of the command is left.
    """
    limits = Limits() if limits is None else limits
    command = _checked_command(command)
    work = Path(work).resolve()
    if not work.is_dir():
        raise ValueError(f"work must be an existing folder; got {str(work)!r}.")
    if slot < 0:
        raise ValueError(f"slot must be 0 or more; got {slot}.")
    read_only = _checked_read_only(read_only, sandboxed)

    (work / "home").mkdir(exist_ok=True)
    if not sandboxed:
        (work / "tmp").mkdir(exist_ok=True)
    uid = SLOT_UID_BASE + slot if sandboxed and _is_root() else None
    if uid is not None:
        _hand_over(work, uid)

    inside_root = INSIDE_ROOT if sandboxed else str(work)
    full_env = {"PATH": f"{sys.base_prefix}/bin:/usr/local/bin:/usr/bin:/bin",
                "LANG": "C.UTF-8"}
    full_env.update(env or {})
    full_env.update({
        "HOME": f"{inside_root}/home",
        "TMPDIR": "/tmp" if sandboxed else str(work / "tmp"),
        "GRADING_ROOT": inside_root,
    })

    inner = _limited(command, limits, uid)
    output = open(log, "wb") if log is not None else subprocess.DEVNULL
    try:
        if sandboxed:
            return _supervise_sandbox(inner, work, read_only, full_env, limits, output)
        return _supervise(inner, work, full_env, limits, output, None)
    finally:
        if log is not None:
            output.close()


def _limited(command, limits, uid):
    """``command`` behind prlimit and, for a slot uid, setpriv (paths valid inside too)."""
    wrapped = [shutil.which("prlimit") or "/usr/bin/prlimit",
               f"--as={limits.memory_bytes}", f"--nproc={limits.processes}",
               f"--fsize={limits.file_bytes}", f"--nofile={limits.open_files}", "--"]
    if uid is not None:
        wrapped += [shutil.which("setpriv") or "/usr/bin/setpriv",
                    f"--reuid={uid}", f"--regid={uid}", "--clear-groups",
                    "--inh-caps=-all", "--bounding-set=-all", "--no-new-privs", "--"]
    return wrapped + command


def _supervise_sandbox(inner, work, read_only, env, limits, output):
    """Start bwrap around ``inner``; it reports its pid namespace on a pipe (``--info-fd``)."""
    info_read, info_write = os.pipe()
    try:
        argv = _bwrap_command(work, read_only, limits, info_write) + inner
        return _supervise(argv, work, env, limits, output, (info_read, info_write))
    finally:
        os.close(info_read)


def _supervise(argv, work, env, limits, output, info_pipe):
    """Start ``argv`` in a new session, wait at most the wall clock, then kill what is left.

    ``info_pipe`` is bwrap's ``--info-fd`` pipe (read end, write end) or None;
    the write end is closed here, once bwrap holds its copy.
    """
    start = time.monotonic()
    deadline = start + limits.wall_seconds
    process = None
    pid_namespace = None
    timed_out = False
    try:
        try:
            process = subprocess.Popen(
                argv, cwd=work, env=env, stdin=subprocess.DEVNULL, stdout=output,
                stderr=subprocess.STDOUT, start_new_session=True,
                pass_fds=(info_pipe[1],) if info_pipe else (),
            )
        finally:
            if info_pipe:
                os.close(info_pipe[1])
        if info_pipe:
            pid_namespace = _read_info(info_pipe[0], deadline).get("pid-namespace")
        timed_out = not _wait_unreaped(process.pid, deadline)
    finally:
        # normal end, wall clock, or the caller interrupted: nothing may survive
        if process is not None:
            if info_pipe and pid_namespace is None:
                late = _read_info(info_pipe[0], time.monotonic() + 1)
                pid_namespace = late.get("pid-namespace")
            _kill_all(process, pid_namespace)
    return Finished(returncode=None if timed_out else process.returncode,
                    timed_out=timed_out, seconds=time.monotonic() - start)


def _wait_unreaped(pid, deadline):
    """Wait until ``pid`` exits or the deadline passes; True if it exited.

    The exited process is left unreaped (a zombie), so that its pid, which is
    also its process group's id, cannot be reused before the group is killed.
    """
    while True:
        if os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.02)


def _is_root():
    return os.geteuid() == 0


def _checked_command(command):
    if isinstance(command, (str, bytes)) or not command:
        raise TypeError(
            f"command must be a non-empty list of strings, e.g. ['python', 'run.py']; "
            f"got {command!r}."
        )
    command = [os.fspath(part) for part in command]
    if not all(isinstance(part, str) for part in command):
        raise TypeError(f"command must be a list of strings; got {command!r}.")
    return command


def _checked_read_only(read_only, sandboxed):
    pairs = [(os.fspath(host), os.fspath(inside)) for host, inside in read_only]
    for host, inside in pairs:
        reserved = [top for top in (INSIDE_ROOT, "/tmp", "/dev", "/proc")
                    if inside == top or inside.startswith(top + "/")]
        if not os.path.isabs(inside) or reserved:
            raise ValueError(
                f"read_only inside paths must be absolute and outside /grading, /tmp, /dev "
                f"and /proc; got {inside!r} for {host!r}. Bind it elsewhere, e.g. at {host!r}."
            )
    moved = [pair for pair in pairs if pair[0] != pair[1]]
    if not sandboxed and moved:
        raise ValueError(
            f"with sandboxed=False the command sees host paths, so read_only pairs must bind "
            f"a path at itself; got {moved}. Bind them at their own path."
        )
    return pairs


def _namespace_options():
    """Namespaces for bwrap: a user namespace only when we are not root.

    As root the command changes to a slot uid with ``setpriv``, which needs a
    real uid on the host, so no user namespace is created.
    """
    options = ["--unshare-pid", "--unshare-ipc", "--unshare-net", "--unshare-uts",
               "--unshare-cgroup-try", "--die-with-parent", "--new-session"]
    if not _is_root():
        options = ["--unshare-user", "--disable-userns"] + options
    return options


def _bwrap_command(work, read_only, limits, info_fd):
    """The bwrap program and its options, up to (not including) the command."""
    args = [find_bwrap() or "bwrap", *_namespace_options(), "--info-fd", str(info_fd)]
    for path in SYSTEM_PATHS:
        if os.path.islink(path):
            args += ["--symlink", os.readlink(path), path]
        elif os.path.isdir(path):
            args += ["--ro-bind", path, path]
    for name in ETC_PATHS:
        args += ["--ro-bind-try", f"/etc/{name}", f"/etc/{name}"]
    args += [
        "--dev", "/dev",
        "--proc", "/proc",
        "--perms", "1777", "--size", str(limits.file_bytes), "--tmpfs", "/tmp",
        "--bind", str(work), INSIDE_ROOT,
        "--chdir", INSIDE_ROOT,
    ]
    made = set()
    for host, inside in [(sys.base_prefix, sys.base_prefix), *read_only]:
        args += _parent_dirs(inside, made) + ["--ro-bind", host, inside]
    if _is_root():
        # setpriv needs SETUID, SETGID and SETPCAP to change uid and empty the
        # bounding set, bwrap DAC_READ_SEARCH to enter a work folder of mode 0700
        # that now belongs to the slot's uid; setpriv drops them all before it
        # starts the command
        args += ["--cap-drop", "ALL"]
        for capability in ("SETUID", "SETGID", "SETPCAP", "DAC_READ_SEARCH"):
            args += ["--cap-add", f"CAP_{capability}"]
    else:
        args += ["--cap-drop", "ALL"]
    return args


def _parent_dirs(inside, made):
    """Options creating the folders above ``inside`` as 0755 (bwrap would make them 0700).

    Folders under the system binds already exist; ``made`` collects those
    created so far.
    """
    options = []
    for parent in reversed(Path(inside).parents):
        name = str(parent)
        system = [top for top in (*SYSTEM_PATHS, "/etc")
                  if name == top or name.startswith(top + "/")]
        if name != "/" and not system and name not in made:
            options += ["--perms", "0755", "--dir", name]
            made.add(name)
    return options


def _hand_over(work, uid):
    """Make ``work`` and everything in it belong to ``uid`` (links themselves, not targets)."""
    os.chown(work, uid, uid)
    for folder, dirs, files in os.walk(work):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), uid, uid, follow_symlinks=False)


def _read_info(fd, deadline):
    """Read bwrap's ``--info-fd`` report (it closes the pipe after writing it)."""
    data = b""
    while len(data) < 65536:
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            break
        chunk = os.read(fd, 4096)
        if not chunk:
            break
        data += chunk
    try:
        return json.loads(data)
    except ValueError:
        return {}


def _kill_all(process, pid_namespace):
    """Kill the process group and every process of the sandbox's pid namespace, then reap.

    With ``--unshare-pid`` the kernel kills all of a namespace's processes,
    wherever ``setsid`` moved them, when its pid 1 dies; the scan finds them
    all the same (pid 1 included), kills them and waits until none is left.
    ``process`` is not reaped yet, so its process group id is still its own.
    """
    members = []
    for _ in range(100):
        _kill(process.pid)
        _kill_group(process.pid)
        members = _namespace_members(pid_namespace) if pid_namespace else []
        if not members:
            break
        for pid in members:
            _kill(pid)
        time.sleep(0.05)
    process.wait()
    if members:
        raise RuntimeError(f"sandbox processes {members} survived SIGKILL for 5 s")


def _namespace_members(pid_namespace):
    """Host pids of the running processes in the pid namespace with this inode number.

    Zombies are left out: they run no code, and the one that was the
    namespace's pid 1 waits for the host's init to reap it.
    """
    wanted = f"pid:[{pid_namespace}]"
    members = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            if os.readlink(f"/proc/{entry}/ns/pid") != wanted:
                continue
            with open(f"/proc/{entry}/stat", "rb") as stat:
                state = stat.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):  # gone meanwhile, or not ours to read
            continue
        if state not in (b"Z", b"X"):
            members.append(int(entry))
    return members


def _kill(pid):
    try:
        os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
