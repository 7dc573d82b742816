"""Checkers for the exercises of notebooks 07 and 08.

Each ``check_*`` takes the student's function, runs it and the package's own
implementation on the same few inputs (:func:`tinynet.exercises.check_function`),
and prints ``PASS``, prints "not attempted yet" (the skeleton still raises
``NotImplementedError``), or raises :class:`~tinynet.exercises.ExerciseFailed`
with a hint.

=================================  ===========================================
notebook                           checkers
=================================  ===========================================
``07_training_sgd``                :func:`check_train_one_iter`,
                                   :func:`check_minibatches`,
                                   :func:`check_sgd_step_weights_only`
``08_overfitting_weight_decay``    :func:`check_l2_penalty`,
                                   :func:`check_fit_polynomial`,
                                   :func:`check_predict_polynomial`
=================================  ===========================================
"""

import numpy as np

from ..model import PARAM_NAMES, init_params, train_one_iter
from ..optim import SGD
from ..polynomial import fit_polynomial, polynomial_features, predict_polynomial
from ..training import minibatches
from . import ExerciseFailed, Verdict, check_function, not_attempted

__all__ = [
    "check_train_one_iter",
    "check_minibatches",
    "check_sgd_step",
    "check_sgd_step_weights_only",
    "check_l2_penalty",
    "check_polynomial_features",
    "check_fit_polynomial",
    "check_predict_polynomial",
]


def _params(seed, conv1_filters=3, conv2_filters=4, num_classes=5):
    """Small TinyNet parameters with non-zero biases (zeros would hide mistakes)."""
    rng = np.random.default_rng(seed)
    params = init_params((1, 8, 8), conv1_filters, conv2_filters, num_classes, rng=rng)
    for name in ("b_conv1", "b_conv2", "b_fc"):
        params[name] = 0.1 * rng.standard_normal(params[name].shape)
    return params


def _batch(seed, N, num_classes=5):
    rng = np.random.default_rng(seed + 100)
    return rng.standard_normal((N, 1, 8, 8)), rng.integers(0, num_classes, N)


# ---------------------------------------------------------------------------
# 07: one SGD step, minibatches, and the book's weight decay
# ---------------------------------------------------------------------------


def check_train_one_iter(student, *, hidden=False):
    """``student(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t, learning_rate,
    weight_decay)`` -> the six parameters after one SGD step with weight decay.

    Also checks that the arrays passed in are left unchanged.
    """
    cases = []
    for seed, N, learning_rate, weight_decay in [(0, 4, 0.1, 0.0), (1, 6, 0.05, 0.01),
                                                 (2, 1, 0.5, 0.1)]:
        params = _params(seed)
        x, t = _batch(seed, N)
        cases.append((*(params[name] for name in PARAM_NAMES), x, t, learning_rate,
                      weight_decay))
    hint = ("Build TinyNet(W_conv1, ..., b_fc) from copies of the arrays, call "
            "forward(x, t) then backward() for the six gradients, and return "
            "p - learning_rate * (grad + weight_decay * p) for every parameter, "
            "biases included, in the order W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc.")
    if _modifies_inputs("train_one_iter", student, cases[1], hint):
        return Verdict(False, attempted=False)
    return check_function("train_one_iter", student, train_one_iter, cases, hint)


def _modifies_inputs(name, student, args, hint):
    """Call ``student`` on copies of ``args``; raise if it changed them.

    Returns True when the skeleton is not attempted yet (after printing so).
    Other errors are left for :func:`check_function` to report.
    """
    copies = tuple(np.array(a, copy=True) if isinstance(a, np.ndarray) else a for a in args)
    try:
        student(*copies)
    except NotImplementedError:
        not_attempted(name)
        return True
    except Exception:
        return False
    for before, after in zip(args, copies):
        if isinstance(before, np.ndarray) and not np.array_equal(before, after):
            raise ExerciseFailed(
                f"{name}: FAIL: your function changed an array passed to it (shape "
                f"{before.shape}) in place. The caller's arrays must stay as they were: "
                f"work on copies (np.array(p, copy=True)) or write p = p - ... instead "
                f"of p -= .... Hint: {hint}")
    return False


