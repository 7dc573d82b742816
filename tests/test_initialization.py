"""Tests for tinynet.initialization: scales, the histogram experiment, studies and plots.

Expected values are computed here with plain numpy (a hand-written forward
pass, statistics of the raw arrays), not with the module's own helpers.
"""

import math

import matplotlib
import numpy as np
import pytest
from matplotlib.figure import Figure

from tinynet.datasets import load_digits_split
from tinynet.initialization import (activation_histograms, activation_study,
                                    describe_activation_study, describe_init_training,
                                    describe_weight_std, distinct_units, fan_in,
                                    init_training_study, init_std, init_weights,
                                    plot_activation_histograms, plot_init_training,
                                    plot_layer_spread, saturated_fraction)
from tinynet.network import build_mlp, train_network
from tinynet.optim import SGD

matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def unchanged_rcparams():
    """No test here may change a global Matplotlib setting."""
    before = dict(matplotlib.rcParams)
    yield
    after = dict(matplotlib.rcParams)
    assert not {k for k in before if before[k] != after.get(k)}


def plain_forward(activation, std_of_fan_in, n_layers=5, width=100, n_samples=1000, seed=0):
    """The book's experiment in plain numpy, drawing numbers as build_mlp and the module do."""
    weights_rng = np.random.default_rng(seed)
    x = np.random.default_rng([seed, 10]).standard_normal((n_samples, width))
    functions = {"sigmoid": lambda z: 1 / (1 + np.exp(-z)), "tanh": np.tanh,
                 "relu": lambda z: np.maximum(z, 0)}
    outputs = []
    for _ in range(n_layers):
        W = weights_rng.standard_normal((width, width)) * std_of_fan_in(width)
        x = functions[activation](x @ W)
        outputs.append(x)
    return np.stack(outputs)


# -- scales ------------------------------------------------------------------------

def test_fan_in_of_dense_and_convolution_weights():
    assert fan_in((64, 10)) == 64
    assert fan_in((8, 3, 5, 5)) == 3 * 5 * 5
    assert fan_in([7, 2]) == 7


@pytest.mark.parametrize("shape, weight_std, expected", [
    ((100, 50), "xavier", 0.1),
    ((50, 100), "he", 0.2),
    ((2, 1, 3, 3), "he", math.sqrt(2 / 9)),
    ((16, 4, 5, 5), "xavier", 0.1),
    ((30, 10), 0.01, 0.01),
    ((30, 10), 1, 1.0),
    ((30, 10), 0.0, 0.0),
])
def test_init_std(shape, weight_std, expected):
    assert init_std(shape, weight_std) == pytest.approx(expected, rel=1e-15)
    assert isinstance(init_std(shape, weight_std), float)


@pytest.mark.parametrize("weight_std", ["he", "xavier", 0.05])
def test_scales_agree_with_build_mlp_draw_for_draw(weight_std):
    """build_mlp(weight_std=...) draws W_k = init_weights from one generator, in layer order."""
    net = build_mlp(64, [100, 50], 10, weight_std=weight_std, seed=3)
    rng = np.random.default_rng(3)
    for name, shape in [("W_1", (64, 100)), ("W_2", (100, 50)), ("W_3", (50, 10))]:
        np.testing.assert_array_equal(net.params[name], init_weights(shape, weight_std, rng))


def test_init_weights_statistics_and_seeds():
    W = init_weights((400, 300), "he", np.random.default_rng(0))
    assert W.shape == (400, 300) and W.dtype == np.float64
    assert W.std() == pytest.approx(math.sqrt(2 / 400), rel=0.01)
    assert abs(W.mean()) < 0.01 * W.std()
    np.testing.assert_array_equal(init_weights((4, 3), "xavier", 5),
                                  init_weights((4, 3), "xavier", np.random.default_rng(5)))
    assert not np.array_equal(init_weights((4, 3), "xavier", 5), init_weights((4, 3), "xavier", 6))
    conv = init_weights((8, 3, 3, 3), "he", 0)
    assert conv.shape == (8, 3, 3, 3)


def test_describe_weight_std():
    assert [describe_weight_std(w) for w in (1.0, 0.01, "xavier", "he")] == [
        "std 1", "std 0.01", "Xavier", "He"]


