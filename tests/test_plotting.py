"""Tests for tinynet.plotting: helpers draw on the Axes given, return them, leave rcParams alone."""

import matplotlib
import numpy as np
import pytest
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from tinynet import plotting
from tinynet.experiments import activation_study, bumpy, train_digits
from tinynet.initialization import activation_histograms
from tinynet.landscapes import optimizer_path
from tinynet.search import random_search
from tinynet.training import History

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def unchanged_rcparams():
    """Every test here also checks that no global Matplotlib setting changed."""
    before = dict(matplotlib.rcParams)
    yield
    after = dict(matplotlib.rcParams)
    changed = {k for k in before if before[k] != after.get(k)}
    assert not changed, f"plotting changed rcParams: {sorted(changed)}"


@pytest.fixture(scope="module")
def history():
    return train_digits(epochs=2, batch_size=128)[1]


def test_new_figure_is_not_registered_with_pyplot():
    import matplotlib.pyplot as plt

    before = plt.get_fignums()
    fig, axes = plotting.new_figure(ncols=3, nrows=2, width=2, height=1.5)
    assert isinstance(fig, Figure)
    assert axes.shape == (2, 3)
    assert tuple(fig.get_size_inches()) == (6, 3)
    assert plt.get_fignums() == before


def test_plot_history_lines_labels_and_given_axes(history):
    fig, axes = plotting.new_figure(ncols=2)
    returned = plotting.plot_history(history, axes, title="a run")
    assert list(returned) == list(axes)
    ax_loss, ax_acc = axes
    assert [line.get_label() for line in ax_loss.get_lines()] == [
        "minibatch loss", "train loss", "validation loss"]
    assert [line.get_label() for line in ax_acc.get_lines()] == ["train", "validation"]
    assert ax_loss.get_title() == "a run"
    assert ax_loss.get_xlabel() == "epoch" and ax_acc.get_ylabel() == "accuracy"
    np.testing.assert_array_equal(ax_loss.get_lines()[1].get_ydata(), history.train_loss)


def test_plot_history_shows_penalty_and_divergence():
    h = History(iterations_per_epoch=1, iteration_loss=[2.0], epoch=[0, 1],
                train_loss=[2.3, 1.0], penalty=[0.5, 0.4], train_accuracy=[0.1, 0.5])
    axes = plotting.new_figure(ncols=2)[1]
    plotting.plot_history(h, axes)
    assert "weight-decay penalty" in [line.get_label() for line in axes[0].get_lines()]

    h.diverged = True
    axes = plotting.new_figure(ncols=2)[1]
    plotting.plot_history(h, axes)
    assert any("learning rate too high?" in t.get_text() for t in axes[0].texts)


def test_plot_descent_path_on_given_ax():
    ax = Figure().subplots()
    path = np.array([2.0, 1.55, 1.44])
    assert plotting.plot_descent_path(bumpy, path, ax=ax, title="t") is ax
    labels = [line.get_label() for line in ax.get_lines()]
    assert "loss L(w)" in labels and "start" in labels
    assert ax.get_title() == "t"


def test_plot_polynomial_fit_and_error_versus_degree():
    ax = Figure().subplots()
    x = np.linspace(-1, 1, 5)
    returned = plotting.plot_polynomial_fit(x, x ** 2, np.array([0.0, 0.0, 1.0]),
                                            true_curve=lambda v: v ** 2, ax=ax, title="fit")
    assert returned is ax
    assert [line.get_label() for line in ax.get_lines()] == [
        "true curve", "fit", "training points"]

    ax = Figure().subplots()
    returned = plotting.plot_error_versus_degree([0, 1, 2], [0.3, 0.1, 0.01], [0.4, 0.2, 0.02],
                                                 ax=ax)
    assert returned is ax
    assert [line.get_label() for line in ax.get_lines()] == ["training error", "test error"]
    assert ax.get_yscale() == "log"


