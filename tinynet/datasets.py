"""Data sets for the course: bundled 8x8 digits, MNIST on demand, toy curves.

* :func:`load_digits` reads 1,797 handwritten digits of 8x8 pixels that ship
  with the package (see ``tinynet/data/README.md`` for their source and
  licence). No download, so every notebook works offline.
* :func:`load_mnist` downloads the four MNIST files once, checks their
  SHA-256, keeps them in a cache folder and parses the IDX format itself.
* :func:`train_val_test_split` makes a seeded, stratified three-way split.
* :func:`make_quadratic_data` draws noisy samples of a parabola for the
  under/overfitting lesson.

Images are always channels first: ``x : ndarray of shape (N, C, H, W)``.
"""

import dataclasses
import gzip
import hashlib
import http.client
import math
import numbers
import os
import socket
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np

from ._checks import probe_writable
from .polynomial import predict_polynomial

__all__ = [
    "Split",
    "DatasetDownloadError",
    "DatasetCacheError",
    "MNIST_FILES",
    "MNIST_MIRRORS",
    "load_digits",
    "train_val_test_split",
    "load_digits_split",
    "load_mnist",
    "default_cache_dir",
    "QUADRATIC_COEFFICIENTS",
    "make_quadratic_data",
    "quadratic_curve",
]

_DATA_DIR = Path(__file__).resolve().parent / "data"
_DIGITS_PATH = _DATA_DIR / "digits.npz"


# ---------------------------------------------------------------------------
# Argument checks (private)
# ---------------------------------------------------------------------------

def _is_number(value):
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def _check_fraction(name, value):
    if not _is_number(value):
        raise TypeError(
            f"{name} must be a number in [0, 1); got {type(value).__name__} {value!r}. "
            f"Pass a float such as {name}=0.2."
        )
    if not (0.0 <= value < 1.0):
        raise ValueError(
            f"{name} must be a number in [0, 1); got {value}. "
            f"Pass a float such as {name}=0.2 (0 means no such set)."
        )
    return float(value)


def _check_seed(seed):
    if isinstance(seed, np.random.Generator):
        return seed
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, numbers.Integral):
        raise TypeError(
            f"seed must be a non-negative int or a numpy.random.Generator; got "
            f"{type(seed).__name__} {seed!r}. Pass seed=0 for a reproducible result."
        )
    if seed < 0:
        raise ValueError(
            f"seed must be a non-negative int or a numpy.random.Generator; got {seed}. "
            "Pass seed=0 (or any int >= 0)."
        )
    return np.random.default_rng(int(seed))


def _check_float_dtype(dtype):
    if dtype is None:  # np.dtype(None) would silently mean float64
        raise TypeError("dtype must be a floating-point dtype; got None. "
                        "Pass np.float32 or np.float64.")
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        raise TypeError(
            f"dtype must be a floating-point dtype; got {dtype!r}. "
            "Pass np.float32 or np.float64."
        ) from None
    if not np.issubdtype(resolved, np.floating):
        raise ValueError(
            f"dtype must be a floating-point dtype; got {resolved}. "
            "Pass np.float32 or np.float64 (pixel values are scaled to [0, 1])."
        )
    return resolved


# ---------------------------------------------------------------------------
# 8x8 digits (bundled)
# ---------------------------------------------------------------------------

def load_digits(dtype=np.float64):
    """Load the bundled 8x8 handwritten digits.

    Parameters
    ----------
    dtype : floating dtype, default=np.float64
        Dtype of the returned images.

    Returns
    -------
    x : ndarray of shape (1797, 1, 8, 8)
        Images with one channel, pixel counts 0..16 divided by 16, so every
        value lies in ``[0, 1]``.
    t : ndarray of shape (1797,), dtype int64
        Class labels 0..9 (about 180 of each).

    Notes
    -----
    The test part of the UCI "Optical Recognition of Handwritten Digits"
    data (Alpaydin and Kaynak, 1998), CC BY 4.0; see
    ``tinynet/data/README.md``.
    """
    dtype = _check_float_dtype(dtype)
    with np.load(_DIGITS_PATH, allow_pickle=False) as archive:
        images = archive["images"]  # (1797, 8, 8) uint8, values 0..16
        labels = archive["labels"]  # (1797,) uint8
    x = (images.astype(dtype) / dtype.type(16.0))[:, None, :, :]  # (N, 8, 8) -> (N, 1, 8, 8)
    t = labels.astype(np.int64)
    return x, t


