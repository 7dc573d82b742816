"""Results of the slow studies kept on disk, for grading: off unless ``TINYNET_CACHE_DIR`` is set.

The studies over seeds (notebooks 08-13) train dozens of small networks and
take most of a notebook's run time. They are deterministic functions of
their arguments (every seed is an argument), so a grading run can compute
them once and let every student's notebook read them back::

    @cache.memoize
    def weight_scale_study(weight_stds, seeds=range(5), batchnorm=False, ...):
        ...

Environment variables
---------------------
``TINYNET_CACHE_DIR``
    A folder for the stored results. Unset or empty (the default): the
    decorated functions run exactly as if undecorated (same objects, no file
    read or written, joblib not imported).
``TINYNET_CACHE_READONLY``
    ``1`` (or ``true``, ``yes``): only read. A stored result is returned; a
    missing one is computed and returned, nothing is written. The same
    happens silently when the folder is not writable (a read-only mount).
``TINYNET_CACHE_LOG``
    A file that gets one line per decorated call: ``hit``, ``stored``,
    ``computed`` (a miss not stored: read-only), ``unstored`` (writing
    failed) or ``uncached`` (an argument kept the call out of the cache),
    the function and the key. For checking that a warm cache serves every call.

Filling the cache
-----------------
Run the complete notebooks once with ``TINYNET_CACHE_DIR`` naming a writable
folder (and the same ``OPENBLAS_NUM_THREADS`` as the later runs): every
decorated call they make is stored. Later runs with the folder mounted
read-only, or with ``TINYNET_CACHE_READONLY=1``, read them back;
:func:`entries` lists what is stored.

What is cached, and what never is
---------------------------------
* The key is a hash (:func:`joblib.hash`) of the function's source and of
  its arguments, defaults filled in, dicts in their order; the entries sit
  in a folder named after a hash of every file of the package (sources and
  data), numpy's and Python's versions. An edited function, or any edit to
  the package, therefore misses and recomputes: no stale result is served.
* Only plain data is accepted as an argument: ``None``, numbers, strings,
  numpy arrays and scalars (not of object dtype), ``range``, and tuples,
  lists and dicts of these; frozen dataclasses of the package (such as
  :class:`tinynet.datasets.Split`); functions of the package (module-level,
  defined in its files); and instances of the classes a function lists in
  ``pure_types``. Anything else, a student's function, a lambda, a
  ``numpy.random.Generator`` (its state would not advance), an optimizer
  object (it would keep its state), makes the call run uncached.
* The decorated function must have no effect but its return value (and
  warnings, which are recorded and replayed on every hit): no drawing, no
  printing, no change to its arguments. ``call_through_if`` names arguments
  (a progress bar, a callback) that, when set, make a call run uncached.
* A hit unpickles a fresh copy every time, equal bit for bit to the
  computed result (arrays, dicts, dataclasses, shared references alike), so
  a caller may change what it gets back. Entries are written with
  :mod:`pickle` by the grading process: never point ``TINYNET_CACHE_DIR``
  of a trusted process at a folder someone else can write.

Why not ``joblib.Memory`` itself: on a read-only folder it fails (it
writes the function's code next to the results, and a ``.gitignore``, and
raises ``OSError`` for a function it has not seen), it warns when it cannot
write, it clears a function's results when the function changes, and its
storage splits arrays that the result shares (a network's ``params`` and
its layers' weights). This module keeps joblib's hashing and stores with
:mod:`pickle`, which keeps shared references.
"""

import dataclasses
import functools
import hashlib
import inspect
import os
import pickle
import platform
import sys
import tempfile
import types
import warnings
from pathlib import Path

import numpy as np

CACHE_DIR_VARIABLE = "TINYNET_CACHE_DIR"
READ_ONLY_VARIABLE = "TINYNET_CACHE_READONLY"
LOG_VARIABLE = "TINYNET_CACHE_LOG"

PACKAGE_DIR = Path(__file__).resolve().parent
_SCALARS = (type(None), bool, int, float, complex, str, bytes, range)
_MAX_DEPTH = 20
# per source file, what warnings.warn would have remembered of the replayed warnings
_REPLAY_REGISTRIES = {}


class _Uncacheable(Exception):
    """An argument that is not plain data: the call runs uncached."""


