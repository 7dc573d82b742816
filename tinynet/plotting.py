"""Plotting helpers for the course.

Each helper takes data and an optional Matplotlib ``ax`` (or ``axes``),
draws on it, and returns it. None of them changes global Matplotlib settings,
and none calls ``pyplot.show``: a notebook shows the figure, a script saves it.
"""

import textwrap
import warnings

import numpy as np

from . import landscapes
from ._checks import _describe, as_float_array, check_int, check_number
from .initialization import _check_activation, describe_weight_std
from .polynomial import predict_polynomial
from .search import SearchResult


def new_figure(ncols=1, nrows=1, width=4.5, height=3.4):
    """A figure with a grid of axes, made without pyplot's global state.

    Returns
    -------
    fig : matplotlib.figure.Figure
    axes : Axes or ndarray of Axes
    """
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width * ncols, height * nrows), layout="constrained")
    axes = fig.subplots(nrows, ncols, squeeze=True)
    return fig, axes


def _axes(axes, n):
    if axes is None:
        import matplotlib.pyplot as plt

        _, axes = plt.subplots(1, n, figsize=(4.5 * n, 3.4), layout="constrained")
    return np.atleast_1d(axes)


def _grid_axes(axes, n, ncols, cell_width, cell_height):
    """``axes`` flattened, or a new grid of ``n`` small panels, ``ncols`` a row."""
    if axes is None:
        import matplotlib.pyplot as plt

        nrows = -(-n // ncols)
        _, axes = plt.subplots(nrows, ncols, figsize=(cell_width * ncols, cell_height * nrows),
                               layout="constrained")
    return np.atleast_1d(axes).ravel()


def plot_history(history, axes=None, title=None):
    """Loss curves (left) and accuracy curves (right) from a training run.

    Parameters
    ----------
    history : tinynet.History
    axes : pair of Axes, optional
    title : str, optional
        Put above the loss plot.

    Returns
    -------
    ndarray of two Axes
    """
    ax_loss, ax_acc = _axes(axes, 2)[:2]
    per_epoch = max(history.iterations_per_epoch, 1)
    if history.iteration_loss:
        steps = np.arange(1, len(history.iteration_loss) + 1) / per_epoch
        ax_loss.plot(steps, history.iteration_loss, color="0.75", lw=0.8,
                     label="minibatch loss")
    ax_loss.plot(history.epoch, history.train_loss, "o-", color="C0", ms=3, label="train loss")
    if history.has_validation:
        ax_loss.plot(history.epoch, history.val_loss, "s-", color="C1", ms=3,
                     label="validation loss")
    if any(p > 0 for p in history.penalty):
        ax_loss.plot(history.epoch, history.penalty, ":", color="C2",
                     label="weight-decay penalty")
    ax_loss.set(xlabel="epoch", ylabel="cross-entropy loss")
    if title:
        ax_loss.set_title(title)
    ax_loss.legend(fontsize="small")

    ax_acc.plot(history.epoch, history.train_accuracy, "o-", color="C0", ms=3, label="train")
    if history.has_validation:
        ax_acc.plot(history.epoch, history.val_accuracy, "s-", color="C1", ms=3,
                    label="validation")
    ax_acc.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02))
    ax_acc.legend(fontsize="small", loc="lower right")
    if history.diverged:
        for ax in (ax_loss, ax_acc):
            ax.text(0.5, 0.5, "diverged:\nlearning rate too high?",
                    transform=ax.transAxes, ha="center", va="center",
                    color="C3", fontsize="large")
    return np.array([ax_loss, ax_acc])


def plot_images(images, labels=None, predictions=None, ncols=10, axes=None, cmap="gray_r"):
    """A grid of grey images with their labels (and predictions, red if wrong).

    Parameters
    ----------
    images : ndarray of shape (N, 1, H, W) or (N, H, W)
    labels, predictions : ndarray of shape (N,), optional
    axes : ndarray of Axes with at least N entries, optional

    Returns
    -------
    ndarray of Axes
    """
    images = np.asarray(images)
    if images.ndim == 4:
        images = images[:, 0]
    n = len(images)
    axes = _grid_axes(axes, n, ncols, 1.1, 1.25)
    for k, ax in enumerate(axes):
        ax.set_axis_off()
        if k >= n:
            continue
        ax.imshow(images[k], cmap=cmap, interpolation="nearest")
        if labels is not None:
            text, color = f"{labels[k]}", "black"
            if predictions is not None:
                text = f"{labels[k]} -> {predictions[k]}"
                color = "black" if predictions[k] == labels[k] else "C3"
            ax.set_title(text, fontsize="small", color=color)
    return axes


