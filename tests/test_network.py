"""Tests for tinynet.network: Network, build_mlp and train_network."""

import numpy as np
import pytest

from tinynet import TinyNet, init_params, train
from tinynet.gradcheck import numerical_gradient, relative_error
from tinynet.layers import (
    BatchNormalization,
    Convolution,
    Dropout,
    FullyConnected,
    MaxPool,
    Relu,
    Sigmoid,
    Tanh,
)
from tinynet.network import Network, build_mlp, train_network
from tinynet.optim import SGD
from tinynet.training import History


def tinynet_layers(params):
    return [Convolution(params["W_conv1"], params["b_conv1"], pad=1), Relu(), MaxPool(2, 2, 2),
            Convolution(params["W_conv2"], params["b_conv2"], pad=1), Relu(), MaxPool(2, 2, 2),
            FullyConnected(params["W_fc"], params["b_fc"])]


@pytest.fixture
def digits_like(rng):
    x = rng.standard_normal((30, 1, 8, 8))
    t = rng.integers(0, 10, size=30)
    return x, t


# -- TinyNet as a Network --------------------------------------------------------

def test_network_of_tinynet_layers_equals_tinynet_exactly(rng, digits_like):
    params = init_params(rng=3)
    params["b_conv1"] = rng.standard_normal(8) * 0.1  # non-zero biases
    params["b_fc"] = rng.standard_normal(10) * 0.1
    x, t = digits_like
    tiny = TinyNet(**params)
    net = Network(tinynet_layers(params))
    scores_tiny, loss_tiny = tiny.forward(x, t)
    scores_net, loss_net = net.forward(x, t)
    np.testing.assert_array_equal(scores_net, scores_tiny)
    assert loss_net == loss_tiny
    grads_tiny = tiny.backward()
    grads_net = net.backward()
    assert list(grads_net) == ["W_1", "b_1", "W_2", "b_2", "W_3", "b_3"]
    for got, want in zip(grads_net.values(), grads_tiny, strict=True):
        np.testing.assert_array_equal(got, want)


def test_train_network_matches_tinynet_training(digits_like):
    x, t = digits_like
    params = init_params(rng=1)
    _, expected = train(params, x[:20], t[:20], x[20:], t[20:], epochs=3, batch_size=8,
                        learning_rate=0.1, weight_decay=0.01, seed=5)
    net = Network(tinynet_layers({k: v.copy() for k, v in params.items()}))
    got = train_network(net, x[:20], t[:20], x[20:], t[20:], epochs=3, batch_size=8,
                        optimizer=SGD(0.1, 0.01), seed=5)
    assert isinstance(got, History)
    assert got.epoch == expected.epoch == [0, 1, 2, 3]
    assert got.iterations_per_epoch == expected.iterations_per_epoch == 3
    for field in ("iteration_loss", "train_loss", "penalty", "train_accuracy", "val_loss",
                  "val_accuracy"):
        np.testing.assert_allclose(getattr(got, field), getattr(expected, field),
                                   rtol=1e-10, atol=1e-12, err_msg=field)


# -- parameters and modes ----------------------------------------------------------

def test_parameter_names_follow_positions():
    net = build_mlp(6, [5, 4], 3, batchnorm=True, dropout=0.5)
    kinds = [type(layer).__name__ for layer in net.layers]
    assert kinds == ["FullyConnected", "BatchNormalization", "Relu", "Dropout",
                     "FullyConnected", "BatchNormalization", "Relu", "Dropout",
                     "FullyConnected"]
    assert list(net.params) == ["W_1", "b_1", "gamma_1", "beta_1", "W_2", "b_2", "gamma_2",
                                "beta_2", "W_3", "b_3"]
    assert net.params["W_1"] is net.layers[0].W        # the arrays themselves
    assert net.params["gamma_2"] is net.layers[5].gamma
    assert net.params["W_3"].shape == (4, 3)


def test_a_leading_batch_norm_gets_its_own_number():
    net = Network([BatchNormalization(np.ones(4), np.zeros(4)),
                   FullyConnected(np.ones((4, 3)), np.zeros(3)),
                   BatchNormalization(np.ones(3), np.zeros(3)),
                   BatchNormalization(np.ones(3), np.zeros(3))])
    assert list(net.params) == ["gamma_1", "beta_1", "W_2", "b_2", "gamma_2", "beta_2",
                                "gamma_3", "beta_3"]


