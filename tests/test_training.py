"""Tests for tinynet.training: minibatches, train() and its History.

The data is synthetic so these tests do not depend on tinynet.datasets: 8x8
grey images whose class (0-3) is the quadrant that is bright.
"""

import math

import numpy as np
import pytest

import tinynet
from tinynet import PARAM_NAMES, init_params, train, train_one_iter
from tinynet.training import History, minibatches


def make_quadrants(n, rng, noise=0.2):
    """Images of shape (n, 1, 8, 8); class k lights up quadrant k (row-major)."""
    t = rng.integers(0, 4, n)
    x = rng.normal(0, noise, (n, 1, 8, 8))
    for i, k in enumerate(t):
        r, c = divmod(int(k), 2)
        x[i, 0, 4 * r:4 * r + 4, 4 * c:4 * c + 4] += 1.0
    return x, t


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(2024)
    x_train, t_train = make_quadrants(50, rng)
    x_val, t_val = make_quadrants(30, rng)
    return x_train, t_train, x_val, t_val


@pytest.fixture(scope="module")
def params():
    return init_params((1, 8, 8), conv1_filters=4, conv2_filters=6, num_classes=4, rng=1)


def copy_params(params):
    return {k: v.copy() for k, v in params.items()}


# -- minibatches ---------------------------------------------------------------

def test_minibatches_cover_each_sample_once_with_partial_last_batch():
    rng = np.random.default_rng(0)
    batches = minibatches(10, 3, rng)
    assert [len(b) for b in batches] == [3, 3, 3, 1]
    np.testing.assert_array_equal(np.sort(np.concatenate(batches)), np.arange(10))
    assert [len(b) for b in minibatches(9, 3, rng)] == [3, 3, 3]
    assert [len(b) for b in minibatches(2, 5, rng)] == [2]


def test_minibatches_reshuffle_each_epoch_and_are_seeded():
    rng = np.random.default_rng(1)
    first = np.concatenate(minibatches(20, 4, rng))
    second = np.concatenate(minibatches(20, 4, rng))
    assert not np.array_equal(first, second)
    np.testing.assert_array_equal(np.sort(second), np.arange(20))
    again = np.random.default_rng(1)
    np.testing.assert_array_equal(np.concatenate(minibatches(20, 4, again)), first)
    np.testing.assert_array_equal(np.concatenate(minibatches(20, 4, again)), second)


# -- reproducibility and learning -------------------------------------------

HISTORY_LISTS = ("iteration_loss", "epoch", "train_loss", "penalty", "train_accuracy",
                 "val_loss", "val_accuracy")


def run(params, data, **kwargs):
    x_train, t_train, x_val, t_val = data
    options = dict(epochs=3, batch_size=16, learning_rate=0.1, seed=0)
    options.update(kwargs)
    return train(params, x_train, t_train, x_val, t_val, **options)


def test_same_seed_gives_identical_results(params, data):
    net_a, hist_a = run(params, data, seed=7, weight_decay=0.01)
    net_b, hist_b = run(params, data, seed=7, weight_decay=0.01)
    for name in HISTORY_LISTS:
        assert np.array_equal(getattr(hist_a, name), getattr(hist_b, name)), name
    for name in PARAM_NAMES:
        assert np.array_equal(net_a.params[name], net_b.params[name]), name
    # a Generator works too, and an int seed means default_rng(seed)
    net_g, hist_g = run(params, data, seed=np.random.default_rng(7), weight_decay=0.01)
    assert np.array_equal(hist_g.iteration_loss, hist_a.iteration_loss)


def test_different_seed_gives_different_results(params, data):
    net_a, hist_a = run(params, data, seed=1)
    net_b, hist_b = run(params, data, seed=2)
    assert hist_a.train_loss[0] == hist_b.train_loss[0]  # same start
    assert not np.array_equal(hist_a.iteration_loss, hist_b.iteration_loss)
    assert not np.array_equal(net_a.params["W_fc"], net_b.params["W_fc"])


def test_training_learns_the_easy_task(params, data):
    x_train, t_train, x_val, t_val = data
    net, history = run(params, data, epochs=6, batch_size=10, learning_rate=0.1)
    assert not history.diverged
    assert history.train_loss[-1] < 0.3 * history.train_loss[0]
    assert history.train_accuracy[-1] >= 0.95
    assert history.val_accuracy[-1] >= 0.9
    assert net.accuracy(x_val, t_val) == history.val_accuracy[-1]
    first, last = np.mean(history.iteration_loss[:5]), np.mean(history.iteration_loss[-5:])
    assert last < 0.5 * first


