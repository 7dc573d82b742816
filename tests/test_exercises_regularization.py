"""Tests for tinynet.exercises.regularization: right answers pass, typical mistakes fail."""

import numpy as np
import pytest

from tinynet.exercises import ExerciseFailed, ExerciseNotAttempted
from tinynet.exercises.regularization import check_dropout_forward, dropout_forward_reference
from tinynet.layers import Dropout


def dropout_forward(x, mask, ratio, training):
    if not training:
        return x.copy()
    return x * mask / (1 - ratio)


def dropout_forward_where(x, mask, ratio, training):
    return np.where(mask, x / (1.0 - ratio), 0.0) if training else np.array(x)


def no_scaling(x, mask, ratio, training):
    return x * mask if training else x.copy()


def scaled_in_evaluation(x, mask, ratio, training):
    return x * mask / (1 - ratio) if training else x / (1 - ratio)


def mask_in_evaluation(x, mask, ratio, training):
    return x * mask / (1 - ratio)


def book_original_dropout(x, mask, ratio, training):
    """Non-inverted dropout: no scaling in training, times (1 - ratio) in evaluation."""
    return x * mask if training else x * (1 - ratio)


def times_keep_probability(x, mask, ratio, training):
    return x * mask * (1 - ratio) if training else x.copy()


def hard_coded_half(x, mask, ratio, training):
    return x * mask / 0.5 if training else x.copy()


def inverted_mask(x, mask, ratio, training):
    return x * ~mask / (1 - ratio) if training else x.copy()


def in_place(x, mask, ratio, training):
    if training:
        x *= mask / (1 - ratio)
    return x


def not_attempted(*args):
    raise NotImplementedError


@pytest.mark.parametrize("answer", [dropout_forward, dropout_forward_where])
@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_right_answers_pass(answer, hidden, capsys):
    assert check_dropout_forward(answer, hidden=hidden)
    out = capsys.readouterr().out
    assert out.startswith("dropout_forward: PASS (") and ("7 cases" if hidden else "3 cases") in out


@pytest.mark.parametrize("answer", [no_scaling, scaled_in_evaluation, mask_in_evaluation,
                                    book_original_dropout, times_keep_probability,
                                    hard_coded_half, inverted_mask])
@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_typical_mistakes_fail(answer, hidden):
    with pytest.raises(ExerciseFailed, match="dropout_forward"):
        check_dropout_forward(answer, hidden=hidden)


def test_changing_x_in_place_is_reported():
    with pytest.raises(ExerciseFailed, match="x"):
        check_dropout_forward(in_place)


def test_skeleton_is_not_attempted(capsys, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    verdict = check_dropout_forward(not_attempted)
    assert not verdict and not verdict.attempted
    assert "not attempted yet" in capsys.readouterr().out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ExerciseNotAttempted):
        check_dropout_forward(not_attempted, hidden=True)


def test_reference_is_the_layer_with_the_given_mask():
    rng = np.random.default_rng(5)
    x = rng.standard_normal((6, 4))
    mask = rng.random((6, 4)) >= 0.3
    out = dropout_forward_reference(x, mask, 0.3, True)
    np.testing.assert_allclose(out, np.where(mask, x / 0.7, 0.0), rtol=1e-15, atol=0)
    np.testing.assert_array_equal(dropout_forward_reference(x, mask, 0.3, False), x)


def test_reference_mask_is_the_one_a_seeded_layer_draws():
    # The mask a seeded Dropout layer draws, passed in, gives the layer's output.
    layer = Dropout(0.4, seed=3)
    x = np.arange(12.0).reshape(3, 4) + 1
    out = layer.forward(x)
    np.testing.assert_array_equal(dropout_forward_reference(x, layer.mask, 0.4, True), out)