def check_minibatches(student, *, hidden=False):
    """``student(n_samples, batch_size, rng)`` -> list of index arrays for one epoch.

    Compared with :func:`tinynet.training.minibatches` given generators with
    the same seed, so the shuffle must be ``rng.permutation(n_samples)``.
    """
    def run(function):
        def call(n_samples, batch_size, seed):
            return tuple(np.asarray(b) for b in
                         function(n_samples, batch_size, np.random.default_rng(seed)))
        return call

    cases = [(10, 4, 0), (12, 4, 1), (7, 10, 2), (5, 1, 3), (1079, 32, 4)]
    hint = ("Shuffle once with order = rng.permutation(n_samples), then cut it into "
            "slices order[i:i + batch_size] for i in range(0, n_samples, batch_size). "
            "Keep the last, shorter batch: every sample is used exactly once per epoch.")
    return check_function("minibatches", run(student), run(minibatches), cases, hint)


def _sgd_step(params, grads, learning_rate, weight_decay):
    new = {name: np.array(p, copy=True) for name, p in params.items()}
    SGD(learning_rate, weight_decay, decay_biases=True).step(new, grads)
    return new


def check_sgd_step(student, *, hidden=False):
    """``student(params, grads, learning_rate, weight_decay)`` -> a new dict of parameters.

    Every parameter, biases included: ``p - learning_rate * (grads[name] + weight_decay * p)``;
    ``params`` and ``grads`` must not be modified.
    """
    return check_sgd_step_weights_only(student, hidden=hidden, name="sgd_step",
                                       reference=_sgd_step)


def _sgd_weights_only(params, grads, learning_rate, weight_decay):
    new = {name: np.array(p, copy=True) for name, p in params.items()}
    SGD(learning_rate, weight_decay, decay_biases=False).step(new, grads)
    return new


def check_sgd_step_weights_only(student, *, hidden=False, name="sgd_step_weights_only",
                                reference=None):
    """``student(params, grads, learning_rate, weight_decay)`` -> a new dict of parameters.

    The book's weight decay: weights (``W_...``) are decayed, biases
    (``b_...``) are not; ``params`` must not be modified.
    """
    def run(function):
        def call(*arrays_and_rates):
            *arrays, learning_rate, weight_decay = arrays_and_rates
            params = dict(zip(PARAM_NAMES, arrays[:6]))
            grads = dict(zip(PARAM_NAMES, arrays[6:]))
            new = function(params, grads, learning_rate, weight_decay)
            if not isinstance(new, dict):
                raise TypeError(f"return a dict of parameters; got {type(new).__name__}")
            missing = [name for name in PARAM_NAMES if name not in new]
            if missing:
                raise KeyError(f"the returned dict lacks {missing}")
            return tuple(new[name] for name in PARAM_NAMES)
        return call

    cases = []
    for seed, learning_rate, weight_decay in [(0, 0.1, 0.0), (1, 0.1, 0.05), (2, 0.5, 1.0)]:
        params = _params(seed)
        rng = np.random.default_rng(seed + 200)
        grads = [rng.standard_normal(params[name].shape) for name in PARAM_NAMES]
        cases.append((*(params[name] for name in PARAM_NAMES), *grads, learning_rate,
                      weight_decay))
    hint = ("For a weight (name starting with 'W'): p - learning_rate * (grad + "
            "weight_decay * p). For a bias (name starting with 'b'): p - learning_rate "
            "* grad, no decay. Build a new dict; do not change params in place.")
    if _modifies_inputs(name, run(student), cases[1], hint):
        return Verdict(False, attempted=False)
    return check_function(name, run(student), run(reference or _sgd_weights_only),
                          cases, hint)


# ---------------------------------------------------------------------------
# 08: the L2 penalty and polynomial fits
# ---------------------------------------------------------------------------


