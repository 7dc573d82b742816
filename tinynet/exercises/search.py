"""Checkers for the exercises of notebook 13 (hyperparameter search).

=================================  ===========================================
notebook                           checkers
=================================  ===========================================
``13_hyperparameter_search``       :func:`check_log_uniform`,
                                   :func:`check_random_search`
=================================  ===========================================

Both compare the student's draws with the package's given generators in the
same state, so the student must draw exactly as :mod:`tinynet.search` does.
The search loop is checked with :func:`fake_scorer`, a smooth function of the
settings standing in for training, so its cases run instantly.
"""

import numpy as np

from ..search import log_uniform, random_search
from . import Case, _copy, _Mistake, case_seed, check_function

__all__ = ["check_log_uniform", "check_random_search", "fake_scorer"]

# (low, high, size, seed): a learning-rate range, a weight-decay range, ranges
# above 1 and across 1, a narrow range, one sample and a 2-D shape.
_CASES = [(1e-3, 1.0, 8, 0), (1e-6, 1e-1, 6, 1), (0.5, 20.0, 5, 2), (2.0, 3.0, 4, 3),
          (1e-4, 1e2, 1, 4), (1e-2, 10.0, (2, 3), 5)]
_HIDDEN_CASES = [(1e-5, 1e-2, 9, 10), (3.0, 300.0, 7, 11), (1e-8, 1.0, (3, 2), 12),
                 (0.9, 1.1, 5, 13), (1e-3, 1e3, 12, 14), (5e-4, 0.5, 1, 15),
                 (1e-12, 1e-9, 4, 16)]

_HINT = ("Draw the exponent uniformly, u = rng.uniform(np.log(low), np.log(high), size), "
         "then return np.exp(u). Use the rng you are given (not np.random), one call "
         "with size, and the same logarithm both ways (np.log with np.exp, or np.log10 "
         "with 10 ** u).")


def _reference(low, high, size, rng):
    return log_uniform(low, high, size, rng)


