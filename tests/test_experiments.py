"""Tests for tinynet.experiments: the functions behind the sliders do what the notebooks claim."""

import math
import warnings

import numpy as np
import pytest
from matplotlib.figure import Figure

from tinynet import TinyNet, fast, init_params, train
from tinynet import experiments as E
from tinynet.datasets import load_digits_split
from tinynet.initialization import activation_histograms
from tinynet.landscapes import distance_to_minimum, optimizer_path, random_starts
from tinynet.network import build_mlp, train_network
from tinynet.optim import SGD, Adam, make_optimizer
from tinynet.search import random_search


def quiet(function, *args, **kwargs):
    """Call ``function`` with the divergence RuntimeWarning silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return function(*args, **kwargs)


def two_axes():
    return Figure().subplots(1, 2)


def figure_text(axes):
    """Every title of the axes and every text of their figure, joined."""
    figure = axes[0].figure
    parts = [a.get_title() for a in axes] + [t.get_text() for t in figure.texts]
    if figure._suptitle is not None:
        parts.append(figure._suptitle.get_text())
    return " ".join(parts)


# -- gradient descent on the bumpy function ---------------------------------

@pytest.mark.parametrize("learning_rate, verdict", [
    (0.001, "still moving"), (0.01, "still moving"), (0.1, "converged"),
    (0.3, "converged"), (0.6, "oscillating"), (1.0, "diverged"), (1.5, "diverged"),
])
def test_gradient_descent_verdicts(learning_rate, verdict):
    result = E.gradient_descent_experiment(learning_rate=learning_rate, start=2.0, steps=30)
    assert result["verdict"] == verdict


def test_gradient_descent_small_rate_leaves_loss_high_and_good_rate_finds_local_minimum():
    slow = E.gradient_descent_experiment(learning_rate=0.001)
    good = E.gradient_descent_experiment(learning_rate=0.1)
    assert slow["final_loss"] > good["final_loss"] + 0.5
    assert good["final_w"] == pytest.approx(1.267, abs=1e-3)
    assert E.bumpy_gradient(good["final_w"]) == pytest.approx(0, abs=1e-3)


def test_gradient_descent_diverged_reports_infinite_loss_and_stops_early():
    result = E.gradient_descent_experiment(learning_rate=1.0, steps=30)
    assert result["final_loss"] == float("inf")
    assert len(result["path"]) < 31


def test_gradient_descent_draws_on_ax():
    ax = Figure().subplots()
    E.gradient_descent_experiment(learning_rate=0.1, ax=ax)
    assert "converged" in ax.get_title()


# -- TinyNet on the digits ----------------------------------------------------

def test_digits_split_arrays_are_read_only_and_say_so():
    split = E.digits_split(0)
    x_first = split.x_train[0].copy()
    writes = [
        (lambda: split.x_train.__setitem__(0, 0.0), "assignment destination is read-only"),
        (lambda: split.x_train.__itruediv__(16), "output array is read-only"),
        (lambda: split.t_train.__setitem__(slice(None), 0), "assignment destination is read-only"),
        (lambda: np.random.default_rng(0).shuffle(split.x_val), "array is read-only"),
        (lambda: split.x_test[:5].fill(1.0), "assignment destination is read-only"),
    ]
    for write, message in writes:
        with pytest.raises(ValueError, match=message):
            write()
    with pytest.raises(ValueError, match="cannot set WRITEABLE flag to True"):
        split.x_train.flags.writeable = True
    # nothing reached the shared data; a copy is the student's own, writable
    again = E.digits_split(0)
    np.testing.assert_array_equal(again.x_train[0], x_first)
    copy = again.x_train.copy()
    copy[0] = 0.0
    assert again.x_train[0].any()


def test_digits_split_is_shared_but_each_caller_gets_its_own_views():
    first, second = E.digits_split(0), E.digits_split(seed=0)
    for a, b in zip(first, second, strict=True):
        assert a is not b and np.shares_memory(a, b)  # loaded once
        assert not a.flags.writeable
    first.x_train.shape = (len(first.x_train), 64)  # reshaping one's own view in place
    assert second.x_train.shape == (1079, 1, 8, 8)
    assert E.digits_split(0).x_train.shape == (1079, 1, 8, 8)
    # the numbers are those of load_digits_split(seed=0)
    fresh = load_digits_split(seed=0)
    for a, b in zip(E.digits_split(0), fresh, strict=True):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(E.digits_split(1).t_train, fresh.t_train)


def test_training_on_the_read_only_split_leaves_it_unchanged():
    split = E.digits_split(0)
    before = [a.copy() for a in split]
    quiet(E.training_experiment, epochs=1, train_size=64)
    quiet(E.network_experiment, epochs=1, train_size=64, batchnorm=True, dropout=0.2)
    E.digits_scorer(train_size=64, epochs=1)(0.1, 1e-4)
    for a, b in zip(split, before, strict=True):
        np.testing.assert_array_equal(a, b)

def test_training_experiment_good_rate_learns():
    summary = E.training_experiment(learning_rate=0.1, epochs=5)
    assert not summary["diverged"]
    assert summary["val_accuracy"] > 0.8
    assert summary["train_loss"] < 1.0


def test_training_experiment_tiny_rate_leaves_loss_high():
    summary = E.training_experiment(learning_rate=1e-3, epochs=3)
    assert not summary["diverged"]
    assert summary["train_loss"] > 2.0
    assert summary["val_accuracy"] < 0.5


def test_training_experiment_large_rate_kills_relus_at_chance_level():
    summary = E.training_experiment(learning_rate=3.0, epochs=3)
    assert not summary["diverged"]
    assert summary["val_accuracy"] == pytest.approx(0.1, abs=0.03)
    assert summary["train_loss"] == pytest.approx(np.log(10), abs=0.1)


def test_training_experiment_huge_rate_diverges_with_message():
    with pytest.warns(RuntimeWarning, match="diverged"):
        summary = E.training_experiment(learning_rate=50.0, epochs=3)
    assert summary["diverged"]
    assert "learning rate 50 is probably too large" in summary["message"]


def test_training_experiment_is_deterministic():
    first = E.training_experiment(learning_rate=0.1, weight_decay=1e-3, epochs=2, batch_size=64)
    second = E.training_experiment(learning_rate=0.1, weight_decay=1e-3, epochs=2, batch_size=64)
    assert first == second


def test_training_experiment_reports_the_gap_between_train_and_validation_accuracy():
    summary = E.training_experiment(epochs=2, train_size=50)
    assert summary["gap"] == pytest.approx(summary["train_accuracy"] - summary["val_accuracy"],
                                           abs=1e-3)
    axes = two_axes()
    E.training_experiment(epochs=1, train_size=50, axes=axes)
    assert axes[0].get_title() == "learning rate 0.1, weight decay 0, 50 images"


def test_training_experiment_weight_decay_reports_penalty():
    without = E.training_experiment(epochs=2, weight_decay=0.0)
    with_decay = E.training_experiment(epochs=2, weight_decay=0.01)
    assert without["penalty"] == 0
    assert with_decay["penalty"] > 0


def test_training_experiment_draws_curves_or_a_message():
    axes = two_axes()
    E.training_experiment(learning_rate=0.1, epochs=1, axes=axes)
    assert len(axes[0].get_lines()) >= 3  # minibatch, train and validation loss
    assert axes[0].get_title() == "learning rate 0.1, weight decay 0"

    axes = two_axes()
    quiet(E.training_experiment, learning_rate=50.0, epochs=1, axes=axes)
    assert axes[0].get_lines() == []
    texts = " ".join(t.get_text() for t in axes[0].texts)
    assert "learning rate too high?" in texts
    assert not axes[0].axison


def test_describe_training_numbers_and_messages():
    summary = {"diverged": False, "train_loss": 0.128, "train_accuracy": 0.961,
               "val_loss": 0.156, "val_accuracy": 0.953, "penalty": 0}
    text = E.describe_training(summary)
    assert "gap" not in text  # only when the summary has one
    assert "train      loss 0.128   accuracy 0.961" in text
    assert "validation loss 0.156   accuracy 0.953" in text
    assert "penalty" not in text and "chance" not in text

    text = E.describe_training({**summary, "penalty": 0.39, "gap": 0.1, "weight_norm": 12.345})
    assert "penalty (1/2) lambda sum w^2 = 0.3900" in text
    assert "gap (train - validation accuracy) 0.100" in text
    assert "sum of squared weights 12.35" in text

    assert "Near chance" in E.describe_training({**summary, "val_accuracy": 0.1})
    text = E.describe_training({"diverged": True, "message": "the loss became inf"})
    assert text.startswith("Diverged: learning rate too high?")
    assert "the loss became inf" in text


def test_overfitting_experiment_memorises_small_training_set():
    result = E.overfitting_experiment(weight_decay=0.0, train_size=100, epochs=60)
    assert result["train_accuracy"] == 1.0
    assert result["gap"] > 0.05
    assert result["gap"] == pytest.approx(result["train_accuracy"] - result["val_accuracy"],
                                          abs=1e-3)


def test_overfitting_experiment_weight_decay_shrinks_weights_and_narrows_gap():
    without = E.overfitting_experiment(weight_decay=0.0)
    with_decay = E.overfitting_experiment(weight_decay=0.03)
    assert with_decay["weight_norm"] < 0.5 * without["weight_norm"]
    assert with_decay["gap"] < without["gap"]
    assert with_decay["train_loss"] > without["train_loss"]


def test_overfitting_experiment_more_data_narrows_gap():
    small = E.overfitting_experiment(train_size=100, epochs=40)
    large = E.overfitting_experiment(train_size=400, epochs=40)
    assert large["gap"] < small["gap"]
    assert large["val_accuracy"] > small["val_accuracy"]


def test_overfitting_experiment_draws_and_is_deterministic():
    axes = two_axes()
    first = E.overfitting_experiment(weight_decay=0.01, epochs=5, axes=axes)
    assert "100 training images, weight decay 0.01" == axes[0].get_title()
    assert first == E.overfitting_experiment(weight_decay=0.01, epochs=5)


# -- polynomial fits ------------------------------------------------------------

def test_polynomial_degree_1_underfits_and_degree_2_fits_the_noise_level():
    line = E.polynomial_experiment(degree=1)
    parabola = E.polynomial_experiment(degree=2)
    assert line["train_mse"] > 5 * parabola["train_mse"]
    assert line["test_mse"] > 5 * parabola["test_mse"]
    assert parabola["test_mse"] == pytest.approx(0.01, rel=0.5)  # noise 0.1 -> variance 0.01


def test_polynomial_degree_15_overfits():
    parabola = E.polynomial_experiment(degree=2)
    wiggly = E.polynomial_experiment(degree=15)
    assert wiggly["train_mse"] < parabola["train_mse"]
    assert wiggly["test_mse"] > 10 * parabola["test_mse"]


def test_polynomial_weight_decay_shrinks_coefficients_and_tames_overfitting():
    free = E.polynomial_experiment(degree=15, weight_decay=0.0)
    decayed = E.polynomial_experiment(degree=15, weight_decay=1e-3)
    assert np.linalg.norm(decayed["coefficients"]) < 0.01 * np.linalg.norm(free["coefficients"])
    assert decayed["test_mse"] < free["test_mse"] / 100
    assert decayed["train_mse"] > free["train_mse"]


def test_polynomial_too_much_weight_decay_underfits():
    right = E.polynomial_experiment(degree=15, weight_decay=1e-3)
    heavy = E.polynomial_experiment(degree=15, weight_decay=1.0)
    assert heavy["train_mse"] > 10 * right["train_mse"]
    assert heavy["test_mse"] > right["test_mse"]


def test_polynomial_experiment_is_deterministic_and_draws():
    ax = Figure().subplots()
    first = E.polynomial_experiment(degree=5, weight_decay=1e-4, ax=ax)
    second = E.polynomial_experiment(degree=5, weight_decay=1e-4)
    np.testing.assert_array_equal(first["coefficients"], second["coefficients"])
    assert first["train_mse"] == second["train_mse"]
    assert ax.get_title() == "degree 5, weight decay 0.0001"
    assert len(ax.get_lines()) == 3  # true curve, fit, points


def test_describe_polynomial():
    text = E.describe_polynomial({"coefficients": np.array([0.5, -19068.7, 3.0]),
                                  "train_mse": 0.0003573, "test_mse": 7.663})
    assert text == ("train MSE 0.0003573   test MSE 7.663\n"
                    "3 coefficients, the largest |w_k| = 1.91e+04")


def test_error_versus_degree_shapes_and_shape_of_the_curves():
    degrees, train_mse, test_mse = E.error_versus_degree(range(0, 16))
    np.testing.assert_array_equal(degrees, np.arange(16))
    assert train_mse.shape == test_mse.shape == (16,)
    assert np.all(np.diff(train_mse) <= 1e-12)  # more capacity never fits worse
    assert np.argmin(test_mse) in (2, 3, 4)
    assert test_mse[15] > 10 * test_mse[2]


def test_error_versus_degree_with_weight_decay_stays_low():
    _, _, test_free = E.error_versus_degree(range(2, 16))
    _, _, test_decayed = E.error_versus_degree(range(2, 16), weight_decay=1e-3)
    assert test_decayed.max() < 0.05
    assert test_free.max() > 1.0


# -- chapter 6 additions: optimizers, the MLP, claims over seeds, number formats -------

def test_training_experiment_sgd_by_name_is_the_default_path_bit_for_bit():
    default = E.training_experiment(epochs=1, batch_size=64)
    assert E.training_experiment(epochs=1, batch_size=64, optimizer="sgd") == default
    _, history = E.train_digits(epochs=1, batch_size=64)
    assert default == E.training_summary(history)


def test_training_experiment_other_optimizer_changes_the_run_and_names_it_in_the_title():
    axes = two_axes()
    momentum = E.training_experiment(epochs=1, batch_size=64, learning_rate=0.01,
                                     optimizer="momentum", axes=axes)
    sgd = E.training_experiment(epochs=1, batch_size=64, learning_rate=0.01)
    assert momentum != sgd
    assert momentum["val_accuracy"] > sgd["val_accuracy"]  # momentum 0.9: ten times the speed
    assert "momentum" in figure_text(axes)
    with pytest.raises(TypeError, match="optimizer must be a name"):
        E.training_experiment(epochs=1, optimizer=3)
    with pytest.raises(ValueError, match="nadam"):
        E.training_experiment(epochs=1, optimizer="nadam")


def test_network_experiment_learns_and_draws():
    axes = two_axes()
    summary = E.network_experiment(epochs=2, hidden_sizes=(20,), dropout=0.2, axes=axes)
    assert not summary["diverged"]
    assert set(summary) == {"diverged", "train_loss", "train_accuracy", "val_loss",
                            "val_accuracy", "gap", "penalty"}
    assert summary["val_accuracy"] > 0.7
    assert summary == E.network_experiment(epochs=2, hidden_sizes=(20,), dropout=0.2)  # seeded


def test_network_experiment_regularisers_change_the_run():
    base = E.network_experiment(epochs=2, hidden_sizes=(20,), train_size=100)
    assert E.network_experiment(epochs=2, hidden_sizes=(20,), train_size=100,
                                dropout=0.5) != base
    decayed = E.network_experiment(epochs=2, hidden_sizes=(20,), train_size=100,
                                   weight_decay=0.01)
    assert decayed["penalty"] > 0 and base["penalty"] == 0


def test_late_means_average_the_last_epochs():
    _, history = E.train_mlp_digits(epochs=4, hidden_sizes=(10,), train_size=50)
    late = E.late_means(history, 2)
    val = np.array(history.val_accuracy[-2:])
    train = np.array(history.train_accuracy[-2:])
    assert late == {"late_val_accuracy": round(float(val.mean()), 3),
                    "late_gap": round(float((train - val).mean()), 3)}
    # more epochs than trained: all epochs after epoch 0
    assert E.late_means(history, 99)["late_val_accuracy"] == round(
        float(np.mean(history.val_accuracy[1:])), 3)
    with pytest.raises(ValueError, match="last"):
        E.late_means(history, 0)


def test_seed_study_mean_and_spread_are_those_of_the_runs():
    study = E.seed_study(E.network_experiment, [0, 1, 2], epochs=1, hidden_sizes=(10,))
    accuracies = np.array([r["val_accuracy"] for r in study["runs"]])
    assert study["seeds"] == [0, 1, 2] and study["diverged"] == 0
    assert study["mean"]["val_accuracy"] == round(float(accuracies.mean()), 4)
    assert study["std"]["val_accuracy"] == round(float(accuracies.std()), 4)
    assert study["min"]["val_accuracy"] == accuracies.min()
    assert len(set(accuracies)) > 1  # the seeds differ
    with pytest.raises(ValueError, match="seeds="):
        E.seed_study(E.network_experiment, [0], seed=1)
    with pytest.raises(ValueError, match="at least one seed"):
        E.seed_study(E.network_experiment, [])


def test_seed_comparison_is_paired_by_seed():
    result = E.seed_comparison(E.network_experiment, [0, 1],
                               {"epochs": 1, "hidden_sizes": (10,), "learning_rate": 0.01},
                               {"learning_rate": 0.1})
    slow = [E.network_experiment(epochs=1, hidden_sizes=(10,), learning_rate=0.01, seed=s)
            for s in (0, 1)]
    fast = [E.network_experiment(epochs=1, hidden_sizes=(10,), learning_rate=0.1, seed=s)
            for s in (0, 1)]
    d = [round(f["val_accuracy"] - s["val_accuracy"], 3) for s, f in zip(slow, fast, strict=True)]
    assert result["val_accuracy"]["differences"] == d
    assert result["val_accuracy"]["up"] == sum(x > 0 for x in d) == 2


def test_describe_training_never_prints_negative_zero():
    summary = {"diverged": False, "train_loss": -0.0, "train_accuracy": 0.9,
               "val_loss": 0.3, "val_accuracy": 0.9, "gap": -0.0001, "penalty": 0,
               "late_val_accuracy": 0.9, "late_gap": -0.0004}
    text = E.describe_training(summary)
    assert "-0.000" not in text
    assert "gap (train - validation accuracy) 0.000" in text
    assert "gap 0.000" in text
    assert "-0.012" in E.describe_training({**summary, "gap": -0.012})  # real negatives stay


@pytest.mark.parametrize("value, text", [(0.001, "0.001"), (1e-3, "0.001"),
                                         (0.0177827941, "0.0178"), (1.7782794e-05, "1.78e-05"),
                                         (0.0, "0"), (0.1, "0.1"), (3.0, "3")])
def test_format_setting_one_format_for_rates_and_decays(value, text):
    assert E.format_setting(value) == text


def test_titles_show_rounded_settings():
    axes = two_axes()
    E.training_experiment(learning_rate=10 ** -1.75, epochs=1, batch_size=128, axes=axes)
    assert "0.0178" in figure_text(axes) and "0.017782" not in figure_text(axes)
    axes = two_axes()
    E.overfitting_experiment(weight_decay=10 ** -1.75, epochs=1, axes=axes)
    assert "0.0178" in figure_text(axes) and "0.017782" not in figure_text(axes)


# -- the weight-scale study of notebook 11 (batch normalisation) -------------------------

@pytest.fixture(scope="module")
def scale_study():
    return {bn: E.weight_scale_study([1.0, 0.1, 0.001], seeds=[0, 1], batchnorm=bn, epochs=6,
                                     hidden_sizes=(100, 100, 100))
            for bn in (False, True)}


def test_weight_scale_study_shapes_and_lessons(scale_study):
    plain, normalised = scale_study[False], scale_study[True]
    assert plain["train_accuracy"].shape == (3, 2, 7)
    assert plain["diverged"].shape == (3, 2)
    assert list(plain["epoch"]) == list(range(7))
    # too large weights blow up without batch norm; too small ones do not learn in 6 epochs
    assert plain["diverged"][0].all() and np.isnan(plain["train_accuracy"][0, :, -1]).all()
    rows = E.describe_weight_scale_study(plain)
    assert rows[0]["diverged"] == 2 and rows[0]["train_mean"] == 0.1
    assert rows[2]["train_mean"] < 0.2 and rows[2]["reached"] == 0
    # batch norm learns at every scale
    rows = E.describe_weight_scale_study(normalised, level=0.8)
    assert not normalised["diverged"].any()
    assert all(row["train_mean"] > 0.8 and row["reached"] == 2 for row in rows), rows
    assert all(0 < row["epochs_to_level"] <= 6 for row in rows)


def test_weight_scale_study_is_reproducible(scale_study):
    again = E.weight_scale_study([0.1], seeds=[1], batchnorm=True, epochs=6,
                                 hidden_sizes=(100, 100, 100))
    np.testing.assert_array_equal(again["train_accuracy"][0, 0],
                                  scale_study[True]["train_accuracy"][1, 1])
    np.testing.assert_array_equal(again["weight_travel"][0, 0],
                                  scale_study[True]["weight_travel"][1, 1])


def test_weight_scale_study_measures_how_far_each_weight_matrix_travels(scale_study):
    plain, normalised = scale_study[False], scale_study[True]
    assert normalised["weight_travel"].shape == (3, 2, 4)  # three hidden layers and the output
    assert np.isnan(plain["weight_travel"][0]).all()       # std 1 diverged without batch norm
    # one run redone by hand: ||W_end - W_start|| / ||W_start|| for each W_k
    split = load_digits_split()
    net = build_mlp(64, (100, 100, 100), 10, weight_std=1.0, batchnorm=True, seed=1)
    start = {k: net.params[f"W_{k}"].copy() for k in range(1, 5)}
    train_network(net, split.x_train, split.t_train, optimizer=SGD(0.1), epochs=6,
                  batch_size=100, seed=1)
    expected = [np.sqrt(np.sum((net.params[f"W_{k}"] - start[k]) ** 2) / np.sum(start[k] ** 2))
                for k in range(1, 5)]
    np.testing.assert_allclose(normalised["weight_travel"][0, 1], expected, rtol=1e-10)
    # scale invariance: under batch norm the large hidden weights move far less, relatively
    hidden = normalised["weight_travel"][:, :, :3]
    assert np.all(hidden[0] < hidden[1] / 3), hidden


def test_batch_norm_divides_the_hidden_gradients_by_the_weight_scale():
    # the reason behind the travel: W -> c W leaves a batch-normalised layer's output alone
    split = load_digits_split()
    x, t = split.x_train[:50].reshape(50, -1), split.t_train[:50]
    small = build_mlp(64, (30, 30), 10, weight_std=0.1, batchnorm=True, seed=3)
    large = build_mlp(64, (30, 30), 10, weight_std=1.0, batchnorm=True, seed=3)
    large.params["W_3"][...] = small.params["W_3"]  # the output layer (no batch norm) the same
    np.testing.assert_allclose(large.params["W_1"], 10 * small.params["W_1"])
    small_loss, large_loss = small.forward(x, t)[1], large.forward(x, t)[1]
    assert large_loss == pytest.approx(small_loss, rel=1e-4)
    small_grads, large_grads = small.backward(), large.backward()
    for name in ("W_1", "W_2"):  # equal up to batch norm's eps
        ratio = np.linalg.norm(small_grads[name]) / np.linalg.norm(large_grads[name])
        assert ratio == pytest.approx(10, rel=1e-2), name


def test_epochs_to_level():
    curves = np.array([[0.1, 0.5, 0.95, 0.97], [0.1, 0.92, 0.93, 0.99], [0.1, 0.2, np.nan, np.nan]])
    np.testing.assert_array_equal(E._epochs_to(curves, 0.9), [2, 1, np.nan])


def test_weight_scale_experiment_draws_one_panel():
    ax = Figure().subplots()
    row = E.weight_scale_experiment(weight_std=1.0, batchnorm=False, seeds=[0], epochs=2, ax=ax)
    assert row["diverged"] == 1
    assert "diverged in 1 of 1 seeds" in [t.get_text() for t in ax.texts]
    assert ax.get_title() == "weight std 1, without batch norm"


def test_accuracy_with_batch_statistics(rng):
    x = rng.standard_normal((40, 6))
    t = (x[:, 0] > 0).astype(int)
    net = build_mlp(6, [10], 2, batchnorm=True, dropout=0.5, seed=0)
    train_network(net, x, t, optimizer=SGD(0.3), epochs=10, batch_size=10)
    norm = net.layers[1]
    mean, var = norm.running_mean.copy(), norm.running_var.copy()
    whole = E.accuracy_with_batch_statistics(net, x, t, batch_size=40)
    np.testing.assert_array_equal(norm.running_mean, mean)  # restored
    np.testing.assert_array_equal(norm.running_var, var)
    # one batch of everything in training mode, by hand
    norm.training = True
    net.layers[3].training = False
    expected = np.mean(net.scores(x).argmax(axis=1) == t)
    assert whole == expected
    net.train()
    pairs = E.accuracy_with_batch_statistics(net, x[:7], t[:7], batch_size=2)  # 3 pairs; 1 left out
    assert pairs in {k / 6 for k in range(7)}
    assert net.training and net.layers[3].training
    with pytest.raises(ValueError, match="batch_size must be an integer >= 2"):
        E.accuracy_with_batch_statistics(net, x, t, batch_size=1)


# -- the studies of notebook 10 (initialisation) -----------------------------------------

def test_activation_study_collects_each_run():
    study = E.activation_study(activations=("tanh", "relu"), weight_stds=(0.01, "he"),
                               seeds=[0, 2], n_layers=3, width=30, n_samples=40)
    assert study["std"].shape == study["saturated"].shape == (2, 2, 2, 3)
    a = activation_histograms("relu", "he", n_layers=3, width=30, n_samples=40, seed=2)
    np.testing.assert_allclose(study["std"][1, 1, 1], a.reshape(3, -1).std(axis=1))
    np.testing.assert_allclose(study["saturated"][1, 1, 1], np.mean(a == 0, axis=(1, 2)))
    rows = E.describe_activation_study(study)
    assert [(r["activation"], r["label"]) for r in rows] == [
        ("tanh", "std 0.01"), ("tanh", "He"), ("relu", "std 0.01"), ("relu", "He")]
    last = study["std"][1, 1, :, -1]
    assert rows[3]["layer"] == 3
    assert rows[3]["std_mean"] == pytest.approx(last.mean())
    assert rows[3]["std_sd"] == pytest.approx(last.std())
    assert rows[3]["ratio_mean"] == pytest.approx(np.mean(last / study["std"][1, 1, :, 0]))
    assert E.describe_activation_study(study, layer=0)[0]["layer"] == 1
    with pytest.raises(ValueError, match="layer must be in \\[-3, 2\\]"):
        E.describe_activation_study(study, layer=3)


@pytest.fixture(scope="module")
def small_digits():
    split = load_digits_split()
    return type(split)(split.x_train[:200], split.t_train[:200], split.x_val[:100],
                       split.t_val[:100], split.x_test[:1], split.t_test[:1])


@pytest.fixture(scope="module")
def init_study(small_digits):
    return E.init_training_study(weight_stds=(0.01, "he"), seeds=[0, 1], hidden_sizes=(30, 30, 30),
                                 learning_rate=0.1, epochs=4, batch_size=20, data=small_digits)


def test_init_training_study_equals_direct_runs(init_study, small_digits):
    assert init_study["train_loss"].shape == (2, 2, 5)
    assert init_study["val_accuracy"].shape == (2, 2, 5)
    np.testing.assert_array_equal(init_study["epoch"], np.arange(5))
    x = small_digits.x_train.reshape(200, -1)
    x_val = small_digits.x_val.reshape(100, -1)
    net = build_mlp(64, (30, 30, 30), 10, weight_std="he", seed=1)
    history = train_network(net, x, small_digits.t_train, x_val, small_digits.t_val,
                            optimizer=SGD(0.1), epochs=4, batch_size=20, seed=1)
    np.testing.assert_array_equal(init_study["train_loss"][1, 1], history.train_loss)
    np.testing.assert_array_equal(init_study["val_accuracy"][1, 1], history.val_accuracy)
    assert not init_study["diverged"].any()


def test_tiny_weights_do_not_learn_and_he_does(init_study):
    tiny, he = init_study["train_loss"]
    assert np.all(np.abs(tiny[:, -1] - math.log(10)) < 0.02)  # chance: the signal vanished
    assert np.all(he[:, -1] < 0.8 * math.log(10))
    rows = E.describe_init_training(init_study, epoch=4)
    assert [r["label"] for r in rows] == ["std 0.01", "He"]
    assert rows[1]["loss_mean"] == pytest.approx(he[:, 4].mean())
    assert rows[1]["loss_sd"] == pytest.approx(he[:, 4].std())
    assert rows[0]["val_max"] == pytest.approx(init_study["val_accuracy"][0, :, -1].max())
    with pytest.raises(ValueError, match="epoch must be at most 4"):
        E.describe_init_training(init_study, epoch=5)


def test_init_training_argument_errors(small_digits):
    with pytest.raises(ValueError, match="weight_stds must hold at least one value"):
        E.init_training_study(weight_stds=(), data=small_digits)
    with pytest.raises(ValueError, match="weight_std must be a number"):
        E.init_training_study(weight_stds=("lecun",), data=small_digits)
    with pytest.raises(ValueError, match="activation must be one of"):
        E.init_training_study(activation="elu", data=small_digits)
    with pytest.raises(ValueError, match="epochs must be an integer >= 1"):
        E.init_training_study(epochs=0, data=small_digits)


def test_activation_study_argument_errors():
    with pytest.raises(ValueError, match="seeds must hold at least one seed"):
        E.activation_study(seeds=[])
    with pytest.raises(ValueError, match="activation must be"):
        E.activation_study(activations=["elu"])


# -- the search of notebook 13 on the digits ----------------------------------------------

SEARCH_RANGES = {"learning_rate": (1e-3, 1.0), "weight_decay": (1e-6, 1e-1)}


@pytest.fixture(scope="module")
def split():
    return E.digits_split(0)


def test_digits_scorer_holds_and_feeds_no_test_image(split, monkeypatch):
    scorer = E.digits_scorer(train_size=50, epochs=1)
    held = [v for v in vars(scorer).values() if isinstance(v, np.ndarray)]
    assert len(held) == 4 and not any(np.shares_memory(a, split.x_test) for a in held)
    assert not any(np.shares_memory(a, split.t_test) for a in held)

    seen = []  # every image array that reaches the network, in training or evaluation

    def spy(original):
        def wrapper(*args, **kwargs):
            seen.extend(a for a in args if isinstance(a, np.ndarray) and a.ndim == 4)
            return original(*args, **kwargs)
        return wrapper

    for name in ("forward", "predict", "evaluate", "accuracy", "scores"):
        monkeypatch.setattr(TinyNet, name, spy(getattr(TinyNet, name)))
    monkeypatch.setattr(fast, "loss_and_gradients", spy(fast.loss_and_gradients))
    random_search(scorer, SEARCH_RANGES, 2, seed=0)
    assert seen, "the spy saw nothing: the patched names are not the ones used"
    assert any(np.shares_memory(x, split.x_val) for x in seen)
    assert not any(np.shares_memory(x, split.x_test) for x in seen)


def test_scores_over_seeds_passes_each_seed(split):
    seen = []

    def scorer(learning_rate, weight_decay, seed):
        seen.append((learning_rate, weight_decay, seed))
        return seed / 10

    scores = E.scores_over_seeds(scorer, {"learning_rate": 0.1, "weight_decay": 1e-4}, range(5))
    np.testing.assert_array_equal(scores, np.arange(5) / 10)
    assert seen == [(0.1, 1e-4, s) for s in range(5)]
    with pytest.raises(ValueError, match="seeds is empty"):
        E.scores_over_seeds(scorer, {}, [])
    with pytest.raises(TypeError, match="train_and_score must be callable"):
        E.scores_over_seeds(None, {}, [0])


def test_the_lessons_of_notebook_13_hold_over_five_seeds():
    """What notebook 13 says about TinyNet on the digits (5 epochs), on seeds 1 to 5.

    The learning rate decides: near chance at 1e-3 and at 1, about 0.8 at the
    grid's 0.032, above 0.9 at 0.3; weight decay from 1e-6 to 1e-2 changes
    the mean by less than the seed spread, and 0.1 hurts.
    """
    scorer = E.digits_scorer(epochs=5)
    seeds = range(1, 6)

    def mean_std(learning_rate, weight_decay):
        scores = E.scores_over_seeds(scorer, {"learning_rate": learning_rate,
                                              "weight_decay": weight_decay}, seeds)
        return scores.mean(), scores.std()

    assert mean_std(1e-3, 1e-4)[0] < 0.2
    assert mean_std(1.0, 1e-4)[0] < 0.2
    assert 0.75 < mean_std(10 ** -1.5, 1e-4)[0] < 0.85
    assert mean_std(0.3, 1e-4)[0] > 0.9
    small, large, too_much = mean_std(0.2, 1e-6), mean_std(0.2, 1e-2), mean_std(0.2, 1e-1)
    assert abs(small[0] - large[0]) < min(small[1], large[1])
    assert too_much[0] < small[0] - 0.1


# -- optimizers on the book's surface (notebook 09) --------------------------------------

def test_path_study_measures_each_optimizer_from_each_start():
    starts = random_starts(5, seed=1)
    study = E.path_study(starts, {"sgd": 0.95, "adagrad": 1.5}, steps=30)
    assert sorted(study) == ["adagrad", "sgd"] and study["adagrad"]["distance"].shape == (5,)
    for i, start in enumerate(starts):
        expected = distance_to_minimum(optimizer_path(SGD(0.95), tuple(start), 30))[-1]
        assert study["sgd"]["distance"][i] == expected
    # SGD at 0.95: y -> -0.9 y, so it travels 1.9 |y| (1 + 0.9 + ... + 0.9^29) across
    np.testing.assert_allclose(study["sgd"]["across"], 1.9 * (1 - 0.9 ** 30) / 0.1, rtol=1e-12)
    assert study["adagrad"]["across"].max() < 3  # at most one overshoot, no zigzag
    diverged = E.path_study(starts[:2], {"sgd": 1.5}, steps=100)["sgd"]
    assert diverged["distance"].tolist() == [np.inf, np.inf]


def test_path_experiment_prints_one_rounded_line(capsys):
    ax = Figure().subplots()
    result = E.path_experiment("sgd", ax=ax)
    out = capsys.readouterr().out
    assert out == "sgd, learning rate 0.95: after 30 steps at (-0.350, 0.085), f = 0.0133\n"
    assert result["final"] == pytest.approx((-0.3503, 0.0848), abs=1e-4)
    assert ax.get_title() == "sgd, learning rate 0.95"
    E.path_experiment("rmsprop", steps=30)
    assert "-0.000" not in capsys.readouterr().out
    with pytest.raises(ValueError, match="optimizer must be one of"):
        E.path_experiment("lbfgs")


def test_path_experiment_reports_a_diverged_run(capsys):
    result = E.path_experiment("sgd", learning_rate=1.5, steps=100)  # |1 - 2 * 1.5| = 2 > 1
    assert result["diverged"] and result["final_f"] == float("inf")
    assert "sgd, learning rate 1.5: diverged after" in capsys.readouterr().out


# -- paired comparisons over seeds (notebook 12) ------------------------------------------

def test_paired_difference_worked_out_by_hand():
    changed, baseline = [0.86, 0.85, 0.87, 0.84], [0.84, 0.85, 0.85, 0.86]
    d = E.paired_difference(changed, baseline)
    # differences 0.02, 0, 0.02, -0.02: mean 0.005, sample sd sqrt(0.0003 / ... ) by hand
    diffs = [0.02, 0.0, 0.02, -0.02]
    mean = sum(diffs) / 4
    sample_var = sum((x - mean) ** 2 for x in diffs) / 3
    se = math.sqrt(sample_var / 4)
    assert d["mean"] == pytest.approx(0.005)
    assert d["se"] == pytest.approx(se)
    assert d["std"] == pytest.approx(math.sqrt(sum((x - mean) ** 2 for x in diffs) / 4))
    assert (d["low"], d["high"]) == pytest.approx((0.005 - 2 * se, 0.005 + 2 * se))
    assert (d["up"], d["down"], d["n"]) == (2, 1, 4)  # a tie counts as neither
    np.testing.assert_allclose(d["differences"], diffs, atol=1e-12)
    wide = E.paired_difference(changed, baseline, n_se=3)
    assert wide["high"] - wide["low"] == pytest.approx(6 * se)


def test_paired_difference_argument_errors():
    with pytest.raises(ValueError, match=r"one value per seed each, paired; got shapes \(3,\) "
                                         r"and \(4,\)"):
        E.paired_difference([0.1, 0.2, 0.3], [0.1, 0.2, 0.3, 0.4])
    with pytest.raises(ValueError, match="at least 2 seeds; got 1"):
        E.paired_difference([0.1], [0.2])
    with pytest.raises(ValueError, match=r"changed must be a 1-D array \(n_seeds,\)"):
        E.paired_difference([[0.1, 0.2]], [0.1, 0.2])
    with pytest.raises(ValueError, match="n_se"):
        E.paired_difference([0.1, 0.2], [0.1, 0.3], n_se=0)


# -- what the spread of a layer's outputs is made of (notebook 10) ------------------------

def test_activation_spread_splits_the_variance_exactly():
    # two units: unit 0 always 0.3 (spread between units only), unit 1 alternates 0.4 / 0.6
    a = np.array([[[0.3, 0.4], [0.3, 0.6], [0.3, 0.4], [0.3, 0.6]]])  # (1 layer, 4 inputs, 2)
    spread = E.activation_spread(a)
    assert spread["between_units"][0] == pytest.approx(0.1)        # unit means 0.3 and 0.5
    assert spread["across_inputs"][0] == pytest.approx(np.sqrt((0 + 0.01) / 2))
    assert spread["total"][0] == pytest.approx(np.std(a))
    deep = E.activation_spread(activation_histograms("sigmoid", "xavier", n_samples=300, seed=1))
    np.testing.assert_allclose(deep["total"] ** 2,
                               deep["between_units"] ** 2 + deep["across_inputs"] ** 2)
    # the lesson of notebook 10: with Xavier's scale the sigmoid keeps its spread between
    # units (about 0.12) while the spread across inputs falls about fourfold per layer
    assert np.all(deep["between_units"][1:] > 0.1)
    ratios = deep["across_inputs"][1:] / deep["across_inputs"][:-1]
    assert np.all((ratios > 0.2) & (ratios < 0.27)), ratios
    with pytest.raises(ValueError, match=r"activations must be a 3-D array"):
        E.activation_spread(np.zeros((4, 5)))


# -- a learning-rate grid per optimizer (notebook 09) -------------------------------------

def test_learning_rate_grid_equals_direct_runs_and_counts_divergence_as_chance():
    split = load_digits_split()
    small = type(split)(split.x_train[:160], split.t_train[:160], split.x_val[:80],
                        split.t_val[:80], split.x_test[:1], split.t_test[:1])
    grid = E.learning_rate_grid({"adam": [0.01, 1e3], "sgd": [0.1]}, seeds=[4, 5], epochs=2,
                                data=small)
    assert grid["seeds"] == [4, 5] and grid["epochs"] == 2
    assert list(grid["optimizers"]) == ["adam", "sgd"]
    adam = grid["optimizers"]["adam"]
    assert adam["val_accuracy"].shape == adam["diverged"].shape == (2, 2)
    params = init_params((1, 8, 8), 8, 16, num_classes=10, rng=5)
    _, history = train(params, small.x_train, small.t_train, small.x_val, small.t_val, epochs=2,
                       batch_size=32, seed=5, optimizer=Adam(0.01))
    assert adam["val_accuracy"][0, 1] == history.val_accuracy[-1]
    if adam["diverged"][1].any():   # Adam at 1000 may blow up: counted as chance
        assert np.all(adam["val_accuracy"][1][adam["diverged"][1]] == 0.1)
    assert adam["best"] == 0.01
    np.testing.assert_array_equal(grid["optimizers"]["sgd"]["rates"], [0.1])


def notebook_09_loop(rates, seeds, epochs, split):
    """The loop notebook 09 ran in a cell before optimizer_curves, verbatim but for its names."""
    curves = {name: {"train_loss": [], "val_accuracy": []} for name in rates}
    for name, learning_rate in rates.items():
        for seed in seeds:
            params = init_params((1, 8, 8), conv1_filters=8, conv2_filters=16, num_classes=10,
                                 rng=seed)
            _, history = train(params, split.x_train, split.t_train, split.x_val, split.t_val,
                               epochs=epochs, batch_size=32, seed=seed,
                               optimizer=make_optimizer(name, learning_rate))
            curves[name]["train_loss"].append(history.train_loss)
            curves[name]["val_accuracy"].append(history.val_accuracy)
    return {name: {key: np.array(runs) for key, runs in c.items()} for name, c in curves.items()}


def test_optimizer_curves_equal_notebook_09s_loop_bit_for_bit():
    split = load_digits_split()
    small = type(split)(split.x_train[:96], split.t_train[:96], split.x_val[:40],
                        split.t_val[:40], split.x_test[:1], split.t_test[:1])
    rates = {"adam": 0.02, "sgd": 0.5, "momentum": 0.03}
    study = E.optimizer_curves(rates, seeds=range(2), epochs=2, data=small)
    assert study["seeds"] == [0, 1] and study["epochs"] == 2 and study["train_size"] == 96
    assert study["parameters"] == 1898  # TinyNet with 8 and 16 filters on 8 x 8 images
    assert list(study["optimizers"]) == list(rates)
    expected = notebook_09_loop(rates, range(2), 2, small)
    for name, curves in expected.items():
        got = study["optimizers"][name]
        assert got["learning_rate"] == rates[name]
        for key, runs in curves.items():
            assert got[key].shape == (2, 3)
            np.testing.assert_array_equal(got[key], runs, strict=True)


def test_optimizer_curves_pad_a_diverged_run_with_nan():
    split = load_digits_split()
    small = type(split)(split.x_train[:64], split.t_train[:64], split.x_val[:20],
                        split.t_val[:20], split.x_test[:1], split.t_test[:1])
    study = quiet(E.optimizer_curves, {"sgd": 1e4}, seeds=[0], epochs=3, data=small)
    loss = study["optimizers"]["sgd"]["train_loss"]
    assert loss.shape == (1, 4) and np.isnan(loss[0, -1])


def test_optimizer_curves_argument_errors():
    with pytest.raises(TypeError, match="learning_rates must be a non-empty dict"):
        E.optimizer_curves({})
    with pytest.raises(ValueError, match=r"learning_rates must name optimizers among .*'adamw'"):
        E.optimizer_curves({"adamw": 0.01}, seeds=[0], epochs=1)
    with pytest.raises(ValueError, match=r"learning_rates\['sgd'\] must be > 0"):
        E.optimizer_curves({"sgd": 0.0}, seeds=[0], epochs=1)
    with pytest.raises(ValueError, match="seeds must hold at least one seed"):
        E.optimizer_curves({"sgd": 0.1}, seeds=[], epochs=1)


def test_learning_rate_grid_argument_errors():
    with pytest.raises(TypeError, match="grids must be a non-empty dict"):
        E.learning_rate_grid({})
    with pytest.raises(ValueError, match=r"grids must name optimizers among .*got 'adamw'"):
        E.learning_rate_grid({"adamw": [0.01]}, seeds=[0], epochs=1)
    with pytest.raises(ValueError, match=r"grids\['sgd'\] must be > 0"):
        E.learning_rate_grid({"sgd": [0.0]}, seeds=[0], epochs=1)
    with pytest.raises(ValueError, match=r"grids\['sgd'\] must hold at least one"):
        E.learning_rate_grid({"sgd": []}, seeds=[0], epochs=1)
