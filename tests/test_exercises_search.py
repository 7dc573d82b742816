"""Tests for tinynet.exercises.search: right answers pass, wrong samplers fail with their hint."""

import numpy as np
import pytest

from tinynet.exercises import ExerciseFailed, ExerciseNotAttempted
from tinynet.exercises.search import check_log_uniform

# -- right answers, written as a student would ------------------------------------

def log_uniform(low, high, size, rng):
    return np.exp(rng.uniform(np.log(low), np.log(high), size))


def log_uniform_base_10(low, high, size, rng):
    return 10 ** rng.uniform(np.log10(low), np.log10(high), size)


def log_uniform_from_random(low, high, size, rng):
    return low * (high / low) ** rng.random(size)


def log_uniform_one_by_one(low, high, size, rng):
    shape = size if isinstance(size, tuple) else (size,)
    values = [np.exp(rng.uniform(np.log(low), np.log(high))) for _ in range(int(np.prod(shape)))]
    return np.array(values).reshape(shape)


@pytest.mark.parametrize("answer", [log_uniform, log_uniform_base_10, log_uniform_from_random,
                                    log_uniform_one_by_one], ids=lambda f: f.__name__)
@pytest.mark.parametrize("hidden", [False, True])
def test_right_answers_pass(answer, hidden, capsys):
    assert check_log_uniform(answer, hidden=hidden)
    cases = 7 if hidden else 6
    assert capsys.readouterr().out == f"{answer.__name__}: PASS ({cases} cases)\n"


def test_skeleton_is_not_attempted_yet(capsys, monkeypatch):
    def skeleton(low, high, size, rng):
        raise NotImplementedError()

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    verdict = check_log_uniform(skeleton)
    assert not verdict and not verdict.attempted
    assert "skeleton: not attempted yet" in capsys.readouterr().out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ExerciseNotAttempted, match="skeleton: not attempted yet"):
        check_log_uniform(skeleton, hidden=True)


# -- typical mistakes: each stays inside [low, high] on the first case ---------------

def uniform(low, high, size, rng):
    return rng.uniform(low, high, size)


def exp_of_log10(low, high, size, rng):
    return np.exp(rng.uniform(np.log10(low), np.log10(high), size))


def ten_to_ln(low, high, size, rng):
    return 10 ** rng.uniform(np.log(low), np.log(high), size)


def global_random(low, high, size, rng):
    return np.exp(np.random.default_rng(0).uniform(np.log(low), np.log(high), size))


def swapped_bounds(low, high, size, rng):
    return np.exp(rng.uniform(np.log(high), np.log(low), size))


def sorted_samples(low, high, size, rng):
    return np.sort(np.exp(rng.uniform(np.log(low), np.log(high), size)), axis=None)


@pytest.mark.parametrize("answer, match", [
    (uniform, "FAIL on case 1.*uniform on \\[low, high\\], not log-uniform"),
    (exp_of_log10, "FAIL on case 1.*np.log10.*np.exp: the bases differ"),
    (ten_to_ln, "FAIL on case 1.*10 \\*\\* u: the bases differ"),
    (global_random, "FAIL on case 1.*drew nothing from rng"),
    (swapped_bounds, "FAIL on case 1"),
    (sorted_samples, "FAIL on case 1.*Hint: Draw the exponent uniformly"),
])
@pytest.mark.parametrize("hidden", [False, True])
def test_wrong_answers_fail_with_a_reason(answer, match, hidden):
    if hidden:
        match = match.replace("case 1", "hidden case 1")
    with pytest.raises(ExerciseFailed, match=f"(?s)^{answer.__name__}: {match}"):
        check_log_uniform(answer, hidden=hidden)


def test_the_wrong_samplers_really_stay_in_range():
    """They are near misses: a range check alone would not catch them."""
    rng = np.random.default_rng(0)
    low, high = 1e-3, 1.0
    for wrong in (uniform, exp_of_log10, global_random, sorted_samples):
        x = wrong(low, high, 1000, rng)
        assert np.all((x >= low) & (x <= high)), wrong.__name__


def test_out_of_range_samples_are_named():
    def too_big(low, high, size, rng):
        return 2 * log_uniform(low, high, size, rng)

    with pytest.raises(ExerciseFailed, match="outside \\[low, high\\] = \\[0.001, 1\\]"):
        check_log_uniform(too_big)


def test_a_wrong_shape_is_reported():
    def flat(low, high, size, rng):
        return log_uniform(low, high, size, rng).ravel()[:1]

    with pytest.raises(ExerciseFailed, match="shape"):
        check_log_uniform(flat)


def test_passing_a_call_result_is_explained():
    with pytest.raises(ExerciseFailed, match="pass your function itself"):
        check_log_uniform(log_uniform(1e-3, 1.0, 3, np.random.default_rng(0)))


