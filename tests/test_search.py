"""Tests for tinynet.search: log-uniform draws, random search, narrowing, the scorer."""

import math

import numpy as np
import pytest

from tinynet.datasets import Split
from tinynet.experiments import digits_split
from tinynet.search import SearchResult, ValidationScorer, log_uniform, random_search

RANGES = {"learning_rate": (1e-3, 1.0), "weight_decay": (1e-6, 1e-1)}


def peaked(learning_rate, weight_decay):
    """A fake validation score, best at learning_rate 0.1 and weight_decay 1e-4."""
    return 1.0 - 0.1 * (math.log10(learning_rate) + 1) ** 2 \
        - 0.01 * (math.log10(weight_decay) + 4) ** 2


# -- log_uniform ---------------------------------------------------------------

@pytest.mark.parametrize("low, high", [(1e-3, 1.0), (1e-6, 1e-1), (0.5, 2.0), (3.0, 3.0001),
                                       (1e-300, 1e300)])
def test_log_uniform_stays_in_range(low, high):
    x = log_uniform(low, high, 10_000, np.random.default_rng(0))
    assert x.shape == (10_000,) and x.dtype == np.float64
    assert np.all(x >= low) and np.all(x <= high)


def test_log_uniform_shape_from_a_tuple_and_zero_size():
    assert log_uniform(1e-3, 1.0, (4, 3), 0).shape == (4, 3)
    assert log_uniform(1e-3, 1.0, 0, 0).shape == (0,)


def uniformity_statistics(u):
    """Mean, Kolmogorov-Smirnov distance and per-third counts of u against Uniform(0, 1)."""
    n = len(u)
    s = np.sort(u)
    ks = max(np.max(np.arange(1, n + 1) / n - s), np.max(s - np.arange(n) / n))
    thirds = np.bincount(np.minimum((u * 3).astype(int), 2), minlength=3)
    return float(np.mean(u)), float(ks), thirds


def looks_uniform(u):
    """True when u passes three checks whose tolerances come from its size n.

    The mean of n Uniform(0, 1) draws has standard deviation sqrt(1/(12 n));
    the KS distance exceeds 1.95 / sqrt(n) with probability below 0.1 %; each
    third's count is Binomial(n, 1/3) with standard deviation sqrt(n 2/9).
    Mean and counts are allowed 4 standard deviations.
    """
    n = len(u)
    mean, ks, thirds = uniformity_statistics(u)
    return (abs(mean - 0.5) < 4 * math.sqrt(1 / (12 * n))
            and ks < 1.95 / math.sqrt(n)
            and np.all(np.abs(thirds - n / 3) < 4 * math.sqrt(n * 2 / 9)))


@pytest.mark.parametrize("low, high, seed", [(1e-3, 1.0, 0), (1e-6, 1e-1, 1), (2.0, 50.0, 2)])
def test_log_uniform_logs_are_uniform(low, high, seed):
    x = log_uniform(low, high, 20_000, np.random.default_rng(seed))
    u = (np.log(x) - np.log(low)) / (np.log(high) - np.log(low))  # Uniform(0, 1) if right
    assert looks_uniform(u)
    # each decade of 1e-3..1 gets a third of the samples, not 0.9 % / 9 % / 90 %
    if (low, high) == (1e-3, 1.0):
        assert abs(np.mean(x < 1e-2) - 1 / 3) < 4 * math.sqrt(2 / 9 / len(x))


def test_the_uniformity_check_rejects_near_misses():
    """The statistical test has teeth: samplers that stay in range but are wrong fail it."""
    low, high, n = 1e-3, 1.0, 20_000
    rng = np.random.default_rng(0)
    wrong = {
        "uniform": rng.uniform(low, high, n),
        "exp of log10 bounds": np.exp(rng.uniform(np.log10(low), np.log10(high), n)),
        "square-root warp": np.exp(np.log(low) + np.log(high / low) * rng.uniform(0, 1, n) ** 0.9),
    }
    for name, x in wrong.items():
        assert np.all((x >= low) & (x <= high)), name
        u = (np.log(x) - np.log(low)) / (np.log(high) - np.log(low))
        assert not looks_uniform(u), name


def test_log_uniform_seeds_reproduce():
    a = log_uniform(1e-3, 1.0, 50, 7)
    b = log_uniform(1e-3, 1.0, 50, np.random.default_rng(7))
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, log_uniform(1e-3, 1.0, 50, 8))