@dataclasses.dataclass(frozen=True, repr=False, eq=False)
class Split:
    """Training, validation and test parts of a data set.

    Unpacks in field order::

        x_train, t_train, x_val, t_val, x_test, t_test = split

    Attributes
    ----------
    x_train, x_val, x_test : ndarray of shape (N_part, ...)
        Inputs of each part (same trailing shape as the input ``x``).
    t_train, t_val, t_test : ndarray of shape (N_part,)
        Labels of each part.
    """

    x_train: np.ndarray
    t_train: np.ndarray
    x_val: np.ndarray
    t_val: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray

    def __iter__(self):
        return iter(getattr(self, field.name) for field in dataclasses.fields(self))

    def __repr__(self):
        parts = ", ".join(
            f"{field.name}={getattr(self, field.name).shape}"
            for field in dataclasses.fields(self)
        )
        return f"Split({parts})"


def _allocate(total, counts):
    """Split the integer ``total`` across classes in proportion to ``counts``.

    Largest-remainder rounding: each class gets the floor of its share, and
    the few units left over go to the classes with the largest fractional
    parts. The result sums to ``total`` and never exceeds ``counts``.
    """
    counts = np.asarray(counts)
    if total == 0 or counts.sum() == 0:
        return np.zeros_like(counts)
    shares = total * counts / counts.sum()
    allocated = np.floor(shares).astype(np.int64)
    leftover = total - allocated.sum()
    # Stable sort so that ties go to the lower class index: deterministic.
    order = np.argsort(-(shares - allocated), kind="stable")
    allocated[order[:leftover]] += 1
    return allocated


def train_val_test_split(x, t, val_fraction=0.2, test_fraction=0.2, seed=0):
    """Shuffle and split a labelled data set into train, validation and test.

    The split is stratified: each part holds (as nearly as integers allow)
    the same proportion of every class as the whole data set.

    Parameters
    ----------
    x : array-like of shape (N, ...)
        Inputs, for example images of shape (N, C, H, W).
    t : array-like of shape (N,)
        Labels, one per sample.
    val_fraction : float, default=0.2
        Share of samples for validation, in ``[0, 1)``.
    test_fraction : float, default=0.2
        Share of samples for testing, in ``[0, 1)``. The two fractions must
        sum to less than 1; training gets the rest.
    seed : int or numpy.random.Generator, default=0
        Source of randomness. An int gives the same split every time; a
        Generator is used (and advanced) as is. The global ``np.random``
        state is never touched.

    Returns
    -------
    split : Split
        Fields ``x_train, t_train, x_val, t_val, x_test, t_test``; new arrays
        (the inputs are not modified). Sizes are
        ``N_test = round(N * test_fraction)``,
        ``N_val = round(N * val_fraction)`` and ``N_train = N - N_val - N_test``.
    """
    val_fraction = _check_fraction("val_fraction", val_fraction)
    test_fraction = _check_fraction("test_fraction", test_fraction)
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(
            f"val_fraction + test_fraction must be less than 1; got "
            f"{val_fraction} + {test_fraction} = {val_fraction + test_fraction}. "
            "Make them smaller so some samples are left for training."
        )
    rng = _check_seed(seed)

    x = np.asarray(x)
    t = np.asarray(t)
    if x.ndim == 0:
        raise ValueError(
            "x must be an array of shape (N, ...) with one entry per sample; got a scalar."
        )
    if t.ndim != 1:
        raise ValueError(
            f"t must be a 1-D array of shape (N,); got shape {t.shape}. "
            "Pass class labels, not one-hot rows (use t.argmax(axis=1))."
        )
    if x.shape[0] != t.shape[0]:
        raise ValueError(
            f"x and t must have the same number of samples; got {x.shape[0]} inputs "
            f"(x of shape {x.shape}) and {t.shape[0]} labels. Pass one label per input."
        )
    N = x.shape[0]
    n_test = int(np.floor(N * test_fraction + 0.5))
    n_val = int(np.floor(N * val_fraction + 0.5))
    if N - n_test - n_val < 1:
        raise ValueError(
            f"the split leaves no training samples: N={N}, {n_val} for validation and "
            f"{n_test} for testing. Use smaller fractions or more samples."
        )

    classes, class_of = np.unique(t, return_inverse=True)
    class_of = class_of.reshape(-1)
    counts = np.bincount(class_of, minlength=len(classes))
    # First choose how many of each class are held out (val + test), then
    # how many of those go to test; both steps keep the class proportions.
    held_out = _allocate(n_val + n_test, counts)
    to_test = _allocate(n_test, held_out)
    to_val = held_out - to_test

    train_idx, val_idx, test_idx = [], [], []
    for c in range(len(classes)):
        members = rng.permutation(np.flatnonzero(class_of == c))
        test_idx.append(members[: to_test[c]])
        val_idx.append(members[to_test[c] : to_test[c] + to_val[c]])
        train_idx.append(members[to_test[c] + to_val[c] :])

    def gather(index_lists):
        # Shuffle across classes too, so a part is not sorted by label.
        index = rng.permutation(np.concatenate(index_lists).astype(np.int64))
        return x[index], t[index]  # fancy indexing returns copies

    x_train, t_train = gather(train_idx)
    x_val, t_val = gather(val_idx)
    x_test, t_test = gather(test_idx)
    return Split(x_train, t_train, x_val, t_val, x_test, t_test)