@pytest.mark.parametrize("call, error, match", [
    (lambda: init_std((10, 5), "glorot"), ValueError, "weight_std must be a number, 'xavier'"),
    (lambda: init_std((10, 5), "He"), ValueError, "got 'He'"),
    (lambda: init_std((10, 5), -0.1), ValueError, "weight_std must be >= 0"),
    (lambda: init_std((10, 5), None), TypeError, "weight_std must be a real number"),
    (lambda: init_std(10, "he"), TypeError, "shape must be a tuple.*shape=\\(10, M\\)"),
    (lambda: init_std((10, 5, 3), "he"), ValueError, "shape must have 2 entries.*or 4"),
    (lambda: init_std((10, 0), "he"), ValueError, "shape\\[1\\] must be an integer >= 1"),
    (lambda: fan_in("ab"), TypeError, "shape\\[0\\] must be an integer"),
    (lambda: fan_in(None), TypeError, "shape must be a tuple"),
    (lambda: init_weights((3, 2), "he", -1), ValueError, "rng must be an integer >= 0"),
])
def test_scale_argument_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- the histogram experiment ---------------------------------------------------------

@pytest.mark.parametrize("activation", ["sigmoid", "tanh", "relu"])
@pytest.mark.parametrize("weight_std, std_of_fan_in", [
    (1.0, lambda n: 1.0),
    ("xavier", lambda n: 1 / math.sqrt(n)),
    ("he", lambda n: math.sqrt(2 / n)),
])
def test_activations_equal_a_plain_numpy_forward(activation, weight_std, std_of_fan_in):
    a = activation_histograms(activation, weight_std, n_samples=200, seed=4)
    assert a.shape == (5, 200, 100)
    expected = plain_forward(activation, std_of_fan_in, n_samples=200, seed=4)
    np.testing.assert_allclose(a, expected, rtol=1e-10, atol=1e-13)


def test_shapes_follow_the_arguments():
    a = activation_histograms("tanh", "xavier", n_layers=3, width=20, n_samples=7, seed=1)
    assert a.shape == (3, 7, 20)
    assert activation_histograms("relu", "he", n_layers=1, width=1, n_samples=1).shape == (1, 1, 1)


def test_seeds_reproduce_and_differ():
    a = activation_histograms("sigmoid", 1.0, n_samples=50, seed=7)
    np.testing.assert_array_equal(a, activation_histograms("sigmoid", 1.0, n_samples=50, seed=7))
    assert not np.allclose(a, activation_histograms("sigmoid", 1.0, n_samples=50, seed=8))


def test_std_1_with_sigmoid_saturates():
    """Most values sit near 0 or 1 in every layer (the book's figure 6-10)."""
    for seed in range(3):
        a = activation_histograms("sigmoid", 1.0, seed=seed)
        near_ends = np.mean((a < 0.1) | (a > 0.9), axis=(1, 2))
        assert np.all(near_ends > 0.6), near_ends
        assert np.all(a.reshape(5, -1).std(axis=1) > 0.4)


def test_std_0_01_collapses():
    """Sigmoid: all near 0.5 (the book's figure 6-11); tanh, ReLU: spread ~10x smaller a layer."""
    for seed in range(3):
        a = activation_histograms("sigmoid", 0.01, seed=seed)
        assert np.all(np.mean(np.abs(a - 0.5) < 0.05, axis=(1, 2)) > 0.95)
        assert np.all(a[1:].reshape(4, -1).std(axis=1) < 0.02)
        for activation in ("tanh", "relu"):
            spread = activation_histograms(activation, 0.01, seed=seed).reshape(5, -1).std(axis=1)
            ratios = spread[1:] / spread[:-1]
            assert np.all((ratios > 0.03) & (ratios < 0.2)), (activation, ratios)
            assert spread[-1] < 1e-4


def test_xavier_keeps_the_spread_of_sigmoid_and_tanh():
    for seed in range(3):
        sig = activation_histograms("sigmoid", "xavier", seed=seed).reshape(5, -1).std(axis=1)
        # from layer 2 on, the inputs are sigmoid outputs, and the spread stays put
        assert np.all(np.abs(sig[2:] / sig[1] - 1) < 0.25), sig
        assert sig[-1] > 0.1
        tanh = activation_histograms("tanh", "xavier", seed=seed).reshape(5, -1).std(axis=1)
        assert tanh[-1] > 0.25 and tanh[-1] / tanh[0] > 0.4, tanh
        a = activation_histograms("tanh", "xavier", seed=seed)
        assert np.mean(np.abs(a[-1]) > 0.95) < 0.01  # and does not saturate