def _mistake_in(received, low, high, size, before, after):
    """A message for the typical wrong samplers, or None (the general comparison follows).

    ``before`` is a copy of the generator as the student got it, ``after`` the
    generator the student used.
    """
    if after.bit_generator.state == before.bit_generator.state:
        return ("your code drew nothing from rng (its state did not change). Draw from "
                "the generator you are given, rng.uniform(...), not from np.random or a "
                "new generator: the caller's seed must decide the samples.")
    try:
        x = np.asarray(received, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if x.shape != np.shape(np.empty(size)):
        return None  # the general comparison names the shapes
    u = _copy(before).random(size)  # the student's draws, if they drew like the reference
    candidates = {
        "uniform": low + (high - low) * u,
        "exp of log10": np.exp(np.log10(low) + (np.log10(high) - np.log10(low)) * u),
        "10 ** of ln": 10.0 ** (np.log(low) + (np.log(high) - np.log(low)) * u),
    }
    messages = {
        "uniform": "your samples are uniform on [low, high], not log-uniform: most of them "
                   "land in the top decade. Draw the logarithm uniformly, then exponentiate.",
        "exp of log10": "you drew the exponent between np.log10(low) and np.log10(high) but "
                        "undid it with np.exp: the bases differ. Use np.log with np.exp "
                        "(or np.log10 with 10 ** u).",
        "10 ** of ln": "you drew the exponent between np.log(low) and np.log(high) but undid "
                       "it with 10 ** u: the bases differ. Use np.log with np.exp "
                       "(or np.log10 with 10 ** u).",
    }
    with np.errstate(all="ignore"):
        for kind, wrong in candidates.items():
            if np.allclose(x, wrong, rtol=1e-9, atol=0) and not np.allclose(
                    wrong, log_uniform(low, high, size, _copy(before)), rtol=1e-7, atol=0):
                return messages[kind]
        outside = (x < low * (1 - 1e-12)) | (x > high * (1 + 1e-12))
    if outside.any():
        index = tuple(int(i) for i in np.argwhere(outside)[0])
        return (f"your sample at index {index} is {x[index]:.6g}, outside [low, high] = "
                f"[{low:g}, {high:g}].")
    return None


def _call(function, low, high, size, rng):
    before = _copy(rng)
    received = function(low, high, size, rng)
    if function is not _reference:
        problem = _mistake_in(received, low, high, size, before, rng)
        if problem:
            raise _Mistake(problem, "values")
    return received


def check_log_uniform(student, *, hidden=False):
    """``student(low, high, size, rng)`` -> ``size`` samples whose log is uniform.

    Compared with :func:`tinynet.search.log_uniform` given generators in the
    same state, so the student must draw ``rng.uniform(log(low), log(high),
    size)`` (or the same numbers another way, e.g. ``rng.random(size)``
    rescaled) and exponentiate. Uniform sampling and mixed bases (``np.log10``
    with ``np.exp``) are named in the message, as is an ``rng`` left unused.
    """
    table = [(low, high, size, case_seed(seed, hidden))
             for low, high, size, seed in (_HIDDEN_CASES if hidden else _CASES)]
    cases = [Case(low=low, high=high, size=size, rng=np.random.default_rng(seed),
                  note=f"rng=np.random.default_rng({seed})")
             for low, high, size, seed in table]
    return check_function("log_uniform", student, _reference, cases, _HINT, call=_call,
                          rtol=1e-9, atol=0.0, hidden=hidden)


# ---------------------------------------------------------------------------
# The search loop
# ---------------------------------------------------------------------------

def fake_scorer(ranges, cliff=None):
    """A stand-in for training, instant and deterministic: a smooth bump in log space.

    Returns ``train_and_score(**settings)``: about 0.95 at a point inside the
    ranges, lower further away (a quadratic in the logarithm of each setting),
    and NaN, like a diverged training run, when ``settings[name] > value`` for
    ``cliff = (name, value)``. It accepts only keyword arguments, exactly the
    names of ``ranges``.
    """
    names = tuple(ranges)
    # The bump's centre: 30 % of the way up each log range, its width that range.
    logs = {name: (np.log(low), np.log(high)) for name, (low, high) in ranges.items()}
    centres = {name: a + 0.3 * (b - a) for name, (a, b) in logs.items()}
    weights = {name: 0.6 / (k + 1) for k, name in enumerate(names)}

    def fake_train_and_score(**settings):
        if sorted(settings) != sorted(names):
            raise TypeError(
                f"train_and_score takes the keyword arguments {', '.join(names)}; it got "
                f"{', '.join(settings) or 'none'}. Call it as train_and_score(**settings) "
                f"with one value for each name in ranges.")
        if cliff is not None and settings[cliff[0]] > cliff[1]:
            return float("nan")
        score = 0.95
        for name, value in settings.items():
            a, b = logs[name]
            z = (np.log(value) - centres[name]) / (b - a)
            score -= weights[name] * z * z
        return float(score)

    return fake_train_and_score


def _search_reference(train_and_score, ranges, n_trials, rng):
    result = random_search(train_and_score, ranges, n_trials, seed=rng)
    return result.settings, result.scores, result.best_index


def _trials(train_and_score, draws, names, n_trials):
    """The settings and scores of trials whose values are ``draws[name][i]``."""
    settings = [{name: float(draws[name][i]) for name in names} for i in range(n_trials)]
    scores = np.array([train_and_score(**s) for s in settings])
    return settings, scores


def _search_mistakes(train_and_score, ranges, n_trials, rng):
    """Wrong draws and wrong choices of the best trial, each with what to say about it."""
    names = list(ranges)
    state = _copy(rng)
    right = {name: log_uniform(low, high, n_trials, state) for name, (low, high) in
             ranges.items()}
    settings, scores = _trials(train_and_score, right, names, n_trials)

    state = _copy(rng)
    uniform = {name: state.uniform(low, high, n_trials) for name, (low, high) in ranges.items()}
    state = _copy(rng)
    by_trial = {name: np.empty(n_trials) for name in names}
    for i in range(n_trials):
        for name in names:
            low, high = ranges[name]
            by_trial[name][i] = np.exp(state.uniform(np.log(low), np.log(high)))
    wrong = [
        (uniform, "your values are drawn uniformly between low and high, not log-uniformly: "
                  "most of them land in the top decade of each range. Draw each setting "
                  "with log_uniform(low, high, n_trials, rng) (exp of a uniform log)."),
        (by_trial, "your values are drawn trial by trial (one value of each setting per "
                   "trial), the package draws setting by setting: for each name of ranges "
                   "in turn, all n_trials values at once, log_uniform(low, high, n_trials, "
                   "rng), before the first trial. The same generator then gives other "
                   "settings to each trial."),
    ]
    for order in (sorted(names), names[::-1]):
        if order != names:
            state = _copy(rng)
            reordered = {name: log_uniform(*ranges[name], n_trials, state) for name in order}
            wrong.append((reordered, f"you drew the settings in the order {order}; draw them "
                                     f"in the order of ranges, {names} (for name, (low, high) "
                                     f"in ranges.items()), so that the same generator gives "
                                     f"the package's trials."))
    mistakes = [((_trials(train_and_score, draws, names, n_trials)[0], None, None), message)
                for draws, message in wrong]

    if not np.isnan(scores).all():
        mistakes.append(((settings, None, int(np.nanargmin(scores))),
                         "your best trial has the LOWEST score. The scores are validation "
                         "accuracies: higher is better, best = np.nanargmax(scores)."))
        mistakes.append(((settings, None, int(np.argmax(scores))),
                         "your best trial is one whose score is NaN (training diverged): "
                         "np.argmax takes NaN for the largest number. A NaN trial never "
                         "counts: best = np.nanargmax(scores)."))
    return mistakes


def _call_search(function, train_and_score, ranges, n_trials, rng):
    """Run one case; for the student's function, first look at the trials it ran."""
    before = _copy(rng)
    result = function(train_and_score, ranges, n_trials, rng)
    if function is not _search_reference:
        problem = _loop_problem(result, ranges, n_trials, before, rng)
        if problem:
            raise _Mistake(problem)
    return result


def _loop_problem(result, ranges, n_trials, before, after):
    """A message for a loop that ran the wrong trials, else None (the comparison follows).

    ``before`` is a copy of the generator as the student got it, ``after`` the
    generator the student used.
    """
    if not (isinstance(result, tuple) and len(result) == 3
            and isinstance(result[0], (list, tuple))):
        return None  # the general comparison names the type
    settings, _, best = result
    if len(settings) != n_trials:
        return (f"you ran {len(settings)} trials; n_trials is {n_trials}. Run exactly "
                f"n_trials trials (for i in range(n_trials)) and keep every one, in order.")
    state = _copy(before)
    right = {name: log_uniform(low, high, n_trials, state) for name, (low, high)
             in ranges.items()}
    if not _same_values(settings, right):
        if after.bit_generator.state == before.bit_generator.state:
            return ("your code drew nothing from rng (its state did not change). Draw the "
                    "settings from the generator you are given, log_uniform(low, high, "
                    "n_trials, rng), not from np.random or a new generator: the caller's "
                    "generator must decide the trials.")
        first = settings[0]
        if (n_trials > 1 and isinstance(first, dict)
                and _same_values(settings, {name: [first.get(name)] * n_trials
                                            for name in ranges})):
            return ("every trial has the same settings: you drew one value per setting "
                    "and reused it. Draw n_trials values of each setting, "
                    "log_uniform(low, high, n_trials, rng), and give trial i the i-th.")
    if isinstance(best, (float, np.floating)):
        return (f"your best is the float {best:g}; return the INDEX of the best trial, "
                f"best = int(np.nanargmax(scores)), not its score.")
    return None


def _same_values(settings, values):
    """Whether trial ``i`` of ``settings`` holds ``values[name][i]`` for every name."""
    try:
        return all(isinstance(trial, dict) and trial.keys() == values.keys()
                   and all(np.isclose(float(trial[name]), float(values[name][i]),
                                      rtol=1e-9, atol=0) for name in values)
                   for i, trial in enumerate(settings))
    except (TypeError, ValueError):
        return False


# (ranges, n_trials, seed, cliff): one, two and three settings, ranges not in alphabetical
# order, a cliff where training "diverges" (NaN) so that np.argmax would pick a NaN trial.
_LR = (1e-3, 1.0)
_WD = (1e-6, 1e-1)
_SEARCH_CASES = [
    ({"learning_rate": _LR, "weight_decay": _WD}, 8, 0, ("learning_rate", 0.3)),
    ({"learning_rate": (1e-4, 1e-1)}, 5, 1, None),
    ({"weight_decay": _WD, "learning_rate": _LR}, 6, 2, None),
]
_SEARCH_HIDDEN_CASES = [
    ({"learning_rate": _LR, "weight_decay": _WD}, 20, 10, ("learning_rate", 0.2)),
    ({"learning_rate": _LR, "momentum_gap": (1e-3, 0.5), "weight_decay": _WD}, 9, 11, None),
    ({"weight_decay": _WD}, 4, 12, None),
    ({"learning_rate": (0.01, 3.0), "weight_decay": _WD}, 12, 13, ("learning_rate", 1.0)),
    ({"weight_decay": (1e-5, 1e-2), "learning_rate": (1e-3, 0.3)}, 7, 14, None),
    ({"learning_rate": _LR, "weight_decay": _WD}, 1, 15, None),
]


def _search_cases(hidden):
    cases = []
    for ranges, n_trials, seed, cliff in (_SEARCH_HIDDEN_CASES if hidden else _SEARCH_CASES):
        seed = case_seed(seed, hidden)
        scorer = fake_scorer(ranges, cliff)
        note = ", ".join(f"{name} in [{low:g}, {high:g}]" for name, (low, high)
                         in ranges.items())
        note += f", rng=np.random.default_rng({seed}); a fake train_and_score (instant)"
        if cliff:
            note += f" that returns NaN for {cliff[0]} > {cliff[1]:g}"
        cases.append(Case(train_and_score=scorer, ranges=ranges, n_trials=n_trials,
                          rng=np.random.default_rng(seed), note=note))
    return cases


def check_random_search(student, *, hidden=False):
    """``student(train_and_score, ranges, n_trials, rng)`` -> ``(settings, scores, best)``.

    The loop of :func:`tinynet.search.random_search`: first, for each
    ``name, (low, high)`` of ``ranges`` in turn, ``n_trials`` values at once,
    ``log_uniform(low, high, n_trials, rng)``; then for each trial ``i`` the
    settings ``{name: float(values[name][i])}`` and the score
    ``train_and_score(**settings)``. Returned: the list of the ``n_trials``
    settings dicts in order, the scores (an array of shape ``(n_trials,)``) and
    ``best``, the index of the highest score, NaN scores left out
    (``np.nanargmax``). The checker's ``train_and_score`` is a fake
    (:func:`fake_scorer`), so the cases run instantly.
    """
    hint = ("First draw every value: for name, (low, high) in ranges.items(), "
            "values[name] = log_uniform(low, high, n_trials, rng). Then for i in "
            "range(n_trials): settings = {name: float(values[name][i]) for name in ranges}, "
            "score = train_and_score(**settings). Return (list of the settings, "
            "np.array(scores), int(np.nanargmax(scores))).")
    hints = {
        "settings": "Each trial's settings are a dict {name: value} with one float per name "
                    "of ranges, in the order the trials ran.",
        "best": "best is the index of the highest score, NaN scores left out: "
                "int(np.nanargmax(scores)).",
    }
    return check_function("random_search", student, _search_reference, _search_cases(hidden),
                          hint, results=("settings", "scores", "best"), hints=hints,
                          call=_call_search, mistakes=_search_mistakes, rtol=1e-9,
                          atol=1e-12, hidden=hidden)
