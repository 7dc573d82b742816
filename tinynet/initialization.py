"""Weight initialisation: scales by name, activation histograms, training with each.

Section 6.2 of *Deep Learning from Scratch*. A weight matrix is drawn as
``W = std * standard_normal(shape)``; the standard deviation ``std`` is

* a number (the book tries 1 and 0.01),
* ``"xavier"``: ``1 / sqrt(fan_in)``, which keeps the variance of a layer's
  output equal to that of its input for activations that are linear near 0
  (tanh, and sigmoid around 0.5),
* ``"he"``: ``sqrt(2 / fan_in)``, the same for ReLU, which zeroes half of
  its inputs and so halves the second moment.

``fan_in`` is the number of inputs that feed one output unit: ``D`` for a
fully connected ``W`` of shape (D, M), ``C * KH * KW`` for a convolution
filter bank of shape (F, C, KH, KW). These are the scales
:func:`tinynet.network.build_mlp` uses for its ``weight_std`` argument
(``tests/test_initialization.py`` checks that both agree draw for draw).

:func:`activation_histograms` runs the book's experiment: Gaussian inputs
through a 5-layer, 100-unit network built by :func:`~tinynet.network.build_mlp`,
keeping the output of every activation layer. :func:`plot_activation_histograms`
draws one row of histograms (one panel per layer). :func:`activation_study`
and :func:`init_training_study` repeat the experiments over seeds, so that
the notebook's claims rest on means and spreads, not one run.
"""

import numbers
import warnings

import numpy as np

from ._checks import _describe, as_float_array, check_int, check_number
from .network import ACTIVATIONS, build_mlp, train_network
from .plotting import plot_seed_band

__all__ = ["WEIGHT_STD_NAMES", "fan_in", "init_std", "init_weights", "describe_weight_std",
           "activation_histograms", "saturated_fraction", "distinct_units",
           "activation_study", "describe_activation_study", "plot_activation_histograms",
           "plot_layer_spread", "init_training_study", "describe_init_training",
           "plot_init_training"]

WEIGHT_STD_NAMES = ("xavier", "he")
"""The named scales: ``"xavier"`` = 1/sqrt(fan_in), ``"he"`` = sqrt(2/fan_in)."""

# Where the activation is "flat": its slope is below this fraction of its
# largest slope (sigmoid 1/4 at 0, tanh 1 at 0, ReLU 1 for x > 0).
_FLAT = 0.1

# The inputs of activation_histograms come from their own stream, so that they
# are not the same numbers as the first weights (build_mlp draws from the seed).
_INPUT_STREAM = 10

# Default value ranges of the histograms, per activation.
_RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, 4.0)}


# ---------------------------------------------------------------------------
# Scales
# ---------------------------------------------------------------------------

def _check_shape(shape):
    if isinstance(shape, numbers.Integral) and not isinstance(shape, (bool, np.bool_)):
        raise TypeError(
            f"shape must be a tuple such as (fan_in, fan_out) or (F, C, KH, KW); got the "
            f"int {shape}. Write shape=({shape}, M) for a fully connected layer."
        )
    try:
        shape = tuple(shape)
    except TypeError:
        raise TypeError(
            f"shape must be a tuple such as (fan_in, fan_out) or (F, C, KH, KW); got "
            f"{_describe(shape)}."
        ) from None
    if len(shape) not in (2, 4):
        raise ValueError(
            f"shape must have 2 entries (fan_in, fan_out) for a fully connected layer or 4 "
            f"(F, C, KH, KW) for a convolution; got {shape} with {len(shape)}."
        )
    return tuple(check_int(f"shape[{i}]", n, minimum=1) for i, n in enumerate(shape))


def fan_in(shape):
    """Number of inputs feeding one output unit of a weight array of ``shape``.

    Parameters
    ----------
    shape : tuple of int
        (D, M) for :class:`~tinynet.layers.FullyConnected` (``x @ W``), or
        (F, C, KH, KW) for :class:`~tinynet.layers.Convolution`.

    Returns
    -------
    int
        ``D``, or ``C * KH * KW`` (one output pixel sees C channels of a
        KH x KW window).
    """
    shape = _check_shape(shape)
    if len(shape) == 2:
        return shape[0]
    _, C, KH, KW = shape
    return C * KH * KW