def test_he_keeps_the_spread_of_relu_and_xavier_halves_its_second_moment():
    for seed in range(3):
        he = activation_histograms("relu", "he", seed=seed)
        spread = he.reshape(5, -1).std(axis=1)
        assert np.all(np.abs(spread / spread[0] - 1) < 0.35), spread
        xavier = activation_histograms("relu", "xavier", seed=seed)
        second_moment = np.mean(xavier ** 2, axis=(1, 2))
        ratios = second_moment[1:] / second_moment[:-1]
        assert np.all(np.abs(ratios - 0.5) < 0.15), ratios


def test_saturated_fraction_is_the_plain_definition():
    a = activation_histograms("sigmoid", 1.0, n_samples=100)
    slope = a * (1 - a)
    np.testing.assert_allclose(saturated_fraction(a, "sigmoid"),
                               np.mean(slope < 0.025, axis=(1, 2)))
    t = activation_histograms("tanh", 1.0, n_samples=100)
    np.testing.assert_allclose(saturated_fraction(t, "tanh"),
                               np.mean(1 - t ** 2 < 0.1, axis=(1, 2)))
    r = activation_histograms("relu", "he", n_samples=100)
    np.testing.assert_allclose(saturated_fraction(r, "relu"), np.mean(r == 0, axis=(1, 2)))
    assert saturated_fraction(np.array([[0.5, 0.99, 0.001, 0.3]]), "sigmoid")[0] == 0.5


def test_distinct_units():
    W = np.tile(np.array([[1.0], [2.0], [-3.0]]), (1, 6))
    assert distinct_units(W) == 1
    W[0, 4] += 1e-3
    assert distinct_units(W) == 2
    assert distinct_units(W + 1e-13) == 2  # within tolerance
    assert distinct_units(init_weights((5, 7), "he", 0)) == 7
    with pytest.raises(ValueError, match="W must be a 2-D array \\(D, M\\); got shape \\(3,\\)"):
        distinct_units(np.ones(3))


@pytest.mark.parametrize("call, error, match", [
    (lambda: activation_histograms("softmax", "he"), ValueError,
     "activation must be one of \\['relu', 'sigmoid', 'tanh'\\]; got 'softmax'"),
    (lambda: activation_histograms("relu", "glorot"), ValueError, "weight_std must be a number"),
    (lambda: activation_histograms("relu", -1.0), ValueError, "weight_std must be >= 0"),
    (lambda: activation_histograms("relu", "he", n_layers=0), ValueError,
     "n_layers must be an integer >= 1"),
    (lambda: activation_histograms("relu", "he", width=2.5), TypeError, "width must be an integer"),
    (lambda: activation_histograms("relu", "he", n_samples=0), ValueError, "n_samples must be"),
    (lambda: activation_histograms("relu", "he", seed=-1), ValueError,
     "seed must be an integer >= 0"),
    (lambda: saturated_fraction(np.ones(4), "relu"), ValueError, "layer axis first"),
    (lambda: saturated_fraction(np.ones((2, 4)), "gelu"), ValueError, "activation must be"),
    (lambda: activation_study(seeds=[]), ValueError, "seeds must hold at least one seed"),
    (lambda: activation_study(activations=["elu"]), ValueError, "activation must be"),
])
def test_experiment_argument_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


# -- the study over seeds -------------------------------------------------------------

def test_activation_study_collects_each_run():
    study = activation_study(activations=("tanh", "relu"), weight_stds=(0.01, "he"),
                             seeds=[0, 2], n_layers=3, width=30, n_samples=40)
    assert study["std"].shape == study["saturated"].shape == (2, 2, 2, 3)
    a = activation_histograms("relu", "he", n_layers=3, width=30, n_samples=40, seed=2)
    np.testing.assert_allclose(study["std"][1, 1, 1], a.reshape(3, -1).std(axis=1))
    np.testing.assert_allclose(study["saturated"][1, 1, 1], np.mean(a == 0, axis=(1, 2)))
    rows = describe_activation_study(study)
    assert [(r["activation"], r["label"]) for r in rows] == [
        ("tanh", "std 0.01"), ("tanh", "He"), ("relu", "std 0.01"), ("relu", "He")]
    last = study["std"][1, 1, :, -1]
    assert rows[3]["layer"] == 3
    assert rows[3]["std_mean"] == pytest.approx(last.mean())
    assert rows[3]["std_sd"] == pytest.approx(last.std())
    assert rows[3]["ratio_mean"] == pytest.approx(np.mean(last / study["std"][1, 1, :, 0]))
    assert describe_activation_study(study, layer=0)[0]["layer"] == 1
    with pytest.raises(ValueError, match="layer must be in \\[-3, 2\\]"):
        describe_activation_study(study, layer=3)


# -- plots --------------------------------------------------------------------------