# -- the search loop ------------------------------------------------------------------

from tinynet.exercises.search import check_random_search, fake_scorer  # noqa: E402
from tinynet.search import log_uniform as package_log_uniform  # noqa: E402
from tinynet.search import random_search  # noqa: E402


def my_random_search(train_and_score, ranges, n_trials, rng):
    """A right answer, as the exercise states it."""
    values = {name: package_log_uniform(low, high, n_trials, rng)
              for name, (low, high) in ranges.items()}
    settings = [{name: float(values[name][i]) for name in ranges} for i in range(n_trials)]
    scores = np.array([train_and_score(**s) for s in settings])
    return settings, scores, int(np.nanargmax(scores))


def search_written_out(train_and_score, ranges, n_trials, rng):
    """A right answer written differently: its own sampler, appends, a ranking for the best."""
    columns = []
    for low, high in ranges.values():
        columns.append(np.exp(rng.uniform(np.log(low), np.log(high), size=n_trials)))
    settings, scores = [], []
    for i in range(n_trials):
        trial = dict(zip(ranges.keys(), (column[i] for column in columns), strict=True))
        settings.append(trial)
        scores.append(train_and_score(**trial))
    ranking = np.argsort(-np.nan_to_num(np.array(scores), nan=-np.inf), kind="stable")
    return settings, scores, ranking[0]


