"""Weight initialisation: scales by name, and what they do to a deep network's activations.

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
through a 5-layer, 100-unit network (the hidden layers of
:func:`~tinynet.network.build_mlp`, the same weights for the same seed),
keeping the output of every activation layer; :func:`saturated_fraction`
and :func:`distinct_units` measure what came out. The studies over seeds
live in :mod:`tinynet.experiments` (:func:`~tinynet.experiments.activation_study`,
:func:`~tinynet.experiments.init_training_study`), the histograms are drawn
by :func:`tinynet.plotting.plot_activation_histograms`.
"""

import numbers

import numpy as np

from ._checks import _describe, as_float_array, check_int, check_number
from .layers import FullyConnected, Relu, Sigmoid, Tanh

__all__ = ["WEIGHT_STD_NAMES", "ACTIVATIONS", "fan_in", "init_std", "init_weights",
           "describe_weight_std", "activation_histograms", "saturated_fraction",
           "distinct_units"]

WEIGHT_STD_NAMES = ("xavier", "he")
"""The named scales: ``"xavier"`` = 1/sqrt(fan_in), ``"he"`` = sqrt(2/fan_in)."""

ACTIVATIONS = {"relu": Relu, "sigmoid": Sigmoid, "tanh": Tanh}
"""The activation layers by name, as :func:`tinynet.network.build_mlp` takes them."""

# Where the activation is "flat": its slope is below this fraction of its
# largest slope (sigmoid 1/4 at 0, tanh 1 at 0, ReLU 1 for x > 0).
_FLAT = 0.1

# The inputs of activation_histograms come from their own stream, so that they
# are not the same numbers as the first weights (build_mlp draws from the seed).
_INPUT_STREAM = 10


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

    ``n_layers`` hidden layers of ``width`` units (Affine -> activation
    each, biases 0), weights drawn with ``weight_std`` from ``seed`` by
    :func:`init_weights`: the hidden layers that
    :func:`~tinynet.network.build_mlp` builds for the same arguments, number
    for number (its output layer is not needed). The inputs are
    ``n_samples`` standard normal vectors of length ``width`` from a stream
    of their own (derived from ``seed``). Every layer's own ``forward`` is
    run in turn.

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
    # the weights build_mlp(width, [width] * n_layers, ..., seed=seed) draws, in layer order
    weights_rng = np.random.default_rng(seed)
    out = np.random.default_rng([seed, _INPUT_STREAM]).standard_normal((n_samples, width))
    activations = []
    with np.errstate(over="ignore", invalid="ignore"):  # std 1 with ReLU grows large
        for _ in range(n_layers):
            W = init_weights((width, width), weight_std, weights_rng)
            out = FullyConnected(W, np.zeros(width)).forward(out)
            out = ACTIVATIONS[activation]().forward(out)
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