def test_plot_activation_histograms_draws_on_the_given_axes():
    fig = Figure()
    axes = fig.subplots(1, 5)
    a = activation_histograms("sigmoid", 0.01, n_samples=100)
    returned = plot_activation_histograms(a, axes=axes, activation="sigmoid", bins=20,
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
    plot_activation_histograms(a, axes=axes, activation="relu")
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
        plot_activation_histograms(a, axes=axes)
    with pytest.raises(ValueError, match="low < high"):
        plot_activation_histograms(a[:3], axes=axes, value_range=(1, 0))
    with pytest.raises(ValueError, match="layer axis first"):
        plot_activation_histograms(np.ones(5), axes=axes)


def test_plot_layer_spread():
    study = activation_study(activations=("relu",), weight_stds=(0.01, "he"), seeds=[0, 1],
                             n_layers=3, width=20, n_samples=30)
    ax = Figure().subplots()
    assert plot_layer_spread(study, "relu", ax=ax) is ax
    assert [line.get_label() for line in ax.get_lines()] == ["std 0.01", "He"]
    np.testing.assert_allclose(ax.get_lines()[1].get_ydata(), study["std"][0, 1].mean(axis=0))
    assert ax.get_yscale() == "log"
    with pytest.raises(ValueError, match="'tanh' is not in the study"):
        plot_layer_spread(study, "tanh", ax=ax)


# -- training with each scale -----------------------------------------------------------

@pytest.fixture(scope="module")
def small_digits():
    split = load_digits_split()
    return type(split)(split.x_train[:200], split.t_train[:200], split.x_val[:100],
                       split.t_val[:100], split.x_test[:1], split.t_test[:1])


@pytest.fixture(scope="module")
def small_study(small_digits):
    return init_training_study(weight_stds=(0.01, "he"), seeds=[0, 1], hidden_sizes=(30, 30, 30),
                               learning_rate=0.1, epochs=4, batch_size=20, data=small_digits)


def test_init_training_study_equals_direct_runs(small_study, small_digits):
    assert small_study["train_loss"].shape == (2, 2, 5)
    assert small_study["val_accuracy"].shape == (2, 2, 5)
    np.testing.assert_array_equal(small_study["epoch"], np.arange(5))
    x = small_digits.x_train.reshape(200, -1)
    x_val = small_digits.x_val.reshape(100, -1)
    net = build_mlp(64, (30, 30, 30), 10, weight_std="he", seed=1)
    history = train_network(net, x, small_digits.t_train, x_val, small_digits.t_val,
                            optimizer=SGD(0.1), epochs=4, batch_size=20, seed=1)
    np.testing.assert_array_equal(small_study["train_loss"][1, 1], history.train_loss)
    np.testing.assert_array_equal(small_study["val_accuracy"][1, 1], history.val_accuracy)
    assert not small_study["diverged"].any()


def test_tiny_weights_do_not_learn_and_he_does(small_study):
    tiny, he = small_study["train_loss"]
    assert np.all(np.abs(tiny[:, -1] - math.log(10)) < 0.02)  # chance: the signal vanished
    assert np.all(he[:, -1] < 0.8 * math.log(10))
    rows = describe_init_training(small_study, epoch=4)
    assert [r["label"] for r in rows] == ["std 0.01", "He"]
    assert rows[1]["loss_mean"] == pytest.approx(he[:, 4].mean())
    assert rows[1]["loss_sd"] == pytest.approx(he[:, 4].std())
    assert rows[0]["val_max"] == pytest.approx(small_study["val_accuracy"][0, :, -1].max())
    with pytest.raises(ValueError, match="epoch must be at most 4"):
        describe_init_training(small_study, epoch=5)


def test_plot_init_training(small_study):
    ax = Figure().subplots()
    assert plot_init_training(small_study, ax=ax) is ax
    assert [line.get_label() for line in ax.get_lines()] == ["std 0.01", "He"]
    assert "2 seeds" in ax.get_title()
    with pytest.raises(ValueError, match="quantity must be one of"):
        plot_init_training(small_study, ax=ax, quantity="loss")


def test_init_training_argument_errors(small_digits):
    with pytest.raises(ValueError, match="weight_stds must hold at least one value"):
        init_training_study(weight_stds=(), data=small_digits)
    with pytest.raises(ValueError, match="weight_std must be a number"):
        init_training_study(weight_stds=("lecun",), data=small_digits)
    with pytest.raises(ValueError, match="activation must be one of"):
        init_training_study(activation="elu", data=small_digits)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        init_training_study(epochs=0, data=small_digits)