def plot_filters(W, axes=None, title=None):
    """Draw each filter of a convolution (first input channel) as a small image.

    Parameters
    ----------
    W : ndarray of shape (F, C, KH, KW)

    Returns
    -------
    ndarray of Axes
    """
    W = np.asarray(W)
    F = W.shape[0]
    axes = _grid_axes(axes, F, min(F, 8), 1.2, 1.3)
    limit = float(np.abs(W[:, 0]).max()) or 1.0
    for f, ax in enumerate(axes):
        ax.set_axis_off()
        if f < F:
            ax.imshow(W[f, 0], cmap="RdBu_r", vmin=-limit, vmax=limit, interpolation="nearest")
            ax.set_title(f"filter {f}", fontsize="x-small")
    if title and len(axes):
        axes[0].figure.suptitle(title)
    return axes


def plot_feature_maps(maps, axes=None, title=None, cmap="viridis"):
    """Draw the channels of one sample's activations.

    Parameters
    ----------
    maps : ndarray of shape (C, H, W)

    Returns
    -------
    ndarray of Axes
    """
    maps = np.asarray(maps)
    C = maps.shape[0]
    axes = _grid_axes(axes, C, min(C, 8), 1.2, 1.3)
    for c, ax in enumerate(axes):
        ax.set_axis_off()
        if c < C:
            ax.imshow(maps[c], cmap=cmap, interpolation="nearest")
            ax.set_title(f"channel {c}", fontsize="x-small")
    if title and len(axes):
        axes[0].figure.suptitle(title)
    return axes


def _one_axes(ax, width=4.5, height=3.4):
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=(width, height), layout="constrained")
    return ax


def plot_descent_path(f, path, ax=None, title=None, w_range=(-2.5, 2.5)):
    """The curve of ``f`` with the iterates of gradient descent on it.

    Parameters
    ----------
    f : callable
        The function being minimised (vectorised over an array of w).
    path : ndarray of shape (k,)
        Iterates ``w_0, w_1, ...``.

    Returns
    -------
    Axes
    """
    ax = _one_axes(ax)
    w = np.linspace(*w_range, 400)
    ax.plot(w, f(w), color="0.3", lw=1.5, label="loss L(w)")
    shown = np.asarray(path)
    shown = shown[np.abs(shown) <= max(abs(w_range[0]), abs(w_range[1])) * 1.5]
    if len(shown):
        ax.plot(shown, f(shown), "-", color="C1", lw=0.8, alpha=0.7)
        ax.scatter(shown, f(shown), c=np.arange(len(shown)), cmap="plasma", s=22,
                   zorder=3, label="iterates (dark = early)")
        ax.plot(shown[:1], f(shown[:1]), "o", ms=9, mfc="none", mec="C3", label="start")
    ax.set(xlabel="w", ylabel="L(w)", xlim=w_range)
    low = float(np.min(f(w)))
    ax.set_ylim(low - 0.5, low + 6)
    if title:
        ax.set_title(title, fontsize="medium")
    ax.legend(fontsize="small", loc="upper center")
    return ax


def plot_polynomial_fit(x, y, coefficients, true_curve=None, ax=None, title=None):
    """Training points, the fitted polynomial and (optionally) the true curve.

    Parameters
    ----------
    x, y : ndarray of shape (N,)
    coefficients : ndarray of shape (degree + 1,)
        Constant term first.
    true_curve : callable, optional

    Returns
    -------
    Axes
    """
    ax = _one_axes(ax)
    grid = np.linspace(np.min(x), np.max(x), 400)
    if true_curve is not None:
        ax.plot(grid, true_curve(grid), "--", color="0.5", label="true curve")
    ax.plot(grid, predict_polynomial(coefficients, grid), color="C0", lw=2, label="fit")
    ax.plot(x, y, "o", color="C1", ms=5, label="training points")
    spread = np.ptp(y)
    ax.set_ylim(np.min(y) - 0.4 * spread, np.max(y) + 0.4 * spread)
    ax.set(xlabel="x", ylabel="y")
    if title:
        ax.set_title(title, fontsize="medium")
    ax.legend(fontsize="small")
    return ax


