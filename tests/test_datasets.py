"""Tests for tinynet.datasets.

The MNIST tests never touch the internet: they write tiny IDX files
themselves and serve them from a ``file://`` folder or from an HTTP server
on 127.0.0.1 that runs in a background thread.
"""

import functools
import gzip
import hashlib
import http.server
import re
import socket
import threading
from pathlib import Path

import numpy as np
import pytest

import tinynet.datasets as datasets
from tinynet.datasets import (
    MNIST_FILES,
    MNIST_MIRRORS,
    DatasetDownloadError,
    Split,
    load_digits,
    load_digits_split,
    load_mnist,
    make_quadratic_data,
    quadratic_curve,
    train_val_test_split,
)

DATA_DIR = Path(datasets.__file__).resolve().parent / "data"


# ============================================================================
# 8x8 digits
# ============================================================================

def test_load_digits_shape_dtype_range():
    x, t = load_digits()
    assert x.shape == (1797, 1, 8, 8)
    assert x.dtype == np.float64
    assert t.shape == (1797,)
    assert t.dtype == np.int64
    assert x.min() == 0.0 and x.max() == 1.0
    # Pixels were counts 0..16, so x * 16 must be whole numbers.
    np.testing.assert_array_equal(x * 16, np.round(x * 16))


def test_load_digits_float32():
    x, _ = load_digits(dtype=np.float32)
    assert x.dtype == np.float32


def test_load_digits_has_ten_balanced_classes():
    _, t = load_digits()
    counts = np.bincount(t)
    assert counts.shape == (10,)
    assert counts.sum() == 1797
    assert np.all((counts >= 170) & (counts <= 190)), counts


def test_load_digits_returns_fresh_arrays():
    x1, t1 = load_digits()
    x1[:] = -1.0
    t1[:] = -1
    x2, t2 = load_digits()
    assert x2.min() == 0.0 and t2.min() == 0


def test_digits_file_checksum_matches_readme():
    readme = (DATA_DIR / "README.md").read_text(encoding="utf-8")
    match = re.search(r"SHA-256: `([0-9a-f]{64})`", readme)
    assert match, "data/README.md must state the SHA-256 of digits.npz as SHA-256: `<hex>`"
    actual = hashlib.sha256((DATA_DIR / "digits.npz").read_bytes()).hexdigest()
    assert actual == match.group(1), "digits.npz changed: update the checksum in data/README.md"


def test_digits_file_raw_format():
    with np.load(DATA_DIR / "digits.npz", allow_pickle=False) as archive:
        assert sorted(archive.files) == ["images", "labels"]
        assert archive["images"].dtype == np.uint8 and archive["images"].shape == (1797, 8, 8)
        assert archive["labels"].dtype == np.uint8 and archive["labels"].shape == (1797,)
        assert archive["images"].max() == 16


@pytest.mark.parametrize("bad, error, match", [
    (np.int32, ValueError, r"dtype must be a floating-point dtype; got int32. Pass np.float32"),
    ("not-a-dtype", TypeError, r"dtype must be a floating-point dtype; got 'not-a-dtype'"),
    (None, TypeError, r"dtype must be a floating-point dtype; got None"),
])
def test_load_digits_bad_dtype(bad, error, match):
    with pytest.raises(error, match=match):
        load_digits(dtype=bad)


# ============================================================================
# train_val_test_split
# ============================================================================