def test_log_uniform_uses_the_generator_it_is_given():
    rng = np.random.default_rng(3)
    first, second = log_uniform(1e-3, 1.0, 5, rng), log_uniform(1e-3, 1.0, 5, rng)
    assert not np.array_equal(first, second)  # the generator advanced


@pytest.mark.parametrize("args, error, match", [
    ((0.0, 1.0, 3, 0), ValueError, "low end must be > 0"),
    ((-1e-3, 1.0, 3, 0), ValueError, "low end must be > 0"),
    ((1.0, 1e-3, 3, 0), ValueError, "high end must be larger.*low=1, high=0.001"),
    ((1.0, 1.0, 3, 0), ValueError, "high end must be larger"),
    ((1e-3, np.inf, 3, 0), ValueError, "^high must be finite"),
    (("0.001", 1.0, 3, 0), TypeError, "^low must be a real number"),
    ((1e-3, 1.0, 2.5, 0), TypeError, "size must be an integer"),
    ((1e-3, 1.0, -1, 0), ValueError, "size must be an integer >= 0"),
    ((1e-3, 1.0, 3, "seed"), TypeError, "rng must be an integer"),
])
def test_log_uniform_bad_inputs(args, error, match):
    with pytest.raises(error, match=match):
        log_uniform(*args)


# -- random_search ---------------------------------------------------------------

def test_random_search_calls_the_scorer_with_the_settings_by_name():
    calls = []

    def scorer(**settings):
        calls.append(settings)
        return 0.5

    result = random_search(scorer, RANGES, 7, seed=0)
    assert len(calls) == 7 and calls == result.settings
    assert all(set(c) == set(RANGES) for c in calls)
    for name, (low, high) in RANGES.items():
        values = result.values(name)
        assert np.all((values >= low) & (values <= high))
    assert result.n_trials == 7 and result.names == tuple(RANGES) and result.seed == 0


def test_random_search_draws_log_uniformly_from_its_seed():
    result = random_search(peaked, RANGES, 5, seed=4)
    rng = np.random.default_rng(4)
    np.testing.assert_array_equal(result.values("learning_rate"), log_uniform(1e-3, 1.0, 5, rng))
    np.testing.assert_array_equal(result.values("weight_decay"), log_uniform(1e-6, 1e-1, 5, rng))


def test_random_search_seeds_reproduce_whatever_the_scorer():
    a = random_search(peaked, RANGES, 20, seed=3)
    b = random_search(lambda **s: 0.0, RANGES, 20, seed=3)  # settings drawn before any trial
    assert a.settings == b.settings
    np.testing.assert_array_equal(a.scores, random_search(peaked, RANGES, 20, seed=3).scores)
    assert a.settings != random_search(peaked, RANGES, 20, seed=5).settings


def test_best_settings_are_those_of_the_highest_score():
    result = random_search(peaked, RANGES, 40, seed=0)
    i = int(np.argmax(result.scores))
    assert result.best_index == i and result.best_settings == result.settings[i]
    assert result.best_score == result.scores.max()
    ranked = result.scores[result.ranking()]
    assert np.all(np.diff(ranked) <= 0)
    assert "1. learning_rate" in result.table(3) and len(result.table(3).splitlines()) == 3


@pytest.mark.parametrize("top, widen", [(1, 2.0), (5, 2.0), (5, 1.01), (10, 3.0), (100, 2.0)])
def test_narrowed_ranges_contain_the_best_trials(top, widen):
    result = random_search(peaked, RANGES, 40, seed=1)
    ranges = result.narrowed(top=top, widen=widen)
    best = result.top(top)
    for name, (low, high) in ranges.items():
        values = result.values(name)[best]
        assert np.all((values >= low) & (values <= high)), name
        wide_low, wide_high = RANGES[name]
        assert wide_low <= low < high <= wide_high
        # the ends are the extreme best values moved out by the factor widen (unless clipped)
        assert low == pytest.approx(max(wide_low, values.min() / widen), rel=1e-12)
        assert high == pytest.approx(min(wide_high, values.max() * widen), rel=1e-12)


def test_narrowing_zooms_in_on_the_peak():
    first = random_search(peaked, RANGES, 40, seed=2)
    ranges = first.narrowed(top=5)
    width = {n: math.log10(high / low) for n, (low, high) in ranges.items()}
    assert width["learning_rate"] < 3 and 1e-3 < ranges["learning_rate"][0] < 0.1 \
        < ranges["learning_rate"][1]
    second = random_search(peaked, ranges, 40, seed=3)
    assert np.median(second.scores) > np.median(first.scores)


