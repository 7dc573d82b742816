"""Checkers for the exercises of notebooks 07 and 08.

Each ``check_*(student, *, hidden=False)`` takes the student's function, runs
it and the package's own implementation on the same few inputs
(:func:`tinynet.exercises.check_function`; ``hidden=True`` draws other, more
cases),
and prints ``PASS``, prints "not attempted yet" (the skeleton still raises
``NotImplementedError``), or raises :class:`~tinynet.exercises.ExerciseFailed`
with a hint.

=================================  ===========================================
notebook                           checkers
=================================  ===========================================
``07_training_sgd``                :func:`check_train_one_iter`,
                                   :func:`check_minibatches`,
                                   :func:`check_sgd_step`,
                                   :func:`check_sgd_step_weights_only`
``08_overfitting_weight_decay``    :func:`check_l2_penalty`,
                                   :func:`check_polynomial_features`,
                                   :func:`check_fit_polynomial`,
                                   :func:`check_predict_polynomial`
=================================  ===========================================

The three SGD steps (``train_one_iter``, ``sgd_step``, ``sgd_step_weights_only``)
name the usual wrong updates when an answer matches one (:func:`_sgd_mistakes`:
the decay's sign, a missing decay or gradient, biases decayed or not, the
gradient or the learning rate counted twice, gradient ascent, parameters
returned unchanged, ...), and say when an answer is right with
``weight_decay=0`` only. Their last case is float32.
"""

import numpy as np

from ..model import PARAM_NAMES, TinyNet, init_params, train_one_iter
from ..optim import SGD, is_bias
from ..polynomial import fit_polynomial, polynomial_features, predict_polynomial
from ..training import minibatches
from . import Case, case_seed, check_function

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


def _generator(seed, hidden=False):
    """The cases' random numbers: another stream for the hidden cases."""
    return np.random.default_rng(case_seed(seed + 1000 * hidden, hidden))


def _params(rng, input_shape=(1, 8, 8), conv1_filters=3, conv2_filters=4, num_classes=5,
            dtype=np.float64):
    """Small TinyNet parameters with non-zero biases (zeros would hide mistakes)."""
    params = init_params(input_shape, conv1_filters, conv2_filters, num_classes, rng=rng)
    for name in ("b_conv1", "b_conv2", "b_fc"):
        params[name] = 0.1 * rng.standard_normal(params[name].shape)
    return {name: p.astype(dtype) for name, p in params.items()}


# ---------------------------------------------------------------------------
# the usual wrong SGD steps, named
# ---------------------------------------------------------------------------

