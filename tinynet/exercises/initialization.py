"""Checkers for the exercise of notebook 10 (weight initialisation).

=================================  ===========================================
notebook                           checkers
=================================  ===========================================
``10_initialization``              :func:`check_init_std`,
                                   :func:`check_init_weights`
=================================  ===========================================

The references are :func:`tinynet.initialization.init_std` and
:func:`tinynet.initialization.init_weights`. Typical slips (fan_out for
fan_in, a forgotten square root, Xavier and He swapped, Glorot's
``sqrt(2 / (fan_in + fan_out))``, a convolution's fan_in without its kernel
size, the variance used as the standard deviation, the weights transposed)
are recognised and named.
"""

import numpy as np

from ..initialization import init_std, init_weights
from . import Case, _copy, _Mistake, case_seed, check_function

__all__ = ["check_init_std", "check_init_weights"]

# (shape, weight_std): fully connected layers with fan_in != fan_out (so that
# fan_out for fan_in shows), convolutions (fan_in = C * KH * KW), numbers.
_CASES = [((100, 50), "he"), ((100, 50), "xavier"), ((64, 256), "he"), ((30, 10), 0.01),
          ((8, 3, 3, 3), "he"), ((16, 4, 5, 5), "xavier"), ((200, 3), 1.0)]
_HIDDEN_CASES = [((784, 100), "he"), ((50, 400), "xavier"), ((12, 7), "he"),
                 ((1, 5), "xavier"), ((20, 9), 0.05), ((6, 1, 7, 7), "he"),
                 ((32, 16, 3, 3), "xavier"), ((10, 2, 1, 4), "he"), ((3, 8), 0.0)]

_SEEDS = [0, 1, 2, 3, 4, 5, 6]
_HIDDEN_SEEDS = [10, 11, 12, 13, 14, 15, 16, 17, 18]

_STD_HINT = ("fan_in is the number of inputs of one output unit: shape[0] for W of shape "
             "(fan_in, fan_out) (the layer computes x @ W), C * KH * KW for a filter bank "
             "of shape (F, C, KH, KW). Then 'xavier' is 1 / np.sqrt(fan_in), 'he' is "
             "np.sqrt(2 / fan_in), and a number is returned as it is.")

_WEIGHTS_HINT = ("Draw rng.standard_normal(shape) (an array of exactly that shape, from the "
                 "rng you are given) and multiply it by the standard deviation of "
                 "my_init_std(shape, weight_std).")


def _wrong_scales(shape, weight_std):
    """``{message: value}`` for the usual wrong standard deviations of this case."""
    if not isinstance(weight_std, str):
        return {"you used its square, the variance, instead of the number itself: "
                "a number weight_std is the standard deviation already.": weight_std ** 2}
    if len(shape) == 2:
        fan_in, fan_out = shape
        slips = {}
    else:
        F, C, KH, KW = shape
        fan_in, fan_out = C * KH * KW, F * KH * KW
        slips = {f"you used fan_in = C = {C}, without the kernel's KH * KW = {KH * KW}: one "
                 f"output pixel sees C * KH * KW = {fan_in} inputs.": C,
                 f"you used fan_in = F = shape[0] = {F}, the number of filters; for a "
                 f"convolution fan_in is C * KH * KW = {fan_in}.": F}
    factor = 2.0 if weight_std == "he" else 1.0
    other = "xavier" if weight_std == "he" else "he"
    wrong = {f"you used fan_out = {fan_out} instead of fan_in = {fan_in}: the scale "
             f"counts the inputs of one unit (shape[0] for W of shape (fan_in, fan_out)).":
             np.sqrt(factor / fan_out),
             f"the square root is missing: {factor:g} / fan_in is the variance, the "
             f"standard deviation is np.sqrt({factor:g} / fan_in).": factor / fan_in,
             f"that is the scale for {other!r}, not for {weight_std!r}: 'xavier' is "
             f"1 / sqrt(fan_in), 'he' is sqrt(2 / fan_in).": np.sqrt((3.0 - factor) / fan_in),
             "that is Glorot and Bengio's sqrt(2 / (fan_in + fan_out)); this course (and the "
             "book) uses 1 / sqrt(fan_in) for 'xavier' and sqrt(2 / fan_in) for 'he'.":
             np.sqrt(2.0 / (fan_in + fan_out))}
    wrong.update({message: np.sqrt(factor / n) for message, n in slips.items()})
    return wrong


