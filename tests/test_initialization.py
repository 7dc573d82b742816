"""Tests for tinynet.initialization: scales and the histogram experiment.

Expected values are computed here with plain numpy (a hand-written forward
pass, statistics of the raw arrays), not with the module's own helpers.
"""

import math

import numpy as np
import pytest

from tinynet.initialization import (
    ACTIVATIONS,
    activation_histograms,
    describe_weight_std,
    distinct_units,
    fan_in,
    init_std,
    init_weights,
    saturated_fraction,
)
from tinynet.network import build_mlp


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
])
def test_experiment_argument_errors(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_activation_histograms_are_the_hidden_layers_of_build_mlp():
    """The same weights, layers and inputs as build_mlp's network for the same seed."""
    for activation in ACTIVATIONS:
        a = activation_histograms(activation, "xavier", n_layers=3, width=12, n_samples=9, seed=5)
        net = build_mlp(12, [12] * 3, 1, activation=activation, weight_std="xavier", seed=5)
        out = np.random.default_rng([5, 10]).standard_normal((9, 12))
        expected = []
        for layer in net.layers[:-1]:  # Affine, activation, three times; not the output layer
            out = layer.forward(out)
            if isinstance(layer, ACTIVATIONS[activation]):
                expected.append(out)
        np.testing.assert_array_equal(a, np.stack(expected))