def _sgd_mistakes(params, grads, learning_rate, weight_decay, biases_decayed):
    """``(wrong new params, message)`` for the usual wrong SGD steps with weight decay.

    ``params`` and ``grads`` are dicts by name; ``biases_decayed`` says whether
    the right step decays the biases (the course's exercise) or not (the book's).
    The runner names the first wrong step that matches the student's answer and
    differs from the right one on the case at hand.
    """
    lr, wd = learning_rate, weight_decay

    def decay(name):  # the decay factor the right step uses for this parameter
        return wd if biases_decayed or not is_bias(name) else 0.0

    def stepped(rule, decays=decay):
        return {k: rule(p, grads[k], decays(k)) for k, p in params.items()}

    formula = ("p - learning_rate * (grad + weight_decay * p)" if biases_decayed else
               "p - learning_rate * (grad + weight_decay * p) for the weights and "
               "p - learning_rate * grad for the biases")
    unchanged = ("your step returns the parameters unchanged: every new value equals the "
                 "one passed in.")
    if wd == 0:
        unchanged += (" On this case (weight_decay=0) that is also what a step without the "
                      "gradient gives, since learning_rate * weight_decay * p is 0.")
    unchanged += (f" The step must use the gradient: {formula}. If you computed new arrays, "
                  f"return those: `for p in params: p = p - ...` only rebinds the loop "
                  f"variable.")
    mistakes = [
        (stepped(lambda p, g, d: p), unchanged),
        (stepped(lambda p, g, d: p + lr * (g + d * p)),
         "your step matches p + learning_rate * (grad + weight_decay * p): that climbs the "
         "loss (gradient ascent). Subtract: p - learning_rate * (...)."),
        (stepped(lambda p, g, d: p - lr * (g - d * p)),
         "your step matches p - learning_rate * (grad - weight_decay * p): the decay term "
         "has the wrong sign. Its gradient weight_decay * p is added to grad, so that the "
         "step pulls every parameter toward 0."),
        (stepped(lambda p, g, d: p - lr * g),
         f"your step matches p - learning_rate * grad: the weight decay is missing. Add "
         f"weight_decay * p to the gradient: {formula}."),
        (stepped(lambda p, g, d: p - lr * d * p),
         "your step matches p - learning_rate * weight_decay * p: the gradient is missing. "
         f"The step is {formula}, grad being the gradient of the loss."),
        (stepped(lambda p, g, d: p - lr * (2 * g + d * p)),
         "your step matches p - learning_rate * (2 * grad + weight_decay * p): the gradient "
         "is counted twice. Add it once (look for a gradient that already holds grad, or "
         "a `+=` run twice)."),
        (stepped(lambda p, g, d: p - lr * lr * (g + d * p)),
         "your step matches p - learning_rate * learning_rate * (grad + weight_decay * p): "
         "the learning rate is applied twice. Multiply by learning_rate once."),
        (stepped(lambda p, g, d: p - lr * (lr * g + d * p)),
         "your step matches p - learning_rate * (learning_rate * grad + weight_decay * p): "
         "the gradient is multiplied by learning_rate twice. Multiply the whole sum "
         "(grad + weight_decay * p) by learning_rate once."),
        (stepped(lambda p, g, d: p - lr * (g + lr * d * p)),
         "your step matches p - learning_rate * (grad + learning_rate * weight_decay * p): "
         "the decay term is multiplied by learning_rate twice. Multiply the whole sum "
         "(grad + weight_decay * p) by learning_rate once."),
        (stepped(lambda p, g, d: p - (g + d * p)),
         "your step matches p - (grad + weight_decay * p): the learning rate is missing. "
         "Multiply the sum by learning_rate."),
        (stepped(lambda p, g, d: p - lr * (g + d * p / 2)),
         "your step matches p - learning_rate * (grad + weight_decay * p / 2): the decay "
         "term is halved. The penalty (1/2) * weight_decay * p ** 2 has the gradient "
         "weight_decay * p: the 2 of the square cancels the 1/2."),
        (stepped(lambda p, g, d: p - lr * (g + 2 * d * p)),
         "your step matches p - learning_rate * (grad + 2 * weight_decay * p): the decay "
         "term is doubled. The penalty (1/2) * weight_decay * p ** 2 has the gradient "
         "weight_decay * p: the 2 of the square cancels the 1/2."),
        (stepped(lambda p, g, d: (p - lr * g) * (1 - lr * d)),
         "your step decays the parameter after the gradient step, (p - learning_rate * grad) "
         "* (1 - learning_rate * weight_decay): both terms must come from the old p, "
         "p - learning_rate * (grad + weight_decay * p)."),
    ]
    if biases_decayed:
        mistakes.append(
            (stepped(lambda p, g, d: p - lr * (g + d * p),
                     decays=lambda k: 0.0 if is_bias(k) else wd),
             "your step decays the weights but not the biases (b_conv1, b_conv2, b_fc): in "
             "this exercise every parameter is decayed, p - learning_rate * (grad + "
             "weight_decay * p) for the biases too."))
    else:
        mistakes += [
            (stepped(lambda p, g, d: p - lr * (g + wd * p), decays=lambda k: wd),
             "your step decays the biases too: the book's weight decay leaves them alone. "
             "A bias (a name starting with 'b') steps by p - learning_rate * grad; only the "
             "weights (names starting with 'W') get + weight_decay * p."),
            (stepped(lambda p, g, d: p - lr * (g + d * p),
                     decays=lambda k: wd if is_bias(k) else 0.0),
             "your step decays the biases and not the weights: the other way round. The "
             "weights (names starting with 'W') get + weight_decay * p, the biases (names "
             "starting with 'b') do not."),
        ]
    return mistakes


# ---------------------------------------------------------------------------
# 07: one SGD step, minibatches, and weight decay
# ---------------------------------------------------------------------------

