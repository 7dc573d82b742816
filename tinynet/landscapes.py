"""The book's test function for optimizers, paths on it, and a contour plot.

*Deep Learning from Scratch* (section 6.1) compares optimizers on

    f(x, y) = x**2 / 20 + y**2

an elongated bowl: 20 times steeper across (y) than along (x), with its
minimum at (0, 0). The gradient is (x / 10, 2 y). At the book's start
(-7, 2) it points almost straight across the valley, not towards the
minimum, which is why plain SGD zigzags.
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


def path_study(starts, learning_rates=None, steps=30):
    """Each optimizer from each start: distance to the minimum and zigzag.

    Parameters
    ----------
    starts : ndarray of shape (n, 2)
    learning_rates : dict of str to float, default ``LEARNING_RATES``
        Optimizer name -> learning rate.
    steps : int

    Returns
    -------
    dict of str to dict
        For each optimizer name: ``distance`` (ndarray of shape (n,), the
        distance from (0, 0) after ``steps`` steps, ``inf`` where a run
        diverged) and ``across`` (ndarray of shape (n,), the
        :func:`across_travel` of each path).
    """
    learning_rates = LEARNING_RATES if learning_rates is None else learning_rates
    result = {}
    for name, learning_rate in learning_rates.items():
        distances, across = [], []
        for start in np.asarray(starts, dtype=float):
            path = optimizer_path(make_optimizer(name, learning_rate), tuple(start), steps)
            diverged = len(path) < steps + 1 or not np.all(np.isfinite(path))
            distances.append(float("inf") if diverged else float(distance_to_minimum(path)[-1]))
            across.append(across_travel(path))
        result[name] = {"distance": np.array(distances), "across": np.array(across)}
    return result


def plot_paths(paths, ax=None, title=None, xlim=(-10, 10), ylim=(-5, 5)):
    """Contours of :func:`f` with one or more optimizer paths on top.

    Parameters
    ----------
    paths : dict of str to ndarray of shape (k + 1, 2)
        Label -> path (from :func:`optimizer_path`).
    ax : Axes, optional
    title : str, optional
    xlim, ylim : pairs of float

    Returns
    -------
    Axes
    """
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(5, 3.4), layout="constrained")
    X, Y = np.meshgrid(np.linspace(*xlim, 201), np.linspace(*ylim, 101))
    # contour levels spaced like the book's figure: closer near the minimum
    levels = np.array([0.05, 0.2, 0.5, 1, 2, 3.5, 5, 7.5, 10, 15, 20, 25])
    ax.contour(X, Y, f(X, Y), levels=levels, colors="0.75", linewidths=0.8)
    ax.plot([0], [0], "+", color="k", ms=10, mew=1.5)
    for i, (label, path) in enumerate(paths.items()):
        path = np.asarray(path, dtype=float)
        ax.plot(path[:, 0], path[:, 1], "o-", color=f"C{i}", ms=3, lw=1, label=label)
    ax.set(xlim=xlim, ylim=ylim, xlabel="x", ylabel="y")
    if title:
        ax.set_title(title, fontsize="medium")
    if len(paths) > 1:
        ax.legend(fontsize="small", loc="upper right")
    return ax


def _rounded(value, digits):
    """``value`` rounded for printing, never as ``-0.000``."""
    return f"{round(value, digits) + 0.0:.{digits}f}"


def path_experiment(optimizer="sgd", learning_rate=None, steps=30, start=START, ax=None):
    """One optimizer on :func:`f`: its path drawn on ``ax`` and a one-line verdict printed.

    The plain function behind the notebook's slider and menu.

    Parameters
    ----------
    optimizer : str, a key of ``tinynet.optim.OPTIMIZERS``
    learning_rate : float, optional
        Default ``LEARNING_RATES[optimizer]``.
    steps : int, default 30
    start : pair of float
    ax : Axes, optional

    Returns
    -------
    dict
        ``path``, ``final`` (x, y), ``final_f`` (``inf`` if diverged),
        ``diverged``.
    """
    if not isinstance(optimizer, str) or optimizer.lower() not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}; got {optimizer!r}.")
    name = optimizer.lower()
    if learning_rate is None:
        learning_rate = LEARNING_RATES[name]
    path = optimizer_path(make_optimizer(name, learning_rate), start, steps)
    diverged = len(path) < steps + 1 or not np.all(np.isfinite(path))
    x, y = path[-1]
    final_f = float("inf") if diverged else float(f(x, y))
    if diverged:
        text = f"{name}, learning rate {learning_rate:g}: diverged after {len(path) - 1} steps"
    else:
        text = (f"{name}, learning rate {learning_rate:g}: after {steps} steps at "
                f"({_rounded(x, 3)}, {_rounded(y, 3)}), f = {_rounded(final_f, 4)}")
    print(text)
    if ax is not None:
        plot_paths({name: path}, ax=ax, title=f"{name}, learning rate {learning_rate:g}")
    return {"path": path, "final": (float(x), float(y)), "final_f": final_f,
            "diverged": diverged}
