"""Polynomial regression: the smallest model that can underfit and overfit.

A polynomial of degree ``D`` in one variable is a linear model on the
features ``[1, x, x**2, ..., x**D]``::

    y_hat = w[0] + w[1] * x + w[2] * x**2 + ... + w[D] * x**D

Coefficients are always stored in *increasing* order of power (constant
first), the same order as the columns of :func:`polynomial_features`.

Fitting minimises the mean squared error plus an L2 penalty ("weight
decay") on every coefficient except the constant term::

    L(w) = (1/N) * ||X w - y||**2 + (weight_decay / 2) * ||w[1:]||**2

The constant term is left unpenalised, so a very large ``weight_decay``
flattens the curve towards the mean of ``y`` instead of dragging it to zero.
"""

import numbers

import numpy as np

__all__ = [
    "polynomial_features",
    "fit_polynomial",
    "predict_polynomial",
    "mean_squared_error",
]


# ---------------------------------------------------------------------------
# Argument checks (private)
# ---------------------------------------------------------------------------

def _check_degree(degree):
    if isinstance(degree, (bool, np.bool_)) or not isinstance(degree, numbers.Integral):
        raise TypeError(
            f"degree must be a non-negative int; got {type(degree).__name__} "
            f"{degree!r}. Pass a whole number such as degree=2."
        )
    if degree < 0:
        raise ValueError(
            f"degree must be a non-negative int; got {degree}. "
            "Use degree=0 for a constant, 1 for a line, 2 for a parabola."
        )
    return int(degree)


def _check_weight_decay(weight_decay):
    if isinstance(weight_decay, (bool, np.bool_)) or not isinstance(weight_decay, numbers.Real):
        raise TypeError(
            f"weight_decay must be a number >= 0; got {type(weight_decay).__name__} "
            f"{weight_decay!r}. Pass a float such as weight_decay=0.01."
        )
    if not np.isfinite(weight_decay) or weight_decay < 0:
        raise ValueError(
            f"weight_decay must be a finite number >= 0; got {weight_decay}. "
            "Use weight_decay=0.0 for no penalty."
        )
    return float(weight_decay)


def _as_real_array(name, values, ndim=None):
    """Return ``values`` as a float64 array, checking type, shape and finiteness."""
    array = np.asarray(values)
    if array.dtype == object or not (
        np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating)
    ):
        raise TypeError(
            f"{name} must be an array of real numbers; got dtype {array.dtype}. "
            f"Convert it first, e.g. np.asarray({name}, dtype=float)."
        )
    if ndim == 1 and array.ndim != 1:
        raise ValueError(
            f"{name} must be a 1-D array of shape (N,); got shape {array.shape}. "
            f"Flatten it with np.ravel({name}) if it holds one value per sample."
        )
    if array.size == 0:
        raise ValueError(f"{name} must not be empty; got shape {array.shape}.")
    if not np.all(np.isfinite(array)):
        raise ValueError(
            f"{name} must contain only finite numbers; got "
            f"{int(np.sum(~np.isfinite(array)))} NaN or infinite value(s). "
            "Remove or replace them before fitting."
        )
    return array.astype(np.float64, copy=False)


# ---------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------

def polynomial_features(x, degree):
    """Stack the powers ``x**0, x**1, ..., x**degree`` as columns.

    Parameters
    ----------
    x : array-like of shape (N,)
        Input values. Polynomials of high degree are best conditioned when
        ``x`` lies roughly in ``[-1, 1]``.
    degree : int
        Highest power, ``degree >= 0``.

    Returns
    -------
    X : ndarray of shape (N, degree + 1)
        ``X[n, k] = x[n] ** k``; the first column is all ones.

    Examples
    --------
    >>> polynomial_features([2.0, 3.0], degree=2)
    array([[1., 2., 4.],
           [1., 3., 9.]])
    """
    x = _as_real_array("x", x, ndim=1)
    degree = _check_degree(degree)
    powers = np.arange(degree + 1)
    return x[:, None] ** powers[None, :]  # (N, 1) ** (1, D+1) -> (N, D+1)