def test_one_hot_labels_train_identically(params, data):
    x_train, t_train, x_val, t_val = data
    _, hist_index = run(params, data, seed=3)
    _, hist_hot = run(params, (x_train, np.eye(4)[t_train], x_val, np.eye(4)[t_val]), seed=3)
    for name in HISTORY_LISTS:
        assert np.array_equal(getattr(hist_index, name), getattr(hist_hot, name)), name


# -- History -------------------------------------------------------------------

@pytest.mark.parametrize("N, batch_size, epochs", [(50, 16, 3), (50, 50, 2), (10, 3, 2), (7, 1, 1)])
def test_history_lengths(params, data, N, batch_size, epochs):
    x_train, t_train, x_val, t_val = data
    _, history = train(params, x_train[:N], t_train[:N], epochs=epochs,
                       batch_size=batch_size, learning_rate=0.05)
    assert isinstance(history, History)
    assert history.epoch == list(range(epochs + 1))
    assert history.iterations_per_epoch == math.ceil(N / batch_size)
    assert len(history.iteration_loss) == epochs * math.ceil(N / batch_size)
    for name in ("train_loss", "penalty", "train_accuracy"):
        assert len(getattr(history, name)) == epochs + 1, name
    assert history.val_loss == [] and history.val_accuracy == []
    assert not history.has_validation
    assert not history.diverged and history.message == ""


def test_history_with_validation(params, data):
    x_train, t_train, x_val, t_val = data
    net0 = tinynet.TinyNet(**copy_params(params))
    net, history = run(params, data, epochs=2)
    assert history.has_validation
    assert len(history.val_loss) == len(history.val_accuracy) == 3
    # epoch 0 is before training
    loss0, acc0 = net0.evaluate(x_val, t_val)
    assert history.val_loss[0] == pytest.approx(loss0, rel=1e-12)
    assert history.val_accuracy[0] == acc0
    assert history.val_loss[-1] == pytest.approx(net.evaluate(x_val, t_val)[0], rel=1e-12)
    assert "val accuracy" in history.summary()


def test_penalty_zero_without_weight_decay(params, data):
    _, history = run(params, data, weight_decay=0.0)
    assert history.penalty == [0.0] * 4


@pytest.mark.parametrize("decay_biases", [True, False])
def test_penalty_and_train_loss_with_weight_decay(params, data, decay_biases):
    x_train, t_train, _, _ = data
    weight_decay = 0.02
    net, history = run(params, data, weight_decay=weight_decay, decay_biases=decay_biases)
    final = net.params
    expected = 0.5 * weight_decay * sum(
        np.sum(final[name] ** 2) for name in PARAM_NAMES
        if decay_biases or not name.startswith("b_")
    )
    assert history.penalty[-1] == pytest.approx(expected, rel=1e-12)
    initial = 0.5 * weight_decay * sum(
        np.sum(params[name] ** 2) for name in PARAM_NAMES
        if decay_biases or not name.startswith("b_")
    )
    assert history.penalty[0] == pytest.approx(initial, rel=1e-12)
    # train_loss is the data loss only: the mean cross-entropy, no penalty
    _, data_loss = net.forward(x_train, t_train)
    assert history.train_loss[-1] == pytest.approx(data_loss, rel=1e-12)
    assert history.penalty[-1] > 1e-3  # so leaving it out is visible


def test_train_does_not_modify_its_arguments(params, data):
    x_train, t_train, x_val, t_val = data
    given = copy_params(params)
    ids = {name: id(p) for name, p in given.items()}
    snapshot = copy_params(given)
    x_copy, t_copy, xv_copy, tv_copy = (a.copy() for a in data)
    net, _ = train(given, x_train, t_train, x_val, t_val, epochs=2, batch_size=8,
                   learning_rate=0.1, weight_decay=0.01)
    assert {name: id(p) for name, p in given.items()} == ids
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(given[name], snapshot[name], err_msg=name)
        assert not np.shares_memory(net.params[name], given[name]), name
        assert not np.array_equal(net.params[name], given[name]), f"{name} was not trained"
    for a, b in zip((x_train, t_train, x_val, t_val), (x_copy, t_copy, xv_copy, tv_copy),
                    strict=True):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("weight_decay", [0.0, 0.05])
