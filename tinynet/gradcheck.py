"""Numerical gradients and checks that fail loudly.

A backward pass is easy to get subtly wrong. The central difference

    df/dx_i ~ (f(x + eps e_i) - f(x - eps e_i)) / (2 eps)

has an error of order eps^2, so in float64 with eps = 1e-6 it agrees with a
correct analytic gradient to about 1e-8 relative error; a wrong one is off
by far more. :func:`check_layer` and :func:`check_network` compare the two
and return a report; :func:`compare` checks any two arrays and raises with a
hint when they differ.
"""

from dataclasses import dataclass

import numpy as np


class GradientCheckError(AssertionError):
    """A gradient or a result did not match its reference."""


def numerical_gradient(f, x, eps=1e-6):
    """Central-difference gradient of the scalar function ``f`` at ``x``.

    ``x`` is perturbed in place one entry at a time and restored exactly, so
    ``f`` may read ``x`` through a reference (a layer's ``W``, say).

    Parameters
    ----------
    f : callable
        Takes no arguments and returns a float that depends on ``x``.
    x : ndarray
        Float array (float64 recommended).
    eps : float

    Returns
    -------
    grad : ndarray of the shape of ``x``
    """
    grad = np.zeros_like(x, dtype=np.float64)
    flat = x.reshape(-1)  # a view: writing to it perturbs x
    if not np.shares_memory(flat, x):
        raise ValueError("x must be contiguous so it can be perturbed in place.")
    for i in range(flat.size):
        original = flat[i]
        flat[i] = original + eps
        f_plus = f()
        flat[i] = original - eps
        f_minus = f()
        flat[i] = original
        grad.reshape(-1)[i] = (f_plus - f_minus) / (2 * eps)
    return grad


def relative_error(analytic, numeric):
    """``||a - n|| / (||a|| + ||n||)``, 0 when both are zero."""
    analytic = np.asarray(analytic, dtype=np.float64)
    numeric = np.asarray(numeric, dtype=np.float64)
    scale = np.linalg.norm(analytic) + np.linalg.norm(numeric)
    if scale == 0:
        return 0.0
    return float(np.linalg.norm(analytic - numeric) / scale)


@dataclass
class GradientReport:
    """Relative error of each checked gradient, and the verdict."""

    name: str
    errors: dict
    tolerance: float

    @property
    def passed(self):
        return all(err <= self.tolerance for err in self.errors.values())

    def __str__(self):
        lines = [f"gradient check of {self.name}: {'PASS' if self.passed else 'FAIL'}"]
        for key, err in self.errors.items():
            mark = "ok " if err <= self.tolerance else "BAD"
            lines.append(f"  {mark} d{key:<8} relative error {err:.0e}")
        if not self.passed:
            lines.append(
                f"  hint: errors above {self.tolerance:.0e} mean backward does not "
                f"match forward. Check the gradients marked BAD: a missing sum over "
                f"the batch, a transposed matrix, or a forgotten 1/N are the usual causes."
            )
        return "\n".join(lines)

    def _repr_pretty_(self, printer, cycle):
        printer.text(str(self))

    def raise_if_failed(self):
        if not self.passed:
            raise GradientCheckError(str(self))
        return self


def check_layer(layer, x, params=("W", "b"), tolerance=1e-6, rng=0, eps=1e-6):
    """Compare a layer's backward pass with numerical gradients.

    The scalar checked is ``sum(forward(x) * G)`` for a fixed random ``G``,
    whose gradient with respect to the output is ``G`` itself.

    Parameters
    ----------
    layer : object with ``forward(x)`` and ``backward(dout)``
    x : ndarray
        Input (use float64).
    params : iterable of str
        Attribute names of parameters to check (skipped if absent);
        their gradients are read from ``d<name>`` after ``backward``.
    tolerance : float
    rng : int or numpy.random.Generator

    Returns
    -------
    GradientReport
    """
    generator = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    x = np.array(x, dtype=np.float64, copy=True)
    out = layer.forward(x)
    G = generator.standard_normal(out.shape)
    dx = layer.backward(G.copy())
    analytic = {"x": dx}
    names = [p for p in params if getattr(layer, p, None) is not None]
    for p in names:
        analytic[p] = np.array(getattr(layer, "d" + p), copy=True)

    def objective():
        return float(np.sum(layer.forward(x) * G))

    errors = {"x": relative_error(dx, numerical_gradient(objective, x, eps))}
    for p in names:
        original = getattr(layer, p)
        trial = np.array(original, dtype=np.float64, copy=True)  # never touch the caller's array
        setattr(layer, p, trial)
        try:
            errors[p] = relative_error(analytic[p], numerical_gradient(objective, trial, eps))
        finally:
            setattr(layer, p, original)
    return GradientReport(type(layer).__name__, errors, tolerance)