def test_plot_filters_feature_maps_images_use_given_axes():
    axes = Figure().subplots(1, 4)
    W = np.arange(3 * 1 * 3 * 3, dtype=float).reshape(3, 1, 3, 3) - 13
    returned = plotting.plot_filters(W, axes=axes)
    assert list(returned) == list(axes)
    assert [len(ax.images) for ax in axes] == [1, 1, 1, 0]

    axes = Figure().subplots(1, 2)
    plotting.plot_feature_maps(np.ones((2, 4, 4)), axes=axes)
    assert [ax.get_title() for ax in axes] == ["channel 0", "channel 1"]

    axes = Figure().subplots(1, 2)
    plotting.plot_images(np.zeros((2, 1, 8, 8)), labels=[3, 4], predictions=[3, 5], axes=axes)
    assert [ax.get_title() for ax in axes] == ["3 -> 3", "4 -> 5"]


def test_plot_message_replaces_the_plot():
    ax = Figure().subplots()
    text = "Training diverged:\n" + "a very long explanation " * 5
    assert plotting.plot_message(text, ax=ax, title="run", width=30) is ax
    assert not ax.axison
    (drawn,) = ax.texts
    lines = drawn.get_text().splitlines()
    assert lines[0] == "Training diverged:"
    assert max(len(line) for line in lines) <= 30
    assert ax.get_title() == "run"


def test_helpers_without_ax_use_a_new_pyplot_figure():
    import matplotlib.pyplot as plt

    ax = plotting.plot_message("hello")
    try:
        assert isinstance(ax, Axes)
        assert ax.figure.number in plt.get_fignums()
    finally:
        plt.close(ax.figure)


def test_plot_seed_band_mean_where_every_seed_runs_band_where_any_does():
    curves = np.array([[0.1, 0.5, 0.95, 0.97], [0.1, 0.92, 0.93, 0.99], [0.1, 0.2, np.nan, np.nan]])
    ax = Figure().subplots()
    assert plotting.plot_seed_band(np.arange(4), curves, ax=ax, label="x") is ax
    line = ax.get_lines()[0]
    np.testing.assert_allclose(line.get_ydata()[:2], [0.1, (0.5 + 0.92 + 0.2) / 3])
    assert np.isnan(line.get_ydata()[2])  # a seed has stopped: no mean
    (band,) = ax.collections
    top = band.get_paths()[0].vertices[:, 1]
    assert top.max() == pytest.approx(0.99) and top.min() == pytest.approx(0.1)


def test_plot_activation_histograms_draws_on_the_given_axes():
    fig = Figure()
    axes = fig.subplots(1, 5)
    a = activation_histograms("sigmoid", 0.01, n_samples=100)
    returned = plotting.plot_activation_histograms(a, axes=axes, activation="sigmoid", bins=20,
                                          label="std 0.01")
    assert list(returned) == list(axes)
    for k, ax in enumerate(axes):
        assert len(ax.patches) == 20
        assert ax.get_title() == f"layer {k + 1}"
        assert ax.get_xlim() == (0.0, 1.0)
        heights = np.array([p.get_height() for p in ax.patches])
        assert heights.sum() == pytest.approx(1.0)  # fractions of all values
    assert axes[0].get_ylabel() == "std 0.01"
    assert "sd 0.0" in axes[1].texts[0].get_text()


def test_relu_histograms_leave_out_the_zeros_and_count_values_beyond_the_range():
    fig = Figure()
    axes = fig.subplots(1, 5)
    a = activation_histograms("relu", 1.0, n_samples=50)
    plotting.plot_activation_histograms(a, axes=axes, activation="relu")
    heights = np.array([p.get_height() for p in axes[4].patches])
    zeros = np.mean(a[4] == 0)
    assert heights.sum() == pytest.approx(1 - zeros)
    assert heights[-1] == pytest.approx(np.mean(a[4] > 4.0))  # clipped into the last bin
    assert f"zeros {zeros:.0%}" in axes[4].texts[0].get_text()
    assert "outside" in axes[4].texts[0].get_text()


def test_plot_argument_errors():
    axes = Figure().subplots(1, 3)
    a = activation_histograms("tanh", "he", n_samples=10)
    with pytest.raises(ValueError, match="one Axes per layer: expected 5, got 3"):
        plotting.plot_activation_histograms(a, axes=axes)
    with pytest.raises(ValueError, match="low < high"):
        plotting.plot_activation_histograms(a[:3], axes=axes, value_range=(1, 0))
    with pytest.raises(ValueError, match="layer axis first"):
        plotting.plot_activation_histograms(np.ones(5), axes=axes)