def test_train_and_eval_set_every_layer(rng):
    net = build_mlp(6, [5], 3, batchnorm=True, dropout=0.5)
    moded = [layer for layer in net.layers if hasattr(layer, "training")]
    assert len(moded) == 2 and all(layer.training for layer in moded)
    assert net.eval() is net and not any(layer.training for layer in moded)
    net.train()
    assert all(layer.training for layer in moded) and net.training


def test_predict_uses_evaluation_mode_and_restores_the_mode(rng):
    net = build_mlp(6, [8], 3, dropout=0.5, seed=2)
    x = rng.standard_normal((7, 6))
    scores = net.predict(x, batch_size=3)
    assert net.training and net.layers[2].training
    net.eval()
    np.testing.assert_allclose(scores, net.scores(x), rtol=1e-14)
    net.train()
    assert not np.allclose(net.scores(x), scores)  # dropout is on again
    loss, accuracy = net.evaluate(x, np.array([0, 1, 2, 0, 1, 2, 0]), batch_size=2)
    net.eval()
    _, expected_loss = net.forward(x, np.array([0, 1, 2, 0, 1, 2, 0]))
    assert loss == pytest.approx(expected_loss, rel=1e-12)
    assert accuracy == np.mean(scores.argmax(axis=1) == [0, 1, 2, 0, 1, 2, 0])
    assert net.accuracy(x, np.array([0, 1, 2, 0, 1, 2, 0])) == accuracy
    np.testing.assert_array_equal(net.classify(x), scores.argmax(axis=1))


# -- gradients of a whole network --------------------------------------------------

def network_gradient_errors(net, x, t, dropout_seeds=None):
    """Relative error of every parameter gradient against central differences."""
    def reseed():
        for layer, seed in (dropout_seeds or {}).items():
            layer.rng = np.random.default_rng(seed)

    def objective():
        reseed()
        return net.forward(x, t)[1]

    objective()
    analytic = {name: g.copy() for name, g in net.backward().items()}
    errors = {}
    for name, p in net.params.items():
        numeric = numerical_gradient(objective, p)
        if max(np.abs(analytic[name]).max(), np.abs(numeric).max()) < 1e-8:
            errors[name] = 0.0  # both zero up to rounding (a bias before batch norm)
        else:
            errors[name] = relative_error(analytic[name], numeric)
    return errors


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("batchnorm", [False, True])
def test_mlp_gradients(activation, batchnorm, rng):
    net = build_mlp(5, [6, 4], 3, activation=activation, batchnorm=batchnorm, seed=1)
    for layer in net.layers:  # non-trivial gamma, beta and biases
        for name in ("b", "gamma", "beta"):
            if hasattr(layer, name):
                getattr(layer, name)[...] = 1.0 * (name == "gamma") + 0.3 * rng.standard_normal(
                    getattr(layer, name).shape)
    x = rng.standard_normal((8, 5))
    t = rng.integers(0, 3, size=8)
    errors = network_gradient_errors(net, x, t)
    assert max(errors.values()) < 1e-6, errors
    if batchnorm:  # batch norm subtracts the mean: the bias before it has no effect
        np.testing.assert_allclose(net.grads["b_1"], 0, atol=1e-12)


def test_mlp_gradients_with_dropout(rng):
    net = build_mlp(5, [6, 4], 3, dropout=0.3, seed=2)
    seeds = {layer: i for i, layer in enumerate(net.layers) if isinstance(layer, Dropout)}
    x = rng.standard_normal((8, 5))
    t = rng.integers(0, 3, size=8)
    errors = network_gradient_errors(net, x, t, seeds)
    assert max(errors.values()) < 1e-6, errors


# -- build_mlp ---------------------------------------------------------------------

def test_build_mlp_weight_scales():
    for weight_std, expected in [("he", np.sqrt(2 / 400)), ("xavier", 1 / np.sqrt(400)),
                                 (0.01, 0.01)]:
        net = build_mlp(400, [300], 10, weight_std=weight_std, seed=0)
        assert net.params["W_1"].std() == pytest.approx(expected, rel=0.02), weight_std
        last = {"he": np.sqrt(2 / 300), "xavier": 1 / np.sqrt(300)}.get(weight_std, 0.01)
        assert net.params["W_2"].std() == pytest.approx(last, rel=0.05), weight_std
        assert np.all(net.params["b_1"] == 0)