def load_digits_split(val_fraction=0.2, test_fraction=0.2, seed=0, dtype=np.float64):
    """Load the 8x8 digits and split them: ``load_digits`` + ``train_val_test_split``.

    Parameters
    ----------
    val_fraction, test_fraction, seed
        See :func:`train_val_test_split`.
    dtype : floating dtype, default=np.float64
        See :func:`load_digits`.

    Returns
    -------
    split : Split
        ``x_*`` of shape (N_part, 1, 8, 8) in ``[0, 1]``, ``t_*`` int64 of
        shape (N_part,). With the defaults: 1,079 / 359 / 359 samples.
    """
    x, t = load_digits(dtype=dtype)
    return train_val_test_split(
        x, t, val_fraction=val_fraction, test_fraction=test_fraction, seed=seed
    )


# ---------------------------------------------------------------------------
# MNIST (downloaded on demand)
# ---------------------------------------------------------------------------

#: The four MNIST files: name -> (size in bytes, published SHA-256).
MNIST_FILES = {
    "train-images-idx3-ubyte.gz": (
        9_912_422,
        "440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609",
    ),
    "train-labels-idx1-ubyte.gz": (
        28_881,
        "3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c",
    ),
    "t10k-images-idx3-ubyte.gz": (
        1_648_877,
        "8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6",
    ),
    "t10k-labels-idx1-ubyte.gz": (
        4_542,
        "f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6",
    ),
}

#: Base URLs tried in this order. yann.lecun.com often answers 403, so it is last.
MNIST_MIRRORS = (
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
)

_IDX_IMAGES_MAGIC = 0x00000803  # uint8 data, 3 dimensions
_IDX_LABELS_MAGIC = 0x00000801  # uint8 data, 1 dimension
_USER_AGENT = "tinynet (teaching package; python urllib)"


class DatasetDownloadError(RuntimeError):
    """A data file could not be obtained from any mirror (or offline).

    Attributes
    ----------
    failures : list of (str, str)
        ``(url, reason)`` for every attempt that failed, in order.
    """

    def __init__(self, message, failures=()):
        super().__init__(message)
        self.failures = list(failures)


class DatasetCacheError(OSError):
    """The cache folder cannot hold the data: a local problem, not a download failure.

    For example ``cache_dir`` is a file, a cache entry is a folder, or the
    folder is read-only and lacks the files. Nothing is downloaded then.
    """


#: A ``*.part`` file not written to for this long belongs to no live download.
_STALE_PART_SECONDS = 3600.0


def _part_prefix(name):
    """Temporary files are ``<name>.<host>.<pid>.<random>.part``, so a later run can
    tell the leftovers of a killed download from a download still running."""
    return f"{name}.{socket.gethostname()}.{os.getpid()}."


def _is_stale(part, name):
    """Whether ``part`` (a temporary file of ``name``) belongs to no live download."""
    try:
        age = time.time() - part.stat().st_mtime
    except OSError:
        return False
    if age > _STALE_PART_SECONDS:
        return True
    try:  # <host>.<pid>.<random>; hostnames may contain dots
        host, pid, _ = part.name[len(name) + 1:-len(".part")].rsplit(".", 2)
        pid = int(pid)
    except ValueError:
        return False  # an old-style name: only the age tells
    if host != socket.gethostname():
        return False  # another machine's download (shared cache): only the age tells
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True  # that process is gone: SIGKILL, power loss, ...
    except OSError:
        return False  # it exists (owned by someone else)
    return False


def _remove_stale_parts(folder):
    """Delete the ``*.part`` leftovers of killed downloads; return their names."""
    removed = []
    for name in MNIST_FILES:
        for part in folder.glob(f"{name}.*.part"):
            if part.is_file() and _is_stale(part, name):
                try:
                    part.unlink()
                    removed.append(part.name)
                except OSError:
                    pass
    return removed