def memoize(func=None, *, call_through_if=(), pure_types=()):
    """Decorate a deterministic function so that its results are stored in ``TINYNET_CACHE_DIR``.

    Parameters
    ----------
    func : function
        A module-level function of the package whose only effect is its
        return value (warnings aside), fully determined by its arguments.
    call_through_if : tuple of str
        Names of arguments with side effects (``"progress"``,
        ``"callback"``), the function's own or passed through its
        ``**kwargs``: a call where one of them is set (not ``None`` or
        ``False``) runs uncached.
    pure_types : tuple of type
        Package classes whose instances may be arguments (their attributes
        are hashed; their methods must be the package's): the function must
        neither change them nor depend on anything but their attributes.

    Returns
    -------
    function
        With the same name, signature and docstring; ``__wrapped__`` is
        ``func``.

    Examples
    --------
    ::

        @memoize(call_through_if=("progress",))
        def study(seeds, epochs=10, progress=False):
            ...
    """
    if func is None:
        return functools.partial(memoize, call_through_if=tuple(call_through_if),
                                 pure_types=tuple(pure_types))
    signature = inspect.signature(func)
    var_keyword = [p.name for p in signature.parameters.values() if p.kind is p.VAR_KEYWORD]
    unknown = [name for name in call_through_if if name not in signature.parameters]
    if unknown and not var_keyword:
        raise TypeError(f"call_through_if names {unknown}, which are not arguments of "
                        f"{func.__qualname__}{signature}.")

    @functools.wraps(func)
    def cached(*args, **kwargs):
        folder = os.environ.get(CACHE_DIR_VARIABLE)
        if not folder:
            return func(*args, **kwargs)
        return _call(func, signature, var_keyword, folder, args, kwargs, call_through_if,
                     pure_types)

    return cached


def entries(cache_dir=None):
    """What the cache holds: ``[(function, key, bytes), ...]``, sorted.

    Only the entries of the current package (its fingerprint folder) are
    listed. ``cache_dir`` defaults to ``TINYNET_CACHE_DIR``.
    """
    cache_dir = cache_dir or os.environ.get(CACHE_DIR_VARIABLE)
    if not cache_dir:
        raise ValueError(f"entries() needs a folder: pass cache_dir=... or set "
                         f"{CACHE_DIR_VARIABLE}.")
    root = Path(cache_dir) / package_fingerprint()
    return sorted((path.parent.name, path.stem, path.stat().st_size)
                  for path in root.glob("*/*.pkl"))