def _name_scale(value, shape, weight_std):
    """The message for a known wrong standard deviation ``value``, or None."""
    right = init_std(shape, weight_std)
    for message, wrong in _wrong_scales(shape, weight_std).items():
        if np.isclose(value, wrong, rtol=1e-7, atol=0) and not np.isclose(
                wrong, right, rtol=1e-7, atol=0):
            return f"for shape {shape} and weight_std={weight_std!r} {message}"
    return None


def _call_std(function, shape, weight_std):
    received = function(shape, weight_std)
    if function is not init_std:
        try:
            value = float(received)
        except (TypeError, ValueError):
            return received  # the general comparison names the type
        problem = _name_scale(value, shape, weight_std)
        if problem:
            raise _Mistake(problem, "values")
    return received


def _call_weights(function, shape, weight_std, rng):
    before = _copy(rng)
    received = function(shape, weight_std, rng)
    if function is not init_weights:
        problem = _weights_mistake(received, shape, weight_std, before, rng)
        if problem:
            raise _Mistake(problem, "values")
    return received


def _weights_mistake(received, shape, weight_std, before, after):
    """A message for the typical wrong draws, or None (the general comparison follows)."""
    right = init_std(shape, weight_std)
    if after.bit_generator.state == before.bit_generator.state and right > 0:
        return ("your code drew nothing from rng (its state did not change). Draw from the "
                "generator you are given, rng.standard_normal(shape), not from np.random or "
                "a new generator: the caller's seed must decide the weights.")
    try:
        W = np.asarray(received, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    if W.shape != tuple(shape):
        if W.shape == tuple(shape)[::-1]:
            return (f"your weights have shape {W.shape}, the reverse of shape {tuple(shape)}: "
                    f"draw rng.standard_normal(shape) with shape as given "
                    f"(W of shape (fan_in, fan_out) for x @ W).")
        return None  # the general comparison names the shapes
    z = _copy(before).standard_normal(tuple(shape))  # the draws, if drawn like the reference
    with np.errstate(all="ignore"):
        scale = W / z
    if right > 0 and np.all(np.isfinite(scale)) and np.allclose(scale, scale.flat[0],
                                                                rtol=1e-7, atol=0):
        return _name_scale(float(scale.flat[0]), tuple(shape), weight_std)
    return None


def check_init_std(student, *, hidden=False):
    """``student(shape, weight_std)`` -> the standard deviation of the weights, a float.

    ``weight_std`` is a number (returned as it is), ``"xavier"``
    (``1 / sqrt(fan_in)``) or ``"he"`` (``sqrt(2 / fan_in)``); ``shape`` is
    (fan_in, fan_out) or (F, C, KH, KW), with fan_in = C * KH * KW.
    Compared with :func:`tinynet.initialization.init_std` to 1e-9.
    """
    table = _HIDDEN_CASES if hidden else _CASES
    cases = [Case(shape=shape, weight_std=weight_std) for shape, weight_std in table]
    return check_function("init_std", student, init_std, cases, _STD_HINT, call=_call_std,
                          rtol=1e-9, atol=0.0, hidden=hidden)


def check_init_weights(student, *, hidden=False):
    """``student(shape, weight_std, rng)`` -> normal weights of ``shape`` with that scale.

    Compared with :func:`tinynet.initialization.init_weights` given generators
    in the same state, so the student draws ``rng.standard_normal(shape)``
    (or ``rng.normal(0.0, std, shape)``, the same numbers) times the scale.
    A wrong scale is named as in :func:`check_init_std`; so are an unused
    ``rng`` and transposed weights.
    """
    table, seeds = (_HIDDEN_CASES, _HIDDEN_SEEDS) if hidden else (_CASES, _SEEDS)
    seeds = [case_seed(seed, hidden) for seed in seeds]
    cases = [Case(shape=shape, weight_std=weight_std, rng=np.random.default_rng(seed),
                  note=f"rng=np.random.default_rng({seed})")
             for (shape, weight_std), seed in zip(table, seeds, strict=True)]
    return check_function("init_weights", student, init_weights, cases, _WEIGHTS_HINT,
                          call=_call_weights, rtol=1e-9, atol=0.0, hidden=hidden)
