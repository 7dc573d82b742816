"""Checker for the exercise of notebook 11 (batch normalisation).

``check_batchnorm_backward(student, *, hidden=False)`` runs the student's
backward pass and the package's :class:`~tinynet.layers.BatchNormalization`
on the same inputs (:func:`tinynet.exercises.check_function`; ``hidden=True``
draws other, more cases) and prints ``PASS``, prints "not attempted yet",
or raises :class:`~tinynet.exercises.ExerciseFailed` with a hint.

=================================  ===========================================
notebook                           checkers
=================================  ===========================================
``11_batch_normalization``         :func:`check_batchnorm_backward`
=================================  ===========================================
"""

import numpy as np

from ..layers import BatchNormalization
from . import Case, check_function

__all__ = ["check_batchnorm_backward"]


def batchnorm_backward_reference(dout, x, gamma, eps):
    """The package's answer: (dx, dgamma, dbeta) of training-mode batch norm on (N, D)."""
    layer = BatchNormalization(gamma, np.zeros_like(gamma), eps=eps)
    layer.forward(x)
    dx = layer.backward(dout)
    return dx, layer.dgamma, layer.dbeta


# (N, D, eps, offset, scale): offset and scale of x, so that a forgotten
# mean or variance term shows; N = 2 is the smallest batch that has a variance.
_CASES = [
    (4, 3, 1e-5, 0.0, 1.0),
    (6, 2, 1e-5, 3.0, 2.0),
    (2, 5, 1e-5, -1.0, 0.5),
    (5, 4, 0.1, 0.5, 0.3),
]
_HIDDEN_CASES = [
    (3, 1, 1e-5, 2.0, 1.0),
    (10, 7, 1e-5, -4.0, 3.0),
    (2, 2, 1e-3, 0.0, 0.1),
    (32, 16, 1e-5, 1.0, 1.0),
    (7, 3, 1.0, 0.0, 2.0),
    (100, 5, 1e-5, 10.0, 0.01),
]


def _cases(hidden):
    rng = np.random.default_rng(1100 + 1000 * hidden)
    cases = []
    for N, D, eps, offset, scale in (_HIDDEN_CASES if hidden else _CASES):
        x = offset + scale * rng.standard_normal((N, D))
        gamma = 1.0 + 0.5 * rng.standard_normal(D)  # not all ones: dx must use gamma
        dout = rng.standard_normal((N, D))
        cases.append(Case(dout=dout, x=x, gamma=gamma, eps=eps))
    return cases


def check_batchnorm_backward(student, *, hidden=False):
    """``student(dout, x, gamma, eps)`` -> ``(dx, dgamma, dbeta)``.

    Training-mode batch normalisation of ``x`` of shape (N, D), per feature,
    with the biased batch variance: ``x_hat = (x - mu) / sqrt(var + eps)``,
    ``out = gamma * x_hat + beta``. Given ``dout`` (N, D) the student returns
    dx (N, D), dgamma (D,) and dbeta (D,), as
    :class:`~tinynet.layers.BatchNormalization` computes them. The inputs
    must stay unchanged.
    """
    hint = ("Recompute mu = x.mean(axis=0), var = x.var(axis=0) (divide by N, not N - 1), "
            "std = sqrt(var + eps) and x_hat = (x - mu) / std. Then dbeta = sum of dout "
            "over the batch, dgamma = sum of dout * x_hat, dx_hat = dout * gamma and "
            "dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / std, the means "
            "over the batch (axis 0). The two mean terms are the paths through mu and var.")
    hints = {
        "dx": "dx has three terms: dx_hat / std alone forgets that every x_i also moves "
              "the batch mean and variance.",
        "dgamma": "dgamma = sum over the batch of dout * x_hat (axis 0), one value per feature.",
        "dbeta": "dbeta = sum over the batch of dout (axis 0), one value per feature.",
    }
    return check_function("batchnorm_backward", student, batchnorm_backward_reference,
                          _cases(hidden), hint, results=("dx", "dgamma", "dbeta"),
                          hints=hints, hidden=hidden)
