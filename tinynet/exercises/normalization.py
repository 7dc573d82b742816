"""Checkers for the exercises of notebook 11 (batch normalisation).

Each checker runs the student's function and the package's
:class:`~tinynet.layers.BatchNormalization` on the same inputs
(:func:`tinynet.exercises.check_function`; ``hidden=True`` draws other, more
cases) and prints ``PASS``, prints "not attempted yet", or raises
:class:`~tinynet.exercises.ExerciseFailed` with a hint; the typical wrong
formulas are named.

=================================  ===========================================
notebook                           checkers
=================================  ===========================================
``11_batch_normalization``         :func:`check_batchnorm_forward`,
                                   :func:`check_batchnorm_backward`
=================================  ===========================================

The forward exercise follows the layer's (PyTorch's) conventions: momentum is
the weight of the *new* batch in the running statistics, the running variance
takes the unbiased batch variance (divided by N - 1) while the batch itself is
normalised with the biased one (divided by N), and eps sits inside the square
root. The book writes the running statistics differently (momentum as the
weight of the old value, the biased variance); the checker names that, too.
"""

import numpy as np

from ..layers import BatchNormalization
from . import Case, case_seed, check_function

__all__ = ["check_batchnorm_forward", "check_batchnorm_backward"]


# ---------------------------------------------------------------------------
# The forward pass, with running statistics
# ---------------------------------------------------------------------------

def batchnorm_forward_reference(x, gamma, beta, running_mean, running_var, momentum, eps,
                                training):
    """The package's answer: ``(out, new_running_mean, new_running_var)`` for x of shape (N, D)."""
    layer = BatchNormalization(gamma, beta, momentum=momentum, eps=eps,
                               running_mean=running_mean, running_var=running_var)
    layer.training = bool(training)
    out = layer.forward(x)
    return out, layer.running_mean, layer.running_var


def _normalise(x, gamma, beta, mean, var, eps, eps_inside=True):
    std = np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps
    return gamma * (x - mean) / std + beta


def _batchnorm_forward_mistakes(x, gamma, beta, running_mean, running_var, momentum, eps,
                                training):
    """The typical wrong answers of a case, each with what to say about it."""
    N = x.shape[0]
    mu, var = x.mean(axis=0), x.var(axis=0)
    unbiased = var * N / (N - 1) if N > 1 else np.full_like(var, np.nan)
    m = momentum
    new_mean = (1 - m) * running_mean + m * mu
    new_var = (1 - m) * running_var + m * unbiased
    book_mean = m * running_mean + (1 - m) * mu
    in_batch = _normalise(x, gamma, beta, mu, var, eps)
    in_running = _normalise(x, gamma, beta, running_mean, running_var, eps)
    if training:
        return [
            ((in_batch, book_mean, m * running_var + (1 - m) * var), _BOOK_CONVENTIONS),
            ((in_batch, book_mean, m * running_var + (1 - m) * unbiased), _BOOK_MOMENTUM),
            ((in_batch, new_mean, (1 - m) * running_var + m * var), _BIASED_RUNNING_VAR),
            ((_normalise(x, gamma, beta, mu, var, eps, eps_inside=False), new_mean, new_var),
             _EPS_OUTSIDE),
            ((_normalise(x, gamma, beta, mu, unbiased, eps), new_mean, new_var),
             _UNBIASED_BATCH),
            ((in_batch, running_mean, running_var), _NOT_UPDATED),
            ((in_running, new_mean, new_var), _RUNNING_IN_TRAINING),
            ((_normalise(x, gamma, beta, new_mean, new_var, eps), new_mean, new_var),
             _RUNNING_IN_TRAINING),
        ]
    if N == 1:
        new_var = None   # no unbiased variance of one sample: the running mean tells
    return [
        ((in_batch, running_mean, running_var), _BATCH_IN_EVALUATION),
        ((in_running, new_mean, new_var), _UPDATED_IN_EVALUATION),
        ((in_batch, new_mean, new_var), _MODE_IGNORED),
        ((_normalise(x, gamma, beta, running_mean, running_var, eps, eps_inside=False),
          running_mean, running_var), _EPS_OUTSIDE),
    ]


_CONVENTION = ("new running_mean = (1 - momentum) * running_mean + momentum * mu and new "
               "running_var = (1 - momentum) * running_var + momentum * var * N / (N - 1)")
_BOOK_CONVENTIONS = (
    "your running statistics follow the book: momentum weights the OLD value and the "
    "running variance takes the biased batch variance. This exercise uses the layer's "
    f"(PyTorch's) conventions: {_CONVENTION}, momentum being the weight of the new batch.")
_BOOK_MOMENTUM = (
    "your running statistics weight the old value by momentum (the book's "
    "running = momentum * running + (1 - momentum) * batch). Here momentum is the weight of "
    f"the NEW batch (PyTorch's convention): {_CONVENTION}.")
_BIASED_RUNNING_VAR = (
    "your running variance takes the biased batch variance (divided by N). The running "
    "variance uses the unbiased one, var * N / (N - 1) (x.var(axis=0, ddof=1)), while the "
    "batch itself is still normalised with the biased var.")
_EPS_OUTSIDE = (
    "you added eps outside the square root, (x - mean) / (sqrt(var) + eps). It belongs "
    "inside: (x - mean) / np.sqrt(var + eps).")
_UNBIASED_BATCH = (
    "you normalised the batch with the unbiased variance (divided by N - 1). The batch is "
    "normalised with the biased one, x.var(axis=0) (divided by N); only the running "
    "variance is updated with var * N / (N - 1).")
