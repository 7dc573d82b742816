"""Tests for tinynet.polynomial."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinynet.datasets import make_quadratic_data
from tinynet.polynomial import (
    fit_polynomial,
    mean_squared_error,
    polynomial_features,
    predict_polynomial,
)

# -- polynomial_features -----------------------------------------------------

def test_features_shape_and_values():
    x = np.array([-2.0, 0.0, 0.5, 3.0])
    X = polynomial_features(x, degree=3)
    assert X.shape == (4, 4)
    expected = np.array(
        [
            [1.0, -2.0, 4.0, -8.0],
            [1.0, 0.0, 0.0, 0.0],
            [1.0, 0.5, 0.25, 0.125],
            [1.0, 3.0, 9.0, 27.0],
        ]
    )
    np.testing.assert_array_equal(X, expected)


def test_features_degree_zero_is_a_column_of_ones():
    X = polynomial_features([3.0, -1.0], degree=0)
    np.testing.assert_array_equal(X, np.ones((2, 1)))


def test_features_accept_integer_input_and_do_not_modify_it():
    x = np.array([1, 2, 3])
    X = polynomial_features(x, 2)
    assert X.dtype == np.float64
    np.testing.assert_array_equal(x, [1, 2, 3])
    np.testing.assert_array_equal(X[:, 2], [1.0, 4.0, 9.0])


# -- fit and predict -----------------------------------------------------------

def test_exact_fit_recovers_quadratic_coefficients():
    true = np.array([0.3, -1.2, 2.5])
    x = np.linspace(-1.0, 1.0, 9)
    y = true[0] + true[1] * x + true[2] * x**2
    w = fit_polynomial(x, y, degree=2)
    assert w.shape == (3,)
    np.testing.assert_allclose(w, true, rtol=0, atol=1e-12)


def test_higher_degree_on_quadratic_data_puts_zero_on_extra_terms():
    true = np.array([0.3, -1.2, 2.5])
    x = np.linspace(-1.0, 1.0, 15)
    y = predict_polynomial(true, x)
    w = fit_polynomial(x, y, degree=5)
    np.testing.assert_allclose(w, [0.3, -1.2, 2.5, 0, 0, 0], atol=1e-9)


def test_predict_matches_explicit_sum_of_powers():
    w = np.array([1.0, -2.0, 0.5, 3.0])
    x = np.array([[-1.5, 0.0], [0.25, 2.0]])  # any shape works
    expected = w[0] + w[1] * x + w[2] * x**2 + w[3] * x**3
    y = predict_polynomial(w, x)
    assert y.shape == x.shape
    np.testing.assert_allclose(y, expected, rtol=1e-14)


def test_predict_equals_features_times_coefficients():
    rng = np.random.default_rng(3)
    w = rng.standard_normal(6)
    x = rng.uniform(-1, 1, 10)
    np.testing.assert_allclose(predict_polynomial(w, x), polynomial_features(x, 5) @ w, rtol=1e-12)


def test_weight_decay_shrinks_penalised_norm_monotonically():
    x, y = make_quadratic_data(n_samples=20, seed=4)
    decays = [0.0, 1e-4, 1e-3, 1e-2, 1e-1, 1.0, 10.0]
    norms = [np.linalg.norm(fit_polynomial(x, y, degree=9, weight_decay=d)[1:]) for d in decays]
    for (smaller, larger), d in zip(itertools.pairwise(norms), decays[1:], strict=True):
        assert larger < smaller, f"norm did not shrink at weight_decay={d}: {norms}"


def test_weight_decay_matches_normal_equations():
    # The objective is MSE + (weight_decay/2) ||w[1:]||^2; its minimiser
    # solves (X^T X + N*weight_decay/2 * P) w = X^T y (P: identity, P[0,0]=0).
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, 12)
    y = rng.standard_normal(12)
    decay = 0.3
    X = polynomial_features(x, 3)
    P = np.eye(4)
    P[0, 0] = 0.0
    expected = np.linalg.solve(X.T @ X + 12 * decay / 2 * P, X.T @ y)
    np.testing.assert_allclose(fit_polynomial(x, y, 3, weight_decay=decay), expected, rtol=1e-10)


def test_huge_weight_decay_flattens_to_the_mean_since_bias_is_not_penalised():
    x, y = make_quadratic_data(seed=1)
    w = fit_polynomial(x, y, degree=4, weight_decay=1e12)
    np.testing.assert_allclose(w[0], y.mean(), atol=1e-6)
    np.testing.assert_allclose(w[1:], 0.0, atol=1e-6)


def test_overfitting_high_degree_wins_on_train_loses_on_test():
    x, y = make_quadratic_data(n_samples=20, noise=0.1, seed=0)
    x_test, y_test = make_quadratic_data(n_samples=200, noise=0.1, seed=1)
    errors = {}
    for degree in (1, 2, 15):
        w = fit_polynomial(x, y, degree)
        errors[degree] = (
            mean_squared_error(y, predict_polynomial(w, x)),
            mean_squared_error(y_test, predict_polynomial(w, x_test)),
        )
    train2, test2 = errors[2]
    train15, test15 = errors[15]
    train1, test1 = errors[1]
    assert train15 < train2, errors
    assert test15 > test2, errors
    # ...and a line underfits: worse than the parabola on both.
    assert train1 > train2 and test1 > test2, errors


@settings(max_examples=30, deadline=None)
@given(
    coefficients=st.lists(
        st.floats(-5, 5, allow_nan=False, allow_infinity=False), min_size=1, max_size=5
    )
)
def test_property_noiseless_fit_recovers_any_low_degree_polynomial(coefficients):
    w_true = np.array(coefficients)
    x = np.linspace(-1, 1, 12)
    w = fit_polynomial(x, predict_polynomial(w_true, x), degree=len(w_true) - 1)
    np.testing.assert_allclose(w, w_true, atol=1e-9)


# -- mean_squared_error -----------------------------------------------------------

def test_mean_squared_error_value():
    assert mean_squared_error([1.0, 2.0, 3.0], [1.0, 0.0, 6.0]) == pytest.approx((0 + 4 + 9) / 3)
    assert isinstance(mean_squared_error([1.0], [1.0]), float)


# -- bad arguments ---------------------------------------------------------------

@pytest.mark.parametrize(
    "call, error, match",
    [
        (
            lambda: polynomial_features([1.0, 2.0], -1),
            ValueError,
            r"degree must be a non-negative int; got -1",
        ),
        (
            lambda: polynomial_features([1.0, 2.0], 2.5),
            TypeError,
            r"degree must be a non-negative int; got float",
        ),
        (lambda: polynomial_features([1.0, 2.0], "2"), TypeError, r"degree must be .* got str"),
        (lambda: polynomial_features([1.0, 2.0], True), TypeError, r"degree must be .* got bool"),
        (
            lambda: polynomial_features([[1.0, 2.0]], 2),
            ValueError,
            r"x must be a 1-D array of shape \(N,\); got shape \(1, 2\)",
        ),
        (
            lambda: polynomial_features(["a", "b"], 2),
            TypeError,
            r"x must be an array of real numbers",
        ),
        (lambda: polynomial_features([], 2), ValueError, r"x must not be empty"),
        (
            lambda: polynomial_features([1.0, np.nan], 2),
            ValueError,
            r"x must contain only finite numbers",
        ),
        (
            lambda: fit_polynomial([1.0, 2.0, 3.0], [1.0, 2.0], 1),
            ValueError,
            r"x and y must have the same length",
        ),
        (
            lambda: fit_polynomial([1.0, 2.0], [1.0, np.inf], 1),
            ValueError,
            r"y must contain only finite",
        ),
        (
            lambda: fit_polynomial([1.0, 2.0], [1.0, 2.0], 1, weight_decay=-0.1),
            ValueError,
            r"weight_decay must be a finite number >= 0; got -0.1",
        ),
        (
            lambda: fit_polynomial([1.0, 2.0], [1.0, 2.0], 1, weight_decay="0.1"),
            TypeError,
            r"weight_decay must be a number >= 0; got str",
        ),
        (
            lambda: fit_polynomial([1.0, 2.0], [1.0, 2.0], -3),
            ValueError,
            r"degree must be a non-negative int",
        ),
        (
            lambda: predict_polynomial([[1.0, 2.0]], [1.0]),
            ValueError,
            r"coefficients must be a 1-D array",
        ),
        (
            lambda: predict_polynomial([1.0, 2.0], ["x"]),
            TypeError,
            r"x must be an array of real numbers",
        ),
        (
            lambda: mean_squared_error([1.0, 2.0], [1.0]),
            ValueError,
            r"y_true and y_pred must have the same shape",
        ),
        (
            lambda: mean_squared_error(["1"], [1.0]),
            TypeError,
            r"y_true must be an array of real numbers",
        ),
    ],
)
def test_bad_arguments_raise_clear_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()
