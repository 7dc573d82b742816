"""Checkers for the exercises of notebook 12 (regularisation: dropout).

Each checker runs the student's function and the package's
:class:`~tinynet.layers.Dropout` on the same inputs
(:func:`tinynet.exercises.check_function`; ``hidden=True`` draws other, more
cases) and prints ``PASS``, prints "not attempted yet", or raises
:class:`~tinynet.exercises.ExerciseFailed` with a hint; the typical wrong
formulas are named.

=================================  ===========================================
notebook                           checkers
=================================  ===========================================
``12_regularization``              :func:`check_dropout_train_forward`,
                                   :func:`check_dropout_backward`
=================================  ===========================================

The forward pass draws its own mask, the way the layer does: one call
``rng.random(x.shape)``, a unit kept where its number is ``>= ratio``. Given a
generator in the same state, a right answer therefore draws the very mask the
layer draws, and the two can be compared; a mask drawn another way is named
as such, with the call that is expected.

:func:`check_dropout_forward` (the mask handed in, an earlier version of the
exercise) stays for notebooks handed out before the change.
"""

import numpy as np

from ..layers import Dropout
from . import Case, _copy, _Mistake, case_seed, check_function

__all__ = ["check_dropout_train_forward", "check_dropout_backward", "check_dropout_forward",
           "dropout_forward_reference"]


class _GivenMask:
    """Stands in for a Dropout layer's generator: its one draw yields ``mask``.

    The layer keeps a unit where its draw is ``>= ratio``; drawing 1.0 where
    ``mask`` is True and -1.0 elsewhere makes it keep exactly the masked units.
    """

    def __init__(self, mask):
        self.mask = np.asarray(mask, dtype=bool)

    def random(self, shape):
        return np.where(self.mask.reshape(shape), 1.0, -1.0)


def _layer_with_mask(mask, ratio, training=True):
    layer = Dropout(ratio)
    layer.rng = _GivenMask(mask)
    layer.training = bool(training)
    return layer


# ---------------------------------------------------------------------------
# The forward pass in training mode, drawing its own mask
# ---------------------------------------------------------------------------

def dropout_train_forward_reference(x, ratio, rng):
    """The package's answer: ``(out, mask)`` of a training-mode Dropout drawing from ``rng``."""
    layer = Dropout(ratio, seed=rng)
    out = layer.forward(x)
    return out, layer.mask


_EXPECTED_DRAW = "mask = rng.random(x.shape) >= ratio"


def _dropout_forward_mistakes(x, ratio, rng):
    """Wrong scalings of the right mask (the mask itself is examined by :func:`_call_forward`)."""
    mask = rng.random(x.shape) >= ratio
    return [
        ((x * mask, None),
         "you kept the right units but did not rescale them. Inverted dropout divides the "
         "kept units by the probability of keeping one, out = x * mask / (1 - ratio), so "
         "that each unit's expected value stays x and evaluation needs no change."),
        ((x * mask / ratio, None),
         "you divided by ratio, the probability of DROPPING a unit. Divide by the "
         "probability of keeping it: out = x * mask / (1 - ratio)."),
        ((x * mask * (1 - ratio), None),
         "you multiplied the kept units by (1 - ratio). Inverted dropout divides by it, "
         "out = x * mask / (1 - ratio); multiplying by (1 - ratio) belongs to the book's "
         "version, and there at evaluation time, not in training."),
        ((x, None),
         "your output is x unchanged: in training mode the dropped units are set to 0 and "
         "the kept ones scaled, out = x * mask / (1 - ratio)."),
    ]


def _call_forward(function, x, ratio, rng):
    """Run one case; for the student's function, first examine how the mask was drawn."""
    before = _copy(rng)
    result = function(x, ratio, rng)
    if function is not dropout_train_forward_reference:
        problem = _draw_problem(result, x, ratio, before, rng)
        if problem:
            raise _Mistake(problem)
    return result


