"""Tests for tinynet.landscapes: the book's f, optimizer paths on it, the contour plot."""

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from tinynet.gradcheck import numerical_gradient
from tinynet.landscapes import (LEARNING_RATES, across_travel, START, distance_to_minimum, f, grad_f,
                                optimizer_path, path_experiment, path_study, plot_paths,
                                random_starts)
from tinynet.optim import OPTIMIZERS, SGD, Adam, Momentum

matplotlib.use("Agg")


def new_ax():
    return Figure().subplots()


def test_f_and_its_gradient():
    assert f(-7.0, 2.0) == pytest.approx(49 / 20 + 4)
    assert f(0.0, 0.0) == 0.0
    assert grad_f(-7.0, 2.0) == (pytest.approx(-0.7), 4.0)
    rng = np.random.default_rng(0)
    for _ in range(5):
        point = rng.normal(0, 3, 2)
        numeric = numerical_gradient(lambda: f(point[0], point[1]), point)
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
    result = path_experiment("sgd", learning_rate=1.5, steps=100)
    assert result["diverged"] and result["final_f"] == float("inf")


@pytest.mark.parametrize("name", sorted(OPTIMIZERS))
def test_every_optimizer_gets_closer_with_the_table_rates(name):
    distance = distance_to_minimum(optimizer_path(name))
    start = np.hypot(*START)
    assert distance[-1] < 0.2 * start, name


def test_path_study_and_random_starts():
    starts = random_starts(5, seed=1)
    assert starts.shape == (5, 2)
    assert np.all((starts[:, 0] >= -9) & (starts[:, 0] <= -5))
    assert np.all((np.abs(starts[:, 1]) >= 1) & (np.abs(starts[:, 1]) <= 3))
    np.testing.assert_array_equal(starts, random_starts(5, seed=1))
    study = path_study(starts, {"sgd": 0.95, "adagrad": 1.5}, steps=30)
    assert sorted(study) == ["adagrad", "sgd"] and study["adagrad"]["distance"].shape == (5,)
    for i, start in enumerate(starts):
        expected = distance_to_minimum(optimizer_path(SGD(0.95), tuple(start), 30))[-1]
        assert study["sgd"]["distance"][i] == expected
    # SGD at 0.95: y -> -0.9 y, so it travels 1.9 |y| (1 + 0.9 + ... + 0.9^29) across
    np.testing.assert_allclose(study["sgd"]["across"], 1.9 * (1 - 0.9 ** 30) / 0.1, rtol=1e-12)
    assert study["adagrad"]["across"].max() < 3  # at most one overshoot, no zigzag
    diverged = path_study(starts[:2], {"sgd": 1.5}, steps=100)["sgd"]
    assert diverged["distance"].tolist() == [np.inf, np.inf]


def test_across_travel():
    assert across_travel(np.array([[0, 2.0], [0, -1.0], [0, 0.5], [3.0, 0.0]])) == (3 + 1.5 + 0.5) / 2
    assert across_travel(np.array([[0, -1.0], [5, -0.5], [9, 0.0]])) == 1.0  # straight down


def test_path_experiment_prints_one_rounded_line(capsys):
    ax = new_ax()
    result = path_experiment("sgd", ax=ax)
    out = capsys.readouterr().out
    assert out == "sgd, learning rate 0.95: after 30 steps at (-0.350, 0.085), f = 0.0133\n"
    assert result["final"] == pytest.approx((-0.3503, 0.0848), abs=1e-4)
    assert ax.get_title() == "sgd, learning rate 0.95"
    path_experiment("rmsprop", steps=30)
    assert "-0.000" not in capsys.readouterr().out


def test_plot_paths_draws_contours_and_one_line_per_path():
    ax = new_ax()
    paths = {"sgd": optimizer_path("sgd"), "adam": optimizer_path("adam")}
    assert plot_paths(paths, ax=ax, title="two") is ax
    labels = [line.get_label() for line in ax.get_lines()]
    assert "sgd" in labels and "adam" in labels
    np.testing.assert_array_equal(ax.get_lines()[labels.index("sgd")].get_xdata(), paths["sgd"][:, 0])
    assert len(ax.collections) >= 1  # the contour set
    assert ax.get_xlim() == (-10, 10) and ax.get_title() == "two"
    assert ax.get_legend() is not None


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
    with pytest.raises(ValueError, match="optimizer must be one of"):
        path_experiment("lbfgs")
    with pytest.raises(ValueError, match="n must be an integer >= 1"):
        random_starts(0)