def plot_error_versus_degree(degrees, train_mse, test_mse, ax=None, title=None):
    """Training and test error against polynomial degree (log scale)."""
    ax = _one_axes(ax)
    ax.semilogy(degrees, train_mse, "o-", label="training error")
    ax.semilogy(degrees, test_mse, "s-", label="test error")
    ax.set(xlabel="polynomial degree", ylabel="mean squared error")
    if title:
        ax.set_title(title, fontsize="medium")
    ax.legend(fontsize="small")
    return ax


def plot_grid(values, ax=None, title=None, fmt="{:g}", highlight=None, windows=(),
              cmap="Blues"):
    """A small matrix drawn as coloured cells, each with its value written in it.

    For worked examples: an image and a filter, where a gradient goes,
    which cells win a pooling window.

    Parameters
    ----------
    values : ndarray of shape (H, W)
        Non-finite entries (such as the -inf of max-pool padding) are drawn
        grey and written as text.
    ax : Axes, optional
    title : str, optional
    fmt : str, default "{:g}"
        Format of the finite values.
    highlight : ndarray of bool of shape (H, W), optional
        Cells outlined in red.
    windows : iterable of (top, left, height, width), optional
        Rectangles outlined with dashes, one colour each (windows that
        overlap are drawn slightly inset so that every outline shows).
    cmap : str, default "Blues"

    Returns
    -------
    Axes
    """
    import matplotlib
    from matplotlib.patches import Rectangle

    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError(f"values must be a 2-D array (H, W); got shape {values.shape}.")
    H, W = values.shape
    ax = _one_axes(ax, width=0.55 * W + 0.8, height=0.55 * H + 0.6)
    finite = np.isfinite(values)
    low, high = (values[finite].min(), values[finite].max()) if finite.any() else (0.0, 1.0)
    if low == high:
        low, high = low - 1.0, high + 1.0
    colours = matplotlib.colormaps[cmap].with_extremes(bad="0.85")
    ax.imshow(np.ma.masked_invalid(values), cmap=colours, vmin=low, vmax=high,
              interpolation="nearest")
    for r in range(H):
        for c in range(W):
            v = values[r, c]
            # white text on dark cells: judge the cell's luminance, so that both
            # ends of a diverging colour map get readable text
            dark = False
            if np.isfinite(v):
                red, green, blue, _ = colours((v - low) / (high - low))
                dark = 0.299 * red + 0.587 * green + 0.114 * blue < 0.5
            text = fmt.format(v) if np.isfinite(v) else str(v)
            ax.text(c, r, text, ha="center", va="center", fontsize="small",
                    color="white" if dark else "black")
    if highlight is not None:
        for r, c in np.argwhere(np.asarray(highlight, dtype=bool)):
            ax.add_patch(Rectangle((c - 0.5, r - 0.5), 1, 1, fill=False,
                                   edgecolor="C3", lw=2.5))
    window_colours = ["C1", "C2", "C4", "C6", "C8", "C9"]  # not C0 (the cells) nor C3 (highlight)
    for k, (top, left, height, width) in enumerate(windows):
        inset = 0.05 + 0.06 * (k % 4)  # off the axes frame, and apart from overlapping windows
        ax.add_patch(Rectangle((left - 0.5 + inset, top - 0.5 + inset),
                               width - 2 * inset, height - 2 * inset, fill=False,
                               edgecolor=window_colours[k % len(window_colours)], lw=1.8,
                               ls="--"))
    ax.set_xticks(range(W))
    ax.set_yticks(range(H))
    ax.tick_params(length=0, labelsize="x-small")
    ax.set_xticks(np.arange(-0.5, W), minor=True)
    ax.set_yticks(np.arange(-0.5, H), minor=True)
    ax.tick_params(which="minor", length=0)
    ax.grid(which="minor", color="white", lw=1)
    if title:
        ax.set_title(title, fontsize="medium")
    return ax


def plot_message(text, ax=None, title=None, color="C3", width=40):
    """Write a message in the middle of an empty Axes (instead of a broken plot).

    Parameters
    ----------
    text : str
        Each line longer than ``width`` characters is wrapped.
    title : str, optional
    color : Matplotlib colour
    width : int
        Characters per line.

    Returns
    -------
    Axes
    """
    ax = _one_axes(ax)
    lines = [wrapped for line in text.splitlines()
             for wrapped in (textwrap.wrap(line, width) or [""])]
    ax.set_axis_off()
    ax.text(0.5, 0.5, "\n".join(lines), transform=ax.transAxes, ha="center",
            va="center", color=color, fontsize="medium")
    if title:
        ax.set_title(title, fontsize="medium")
    return ax


