"""Checker for the exercise of notebook 13 (hyperparameter search).

=================================  ===========================================
notebook                           checkers
=================================  ===========================================
``13_hyperparameter_search``       :func:`check_log_uniform`
=================================  ===========================================
"""

import numpy as np

from ..search import log_uniform
from . import Case, _copy, _Mistake, check_function

__all__ = ["check_log_uniform"]

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
    table = _HIDDEN_CASES if hidden else _CASES
    cases = [Case(low=low, high=high, size=size, rng=np.random.default_rng(seed),
                  note=f"rng=np.random.default_rng({seed})")
             for low, high, size, seed in table]
    return check_function("log_uniform", student, _reference, cases, _HINT, call=_call,
                          rtol=1e-9, atol=0.0, hidden=hidden)