# (input_shape, F1, F2, K, N, one-hot labels, learning_rate, weight_decay):
# the digits' 8x8, N = 1, one-hot labels, and odd 7x9 images with 3 channels.
# The last case of each list is float32: the step must keep the parameters' dtype.
_TRAIN_CASES = [
    ((1, 8, 8), 3, 4, 5, 4, False, 0.1, 0.0),
    ((1, 8, 8), 3, 4, 5, 6, True, 0.05, 0.01),
    ((1, 8, 8), 2, 3, 4, 1, False, 0.5, 0.1),
    ((3, 7, 9), 2, 3, 3, 3, False, 0.1, 0.05),
    ((1, 8, 8), 3, 4, 5, 4, False, 0.1, 0.01),
]
_TRAIN_HIDDEN_CASES = [
    ((1, 8, 8), 4, 6, 10, 8, False, 0.1, 0.001),
    ((3, 7, 9), 3, 2, 4, 1, True, 0.2, 0.05),
    ((2, 9, 6), 2, 4, 3, 5, True, 0.01, 0.5),
    ((1, 5, 11), 3, 3, 6, 2, False, 1.0, 0.01),
    ((3, 6, 6), 2, 2, 2, 7, False, 0.05, 0.0),
    ((1, 10, 7), 2, 5, 5, 3, True, 0.3, 0.02),
    ((2, 6, 8), 3, 2, 4, 5, True, 0.2, 0.03),
]


_BIAS_HINTS = {
    name: f"{name} is a bias: it is decayed too, {name} - learning_rate * (grad + "
          f"weight_decay * {name}), exactly like the weights."
    for name in ("b_conv1", "b_conv2", "b_fc")
}


def check_train_one_iter(student, *, hidden=False):
    """``student(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t, learning_rate,
    weight_decay)`` -> the six parameters after one SGD step with weight decay.

    Graded as the course exercise: compared with :func:`tinynet.train_one_iter`
    at a tolerance of 1e-5 on random cases, with index and one-hot labels,
    N = 1 and odd image sizes. The arrays passed in must stay unchanged.
    """
    rng = _generator(0, hidden)
    cases = []
    table = _TRAIN_HIDDEN_CASES if hidden else _TRAIN_CASES
    for k, (shape, F1, F2, K, N, one_hot, learning_rate, weight_decay) in enumerate(table):
        dtype = np.float32 if k == len(table) - 1 else np.float64
        params = _params(rng, shape, F1, F2, K, dtype)
        x = rng.standard_normal((N, *shape)).astype(dtype)
        t = rng.integers(0, K, size=N)
        notes = ["one-hot labels"] * one_hot + ["float32"] * (dtype == np.float32)
        cases.append(Case(**params, x=x, t=np.eye(K, dtype=dtype)[t] if one_hot else t,
                          learning_rate=learning_rate, weight_decay=weight_decay,
                          note=", ".join(notes)))
    hint = ("Build TinyNet(W_conv1, ..., b_fc), call forward(x, t) then backward() for "
            "the six gradients, and return p - learning_rate * (grad + weight_decay * p) "
            "for every parameter, biases included, in the order W_conv1, b_conv1, "
            "W_conv2, b_conv2, W_fc, b_fc, as new arrays (p = p - ..., not p -= ...).")
    return check_function("train_one_iter", student, train_one_iter, cases, hint,
                          rtol=1e-5, atol=1e-8, results=PARAM_NAMES, hints=_BIAS_HINTS,
                          hidden=hidden, mistakes=_train_one_iter_mistakes,
                          settings={"weight_decay": 0.0})


def _train_one_iter_mistakes(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t,
                             learning_rate, weight_decay):
    """The usual wrong steps, from the gradients TinyNet computes on this case."""
    params = dict(zip(PARAM_NAMES, (W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc),
                      strict=True))
    net = TinyNet(*params.values())
    net.forward(x, t)
    grads = dict(zip(PARAM_NAMES, net.backward(), strict=True))
    return [(tuple(new[name] for name in PARAM_NAMES), message)
            for new, message in _sgd_mistakes(params, grads, learning_rate, weight_decay,
                                              biases_decayed=True)]