def plot_seed_band(epochs, curves, ax=None, label=None, color=None, title=None):
    """Mean over seeds as a line, the range (min to max) as a shaded band.

    Parameters
    ----------
    epochs : ndarray of shape (E,)
    curves : ndarray of shape (n_seeds, E)
        One curve per seed; NaN where a run has stopped (diverged). The mean
        is drawn where every seed has a value; the band where any has.
    ax : Axes, optional
    label, color, title : optional

    Returns
    -------
    Axes
    """
    ax = _one_axes(ax)
    curves = np.atleast_2d(np.asarray(curves, dtype=float))
    some = np.isfinite(curves).any(axis=0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN columns
        low, high = np.nanmin(curves, axis=0), np.nanmax(curves, axis=0)
    mean = curves.mean(axis=0)  # NaN once any seed has stopped
    (line,) = ax.plot(epochs, mean, color=color, label=label, lw=1.8)
    ax.fill_between(epochs[some], low[some], high[some], color=line.get_color(), alpha=0.25,
                    lw=0)
    if title:
        ax.set_title(title)
    return ax


# Default value ranges of the activation histograms, per activation.
_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, 4.0)}


def plot_activation_histograms(activations, axes=None, activation=None, value_range=None,
                               bins=30, label=None):
    """The book's row of histograms: one panel per layer, one shared value range.

    Each panel shows the fraction of the layer's values in each bin and, in
    its corner, their standard deviation ("sd"). Values outside
    ``value_range`` are counted in the end bins (and their share is written
    in the panel). For ReLU the exact zeros (half the values or more) would
    dwarf the rest: they are left out of the bars and their share is written
    instead.

    Parameters
    ----------
    activations : ndarray of shape (n_layers, ...)
        As returned by :func:`tinynet.initialization.activation_histograms`.
    axes : sequence of n_layers Axes, optional
        Default: a new row of panels.
    activation : {"relu", "sigmoid", "tanh"}, optional
        Picks the default range ((0, 1), (-1, 1), (0, 4)) and the ReLU zeros.
    value_range : (float, float), optional
        Overrides the default range (else the values' minimum and maximum).
    bins : int
    label : str, optional
        Written as the y label of the first panel (e.g. "std 0.01").

    Returns
    -------
    ndarray of Axes
    """
    a = as_float_array("activations", activations)
    if a.ndim < 2:
        raise ValueError(
            f"activations must have a layer axis first, shape (n_layers, ...); got shape "
            f"{a.shape}. Pass the result of activation_histograms."
        )
    if activation is not None:
        _check_activation(activation)
    bins = check_int("bins", bins, minimum=1)
    n_layers = len(a)
    axes = _grid_axes(axes, n_layers, n_layers, 2.4, 2.0)  # a new row of panels if None
    if len(axes) != n_layers:
        raise ValueError(
            f"axes must hold one Axes per layer: expected {n_layers}, got {len(axes)}."
        )
    if value_range is None:
        if activation is not None:
            value_range = _RANGES[activation]
        else:
            finite = a[np.isfinite(a)]
            low, high = (float(finite.min()), float(finite.max())) if finite.size else (0, 1)
            value_range = (low, high if high > low else low + 1.0)
    low, high = (check_number("value_range", v) for v in value_range)
    if not high > low:
        raise ValueError(f"value_range must be (low, high) with low < high; got {value_range}.")
    edges = np.linspace(low, high, bins + 1)
    heights = []
    for k, ax in enumerate(axes):
        values = a[k].ravel()
        total = values.size
        notes = []
        with np.errstate(invalid="ignore"):
            sd = float(np.std(values))
        notes.append(f"sd {sd:.2g}")
        if activation == "relu":
            zeros = values == 0.0
            notes.append(f"zeros {zeros.mean():.0%}")
            values = values[~zeros]
        outside = np.mean((values < low) | (values > high)) * len(values) / total if total else 0
        if outside >= 0.005:
            notes.append(f"{outside:.0%} outside")
        counts, _ = np.histogram(np.clip(values, low, high), bins=edges)
        fractions = counts / total
        heights.append(fractions.max() if fractions.size else 0.0)
        ax.bar(edges[:-1], fractions, width=np.diff(edges), align="edge", color="C0",
               edgecolor="white", linewidth=0.3)
        ax.set_xlim(low, high)
        ax.set_title(f"layer {k + 1}", fontsize="medium")
        ax.text(0.97, 0.95, "\n".join(notes), transform=ax.transAxes, ha="right", va="top",
                fontsize="small")
        if k > 0:
            ax.tick_params(labelleft=False)
    top = max(max(heights), 1e-3) * 1.35  # room for the notes
    for ax in axes:
        ax.set_ylim(0, top)
    axes[0].set_ylabel(label if label is not None else "fraction of values")
    return axes


