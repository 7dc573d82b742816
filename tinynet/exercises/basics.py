"""Checkers for the exercises of notebooks 00 to 03.

Each ``check_*(student, *, hidden=False)`` takes the student's function, runs
it and the package's own implementation on the same few inputs
(:func:`tinynet.exercises.check_function`; ``hidden=True`` draws other, more
cases),
and prints ``PASS``, prints "not attempted yet" (the skeleton still raises
``NotImplementedError``), or raises :class:`~tinynet.exercises.ExerciseFailed`
with a hint.

===================================  =========================================
notebook                             checkers
===================================  =========================================
``00_introduction``                  :func:`check_add_batch_axes`,
                                     :func:`check_channels_first`
``01_gradient_descent``              :func:`check_gradient_descent`,
                                     :func:`check_numerical_derivative`,
                                     :func:`check_numerical_gradient_descent`
``02_fully_connected_and_relu``      :func:`check_fc_forward`,
                                     :func:`check_fc_backward`,
                                     :func:`check_relu_forward`,
                                     :func:`check_relu_backward`,
                                     :func:`check_fc_relu_fc_backward`
``03_softmax_cross_entropy``         :func:`check_softmax`,
                                     :func:`check_cross_entropy`,
                                     :func:`check_cross_entropy_loss`,
                                     :func:`check_softmax_cross_entropy_backward`,
                                     :func:`check_cross_entropy_gradient`
===================================  =========================================
"""

import numpy as np

from ..experiments import bumpy, bumpy_gradient, gradient_descent
from ..gradcheck import numerical_gradient
from ..layers import FullyConnected, Relu, SoftmaxWithLoss
from . import Case, case_seed, check_function, float32_case

__all__ = [
    "check_add_batch_axes",
    "check_channels_first",
    "check_gradient_descent",
    "check_numerical_derivative",
    "check_numerical_gradient_descent",
    "check_fc_forward",
    "check_fc_backward",
    "check_relu_forward",
    "check_relu_backward",
    "check_fc_relu_fc_backward",
    "check_softmax",
    "check_cross_entropy",
    "check_cross_entropy_loss",
    "check_softmax_cross_entropy_backward",
    "check_cross_entropy_gradient",
]


def _generator(seed, hidden=False):
    """The cases' random numbers: another stream for the hidden cases."""
    return np.random.default_rng(case_seed(seed + 1000 * hidden, hidden))


# ---------------------------------------------------------------------------
# 00: the (N, C, H, W) convention
# ---------------------------------------------------------------------------


def _add_batch_axes(image):
    return np.asarray(image)[None, None]  # (H, W) -> (1, 1, H, W)


def check_add_batch_axes(student, *, hidden=False):
    """``student(image)``: one grey image (H, W) -> a batch of one, (1, 1, H, W)."""
    rng = _generator(0, hidden)
    sizes = [(8, 8), (5, 7), (1, 3)] + ([(6, 2), (9, 4), (3, 3)] if hidden else [])
    cases = [Case(image=rng.random(size)) for size in sizes]
    hint = ("Add two axes in front: axis 0 is the batch (N = 1) and axis 1 the "
            "channel (C = 1); the pixels keep their (H, W) layout. Indexing with "
            "None adds an axis of length 1.")
    cases.append(float32_case(Case(image=rng.random((4, 6)))))
    return check_function("add_batch_axes", student, _add_batch_axes, cases, hint,
                          hidden=hidden)


def _channels_first(x):
    return np.transpose(x, (0, 3, 1, 2))  # (N, H, W, C) -> (N, C, H, W)


def check_channels_first(student, *, hidden=False):
    """``student(x)``: images (N, H, W, C) -> the same images as (N, C, H, W)."""
    rng = _generator(1, hidden)
    sizes = [(2, 4, 5, 3), (1, 3, 3, 1), (3, 2, 6, 4)]
    if hidden:
        sizes += [(4, 5, 2, 3), (2, 3, 7, 2)]
    cases = [Case(x=rng.random(size)) for size in sizes]
    cases.append(float32_case(Case(x=rng.random((2, 3, 4, 2)))))
    hint = ("Moving an axis is a transpose (np.transpose with the new order of the "
            "axes), not a reshape: reshape keeps the numbers in their memory order "
            "and mixes pixels of different channels. Output axis k is input axis "
            "order[k].")
    return check_function("channels_first", student, _channels_first, cases, hint,
                          hidden=hidden)