def _check_weight_std(weight_std):
    if isinstance(weight_std, str):
        if weight_std not in WEIGHT_STD_NAMES:
            raise ValueError(
                f"weight_std must be a number, 'xavier' (1/sqrt(fan_in)) or 'he' "
                f"(sqrt(2/fan_in)); got {weight_std!r}."
            )
        return weight_std
    return check_number("weight_std", weight_std, minimum=0.0)


def init_std(shape, weight_std):
    """The standard deviation of the weights of ``shape`` for ``weight_std``.

    Parameters
    ----------
    shape : tuple of int
        (D, M) or (F, C, KH, KW); see :func:`fan_in`.
    weight_std : float (>= 0), "xavier" or "he"
        A number is returned as it is; ``"xavier"`` gives ``1 / sqrt(fan_in)``,
        ``"he"`` gives ``sqrt(2 / fan_in)``.

    Returns
    -------
    float

    Examples
    --------
    >>> init_std((50, 100), "he")   # sqrt(2 / 50)
    0.2
    >>> init_std((8, 3, 3, 3), "xavier")   # 1 / sqrt(3 * 3 * 3)
    0.19245008972987526
    """
    weight_std = _check_weight_std(weight_std)
    n = fan_in(shape)
    if weight_std == "he":
        return float(np.sqrt(2.0 / n))
    if weight_std == "xavier":
        return float(1.0 / np.sqrt(n))
    return weight_std


def init_weights(shape, weight_std, rng):
    """Normal weights of ``shape``: ``init_std(shape, weight_std) * rng.standard_normal(shape)``.

    Parameters
    ----------
    shape : tuple of int
        (D, M) or (F, C, KH, KW).
    weight_std : float, "xavier" or "he"
    rng : numpy.random.Generator or int
        Where the numbers come from (an int seeds a new generator).

    Returns
    -------
    ndarray of shape ``shape``, float64
    """
    std = init_std(shape, weight_std)
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(check_int("rng", rng, minimum=0))
    return rng.standard_normal(tuple(shape)) * std


def describe_weight_std(weight_std):
    """A short label: ``"std 0.01"``, ``"Xavier"``, ``"He"``."""
    weight_std = _check_weight_std(weight_std)
    if isinstance(weight_std, str):
        return {"xavier": "Xavier", "he": "He"}[weight_std]
    return f"std {weight_std:g}"


# ---------------------------------------------------------------------------
# The histogram experiment
# ---------------------------------------------------------------------------

def _check_activation(activation):
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {sorted(ACTIVATIONS)}; got {activation!r}."
        )
    return activation


def activation_histograms(activation, weight_std, n_layers=5, width=100, n_samples=1000,
                          seed=0):
    """The outputs of each activation layer of a deep MLP on Gaussian inputs.

    The network is :func:`~tinynet.network.build_mlp` with ``n_layers``
    hidden layers of ``width`` units (Affine -> activation each, biases 0),
    weights drawn with ``weight_std`` from ``seed``. The inputs are
    ``n_samples`` standard normal vectors of length ``width`` from a stream
    of their own (derived from ``seed``). Every layer's own ``forward`` is
    run in turn; the output Affine layer is not needed.

    Parameters
    ----------
    activation : {"relu", "sigmoid", "tanh"}
    weight_std : float (>= 0), "xavier" or "he"
    n_layers, width, n_samples : int (>= 1)
    seed : int (>= 0)

    Returns
    -------
    ndarray of shape (n_layers, n_samples, width)
        ``activations[k]`` is the output of the (k+1)-th activation layer.
    """
    _check_activation(activation)
    _check_weight_std(weight_std)
    n_layers = check_int("n_layers", n_layers, minimum=1)
    width = check_int("width", width, minimum=1)
    n_samples = check_int("n_samples", n_samples, minimum=1)
    seed = check_int("seed", seed, minimum=0)
    net = build_mlp(width, [width] * n_layers, 1, activation=activation,
                    weight_std=weight_std, seed=seed)
    x = np.random.default_rng([seed, _INPUT_STREAM]).standard_normal((n_samples, width))
    kind = ACTIVATIONS[activation]
    activations = []
    out = x
    with np.errstate(over="ignore", invalid="ignore"):  # std 1 with ReLU grows large
        for layer in net.layers:
            if len(activations) == n_layers:
                break  # the output Affine layer is not part of the experiment
            out = layer.forward(out)
            if isinstance(layer, kind):
                activations.append(out)
    return np.stack(activations)  # (n_layers, n_samples, width)