def plot_layer_spread(study, activation, ax=None, colors=None):
    """Spread (sd) of each layer's outputs for every weight scale, banded over seeds.

    Log scale; the line is the mean over the seeds, the band their range.

    Returns
    -------
    Axes
    """
    _check_activation(activation)
    if activation not in study["activations"]:
        raise ValueError(
            f"activation {activation!r} is not in the study; it holds {study['activations']}."
        )
    ax = _one_axes(ax)
    i = study["activations"].index(activation)
    n_layers = study["std"].shape[-1]
    layers = np.arange(1, n_layers + 1)
    for j, weight_std in enumerate(study["weight_stds"]):
        color = None if colors is None else colors[j]
        plot_seed_band(layers, study["std"][i, j], ax=ax, color=color,
                       label=describe_weight_std(weight_std))
    ax.set(yscale="log", xlabel="layer", ylabel="sd of the outputs", xticks=layers,
           title=activation)
    return ax


def plot_init_training(study, ax=None, quantity="train_loss", colors=None):
    """Curves of ``quantity`` over epochs for every weight scale, banded over seeds.

    Parameters
    ----------
    study : dict from :func:`tinynet.experiments.init_training_study`
    ax : Axes, optional
    quantity : {"train_loss", "train_accuracy", "val_accuracy"}
    colors : sequence of colours, optional

    Returns
    -------
    Axes
    """
    quantities = ("train_loss", "train_accuracy", "val_accuracy")
    if quantity not in quantities:
        raise ValueError(f"quantity must be one of {quantities}; got {quantity!r}.")
    ax = _one_axes(ax)
    for i, weight_std in enumerate(study["weight_stds"]):
        color = None if colors is None else colors[i]
        plot_seed_band(study["epoch"], study[quantity][i], ax=ax, color=color,
                       label=describe_weight_std(weight_std))
    ylabel = {"train_loss": "training loss", "train_accuracy": "training accuracy",
              "val_accuracy": "validation accuracy"}[quantity]
    ax.set(xlabel="epoch", ylabel=ylabel,
           title=f"{study['activation']}, {len(study['seeds'])} seeds (mean, min-max band)")
    return ax


def plot_search(result, ax=None, x="learning_rate", y="weight_decay", highlight=5,
                box=None, title=None, vmin=0.1, vmax=1.0, colorbar=True):
    """Scatter of the trials' scores over two settings, on log axes.

    Each trial is a dot coloured by its score (``vmin`` to ``vmax``, the same
    scale for every round); the ``highlight`` best trials are ringed, failed
    (NaN) trials are grey crosses, and ``box`` (ranges, e.g. from
    :meth:`tinynet.search.SearchResult.narrowed`) is drawn as a dashed rectangle.

    Returns
    -------
    Axes
    """
    if not isinstance(result, SearchResult):
        raise TypeError(f"result must be a SearchResult from random_search; got "
                        f"{_describe(result)}.")
    ax = _one_axes(ax, width=5, height=3.8)
    xs, ys, scores = result.values(x), result.values(y), result.scores
    ok = ~np.isnan(scores)
    dots = ax.scatter(xs[ok], ys[ok], c=scores[ok], cmap="viridis", vmin=vmin, vmax=vmax,
                      s=28, edgecolors="none")
    if (~ok).any():
        ax.scatter(xs[~ok], ys[~ok], marker="x", color="0.6", s=24,
                   label=f"diverged ({int((~ok).sum())})")
    if highlight and ok.any():
        best = result.top(highlight)
        ax.scatter(xs[best], ys[best], s=110, facecolors="none", edgecolors="C3", lw=1.4,
                   label=f"best {len(best)}")
    if box is not None:
        (x0, x1), (y0, y1) = box[x], box[y]
        ax.plot([x0, x1, x1, x0, x0], [y0, y0, y1, y1, y0], "--", color="C3", lw=1,
                label="next range")
    ax.set(xscale="log", yscale="log", xlabel=x.replace("_", " "),
           ylabel=y.replace("_", " "))
    (x0, x1), (y0, y1) = result.ranges[x], result.ranges[y]
    ax.set_xlim(x0 / 1.3, x1 * 1.3)
    ax.set_ylim(y0 / 1.3, y1 * 1.3)
    if title:
        ax.set_title(title)
    if colorbar:
        ax.figure.colorbar(dots, ax=ax, label="validation accuracy")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize="small", loc="best", framealpha=0.85)
    return ax


