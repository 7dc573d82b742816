"""tinynet.cache: off by default; exact, fresh results; read-only without a trace; safe keys."""

import dataclasses
import importlib.util
import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from tinynet import cache, experiments, search
from tinynet.datasets import load_digits_split
from tinynet.experiments import bumpy

CALLS = []
RESULT = {"rows": [1.0, 2.0]}


@cache.memoize
def fake_study(seeds, scale=1.0):
    """A study in miniature: deterministic, counts its calls."""
    CALLS.append(list(seeds))
    return {"seeds": list(seeds), "values": np.arange(len(seeds)) * scale}


@cache.memoize
def returns_shared():
    return RESULT


@cache.memoize
def apply(function, x):
    CALLS.append(x)
    return float(function(x))


@cache.memoize
def draws(rng, n=3):
    CALLS.append(n)
    return np.random.default_rng(rng).random(n)


@cache.memoize(call_through_if=("progress",))
def with_progress(n, progress=False):
    CALLS.append(n)
    return n


@cache.memoize
def keys_in_order(table):
    CALLS.append(table)
    return list(table)


@cache.memoize
def warns(x):
    CALLS.append(x)
    warnings.warn(f"diverged at {x}", RuntimeWarning, stacklevel=1)
    return x


_DIGITS = load_digits_split()
SMALL_SPLIT = type(_DIGITS)(_DIGITS.x_train[:64], _DIGITS.t_train[:64], _DIGITS.x_val[:30],
                            _DIGITS.t_val[:30], _DIGITS.x_test[:1], _DIGITS.t_test[:1])


def stored_files(folder):
    return sorted(p.name for p in folder.rglob("*") if p.is_file())


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    """A writable cache folder, switched on; the call counter emptied."""
    folder = tmp_path / "cache"
    monkeypatch.setenv(cache.CACHE_DIR_VARIABLE, str(folder))
    monkeypatch.delenv(cache.READ_ONLY_VARIABLE, raising=False)
    monkeypatch.setenv(cache.LOG_VARIABLE, str(tmp_path / "cache.log"))
    CALLS.clear()
    return folder


def log_events(tmp_path, function=None):
    """The logged events in order; only those of ``function`` (its full name) when given."""
    lines = [line.split() for line in (tmp_path / "cache.log").read_text().splitlines()]
    return [event for event, name, _ in lines if function in (None, name)]


def assert_identical(a, b, where="result"):
    """Equal bit for bit: same types, same dict order, arrays with equal dtype, shape, values."""
    assert type(a) is type(b), f"{where}: {type(a).__name__} != {type(b).__name__}"
    if isinstance(a, np.ndarray):
        assert a.dtype == b.dtype and a.shape == b.shape, where
        np.testing.assert_array_equal(a, b, err_msg=where, strict=True)
    elif isinstance(a, dict):
        assert list(a) == list(b), f"{where}: keys {list(a)} != {list(b)}"
        for key in a:
            assert_identical(a[key], b[key], f"{where}[{key!r}]")
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            assert_identical(x, y, f"{where}[{i}]")
    elif dataclasses.is_dataclass(a):
        assert_identical(vars(a), vars(b), where)
    elif isinstance(a, float) and np.isnan(a):
        assert np.isnan(b), where
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


# -- off by default ---------------------------------------------------------------------

def test_off_without_the_variable_calls_through_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv(cache.CACHE_DIR_VARIABLE, raising=False)
    monkeypatch.chdir(tmp_path)
    CALLS.clear()
    assert returns_shared() is RESULT  # the very object, not a copy
    fake_study([1, 2])
    fake_study([1, 2])
    assert CALLS == [[1, 2], [1, 2]]
    assert list(tmp_path.iterdir()) == []