def saturated_fraction(activations, activation):
    """Per layer, the fraction of values where the activation is flat.

    "Flat" means the activation's slope at that value is below a tenth of its
    largest slope, so little gradient flows back through the unit: sigmoid
    ``a (1 - a) < 0.025`` (a below 0.026 or above 0.974), tanh
    ``1 - a**2 < 0.1`` (|a| above 0.949), ReLU ``a == 0``.

    Parameters
    ----------
    activations : ndarray of shape (n_layers, ...)
        As returned by :func:`activation_histograms`.
    activation : {"relu", "sigmoid", "tanh"}

    Returns
    -------
    ndarray of shape (n_layers,)
    """
    _check_activation(activation)
    a = as_float_array("activations", activations)
    if a.ndim < 2:
        raise ValueError(
            f"activations must have a layer axis first, shape (n_layers, ...); got shape "
            f"{a.shape}. Pass the result of activation_histograms, or a[None] for one layer."
        )
    if activation == "sigmoid":
        flat = a * (1.0 - a) < _FLAT * 0.25
    elif activation == "tanh":
        flat = 1.0 - a * a < _FLAT
    else:
        flat = a == 0.0
    return flat.reshape(len(a), -1).mean(axis=1)


def distinct_units(W, tol=1e-9):
    """How many different hidden units the columns of ``W`` (D, M) describe.

    Columns that agree within ``tol`` (relative to the largest weight) count
    as one unit. With all weights equal at the start, every unit stays a copy
    of the others during training: the answer stays 1.

    Returns
    -------
    int
    """
    W = as_float_array("W", W, ndim=2, shape_hint="(D, M)")
    tol = check_number("tol", tol, minimum=0.0)
    scale = max(float(np.max(np.abs(W))), np.finfo(float).tiny) if W.size else 1.0
    representatives = []
    for column in W.T:
        if not any(np.max(np.abs(column - r)) <= tol * scale for r in representatives):
            representatives.append(column)
    return len(representatives)