def plot_seed_spread(values, scores, ax=None, xlabel="learning rate", label=None, title=None,
                     color=None):
    """Mean and standard deviation over seeds of the score at each value, on a log axis.

    Parameters
    ----------
    values : array-like of shape (n_values,)
        The setting that varies (positive: the axis is logarithmic).
    scores : array-like of shape (n_values, n_seeds)
        One row per value, one column per seed (NaN for a diverged run is
        left out of that value's mean).
    ax : Axes, optional
    xlabel, label, title : str, optional

    Returns
    -------
    Axes
    """
    values = np.asarray(values, dtype=np.float64)
    scores = np.asarray(scores, dtype=np.float64)
    if scores.ndim != 2 or scores.shape[0] != values.shape[0]:
        raise ValueError(
            f"scores must have shape (n_values, n_seeds) = ({values.shape[0]}, ...), one row "
            f"per value; got shape {scores.shape}."
        )
    ax = _one_axes(ax)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a value whose every seed diverged
        mean, std = np.nanmean(scores, axis=1), np.nanstd(scores, axis=1)
    n_seeds = scores.shape[1]
    ax.errorbar(values, mean, yerr=std, fmt="o-", capsize=3, color=color,
                label=label or f"mean ± std over {n_seeds} seeds")
    ax.set(xscale="log", xlabel=xlabel, ylabel="validation accuracy")
    if title:
        ax.set_title(title)
    ax.legend(fontsize="small")
    return ax


def plot_paths(paths, ax=None, title=None, xlim=(-10, 10), ylim=(-5, 5)):
    """Contours of the book's :func:`tinynet.landscapes.f` with optimizer paths on top.

    Parameters
    ----------
    paths : dict of str to ndarray of shape (k + 1, 2)
        Label -> path (from :func:`tinynet.landscapes.optimizer_path`).
    ax : Axes, optional
    title : str, optional
    xlim, ylim : pairs of float

    Returns
    -------
    Axes
    """
    ax = _one_axes(ax, width=5)
    X, Y = np.meshgrid(np.linspace(*xlim, 201), np.linspace(*ylim, 101))
    # contour levels spaced like the book's figure: closer near the minimum
    levels = np.array([0.05, 0.2, 0.5, 1, 2, 3.5, 5, 7.5, 10, 15, 20, 25])
    ax.contour(X, Y, landscapes.f(X, Y), levels=levels, colors="0.75", linewidths=0.8)
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


