"""Tests for tinynet.presets: each teaching scenario shows its lesson, and the line of Python repeats a run."""

import ast
import math
import warnings

import pytest

from tinynet import experiments
from tinynet.presets import (
    TRAINING_DEFAULTS,
    TRAINING_PRESETS,
    matching_preset,
    preset_settings,
    python_line,
    round_significant,
    tidy_settings,
)


def run(name):
    """The summary of a scenario's run (a diverged run warns; that is its lesson)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return experiments.training_experiment(**preset_settings(name))


# -- each scenario shows its lesson on the bundled digits -------------------------

def test_learning_rate_too_small_leaves_the_loss_high_and_falling():
    summary = run("learning rate too small")
    assert not summary["diverged"]
    assert summary["train_loss"] > 2.0
    assert summary["val_accuracy"] < 0.5
    _, history = experiments.train_digits(**preset_settings("learning rate too small"))
    assert history.train_loss[-1] < history.train_loss[-2]  # still falling at the end


def test_learning_rate_about_right_learns_well_without_a_gap():
    summary = run("learning rate about right")
    assert summary["val_accuracy"] > 0.93
    assert abs(summary["gap"]) < 0.03


def test_learning_rate_too_large_kills_the_relus_at_chance_level():
    summary = run("learning rate too large")
    assert not summary["diverged"]
    assert summary["val_accuracy"] == pytest.approx(0.1, abs=0.03)
    assert summary["train_loss"] == pytest.approx(math.log(10), abs=0.05)


def test_learning_rate_far_too_large_diverges_with_a_message():
    summary = run("learning rate far too large: diverges")
    assert summary["diverged"]
    assert "too large" in summary["message"]
    assert experiments.describe_training(summary).startswith("Diverged: learning rate too high?")


def test_overfitting_a_small_subset_memorises_the_training_images():
    summary = run("overfitting a small subset")
    assert summary["train_accuracy"] == 1.0
    assert summary["train_loss"] < 0.05
    assert summary["gap"] > 0.1


def test_weight_decay_to_the_rescue_narrows_the_gap_of_the_same_run():
    overfit = run("overfitting a small subset")
    rescued = run("weight decay to the rescue")
    only_difference = {k: v for k, v in preset_settings("weight decay to the rescue").items()
                       if preset_settings("overfitting a small subset")[k] != v}
    assert only_difference == {"weight_decay": 0.03}
    assert rescued["val_accuracy"] > overfit["val_accuracy"] + 0.02
    assert rescued["gap"] < overfit["gap"] - 0.02
    assert rescued["train_loss"] > overfit["train_loss"]  # the penalty holds the fit back
    assert rescued["penalty"] > 0


def test_every_preset_has_a_lesson_and_only_known_settings():
    assert len(TRAINING_PRESETS) == 6
    for name, preset in TRAINING_PRESETS.items():
        assert set(preset.settings) <= set(TRAINING_DEFAULTS), name
        assert preset.lesson.endswith("."), name
        assert tidy_settings(preset_settings(name)) == preset_settings(name), name


# -- the plain functions behind the menu -------------------------------------------

def test_preset_settings_are_complete_and_in_signature_order():
    settings = preset_settings("overfitting a small subset")
    assert list(settings) == list(TRAINING_DEFAULTS)
    assert settings == {"learning_rate": 0.1, "weight_decay": 0.0, "epochs": 100,
                        "batch_size": 25, "train_size": 100, "seed": 0}
    with pytest.raises(ValueError, match=r"no training preset named 'fast'; choose among \["):
        preset_settings("fast")


def test_matching_preset_names_the_scenario_or_none():
    assert matching_preset(TRAINING_DEFAULTS) == "learning rate about right"
    assert matching_preset({"learning_rate": 3.0}) == "learning rate too large"
    assert matching_preset({"learning_rate": 0.0030000001}) == "learning rate too small"
    assert matching_preset({"learning_rate": 0.2}) is None
    assert matching_preset({**preset_settings("learning rate too small"), "seed": 1}) is None


@pytest.mark.parametrize("value, expected", [
    (10 ** -0.75, 0.178), (10 ** 1.25, 17.8), (10 ** -2.75, 0.00178), (0.1, 0.1),
    (3.0, 3.0), (1.7782794100389227e-05, 1.78e-05), (0.0, 0.0), (123456.0, 123000.0),
])
def test_round_significant(value, expected):
    assert round_significant(value) == expected


def test_tidy_settings_rounds_only_the_log_slider_values():
    settings = {"learning_rate": 10 ** -0.75, "weight_decay": 10 ** -2.75, "epochs": 7,
                "batch_size": 25, "train_size": None, "seed": 0}
    tidy = tidy_settings(settings)
    assert tidy == {**settings, "learning_rate": 0.178, "weight_decay": 0.00178}
    assert settings["learning_rate"] != 0.178  # the argument is left alone


def test_python_line_writes_every_setting_in_order():
    line = python_line({"epochs": 3, "learning_rate": 0.178, "weight_decay": 1e-05})
    assert line == ("from tinynet.experiments import training_experiment; "
                    "training_experiment(learning_rate=0.178, weight_decay=1e-05, epochs=3, "
                    "batch_size=32, train_size=None, seed=0)")
    ast.parse(line)  # valid Python
    with pytest.raises(ValueError, match=r"\['momentum'\] are not arguments"):
        python_line({"momentum": 0.9})


def test_python_line_reproduces_the_run_exactly():
    settings = {**preset_settings("overfitting a small subset"), "epochs": 3,
                "learning_rate": 0.178}
    namespace = {}
    import_part, call = python_line(settings).split("; ")
    exec(import_part, namespace)
    assert eval(call, namespace) == experiments.training_experiment(**settings)