def test_build_mlp_is_seeded_and_chooses_activations():
    a, b = build_mlp(4, [3], 2, seed=7), build_mlp(4, [3], 2, seed=7)
    c = build_mlp(4, [3], 2, seed=8)
    np.testing.assert_array_equal(a.params["W_1"], b.params["W_1"])
    assert not np.array_equal(a.params["W_1"], c.params["W_1"])
    assert isinstance(build_mlp(4, [3], 2, activation="sigmoid").layers[1], Sigmoid)
    assert isinstance(build_mlp(4, [3], 2, activation="tanh").layers[1], Tanh)
    assert [type(layer) for layer in build_mlp(4, [], 2).layers] == [FullyConnected]
    # the dropout layers draw different masks
    net = build_mlp(4, [50, 50], 2, dropout=0.5, seed=0)
    d1, d2 = [layer for layer in net.layers if isinstance(layer, Dropout)]
    x = np.ones((3, 50))
    assert not np.array_equal(d1.forward(x), d2.forward(x))


@pytest.mark.parametrize("kwargs, error, match", [
    ({"activation": "softplus"}, ValueError, "activation must be one of"),
    ({"weight_std": "lecun"}, ValueError, "weight_std must be a number, 'xavier'"),
    ({"weight_std": -1.0}, ValueError, "weight_std must be >= 0"),
    ({"dropout": 1.0}, ValueError, r"dropout must be in \[0, 1\)"),
    ({"batchnorm": "yes"}, TypeError, "batchnorm must be True or False"),
    ({"hidden_sizes": 100}, TypeError, "hidden_sizes must be a sequence"),
    ({"hidden_sizes": [100, 0]}, ValueError, r"hidden_sizes\[1\] must be an integer >= 1"),
    ({"input_size": 6.5}, TypeError, "input_size must be an integer"),
])
def test_build_mlp_rejects_bad_arguments(kwargs, error, match):
    arguments = {"input_size": 6, "hidden_sizes": [4], "output_size": 3, **kwargs}
    with pytest.raises(error, match=match):
        build_mlp(**arguments)


def test_network_rejects_non_layers():
    with pytest.raises(TypeError, match=r"layers\[1\] \(int\) is not a layer"):
        Network([Relu(), 3])
    with pytest.raises(ValueError, match="at least one layer"):
        Network([])
    with pytest.raises(TypeError, match="layers must be a list"):
        Network(Relu())


# -- train_network -----------------------------------------------------------------

def test_train_network_learns_and_records_epoch_zero(rng):
    x = rng.standard_normal((60, 6))
    t = (x[:, 0] > 0).astype(int)
    net = build_mlp(6, [10], 2, batchnorm=True, dropout=0.1, seed=0)
    seen = []
    history = train_network(net, x[:40], t[:40], x[40:], t[40:], optimizer=SGD(0.3),
                            epochs=15, batch_size=10, callback=lambda h: seen.append(h.epoch[-1]))
    assert history.epoch == list(range(16)) and seen == list(range(1, 16))
    assert len(history.iteration_loss) == 15 * 4 == 15 * history.iterations_per_epoch
    assert history.train_loss[-1] < 0.5 * history.train_loss[0]
    assert history.train_accuracy[-1] >= 0.9 and history.val_accuracy[-1] >= 0.7
    assert history.penalty == [0.0] * 16
    assert net.training and not history.diverged


def test_train_network_is_reproducible_and_reports_the_penalty(rng):
    x = rng.standard_normal((30, 4))
    t = rng.integers(0, 3, size=30)
    runs = []
    for _ in range(2):
        net = build_mlp(4, [5], 3, dropout=0.2, seed=1)
        optimizer = SGD(0.1, weight_decay=0.05)
        history = train_network(net, x, t, optimizer=optimizer, epochs=2, batch_size=7, seed=3)
        assert history.penalty[-1] == pytest.approx(optimizer.penalty(net.params), rel=1e-15)
        runs.append(history)
    assert runs[0].iteration_loss == runs[1].iteration_loss
    assert not runs[0].has_validation