def test_full_batch_epoch_equals_train_one_iter(params, data, weight_decay):
    """The loop uses the exercise's update: one epoch, one batch = one step."""
    x_train, t_train, _, _ = data
    N, seed, learning_rate = len(x_train), 11, 0.3
    net, history = train(params, x_train, t_train, epochs=1, batch_size=N,
                         learning_rate=learning_rate, weight_decay=weight_decay, seed=seed)
    (order,) = minibatches(N, N, np.random.default_rng(seed))
    expected = train_one_iter(*(params[name] for name in PARAM_NAMES), x_train[order],
                              t_train[order], learning_rate, weight_decay)
    for name, e in zip(PARAM_NAMES, expected, strict=True):
        np.testing.assert_allclose(net.params[name], e, rtol=1e-12, atol=1e-14, err_msg=name)
    _, loss_before = tinynet.TinyNet(**params).forward(x_train[order], t_train[order])
    assert history.iteration_loss == [pytest.approx(loss_before, rel=1e-12)]


# -- divergence guard ---------------------------------------------------------

@pytest.mark.parametrize("learning_rate", [1e2, 1e4, 1e8])
def test_divergence_stops_early_with_a_warning(params, data, learning_rate):
    epochs = 5
    with pytest.warns(RuntimeWarning, match="learning rate"):
        net, history = run(params, data, epochs=epochs, learning_rate=learning_rate)
    assert history.diverged
    assert "learning rate" in history.message
    assert "smaller" in history.message
    assert f"{learning_rate / 10:g}" in history.message
    assert len(history.epoch) < epochs + 1
    assert len(history.iteration_loss) < epochs * history.iterations_per_epoch
    assert "stopped" in history.summary()
    assert isinstance(net, tinynet.TinyNet)


def test_divergence_with_float32_overflow(params, data):
    x_train, t_train, _, _ = data
    p32 = {k: v.astype(np.float32) for k, v in params.items()}
    with pytest.warns(RuntimeWarning, match="learning rate"):
        _, history = train(p32, x_train.astype(np.float32), t_train, epochs=3,
                           batch_size=16, learning_rate=1e20)
    assert history.diverged


# -- progress bar and callback ---------------------------------------------

def test_progress_bar_writes_to_stderr(params, data, capsys):
    run(params, data, epochs=1, progress=True)
    captured = capsys.readouterr()
    assert "training" in captured.err
    assert captured.out == ""


def test_no_progress_prints_nothing(params, data, capfd):
    run(params, data, epochs=2, progress=False)
    captured = capfd.readouterr()
    assert captured.out == "" and captured.err == ""


def test_callback_called_once_per_epoch(params, data):
    calls = []

    def callback(history):
        calls.append((history, len(history.epoch), len(history.iteration_loss)))

    _, history = run(params, data, epochs=3, callback=callback)
    assert len(calls) == 3
    assert all(h is history for h, _, _ in calls)
    assert [n for _, n, _ in calls] == [2, 3, 4]
    assert [n for _, _, n in calls] == [4, 8, 12]


# -- bad arguments -------------------------------------------------------------

@pytest.mark.parametrize(
    "kwargs, error, match",
    [
        (dict(epochs=0), ValueError, "epochs must be an integer >= 1; got 0"),
        (dict(epochs=1.5), TypeError, "epochs must be an integer"),
        (dict(batch_size=0), ValueError, "batch_size must be an integer >= 1; got 0"),
        (dict(learning_rate=-1), ValueError, "learning_rate must be >= 0"),
        (dict(weight_decay=-0.5), ValueError, "weight_decay must be >= 0"),
        (dict(seed="a"), TypeError, "seed must be an integer; got the string 'a'"),
        (dict(seed=-1), ValueError, "seed must be an integer >= 0"),
        (dict(callback=3), TypeError, "callback must be callable"),
    ],
)
def test_bad_arguments(params, data, kwargs, error, match):
    x_train, t_train, _, _ = data
    with pytest.raises(error, match=match):
        train(params, x_train, t_train, **kwargs)