def _check_cache(root, folder, names_to_download):
    """Raise DatasetCacheError if the cache cannot hold the files; nothing is downloaded first."""
    for place in (root, folder):
        if place.exists() and not place.is_dir():
            raise DatasetCacheError(
                f"the cache folder {place} is a file, not a folder. Pass another cache_dir "
                "(--data-dir on the command line) or remove the file."
            )
    for name in MNIST_FILES:
        entry = folder / name
        if entry.is_dir():
            raise DatasetCacheError(
                f"the cache entry {entry} is a folder, not a file, so {name} cannot be "
                f"stored there. Remove that folder (rm -r {entry}) and run again."
            )
    if not names_to_download:
        return
    missing = ", ".join(names_to_download)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        probe_writable(folder)
    except OSError as error:
        raise DatasetCacheError(
            f"cannot write to the cache folder {folder} ({error.strerror or error}), which "
            f"lacks {missing}. Pass a writable cache_dir (--data-dir on the command line), "
            "set TINYNET_DATA_DIR, or put the files there by hand."
        ) from None


def default_cache_dir():
    """Folder for downloaded data: ``$TINYNET_DATA_DIR`` or ``~/.cache/tinynet``.

    Returns
    -------
    path : pathlib.Path
    """
    from_env = os.environ.get("TINYNET_DATA_DIR", "")
    if from_env:
        return Path(from_env).expanduser()
    return Path.home() / ".cache" / "tinynet"


def _sha256_of(path):
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _offline_advice(folder, names):
    listing = "\n".join(
        f"      {name}" + (f"  ({MNIST_FILES[name][0]:,} bytes)" if name in MNIST_FILES else "")
        for name in names
    )
    return (
        "If this computer is offline or the mirrors are blocked, you can:\n"
        "  * download the files by hand (on another machine if need be, e.g. from\n"
        f"    {MNIST_MIRRORS[0]}) and put them, still gzipped, into\n"
        f"      {folder}\n"
        f"    The files are:\n{listing}\n"
        "  * or set the environment variable TINYNET_DATA_DIR to a folder whose\n"
        "    'mnist' subfolder already holds them;\n"
        "  * or use tinynet.datasets.load_digits(), the small 8x8 digits that ship\n"
        "    with tinynet and need no download."
    )


def _download_one(url, destination, expected_sha256, timeout, size=None, exact=False,
                  deadline=None):
    """Fetch ``url`` into ``destination`` atomically; raise on any failure.

    The bytes go to a temporary file in the same folder, are hashed on the
    way, and only a file with the right SHA-256 is renamed to its final name
    (``os.replace`` is atomic on one file system), so an interrupted or bad
    download never leaves a file under ``destination``.

    At most ``size + 1`` bytes are read (``size`` is the file's known size,
    ``exact`` says whether it must match), so an oversized stream is cut off;
    and the whole attempt stops after ``deadline`` seconds, checked after
    every read (each read waits at most ``timeout``), so a server that drips
    data is cut off too.
    """
    destination.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(
        dir=destination.parent, prefix=_part_prefix(destination.name), suffix=".part"
    )
    started = time.monotonic()
    limit = None if deadline is None else started + deadline
    of = "" if size is None else f" of {size:,}" if exact else f" of at most {size:,}"
    got = 0
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            request = urllib.request.Request(url, headers={"User-Agent": _USER_AGENT})
            wait = timeout if deadline is None else min(timeout, deadline)
            with urllib.request.urlopen(request, timeout=wait) as response:
                announced = getattr(response, "headers", None)
                announced = announced.get("Content-Length") if announced is not None else None
                if size is not None and announced is not None and announced.isdigit():
                    announced = int(announced)
                    if announced > size or (exact and announced != size):
                        raise ValueError(
                            f"size mismatch: the server announces {announced:,} bytes, "
                            f"expected {size:,}; nothing was read"
                        )
                # read1 returns whatever has arrived, so the deadline is checked often.
                read = getattr(response, "read1", None) or response.read
                while True:
                    want = 1 << 16 if size is None else min(1 << 16, size + 1 - got)
                    try:
                        chunk = read(want)
                    except http.client.IncompleteRead as error:
                        got += len(error.partial)
                        raise ValueError(
                            f"short download: got {got:,}{of} bytes before the connection closed"
                        ) from None
                    if not chunk:
                        break
                    got += len(chunk)
                    if size is not None and got > size:
                        raise ValueError(
                            f"size mismatch: got more than {size:,} bytes ({got:,}{of} bytes "
                            "read): the mirror sends more than the file's size, so reading "
                            "stopped there"
                        )
                    digest.update(chunk)
                    out.write(chunk)
                    if limit is not None and time.monotonic() > limit:
                        raise TimeoutError(
                            f"deadline exceeded: got {got:,}{of} bytes in {deadline:g} s; the "
                            "mirror is too slow (pass a larger deadline= to wait longer)"
                        )
        if exact and size is not None and got != size:
            raise ValueError(f"short download: got {got:,}{of} bytes before the stream ended")
        actual = digest.hexdigest()
        if actual != expected_sha256:
            raise ValueError(
                f"checksum mismatch: expected SHA-256 {expected_sha256}, got {actual}"
            )
        os.chmod(temp_name, 0o644)  # mkstemp makes it private (0o600); a cache may be shared
        os.replace(temp_name, destination)  # atomic: the final name appears complete or not at all
    except BaseException:
        try:
            os.unlink(temp_name)
        except FileNotFoundError:
            pass
        raise