def test_plot_layer_spread():
    study = activation_study(activations=("relu",), weight_stds=(0.01, "he"), seeds=[0, 1],
                             n_layers=3, width=20, n_samples=30)
    ax = Figure().subplots()
    assert plotting.plot_layer_spread(study, "relu", ax=ax) is ax
    assert [line.get_label() for line in ax.get_lines()] == ["std 0.01", "He"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), study["std"][0, 1].mean(axis=0))
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="'tanh' is not in the study"):
        plotting.plot_layer_spread(study, "tanh", ax=ax)


def test_plot_init_training():
    # a study as experiments.init_training_study returns it: 2 scales, 2 seeds, epochs 0-3
    loss = np.array([[[2.3, 2.3, 2.3, 2.3], [2.3, 2.3, 2.29, 2.3]],
                     [[2.3, 1.5, 0.9, 0.6], [2.3, 1.4, 1.0, 0.5]]])
    study = {"weight_stds": [0.01, "he"], "seeds": [0, 1], "activation": "relu",
             "epoch": np.arange(4), "train_loss": loss}
    ax = Figure().subplots()
    assert plotting.plot_init_training(study, ax=ax) is ax
    assert [line.get_label() for line in ax.get_lines()] == ["std 0.01", "He"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), [2.3, 1.45, 0.95, 0.55])
    assert ax.get_title() == "relu, 2 seeds (mean, min-max band)"
    with pytest.raises(ValueError, match="quantity must be one of"):
        plotting.plot_init_training(study, ax=ax, quantity="loss")


def test_plot_search_draws_on_log_axes():
    def peaked(learning_rate, weight_decay):  # a fake score, best at 0.1 and 1e-4
        if learning_rate > 0.5:
            return float("nan")  # diverged
        return 1.0 - 0.1 * (np.log10(learning_rate) + 1) ** 2 \
            - 0.01 * (np.log10(weight_decay) + 4) ** 2

    ranges = {"learning_rate": (1e-3, 1.0), "weight_decay": (1e-6, 1e-1)}
    result = random_search(peaked, ranges, 20, seed=0)
    fig, ax = plotting.new_figure()
    out = plotting.plot_search(result, ax=ax, highlight=3, box=result.narrowed(3), title="round 1")
    assert out is ax and ax.get_xscale() == "log" and ax.get_yscale() == "log"
    dots = ax.collections[0]
    assert len(dots.get_offsets()) == 20 - result.n_failed
    labels = ax.get_legend_handles_labels()[1]
    assert f"diverged ({result.n_failed})" in labels and "best 3" in labels \
        and "next range" in labels
    assert ax.get_title() == "round 1" and ax.get_xlabel() == "learning rate"
    with pytest.raises(TypeError, match="result must be a SearchResult from random_search; got"):
        plotting.plot_search(result.settings, ax=ax)


def test_plot_seed_spread_shows_mean_and_std():
    values = np.array([1e-3, 1e-2, 1e-1])
    scores = np.array([[0.1, 0.3], [0.5, 0.7], [0.9, np.nan]])  # a diverged run is left out
    fig, ax = plotting.new_figure()
    assert plotting.plot_seed_spread(values, scores, ax=ax, title="slice") is ax
    line = ax.lines[0]
    np.testing.assert_allclose(line.get_ydata(), [0.2, 0.6, 0.9])
    assert ax.get_xscale() == "log" and ax.get_title() == "slice"
    assert ax.get_legend_handles_labels()[1] == ["mean ± std over 2 seeds"]
    with pytest.raises(ValueError, match=r"scores must have shape \(n_values, n_seeds\) = \(3"):
        plotting.plot_seed_spread(values, scores[:2], ax=ax)