def _toy(n=100, classes=4, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((n, 1, 2, 2))
    x[:, 0, 0, 0] = np.arange(n)  # each sample carries its own index
    t = np.arange(n) % classes
    return x, t


def _ids(x):
    return x[:, 0, 0, 0].astype(int)


def test_split_sizes():
    split = load_digits_split()
    assert isinstance(split, Split)
    assert split.x_train.shape == (1079, 1, 8, 8)
    assert split.x_val.shape == (359, 1, 8, 8)
    assert split.x_test.shape == (359, 1, 8, 8)
    assert split.t_train.shape == (1079,)
    assert split.t_val.shape == (359,) and split.t_test.shape == (359,)


def test_split_unpacks_in_field_order():
    split = load_digits_split(seed=1)
    x_train, t_train, x_val, t_val, x_test, t_test = split
    assert x_train is split.x_train and t_test is split.t_test
    assert x_val is split.x_val and t_val is split.t_val
    assert "x_train=(1079, 1, 8, 8)" in repr(split)


def test_split_is_frozen():
    split = load_digits_split()
    with pytest.raises(AttributeError):
        split.x_train = None


def test_split_covers_every_sample_exactly_once_and_keeps_pairs():
    x, t = _toy(103, classes=5)
    split = train_val_test_split(x, t, val_fraction=0.15, test_fraction=0.25, seed=2)
    ids = np.concatenate([_ids(split.x_train), _ids(split.x_val), _ids(split.x_test)])
    assert sorted(ids) == list(range(103))
    for xs, ts in [(split.x_train, split.t_train), (split.x_val, split.t_val),
                   (split.x_test, split.t_test)]:
        np.testing.assert_array_equal(ts, t[_ids(xs)])  # labels still match their inputs
        np.testing.assert_array_equal(xs, x[_ids(xs)])


def test_split_is_stratified():
    x, t = load_digits()
    split = train_val_test_split(x, t, val_fraction=0.2, test_fraction=0.2, seed=0)
    whole = np.bincount(t, minlength=10)
    for part in (split.t_train, split.t_val, split.t_test):
        counts = np.bincount(part, minlength=10)
        expected = whole * len(part) / len(t)
        assert np.all(np.abs(counts - expected) <= 1.0), (counts, expected)


def test_split_stratified_with_unbalanced_classes():
    t = np.array([0] * 80 + [1] * 20)
    x = np.arange(100.0)
    split = train_val_test_split(x, t, val_fraction=0.1, test_fraction=0.3, seed=0)
    assert np.bincount(split.t_test).tolist() == [24, 6]
    assert np.bincount(split.t_val).tolist() == [8, 2]
    assert np.bincount(split.t_train).tolist() == [48, 12]


def test_split_parts_are_shuffled_even_if_input_is_sorted_by_class():
    t = np.repeat(np.arange(5), 20)  # 0,0,...,1,1,...
    x = np.arange(100)
    split = train_val_test_split(x, t, seed=0)
    for part in (split.t_train, split.t_val, split.t_test):
        assert not np.all(np.diff(part) >= 0), part
    assert not np.all(np.diff(split.x_train) >= 0)


def test_same_seed_same_split_different_seed_different_split():
    x, t = load_digits()
    a = train_val_test_split(x, t, seed=5)
    b = train_val_test_split(x, t, seed=5)
    c = train_val_test_split(x, t, seed=6)
    for left, right in zip(a, b, strict=True):
        np.testing.assert_array_equal(left, right)
    assert not np.array_equal(a.t_train, c.t_train)
    assert not np.array_equal(a.x_test, c.x_test)


def test_different_seed_picks_different_samples_not_just_another_order():
    x, t = _toy(200, classes=4)
    a = train_val_test_split(x, t, seed=0)
    b = train_val_test_split(x, t, seed=1)
    assert set(_ids(a.x_test)) != set(_ids(b.x_test))
    assert set(_ids(a.x_val)) != set(_ids(b.x_val))


def test_split_accepts_a_generator_and_leaves_global_state_alone():
    x, t = _toy()
    np.random.seed(123)
    before = np.random.get_state()[1].copy()
    from_int = train_val_test_split(x, t, seed=7)
    from_gen = train_val_test_split(x, t, seed=np.random.default_rng(7))
    np.testing.assert_array_equal(from_int.x_train, from_gen.x_train)
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_split_does_not_modify_inputs_and_returns_copies():
    x, t = _toy()
    x_before, t_before = x.copy(), t.copy()
    split = train_val_test_split(x, t, seed=0)
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(t, t_before)
    split.x_train[:] = 999.0
    split.t_train[:] = 999
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(t, t_before)


def test_split_zero_fractions():
    x, t = _toy(20)
    split = train_val_test_split(x, t, val_fraction=0.0, test_fraction=0.0)
    assert len(split.x_train) == 20 and len(split.x_val) == 0 and len(split.x_test) == 0
    assert split.x_val.shape == (0, 1, 2, 2)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(val_fraction=-0.1), ValueError,
         r"val_fraction must be a number in \[0, 1\); got -0.1\."),
        (dict(test_fraction=1.0), ValueError,
         r"test_fraction must be a number in \[0, 1\); got 1.0\."),
        (dict(val_fraction="0.2"), TypeError, r"val_fraction must be a number in \[0, 1\); "
                                              r"got str '0.2'"),
        (dict(test_fraction=None), TypeError, r"test_fraction must be a number .* got NoneType"),
        (dict(val_fraction=True), TypeError, r"val_fraction must be a number .* got bool"),
        (dict(val_fraction=0.5, test_fraction=0.5), ValueError,
         r"val_fraction \+ test_fraction must be less than 1; got 0.5 \+ 0.5"),
        (dict(seed=-1), ValueError, r"seed must be a non-negative int .* got -1"),
        (dict(seed=1.5), TypeError, r"seed must be a non-negative int or a "
                                    r"numpy.random.Generator; got float"),
        (dict(seed="0"), TypeError, r"seed must be .* got str"),
        (dict(seed=None), TypeError, r"seed must be .* got NoneType None. Pass seed=0"),
    ],
)
def test_split_bad_arguments(kwargs, error, match):
    x, t = _toy()
    with pytest.raises(error, match=match):
        train_val_test_split(x, t, **kwargs)