def _check_seeds(seeds):
    seeds = [check_int("seeds", s, minimum=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed, such as seeds=range(5).")
    return seeds


def activation_study(activations=("sigmoid", "tanh", "relu"),
                     weight_stds=(1.0, 0.01, "xavier", "he"), seeds=range(5), n_layers=5,
                     width=100, n_samples=1000):
    """Spread and saturation per layer, for every activation, weight scale and seed.

    Returns
    -------
    dict
        ``activations``, ``weight_stds``, ``seeds`` (as lists), ``std``:
        array (n_activations, n_weight_stds, n_seeds, n_layers), the standard
        deviation of each layer's outputs; ``saturated``: same shape, the
        :func:`saturated_fraction` of each layer.
    """
    activations = [_check_activation(a) for a in activations]
    weight_stds = [_check_weight_std(w) for w in weight_stds]
    seeds = _check_seeds(seeds)
    if not activations or not weight_stds:
        raise ValueError("activations and weight_stds must each hold at least one value.")
    shape = (len(activations), len(weight_stds), len(seeds), n_layers)
    study = {"activations": activations, "weight_stds": weight_stds, "seeds": seeds,
             "std": np.empty(shape), "saturated": np.empty(shape)}
    for i, activation in enumerate(activations):
        for j, weight_std in enumerate(weight_stds):
            for k, seed in enumerate(seeds):
                a = activation_histograms(activation, weight_std, n_layers, width, n_samples,
                                          seed)
                with np.errstate(invalid="ignore"):
                    study["std"][i, j, k] = a.reshape(n_layers, -1).std(axis=1)
                study["saturated"][i, j, k] = saturated_fraction(a, activation)
    return study


def describe_activation_study(study, layer=-1):
    """One row per (activation, weight scale): spread and saturation of one layer over seeds.

    Parameters
    ----------
    study : dict from :func:`activation_study`
    layer : int
        Which layer (default the last).

    Returns
    -------
    list of dict
        ``activation``, ``weight_std``, ``label``, ``layer`` (1-based),
        ``std_mean``, ``std_sd``, ``std_min``, ``std_max`` (the spread of
        that layer's outputs over seeds), ``saturated_mean``, ``saturated_sd``,
        ``ratio_mean``, ``ratio_sd`` (its spread divided by layer 1's).
    """
    n_layers = study["std"].shape[-1]
    layer = check_int("layer", layer)
    if not -n_layers <= layer < n_layers:
        raise ValueError(f"layer must be in [-{n_layers}, {n_layers - 1}]; got {layer}.")
    index = layer % n_layers
    rows = []
    for i, activation in enumerate(study["activations"]):
        for j, weight_std in enumerate(study["weight_stds"]):
            std = study["std"][i, j, :, index]
            with np.errstate(all="ignore"):
                ratio = std / study["std"][i, j, :, 0]
            saturated = study["saturated"][i, j, :, index]
            rows.append({
                "activation": activation, "weight_std": weight_std,
                "label": describe_weight_std(weight_std), "layer": index + 1,
                "std_mean": float(std.mean()), "std_sd": float(std.std()),
                "std_min": float(std.min()), "std_max": float(std.max()),
                "saturated_mean": float(saturated.mean()),
                "saturated_sd": float(saturated.std()),
                "ratio_mean": float(ratio.mean()), "ratio_sd": float(ratio.std()),
            })
    return rows


# ---------------------------------------------------------------------------
# Plots
# ---------------------------------------------------------------------------

def _new_axes(n, width, height):
    import matplotlib.pyplot as plt

    _, axes = plt.subplots(1, n, figsize=(width * n, height), layout="constrained")
    return np.atleast_1d(axes)


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
        As returned by :func:`activation_histograms`.
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
    axes = _new_axes(n_layers, 2.4, 2.0) if axes is None else np.atleast_1d(axes).ravel()
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
    if ax is None:
        ax = _new_axes(1, 4.5, 3.4)[0]
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


# ---------------------------------------------------------------------------
# What each scale does to training
# ---------------------------------------------------------------------------

def init_training_study(weight_stds=(0.01, "xavier", "he"), seeds=range(5), activation="relu",
                        hidden_sizes=(100, 100, 100, 100, 100), learning_rate=0.05, epochs=20,
                        batch_size=32, data=None):
    """Train an MLP on the digits for each weight scale and seed; collect the curves.

    The book's figure 6-15 on the bundled digits: :func:`~tinynet.network.build_mlp`
    (``hidden_sizes``, ``activation``, weights drawn with each ``weight_std``
    from the seed), trained by :func:`~tinynet.network.train_network` with
    plain :class:`tinynet.optim.SGD`; seed ``s`` sets the weights and the
    shuffling.

    Parameters
    ----------
    weight_stds : sequence of float, "xavier" or "he"
    seeds : iterable of int
    activation : {"relu", "sigmoid", "tanh"}
    hidden_sizes : sequence of int
    learning_rate : float
    epochs, batch_size : int
    data : tinynet.datasets.Split, optional
        Default :func:`tinynet.datasets.load_digits_split` (seed 0); the
        images are flattened to vectors.

    Returns
    -------
    dict
        ``weight_stds``, ``seeds``, ``activation``, ``epoch`` (0..epochs);
        ``train_loss``, ``train_accuracy``, ``val_accuracy``: arrays of shape
        (n_weight_stds, n_seeds, epochs + 1), NaN after a run diverged;
        ``diverged``: bool array (n_weight_stds, n_seeds).
    """
    from .datasets import load_digits_split
    from .optim import SGD

    weight_stds = [_check_weight_std(w) for w in weight_stds]
    if not weight_stds:
        raise ValueError("weight_stds must hold at least one value, such as ('xavier', 'he').")
    seeds = _check_seeds(seeds)
    _check_activation(activation)
    learning_rate = check_number("learning_rate", learning_rate, minimum=0.0)
    epochs = check_int("epochs", epochs, minimum=1)
    data = load_digits_split() if data is None else data
    x_train = data.x_train.reshape(len(data.x_train), -1)  # (N, 1, 8, 8) -> (N, 64)
    x_val = data.x_val.reshape(len(data.x_val), -1)
    n_classes = int(max(np.max(data.t_train), np.max(data.t_val))) + 1
    shape = (len(weight_stds), len(seeds), epochs + 1)
    study = {"weight_stds": weight_stds, "seeds": seeds, "activation": activation,
             "epoch": np.arange(epochs + 1), "train_loss": np.full(shape, np.nan),
             "train_accuracy": np.full(shape, np.nan), "val_accuracy": np.full(shape, np.nan),
             "diverged": np.zeros(shape[:2], dtype=bool)}
    for i, weight_std in enumerate(weight_stds):
        for j, seed in enumerate(seeds):
            net = build_mlp(x_train.shape[1], hidden_sizes, n_classes, activation=activation,
                            weight_std=weight_std, seed=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # divergence is recorded
                history = train_network(net, x_train, data.t_train, x_val, data.t_val,
                                        optimizer=SGD(learning_rate), epochs=epochs,
                                        batch_size=batch_size, seed=seed)
            n = len(history.epoch)
            study["train_loss"][i, j, :n] = history.train_loss
            study["train_accuracy"][i, j, :n] = history.train_accuracy
            study["val_accuracy"][i, j, :n] = history.val_accuracy
            study["diverged"][i, j] = history.diverged
    return study


def describe_init_training(study, epoch=5):
    """Per weight scale: training loss at ``epoch`` and at the end, validation accuracy.

    Returns
    -------
    list of dict
        ``weight_std``, ``label``, ``seeds``, ``diverged`` (count),
        ``epoch``, ``loss_mean``, ``loss_sd``, ``loss_min``, ``loss_max``
        (training loss at ``epoch``), ``final_loss_mean``, ``final_loss_sd``,
        ``val_mean``, ``val_sd``, ``val_min``, ``val_max`` (last epoch).
    """
    epochs = len(study["epoch"]) - 1
    epoch = check_int("epoch", epoch, minimum=0)
    if epoch > epochs:
        raise ValueError(f"epoch must be at most {epochs} (the study's last); got {epoch}.")
    rows = []
    for i, weight_std in enumerate(study["weight_stds"]):
        loss = study["train_loss"][i, :, epoch]
        final = study["train_loss"][i, :, -1]
        val = study["val_accuracy"][i, :, -1]
        rows.append({
            "weight_std": weight_std, "label": describe_weight_std(weight_std),
            "seeds": len(study["seeds"]), "diverged": int(study["diverged"][i].sum()),
            "epoch": epoch, "loss_mean": float(loss.mean()), "loss_sd": float(loss.std()),
            "loss_min": float(loss.min()), "loss_max": float(loss.max()),
            "final_loss_mean": float(final.mean()), "final_loss_sd": float(final.std()),
            "val_mean": float(val.mean()), "val_sd": float(val.std()),
            "val_min": float(val.min()), "val_max": float(val.max()),
        })
    return rows


def plot_init_training(study, ax=None, quantity="train_loss", colors=None):
    """Curves of ``quantity`` over epochs for every weight scale, banded over seeds.

    Parameters
    ----------
    study : dict from :func:`init_training_study`
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
    if ax is None:
        ax = _new_axes(1, 4.5, 3.4)[0]
    for i, weight_std in enumerate(study["weight_stds"]):
        color = None if colors is None else colors[i]
        plot_seed_band(study["epoch"], study[quantity][i], ax=ax, color=color,
                       label=describe_weight_std(weight_std))
    ylabel = {"train_loss": "training loss", "train_accuracy": "training accuracy",
              "val_accuracy": "validation accuracy"}[quantity]
    ax.set(xlabel="epoch", ylabel=ylabel,
           title=f"{study['activation']}, {len(study['seeds'])} seeds (mean, min-max band)")
    return ax