def test_plot_paths_draws_contours_and_one_line_per_path():
    ax = Figure().subplots()
    paths = {"sgd": optimizer_path("sgd"), "adam": optimizer_path("adam")}
    assert plotting.plot_paths(paths, ax=ax, title="two") is ax
    labels = [line.get_label() for line in ax.get_lines()]
    assert "sgd" in labels and "adam" in labels
    sgd_line = ax.get_lines()[labels.index("sgd")]
    np.testing.assert_array_equal(sgd_line.get_xdata(), paths["sgd"][:, 0])
    assert len(ax.collections) >= 1  # the contour set
    assert ax.get_xlim() == (-10, 10) and ax.get_title() == "two"
    assert ax.get_legend() is not None


def test_plot_paired_seeds_draws_one_line_per_seed_and_the_mean():
    ax = Figure().subplots()
    values = [[0.8, 0.82, 0.81], [0.83, 0.84, 0.80]]
    assert plotting.plot_paired_seeds(["a", "b"], values, ax=ax, title="t") is ax
    assert len(ax.lines) >= 3
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a", "b"]
    means = [line for line in ax.lines if line.get_color() == "k"]
    np.testing.assert_allclose(means[0].get_ydata(), [0.81, 0.82333333])
    assert ax.get_title() == "t"


def test_plot_paired_differences_dots_per_seed_mean_and_interval():
    ax = Figure().subplots()
    first, second = [0.01, 0.03, -0.01, 0.02], [0.0, -0.02, 0.01]
    assert plotting.plot_paired_differences(["a - b", "c - b"], [first, second], ax=ax,
                                            title="t") is ax
    dots = [line for line in ax.lines if line.get_linestyle() == "None"
            and line.get_color() == "0.55"]
    assert [len(d.get_ydata()) for d in dots] == [4, 3]
    np.testing.assert_allclose(dots[0].get_ydata(), first)
    # the means, with a bar of 2 standard errors (ddof=1) either side, worked out by hand
    means = [line for line in ax.lines if line.get_color() == "k" and line.get_marker() == "s"]
    np.testing.assert_allclose([m.get_ydata()[0] for m in means], [0.0125, -0.0033333333])
    se = np.std(first, ddof=1) / 2.0  # sqrt(4) seeds
    bars = [c for c in ax.collections if len(c.get_segments()) == 1]
    low, high = bars[0].get_segments()[0][:, 1]
    assert (low, high) == pytest.approx((0.0125 - 2 * se, 0.0125 + 2 * se))
    assert [t.get_text() for t in ax.get_xticklabels()] == ["a - b", "c - b"]
    assert ax.get_title() == "t"
    with pytest.raises(ValueError, match="one entry per comparison; got 1 labels and 2 arrays"):
        plotting.plot_paired_differences(["a"], [first, second], ax=Figure().subplots())
    with pytest.raises(ValueError, match=r"differences\[1\] must hold at least 2 seeds; got 1"):
        plotting.plot_paired_differences(["a", "b"], [first, [0.1]], ax=Figure().subplots())


def test_plot_learning_rate_grid_mean_line_seed_dots_and_the_tuned_rate():
    ax = Figure().subplots()
    rates, scores = [0.01, 0.1, 1.0], [[0.5, 0.7], [0.9, 0.96], [0.1, 0.1]]
    assert plotting.plot_learning_rate_grid(rates, scores, ax=ax, tuned=0.1, title="sgd") is ax
    assert ax.get_xscale() == "log" and ax.get_title() == "sgd"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["0.01", "0.1", "1"]
    assert ax.get_ylabel() == "validation accuracy"
    inner = Figure().subplots()
    plotting.plot_learning_rate_grid(rates, scores, ax=inner, ylabel=None)
    assert inner.get_ylabel() == ""
    mean = ax.lines[0]
    np.testing.assert_allclose(mean.get_ydata(), [0.6, 0.93, 0.1])
    ring = [line for line in ax.lines if line.get_label() == "used: 0.1"]
    assert len(ring) == 1 and ring[0].get_ydata()[0] == pytest.approx(0.93)
    with pytest.raises(ValueError, match=r"one row per learning rate .* got 3 rates"):
        plotting.plot_learning_rate_grid(rates, scores[:2], ax=Figure().subplots())
    with pytest.raises(ValueError, match="rates must be > 0"):
        plotting.plot_learning_rate_grid([0.0, 0.1, 1.0], scores, ax=Figure().subplots())
