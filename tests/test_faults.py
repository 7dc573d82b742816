"""The MNIST loader under faults (issue 10).

Every network test talks only to servers on 127.0.0.1 that the test starts
and stops itself; each server sends a bounded number of bytes and each
test runs with small timeouts and deadlines, so the file finishes in seconds.
The files are tiny self-made IDX files, passed with ``checksums=`` (and
``sizes=``), as in test_datasets.py.
"""

import gzip
import hashlib
import http.server
import os
import socket
import subprocess
import sys
import threading
import time

import numpy as np
import pytest

import tinynet.datasets as datasets
from tinynet import cli
from tinynet.datasets import MNIST_FILES, DatasetCacheError, DatasetDownloadError, load_mnist

FIRST = "train-images-idx3-ubyte.gz"  # the file load_mnist fetches first


# -- tiny MNIST files ------------------------------------------------------------

def _idx_bytes(magic, dims, data=b""):
    header = magic.to_bytes(4, "big") + b"".join(int(d).to_bytes(4, "big") for d in dims)
    return header + bytes(data)


def _gz(payload):
    return gzip.compress(payload, mtime=0)


def _fake_files(n_train=5, n_test=3, seed=0):
    """The four files as {name: gzipped bytes}, with tiny random content."""
    rng = np.random.default_rng(seed)
    files = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        files[f"{prefix}-images-idx3-ubyte.gz"] = _gz(_idx_bytes(0x803, (n, 28, 28),
                                                                  images.tobytes()))
        files[f"{prefix}-labels-idx1-ubyte.gz"] = _gz(_idx_bytes(0x801, (n,), labels.tobytes()))
    return files


def _sums(files):
    return {name: hashlib.sha256(data).hexdigest() for name, data in files.items()}


def _sizes(files):
    return {name: len(data) for name, data in files.items()}


def _write(folder, files):
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)
    return folder.as_uri()


@pytest.fixture(autouse=True)
def _no_real_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("TINYNET_DATA_DIR", str(tmp_path / "env-cache"))


@pytest.fixture
def files():
    return _fake_files()


# -- a misbehaving server on 127.0.0.1 -------------------------------------------