def _draw_problem(result, x, ratio, before, after):
    """A message when the student's mask was not drawn like the layer's, else None.

    ``before`` is a copy of the generator as the student got it, ``after`` the
    generator the student used. A right mask, and results that are not a pair
    of real arrays shaped like ``x`` with a mask of booleans (or 0 and 1), are
    left to the general comparison.
    """
    try:
        out, mask = result
        out, mask = np.asarray(out), np.asarray(mask)
    except (TypeError, ValueError):
        return None
    if (mask.shape != x.shape or out.shape != x.shape or mask.dtype.kind not in "biuf"
            or out.dtype.kind not in "biuf" or not np.isin(mask, (0, 1)).all()):
        return None
    with np.errstate(all="ignore"):
        kept = mask != 0
        u = _copy(before).random(x.shape)   # the numbers the layer's one draw gives
        right = u >= ratio
        if np.array_equal(kept, right):
            return None                         # the mask is right: the values decide
        if after.bit_generator.state == before.bit_generator.state:
            return ("your code drew nothing from rng (its state did not change). Draw the "
                    f"mask from the generator you are given, {_EXPECTED_DRAW}, not from "
                    "np.random or a new generator: the caller's generator must decide which "
                    "units drop.")
        right_out = np.isclose(out, x * right / (1 - ratio), rtol=1e-7, atol=1e-9).all()
        if np.array_equal(kept, ~right):
            if right_out:
                return ("your output is right, but the mask you return is True for the "
                        "DROPPED units. Return the mask of the kept units (True where a "
                        "unit is kept), the one the backward pass multiplies by.")
            return ("your mask keeps a unit with probability ratio (rng.random(x.shape) < "
                    "ratio), but ratio is the probability of DROPPING it: keep where "
                    f"the number is >= ratio, {_EXPECTED_DRAW}.")
    return ("your mask is not the one the generator's numbers give: its units differ "
            f"from {_EXPECTED_DRAW} in {int(np.sum(kept != right))} of {kept.size} places. "
            "Draw it with exactly that call: one rng.random(x.shape), one number per unit "
            "in the shape of x, a unit kept where its number is >= ratio. Other calls "
            "(rng.binomial, rng.choice, rng.integers, rng.random of another shape, or a "
            "draw before this one) consume the generator differently and give another "
            "mask, so yours cannot be compared with the layer's.")


# (shape, ratio, seed): the first ratio is not 0.5, where dividing by ratio or by 1 - ratio
# is the same; the others catch a hard-coded value; any shape, (N, D) or (N, C, H, W).
_FORWARD_CASES = [((4, 5), 0.3, 3), ((3, 6), 0.5, 4), ((2, 3, 4), 0.7, 5)]
_FORWARD_HIDDEN_CASES = [((8, 10), 0.3, 10), ((1, 12), 0.1, 11), ((5, 7), 0.8, 12),
                         ((2, 2, 3, 3), 0.25, 13), ((6, 4), 0.5, 14), ((10, 3), 0.6, 15),
                         ((3, 3), 0.05, 16)]


def check_dropout_train_forward(student, *, hidden=False):
    """``student(x, ratio, rng)`` -> ``(out, mask)``, inverted dropout in training mode.

    ``mask = rng.random(x.shape) >= ratio`` (one call on the generator given;
    True for the units kept, each with probability ``1 - ratio``) and ``out =
    x * mask / (1 - ratio)``, for ``0 < ratio < 1`` and ``x`` of any shape.
    Compared with :class:`~tinynet.layers.Dropout` drawing from a copy of the
    same generator; ``x`` must stay unchanged.
    """
    rng = np.random.default_rng(case_seed(1250 + 1000 * hidden, hidden))
    cases = []
    for shape, ratio, seed in (_FORWARD_HIDDEN_CASES if hidden else _FORWARD_CASES):
        seed = case_seed(seed, hidden)
        cases.append(Case(x=rng.standard_normal(shape), ratio=ratio,
                          rng=np.random.default_rng(seed),
                          note=f"rng=np.random.default_rng({seed})"))
    hint = (f"Draw {_EXPECTED_DRAW} (True: the unit is kept, with probability 1 - ratio), "
            "then out = x * mask / (1 - ratio); return (out, mask).")
    return check_function("dropout_train_forward", student, dropout_train_forward_reference,
                          cases, hint, results=("out", "mask"), call=_call_forward,
                          mistakes=_dropout_forward_mistakes, hidden=hidden)


# ---------------------------------------------------------------------------
# The backward pass
# ---------------------------------------------------------------------------

def dropout_backward_reference(dout, mask, ratio):
    """The package's answer: ``Dropout.backward(dout)`` after a forward pass with ``mask``."""
    layer = _layer_with_mask(mask, ratio)
    layer.forward(np.zeros_like(dout))
    return layer.backward(dout)