# ---------------------------------------------------------------------------
# 01: gradient descent
# ---------------------------------------------------------------------------


def _parabola_gradient(w):
    return 2.0 * w  # derivative of w ** 2


def check_gradient_descent(student, *, hidden=False):
    """``student(gradient, start, learning_rate, steps)`` -> the path of ``w``.

    The path holds ``steps + 1`` values: ``start``, then ``w`` after each
    update ``w <- w - learning_rate * gradient(w)``. Compared with
    :func:`tinynet.experiments.gradient_descent` on runs that do not diverge.
    """
    runs = [(bumpy_gradient, 2.0, 0.1, 10), (bumpy_gradient, -2.0, 0.05, 6),
            (_parabola_gradient, 3.0, 0.25, 5), (bumpy_gradient, 0.5, 0.1, 0)]
    if hidden:
        runs = [(bumpy_gradient, 1.7, 0.08, 13), (_parabola_gradient, -1.5, 0.3, 7),
                (bumpy_gradient, -0.4, 0.02, 1), (bumpy_gradient, 0.9, 0.15, 0),
                (bumpy_gradient, -1.2, 0.1, 9), (_parabola_gradient, 0.7, 0.45, 4),
                (bumpy_gradient, 2.3, 0.01, 20)]
    cases = [Case(gradient=g, start=s, learning_rate=lr, steps=n) for g, s, lr, n in runs]
    hint = ("Return an array of steps + 1 numbers, start first. Each step uses the "
            "gradient at the current w (not at start): w = w - learning_rate * "
            "gradient(w). With steps = 0 the path is just [start].")
    return check_function("gradient_descent", student, gradient_descent, cases, hint,
                          hidden=hidden)


def _central_difference(f, w, eps):
    x = np.array([w], dtype=np.float64)
    return float(numerical_gradient(lambda: float(f(x[0])), x, eps)[0])


def check_numerical_derivative(student, *, hidden=False):
    """``student(f, w, eps)`` -> the central-difference estimate of f'(w)."""
    points = [(bumpy, 2.0, 1e-3), (np.sin, 0.5, 1e-4), (np.exp, 1.0, 1e-2), (bumpy, -1.0, 0.1)]
    if hidden:
        points = [(np.cos, 2.5, 1e-3), (bumpy, 0.3, 0.05), (np.exp, -1.0, 1e-3),
                  (bumpy, 1.4, 1e-2), (np.sin, -0.8, 1e-4), (bumpy, -1.9, 2e-3),
                  (np.exp, 0.4, 0.05)]
    cases = [Case(f=f, w=w, eps=eps) for f, w, eps in points]
    hint = ("Use the central difference (f(w + eps) - f(w - eps)) / (2 * eps), which "
            "looks at both sides of w. The one-sided (f(w + eps) - f(w)) / eps is off "
            "by about eps * f''(w) / 2, far more than this check allows.")
    return check_function("numerical_derivative", student, _central_difference, cases,
                          hint, rtol=1e-6, hidden=hidden)


def _numerical_gradient_descent(f, start, learning_rate, steps, eps):
    return gradient_descent(lambda w: _central_difference(f, w, eps), start, learning_rate,
                            steps)


def check_numerical_gradient_descent(student, *, hidden=False):
    """``student(f, start, learning_rate, steps, eps)`` -> the path of ``w``.

    Gradient descent on ``f`` itself: each step estimates f'(w) by the
    central difference with step ``eps`` instead of calling a derivative.
    """
    runs = [(bumpy, 2.0, 0.1, 10, 1e-4), (np.cos, 1.0, 0.5, 8, 1e-3),
            (bumpy, -2.0, 0.05, 5, 1e-2), (bumpy, 0.5, 0.1, 0, 1e-3)]
    if hidden:
        runs = [(np.sin, 0.3, 0.2, 9, 1e-3), (bumpy, 1.1, 0.07, 12, 1e-2),
                (np.cos, -0.5, 0.3, 4, 1e-4), (bumpy, -1.6, 0.05, 0, 1e-3),
                (bumpy, 0.2, 0.12, 6, 1e-4), (np.sin, 2.0, 0.1, 3, 1e-2)]
    cases = [Case(f=f, start=s, learning_rate=lr, steps=n, eps=eps)
             for f, s, lr, n, eps in runs]
    hint = ("Same loop as gradient descent, steps + 1 values with start first, but the "
            "slope at the current w is the central difference (f(w + eps) - f(w - eps)) / "
            "(2 * eps): you are given f, not its derivative.")
    return check_function("numerical_gradient_descent", student,
                          _numerical_gradient_descent, cases, hint, rtol=1e-6, hidden=hidden)