def _is_unreachable(error):
    """A mirror that cannot be reached at all (refused, no route, silent), not a 404."""
    if isinstance(error, urllib.error.HTTPError):
        return False
    if isinstance(error, urllib.error.URLError):
        return isinstance(error.reason, (OSError, socket.timeout)) or "timed out" in str(error)
    return isinstance(error, (TimeoutError, socket.timeout, ConnectionError))


def _fetch(name, folder, mirrors, expected_sha256, timeout, size=None, exact=False,
           deadline=None, unreachable=None):
    """Download ``name`` from the first mirror that has it intact.

    Mirrors found unreachable for an earlier file (``unreachable``, a set the
    caller keeps) are tried last, so a dead mirror costs one timeout per
    call to load_mnist rather than one per file.
    """
    failures = []
    unreachable = set() if unreachable is None else unreachable
    order = [b for b in mirrors if b not in unreachable] + [b for b in mirrors if b in unreachable]
    for base in order:
        url = base + name
        try:
            _download_one(url, folder / name, expected_sha256, timeout, size, exact, deadline)
            return
        # URLError, HTTPError and timeouts are OSErrors; a bad URL, a size or
        # checksum mismatch is a ValueError; a dropped connection mid-body
        # is an http.client.HTTPException. Note each and try the next mirror.
        except (OSError, ValueError, http.client.HTTPException) as error:
            failures.append((url, f"{type(error).__name__}: {error}"))
            if _is_unreachable(error):
                unreachable.add(base)
    report = "\n".join(f"  - {url}: {reason}" for url, reason in failures)
    raise DatasetDownloadError(
        f"Could not download {name} from any of the {len(mirrors)} mirror(s):\n"
        f"{report}\n\n" + _offline_advice(folder, list(MNIST_FILES)),
        failures,
    )


def _parse_idx(raw, expected_magic, source):
    """Parse an uncompressed IDX file of uint8 data; return an ndarray."""
    kind = "images" if expected_magic == _IDX_IMAGES_MAGIC else "labels"
    if len(raw) < 4:
        raise ValueError(
            f"{source} is too short to be an IDX file ({len(raw)} bytes). "
            "Delete it so it is downloaded again."
        )
    magic = int.from_bytes(raw[:4], "big")
    if magic != expected_magic:
        raise ValueError(
            f"{source} has IDX magic number 0x{magic:08X}, expected "
            f"0x{expected_magic:08X} for {kind}. Is it the right file? "
            "Delete it so it is downloaded again."
        )
    n_dims = expected_magic & 0xFF  # the last byte of the magic is the number of axes
    header_size = 4 + 4 * n_dims
    if len(raw) < header_size:
        raise ValueError(
            f"{source} ends inside its IDX header ({len(raw)} bytes, need {header_size})."
        )
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">u4", count=n_dims, offset=4))
    expected_size = header_size + math.prod(shape)  # Python ints: no overflow
    if len(raw) != expected_size:
        raise ValueError(
            f"{source}: the IDX header promises shape {shape} ({expected_size} bytes "
            f"in total) but the file has {len(raw)} bytes. It is truncated or corrupt; "
            "delete it so it is downloaded again."
        )
    return np.frombuffer(raw, dtype=np.uint8, offset=header_size).reshape(shape)


#: The most samples an MNIST file holds (the training files): a bound on
#: what an IDX header may claim, so a corrupt or hostile header cannot make
#: the loader read (or a gzip bomb inflate) more than the real data.
_MNIST_MAX_SAMPLES = 60_000
_MNIST_SIDE = 28