def _l2_penalty(params, weight_decay):
    return SGD(0.0, weight_decay, decay_biases=True).penalty(params)


def check_l2_penalty(student, *, hidden=False):
    """``student(params, weight_decay)`` -> ``(1/2) * weight_decay * sum of p**2`` over all
    parameters (biases included, as in ``train_one_iter``)."""
    def run(function):
        def call(*arrays_and_rate):
            *arrays, weight_decay = arrays_and_rate
            return float(function(dict(zip(PARAM_NAMES, arrays)), weight_decay))
        return call

    cases = [(*_params(seed).values(), weight_decay)
             for seed, weight_decay in [(0, 0.0), (1, 0.01), (2, 0.5)]]
    hint = ("Add up np.sum(p ** 2) over all six arrays, biases included, then multiply "
            "by weight_decay / 2. The 1/2 makes the gradient exactly weight_decay * p.")
    return check_function("l2_penalty", run(student), run(_l2_penalty), cases, hint)


def check_polynomial_features(student, *, hidden=False):
    """``student(x, degree)`` -> ``X`` of shape (N, degree + 1), columns 1, x, x**2, ..."""
    rng = np.random.default_rng(10 + 100 * hidden)
    cases = [(np.array([2.0, 3.0]), 2), (rng.uniform(-1, 1, 5), 0), (rng.uniform(-1, 1, 7), 4),
             (rng.uniform(-2, 2, 1), 3)]
    if hidden:
        cases += [(rng.uniform(-1, 1, 11), 6), (rng.uniform(-1, 1, 3), 1)]
    hint = ("Column k holds x**k, starting with k = 0 (all ones) and ending with "
            "k = degree: np.stack([x ** k for k in range(degree + 1)], axis=1), or "
            "x[:, None] ** np.arange(degree + 1).")
    return check_function("polynomial_features", student, polynomial_features, cases, hint,
                          rtol=1e-12, atol=1e-12)


def check_fit_polynomial(student, *, hidden=False):
    """``student(x, y, degree, weight_decay)`` -> coefficients (constant first) minimising
    ``(1/N) ||X w - y||^2 + (weight_decay / 2) ||w[1:]||^2``."""
    rng = np.random.default_rng(8)
    cases = []
    for N, degree, weight_decay in [(20, 1, 0.0), (20, 2, 0.0), (15, 3, 0.1), (30, 5, 0.01),
                                    (10, 4, 1.0)]:
        x = np.sort(rng.uniform(-1, 1, N))
        y = 0.2 - 0.5 * x + x ** 2 + 0.1 * rng.standard_normal(N)
        cases.append((x, y, degree, weight_decay))
    hint = ("Build X with columns x**0 ... x**degree, then solve "
            "(X.T @ X + (N * weight_decay / 2) * P) w = X.T @ y with np.linalg.solve, "
            "where P is the identity with P[0, 0] = 0: the constant term is not "
            "penalised. Check the factor N / 2: it comes from the 1/N in the mean "
            "and the 1/2 in the penalty.")
    return check_function("fit_polynomial", student, fit_polynomial, cases, hint,
                          rtol=1e-6, atol=1e-8)


def check_predict_polynomial(student, *, hidden=False):
    """``student(coefficients, x)`` -> ``sum_k coefficients[k] * x**k`` (constant first)."""
    rng = np.random.default_rng(9)
    cases = [(np.array([0.2, -0.5, 1.0]), np.linspace(-1, 1, 7)),
             (np.array([3.0]), rng.uniform(-1, 1, 4)),
             (rng.standard_normal(6), rng.uniform(-2, 2, 10)),
             (rng.standard_normal(16), rng.uniform(-1, 1, (3, 5)))]
    hint = ("coefficients[0] is the constant and coefficients[k] multiplies x**k. "
            "Horner's rule: start with y = coefficients[-1], then for each earlier "
            "coefficient c (from the end) set y = y * x + c. The result has the shape of x.")
    return check_function("predict_polynomial", student, predict_polynomial, cases, hint,
                          rtol=1e-9, atol=1e-12)