def test_bad_params_and_data(params, data):
    x_train, t_train, x_val, t_val = data
    incomplete = {k: v for k, v in params.items() if k != "b_fc"}
    with pytest.raises(ValueError, match=r"params is missing \['b_fc'\].*init_params"):
        train(incomplete, x_train, t_train)
    with pytest.raises(ValueError, match="Pass both x_val and t_val, or neither"):
        train(params, x_train, t_train, x_val)
    with pytest.raises(ValueError, match="Pass both x_val and t_val, or neither"):
        train(params, x_train, t_train, t_val=t_val)
    with pytest.raises(ValueError, match=r"x_train must be a 4-D array \(N, C, H, W\)"):
        train(params, x_train[:, 0], t_train)
    with pytest.raises(ValueError, match="t_train must have one label per sample"):
        train(params, x_train, t_train[:-1])
    with pytest.raises(ValueError, match=r"t_train must hold class indices in \[0, 3\]"):
        train(params, x_train, t_train + 4)


# -- issue 10: arguments checked before any output; the right culprit ---------

@pytest.mark.parametrize("kwargs, error, match", [
    (dict(eval_batch_size=0), ValueError, r"eval_batch_size must be an integer >= 1; got 0"),
    (dict(eval_batch_size=2.5), TypeError, r"eval_batch_size must be an integer"),
    (dict(decay_biases="yes"), TypeError, r"decay_biases must be True or False"),
])
def test_bad_arguments_fail_before_the_progress_bar(params, data, kwargs, error, match, capfd):
    x_train, t_train, _, _ = data
    with pytest.raises(error, match=match):
        train(params, x_train, t_train, progress=True, **kwargs)
    assert capfd.readouterr().err == ""  # the bar never opened


def test_data_that_do_not_fit_the_parameters_fail_before_the_progress_bar(params, data, capfd):
    x_train, t_train, _, _ = data
    with pytest.raises(ValueError):
        train(params, np.repeat(x_train, 2, axis=1), t_train, progress=True)
    assert capfd.readouterr().err == ""


def test_params_must_be_a_dict(params, data):
    x_train, t_train, _, _ = data
    with pytest.raises(TypeError,
                       match=r"params must be a dict of the six TinyNet arrays; got list"):
        train(list(params.values()), x_train, t_train)


@pytest.mark.parametrize("learning_rate, weight_decay", [(0.1, 1e6), (1.0, 10.0)])
def test_divergence_from_weight_decay_blames_weight_decay(params, data, learning_rate,
                                                          weight_decay):
    with pytest.warns(RuntimeWarning, match="weight decay"):
        _, history = run(params, data, learning_rate=learning_rate, weight_decay=weight_decay)
    assert history.diverged
    assert (f"The weight decay {weight_decay:g} is too large for the learning rate "
            f"{learning_rate:g}") in history.message
    assert "1 - learning_rate * weight_decay" in history.message
    assert "try a smaller one" not in history.message  # the learning rate is not blamed


@pytest.mark.parametrize("learning_rate", [1e4, 1e8])
def test_divergence_from_the_learning_rate_with_weight_decay_blames_the_learning_rate(
        params, data, learning_rate):
    # lr * wd >= 2 here too, but the gradient term dominates the first steps.
    with pytest.warns(RuntimeWarning, match="learning rate"):
        _, history = run(params, data, learning_rate=learning_rate, weight_decay=1e-3)
    assert history.diverged
    assert f"The learning rate {learning_rate:g} is probably too large" in history.message


# -- the optimizer argument -----------------------------------------------------

from tinynet import fast  # noqa: E402
from tinynet.optim import SGD, Adam, Momentum, make_optimizer  # noqa: E402


def hand_loop(params, data, step, epochs=2, batch_size=16, seed=3):
    """The training loop written out: engine gradients, ``step(params, grads)`` per batch."""
    x_train, t_train, _, _ = data
    net = tinynet.TinyNet(**copy_params(params))
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        for batch in minibatches(len(x_train), batch_size, rng):
            loss, grads = fast.loss_and_gradients(net, x_train[batch], t_train[batch])
            losses.append(loss)
            step(net.params, grads)
    return net, losses


def plain_sgd_step(learning_rate, weight_decay):
    """The course's update, written without tinynet.optim."""
    def step(params, grads):
        for name, p in params.items():
            g = grads[name]
            if weight_decay > 0:
                g = g + weight_decay * p
            p -= learning_rate * g
    return step


def assert_same_run(a, b):
    (net_a, hist_a), (net_b, hist_b) = a, b
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(net_a.params[name], net_b.params[name], err_msg=name)
    for field_name in HISTORY_LISTS:
        assert getattr(hist_a, field_name) == getattr(hist_b, field_name), field_name