def test_split_length_mismatch():
    x, t = _toy(10)
    with pytest.raises(ValueError, match=r"x and t must have the same number of samples; got 10 "
                                         r"inputs .* and 9 labels"):
        train_val_test_split(x, t[:9])


def test_split_rejects_one_hot_labels():
    x, t = _toy(10)
    with pytest.raises(ValueError, match=r"t must be a 1-D array of shape \(N,\); got "
                                         r"shape \(10, 4\)"):
        train_val_test_split(x, np.eye(4)[t])


def test_split_with_no_training_samples_left():
    x, t = _toy(3)
    with pytest.raises(ValueError, match=r"leaves no training samples"):
        train_val_test_split(x, t, val_fraction=0.4, test_fraction=0.5)


def test_load_digits_split_passes_arguments_on():
    split = load_digits_split(val_fraction=0.1, test_fraction=0.3, seed=3, dtype=np.float32)
    assert split.x_train.dtype == np.float32
    assert len(split.t_val) == 180 and len(split.t_test) == 539
    with pytest.raises(ValueError, match="val_fraction"):
        load_digits_split(val_fraction=2)


# ============================================================================
# MNIST, with tiny self-made IDX files
# ============================================================================

def _idx_bytes(magic, dims, data):
    header = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in dims)
    return header + data.astype(np.uint8).tobytes()


def _write_gz(path, payload):
    # mtime=0 keeps the bytes (and so the SHA-256) reproducible.
    with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as gz:
        gz.write(payload)


