"""Checker for the exercise of notebook 12 (regularisation: dropout).

``check_dropout_forward(student, *, hidden=False)`` runs the student's
inverted-dropout forward pass and the package's :class:`~tinynet.layers.Dropout`
on the same inputs and the same mask (:func:`tinynet.exercises.check_function`;
``hidden=True`` draws other, more cases) and prints ``PASS``, prints "not
attempted yet", or raises :class:`~tinynet.exercises.ExerciseFailed` with a
hint.

The mask is an argument, so that the answer is checkable: a dropout layer
draws a fresh random mask at every call, and two correct implementations
drawing their own masks would disagree.

=================================  ===========================================
notebook                           checkers
=================================  ===========================================
``12_regularization``              :func:`check_dropout_forward`
=================================  ===========================================
"""

import numpy as np

from ..layers import Dropout
from . import Case, check_function

__all__ = ["check_dropout_forward", "dropout_forward_reference"]


class _GivenMask:
    """Stands in for a Dropout layer's generator: its one draw yields ``mask``.

    The layer keeps a unit where its draw is ``>= ratio``; drawing 1.0 where
    ``mask`` is True and -1.0 elsewhere makes it keep exactly the masked units.
    """

    def __init__(self, mask):
        self.mask = np.asarray(mask, dtype=bool)

    def random(self, shape):
        return np.where(self.mask.reshape(shape), 1.0, -1.0)


def dropout_forward_reference(x, mask, ratio, training):
    """The package's answer: :class:`~tinynet.layers.Dropout` forced to use ``mask``."""
    layer = Dropout(ratio)
    layer.rng = _GivenMask(mask)
    layer.training = bool(training)
    return layer.forward(x)


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
    rng = np.random.default_rng(1200 + 1000 * hidden)
    cases = []
    for shape, ratio, training in (_HIDDEN_CASES if hidden else _CASES):
        x = rng.standard_normal(shape)
        mask = rng.random(shape) >= ratio  # True: keep the unit
        cases.append(Case(x=x, mask=mask, ratio=ratio, training=training))
    return cases


def check_dropout_forward(student, *, hidden=False):
    """``student(x, mask, ratio, training)`` -> ``out``, inverted dropout.

    ``mask`` (bool, the shape of ``x``) is True for the units kept. In
    training mode ``out = x * mask / (1 - ratio)``; in evaluation mode
    (``training`` False) ``out = x``, a new array. The inputs must stay
    unchanged.
    """
    hint = ("In training mode keep the units where mask is True and divide them by "
            "(1 - ratio): out = x * mask / (1 - ratio), so each unit's expected value stays "
            "x. In evaluation mode return x unchanged (a copy): no mask, no scaling.")
    return check_function("dropout_forward", student, dropout_forward_reference,
                          _cases(hidden), hint, hidden=hidden)