@functools.cache
def package_fingerprint():
    """``"tinynet-<hash>"``: every file of the package, numpy's and Python's versions.

    Read once per process, on the first cached call.
    """
    digest = hashlib.sha256()
    for path in sorted(PACKAGE_DIR.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            digest.update(path.relative_to(PACKAGE_DIR).as_posix().encode() + b"\0")
            digest.update(path.read_bytes() + b"\0")
    digest.update(f"numpy {np.__version__}; python {sys.version}; {platform.machine()}"
                  .encode())
    return f"tinynet-{digest.hexdigest()[:20]}"


# ---------------------------------------------------------------------------
# One call
# ---------------------------------------------------------------------------

def _call(func, signature, var_keyword, folder, args, kwargs, call_through_if, pure_types):
    name = f"{func.__module__}.{func.__qualname__}"
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return func(*args, **kwargs)  # the function's own error message
    bound.apply_defaults()
    try:
        extra = bound.arguments[var_keyword[0]] if var_keyword else {}
        if any(_is_set(bound.arguments.get(n, extra.get(n))) for n in call_through_if):
            raise _Uncacheable
        normalized = tuple((n, _normalize(v, pure_types, 0)) for n, v in bound.arguments.items())
        source = _source(func.__code__)
    except (_Uncacheable, OSError, TypeError):
        _log("uncached", name, "-")
        return func(*args, **kwargs)

    import joblib  # only here: an unused cache costs no import

    key = joblib.hash((source, normalized))
    path = Path(folder) / package_fingerprint() / name / f"{key}.pkl"
    entry = _load(path)
    if entry is not None:
        result, caught = entry
        _log("hit", name, key)
        _replay(caught)
        return result
    recorded = []
    try:
        with warnings.catch_warnings(record=True) as recorded:
            warnings.simplefilter("always")  # record all; the caller's filters apply on replay
            result = func(*args, **kwargs)
    except BaseException:
        _replay(_described(recorded))
        raise
    caught = _described(recorded)
    if _read_only(folder):
        _log("computed", name, key)
    else:
        _log("stored" if _store(path, (result, caught)) else "unstored", name, key)
    _replay(caught)  # after storing: a hit replays the same, even where a warning raises
    return result


@functools.lru_cache(maxsize=256)
def _source(code):
    """The source of a function (its code object): part of the key."""
    return inspect.getsource(code)


def _described(recorded):
    return [(w.category, str(w.message), w.filename, w.lineno) for w in recorded]


def _is_set(value):
    return value is not None and value is not False


def _normalize(value, pure_types, depth):
    """``value`` as plain data to hash (dicts as ordered pairs); raise _Uncacheable if it is not."""
    if depth > _MAX_DEPTH:
        raise _Uncacheable
    kind = type(value)
    if kind in _SCALARS:
        return value
    if kind is np.ndarray or isinstance(value, np.generic):
        if value.dtype.hasobject:
            raise _Uncacheable
        return value
    if kind in (tuple, list):
        return (kind.__name__, tuple(_normalize(v, pure_types, depth + 1) for v in value))
    if kind is dict:
        # joblib.hash sorts a dict's keys; the order can matter (it orders a study's rows)
        return ("dict", tuple((_normalize(k, pure_types, depth + 1),
                               _normalize(v, pure_types, depth + 1)) for k, v in value.items()))
    if isinstance(value, types.FunctionType):
        if not _is_package_function(value):
            raise _Uncacheable
        return ("function", value.__module__, value.__qualname__)
    if _is_package_class(kind):
        if dataclasses.is_dataclass(kind) and kind.__dataclass_params__.frozen:
            fields = {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
        elif kind in pure_types and _methods_are_package_code(kind):
            fields = vars(value)
        else:
            raise _Uncacheable
        return ("object", kind.__module__, kind.__qualname__,
                _normalize(dict(fields), pure_types, depth + 1))
    raise _Uncacheable


def _resolves_to(obj):
    """Whether ``obj`` is what its module and qualified name name (not a copy, not local)."""
    module = getattr(obj, "__module__", None) or ""
    if module != "tinynet" and not module.startswith("tinynet."):
        return False
    found = sys.modules.get(module)
    for part in obj.__qualname__.split("."):
        found = getattr(found, part, None)
    return found is obj


@functools.lru_cache(maxsize=256)
def _in_package(filename):
    try:
        return Path(filename).resolve().is_relative_to(PACKAGE_DIR)
    except (OSError, ValueError):
        return False


def _is_package_function(func):
    """A module-level function of the package (a decorated one: its wrapped function too)."""
    if not _resolves_to(func):
        return False
    while func is not None:
        if not isinstance(func, types.FunctionType) or not _in_package(func.__code__.co_filename):
            return False
        func = getattr(func, "__wrapped__", None)
    return True


def _is_package_class(kind):
    return isinstance(kind, type) and _resolves_to(kind)


def _methods_are_package_code(kind):
    """No method of ``kind`` (or its package bases) replaced by a function from elsewhere."""
    for klass in kind.__mro__:
        if klass is object:
            continue
        for attribute in vars(klass).values():
            function = getattr(attribute, "__func__", attribute)  # classmethod, staticmethod
            if isinstance(function, types.FunctionType) and not _in_package(
                    function.__code__.co_filename):
                return False
    return True


# ---------------------------------------------------------------------------
# Files
# ---------------------------------------------------------------------------

def _read_only(folder):
    if os.environ.get(READ_ONLY_VARIABLE, "").strip().lower() in ("1", "true", "yes"):
        return True
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError:
        return True
    return not os.access(folder, os.W_OK)


def _load(path):
    """The stored ``(result, warnings)``; None if absent or unreadable (then recomputed)."""
    try:
        with open(path, "rb") as file, warnings.catch_warnings():
            warnings.simplefilter("ignore")
            entry = pickle.load(file)
    except Exception:  # absent, truncated, or written by another numpy: recompute
        return None
    if not (isinstance(entry, tuple) and len(entry) == 2 and isinstance(entry[1], list)):
        return None
    return entry


def _store(path, entry):
    """Write ``entry`` atomically (a reader never sees half a file); False if that failed."""
    temporary = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "wb") as file:
            pickle.dump(entry, file, protocol=pickle.HIGHEST_PROTOCOL)
        # mkstemp makes the file owner-only; the readers may be other users (the
        # grading sandboxes run each student as a user of their own)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
        return True
    except Exception:  # a read-only or full disk, an unpicklable result: stay uncached
        if temporary is not None:
            try:
                os.remove(temporary)
            except OSError:
                pass
        return False


def _replay(caught):
    for category, message, filename, lineno in caught:
        warnings.warn_explicit(message, category, filename, lineno,
                               registry=_REPLAY_REGISTRIES.setdefault(filename, {}))


def _log(event, name, key):
    log = os.environ.get(LOG_VARIABLE)
    if not log:
        return
    try:
        with open(log, "a", encoding="utf-8") as file:
            file.write(f"{event} {name} {key}\n")
    except OSError:
        pass