def test_train_network_stops_a_diverging_run(rng):
    x = rng.standard_normal((40, 6)) * 3
    t = rng.integers(0, 3, size=40)
    net = build_mlp(6, [20, 20], 3, seed=0)
    with pytest.warns(RuntimeWarning, match="training diverged"):
        history = train_network(net, x, t, optimizer=SGD(learning_rate=1e4), epochs=5)
    assert history.diverged
    assert "learning rate 10000 is probably too large" in history.message
    assert "stopped" in history.summary()


def test_train_network_warns_at_the_callers_line(rng):
    x = rng.standard_normal((40, 6)) * 3
    t = rng.integers(0, 3, size=40)
    with pytest.warns(RuntimeWarning, match="training diverged") as caught:
        train_network(build_mlp(6, [20, 20], 3, seed=0), x, t, optimizer=SGD(1e4), epochs=5)
    assert caught[0].filename == __file__


def test_train_network_accepts_any_optimizer_object(rng):
    class HalfStep:
        learning_rate, weight_decay = 0.05, 0.0

        def step(self, params, grads):
            for name in params:
                params[name] -= self.learning_rate * grads[name]

        def penalty(self, params):
            return 0.0

    x = rng.standard_normal((20, 3))
    t = rng.integers(0, 2, size=20)
    history = train_network(build_mlp(3, [4], 2), x, t, optimizer=HalfStep(), epochs=2)
    assert len(history.epoch) == 3


@pytest.mark.parametrize("kwargs, error, match", [
    ({"optimizer": "sgd"}, TypeError, r"optimizer must be an object with step\(params, grads\)"),
    ({"network": "mlp"}, TypeError, "network must be a tinynet.network.Network"),
    ({"epochs": 0}, ValueError, "epochs must be an integer >= 1"),
    ({"t_train": np.zeros(3, dtype=int)}, ValueError, "t_train must have one label per sample"),
    ({"x_val": np.zeros((2, 4))}, ValueError, "Pass both x_val and t_val"),
    ({"callback": 3}, TypeError, "callback must be callable"),
])
def test_train_network_rejects_bad_arguments(kwargs, error, match, rng):
    arguments = {"network": build_mlp(4, [3], 2), "x_train": rng.standard_normal((6, 4)),
                 "t_train": np.array([0, 1, 0, 1, 0, 1]), "optimizer": SGD(0.1), **kwargs}
    with pytest.raises(error, match=match):
        train_network(**arguments)


# -- batch normalisation in networks ------------------------------------------------

def test_batch_norm_skips_a_last_batch_of_one_sample(rng):
    x = rng.standard_normal((21, 4))
    t = rng.integers(0, 2, size=21)
    history = train_network(build_mlp(4, [5], 2, batchnorm=True), x, t, optimizer=SGD(0.1),
                            epochs=2, batch_size=4)
    assert history.iterations_per_epoch == 5 and len(history.iteration_loss) == 10
    plain = train_network(build_mlp(4, [5], 2), x, t, optimizer=SGD(0.1), epochs=2, batch_size=4)
    assert plain.iterations_per_epoch == 6 and len(plain.iteration_loss) == 12
    with pytest.raises(ValueError, match="batch normalisation needs minibatches of at least 2"):
        train_network(build_mlp(4, [5], 2, batchnorm=True), x, t, optimizer=SGD(0.1),
                      batch_size=1)
    net = build_mlp(4, [5], 2, batchnorm=True)
    with pytest.raises(ValueError, match="Use batches of at least 2 samples"):
        net.forward(x[:1], t[:1])


def test_convolutional_network_with_batch_norm_per_channel_gradients(rng):
    net = Network([Convolution(0.5 * rng.standard_normal((3, 2, 3, 3)),
                               0.1 * rng.standard_normal(3), pad=1),
                   BatchNormalization(1 + 0.2 * rng.standard_normal(3),
                                      0.1 * rng.standard_normal(3)),
                   Relu(), MaxPool(2, 2, 2),
                   FullyConnected(0.3 * rng.standard_normal((12, 4)), np.zeros(4))])
    assert list(net.params) == ["W_1", "b_1", "gamma_1", "beta_1", "W_2", "b_2"]
    x = rng.standard_normal((3, 2, 4, 4))
    t = rng.integers(0, 4, size=3)
    errors = network_gradient_errors(net, x, t)
    assert max(errors.values()) < 1e-6, errors