def _write_fake_mnist(folder, n_train=5, n_test=3, image_magic=0x803, seed=0):
    """Write the four MNIST files with tiny content; return arrays and SHA-256s."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    arrays = {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, size=(n, 28, 28), dtype=np.uint8)
        images[0, 0, 0], images[0, 0, 1] = 0, 255  # make sure both ends occur
        labels = rng.integers(0, 10, size=n, dtype=np.uint8)
        _write_gz(folder / f"{prefix}-images-idx3-ubyte.gz",
                  _idx_bytes(image_magic, (n, 28, 28), images))
        _write_gz(folder / f"{prefix}-labels-idx1-ubyte.gz", _idx_bytes(0x801, (n,), labels))
        arrays[prefix] = (images, labels)
    checksums = {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest() for name in MNIST_FILES
    }
    return arrays, checksums


class _Server:
    """A static file server on 127.0.0.1 (free port) that counts GET requests."""

    def __init__(self, root):
        self.requests = []
        outer = self

        class Handler(http.server.SimpleHTTPRequestHandler):
            def do_GET(self):
                outer.requests.append(self.path)
                super().do_GET()

            def log_message(self, *args):  # keep the test output quiet
                pass

        handler = functools.partial(Handler, directory=str(root))
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/"
        # A short poll interval makes shutdown() return quickly.
        self.thread = threading.Thread(
            target=self.httpd.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )
        self.thread.start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(timeout=5)


@pytest.fixture
def served(tmp_path):
    """Fake MNIST files under tmp/served, served over HTTP; yields (server, arrays, checksums)."""
    arrays, checksums = _write_fake_mnist(tmp_path / "served")
    server = _Server(tmp_path / "served")
    try:
        yield server, arrays, checksums
    finally:
        server.close()


@pytest.fixture
def empty_server(tmp_path):
    """An HTTP server with no files: every request answers 404."""
    (tmp_path / "empty").mkdir()
    server = _Server(tmp_path / "empty")
    try:
        yield server
    finally:
        server.close()


@pytest.fixture(autouse=True)
def _no_real_cache(tmp_path, monkeypatch):
    """Point the default cache at a temp folder so no test writes to ~/.cache."""
    monkeypatch.setenv("TINYNET_DATA_DIR", str(tmp_path / "env-cache"))


def _closed_port_url():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}/"  # nothing listens here any more: connection refused


def _check_arrays(result, arrays):
    (x_train, t_train), (x_test, t_test) = result
    for (x, t), prefix in (((x_train, t_train), "train"), ((x_test, t_test), "t10k")):
        images, labels = arrays[prefix]
        assert x.shape == (len(images), 1, 28, 28)
        assert x.dtype == np.float32
        assert t.dtype == np.int64
        assert x.min() == 0.0 and x.max() == 1.0
        np.testing.assert_allclose(x[:, 0] * 255, images, atol=1e-4)
        np.testing.assert_array_equal(t, labels)


def test_mnist_constants_follow_data_md():
    assert MNIST_MIRRORS[0] == "https://ossci-datasets.s3.amazonaws.com/mnist/"
    assert MNIST_MIRRORS[1] == "https://storage.googleapis.com/cvdf-datasets/mnist/"
    assert MNIST_MIRRORS[2] == "http://yann.lecun.com/exdb/mnist/"
    assert MNIST_FILES["train-images-idx3-ubyte.gz"] == (
        9_912_422, "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609")
    assert MNIST_FILES["t10k-labels-idx1-ubyte.gz"] == (
        4_542, "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6")


def test_mnist_from_file_mirror(tmp_path):
    arrays, checksums = _write_fake_mnist(tmp_path / "source")
    mirror = (tmp_path / "source").as_uri()  # no trailing slash: it must be added
    cache = tmp_path / "cache"
    result = load_mnist(cache_dir=cache, mirrors=[mirror], checksums=checksums)
    _check_arrays(result, arrays)
    assert sorted(p.name for p in (cache / "mnist").iterdir()) == sorted(MNIST_FILES)


def test_mnist_download_over_http_and_cache(tmp_path, served):
    server, arrays, checksums = served
    cache = tmp_path / "cache"
    result = load_mnist(cache_dir=cache, mirrors=[server.url], checksums=checksums)
    _check_arrays(result, arrays)
    assert sorted(server.requests) == sorted("/" + name for name in MNIST_FILES)
    # Second call: everything comes from the cache, the server sees nothing new.
    again = load_mnist(cache_dir=cache, mirrors=[server.url], checksums=checksums)
    _check_arrays(again, arrays)
    assert len(server.requests) == 4
    # Also with download=False.
    load_mnist(cache_dir=cache, mirrors=[server.url], checksums=checksums, download=False)
    assert len(server.requests) == 4


def test_mnist_float64(tmp_path, served):
    server, _, checksums = served
    (x_train, _), _ = load_mnist(cache_dir=tmp_path / "c", mirrors=[server.url],
                                 checksums=checksums, dtype=np.float64)
    assert x_train.dtype == np.float64


@pytest.mark.parametrize("first", ["404", "closed-port"])
def test_mnist_falls_back_to_next_mirror(tmp_path, served, empty_server, first):
    server, arrays, checksums = served
    bad = empty_server.url if first == "404" else _closed_port_url()
    result = load_mnist(cache_dir=tmp_path / "cache", mirrors=[bad, server.url],
                        checksums=checksums, timeout=5)
    _check_arrays(result, arrays)
    if first == "404":
        assert len(empty_server.requests) == 4  # each file was tried there first
    assert len(server.requests) == 4


def test_mnist_all_mirrors_fail_lists_each_failure(tmp_path, empty_server):
    closed = _closed_port_url()
    missing_dir = (tmp_path / "nowhere").as_uri() + "/"
    cache = tmp_path / "cache"
    with pytest.raises(DatasetDownloadError) as info:
        load_mnist(cache_dir=cache, mirrors=[empty_server.url, closed, missing_dir], timeout=5)
    message = str(info.value)
    assert isinstance(info.value, RuntimeError)
    assert "from any of the 3 mirror(s)" in message
    assert empty_server.url + "train-images-idx3-ubyte.gz" in message
    assert "404" in message
    assert closed + "train-images-idx3-ubyte.gz" in message
    assert missing_dir + "train-images-idx3-ubyte.gz" in message
    assert [url for url, _ in info.value.failures] == [
        base + "train-images-idx3-ubyte.gz" for base in (empty_server.url, closed, missing_dir)
    ]
    # What to do offline, with the real folder to put the files in.
    assert "download the files by hand" in message
    assert str(cache / "mnist") in message
    assert "TINYNET_DATA_DIR" in message and "load_digits()" in message
    # Nothing half-written was left behind.
    assert list((cache / "mnist").iterdir()) == []


def test_mnist_checksum_mismatch_is_rejected(tmp_path, served):
    server, _, checksums = served
    wrong = dict(checksums)
    wrong["train-labels-idx1-ubyte.gz"] = "0" * 64
    cache = tmp_path / "cache"
    with pytest.raises(DatasetDownloadError, match=r"checksum mismatch: expected SHA-256 0{64}, "
                                                   r"got [0-9a-f]{64}") as info:
        load_mnist(cache_dir=cache, mirrors=[server.url], checksums=wrong)
    assert "train-labels-idx1-ubyte.gz" in str(info.value)
    files = sorted(p.name for p in (cache / "mnist").iterdir())
    assert "train-labels-idx1-ubyte.gz" not in files  # never under the final name
    assert not any(name.endswith(".part") for name in files)  # temp file cleaned up


class _WatchedResponse:
    """Wrap a urlopen response; record on each read whether the final file exists."""

    def __init__(self, response, destination, seen, fail_after=None):
        self.response, self.destination, self.seen = response, destination, seen
        self.fail_after = fail_after

    def read(self, size=-1):
        self.seen.append(self.destination.exists())
        if self.fail_after is not None and len(self.seen) > self.fail_after:
            raise ConnectionResetError("connection dropped mid-download (simulated)")
        return self.response.read(min(size, 100))  # small chunks: several reads per file

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.response.close()


def _watch_urlopen(monkeypatch, folder, seen, fail_after=None):
    real_urlopen = datasets.urllib.request.urlopen

    def watching_urlopen(request, timeout):
        name = request.full_url.rsplit("/", 1)[-1]
        return _WatchedResponse(real_urlopen(request, timeout=timeout), folder / name, seen,
                                fail_after)

    monkeypatch.setattr(datasets.urllib.request, "urlopen", watching_urlopen)


def test_mnist_final_name_appears_only_after_the_download_is_complete(tmp_path, monkeypatch):
    arrays, checksums = _write_fake_mnist(tmp_path / "source")
    cache = tmp_path / "cache"
    seen = []
    _watch_urlopen(monkeypatch, cache / "mnist", seen)
    result = load_mnist(cache_dir=cache, mirrors=[(tmp_path / "source").as_uri()],
                        checksums=checksums)
    _check_arrays(result, arrays)
    assert len(seen) > 8  # several reads per file
    assert not any(seen), "a file existed under its final name while still downloading"


def test_mnist_interrupted_download_leaves_nothing_and_tries_next_mirror(tmp_path, monkeypatch,
                                                                         served):
    server, arrays, checksums = served
    cache = tmp_path / "cache"
    seen = []
    _watch_urlopen(monkeypatch, cache / "mnist", seen, fail_after=3)
    with pytest.raises(DatasetDownloadError,
                       match=r"ConnectionResetError: connection dropped") as info:
        load_mnist(cache_dir=cache, mirrors=[server.url, (tmp_path / "served").as_uri()],
                   checksums=checksums)
    assert len(info.value.failures) == 2  # both mirrors were tried
    assert list((cache / "mnist").iterdir()) == []  # no partial file, no temp file


def test_mnist_corrupt_cached_file_is_downloaded_again(tmp_path, served):
    server, arrays, checksums = served
    cache = tmp_path / "cache"
    load_mnist(cache_dir=cache, mirrors=[server.url], checksums=checksums)
    target = cache / "mnist" / "t10k-images-idx3-ubyte.gz"
    good = target.read_bytes()
    target.write_bytes(good[: len(good) // 2])  # a truncated copy
    result = load_mnist(cache_dir=cache, mirrors=[server.url], checksums=checksums)
    _check_arrays(result, arrays)
    assert server.requests.count("/t10k-images-idx3-ubyte.gz") == 2
    assert len(server.requests) == 5
    assert target.read_bytes() == good


def test_mnist_corrupt_cached_file_without_download(tmp_path, served):
    server, _, checksums = served
    cache = tmp_path / "cache"
    load_mnist(cache_dir=cache, mirrors=[server.url], checksums=checksums)
    (cache / "mnist" / "train-labels-idx1-ubyte.gz").write_bytes(b"junk")
    with pytest.raises(DatasetDownloadError, match=r"wrong SHA-256.*download=False: "
                                                   r"train-labels-idx1-ubyte.gz"):
        load_mnist(cache_dir=cache, mirrors=[server.url], checksums=checksums, download=False)


def test_mnist_bad_magic(tmp_path):
    _, checksums = _write_fake_mnist(tmp_path / "source", image_magic=0x801)
    with pytest.raises(ValueError, match=r"IDX magic number 0x00000801, expected "
                                         r"0x00000803 for images"):
        load_mnist(cache_dir=tmp_path / "cache", mirrors=[(tmp_path / "source").as_uri()],
                   checksums=checksums)


def test_mnist_truncated_idx_payload(tmp_path):
    source = tmp_path / "source"
    _write_fake_mnist(source)
    # Header says 5 labels but only 4 follow.
    _write_gz(source / "train-labels-idx1-ubyte.gz", _idx_bytes(0x801, (5,), np.arange(4)))
    checksums = {name: hashlib.sha256((source / name).read_bytes()).hexdigest()
                 for name in MNIST_FILES}
    with pytest.raises(ValueError, match=r"header promises shape \(5,\).*truncated or corrupt"):
        load_mnist(cache_dir=tmp_path / "cache", mirrors=[source.as_uri()], checksums=checksums)


def test_mnist_not_gzip(tmp_path):
    source = tmp_path / "source"
    _write_fake_mnist(source)
    (source / "t10k-labels-idx1-ubyte.gz").write_bytes(b"plain text, not gzip")
    checksums = {name: hashlib.sha256((source / name).read_bytes()).hexdigest()
                 for name in MNIST_FILES}
    with pytest.raises(ValueError, match=r"not a valid gzip file"):
        load_mnist(cache_dir=tmp_path / "cache", mirrors=[source.as_uri()], checksums=checksums)


def test_mnist_images_and_labels_count_mismatch(tmp_path):
    source = tmp_path / "source"
    _write_fake_mnist(source)
    _write_gz(source / "t10k-labels-idx1-ubyte.gz", _idx_bytes(0x801, (2,), np.arange(2)))
    checksums = {name: hashlib.sha256((source / name).read_bytes()).hexdigest()
                 for name in MNIST_FILES}
    with pytest.raises(ValueError, match=r"t10k images and labels disagree in number: 3 images "
                                         r"but 2 labels"):
        load_mnist(cache_dir=tmp_path / "cache", mirrors=[source.as_uri()], checksums=checksums)


def test_mnist_download_false_with_empty_cache(tmp_path):
    cache = tmp_path / "cache"
    with pytest.raises(DatasetDownloadError) as info:
        load_mnist(cache_dir=cache, download=False)
    message = str(info.value)
    assert "download=False" in message
    for name in MNIST_FILES:
        assert name in message
    assert str(cache / "mnist") in message
    assert "download the files by hand" in message
    assert "TINYNET_DATA_DIR" in message and "load_digits()" in message


def test_mnist_respects_tinynet_data_dir(tmp_path, monkeypatch):
    arrays, checksums = _write_fake_mnist(tmp_path / "source")
    env_dir = tmp_path / "from-env"
    monkeypatch.setenv("TINYNET_DATA_DIR", str(env_dir))
    assert datasets.default_cache_dir() == env_dir
    result = load_mnist(mirrors=[(tmp_path / "source").as_uri()], checksums=checksums)
    _check_arrays(result, arrays)
    assert sorted(p.name for p in (env_dir / "mnist").iterdir()) == sorted(MNIST_FILES)


def test_mnist_default_cache_without_env(monkeypatch, tmp_path):
    monkeypatch.delenv("TINYNET_DATA_DIR", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert datasets.default_cache_dir() == tmp_path / ".cache" / "tinynet"


def test_mnist_explicit_cache_dir_beats_env(tmp_path, monkeypatch):
    _, checksums = _write_fake_mnist(tmp_path / "source")
    monkeypatch.setenv("TINYNET_DATA_DIR", str(tmp_path / "env"))
    load_mnist(cache_dir=str(tmp_path / "arg"), mirrors=[(tmp_path / "source").as_uri()],
               checksums=checksums)
    assert (tmp_path / "arg" / "mnist").is_dir()
    assert not (tmp_path / "env").exists()


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(mirrors="http://127.0.0.1:1/"), TypeError, r"mirrors must be a list of base URLs; "
                                                         r"got str .* Wrap a single URL in a list"),
        (dict(mirrors=[]), ValueError, r"mirrors must hold at least one base URL"),
        (dict(mirrors=[42]), TypeError, r"each entry of mirrors must be a str URL; got int"),
        (dict(cache_dir=3), TypeError, r"cache_dir must be a str, a path-like object or "
                                       r"None; got int"),
        (dict(download="no"), TypeError, r"download must be True or False; got str"),
        (dict(dtype=np.uint8), ValueError, r"dtype must be a floating-point dtype; got uint8"),
        (dict(timeout="5"), TypeError, r"timeout must be a positive number of seconds; got str"),
        (dict(timeout=0), ValueError, r"timeout must be a positive number of seconds; got 0"),
        (dict(checksums={"a": "b"}), ValueError, r"checksums must be a dict with exactly the keys"),
    ],
)
def test_mnist_bad_arguments(tmp_path, kwargs, error, match):
    kwargs.setdefault("cache_dir", tmp_path)
    kwargs.setdefault("download", False)
    with pytest.raises(error, match=match):
        load_mnist(**kwargs)


# ============================================================================
# Quadratic toy data
# ============================================================================

def test_make_quadratic_data_shapes_sorted_and_seeded():
    x, y = make_quadratic_data()
    assert x.shape == (20,) and y.shape == (20,)
    assert np.all(np.diff(x) >= 0)
    assert x.min() >= -1.0 and x.max() <= 1.0
    x2, y2 = make_quadratic_data()
    np.testing.assert_array_equal(x, x2)
    np.testing.assert_array_equal(y, y2)
    x3, _ = make_quadratic_data(seed=1)
    assert not np.array_equal(x, x3)


def test_make_quadratic_data_follows_the_curve():
    x, y = make_quadratic_data(n_samples=5000, noise=0.1, x_range=(0.0, 2.0),
                               coefficients=(1.0, 2.0, -3.0), seed=0)
    assert x.min() >= 0.0 and x.max() <= 2.0
    residual = y - quadratic_curve(x, (1.0, 2.0, -3.0))
    assert abs(residual.mean()) < 0.01
    assert residual.std() == pytest.approx(0.1, rel=0.05)
    x0, y0 = make_quadratic_data(noise=0.0)
    np.testing.assert_allclose(y0, quadratic_curve(x0))


def test_quadratic_curve_values():
    np.testing.assert_allclose(quadratic_curve([0.0, 1.0, -2.0], (1.0, 2.0, 3.0)), [1.0, 6.0, 9.0])
    np.testing.assert_allclose(quadratic_curve(np.array([1.0])), [0.2 - 0.5 + 1.0])


def test_make_quadratic_data_leaves_global_random_state_alone():
    np.random.seed(0)
    before = np.random.get_state()[1].copy()
    make_quadratic_data(seed=np.random.default_rng(3))
    np.testing.assert_array_equal(np.random.get_state()[1], before)


@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(n_samples=0), ValueError, r"n_samples must be a positive int; got 0"),
        (dict(n_samples=2.0), TypeError, r"n_samples must be a positive int; got float"),
        (dict(n_samples="20"), TypeError, r"n_samples must be a positive int; got str"),
        (dict(noise=-0.1), ValueError, r"noise must be a finite number >= 0; got -0.1"),
        (dict(noise="0.1"), TypeError, r"noise must be a number >= 0; got str"),
        (dict(x_range=(1.0, -1.0)), ValueError, r"x_range must be \(low, high\) with finite low < "
                                                r"high; got \(1.0, -1.0\)"),
        (dict(x_range=(0.0,)), TypeError, r"x_range must be a pair of numbers"),
        (dict(x_range="ab"), TypeError, r"x_range must be a pair of numbers"),
        (dict(coefficients=(1.0, 2.0)), ValueError, r"coefficients must be three finite numbers"),
        (dict(coefficients=("a", "b", "c")), TypeError, r"coefficients must be three numbers"),
        (dict(seed=-5), ValueError, r"seed must be a non-negative int"),
        (dict(seed="x"), TypeError, r"seed must be a non-negative int or a "
                                    r"numpy.random.Generator; got str"),
    ],
)
def test_make_quadratic_data_bad_arguments(kwargs, error, match):
    with pytest.raises(error, match=match):
        make_quadratic_data(**kwargs)


def test_quadratic_curve_bad_arguments():
    with pytest.raises(ValueError, match=r"coefficients must be three finite numbers"):
        quadratic_curve([0.0], (1.0, np.nan, 2.0))
    with pytest.raises(TypeError, match=r"x must be an array of real numbers"):
        quadratic_curve(["a"])