def _read_idx_gz(path, expected_magic):
    """Read a gzipped IDX file, decompressing no more than its header promises.

    The header is read first and checked against MNIST (28x28 images, at
    most 60,000 samples); then exactly the promised number of bytes plus one
    are decompressed, so a file that inflates to far more (a gzip bomb) is
    stopped right there.
    """
    kind = "images" if expected_magic == _IDX_IMAGES_MAGIC else "labels"
    n_dims = expected_magic & 0xFF
    header_size = 4 + 4 * n_dims
    try:
        with gzip.open(path, "rb") as handle:
            header = handle.read(header_size)
            if len(header) < 4 or int.from_bytes(header[:4], "big") != expected_magic:
                return _parse_idx(header, expected_magic, source=str(path))  # explains it
            if len(header) < header_size:
                return _parse_idx(header, expected_magic, source=str(path))
            shape = tuple(int.from_bytes(header[i:i + 4], "big")
                          for i in range(4, header_size, 4))
            if shape[0] > _MNIST_MAX_SAMPLES or shape[1:] not in ((), (_MNIST_SIDE, _MNIST_SIDE)):
                expected = (f"at most {_MNIST_MAX_SAMPLES:,} {kind}"
                            + (f" of {_MNIST_SIDE}x{_MNIST_SIDE} pixels" if n_dims == 3 else ""))
                raise ValueError(
                    f"{path}: the IDX header claims shape {shape}, but an MNIST {kind} file "
                    f"holds {expected}. It is corrupt or not MNIST; delete it so it is "
                    "downloaded again."
                )
            payload = math.prod(shape)  # Python ints: no overflow
            data = handle.read(payload + 1)
    except (OSError, EOFError, gzip.BadGzipFile) as error:
        raise ValueError(
            f"{path} is not a valid gzip file ({error}). Delete it so it is downloaded again."
        ) from None
    if len(data) > payload:
        raise ValueError(
            f"{path}: the IDX header promises shape {shape} ({header_size + payload:,} bytes "
            "in total) but the file holds more data than that. It is corrupt; delete it so "
            "it is downloaded again."
        )
    array = _parse_idx(header + data, expected_magic, source=str(path))
    if kind == "labels" and array.size and array.max() > 9:
        where = int(np.argmax(array > 9))
        raise ValueError(
            f"{path} holds the label {int(array[where])} at index {where}; MNIST labels are "
            "0..9. The file is corrupt; delete it so it is downloaded again."
        )
    return array