# ---------------------------------------------------------------------------
# 02: fully connected layer and ReLU
# ---------------------------------------------------------------------------

# (N, input shape without N, M): flat inputs, an (N, C, H, W) input, N = 1
_FC_SIZES = [(2, (3,), 2), (4, (5,), 3), (2, (2, 3, 3), 4), (1, (6,), 1), (3, (2, 2, 2), 2)]
_FC_HIDDEN_SIZES = [(5, (3, 2, 2), 3), (3, (7,), 6), (1, (2, 1, 3), 2), (6, (4,), 5),
                    (2, (5,), 3)]


def _fc_cases(seed, hidden, with_dout):
    """One case per size; the last size is float32."""
    rng = _generator(seed, hidden)
    cases = []
    for N, rest, M in _FC_HIDDEN_SIZES if hidden else _FC_SIZES:
        D = int(np.prod(rest))
        x, W, b = (rng.standard_normal((N, *rest)), rng.standard_normal((D, M)),
                   rng.standard_normal(M))
        cases.append(Case(dout=rng.standard_normal((N, M)), x=x, W=W) if with_dout
                     else Case(x=x, W=W, b=b))
    return cases[:-1] + [float32_case(cases[-1])]


def _fc_forward(x, W, b):
    return FullyConnected(W, b).forward(x)


def check_fc_forward(student, *, hidden=False):
    """``student(x, W, b)`` -> ``out = x_flat @ W + b`` of shape (N, M).

    ``x`` may be (N, D) or (N, C, H, W); it is flattened to (N, D) first.
    """
    hint = ("Flatten x to (N, D) with x.reshape(len(x), -1), multiply by W (D, M) and "
            "add b (M,), which broadcasts over the rows: out = x_flat @ W + b.")
    return check_function("fc_forward", student, _fc_forward,
                          _fc_cases(12, hidden, with_dout=False), hint, hidden=hidden)


def _fc_backward(dout, x, W):
    layer = FullyConnected(W, np.zeros(W.shape[1], dtype=W.dtype))
    layer.forward(x)
    dx = layer.backward(dout)
    return dx, layer.dW, layer.db


def check_fc_backward(student, *, hidden=False):
    """``student(dout, x, W)`` -> ``(dx, dW, db)`` of ``out = x_flat @ W + b``.

    ``x`` may be (N, D) or (N, C, H, W); ``dx`` must have the shape of ``x``.
    """
    cases = _fc_cases(2, hidden, with_dout=True)
    if not hidden:  # the notebook's worked example first
        cases.insert(0, Case(dout=np.array([[1.0, 0.0], [0.0, 2.0]]),
                             x=np.array([[1.0, 2.0, 0.0], [0.0, 1.0, -1.0]]),
                             W=np.array([[1.0, 0.0], [2.0, -1.0], [0.0, 1.0]])))
    hint = ("dx = dout @ W.T reshaped back to x.shape; dW = x_flat.T @ dout with x "
            "flattened to (N, D); db = dout summed over the batch (axis 0). Each "
            "gradient has the shape of what it is the gradient of: dx like x, dW "
            "like W (D, M), db like b (M,).")
    return check_function("fc_backward", student, _fc_backward, cases, hint,
                          results=("dx", "dW", "db"), hidden=hidden)


def _relu_cases(seed, hidden, with_dout):
    rng = _generator(seed, hidden)
    shapes = [(5, 1, 4, 6), (7,), (2, 3, 2, 2, 2)] if hidden else [(3, 4), (2, 2, 3, 3)]
    xs = [rng.standard_normal(shape) for shape in shapes]
    if not hidden:
        xs.append(np.array([[-1.0, 0.0, 2.0], [0.5, -0.0, -3.0]]))  # at x == 0 the gradient is 0
    xs.append(rng.standard_normal((2, 3, 3)))  # run in float32
    if with_dout:
        cases = [Case(dout=rng.standard_normal(x.shape), x=x) for x in xs]
    else:
        cases = [Case(x=x) for x in xs]
    return cases[:-1] + [float32_case(cases[-1])]


def _relu_forward(x):
    return Relu().forward(x)