def plot_paired_seeds(labels, values, ax=None, ylabel="validation accuracy", title=None):
    """One figure per seed and setting: grey lines join a seed's runs, black marks the mean.

    Parameters
    ----------
    labels : sequence of str
        One per setting (x axis).
    values : array-like of shape (n_settings, n_seeds)
    ax : Axes, optional
    ylabel, title : str, optional

    Returns
    -------
    Axes
    """
    ax = _one_axes(ax, width=5, height=3.6)
    values = np.asarray(values, dtype=float)
    positions = np.arange(len(labels))
    for seed_values in values.T:
        ax.plot(positions, seed_values, color="0.6", lw=0.8, marker="o", ms=3)
    mean, std = values.mean(axis=1), values.std(axis=1)
    ax.errorbar(positions, mean, yerr=std, color="k", lw=2, capsize=5, marker="s",
                label="mean ± std over seeds")
    ax.set_xticks(positions, labels)
    ax.set(ylabel=ylabel, xlim=(-0.4, len(labels) - 0.6))
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_paired_differences(labels, differences, ax=None, n_se=2.0,
                            ylabel="difference in validation accuracy", title=None):
    """Paired comparisons: each seed's difference as a dot, the mean with an interval.

    For each comparison (a column of the figure) the per-seed differences
    are drawn as grey dots, spread a little sideways so that equal values
    stay visible, and the mean as a black square with a bar of ``n_se``
    standard errors of the mean either side. A dotted line marks 0: a
    bar that crosses it is a difference the seeds cannot tell from none.

    Parameters
    ----------
    labels : sequence of str
        One per comparison, such as ``"dropout - none"``.
    differences : sequence of array-like
        One 1-D array of per-seed differences per label (at least 2 each).
    ax : Axes, optional
    n_se : float (> 0), default 2
    ylabel, title : str, optional

    Returns
    -------
    Axes
    """
    if len(labels) != len(differences):
        raise ValueError(f"labels and differences must have one entry per comparison; got "
                         f"{len(labels)} labels and {len(differences)} arrays.")
    n_se = check_number("n_se", n_se, minimum=0.0, allow_equal=False)
    ax = _one_axes(ax, width=6, height=3.6)
    for k, values in enumerate(differences):
        d = as_float_array(f"differences[{k}]", values, ndim=1, shape_hint="(n_seeds,)")
        if len(d) < 2:
            raise ValueError(f"differences[{k}] must hold at least 2 seeds; got {len(d)}.")
        offsets = np.linspace(-0.15, 0.15, len(d))  # the same spread for every column
        ax.plot(k + offsets, d, "o", color="0.55", ms=3.5, zorder=2)
        half = n_se * d.std(ddof=1) / np.sqrt(len(d))
        ax.errorbar(k, d.mean(), yerr=half, color="k", marker="s", capsize=6, lw=2, zorder=3,
                    label=f"mean ± {n_se:g} standard errors" if k == 0 else None)
    ax.axhline(0.0, color="0.3", ls=":", lw=1)
    ax.set_xticks(np.arange(len(labels)), labels)
    ax.set(xlim=(-0.5, len(labels) - 0.5), ylabel=ylabel)
    if title:
        ax.set_title(title)
    ax.legend(loc="best", fontsize="small")
    return ax


def plot_learning_rate_grid(rates, scores, ax=None, tuned=None, color=None, title=None,
                            ylabel="validation accuracy"):
    """Scores against the learning rate on a log scale: seeds as dots, their mean as a line.

    Parameters
    ----------
    rates : array-like of shape (R,)
        Learning rates (> 0), in increasing order.
    scores : array-like of shape (R, n_seeds)
        One score per rate and seed (such as
        ``learning_rate_grid(...)[name]["val_accuracy"]``).
    ax : Axes, optional
    tuned : float, optional
        A rate to ring on the mean line (the rate used elsewhere).
    color, title : optional
    ylabel : str or None, default "validation accuracy"
        None leaves the label alone (inner panels of a row that shares y).

    Returns
    -------
    Axes
    """
    rates = as_float_array("rates", rates, ndim=1, shape_hint="(R,)")
    scores = as_float_array("scores", scores, ndim=2, shape_hint="(R, n_seeds)")
    if len(scores) != len(rates) or np.any(rates <= 0):
        raise ValueError(f"scores must have one row per learning rate and the rates must be "
                         f"> 0; got {len(rates)} rates {rates.tolist()} and scores of shape "
                         f"{scores.shape}.")
    ax = _one_axes(ax, width=3.2, height=3.0)
    mean = scores.mean(axis=1)
    (line,) = ax.plot(rates, mean, color=color, lw=1.8, marker="s", ms=4, label="mean")
    for column in scores.T:
        ax.plot(rates, column, "o", color=line.get_color(), ms=3, alpha=0.45)
    if tuned is not None:
        tuned = check_number("tuned", tuned, minimum=0.0, allow_equal=False)
        closest = int(np.argmin(np.abs(np.log(rates / tuned))))
        ax.plot(rates[closest], mean[closest], "o", ms=12, mfc="none", mec="k", mew=1.5,
                label=f"used: {tuned:g}")
    ax.set_xscale("log")
    ax.set_xticks(rates, [f"{rate:g}" for rate in rates])  # the grid's own rates, no 3x10^-1
    ax.minorticks_off()
    ax.set_xlabel("learning rate")
    if ylabel:
        ax.set_ylabel(ylabel)
    if title:
        ax.set_title(title)
    return ax