def test_off_the_package_does_not_import_joblib(tmp_path):
    code = ("import sys, tinynet.experiments as e; e.activation_study(seeds=[0], n_samples=10); "
            "print('joblib' in sys.modules)")
    env = {k: v for k, v in os.environ.items() if not k.startswith("TINYNET_CACHE")}
    out = subprocess.run([sys.executable, "-c", code], env=env, cwd=tmp_path,
                         capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False", out.stdout + out.stderr


def test_memoize_rejects_an_unknown_argument_name():
    def study(seeds):
        return seeds

    with pytest.raises(TypeError, match=r"call_through_if names \['progress'\]"):
        cache.memoize(study, call_through_if=("progress",))


# -- on: exact and fresh results ----------------------------------------------------------

def test_a_second_call_is_read_back_as_a_fresh_copy(cache_dir, tmp_path):
    first = fake_study([3, 4], scale=2.0)
    second = fake_study([3, 4], scale=2.0)
    third = fake_study([3, 4], scale=2.0)
    assert CALLS == [[3, 4]]
    assert log_events(tmp_path) == ["stored", "hit", "hit"]
    assert_identical(first, second)
    assert second is not third and second["values"] is not third["values"]
    second["values"][0] = 99.0  # a caller changes what it got: the next hit is untouched
    assert third["values"][0] == 0.0 and fake_study([3, 4], scale=2.0)["values"][0] == 0.0


@pytest.mark.parametrize("study, arguments", [
    (experiments.activation_study, dict(seeds=[0, 1], n_layers=3, width=20, n_samples=50)),
    (experiments.weight_scale_study, dict(weight_stds=[1.0, 0.01], seeds=[0], epochs=2,
                                          hidden_sizes=(20, 20), learning_rate=0.5)),
    (experiments.init_training_study, dict(weight_stds=["he"], seeds=[0], epochs=1,
                                           hidden_sizes=(10,), data=load_digits_split())),
    (experiments._digits_run, dict(learning_rate=0.1, weight_decay=0.01, epochs=1,
                                   batch_size=32, train_size=64, seed=0, optimizer=None)),
    (experiments.seed_curves, dict(function=experiments.train_mlp_digits, seeds=[0, 1],
                                   epochs=2, hidden_sizes=(10,), train_size=50)),
    (experiments.scores_over_seeds, dict(train_and_score=experiments.digits_scorer(
        train_size=50, epochs=1), settings={"learning_rate": 0.1}, seeds=[0, 1])),
    (experiments.optimizer_curves, dict(learning_rates={"adam": 0.02, "sgd": 0.5},
                                        seeds=[0, 1], epochs=1, data=SMALL_SPLIT)),
    (search._trial_score, dict(x_train=SMALL_SPLIT.x_train, t_train=SMALL_SPLIT.t_train,
                               x_val=SMALL_SPLIT.x_val, t_val=SMALL_SPLIT.t_val,
                               learning_rate=0.1, weight_decay=1e-4, epochs=1, batch_size=32,
                               conv1_filters=8, conv2_filters=16, seed=3)),
])
def test_a_cached_study_equals_the_computed_one_bit_for_bit(cache_dir, tmp_path, monkeypatch,
                                                            study, arguments):
    monkeypatch.delenv(cache.CACHE_DIR_VARIABLE)
    plain = study(**arguments)
    monkeypatch.setenv(cache.CACHE_DIR_VARIABLE, str(cache_dir))
    stored = study(**arguments)
    loaded = study(**arguments)
    # only the study's own lines: a study may call cached functions (the scorer's trials)
    name = f"{study.__module__}.{study.__qualname__}"
    assert log_events(tmp_path, name) == ["stored", "hit"]
    assert_identical(plain, stored)
    assert_identical(plain, loaded)


def test_dict_order_is_part_of_the_key(cache_dir):
    assert keys_in_order({"a": 1, "b": 2}) == ["a", "b"]
    assert keys_in_order({"b": 2, "a": 1}) == ["b", "a"]
    assert len(CALLS) == 2


def test_warnings_of_the_computation_are_replayed_on_a_hit(cache_dir):
    for _ in range(2):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            assert warns(3) == 3
        assert [str(w.message) for w in caught] == ["diverged at 3"]
        assert caught[0].category is RuntimeWarning
    assert CALLS == [3]


# -- read-only ------------------------------------------------------------------------------

def check_read_only(folder, tmp_path, capsys):
    """With the cache filled by one call: a hit is read, a miss computed, nothing written."""
    before = stored_files(folder)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        hit = fake_study([5, 6])
        missed = fake_study([7, 8])
        missed_again = fake_study([7, 8])
    assert caught == []
    assert capsys.readouterr() == ("", "")
    assert CALLS == [[5, 6], [7, 8], [7, 8]]  # the fill, then the miss twice, not [5, 6] again
    np.testing.assert_array_equal(hit["values"], [0.0, 1.0])
    assert missed["seeds"] == missed_again["seeds"] == [7, 8]
    assert stored_files(folder) == before
    assert log_events(tmp_path)[-3:] == ["hit", "computed", "computed"]


def test_read_only_by_variable_reads_hits_and_writes_nothing(cache_dir, tmp_path, monkeypatch,
                                                            capsys):
    fake_study([5, 6])
    monkeypatch.setenv(cache.READ_ONLY_VARIABLE, "1")
    check_read_only(cache_dir, tmp_path, capsys)


def test_an_unwritable_folder_is_read_only(cache_dir, tmp_path, monkeypatch, capsys):
    fake_study([5, 6])
    # chmod does not stop root: make os.access report the folder as a read-only mount does
    real_access = os.access
    monkeypatch.setattr(os, "access", lambda path, mode, **kw: (
        False if mode == os.W_OK else real_access(path, mode, **kw)))
    check_read_only(cache_dir, tmp_path, capsys)


def test_a_folder_that_cannot_exist_computes_silently(tmp_path, monkeypatch, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(cache.CACHE_DIR_VARIABLE, str(blocker / "cache"))
    CALLS.clear()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert fake_study([1])["seeds"] == [1]
        assert fake_study([1])["seeds"] == [1]
    assert caught == [] and capsys.readouterr() == ("", "")
    assert CALLS == [[1], [1]]


def test_an_unreadable_entry_is_recomputed(cache_dir):
    fake_study([9])
    (entry,) = cache_dir.rglob("*.pkl")
    entry.write_bytes(b"truncated")
    assert fake_study([9])["seeds"] == [9]
    assert CALLS == [[9], [9]]


# -- keys ------------------------------------------------------------------------------------

def load_module(path, name, body):
    path.write_text(f"from tinynet import cache\n\n\n@cache.memoize\ndef study(x):\n{body}\n")
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_a_changed_function_source_misses(cache_dir, tmp_path):
    (tmp_path / "v1").mkdir()
    (tmp_path / "v2").mkdir()
    old = load_module(tmp_path / "v1" / "study_module.py", "study_module", "    return x + 1")
    new = load_module(tmp_path / "v2" / "study_module.py", "study_module", "    return x + 2")
    assert old.study(1) == 2 and old.study(1) == 2
    assert new.study(1) == 3
    assert log_events(tmp_path) == ["stored", "hit", "stored"]


def test_a_changed_package_misses(cache_dir, tmp_path, monkeypatch):
    fake_study([1])
    monkeypatch.setattr(cache, "package_fingerprint", lambda: "tinynet-edited")
    fake_study([1])
    assert CALLS == [[1], [1]]
    assert (cache_dir / "tinynet-edited").is_dir()


def test_the_fingerprint_changes_with_a_package_file(tmp_path, monkeypatch):
    package = tmp_path / "tinynet"
    package.mkdir()
    (package / "a.py").write_text("x = 1\n")
    monkeypatch.setattr(cache, "PACKAGE_DIR", package)
    cache.package_fingerprint.cache_clear()
    try:
        first = cache.package_fingerprint()
        (package / "a.py").write_text("x = 2\n")
        cache.package_fingerprint.cache_clear()
        assert cache.package_fingerprint() != first
    finally:
        cache.package_fingerprint.cache_clear()


# -- what is never cached ----------------------------------------------------------------------

def student_function(x):
    return x * 3


@pytest.mark.parametrize("function", [student_function, lambda x: x * 3, np.cos],
                         ids=["a test's function", "lambda", "numpy ufunc"])
def test_a_callable_that_is_not_the_packages_runs_uncached(cache_dir, tmp_path, function):
    apply(function, 2.0)
    apply(function, 2.0)
    assert CALLS == [2.0, 2.0]
    assert stored_files(cache_dir) == []
    assert log_events(tmp_path) == ["uncached", "uncached"]


def test_a_package_function_argument_is_cached(cache_dir):
    assert apply(bumpy, 2.0) == apply(bumpy, 2.0) == float(bumpy(2.0))
    assert CALLS == [2.0]


def test_a_package_class_with_a_replaced_method_runs_uncached(cache_dir, monkeypatch):
    scorer = experiments.digits_scorer(train_size=20, epochs=1)
    monkeypatch.setattr(type(scorer), "__call__", lambda self, **settings: 0.5)
    experiments.scores_over_seeds(scorer, {"learning_rate": 0.1}, [0])
    assert stored_files(cache_dir) == []


def test_a_scorer_with_a_replaced_fit_runs_uncached(cache_dir, tmp_path, monkeypatch):
    scorer = experiments.digits_scorer(train_size=20, epochs=1)
    fits = []

    def fit(self, learning_rate, weight_decay=0.0, seed=None):
        fits.append(learning_rate)
        return search._train_trial(**self._trial(learning_rate, weight_decay, seed))

    monkeypatch.setattr(search.ValidationScorer, "fit", fit)
    assert scorer(0.1) == scorer(0.1)
    assert fits == [0.1, 0.1]
    assert stored_files(cache_dir) == [] and not (tmp_path / "cache.log").exists()


def test_a_fake_scorer_runs_uncached_in_a_study_and_in_a_search(cache_dir, tmp_path):
    def fake(learning_rate, seed=0):
        CALLS.append(seed)
        return learning_rate + seed

    experiments.scores_over_seeds(fake, {"learning_rate": 0.1}, [0, 1])
    experiments.scores_over_seeds(fake, {"learning_rate": 0.1}, [0, 1])
    search.random_search(fake, {"learning_rate": (0.1, 1.0)}, 3, seed=0)
    assert CALLS == [0, 1, 0, 1, 0, 0, 0]
    assert stored_files(cache_dir) == []
    assert log_events(tmp_path) == ["uncached", "uncached"]


def test_a_generator_argument_runs_uncached(cache_dir):
    rng = np.random.default_rng(0)
    first = draws(rng)
    second = draws(rng)  # the generator moved on: other numbers
    assert not np.array_equal(first, second)
    assert draws(7).tolist() == draws(7).tolist()
    assert CALLS == [3, 3, 3]


def test_a_call_with_progress_runs_uncached(cache_dir):
    with_progress(1, progress=True)
    with_progress(1, progress=True)
    with_progress(1)
    with_progress(1)
    assert CALLS == [1, 1, 1]


def test_entries_lists_the_stored_results(cache_dir):
    fake_study([1])
    fake_study([2])
    rows = cache.entries(cache_dir)
    assert [name for name, _, _ in rows] == [f"{__name__}.fake_study"] * 2
    assert all(size > 0 for _, _, size in rows)


def test_stored_entries_are_readable_by_other_users(cache_dir):
    """Grading sandboxes read the cache as users of their own: entries are 0644, not 0600."""
    fake_study([5, 6])
    entries = [path for path in Path(cache_dir).rglob("*.pkl")]
    assert entries
    for path in entries:
        assert path.stat().st_mode & 0o777 == 0o644, oct(path.stat().st_mode)
