"""The book's test function for optimizers, and the paths optimizers take on it.

*Deep Learning from Scratch* (section 6.1) compares optimizers on

    f(x, y) = x**2 / 20 + y**2

an elongated bowl: 20 times steeper across (y) than along (x), with its
minimum at (0, 0). The gradient is (x / 10, 2 y). At the book's start
(-7, 2) it points almost straight across the valley, not towards the
minimum, which is why plain SGD zigzags.

The comparison of the optimizers from many starts and the panel of notebook 09
are :func:`tinynet.experiments.path_study` and
:func:`tinynet.experiments.path_experiment`; the contour plot is
:func:`tinynet.plotting.plot_paths`.
"""

import numpy as np

from ._checks import check_int, check_number
from .optim import OPTIMIZERS, make_optimizer

START = (-7.0, 2.0)
"""The book's starting point."""

LEARNING_RATES = {
    "sgd": 0.95,
    "momentum": 0.1,
    "nesterov": 0.1,
    "adagrad": 1.5,
    "rmsprop": 0.15,
    "adam": 0.3,
}
"""Learning rates for 30 steps on :func:`f` (the book's for SGD, Momentum,
AdaGrad and Adam; RMSProp's and Nesterov's chosen here in the same spirit)."""


def f(x, y):
    """The book's function ``x**2 / 20 + y**2`` (elementwise on arrays)."""
    return x ** 2 / 20.0 + y ** 2


def grad_f(x, y):
    """The gradient of :func:`f`: the pair ``(x / 10, 2 * y)``."""
    return x / 10.0, 2.0 * y


def optimizer_path(optimizer, start=START, steps=30, gradient=grad_f):
    """Run ``optimizer`` on a two-variable function and record where it goes.

    The point is held as ``params = {"x": ..., "y": ...}`` (two arrays of
    shape ()), as in the book, and stepped with ``optimizer.step(params,
    grads)``. The optimizer is reset first.

    Parameters
    ----------
    optimizer : optimizer object (``tinynet.optim``) or a name from ``OPTIMIZERS``
        A name uses ``LEARNING_RATES[name]``.
    start : pair of float, default (-7, 2)
    steps : int (>= 0), default 30
    gradient : callable, default :func:`grad_f`
        ``gradient(x, y) -> (dx, dy)``.

    Returns
    -------
    path : ndarray of shape (k + 1, 2)
        The points before the first step and after each step; stops early
        (``k < steps``) if a coordinate leaves [-1e6, 1e6] (diverged).
    """
    if isinstance(optimizer, str):
        optimizer = make_optimizer(optimizer, LEARNING_RATES.get(optimizer.lower(), 0.0))
    if not callable(getattr(optimizer, "step", None)):
        raise TypeError(
            f"optimizer must be an optimizer from tinynet.optim or one of {sorted(OPTIMIZERS)}; "
            f"got {optimizer!r}."
        )
    if np.ndim(start) != 1 or np.size(start) != 2:
        raise ValueError(f"start must be a pair (x, y); got {start!r}.")
    x0, y0 = (check_number("start", value) for value in start)
    steps = check_int("steps", steps, minimum=0)
    if hasattr(optimizer, "reset"):
        optimizer.reset()
    params = {"x": np.array(x0), "y": np.array(y0)}
    path = [(x0, y0)]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            dx, dy = gradient(params["x"], params["y"])
            optimizer.step(params, {"x": np.asarray(dx, dtype=float),
                                    "y": np.asarray(dy, dtype=float)})
            point = (float(params["x"]), float(params["y"]))
            path.append(point)
            if not max(abs(point[0]), abs(point[1])) <= 1e6:
                break
    return np.array(path)


def distance_to_minimum(path):
    """Distance of each point of ``path`` from the minimum (0, 0), shape (k + 1,)."""
    return np.hypot(path[:, 0], path[:, 1])


def random_starts(n, seed=0, xlim=(-9.0, -5.0), ylim=(1.0, 3.0)):
    """``n`` starting points drawn uniformly from a box left of the minimum, shape (n, 2).

    For checking that what one path shows holds from other starts too.
    """
    n = check_int("n", n, minimum=1)
    rng = np.random.default_rng(check_int("seed", seed, minimum=0))
    sign = rng.choice([-1.0, 1.0], size=n)  # above or below the valley floor
    return np.column_stack([rng.uniform(*xlim, n), sign * rng.uniform(*ylim, n)])


def across_travel(path):
    """Distance travelled across the valley (in y), in units of the start's |y|.

    ``sum(|y_k+1 - y_k|) / |y_0|``: 1 for a path that slides down to the floor
    y = 0 without crossing it; a zigzag crosses back and forth and travels
    many times that.
    """
    y = np.asarray(path, dtype=float)[:, 1]
    return float(np.sum(np.abs(np.diff(y))) / abs(y[0]))