class FaultServer:
    """Serves ``files`` under /<mode>/<name>; the mode picks the fault.

    ok        the file
    trunc     Content-Length of the whole file, then half of it, then close
    trunc0    half the file and close, no Content-Length
    drip      one byte every 0.05 s (for at most 3 s)
    big       far more bytes than the file (at most 4 MB), no Content-Length
    biglen    announces 200,000,000 bytes
    redirect  302 to /ok/<name>
    loop      302 to itself
    tofile    302 to a file:// URL
    """

    def __init__(self, files):
        self.files, self.requests, self.sent = files, [], 0
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _send(self, data):
                try:
                    self.wfile.write(data)
                    self.wfile.flush()
                    outer.sent += len(data)
                    return True
                except OSError:  # the client hung up: stop
                    return False

            def do_GET(self):
                outer.requests.append(self.path)
                _, mode, name = self.path.split("/", 2)
                data = outer.files.get(name)
                if data is None:
                    self.send_error(404)
                    return
                if mode in ("redirect", "loop", "tofile"):
                    target = {"redirect": f"/ok/{name}", "loop": self.path,
                              "tofile": "file:///etc/hostname"}[mode]
                    self.send_response(302)
                    self.send_header("Location", target)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(200)
                if mode in ("ok", "trunc", "drip"):
                    self.send_header("Content-Length", str(len(data)))
                if mode == "biglen":
                    self.send_header("Content-Length", "200000000")
                self.end_headers()
                if mode == "ok":
                    self._send(data)
                elif mode in ("trunc", "trunc0"):
                    self._send(data[: len(data) // 2])
                elif mode == "drip":
                    stop = time.monotonic() + 3.0
                    for i in range(len(data)):
                        if time.monotonic() > stop or not self._send(data[i:i + 1]):
                            break
                        time.sleep(0.05)
                elif mode == "big":
                    chunk = b"\0" * 65536
                    for _ in range(64):  # 4 MB at most
                        if not self._send(chunk):
                            break
                elif mode == "biglen":
                    self._send(data[:100])

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        self.thread = threading.Thread(target=self.httpd.serve_forever,
                                       kwargs={"poll_interval": 0.01}, daemon=True)
        self.thread.start()

    def url(self, mode):
        return f"{self.base}{mode}/"

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def server(files):
    s = FaultServer(files)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def silent_mirror():
    """A socket on 127.0.0.1 that accepts connections but never answers."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}/"
    finally:
        sock.close()


def _leftovers(cache):
    folder = cache / "mnist"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


# -- truncation, oversize, dripping ----------------------------------------------

@pytest.mark.parametrize("mode", ["trunc", "trunc0"])
def test_truncated_download_reports_got_x_of_y_bytes(tmp_path, server, files, mode):
    cache = tmp_path / "cache"
    size = len(files[FIRST])
    with pytest.raises(DatasetDownloadError,
                       match=rf"short download: got {len(files[FIRST]) // 2:,} of {size:,} bytes"):
        load_mnist(cache_dir=cache, mirrors=[server.url(mode)], checksums=_sums(files),
                   sizes=_sizes(files), timeout=2, deadline=5)
    assert _leftovers(cache) == []  # nothing half-written, no *.part


def test_truncated_mirror_falls_back_to_the_next(tmp_path, server, files):
    cache = tmp_path / "cache"
    (x_train, _), _ = load_mnist(cache_dir=cache, mirrors=[server.url("trunc"), server.url("ok")],
                                 checksums=_sums(files), sizes=_sizes(files), timeout=2, deadline=5)
    assert x_train.shape == (5, 1, 28, 28)
    assert _leftovers(cache) == sorted(MNIST_FILES)


def test_oversize_stream_is_cut_at_the_expected_size(tmp_path, server, files):
    cache = tmp_path / "cache"
    size = len(files[FIRST])
    with pytest.raises(DatasetDownloadError,
                       match=rf"size mismatch: got more than {size:,} bytes "
                             rf"\({size + 1:,} of {size:,} bytes read\)"):
        load_mnist(cache_dir=cache, mirrors=[server.url("big")], checksums=_sums(files),
                   sizes=_sizes(files), timeout=2, deadline=5)
    assert _leftovers(cache) == []


def test_oversize_stream_is_cut_even_without_known_sizes(tmp_path, server, files, monkeypatch):
    # With custom checksums and no sizes, the published sizes are the upper bounds.
    monkeypatch.setitem(datasets.MNIST_FILES, FIRST, (1000, MNIST_FILES[FIRST][1]))
    with pytest.raises(DatasetDownloadError, match=r"got more than 1,000 bytes \(1,001 of at most "
                                                   r"1,000 bytes read\)"):
        load_mnist(cache_dir=tmp_path / "cache", mirrors=[server.url("big")],
                   checksums=_sums(files), timeout=2, deadline=5)


def test_announced_oversize_is_refused_before_reading(tmp_path, server, files):
    size = len(files[FIRST])
    with pytest.raises(DatasetDownloadError,
                       match=rf"the server announces 200,000,000 bytes, expected {size:,}; "
                             r"nothing was read"):
        load_mnist(cache_dir=tmp_path / "cache", mirrors=[server.url("biglen")],
                   checksums=_sums(files), sizes=_sizes(files), timeout=2, deadline=5)


def test_dripping_server_is_cut_off_by_the_deadline(tmp_path, server, files):
    cache = tmp_path / "cache"
    start = time.monotonic()
    with pytest.raises(DatasetDownloadError,
                       match=rf"deadline exceeded: got \d+ of {len(files[FIRST]):,} bytes "
                             r"in 0.5 s"):
        load_mnist(cache_dir=cache, mirrors=[server.url("drip")], checksums=_sums(files),
                   sizes=_sizes(files), timeout=1, deadline=0.5)
    assert time.monotonic() - start < 2.0  # deadline + at most one read's timeout
    assert _leftovers(cache) == []


def test_a_dead_mirror_costs_one_timeout_not_one_per_file(tmp_path, server, files, silent_mirror):
    start = time.monotonic()
    (x_train, _), _ = load_mnist(cache_dir=tmp_path / "cache",
                                 mirrors=[silent_mirror, server.url("ok")],
                                 checksums=_sums(files), sizes=_sizes(files), timeout=0.5,
                                 deadline=5)
    elapsed = time.monotonic() - start
    assert x_train.shape == (5, 1, 28, 28)
    assert elapsed < 1.5, f"{elapsed:.2f} s: the silent mirror was waited on more than once"
    assert len([r for r in server.requests if r.startswith("/ok/")]) == 4


# -- redirects ---------------------------------------------------------------------

def test_redirect_is_followed(tmp_path, server, files):
    (x_train, _), _ = load_mnist(cache_dir=tmp_path / "cache", mirrors=[server.url("redirect")],
                                 checksums=_sums(files), sizes=_sizes(files), timeout=2, deadline=5)
    assert x_train.shape == (5, 1, 28, 28)
    assert server.requests.count(f"/ok/{FIRST}") == 1


def test_redirect_loop_is_reported(tmp_path, server, files):
    with pytest.raises(DatasetDownloadError, match=r"HTTPError: HTTP Error 302: .*infinite loop"):
        load_mnist(cache_dir=tmp_path / "cache", mirrors=[server.url("loop")],
                   checksums=_sums(files), sizes=_sizes(files), timeout=2, deadline=5)
    assert len(server.requests) <= 11  # urllib stops after at most 10 redirects


def test_redirect_to_a_local_file_is_refused(tmp_path, server, files):
    with pytest.raises(DatasetDownloadError, match=r"Redirection to url 'file:///etc/hostname' is "
                                                   r"not allowed"):
        load_mnist(cache_dir=tmp_path / "cache", mirrors=[server.url("tofile")],
                   checksums=_sums(files), sizes=_sizes(files), timeout=2, deadline=5)


# -- local problems are named, and nothing is downloaded for them ----------------

def test_cache_entry_that_is_a_folder(tmp_path, server, files):
    cache = tmp_path / "cache"
    (cache / "mnist" / FIRST).mkdir(parents=True)
    with pytest.raises(DatasetCacheError,
                       match=rf"the cache entry .*{FIRST} is a folder, not a file"
                             r".*Remove that folder"):
        load_mnist(cache_dir=cache, mirrors=[server.url("ok")], checksums=_sums(files))
    assert server.requests == []  # nothing downloaded


def test_cache_dir_that_is_a_file(tmp_path, server, files):
    not_a_folder = tmp_path / "data.txt"
    not_a_folder.write_text("")
    for download in (True, False):
        with pytest.raises(DatasetCacheError, match=r"the cache folder .*data.txt is a file, "
                                                    r"not a folder"):
            load_mnist(cache_dir=not_a_folder, mirrors=[server.url("ok")], checksums=_sums(files),
                       download=download)
    assert server.requests == []


def test_read_only_cache_lacking_files(tmp_path, server, files, monkeypatch):
    cache = tmp_path / "cache"
    (cache / "mnist").mkdir(parents=True)

    def refuse(*args, **kwargs):  # root ignores chmod, so refuse at the write test
        raise PermissionError(13, "Permission denied")
    monkeypatch.setattr(datasets.tempfile, "mkstemp", refuse)
    with pytest.raises(DatasetCacheError,
                       match=r"cannot write to the cache folder .*mnist \(Permission "
                             r"denied\), which lacks "
                             r"train-images-idx3-ubyte.gz, .*TINYNET_DATA_DIR"):
        load_mnist(cache_dir=cache, mirrors=[server.url("ok")], checksums=_sums(files))
    assert server.requests == []


def test_read_only_cache_with_all_files_still_loads(tmp_path, files, monkeypatch):
    cache = tmp_path / "cache"
    _write(cache / "mnist", files)
    monkeypatch.setattr(datasets.tempfile, "mkstemp", lambda *a, **k: 1 / 0)  # never called
    (x_train, _), _ = load_mnist(cache_dir=cache, mirrors=["http://127.0.0.1:9/"],
                                 checksums=_sums(files))
    assert x_train.shape == (5, 1, 28, 28)


def test_cli_names_a_data_dir_that_is_a_file(tmp_path, capsys):
    not_a_folder = tmp_path / "data.txt"
    not_a_folder.write_text("")
    code = cli.main(["train", "--dataset", "mnist", "--data-dir", str(not_a_folder),
                     "--no-progress"])
    assert code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("tinynet: could not load mnist: the cache folder")
    assert "is a file, not a folder" in err and "from any mirror" not in err


# -- leftovers of killed downloads ------------------------------------------------

def _dead_pid():
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_stale_part_files_are_removed_on_the_next_run(tmp_path, files):
    source = _write(tmp_path / "source", files)
    folder = tmp_path / "cache" / "mnist"
    folder.mkdir(parents=True)
    host = socket.gethostname()
    dead = folder / f"{FIRST}.{host}.{_dead_pid()}.abc123.part"  # its process is gone
    old = folder / f"{FIRST}.k3j4h5.part"  # an old-style name, last written 2 hours ago
    live = folder / f"{FIRST}.{host}.{os.getpid()}.def456.part"  # a download still running
    # a shared cache: another host's download is not ours to judge
    other_host = folder / f"{FIRST}.elsewhere.example.1.ghi789.part"
    for part in (dead, old, live, other_host):
        part.write_bytes(b"partial")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    load_mnist(cache_dir=tmp_path / "cache", mirrors=[source], checksums=_sums(files))
    assert not dead.exists() and not old.exists()
    assert live.exists() and other_host.exists()


def test_a_killed_download_leaves_a_part_file_that_the_next_run_removes(tmp_path, server, files):
    cache = tmp_path / "cache"
    code = (
        "import sys, tinynet.datasets as d\n"
        f"d.load_mnist(cache_dir={str(cache)!r}, mirrors=[{server.url('drip')!r}], "
        f"checksums={_sums(files)!r}, timeout=5, deadline=30)\n"
    )
    process = subprocess.Popen([sys.executable, "-c", code])
    try:
        deadline = time.monotonic() + 20
        def started():
            folder = cache / "mnist"
            return folder.exists() and any(p.suffix == ".part" for p in folder.glob("*"))

        while not started():
            assert time.monotonic() < deadline, "the download never started"
            time.sleep(0.05)
        process.kill()  # SIGKILL: no cleanup possible
        process.wait(timeout=10)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    assert [p for p in _leftovers(cache) if p.endswith(".part")]
    load_mnist(cache_dir=cache, mirrors=[server.url("ok")], checksums=_sums(files), timeout=2)
    assert _leftovers(cache) == sorted(MNIST_FILES)


# -- bad files that pass a checksum ------------------------------------------------

def _load_with(tmp_path, files, **replace):
    files = dict(files, **replace)
    source = _write(tmp_path / "source", files)
    return load_mnist(cache_dir=tmp_path / "cache", mirrors=[source], checksums=_sums(files))


@pytest.mark.parametrize("dims", [(2**32 - 1, 2**32 - 1, 2**32 - 1), (2**31, 28, 28),
                                  (60_001, 28, 28), (5, 28, 29)])
def test_idx_header_sizes_that_overflow_or_are_not_mnist(tmp_path, files, dims):
    bad = _gz(_idx_bytes(0x803, dims, b"\0" * 100))
    with pytest.raises(ValueError, match=r"the IDX header claims shape .*but an MNIST images "
                                         r"file holds at most 60,000 images of 28x28 pixels"):
        _load_with(tmp_path, files, **{FIRST: bad})


def test_idx_header_that_disagrees_with_the_data(tmp_path, files):
    short = _gz(_idx_bytes(0x803, (5, 28, 28), b"\0" * 100))
    with pytest.raises(ValueError, match=r"header promises shape \(5, 28, "
                                         r"28\).*truncated or corrupt"):
        _load_with(tmp_path, files, **{FIRST: short})
    long = _gz(_idx_bytes(0x803, (5, 28, 28), b"\0" * (5 * 784 + 10)))
    with pytest.raises(ValueError, match=r"header promises shape \(5, 28, 28\).*holds more "
                                         r"data than that"):
        _load_with(tmp_path, files, **{FIRST: long})


def test_label_out_of_range(tmp_path, files):
    labels = _gz(_idx_bytes(0x801, (5,), bytes([1, 2, 200, 3, 4])))
    with pytest.raises(ValueError, match=r"holds the label 200 at index 2; MNIST labels are 0..9"):
        _load_with(tmp_path, files, **{"train-labels-idx1-ubyte.gz": labels})


def test_gzip_bomb_is_not_inflated(tmp_path, files):
    # 64 MB of zeros after a header that promises 5 images: only 5 * 784 + 1
    # bytes past the header are ever decompressed.
    bomb = gzip.compress(_idx_bytes(0x803, (5, 28, 28), bytes(64 << 20)), compresslevel=9, mtime=0)
    assert len(bomb) < MNIST_FILES[FIRST][0]  # small enough to pass the download size cap
    start = time.monotonic()
    with pytest.raises(ValueError, match=r"header promises shape \(5, 28, 28\).*holds more "
                                         r"data than that"):
        _load_with(tmp_path, files, **{FIRST: bomb})
    assert time.monotonic() - start < 2.0


def test_only_local_addresses_are_used(server):
    assert server.base.startswith("http://127.0.0.1:")