def load_mnist(
    cache_dir=None,
    mirrors=None,
    download=True,
    dtype=np.float32,
    *,
    checksums=None,
    sizes=None,
    timeout=30.0,
    deadline=600.0,
):
    """Load MNIST (60,000 training and 10,000 test images of 28x28 pixels).

    The four gzipped IDX files are looked for in ``<cache_dir>/mnist/``.
    Missing files (and cached files whose SHA-256 is wrong) are downloaded,
    trying each mirror in turn.

    Parameters
    ----------
    cache_dir : str or path-like, optional
        Where to keep the files. Default: the environment variable
        ``TINYNET_DATA_DIR`` if set, else ``~/.cache/tinynet``.
    mirrors : list of str, optional
        Base URLs (ending in ``/``, which is added if missing) tried in order;
        ``file://`` URLs work too. Default: :data:`MNIST_MIRRORS`.
    download : bool, default=True
        If False, never touch the network: raise if a file is missing.
    dtype : floating dtype, default=np.float32
        Dtype of the returned images.
    checksums : dict of str to str, optional
        Expected SHA-256 per file name. Default: the published ones in
        :data:`MNIST_FILES`. Only tests with small self-made files need this.
    sizes : dict of str to int, optional
        Exact size in bytes per file. Default: the published ones when
        ``checksums`` is None; with custom checksums, the published sizes
        serve only as upper bounds. A download is never read past its size.
    timeout : float, default=30.0
        Seconds to wait on a silent connection before trying the next mirror.
        A mirror that cannot be reached is tried last for the remaining files.
    deadline : float, default=600.0
        Seconds allowed for one file from one mirror; a slower download is
        abandoned (after at most one more ``timeout``) and the next mirror tried.

    Cached files that are incomplete are never trusted; leftover ``*.part``
    files of killed downloads are deleted on the next call that downloads.

    Returns
    -------
    (x_train, t_train), (x_test, t_test)
        ``x_*`` : ndarray of shape (N, 1, 28, 28), pixels divided by 255 so
        in ``[0, 1]``; ``t_*`` : ndarray of shape (N,), int64 labels 0..9.

    Raises
    ------
    DatasetDownloadError
        If a file is missing and cannot be downloaded; the message lists
        each mirror's failure and what to do offline.
    DatasetCacheError
        If the cache folder cannot hold the files (it is a file, an entry is
        a folder, it is read-only and lacks files); checked before any download.
    ValueError
        If a file is not valid gzipped MNIST IDX data (bad header, sizes
        that disagree with the data, labels outside 0..9).
    """
    # -- check arguments ----------------------------------------------------
    if cache_dir is None:
        root = default_cache_dir()
    elif isinstance(cache_dir, (str, os.PathLike)):
        root = Path(cache_dir).expanduser()
    else:
        raise TypeError(
            f"cache_dir must be a str, a path-like object or None; got "
            f"{type(cache_dir).__name__} {cache_dir!r}. Pass a folder such as '~/data'."
        )
    if mirrors is None:
        mirrors = MNIST_MIRRORS
    if isinstance(mirrors, (str, bytes)) or not isinstance(mirrors, (list, tuple)):
        raise TypeError(
            f"mirrors must be a list of base URLs; got {type(mirrors).__name__} "
            f"{mirrors!r}. Wrap a single URL in a list: mirrors=[url]."
        )
    if len(mirrors) == 0:
        raise ValueError("mirrors must hold at least one base URL; got an empty list.")
    for base in mirrors:
        if not isinstance(base, str):
            raise TypeError(
                f"each entry of mirrors must be a str URL; got {type(base).__name__} {base!r}."
            )
    mirrors = [base if base.endswith("/") else base + "/" for base in mirrors]
    if not isinstance(download, (bool, np.bool_)):
        raise TypeError(
            f"download must be True or False; got {type(download).__name__} {download!r}."
        )
    dtype = _check_float_dtype(dtype)
    exact = checksums is None or sizes is not None
    if checksums is None:
        checksums = {name: sha for name, (_, sha) in MNIST_FILES.items()}
    if not isinstance(checksums, dict) or set(checksums) != set(MNIST_FILES):
        raise ValueError(
            f"checksums must be a dict with exactly the keys {sorted(MNIST_FILES)}; "
            f"got {checksums!r}."
        )
    if sizes is None:
        sizes = {name: size for name, (size, _) in MNIST_FILES.items()}
    if (not isinstance(sizes, dict) or set(sizes) != set(MNIST_FILES)
            or not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) and v > 0
                       for v in sizes.values())):
        raise ValueError(
            f"sizes must be a dict of positive ints with exactly the keys "
            f"{sorted(MNIST_FILES)}; got {sizes!r}."
        )
    if deadline is not None and (not _is_number(deadline) or not deadline > 0):
        raise ValueError(
            f"deadline must be a positive number of seconds or None; got {deadline!r}. "
            "Pass e.g. deadline=600.0."
        )
    if not _is_number(timeout):
        raise TypeError(
            f"timeout must be a positive number of seconds; got {type(timeout).__name__} "
            f"{timeout!r}. Pass e.g. timeout=30.0."
        )
    if not timeout > 0:
        raise ValueError(
            f"timeout must be a positive number of seconds; got {timeout}. Pass e.g. timeout=30.0."
        )

    # -- make sure each file is present and intact --------------------------
    folder = root / "mnist"
    _check_cache(root, folder, [])
    missing = [name for name in MNIST_FILES
               if not ((folder / name).is_file() and _sha256_of(folder / name) == checksums[name])]
    if missing and download:
        # Check that the files can be stored before fetching anything.
        _check_cache(root, folder, missing)
        _remove_stale_parts(folder)
        unreachable = set()
        for name in missing:
            # Missing, or cached but corrupt (an old partial copy, a wrong file):
            # fetch it again; the good copy atomically replaces the bad one.
            _fetch(name, folder, mirrors, checksums[name], timeout, sizes[name], exact,
                   deadline, unreachable)
        missing = []
    if missing:
        raise DatasetDownloadError(
            f"MNIST files missing (or with a wrong SHA-256) in {folder} and "
            f"download=False: {', '.join(missing)}.\n"
            "Call load_mnist(download=True) to fetch them.\n\n" + _offline_advice(folder, missing)
        )

    # -- parse ---------------------------------------------------------------
    parts = []
    for prefix in ("train", "t10k"):
        images = _read_idx_gz(folder / f"{prefix}-images-idx3-ubyte.gz", _IDX_IMAGES_MAGIC)
        labels = _read_idx_gz(folder / f"{prefix}-labels-idx1-ubyte.gz", _IDX_LABELS_MAGIC)
        if images.shape[0] != labels.shape[0]:
            raise ValueError(
                f"{prefix} images and labels disagree in number: {images.shape[0]} "
                f"images but {labels.shape[0]} labels in {folder}. Delete the files "
                "so they are downloaded again."
            )
        x = (images.astype(dtype) / dtype.type(255.0))[:, None, :, :]  # (N, H, W) -> (N, 1, H, W)
        t = labels.astype(np.int64)
        parts.append((x, t))
    return parts[0], parts[1]


# ---------------------------------------------------------------------------
# Toy regression data
# ---------------------------------------------------------------------------