def check_minibatches(student, *, hidden=False):
    """``student(n_samples, batch_size, rng)`` -> list of index arrays for one epoch.

    Compared with :func:`tinynet.training.minibatches` given generators with
    the same seed, so the shuffle must be ``rng.permutation(n_samples)``.
    """
    table = [(10, 4, 0), (12, 4, 1), (7, 10, 2), (5, 1, 3), (1079, 32, 4)]
    if hidden:
        table = [(9, 2, 10), (16, 16, 11), (3, 5, 12), (500, 64, 13), (31, 7, 14)]
    table = [(n, size, case_seed(seed, hidden)) for n, size, seed in table]
    cases = [Case(n_samples=n, batch_size=size, rng=np.random.default_rng(seed),
                  note=f"rng=np.random.default_rng({seed})") for n, size, seed in table]
    hint = ("Shuffle once with order = rng.permutation(n_samples), then cut it into "
            "slices order[i:i + batch_size] for i in range(0, n_samples, batch_size). "
            "Keep the last, shorter batch: every sample is used exactly once per epoch.")
    return check_function("minibatches", student, minibatches, cases, hint, hidden=hidden)


def _sgd_step(params, grads, learning_rate, weight_decay):
    new = {name: np.array(p, copy=True) for name, p in params.items()}
    SGD(learning_rate, weight_decay, decay_biases=True).step(new, grads)
    return new


def _sgd_weights_only(params, grads, learning_rate, weight_decay):
    new = {name: np.array(p, copy=True) for name, p in params.items()}
    SGD(learning_rate, weight_decay, decay_biases=False).step(new, grads)
    return new


def _sgd_cases(hidden):
    """Cases with and without decay, non-zero biases; the last one float32."""
    rng = _generator(200, hidden)
    rates = [(0.1, 0.0), (0.1, 0.05), (0.5, 1.0), (0.2, 0.1)]
    if hidden:
        rates = [(0.01, 0.3), (1.0, 0.001), (0.2, 0.0), (0.05, 2.0), (0.3, 0.02)]
    cases = []
    for k, (learning_rate, weight_decay) in enumerate(rates):
        dtype = np.float32 if k == len(rates) - 1 else np.float64
        params = _params(rng, dtype=dtype)
        grads = {name: rng.standard_normal(p.shape).astype(dtype) for name, p in params.items()}
        cases.append(Case(params=params, grads=grads, learning_rate=learning_rate,
                          weight_decay=weight_decay, note="float32" if dtype is np.float32 else ""))
    return cases


def _sgd_step_mistakes(params, grads, learning_rate, weight_decay):
    return _sgd_mistakes(params, grads, learning_rate, weight_decay, biases_decayed=True)


def _sgd_weights_only_mistakes(params, grads, learning_rate, weight_decay):
    return _sgd_mistakes(params, grads, learning_rate, weight_decay, biases_decayed=False)


def check_sgd_step(student, *, hidden=False):
    """``student(params, grads, learning_rate, weight_decay)`` -> a new dict of parameters.

    Every parameter, biases included: ``p - learning_rate * (grads[name] + weight_decay * p)``;
    ``params`` and ``grads`` must not be modified.
    """
    hint = ("For every name in params (weights and biases alike): new[name] = p - "
            "learning_rate * (grads[name] + weight_decay * p). Build a new dict of new "
            "arrays; do not change params or grads in place.")
    return check_function("sgd_step", student, _sgd_step, _sgd_cases(hidden), hint,
                          hints=_BIAS_HINTS, hidden=hidden, mistakes=_sgd_step_mistakes,
                          settings={"weight_decay": 0.0})


def check_sgd_step_weights_only(student, *, hidden=False):
    """``student(params, grads, learning_rate, weight_decay)`` -> a new dict of parameters.

    The book's weight decay: weights (``W_...``) are decayed, biases
    (``b_...``) are not; ``params`` must not be modified.
    """
    hint = ("For a weight (name starting with 'W'): p - learning_rate * (grad + "
            "weight_decay * p). For a bias (name starting with 'b'): p - learning_rate "
            "* grad, no decay. Build a new dict; do not change params in place.")
    return check_function("sgd_step_weights_only", student, _sgd_weights_only,
                          _sgd_cases(hidden), hint, hidden=hidden,
                          mistakes=_sgd_weights_only_mistakes, settings={"weight_decay": 0.0})


# ---------------------------------------------------------------------------
# 08: the L2 penalty and polynomial fits
# ---------------------------------------------------------------------------


def _l2_penalty(params, weight_decay):
    return float(SGD(0.0, weight_decay, decay_biases=True).penalty(params))