def fit_polynomial(x, y, degree, weight_decay=0.0):
    """Fit polynomial coefficients by regularised least squares.

    Minimises::

        (1/N) * sum_n (y_hat[n] - y[n])**2 + (weight_decay / 2) * sum_{k>=1} w[k]**2

    The constant term ``w[0]`` is **not** penalised.

    Parameters
    ----------
    x : array-like of shape (N,)
        Inputs.
    y : array-like of shape (N,)
        Targets.
    degree : int
        Degree of the polynomial, ``degree >= 0``.
    weight_decay : float, default=0.0
        Strength of the L2 penalty, ``>= 0``. With ``0`` this is ordinary
        least squares (when ``N < degree + 1`` the minimum-norm solution is
        returned).

    Returns
    -------
    coefficients : ndarray of shape (degree + 1,)
        ``coefficients[k]`` multiplies ``x**k``.

    Notes
    -----
    Setting the gradient to zero gives
    ``(X^T X + (N * weight_decay / 2) * P) w = X^T y`` with ``P`` the identity
    except ``P[0, 0] = 0``. Instead of inverting ``X^T X`` (which squares the
    condition number) we solve the equivalent stacked least-squares problem::

        [ X                         ] w  ~  [ y ]
        [ sqrt(N*weight_decay/2) P  ]       [ 0 ]

    with ``np.linalg.lstsq`` (an SVD), which stays accurate even when the
    columns of ``X`` are nearly dependent.
    """
    x = _as_real_array("x", x, ndim=1)
    y = _as_real_array("y", y, ndim=1)
    if x.shape != y.shape:
        raise ValueError(
            f"x and y must have the same length; got x of shape {x.shape} and "
            f"y of shape {y.shape}. Pass one target value per input."
        )
    degree = _check_degree(degree)
    weight_decay = _check_weight_decay(weight_decay)

    N = x.shape[0]
    X = polynomial_features(x, degree)  # (N, D+1)
    if weight_decay == 0.0:
        A, b = X, y
    else:
        P = np.eye(degree + 1)
        P[0, 0] = 0.0  # leave the constant term unpenalised
        scale = np.sqrt(N * weight_decay / 2.0)
        A = np.vstack([X, scale * P])  # (N + D+1, D+1)
        b = np.concatenate([y, np.zeros(degree + 1)])  # (N + D+1,)
    coefficients, *_ = np.linalg.lstsq(A, b, rcond=None)
    return coefficients


def predict_polynomial(coefficients, x):
    """Evaluate the polynomial ``sum_k coefficients[k] * x**k``.

    Parameters
    ----------
    coefficients : array-like of shape (degree + 1,)
        Coefficients in increasing order of power, as returned by
        :func:`fit_polynomial`.
    x : array-like of any shape
        Points at which to evaluate.

    Returns
    -------
    y : ndarray of the same shape as ``x``
        Values of the polynomial.

    Notes
    -----
    Uses Horner's rule, ``((w[D] x + w[D-1]) x + ...) x + w[0]``: ``D``
    multiplications and no explicit powers, which is cheaper and loses less
    precision than summing ``w[k] * x**k``.
    """
    coefficients = _as_real_array("coefficients", coefficients, ndim=1)
    x = np.asarray(x)
    if x.size == 0:
        return np.zeros(x.shape)
    x = _as_real_array("x", x)
    y = np.zeros_like(x)
    for c in coefficients[::-1]:
        y = y * x + c
    return y


def mean_squared_error(y_true, y_pred):
    """Mean of the squared differences, ``mean((y_true - y_pred)**2)``.

    Parameters
    ----------
    y_true : array-like of shape (N,)
        Targets.
    y_pred : array-like of shape (N,)
        Predictions, same shape as ``y_true``.

    Returns
    -------
    mse : float
    """
    y_true = _as_real_array("y_true", y_true)
    y_pred = _as_real_array("y_pred", y_pred)
    if y_true.shape != y_pred.shape:
        raise ValueError(
            f"y_true and y_pred must have the same shape; got {y_true.shape} and "
            f"{y_pred.shape}. Predict one value per target."
        )
    return float(np.mean((y_true - y_pred) ** 2))
