"""Argument checks shared by the public entry points.

Every check raises ``TypeError`` (wrong kind of thing) or ``ValueError``
(right kind, wrong value) with a message that names the argument, says what
was expected, what arrived, and how to fix it.
"""

import numbers
import os
import tempfile

import numpy as np


def _describe(value):
    """A short description of ``value`` for error messages."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    if isinstance(value, str):
        return f"the string {value!r}"
    return f"{type(value).__name__} {value!r}"


def check_int(name, value, minimum=None):
    """Return ``value`` as a Python int, or raise naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(
            f"{name} must be an integer; got {_describe(value)}. "
            f"Pass a whole number such as {name}=1."
        )
    value = int(value)
    if minimum is not None and value < minimum:
        raise ValueError(
            f"{name} must be an integer >= {minimum}; got {value}."
        )
    return value


def as_generator(name, value):
    """A ``numpy.random.Generator`` from a seed (int >= 0) or a Generator."""
    if isinstance(value, np.random.Generator):
        return value
    return np.random.default_rng(check_int(name, value, minimum=0))


def check_number(name, value, minimum=None, allow_equal=True):
    """Return ``value`` as a finite Python float, or raise naming ``name``."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(
            f"{name} must be a real number; got {_describe(value)}. "
            f"Pass a float such as {name}=0.1 (not a string)."
        )
    value = float(value)
    if not np.isfinite(value):
        raise ValueError(f"{name} must be finite; got {value}.")
    if minimum is not None:
        too_small = value < minimum if allow_equal else value <= minimum
        if too_small:
            relation = ">=" if allow_equal else ">"
            raise ValueError(f"{name} must be {relation} {minimum}; got {value}.")
    return value


def as_float_array(name, value, ndim=None, shape_hint=None, fix=None):
    """Return ``value`` as a float ndarray, checking dimensions and finiteness.

    float32 and float64 arrays are returned as they are (no copy); integer
    arrays become float64. ``shape_hint`` (such as ``"(N, C, H, W)"``) and
    ``fix`` complete the message when the number of dimensions is wrong.
    """
    if isinstance(value, str) or value is None:
        raise TypeError(
            f"{name} must be a numeric array; got {_describe(value)}."
        )
    array = np.asarray(value)
    if array.dtype.kind in "iu":
        array = array.astype(np.float64)
    elif array.dtype.kind != "f":
        raise TypeError(
            f"{name} must hold real numbers; got dtype {array.dtype}. "
            f"Convert it with np.asarray({name}, dtype=float)."
        )
    if ndim is not None and array.ndim != ndim:
        expected = f" {shape_hint}" if shape_hint else ""
        message = (
            f"{name} must be a {ndim}-D array{expected}; "
            f"got shape {array.shape}."
        )
        if fix:
            message += f" {fix}"
        raise ValueError(message)
    check_finite(name, array)
    return array


class NonFiniteError(ValueError):
    """An array that must be finite holds NaN or infinity."""


# Up to this many entries, np.isfinite(array).all() beats the sum and its
# errstate context (about 1 against 2.3 microseconds on a laptop core).
_SMALL_ARRAY = 4096


def all_finite(array):
    """True when every entry of ``array`` is finite (no NaN, no infinity).

    Small arrays (biases, most weights) are tested entry by entry, which is
    cheapest there. For large ones, summing first is a cheap test: a finite
    sum proves every entry finite. Only when the sum is not finite (a NaN, an
    inf, or an overflow of huge but finite values) do we look at each entry.
    """
    if array.size <= _SMALL_ARRAY:
        return bool(np.isfinite(array).all())
    with np.errstate(over="ignore", invalid="ignore"):
        total = array.sum() if array.size else 0.0
    return bool(np.isfinite(total)) or bool(np.isfinite(array).all())


def check_finite(name, array):
    """Raise ``ValueError`` if ``array`` holds NaN or infinity."""
    if not all_finite(array):
        bad = ~np.isfinite(array)
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        raise NonFiniteError(
            f"{name} contains {int(bad.sum())} NaN or infinite value(s), "
            f"the first at index {first}. Check how {name} was computed "
            f"(a diverging training run produces NaN; try a smaller learning rate)."
        )


def check_labels(name, t, n_samples, n_classes):
    """Validate class labels and return them as integer class indices.

    ``t`` may be integer labels of shape ``(N,)`` or one-hot rows of shape
    ``(N, K)``. Returns ``(indices, one_hot_given)``.
    """
    if isinstance(t, str) or t is None:
        raise TypeError(
            f"{name} must be an array of labels; got {_describe(t)}. "
            f"Pass the true class labels, one per sample, of shape ({n_samples},)."
        )
    t = np.asarray(t)
    if t.ndim == 0:
        raise ValueError(
            f"{name} must be class indices of shape ({n_samples},), one label per sample; "
            f"got the scalar {t.item()!r}. For a single sample pass a list such as "
            f"{name}=[{t.item()!r}]."
        )
    if t.ndim == 1:
        if len(t) != n_samples:
            raise ValueError(
                f"{name} must have one label per sample: expected length "
                f"{n_samples}, got {len(t)}."
            )
        if t.dtype.kind == "f":
            if not np.all(np.isfinite(t)) or np.any(t != np.round(t)):
                raise ValueError(
                    f"{name} must hold integer class indices; got non-integer "
                    f"values such as {t[t != np.round(t)][:3].tolist()}."
                )
            t = t.astype(np.int64)
        elif t.dtype.kind not in "iu":
            raise TypeError(
                f"{name} must hold integer class indices; got dtype {t.dtype}. "
                f"Convert with {name}.astype(int)."
            )
        if n_samples and (t.min() < 0 or t.max() >= n_classes):
            raise ValueError(
                f"{name} must hold class indices in [0, {n_classes - 1}] "
                f"(the scores have {n_classes} columns); got values from "
                f"{t.min()} to {t.max()}."
            )
        return t.astype(np.intp, copy=False), False
    if t.ndim == 2:
        if t.shape != (n_samples, n_classes):
            raise ValueError(
                f"{name} given as one-hot rows must have shape "
                f"({n_samples}, {n_classes}) like the scores; got {t.shape}."
            )
        if t.dtype.kind not in "iuf" or t.dtype.kind == "b":
            raise TypeError(
                f"{name} must be numeric one-hot rows; got dtype {t.dtype}."
            )
        is_binary = np.all((t == 0) | (t == 1))
        if not is_binary or np.any(t.sum(axis=1) != 1):
            raise ValueError(
                f"{name} of shape {t.shape} is read as one-hot rows, but some "
                f"rows are not one-hot (each row needs exactly one 1 and zeros "
                f"elsewhere). Pass integer class indices of shape ({n_samples},) "
                f"instead, or build one-hot rows with np.eye({n_classes})[labels]."
            )
        return t.argmax(axis=1).astype(np.intp), True
    raise ValueError(
        f"{name} must be class indices of shape ({n_samples},) or one-hot rows "
        f"of shape ({n_samples}, {n_classes}); got shape {t.shape}."
    )


def explain_divergence(learning_rate, weight_decay, decay_to_gradient=None):
    """One sentence naming the hyperparameter that makes SGD blow up, with a value to try.

    The step is ``p <- (1 - learning_rate * weight_decay) * p - learning_rate * g``.
    When ``learning_rate * weight_decay >= 2`` the factor in front of ``p`` is
    ``<= -1``: the decay alone flips every parameter's sign and makes it grow,
    whatever the gradient does. Then the weight decay is to blame, unless
    ``decay_to_gradient`` (the size of ``weight_decay * p`` over the size of
    the data gradient ``g`` at the start) shows that the gradient term
    dominated the steps, in which case the learning rate is.
    """
    product = learning_rate * weight_decay
    if product >= 2 and (decay_to_gradient is None or decay_to_gradient >= 1):
        stable = 10.0 ** np.floor(np.log10(0.01 / learning_rate)) if learning_rate > 0 else 1e-4
        return (
            f"The weight decay {weight_decay:g} is too large for the learning rate "
            f"{learning_rate:g}: each step multiplies the parameters by "
            f"1 - learning_rate * weight_decay = {1 - product:.3g}, so they flip sign and "
            f"grow. Keep learning_rate * weight_decay below 1; try a weight decay such as "
            f"{min(stable, 1e-4):g}."
        )
    return (
        f"The learning rate {learning_rate:g} is probably too large; try a smaller one "
        f"such as {learning_rate / 10:g}."
    )


def probe_writable(folder):
    """Create and delete a temporary file in ``folder``; raise OSError if that fails.

    Permission bits do not tell (root ignores them, network file systems
    differ): only a real write does.
    """
    fd, probe = tempfile.mkstemp(dir=folder, prefix=".tinynet-write-test-")
    os.close(fd)
    os.unlink(probe)