def test_failed_trials_rank_last_and_never_win():
    def sometimes_nan(learning_rate, weight_decay):
        return float("nan") if learning_rate > 0.1 else peaked(learning_rate, weight_decay)

    result = random_search(sometimes_nan, RANGES, 30, seed=0)
    failed = np.isnan(result.scores)
    assert 0 < result.n_failed == failed.sum() < 30
    assert not failed[result.ranking()[:30 - result.n_failed]].any()
    assert result.best_settings["learning_rate"] <= 0.1
    assert len(result.top(100)) == 30 - result.n_failed
    all_failed = random_search(lambda **s: float("nan"), RANGES, 3)
    with pytest.raises(ValueError, match="every trial failed"):
        _ = all_failed.best_settings


def test_progress_bar_counts_trials(capsys):
    random_search(peaked, RANGES, 4, seed=0, progress=True)
    err = capsys.readouterr().err
    assert "search" in err and "4/4" in err and "trial" in err


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(train_and_score=None), TypeError, "train_and_score must be a function"),
    (dict(ranges=[(1e-3, 1.0)]), TypeError, "ranges must be a dict"),
    (dict(ranges={}), ValueError, "ranges is empty"),
    (dict(ranges={"learning_rate": (0, 1.0)}), ValueError,
     r"ranges\['learning_rate'\]: the low end must be > 0"),
    (dict(ranges={"learning_rate": (1.0, 0.1)}), ValueError, "high end must be larger"),
    (dict(ranges={"learning_rate": (1e-3, np.nan)}), ValueError,
     r"ranges\['learning_rate'\] high must be finite"),
    (dict(ranges={"learning_rate": (1e-3, 1.0, 2.0)}), ValueError, "must be a pair"),
    (dict(ranges={"learning rate": (1e-3, 1.0)}), TypeError, "keyword-argument name"),
    (dict(n_trials=0), ValueError, "n_trials must be an integer >= 1"),
    (dict(n_trials=2.0), TypeError, "n_trials must be an integer"),
    (dict(seed=-1), ValueError, "seed must be an integer >= 0"),
    (dict(train_and_score=lambda **s: "0.9"), TypeError,
     "must return a number.*trial 0.*returned the string '0.9'"),
    (dict(train_and_score=lambda **s: None), TypeError, "must return a number"),
])
def test_random_search_bad_inputs(kwargs, error, match):
    arguments = dict(train_and_score=peaked, ranges=RANGES, n_trials=3, seed=0)
    arguments.update(kwargs)
    with pytest.raises(error, match=match):
        random_search(**arguments)


@pytest.mark.parametrize("call, error, match", [
    (lambda r: r.narrowed(top=0), ValueError, "top must be an integer >= 1"),
    (lambda r: r.narrowed(widen=1.0), ValueError, "widen must be"),
    (lambda r: r.values("momentum"), KeyError, "no setting 'momentum'"),
])
def test_result_bad_inputs(call, error, match):
    result = random_search(peaked, RANGES, 5, seed=0)
    with pytest.raises(error, match=match):
        call(result)


# -- the scorer never sees the test set --------------------------------------------

@pytest.fixture(scope="module")
def split():
    return digits_split(0)


class PoisonedSplit:
    """A split whose test part raises on any access."""

    def __init__(self, split):
        self.x_train, self.t_train = split.x_train, split.t_train
        self.x_val, self.t_val = split.x_val, split.t_val

    @property
    def x_test(self):
        raise AssertionError("the scorer read x_test")

    @property
    def t_test(self):
        raise AssertionError("the scorer read t_test")


def test_scorer_never_reads_the_test_part(split):
    scorer = ValidationScorer.from_split(PoisonedSplit(split), train_size=60, epochs=1)
    result = random_search(scorer, RANGES, 2, seed=0)
    assert np.all((result.scores >= 0) & (result.scores <= 1))


def test_scores_do_not_depend_on_the_test_set(split):
    garbage = Split(split.x_train, split.t_train, split.x_val, split.t_val,
                    np.full_like(split.x_test, np.nan), np.zeros_like(split.t_test) - 1)
    clean = ValidationScorer.from_split(split, train_size=60, epochs=1)
    dirty = ValidationScorer.from_split(garbage, train_size=60, epochs=1)
    assert clean(0.1, 1e-4) == dirty(0.1, 1e-4)


def test_scorer_is_the_validation_accuracy_of_a_seeded_run(split):
    scorer = ValidationScorer.from_split(split, train_size=80, epochs=2, seed=3)
    net, history = scorer.fit(0.1, 1e-4)
    assert scorer(0.1, 1e-4) == history.val_accuracy[-1] == net.accuracy(split.x_val,
                                                                          split.t_val)
    assert len(history.epoch) == 3 and len(history.val_accuracy) == 3
    assert scorer(0.1, 1e-4, seed=4) != scorer(0.1, 1e-4)  # the seed changes the run
    assert "80 training and 359 validation images" in repr(scorer)