def check_relu_forward(student, *, hidden=False):
    """``student(x)`` -> ``out = max(x, 0)`` element by element, any shape."""
    hint = ("Keep positive entries, replace the others by 0: np.maximum(x, 0). Return a "
            "new array of the shape of x; do not modify x.")
    return check_function("relu_forward", student, _relu_forward,
                          _relu_cases(13, hidden, with_dout=False), hint, hidden=hidden)


def _relu_backward(dout, x):
    layer = Relu()
    layer.forward(x)
    return layer.backward(dout)


def check_relu_backward(student, *, hidden=False):
    """``student(dout, x)`` -> ``dx`` of ``out = max(x, 0)``, any shape."""
    hint = ("The gradient passes where the input was positive and is 0 elsewhere "
            "(x == 0 counts as elsewhere): keep dout where x > 0. The mask depends on "
            "x, not on the sign of dout. Return a new array; do not modify dout.")
    return check_function("relu_backward", student, _relu_backward,
                          _relu_cases(3, hidden, with_dout=True), hint, hidden=hidden)


def _fc_relu_fc_backward(dout, x, W1, b1, W2, b2):
    fc1, relu, fc2 = FullyConnected(W1, b1), Relu(), FullyConnected(W2, b2)
    fc2.forward(relu.forward(fc1.forward(x)))
    dh = relu.backward(fc2.backward(dout))
    dx = fc1.backward(dh)
    return dx, fc1.dW, fc1.db, fc2.dW, fc2.db


def check_fc_relu_fc_backward(student, *, hidden=False):
    """``student(dout, x, W1, b1, W2, b2)`` -> ``(dx, dW1, db1, dW2, db2)``.

    The network is ``out = relu(x @ W1 + b1) @ W2 + b2`` with x of shape (N, D).
    """
    sizes = [(2, 3, 4, 2), (5, 6, 8, 3), (1, 4, 3, 5), (3, 4, 5, 2)]
    if hidden:
        sizes = [(3, 5, 7, 2), (1, 2, 6, 4), (6, 3, 3, 3), (4, 7, 5, 1), (2, 3, 4, 3)]
    cases = []
    for seed, (N, D, H, M) in enumerate(sizes, 4):
        rng = _generator(seed, hidden)
        cases.append(Case(dout=rng.standard_normal((N, M)), x=rng.standard_normal((N, D)),
                          W1=rng.standard_normal((D, H)), b1=rng.standard_normal(H),
                          W2=rng.standard_normal((H, M)), b2=rng.standard_normal(M)))
    cases[-1] = float32_case(cases[-1])
    hint = ("First run the forward pass and keep a = x @ W1 + b1 and h = relu(a). "
            "Then go backward in reverse order: dW2 = h.T @ dout, db2 = dout summed "
            "over the batch, dh = dout @ W2.T; ReLU keeps dh only where a > 0; then "
            "the first layer's dx, dW1, db1 from that masked gradient.")
    return check_function("fc_relu_fc_backward", student, _fc_relu_fc_backward, cases, hint,
                          results=("dx", "dW1", "db1", "dW2", "db2"), hidden=hidden)


# ---------------------------------------------------------------------------
# 03: softmax and cross-entropy
# ---------------------------------------------------------------------------


def _softmax(x):
    layer = SoftmaxWithLoss()
    layer.forward(x, np.zeros(len(x), dtype=np.intp))  # any labels: y does not depend on them
    return layer.y


def _scores(seed, hidden):
    """Score matrices (N, K): random ones, and ones where a naive exp overflows."""
    rng = _generator(seed, hidden)
    if hidden:
        return [rng.standard_normal((5, 6)), 900.0 + 3 * rng.standard_normal((3, 4)),
                np.array([[1.0, 1.0], [-700.0, 20.0]]), rng.standard_normal((1, 3)),
                np.array([[0.0, -750.0, 2.0, 1.0]])]
    return [
        rng.standard_normal((3, 4)),
        # exp overflows / underflows
        np.array([[1000.0, 999.0, 998.0], [-1000.0, -1001.0, -1002.0]]),
        np.array([[0.0, 0.0, 0.0, 0.0, 0.0]]),                            # uniform
        np.array([[2.0, 1.0, 0.0], [5.0, -800.0, 3.0]]),                  # one tiny probability
    ]


def _labels(rng, x, one_hot=False, dtype=np.float64):
    t = rng.integers(0, x.shape[1], size=len(x))
    return np.eye(x.shape[1], dtype=dtype)[t] if one_hot else t