@pytest.mark.parametrize("weight_decay", [0.0, 0.02])
def test_default_optimizer_is_plain_sgd_bit_for_bit(params, data, weight_decay):
    """Without ``optimizer`` the loop does exactly p -= lr * (g + lambda p), as before."""
    kwargs = dict(epochs=2, batch_size=16, learning_rate=0.2, weight_decay=weight_decay, seed=3)
    net, history = run(params, data, **kwargs)
    expected_net, expected_losses = hand_loop(params, data, plain_sgd_step(0.2, weight_decay))
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(net.params[name], expected_net.params[name], err_msg=name)
    assert history.iteration_loss == expected_losses
    # the same run through a name and through an SGD object
    assert_same_run((net, history), run(params, data, **kwargs, optimizer="sgd"))
    object_kwargs = dict(kwargs, learning_rate=0.1, weight_decay=0.0)
    assert_same_run((net, history),
                    run(params, data, **object_kwargs, optimizer=SGD(0.2, weight_decay)))


def test_an_optimizer_object_is_used_and_reset(params, data):
    adam = Adam(learning_rate=0.01, beta2=0.99, weight_decay=0.01)
    first = run(params, data, epochs=2, batch_size=16, seed=3, optimizer=adam)
    assert adam.state  # it was stepped
    reference = Adam(learning_rate=0.01, beta2=0.99, weight_decay=0.01)
    expected_net, expected_losses = hand_loop(params, data, reference.step)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(first[0].params[name], expected_net.params[name],
                                      err_msg=name)
    assert first[1].iteration_loss == expected_losses
    assert first[1].penalty[-1] == adam.penalty(first[0].params)
    # a second run with the same object starts from a fresh state
    assert_same_run(first, run(params, data, epochs=2, batch_size=16, seed=3, optimizer=adam))
    # and it is not SGD
    sgd_net, _ = run(params, data, epochs=2, batch_size=16, seed=3, learning_rate=0.01,
                     weight_decay=0.01)
    assert not np.allclose(sgd_net.params["W_fc"], first[0].params["W_fc"])


def test_an_optimizer_name_uses_learning_rate_and_weight_decay(params, data):
    kwargs = dict(epochs=1, batch_size=16, seed=2)
    by_name = run(params, data, **kwargs, optimizer="momentum", learning_rate=0.05,
                  weight_decay=0.01, decay_biases=False)
    by_object = run(params, data, **kwargs,
                    optimizer=Momentum(0.05, weight_decay=0.01, decay_biases=False))
    assert_same_run(by_name, by_object)
    assert_same_run(run(params, data, **kwargs, optimizer="Adam", learning_rate=0.003),
                    run(params, data, **kwargs, optimizer=make_optimizer("adam", 0.003)))


def test_divergence_with_an_optimizer_object(params, data):
    with pytest.warns(RuntimeWarning, match="The learning rate 1e\\+06 is probably too large"):
        _, history = run(params, data, epochs=3, optimizer=Adam(learning_rate=1e6))
    assert history.diverged and len(history.epoch) < 4


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(optimizer="adamw"), ValueError, r"optimizer must be one of \['adagrad', 'adam'"),
    (dict(optimizer=3), TypeError,
     "optimizer must be None, a name such as 'adam', or an optimizer object"),
    (dict(optimizer=Adam(), learning_rate=0.01), ValueError,
     "learning_rate, weight_decay and decay_biases belong to the optimizer object"),
    (dict(optimizer=Adam(), weight_decay=0.1), ValueError,
     r"set them there, e.g. Adam\(learning_rate=0.1, weight_decay=0.1\)"),
    (dict(optimizer="adam", learning_rate=-1), ValueError, "learning_rate must be >= 0"),
])
def test_bad_optimizer_arguments(params, data, kwargs, error, match):
    with pytest.raises(error, match=match):
        run(params, data, **kwargs)


# -- the one loop behind train and train_network ------------------------------

from tinynet.training import training_loop  # noqa: E402


def softmax_regression(D, K, rng):
    """A linear softmax classifier with hand-written loss and gradient (no tinynet layers)."""
    params = {"W": 0.1 * rng.standard_normal((D, K)), "b": np.zeros(K)}

    def loss_and_grads(x, t):
        scores = x @ params["W"] + params["b"]
        scores = scores - scores.max(axis=1, keepdims=True)
        p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
        N = len(x)
        loss = float(-np.mean(np.log(p[np.arange(N), t])))
        dscores = p.copy()
        dscores[np.arange(N), t] -= 1
        dscores /= N
        return loss, {"W": x.T @ dscores, "b": dscores.sum(axis=0)}

    def evaluate(x, t):
        loss, _ = loss_and_grads(x, t)
        scores = x @ params["W"] + params["b"]
        return loss, float(np.mean(scores.argmax(axis=1) == t))

    return params, loss_and_grads, evaluate