def test_a_diverging_trial_scores_nan_without_a_warning(split, recwarn):
    scorer = ValidationScorer.from_split(split, train_size=40, epochs=1)
    assert math.isnan(scorer(100.0, 0.0))
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(epochs=0), ValueError, "epochs must be an integer >= 1"),
    (dict(train_size=0), ValueError, "train_size must be an integer >= 1"),
    (dict(seed=1.5), TypeError, "seed must be an integer"),
])
def test_scorer_bad_inputs(split, kwargs, error, match):
    with pytest.raises(error, match=match):
        ValidationScorer.from_split(split, **kwargs)


def test_scorer_bad_settings(split):
    scorer = ValidationScorer.from_split(split, train_size=20, epochs=1)
    with pytest.raises(ValueError, match="learning_rate must be"):
        scorer(-0.1, 0.0)
    with pytest.raises(TypeError, match="weight_decay must be a real number"):
        scorer(0.1, "1e-4")


def test_search_result_is_a_plain_record():
    result = SearchResult(ranges={"a": (1.0, 2.0)}, settings=[{"a": 1.5}], scores=np.array([0.3]))
    assert result.best_settings == {"a": 1.5} and result.narrowed(1) == {"a": (1.0, 2.0)}


# -- the scorer's trials in the grading cache (tinynet.cache) ----------------------------

@pytest.fixture
def cache_on(tmp_path, monkeypatch):
    """Turns the cache on in a fresh folder; returns a function giving the logged events."""
    from tinynet import cache

    monkeypatch.setenv(cache.CACHE_DIR_VARIABLE, str(tmp_path / "cache"))
    monkeypatch.delenv(cache.READ_ONLY_VARIABLE, raising=False)
    monkeypatch.setenv(cache.LOG_VARIABLE, str(tmp_path / "cache.log"))

    def events():
        log = tmp_path / "cache.log"
        return [line.split()[:2] for line in log.read_text().splitlines()] if log.exists() else []

    return events


def test_the_scorers_trials_are_cached_and_equal_the_computed_ones(split, cache_on,
                                                                   monkeypatch):
    from tinynet import cache

    scorer = ValidationScorer.from_split(split, train_size=60, epochs=1)
    stored = random_search(scorer, RANGES, 3, seed=2)
    loaded = random_search(scorer, RANGES, 3, seed=2)
    name = "tinynet.search._trial_score"
    assert cache_on() == [["stored", name]] * 3 + [["hit", name]] * 3
    monkeypatch.delenv(cache.CACHE_DIR_VARIABLE)
    plain = random_search(scorer, RANGES, 3, seed=2)
    for result in (stored, loaded):  # the same draws and the same scores, bit for bit
        assert result.settings == plain.settings
        np.testing.assert_array_equal(result.scores, plain.scores, strict=True)
    assert scorer(0.1, 1e-4, seed=4) == scorer.fit(0.1, 1e-4, seed=4)[1].val_accuracy[-1]


def test_a_scorer_that_is_not_the_packages_is_never_cached(split, cache_on):
    calls = []

    def fake(learning_rate, weight_decay):
        calls.append((learning_rate, weight_decay))
        return peaked(learning_rate, weight_decay)

    class Noisier(ValidationScorer):  # a subclass trains through its own fit
        def fit(self, learning_rate, weight_decay=0.0, seed=None):
            calls.append(learning_rate)
            return super().fit(learning_rate / 2, weight_decay, seed)

    first = random_search(fake, RANGES, 4, seed=0)
    second = random_search(fake, RANGES, 4, seed=0)
    assert len(calls) == 8 and second.settings == first.settings
    plain = ValidationScorer.from_split(split, train_size=60, epochs=1)
    subclass = Noisier.from_split(split, train_size=60, epochs=1)
    assert subclass(0.2, 1e-4) == subclass(0.2, 1e-4) == plain(0.1, 1e-4)
    assert len(calls) == 10
    replaced = ValidationScorer.from_split(split, train_size=60, epochs=1)
    replaced.fit = lambda *args: calls.append(args) or subclass.fit(*args)
    assert replaced(0.2, 1e-4) == plain(0.1, 1e-4)
    assert cache_on() == [["stored", "tinynet.search._trial_score"],
                          ["hit", "tinynet.search._trial_score"]]