#: Default parabola for the under/overfitting lesson, constant term first:
#: y = 0.2 - 0.5 x + 1.0 x^2.
QUADRATIC_COEFFICIENTS = (0.2, -0.5, 1.0)


def _check_coefficients(coefficients):
    try:
        array = np.asarray(coefficients)
    except Exception:  # ragged input and the like
        array = np.asarray(None)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise TypeError(
            f"coefficients must be three numbers (c0, c1, c2); got {coefficients!r}. "
            "Pass e.g. coefficients=(0.2, -0.5, 1.0)."
        )
    if array.shape != (3,) or not np.all(np.isfinite(array)):
        raise ValueError(
            f"coefficients must be three finite numbers (c0, c1, c2) for "
            f"c0 + c1*x + c2*x**2; got {coefficients!r}. "
            "Pass e.g. coefficients=(0.2, -0.5, 1.0)."
        )
    return array.astype(np.float64)


def quadratic_curve(x, coefficients=QUADRATIC_COEFFICIENTS):
    """The noiseless parabola ``c0 + c1 * x + c2 * x**2``.

    Parameters
    ----------
    x : array-like of any shape
        Points at which to evaluate.
    coefficients : sequence of 3 floats, default=(0.2, -0.5, 1.0)
        ``(c0, c1, c2)``, constant term first (the order used by
        :func:`tinynet.polynomial.fit_polynomial`).

    Returns
    -------
    y : ndarray of the same shape as ``x``
    """
    coefficients = _check_coefficients(coefficients)
    return predict_polynomial(coefficients, x)


def make_quadratic_data(
    n_samples=20,
    noise=0.1,
    x_range=(-1.0, 1.0),
    coefficients=QUADRATIC_COEFFICIENTS,
    seed=0,
):
    """Noisy samples of a parabola, for studying under- and overfitting.

    ``x`` is drawn uniformly from ``x_range`` and sorted; then
    ``y = c0 + c1 * x + c2 * x**2 + noise * e`` with ``e ~ N(0, 1)``.

    With the defaults a straight line underfits (mean squared error about
    0.1), a parabola fits to the noise level (about 0.01) and a degree-15
    polynomial through the 20 points overfits: near-zero training error and
    a huge error on fresh samples. Draw fresh samples with another seed::

        x, y = make_quadratic_data(seed=0)
        x_test, y_test = make_quadratic_data(n_samples=200, seed=1)

    Parameters
    ----------
    n_samples : int, default=20
        Number of points, ``>= 1``.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise, ``>= 0``.
    x_range : (float, float), default=(-1.0, 1.0)
        ``(low, high)`` with ``low < high``.
    coefficients : sequence of 3 floats, default=(0.2, -0.5, 1.0)
        ``(c0, c1, c2)``, constant term first.
    seed : int or numpy.random.Generator, default=0
        Source of randomness; the global ``np.random`` state is not used.

    Returns
    -------
    x : ndarray of shape (n_samples,)
        Sorted inputs.
    y : ndarray of shape (n_samples,)
        Noisy targets.
    """
    if isinstance(n_samples, (bool, np.bool_)) or not isinstance(n_samples, numbers.Integral):
        raise TypeError(
            f"n_samples must be a positive int; got {type(n_samples).__name__} "
            f"{n_samples!r}. Pass e.g. n_samples=20."
        )
    if n_samples < 1:
        raise ValueError(f"n_samples must be a positive int; got {n_samples}. "
                         "Pass e.g. n_samples=20.")
    if not _is_number(noise):
        raise TypeError(
            f"noise must be a number >= 0; got {type(noise).__name__} {noise!r}. "
            "Pass e.g. noise=0.1."
        )
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be a finite number >= 0; got {noise}. Pass e.g. noise=0.1.")
    if (
        isinstance(x_range, (str, bytes))
        or not hasattr(x_range, "__len__")
        or len(x_range) != 2
        or not all(_is_number(v) for v in x_range)
    ):
        raise TypeError(
            f"x_range must be a pair of numbers (low, high); got {x_range!r}. "
            "Pass e.g. x_range=(-1.0, 1.0)."
        )
    low, high = float(x_range[0]), float(x_range[1])
    if not (np.isfinite(low) and np.isfinite(high) and low < high):
        raise ValueError(
            f"x_range must be (low, high) with finite low < high; got {x_range!r}. "
            "Pass e.g. x_range=(-1.0, 1.0)."
        )
    coefficients = _check_coefficients(coefficients)
    rng = _check_seed(seed)

    x = np.sort(rng.uniform(low, high, size=n_samples))
    y = predict_polynomial(coefficients, x) + noise * rng.standard_normal(n_samples)
    return x, y