def check_softmax(student, *, hidden=False):
    """``student(x)``: scores (N, K) -> probabilities (N, K), row by row."""
    cases = [Case(x=x) for x in _scores(6, hidden)]
    cases.append(float32_case(Case(x=_generator(16, hidden).standard_normal((3, 5)))))
    hint = ("Subtract each row's maximum before np.exp (x.max(axis=1, keepdims=True)) "
            "so that exp never overflows to inf, and divide each row by its own sum "
            "(axis=1, keepdims=True), not by the sum of the whole batch.")
    return check_function("softmax", student, _softmax, cases, hint, hidden=hidden)


def _cross_entropy(y, t):
    N = y.shape[0]
    labels = t.argmax(axis=1) if t.ndim == 2 else t
    return float(-np.mean(np.log(y[np.arange(N), labels])))


def check_cross_entropy(student, *, hidden=False):
    """``student(y, t)``: probabilities (N, K), labels (N,) or one-hot (N, K) -> mean loss."""
    rng = _generator(14, hidden)
    sizes = [(3, 4, False), (2, 3, True), (1, 5, False), (4, 2, True)]
    if hidden:
        sizes = [(6, 7, False), (5, 3, True), (1, 4, True), (8, 10, False)]
    cases = []
    for N, K, one_hot in sizes:
        y = _softmax(rng.standard_normal((N, K)))
        cases.append(Case(y=y, t=_labels(rng, y, one_hot),
                          note="one-hot labels" if one_hot else "index labels"))
    hint = ("Pick each row's probability of its true class, y[np.arange(N), t], take -log "
            "and average over the batch (divide by N). One-hot labels (t.ndim == 2) "
            "become indices with t.argmax(axis=1).")
    return check_function("cross_entropy", student, _cross_entropy, cases, hint,
                          hidden=hidden)


def _cross_entropy_loss(x, t):
    return SoftmaxWithLoss().forward(x, t)


def check_cross_entropy_loss(student, *, hidden=False):
    """``student(x, t)``: scores (N, K), labels (N,) -> mean cross-entropy (float)."""
    rng = _generator(7, hidden)
    cases = [Case(x=x, t=_labels(rng, x)) for x in _scores(7, hidden)]
    if not hidden:
        cases[3]["t"] = np.array([0, 1])  # the true class has probability e^-805
        cases.append(Case(x=np.array([[0.0, 1000.0]]), t=np.array([0]),
                          note="log(0) would give inf"))
    hint = ("Compute log-probabilities without ever taking log of a rounded-to-zero "
            "probability: log y[n, k] = x[n, k] - m[n] - log(sum_j exp(x[n, j] - m[n])), "
            "m[n] being the row maximum (log-sum-exp). Pick the true class of each "
            "row with log_y[np.arange(N), t] and average over the batch.")
    return check_function("cross_entropy_loss", student, _cross_entropy_loss, cases, hint,
                          hidden=hidden)


def _cross_entropy_gradient(x, t):
    layer = SoftmaxWithLoss()
    layer.forward(x, t)
    return layer.backward(1.0)


def _gradient_check(name, student, hidden):
    rng = _generator(8, hidden)
    cases = []
    for k, x in enumerate(_scores(8, hidden)):
        one_hot = k % 2 == 1
        cases.append(Case(x=x, t=_labels(rng, x, one_hot, np.int64 if k == 3 else np.float64),
                          note="one-hot labels" if one_hot else "index labels"))
    x = rng.standard_normal((4, 3))
    cases.append(float32_case(Case(x=x, t=_labels(rng, x, one_hot=hidden),
                                   note="one-hot labels" if hidden else "index labels")))
    hint = ("The gradient of the mean loss is (softmax(x) - T) / N, T being the one-hot "
            "matrix of the labels: np.eye(K)[t] for index labels, t itself when it is "
            "already one-hot (t.ndim == 2). Remember the division by the batch size N.")
    return check_function(name, student, _cross_entropy_gradient, cases, hint, hidden=hidden)


def check_softmax_cross_entropy_backward(student, *, hidden=False):
    """``student(x, t)`` -> ``(softmax(x) - onehot(t)) / N``; ``t`` is (N,) or one-hot (N, K)."""
    return _gradient_check("softmax_cross_entropy_backward", student, hidden)


def check_cross_entropy_gradient(student, *, hidden=False):
    """``student(x, t)`` -> d(mean loss)/dx of shape (N, K); ``t`` is (N,) or one-hot (N, K)."""
    return _gradient_check("cross_entropy_gradient", student, hidden)