def check_network(net_factory, params, x, t, tolerance=1e-6, eps=1e-6):
    """Compare a whole network's gradients with numerical ones.

    Parameters
    ----------
    net_factory : callable
        ``net_factory(**params)`` builds a network with ``forward(x, t)``
        returning ``(scores, loss)`` and ``backward()`` returning the
        gradients in the order of ``params``.
    params : dict of str to ndarray
        Copied; the caller's arrays are not modified.

    Returns
    -------
    GradientReport
    """
    params = {k: np.array(v, dtype=np.float64, copy=True) for k, v in params.items()}
    net = net_factory(**params)
    net.forward(x, t)
    analytic = dict(zip(params, (np.array(g, copy=True) for g in net.backward()), strict=True))

    def objective():
        return float(net_factory(**params).forward(x, t)[1])

    errors = {
        name: relative_error(analytic[name], numerical_gradient(objective, value, eps))
        for name, value in params.items()
    }
    return GradientReport(getattr(net_factory, "__name__", "network"), errors, tolerance)


def compare(name, received, expected, rtol=1e-7, atol=1e-9, hint=None):
    """Print a one-line verdict on two arrays; raise if they differ.

    Parameters
    ----------
    name : str
        What is being compared, for the message.
    received : array_like
        Your result.
    expected : array_like
        The reference (for example the :mod:`tinynet` implementation).
    hint : str, optional
        Advice shown when the check fails.

    Returns
    -------
    float
        The largest absolute difference.
    """
    received = np.asarray(received)
    expected = np.asarray(expected)
    if received.shape != expected.shape:
        raise GradientCheckError(
            f"{name}: FAIL, shape {received.shape} but expected {expected.shape}."
            + (f" Hint: {hint}" if hint else "")
        )
    diff = float(np.max(np.abs(received.astype(np.float64) - expected))) if received.size else 0.0
    if np.array_equal(received, expected):
        print(f"{name}: exact match")
    elif np.allclose(received, expected, rtol=rtol, atol=atol):
        # The difference itself depends on the machine's BLAS; the verdict does not.
        print(f"{name}: close (within rtol={rtol:g}, atol={atol:g})")
    else:
        raise GradientCheckError(
            f"{name}: FAIL, max difference {diff:.3e} (allowed rtol={rtol:g}, atol={atol:g})."
            + (f" Hint: {hint}" if hint else "")
        )
    return diff


def compare_all(title, pairs, rtol=1e-7, atol=1e-9):
    """Compare several results with their references and print ONE line.

    Parameters
    ----------
    title : str
        What is being compared, for the verdict line.
    pairs : list of (str, array_like, array_like)
        ``(label, received, expected)`` for each comparison.
    rtol, atol : float
        Tolerances, as in :func:`numpy.allclose`.

    Returns
    -------
    int
        The number of pairs that match exactly (the printed line does not
        say it: exactness depends on the machine's BLAS).

    Raises
    ------
    GradientCheckError
        Naming every label that does not match (shape or values), with its
        largest difference.
    """
    pairs = list(pairs)
    exact, failures = 0, []
    for label, received, expected in pairs:
        received = np.asarray(received)
        expected = np.asarray(expected)
        if received.shape != expected.shape:
            failures.append(f"{label} (shape {received.shape}, expected {expected.shape})")
        elif np.array_equal(received, expected):
            exact += 1
        elif not np.allclose(received, expected, rtol=rtol, atol=atol):
            diff = np.abs(received.astype(np.float64) - expected.astype(np.float64))
            worst = float(np.nanmax(diff)) if np.isfinite(diff).any() else float("nan")
            failures.append(f"{label} (max difference {worst:.3e})")
    n = len(pairs)
    if failures:
        raise GradientCheckError(
            f"{title}: {len(failures)} of {n} differ (allowed rtol={rtol:g}, atol={atol:g}): "
            + ", ".join(failures) + "."
        )
    # Whether a match is exact to the last bit depends on the machine's BLAS,
    # so the printed verdict does not say (notebook outputs must not change
    # from one machine to another); the count is returned.
    print(f"{title}: all {n} match (rtol={rtol:g}, atol={atol:g})")
    return exact
