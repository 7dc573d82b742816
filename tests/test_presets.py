"""Tests for tinynet.presets: each teaching scenario shows its lesson.

And the line of Python that the panels print repeats a run.
"""

import functools
import inspect
import math
import warnings

import numpy as np
import pytest

from tinynet import experiments
from tinynet.presets import (
    NETWORK_DEFAULTS,
    NETWORK_PRESETS,
    TRAINING_DEFAULTS,
    TRAINING_PRESETS,
    network_preset_settings,
    preset_settings,
    tidy_settings,
)

SEEDS = range(5)  # every lesson is checked on seeds 0-4, not just seed 0


@functools.lru_cache(maxsize=None)
def runs(name, average_last=None):
    """The summaries of a training scenario's run at each seed (cached)."""
    settings = {k: v for k, v in preset_settings(name).items() if k != "seed"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a diverged run warns: its lesson
        return tuple(experiments.training_experiment(**settings, seed=seed,
                                                     average_last=average_last)
                     for seed in SEEDS)


@functools.lru_cache(maxsize=None)
def network_runs(name, average_last=None):
    """The summaries of a network scenario's run at each seed (cached)."""
    settings = {k: v for k, v in network_preset_settings(name).items() if k != "seed"}
    return tuple(experiments.network_experiment(**settings, seed=seed,
                                                average_last=average_last)
                 for seed in SEEDS)


def values(summaries, name):
    return np.array([s[name] for s in summaries])


# -- each TinyNet scenario shows its lesson on the bundled digits, at every seed -----

def test_learning_rate_too_small_leaves_the_loss_high_and_falling():
    for seed in SEEDS:
        settings = {**preset_settings("learning rate too small"), "seed": seed}
        _, history = experiments.train_digits(**settings)
        summary = experiments.training_summary(history)
        assert summary["train_loss"] > 1.8, seed
        assert summary["val_accuracy"] < 0.5, seed
        assert history.train_loss[-1] < history.train_loss[-2], seed  # still falling


def test_learning_rate_about_right_learns_well_without_a_gap():
    summaries = runs("learning rate about right")
    assert values(summaries, "val_accuracy").min() > 0.93
    assert np.abs(values(summaries, "gap")).max() < 0.03


def test_learning_rate_too_large_kills_the_relus_at_chance_level():
    for summary in runs("learning rate too large"):
        assert not summary["diverged"]
        assert summary["val_accuracy"] == pytest.approx(0.1, abs=0.03)
        assert summary["train_loss"] == pytest.approx(math.log(10), abs=0.05)


def test_learning_rate_far_too_large_diverges_with_a_message():
    summaries = runs("learning rate far too large: diverges")
    assert summaries[0]["diverged"]
    assert sum(s["diverged"] for s in summaries) == 3
    for summary in summaries:
        if summary["diverged"]:
            assert "too large" in summary["message"]
            assert experiments.describe_training(summary).startswith(
                "Diverged: learning rate too high?")
        else:  # the other seeds: stuck at chance with a huge loss
            assert summary["val_accuracy"] == pytest.approx(0.1, abs=0.03)
            assert summary["train_loss"] > 2 * math.log(10)


def test_overfitting_a_small_subset_memorises_the_training_images():
    summaries = runs("overfitting a small subset", 10)
    assert values(summaries, "train_accuracy").min() == 1.0
    assert values(summaries, "train_loss").max() < 0.05
    assert values(summaries, "gap").min() > 0.1
    assert values(summaries, "val_accuracy").mean() == pytest.approx(0.85, abs=0.02)
    assert values(summaries, "gap").mean() == pytest.approx(0.15, abs=0.02)


def test_weight_decay_small_steady_gain_over_seeds():
    name = "weight decay: a small, steady gain"
    only_difference = {k: v for k, v in preset_settings(name).items()
                       if preset_settings("overfitting a small subset")[k] != v}
    assert only_difference == {"weight_decay": 0.003}
    overfit, decayed = runs("overfitting a small subset", 10), runs(name, 10)
    gain = values(decayed, "late_val_accuracy") - values(overfit, "late_val_accuracy")
    narrower = values(decayed, "late_gap") < values(overfit, "late_gap")
    assert gain.mean() > 0, gain          # up on average ...
    assert np.sum(gain > 0) >= 4, gain    # ... in at least 4 of 5 seeds (9 of 10 in the study)
    assert narrower.sum() >= 4, narrower
    assert gain.mean() < 0.01             # and small, as the lesson says
    assert min(s["penalty"] for s in decayed) > 0


def test_stronger_weight_decay_lowers_validation_accuracy_in_every_seed():
    # the lesson's warning: 0.03 (the old "rescue" value) hurts
    overfit = runs("overfitting a small subset", 10)
    settings = {k: v for k, v in preset_settings("overfitting a small subset").items()
                if k != "seed"}
    strong = [experiments.training_experiment(**{**settings, "weight_decay": 0.03}, seed=seed,
                                              average_last=10) for seed in SEEDS]
    assert np.all(values(strong, "late_val_accuracy") < values(overfit, "late_val_accuracy"))


def test_every_preset_has_a_lesson_and_only_known_settings():
    assert len(TRAINING_PRESETS) == 6
    for name, preset in TRAINING_PRESETS.items():
        assert set(preset.settings) <= set(TRAINING_DEFAULTS), name
        assert preset.lesson.endswith("."), name
        assert tidy_settings(preset_settings(name)) == preset_settings(name), name
    for name, preset in NETWORK_PRESETS.items():
        assert set(preset.settings) <= set(NETWORK_DEFAULTS), name
        assert preset.lesson.endswith("."), name


def test_network_defaults_are_network_experiments_signature():
    parameters = inspect.signature(experiments.network_experiment).parameters
    defaults = {k: p.default for k, p in parameters.items()
                if k not in ("axes", "average_last")}
    assert list(NETWORK_DEFAULTS) == list(defaults)
    assert NETWORK_DEFAULTS == defaults
    with pytest.raises(ValueError, match=r"no network preset named 'fast'; choose among \["):
        network_preset_settings("fast")


# -- each network (MLP) scenario, at every seed ---------------------------------------

def test_sgd_at_a_small_rate_is_slow_and_momentum_fixes_it():
    slow = network_runs("SGD at a small learning rate")
    fast = network_runs("momentum at the same small rate")
    assert values(slow, "train_loss").min() > 0.25
    assert values(slow, "val_accuracy").mean() == pytest.approx(0.91, abs=0.02)
    assert values(fast, "val_accuracy").min() > 0.95
    assert np.all(values(fast, "val_accuracy") > values(slow, "val_accuracy") + 0.03)


def test_adam_at_its_default_rate_learns_well():
    summaries = network_runs("Adam at its default rate")
    assert values(summaries, "val_accuracy").min() > 0.96
    assert values(summaries, "val_accuracy").mean() == pytest.approx(0.98, abs=0.01)


def test_deep_network_with_small_weights_stays_at_chance_and_batch_norm_rescues_it():
    stuck = network_runs("deep network, weights too small")
    rescued = network_runs("batch norm rescues small weights")
    assert values(stuck, "val_accuracy").max() < 0.15
    assert values(stuck, "train_loss").min() == pytest.approx(math.log(10), abs=0.01)
    assert values(rescued, "val_accuracy").min() > 0.95


def test_deep_mlp_overfits_and_weight_decay_and_dropout_help_a_little():
    # the lessons of notebook 12, over seeds 0-19 (about 0.4 s a run)
    seeds = range(20)
    settings = {k: v for k, v in network_preset_settings("deep MLP overfitting 100 images").items()
                if k != "seed"}
    overfit = [experiments.network_experiment(**settings, seed=s, average_last=10)
               for s in seeds]
    assert values(overfit, "train_accuracy").min() == 1.0
    assert values(overfit, "late_val_accuracy").mean() == pytest.approx(0.85, abs=0.01)
    assert values(overfit, "late_val_accuracy").std() == pytest.approx(0.018, abs=0.002)
    assert values(overfit, "late_gap").mean() == pytest.approx(0.15, abs=0.01)
    for name, mean, wins, narrower in [("weight decay 0.003 on the deep MLP", 0.006, 12, 12),
                                       ("dropout 0.2 on the deep MLP", 0.008, 13, 14)]:
        changed = {k: v for k, v in network_preset_settings(name).items() if k != "seed"}
        runs_ = [experiments.network_experiment(**changed, seed=s, average_last=10)
                 for s in seeds]
        d = experiments.paired_difference(values(runs_, "late_val_accuracy"),
                                          values(overfit, "late_val_accuracy"))
        assert d["mean"] == pytest.approx(mean, abs=0.001), (name, d)
        assert d["up"] == wins, (name, d)
        assert np.sum(values(runs_, "late_gap") < values(overfit, "late_gap")) == narrower, name
        if name.startswith("weight decay"):
            assert 0 < d["low"] < 0.002 and d["high"] == pytest.approx(0.012, abs=0.001), d
        else:
            assert abs(d["low"]) < 0.001 and d["high"] == pytest.approx(0.017, abs=0.001), d
    # "0.03 is too strong: -0.055, lower in 19 of 20 seeds"
    strong = [experiments.network_experiment(**{**settings, "weight_decay": 0.03}, seed=s,
                                             average_last=10) for s in seeds]
    d = experiments.paired_difference(values(strong, "late_val_accuracy"),
                                      values(overfit, "late_val_accuracy"))
    assert d["mean"] == pytest.approx(-0.055, abs=0.001) and d["down"] == 19, d