_NOT_UPDATED = (
    "your running statistics came back unchanged in training mode. Training mode updates "
    f"them with the batch's statistics: {_CONVENTION}.")
_RUNNING_IN_TRAINING = (
    "in training mode you normalised with running statistics. Training mode normalises "
    "with the batch's own mean and (biased) variance, and only updates the running ones.")
_BATCH_IN_EVALUATION = (
    "in evaluation mode you normalised with the batch's own mean and variance. Evaluation "
    "mode uses the running statistics, out = gamma * (x - running_mean) / "
    "np.sqrt(running_var + eps) + beta, so that each sample's output does not depend on "
    "the others in its batch.")
_UPDATED_IN_EVALUATION = (
    "your running statistics changed in evaluation mode. Only training mode updates them: "
    "with training False, return running_mean and running_var as they came.")
_MODE_IGNORED = (
    "your function does the same in both modes. With training False, normalise with the "
    "running statistics and return them unchanged; only with training True use the "
    "batch's statistics and update the running ones.")


# (N, D, momentum, eps, training, offset, scale): x = offset + scale * noise, so that a
# forgotten mean or variance shows; N = 2 makes N / (N - 1) = 2; a large eps shows where
# eps sits; N = 1 in evaluation mode has no batch variance at all.
_FORWARD_CASES = [
    (4, 3, 0.1, 1e-5, True, 2.0, 1.5),
    (5, 2, 0.1, 1e-5, False, -1.0, 2.0),
    (2, 4, 0.3, 1e-5, True, 0.0, 1.0),
    (6, 3, 0.1, 0.5, True, 0.5, 0.3),
]
_FORWARD_HIDDEN_CASES = [
    (3, 1, 0.1, 1e-5, True, 1.0, 1.0),
    (10, 7, 0.05, 1e-5, True, -3.0, 2.0),
    (1, 4, 0.1, 1e-5, False, 0.0, 1.0),
    (8, 5, 0.9, 1e-3, True, 0.0, 0.5),
    (7, 3, 0.0, 1e-5, True, 4.0, 1.0),
    (5, 2, 1.0, 1e-5, True, 0.0, 3.0),
    (32, 16, 0.1, 1e-5, False, 1.0, 1.0),
    (6, 3, 0.2, 0.1, False, 0.0, 0.2),
]


def _forward_cases(hidden):
    rng = np.random.default_rng(case_seed(1150 + 1000 * hidden, hidden))
    cases = []
    for N, D, momentum, eps, training, offset, scale in (_FORWARD_HIDDEN_CASES if hidden
                                                         else _FORWARD_CASES):
        x = offset + scale * rng.standard_normal((N, D))
        gamma = 1.0 + 0.5 * rng.standard_normal(D)   # not ones and zeros: both must be used
        beta = rng.standard_normal(D)
        # running statistics in mid-training, not 0 and 1, and not the batch's own
        running_mean = offset + 0.5 * scale * rng.standard_normal(D)
        running_var = scale ** 2 * (0.5 + rng.random(D))
        cases.append(Case(x=x, gamma=gamma, beta=beta, running_mean=running_mean,
                          running_var=running_var, momentum=momentum, eps=eps,
                          training=training))
    return cases


def check_batchnorm_forward(student, *, hidden=False):
    """``student(x, gamma, beta, running_mean, running_var, momentum, eps, training)``.

    Returns ``(out, new_running_mean, new_running_var)`` for ``x`` of shape
    (N, D), per feature. Training mode (``training`` True)::

        mu = x.mean(axis=0), var = x.var(axis=0)                 (biased: divided by N)
        out = gamma * (x - mu) / sqrt(var + eps) + beta
        new_running_mean = (1 - momentum) * running_mean + momentum * mu
        new_running_var  = (1 - momentum) * running_var + momentum * var * N / (N - 1)

    Evaluation mode: ``out = gamma * (x - running_mean) / sqrt(running_var + eps)
    + beta``, and the running statistics come back unchanged. No argument may
    change. The reference is :class:`~tinynet.layers.BatchNormalization`.
    """
    hint = ("Training mode: mu = x.mean(axis=0), var = x.var(axis=0) (divided by N), "
            "out = gamma * (x - mu) / np.sqrt(var + eps) + beta, "
            f"{_CONVENTION}. Evaluation mode: out = gamma * (x - running_mean) / "
            "np.sqrt(running_var + eps) + beta, and the running statistics come back as "
            "they were. Compute new arrays; never write into the ones you are given.")
    hints = {
        "out": "out = gamma * x_hat + beta, x_hat normalised with the batch's mean and biased "
               "variance in training mode, with the running ones in evaluation mode.",
        "new_running_mean": "In training mode new running_mean = (1 - momentum) * "
                            "running_mean + momentum * mu; in evaluation mode it is "
                            "running_mean unchanged.",
        "new_running_var": "In training mode new running_var = (1 - momentum) * running_var "
                           "+ momentum * var * N / (N - 1); in evaluation mode it is "
                           "running_var unchanged.",
    }
    return check_function("batchnorm_forward", student, batchnorm_forward_reference,
                          _forward_cases(hidden), hint,
                          results=("out", "new_running_mean", "new_running_var"),
                          hints=hints, hidden=hidden, mistakes=_batchnorm_forward_mistakes)


# ---------------------------------------------------------------------------
# The backward pass
# ---------------------------------------------------------------------------


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
    rng = np.random.default_rng(case_seed(1100 + 1000 * hidden, hidden))
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