def _dropout_backward_mistakes(dout, mask, ratio):
    return [
        (dout * mask,
         "you let the gradient through the kept units but without the factor "
         "1 / (1 - ratio). The forward pass multiplied each kept unit by it, so the "
         "gradient of that unit is multiplied by it too: dx = dout * mask / (1 - ratio)."),
        (dout * mask / ratio,
         "you divided by ratio; the forward pass divided by 1 - ratio, the probability of "
         "keeping a unit, and so must the backward pass: dx = dout * mask / (1 - ratio)."),
        (dout * mask * (1 - ratio),
         "you multiplied by (1 - ratio); the forward pass divided by it, and so must the "
         "backward pass: dx = dout * mask / (1 - ratio)."),
        (dout * ~mask / (1 - ratio),
         "you let the gradient through the DROPPED units (~mask). mask is True for the kept "
         "units, the only ones whose output depended on x: dx = dout * mask / (1 - ratio)."),
        (dout / (1 - ratio),
         "you scaled dout but did not apply the mask. A dropped unit's output is 0 whatever "
         "its input, so its gradient is 0: dx = dout * mask / (1 - ratio)."),
        (dout,
         "you returned dout unchanged. The gradient goes back through the same units and "
         "with the same factor as the forward pass: dx = dout * mask / (1 - ratio)."),
    ]


_BACKWARD_CASES = [((4, 5), 0.3), ((3, 6), 0.5), ((2, 3, 4), 0.7)]
_BACKWARD_HIDDEN_CASES = [((8, 10), 0.3), ((1, 12), 0.1), ((5, 7), 0.8), ((2, 2, 3, 3), 0.25),
                          ((6, 4), 0.5), ((3, 3), 0.05)]


def check_dropout_backward(student, *, hidden=False):
    """``student(dout, mask, ratio)`` -> ``dx = dout * mask / (1 - ratio)``.

    ``mask`` (bool, the shape of ``dout``) is the one the forward pass drew,
    True for the units kept. Compared with :meth:`tinynet.layers.Dropout.backward`
    after a forward pass with that mask; the inputs must stay unchanged.
    """
    rng = np.random.default_rng(case_seed(1260 + 1000 * hidden, hidden))
    cases = []
    for shape, ratio in (_BACKWARD_HIDDEN_CASES if hidden else _BACKWARD_CASES):
        dout = rng.standard_normal(shape)
        mask = rng.random(shape) >= ratio
        cases.append(Case(dout=dout, mask=mask, ratio=ratio))
    hint = ("The gradient goes back through the units the forward pass kept, with the same "
            "factor: dx = dout * mask / (1 - ratio), a new array of the shape of dout.")
    return check_function("dropout_backward", student, dropout_backward_reference, cases, hint,
                          mistakes=_dropout_backward_mistakes, hidden=hidden)


# ---------------------------------------------------------------------------
# The earlier exercise: the forward pass with the mask handed in
# ---------------------------------------------------------------------------

def dropout_forward_reference(x, mask, ratio, training):
    """The package's answer: :class:`~tinynet.layers.Dropout` forced to use ``mask``."""
    return _layer_with_mask(mask, ratio, training).forward(x)


# (shape, ratio, training): evaluation cases catch scaling in the wrong mode;
# different ratios catch a hard-coded 0.5 or a factor (1 - ratio) instead of 1 / (1 - ratio).
_CASES = [
    ((4, 5), 0.5, True),
    ((3, 6), 0.2, True),
    ((4, 5), 0.5, False),
]
_HIDDEN_CASES = [
    ((8, 10), 0.3, True),
    ((2, 3, 4), 0.5, True),     # any shape, e.g. (N, C, W)
    ((5, 7), 0.8, True),
    ((6, 4), 0.3, False),
    ((1, 12), 0.1, True),
    ((10, 3), 0.6, False),
    ((2, 2, 3, 3), 0.25, True),  # (N, C, H, W)
]


def _cases(hidden):
    rng = np.random.default_rng(case_seed(1200 + 1000 * hidden, hidden))
    cases = []
    for shape, ratio, training in (_HIDDEN_CASES if hidden else _CASES):
        x = rng.standard_normal(shape)
        mask = rng.random(shape) >= ratio  # True: keep the unit
        cases.append(Case(x=x, mask=mask, ratio=ratio, training=training))
    return cases


def check_dropout_forward(student, *, hidden=False):
    """``student(x, mask, ratio, training)`` -> ``out``, inverted dropout with a given mask.

    The exercise of notebook 12 before the mask was drawn by the student (kept
    for the notebooks handed out then). ``mask`` (bool, the shape of ``x``) is
    True for the units kept. In training mode ``out = x * mask / (1 - ratio)``;
    in evaluation mode (``training`` False) ``out = x``, a new array. The
    inputs must stay unchanged.
    """
    hint = ("In training mode keep the units where mask is True and divide them by "
            "(1 - ratio): out = x * mask / (1 - ratio), so each unit's expected value stays "
            "x. In evaluation mode return x unchanged (a copy): no mask, no scaling.")
    return check_function("dropout_forward", student, dropout_forward_reference,
                          _cases(hidden), hint, hidden=hidden)