@pytest.mark.parametrize("answer", [my_random_search, search_written_out],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("hidden, cases", [(False, 3), (True, 6)], ids=["visible", "hidden"])
def test_right_search_loops_pass(answer, hidden, cases, capsys):
    assert check_random_search(answer, hidden=hidden)
    assert capsys.readouterr().out == f"{answer.__name__}: PASS ({cases} cases)\n"


def test_the_fake_scorer_is_smooth_deterministic_and_keyword_only():
    ranges = {"learning_rate": (1e-3, 1.0), "weight_decay": (1e-6, 1e-1)}
    score = fake_scorer(ranges, cliff=("learning_rate", 0.3))
    centre = {"learning_rate": 1e-3 ** 0.7, "weight_decay": 1e-6 ** 0.7 * 1e-1 ** 0.3}
    assert score(**centre) == pytest.approx(0.95, abs=1e-12)
    assert score(**centre) == score(**centre)
    off = dict(centre, learning_rate=centre["learning_rate"] * 10)    # one decade: z = 1/3
    assert score(**off) == pytest.approx(0.95 - 0.6 / 9, abs=1e-12)
    assert np.isnan(score(learning_rate=0.31, weight_decay=1e-4))
    with pytest.raises(TypeError, match=r"takes the keyword arguments learning_rate, "
                                        r"weight_decay; it got learning_rate"):
        score(learning_rate=0.1)
    with pytest.raises(TypeError):
        score(0.1, 1e-4)


def test_the_reference_is_the_package_search():
    ranges = {"learning_rate": (1e-3, 1.0), "weight_decay": (1e-6, 1e-1)}
    score = fake_scorer(ranges, cliff=("learning_rate", 0.3))
    settings, scores, best = my_random_search(score, ranges, 8, np.random.default_rng(0))
    package = random_search(score, ranges, 8, seed=0)
    assert settings == package.settings and best == package.best_index
    np.testing.assert_array_equal(scores, package.scores)
    assert np.isnan(scores).any() and int(np.argmax(scores)) != best  # the NaN trap is there


def with_draws(draw, order=None, per_trial=False):
    """A loop whose values come from ``draw(rng, low, high, n)``, in another order perhaps."""
    def student(train_and_score, ranges, n_trials, rng):
        names = order(list(ranges)) if order else list(ranges)
        if per_trial:
            values = {name: [] for name in names}
            for _ in range(n_trials):
                for name in names:
                    values[name].append(float(draw(rng, *ranges[name], None)))
        else:
            values = {name: draw(rng, *ranges[name], n_trials) for name in names}
        settings = [{name: float(values[name][i]) for name in ranges} for i in range(n_trials)]
        scores = np.array([train_and_score(**s) for s in settings])
        return settings, scores, int(np.nanargmax(scores))
    return student


def log_draw(rng, low, high, n):
    return np.exp(rng.uniform(np.log(low), np.log(high), n))


def uniform_draw(rng, low, high, n):
    return rng.uniform(low, high, n)


def best_by(choose):
    def student(train_and_score, ranges, n_trials, rng):
        settings, scores, _ = my_random_search(train_and_score, ranges, n_trials, rng)
        return settings, scores, choose(scores)
    return student


def one_draw_reused(train_and_score, ranges, n_trials, rng):
    values = {name: package_log_uniform(low, high, 1, rng)[0]
              for name, (low, high) in ranges.items()}
    settings = [dict(values) for _ in range(n_trials)]
    scores = np.array([train_and_score(**s) for s in settings])
    return settings, scores, 0


def one_trial_short(train_and_score, ranges, n_trials, rng):
    settings, scores, _ = my_random_search(train_and_score, ranges, n_trials, rng)
    return settings[1:], scores[1:], int(np.nanargmax(scores[1:]))


def one_trial_too_many(train_and_score, ranges, n_trials, rng):
    return my_random_search(train_and_score, ranges, n_trials + 1, rng)


def from_np_random(train_and_score, ranges, n_trials, rng):
    return my_random_search(train_and_score, ranges, n_trials, np.random.default_rng(99))


def best_score_not_index(train_and_score, ranges, n_trials, rng):
    settings, scores, best = my_random_search(train_and_score, ranges, n_trials, rng)
    return settings, scores, float(scores[best])


def positional_call(train_and_score, ranges, n_trials, rng):
    values = [package_log_uniform(low, high, n_trials, rng) for low, high in ranges.values()]
    scores = np.array([train_and_score(*(v[i] for v in values)) for i in range(n_trials)])
    return [], scores, 0


SEARCH_MISTAKES = [
    (with_draws(uniform_draw), 1, 1, r"drawn uniformly between low and high, not log-uniformly"),
    (with_draws(log_draw, per_trial=True), 1, 1, r"drawn trial by trial"),
    (with_draws(log_draw, order=sorted), 3, 5,
     r"you drew the settings in the order \['learning_rate', 'weight_decay'\]"),
    (with_draws(log_draw, order=lambda names: names[::-1]), 1, 1,
     r"you drew the settings in the order \['weight_decay', 'learning_rate'\]"),
    (best_by(np.nanargmin), 1, 1, r"your best trial has the LOWEST score"),
    (best_by(np.argmax), 1, 1,
     r"one whose score is NaN .*np.argmax takes NaN for the largest number"),
    (best_by(lambda scores: 1), 1, 1,
     r"result 3 \(best\) is 1; expected 3.*NaN scores left out"),
    (one_draw_reused, 1, 1, r"every trial has the same settings"),
    (one_trial_short, 1, 1, r"you ran 7 trials; n_trials is 8"),
    (one_trial_too_many, 1, 1, r"you ran 9 trials; n_trials is 8"),
    (from_np_random, 1, 1, r"drew nothing from rng"),
    (best_score_not_index, 1, 1, r"your best is the float 0\.875\d*; return the INDEX"),
    (positional_call, 1, 1, r"takes 0 positional arguments.*train_and_score\(\*\*settings\)"),
]


@pytest.mark.parametrize("student, visible, hidden_case, message", SEARCH_MISTAKES,
                         ids=[f"{k}-{m[0].__name__}" for k, m in enumerate(SEARCH_MISTAKES)])
@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_search_mistakes_are_named(student, visible, hidden_case, message, hidden):
    where = f"hidden case {hidden_case}" if hidden else f"case {visible}"
    if hidden:
        message = message.replace("7 trials; n_trials is 8", "19 trials; n_trials is 20")
        message = message.replace("9 trials; n_trials is 8", "21 trials; n_trials is 20")
        message = message.replace(r"0\.875", r"0\.948").replace("expected 3", "expected 11")
    with pytest.raises(ExerciseFailed,
                       match=f"(?s)^{student.__name__}: FAIL on {where} of .*{message}"):
        check_random_search(student, hidden=hidden)


def test_search_in_place_change_of_ranges_is_caught():
    def pops(train_and_score, ranges, n_trials, rng):
        result = my_random_search(train_and_score, dict(ranges), n_trials, rng)
        ranges.pop(next(iter(ranges)))
        return result

    with pytest.raises(ExerciseFailed, match=r"changed its argument `ranges` in place"):
        check_random_search(pops)


def test_search_float32_scores_fail():
    def float32(train_and_score, ranges, n_trials, rng):
        settings, scores, best = my_random_search(train_and_score, ranges, n_trials, rng)
        return settings, scores.astype(np.float32), best

    with pytest.raises(ExerciseFailed, match=r"(?s)^float32: FAIL on case 1 of .*float32"):
        check_random_search(float32)


def test_search_skeleton_is_not_attempted(capsys, monkeypatch):
    def skeleton(train_and_score, ranges, n_trials, rng):
        raise NotImplementedError()

    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    verdict = check_random_search(skeleton)
    assert not verdict and not verdict.attempted
    assert "skeleton: not attempted yet" in capsys.readouterr().out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ExerciseNotAttempted, match="skeleton: not attempted yet"):
        check_random_search(skeleton, hidden=True)