def check_l2_penalty(student, *, hidden=False):
    """``student(params, weight_decay)`` -> ``(1/2) * weight_decay * sum of p**2`` over all
    parameters (biases included, as in ``train_one_iter``)."""
    rng = _generator(1, hidden)
    rates = [0.3, 0.002, 1.5, 0.0] if hidden else [0.0, 0.01, 0.5]
    cases = [Case(params=_params(rng), weight_decay=rate) for rate in rates]
    hint = ("Add up np.sum(p ** 2) over all six arrays, biases included, then multiply "
            "by weight_decay / 2. The 1/2 makes the gradient exactly weight_decay * p.")
    return check_function("l2_penalty", student, _l2_penalty, cases, hint, hidden=hidden)


def check_polynomial_features(student, *, hidden=False):
    """``student(x, degree)`` -> ``X`` of shape (N, degree + 1), columns 1, x, x**2, ..."""
    rng = _generator(10, hidden)
    table = [(2, 2), (5, 0), (7, 4), (1, 3)]
    if hidden:
        table = [(11, 6), (3, 1), (8, 9), (1, 0), (6, 2)]
    cases = [Case(x=rng.uniform(-2, 2, N), degree=degree) for N, degree in table]
    if not hidden:
        cases[0]["x"] = np.array([2.0, 3.0])  # the docstring's example
    hint = ("Column k holds x**k, starting with k = 0 (all ones) and ending with "
            "k = degree: x[:, None] ** np.arange(degree + 1), or np.stack([x ** k for k "
            "in range(degree + 1)], axis=1).")
    return check_function("polynomial_features", student, polynomial_features, cases, hint,
                          rtol=1e-12, atol=1e-12, hidden=hidden)


def check_fit_polynomial(student, *, hidden=False):
    """``student(x, y, degree, weight_decay)`` -> coefficients (constant first) minimising
    ``(1/N) ||X w - y||^2 + (weight_decay / 2) ||w[1:]||^2``."""
    rng = _generator(8, hidden)
    table = [(20, 1, 0.0), (20, 2, 0.0), (15, 3, 0.1), (30, 5, 0.01), (10, 4, 1.0)]
    if hidden:
        table = [(25, 3, 0.0), (12, 2, 0.5), (40, 6, 0.001), (8, 1, 2.0), (18, 4, 0.05)]
    cases = []
    for N, degree, weight_decay in table:
        x = np.sort(rng.uniform(-1, 1, N))
        y = 0.2 - 0.5 * x + x ** 2 + 0.1 * rng.standard_normal(N)
        cases.append(Case(x=x, y=y, degree=degree, weight_decay=weight_decay))
    hint = ("Build X with columns x**0 ... x**degree, then solve "
            "(X.T @ X + (N * weight_decay / 2) * P) w = X.T @ y with np.linalg.solve, "
            "where P is the identity with P[0, 0] = 0: the constant term is not "
            "penalised. Check the factor N / 2: it comes from the 1/N in the mean "
            "and the 1/2 in the penalty.")
    return check_function("fit_polynomial", student, fit_polynomial, cases, hint,
                          rtol=1e-6, atol=1e-8, hidden=hidden)


def check_predict_polynomial(student, *, hidden=False):
    """``student(coefficients, x)`` -> ``sum_k coefficients[k] * x**k`` (constant first)."""
    rng = _generator(9, hidden)
    if hidden:
        table = [(rng.standard_normal(4), rng.uniform(-1, 1, 9)),
                 (rng.standard_normal(1), rng.uniform(-1, 1, (2, 3))),
                 (rng.standard_normal(9), rng.uniform(-2, 2, 5))]
    else:
        table = [(np.array([0.2, -0.5, 1.0]), np.linspace(-1, 1, 7)),
                 (np.array([3.0]), rng.uniform(-1, 1, 4)),
                 (rng.standard_normal(6), rng.uniform(-2, 2, 10)),
                 (rng.standard_normal(16), rng.uniform(-1, 1, (3, 5)))]
    cases = [Case(coefficients=c, x=x) for c, x in table]
    hint = ("coefficients[0] is the constant and coefficients[k] multiplies x**k. "
            "Horner's rule: start with y = coefficients[-1], then for each earlier "
            "coefficient c (from the end) set y = y * x + c. The result has the shape of x.")
    return check_function("predict_polynomial", student, predict_polynomial, cases, hint,
                          rtol=1e-9, atol=1e-12, hidden=hidden)
