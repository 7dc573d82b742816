"""Tests for tinynet.landscapes: the book's f and the optimizers' paths on it."""

import numpy as np
import pytest

from tinynet.gradcheck import numerical_gradient
from tinynet.landscapes import (
    LEARNING_RATES,
    START,
    across_travel,
    distance_to_minimum,
    f,
    grad_f,
    optimizer_path,
    random_starts,
)
from tinynet.optim import OPTIMIZERS, SGD, Adam, Momentum


def test_f_and_its_gradient():
    assert f(-7.0, 2.0) == pytest.approx(49 / 20 + 4)
    assert f(0.0, 0.0) == 0.0
    assert grad_f(-7.0, 2.0) == (pytest.approx(-0.7), 4.0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        point = rng.normal(0, 3, 2)
        numeric = numerical_gradient(lambda point=point: f(point[0], point[1]), point)
        np.testing.assert_allclose(grad_f(*point), numeric, rtol=1e-7, atol=1e-9)
    # elementwise on arrays
    np.testing.assert_array_equal(f(np.array([0.0, 10.0]), np.array([1.0, 0.0])), [1.0, 5.0])


def test_sgd_path_is_the_closed_form():
    """SGD multiplies x by (1 - lr/10) and y by (1 - 2 lr) each step: y flips sign at lr 0.95."""
    learning_rate, steps = 0.95, 30
    path = optimizer_path(SGD(learning_rate), START, steps)
    k = np.arange(steps + 1)
    np.testing.assert_allclose(path[:, 0], -7.0 * (1 - learning_rate / 10) ** k, rtol=1e-12)
    np.testing.assert_allclose(path[:, 1], 2.0 * (1 - 2 * learning_rate) ** k, rtol=1e-12)
    assert np.all(np.sign(path[1:, 1]) != np.sign(path[:-1, 1]))  # the zigzag


def test_path_by_name_uses_the_table_and_steps_the_optimizer():
    path = optimizer_path("adam", steps=5)
    assert path.shape == (6, 2)
    np.testing.assert_array_equal(path[0], START)
    np.testing.assert_array_equal(path, optimizer_path(Adam(LEARNING_RATES["adam"]), steps=5))
    assert set(LEARNING_RATES) == set(OPTIMIZERS)


def test_path_resets_the_optimizer_and_zero_steps():
    momentum = Momentum(0.1)
    first = optimizer_path(momentum, steps=10)
    np.testing.assert_array_equal(first, optimizer_path(momentum, steps=10))
    np.testing.assert_array_equal(optimizer_path(momentum, (1.0, -1.0), steps=0), [[1.0, -1.0]])


def test_path_with_another_gradient():
    path = optimizer_path(SGD(0.5), (4.0, -2.0), steps=3, gradient=lambda x, y: (x, y))
    np.testing.assert_allclose(path, [[4, -2], [2, -1], [1, -0.5], [0.5, -0.25]])


def test_divergent_path_stops_early():
    path = optimizer_path(SGD(1.5), START, steps=100)  # |1 - 2 * 1.5| = 2 > 1
    assert len(path) < 101 and np.abs(path[-1]).max() > 1e6


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_gets_closer_with_the_table_rates(name):
    distance = distance_to_minimum(optimizer_path(name))
    start = np.hypot(*START)
    assert distance[-1] < 0.2 * start, name


def test_across_travel():
    zigzag = np.array([[0, 2.0], [0, -1.0], [0, 0.5], [3.0, 0.0]])
    assert across_travel(zigzag) == (3 + 1.5 + 0.5) / 2
    assert across_travel(np.array([[0, -1.0], [5, -0.5], [9, 0.0]])) == 1.0  # straight down


def test_bad_arguments():
    with pytest.raises(TypeError, match="optimizer must be an optimizer from tinynet.optim"):
        optimizer_path(object())
    with pytest.raises(ValueError, match="optimizer must be one of"):
        optimizer_path("adamw")
    with pytest.raises(ValueError, match=r"start must be a pair \(x, y\)"):
        optimizer_path("sgd", start=(1.0, 2.0, 3.0))
    with pytest.raises(TypeError, match="start must be a real number"):
        optimizer_path("sgd", start=("a", 2.0))
    with pytest.raises(ValueError, match="steps must be an integer >= 0"):
        optimizer_path("sgd", steps=-1)
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        random_starts(0)


def test_random_starts_lie_in_the_box_and_are_seeded():
    starts = random_starts(5, seed=1)
    assert starts.shape == (5, 2)
    assert np.all((starts[:, 0] >= -9) & (starts[:, 0] <= -5))
    assert np.all((np.abs(starts[:, 1]) >= 1) & (np.abs(starts[:, 1]) <= 3))
    np.testing.assert_array_equal(starts, random_starts(5, seed=1))
    assert not np.array_equal(starts, random_starts(5, seed=2))