def test_training_loop_matches_a_loop_written_out():
    rng = np.random.default_rng(5)
    x, t = rng.standard_normal((23, 4)), rng.integers(0, 3, 23)
    params, loss_and_grads, evaluate = softmax_regression(4, 3, np.random.default_rng(1))
    start = {k: v.copy() for k, v in params.items()}
    history = training_loop(
        params, SGD(0.5), x, t,
        loss_and_gradients=lambda xb, tb: (lambda r: (r[0], lambda: r[1]))(loss_and_grads(xb, tb)),
        evaluate=evaluate, n_classes=3, epochs=3, batch_size=5,
        rng=np.random.default_rng(9))
    # the same training written out by hand, from the same start and shuffles
    params.update({k: v.copy() for k, v in start.items()})
    order_rng = np.random.default_rng(9)
    losses, epoch_losses = [], [evaluate(x, t)[0]]
    for _ in range(3):
        order = order_rng.permutation(23)
        for i in range(0, 23, 5):
            loss, grads = loss_and_grads(x[order[i:i + 5]], t[order[i:i + 5]])
            losses.append(loss)
            for name in params:
                params[name] -= 0.5 * grads[name]
        epoch_losses.append(evaluate(x, t)[0])
    assert history.iterations_per_epoch == 5
    assert history.iteration_loss == losses
    assert history.epoch == [0, 1, 2, 3]
    assert history.train_loss == epoch_losses
    assert history.penalty == [0, 0, 0, 0] and not history.has_validation


def test_training_loop_asks_for_gradients_only_after_the_guard_and_restores_the_mode():
    calls = []
    losses = iter([2.0, 2.1, float("inf")])

    def loss_and_gradients(x, t):
        calls.append("loss")
        return next(losses), lambda: calls.append("gradients") or {"w": np.zeros(1)}

    def n_classes():
        calls.append("classes")
        return 4

    with pytest.warns(RuntimeWarning, match="the loss became inf at epoch 1, iteration 3"):
        history = training_loop(
            {"w": np.zeros(1)}, SGD(0.1), np.zeros((10, 2)), np.zeros(10, dtype=int),
            loss_and_gradients=loss_and_gradients, evaluate=lambda x, t: (1.5, 0.25),
            n_classes=n_classes, epochs=2, batch_size=3, rng=np.random.default_rng(0),
            train_mode=lambda: calls.append("train mode"))
    assert calls == ["classes", "train mode", "loss", "gradients", "loss", "gradients", "loss",
                     "train mode"]
    assert history.diverged and history.iteration_loss == [2.0, 2.1]
    assert history.epoch == [0] and history.train_accuracy == [0.25]


def test_training_loop_blow_up_level_and_single_sample_batches():
    # 100 times the larger of the start (0.5) and chance, log 4 = 1.386: 138.6
    seen = []

    def loss_and_gradients(x, t):
        seen.append(len(x))
        return (138.0 if len(seen) < 3 else 139.0), lambda: {"w": np.zeros(1)}

    with pytest.warns(RuntimeWarning, match=r"became 139 at epoch 2, iteration 1"):
        history = training_loop(
            {"w": np.zeros(1)}, SGD(0.1), np.zeros((9, 2)), np.zeros(9, dtype=int),
            loss_and_gradients=loss_and_gradients, evaluate=lambda x, t: (0.5, 0.0),
            n_classes=4, epochs=3, batch_size=4, rng=np.random.default_rng(0),
            skip_single=True)
    assert history.iterations_per_epoch == 2  # 4 + 4; the ninth sample alone is skipped
    assert seen == [4, 4, 4]  # the batch of one never reached the model
    assert history.iteration_loss == [138.0, 138.0] and history.epoch == [0, 1]


def test_the_divergence_warning_points_at_the_callers_line(params, data):
    x_train, t_train, _, _ = data
    with pytest.warns(RuntimeWarning, match="training diverged") as caught:
        train(params, x_train, t_train, epochs=2, learning_rate=1e8)
    assert caught[0].filename == __file__
