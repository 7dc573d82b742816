"""Tests for tinynet.exercises.regularization: right answers pass, typical mistakes are named."""


import numpy as np
import pytest
from notebook_cells import code_cell, run_cell

from tinynet.exercises import ExerciseFailed, ExerciseNotAttempted
from tinynet.exercises.regularization import (
    check_dropout_backward,
    check_dropout_forward,
    check_dropout_train_forward,
    dropout_backward_reference,
    dropout_forward_reference,
    dropout_train_forward_reference,
)
from tinynet.gradcheck import GradientCheckError, numerical_gradient, relative_error
from tinynet.layers import Dropout


def not_attempted(*args):
    raise NotImplementedError


# -- the forward pass in training mode, drawing its own mask ---------------------------

def dropout_train_forward(x, ratio, rng):
    mask = rng.random(x.shape) >= ratio
    return x * mask / (1 - ratio), mask


def dropout_train_forward_where(x, ratio, rng):
    keep = rng.uniform(size=x.shape) > ratio      # the same numbers; a tie has probability 0
    return np.where(keep, x / (1.0 - ratio), 0.0), keep


def dropout_train_forward_loops(x, ratio, rng):
    """One number at a time, in C order: the same stream as one rng.random(x.shape)."""
    mask = np.zeros(x.shape, dtype=bool)
    out = np.zeros_like(x)
    for index in np.ndindex(*x.shape):
        mask[index] = rng.random() >= ratio
        out[index] = x[index] / (1 - ratio) if mask[index] else 0.0
    return out, mask


@pytest.mark.parametrize("answer", [dropout_train_forward, dropout_train_forward_where,
                                    dropout_train_forward_loops], ids=lambda f: f.__name__)
@pytest.mark.parametrize("hidden, cases", [(False, 3), (True, 7)], ids=["visible", "hidden"])
def test_right_train_forward_answers_pass(answer, hidden, cases, capsys):
    assert check_dropout_train_forward(answer, hidden=hidden)
    assert capsys.readouterr().out == f"{answer.__name__}: PASS ({cases} cases)\n"


def test_train_forward_reference_is_a_seeded_layer():
    x = np.arange(1.0, 13.0).reshape(3, 4)
    out, mask = dropout_train_forward_reference(x, 0.4, np.random.default_rng(3))
    layer = Dropout(0.4, seed=3)
    np.testing.assert_array_equal(out, layer.forward(x))
    np.testing.assert_array_equal(mask, layer.mask)
    np.testing.assert_array_equal(mask, np.random.default_rng(3).random((3, 4)) >= 0.4)
    np.testing.assert_allclose(out, np.where(mask, x / 0.6, 0.0), rtol=1e-15)


def scaled(factor):
    """The right mask with a wrong factor: factor(ratio) instead of 1 / (1 - ratio)."""
    def student(x, ratio, rng):
        mask = rng.random(x.shape) >= ratio
        return x * mask * factor(ratio), mask
    return student


def keeps_with_probability_ratio(x, ratio, rng):
    mask = rng.random(x.shape) < ratio
    return x * mask / (1 - ratio), mask


def keeps_with_probability_ratio_and_divides_by_it(x, ratio, rng):
    mask = rng.random(x.shape) < ratio
    return x * mask / ratio, mask


def returns_the_dropped_units(x, ratio, rng):
    mask = rng.random(x.shape) >= ratio
    return x * mask / (1 - ratio), ~mask


def binomial_mask(x, ratio, rng):
    mask = rng.binomial(1, 1 - ratio, size=x.shape).astype(bool)
    return x * mask / (1 - ratio), mask


def transposed_draw(x, ratio, rng):
    mask = rng.random(x.shape[::-1]).T >= ratio
    return x * mask / (1 - ratio), mask


def one_draw_too_many(x, ratio, rng):
    rng.random()   # e.g. a first draw "to warm up"
    mask = rng.random(x.shape) >= ratio
    return x * mask / (1 - ratio), mask


def global_generator(x, ratio, rng):
    mask = np.random.default_rng(0).random(x.shape) >= ratio
    return x * mask / (1 - ratio), mask


def identity(x, ratio, rng):
    return x.copy(), rng.random(x.shape) >= ratio


TRAIN_FORWARD_MISTAKES = [
    (scaled(lambda ratio: 1.0), r"did not rescale them"),
    (scaled(lambda ratio: 1 / ratio), r"you divided by ratio, the probability of DROPPING"),
    (scaled(lambda ratio: 1 - ratio), r"multiplied the kept units by \(1 - ratio\)"),
    (scaled(lambda ratio: 2.0), r"result 1 \(out\) differs.*Hint: Draw mask = "
                                r"rng.random\(x.shape\) >= ratio"),
    (keeps_with_probability_ratio, r"keeps a unit with probability ratio"),
    (keeps_with_probability_ratio_and_divides_by_it, r"keeps a unit with probability ratio"),
    (returns_the_dropped_units, r"the mask you return is True for the DROPPED units"),
    (binomial_mask, r"not the one the generator's numbers give.*exactly that call: one "
                    r"rng.random\(x.shape\)"),
    (transposed_draw, r"not the one the generator's numbers give"),
    (one_draw_too_many, r"not the one the generator's numbers give"),
    (global_generator, r"drew nothing from rng"),
    (identity, r"your output is x unchanged"),
]


@pytest.mark.parametrize("student, message", TRAIN_FORWARD_MISTAKES,
                         ids=[f"{k}-{m[0].__name__}" for k, m in
                              enumerate(TRAIN_FORWARD_MISTAKES)])
@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_train_forward_mistakes_are_named(student, message, hidden):
    where = "hidden case 1" if hidden else "case 1"
    with pytest.raises(ExerciseFailed,
                       match=f"(?s)^{student.__name__}: FAIL on {where} of .*{message}"):
        check_dropout_train_forward(student, hidden=hidden)


def test_train_forward_float32_result_fails():
    def float32_out(x, ratio, rng):
        out, mask = dropout_train_forward(x, ratio, rng)
        return out.astype(np.float32), mask

    with pytest.raises(ExerciseFailed, match=r"(?s)^float32_out: FAIL on case 1 of .*float32"):
        check_dropout_train_forward(float32_out)


def test_train_forward_in_place_is_caught():
    def in_place(x, ratio, rng):
        mask = rng.random(x.shape) >= ratio
        x *= mask / (1 - ratio)
        return x.copy(), mask

    with pytest.raises(ExerciseFailed, match=r"changed its argument `x` in place"):
        check_dropout_train_forward(in_place)


def test_train_forward_skeleton_is_not_attempted(capsys, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    verdict = check_dropout_train_forward(not_attempted)
    assert not verdict and not verdict.attempted
    assert "not_attempted: not attempted yet" in capsys.readouterr().out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ExerciseNotAttempted):
        check_dropout_train_forward(not_attempted, hidden=True)


@pytest.mark.parametrize("dtype", [np.float64, np.int64])
def test_a_mask_of_zeros_and_ones_is_a_right_answer_too(dtype, capsys):
    def numeric_mask(x, ratio, rng):
        out, mask = dropout_train_forward(x, ratio, rng)
        return out, mask.astype(dtype)

    assert check_dropout_train_forward(numeric_mask, hidden=True)
    assert capsys.readouterr().out == "numeric_mask: PASS (7 cases)\n"


# -- the backward pass --------------------------------------------------------------------

def dropout_backward(dout, mask, ratio):
    return dout * mask / (1 - ratio)


def dropout_backward_where(dout, mask, ratio):
    return np.where(mask, dout, 0.0) * (1.0 / (1.0 - ratio))


@pytest.mark.parametrize("answer", [dropout_backward, dropout_backward_where],
                         ids=lambda f: f.__name__)
@pytest.mark.parametrize("hidden, cases", [(False, 3), (True, 6)], ids=["visible", "hidden"])
def test_right_backward_answers_pass(answer, hidden, cases, capsys):
    assert check_dropout_backward(answer, hidden=hidden)
    assert capsys.readouterr().out == f"{answer.__name__}: PASS ({cases} cases)\n"


def test_backward_reference_is_the_numerical_gradient(rng):
    """With the mask fixed, dropout is x -> x * mask / (1 - ratio): its gradient, numerically."""
    x = rng.standard_normal((4, 5))
    mask = rng.random((4, 5)) >= 0.3
    G = rng.standard_normal((4, 5))

    def loss():
        return float(np.sum(dropout_forward_reference(x, mask, 0.3, True) * G))

    np.testing.assert_allclose(dropout_backward_reference(G, mask, 0.3),
                               numerical_gradient(loss, x), rtol=1e-7, atol=1e-9)


def backward_with(transform):
    def student(dout, mask, ratio):
        return transform(dout, mask, ratio)
    return student


BACKWARD_MISTAKES = [
    (lambda dout, mask, ratio: dout * mask, r"without the factor 1 / \(1 - ratio\)"),
    (lambda dout, mask, ratio: dout * mask / ratio, r"you divided by ratio"),
    (lambda dout, mask, ratio: dout * mask * (1 - ratio), r"you multiplied by \(1 - ratio\)"),
    (lambda dout, mask, ratio: dout * ~mask / (1 - ratio), r"through the DROPPED units"),
    (lambda dout, mask, ratio: dout / (1 - ratio), r"did not apply the mask"),
    (lambda dout, mask, ratio: dout.copy(), r"returned dout unchanged"),
    (lambda dout, mask, ratio: 2 * dout * mask / (1 - ratio),
     r"result differs.*Hint: The gradient goes back"),
]


@pytest.mark.parametrize("transform, message", BACKWARD_MISTAKES,
                         ids=[m[1][:20] for m in BACKWARD_MISTAKES])
@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_backward_mistakes_are_named(transform, message, hidden):
    where = "hidden case 1" if hidden else "case 1"
    with pytest.raises(ExerciseFailed, match=f"(?s)^student: FAIL on {where} of .*{message}"):
        check_dropout_backward(backward_with(transform), hidden=hidden)


def test_backward_float32_and_in_place_fail():
    def float32(dout, mask, ratio):
        return (dout * mask / (1 - ratio)).astype(np.float32)

    with pytest.raises(ExerciseFailed, match=r"(?s)^float32: FAIL on case 1 of .*float32"):
        check_dropout_backward(float32)

    def in_place(dout, mask, ratio):
        dout[~mask] = 0
        dout /= 1 - ratio
        return dout

    with pytest.raises(ExerciseFailed, match=r"changed its argument `dout` in place"):
        check_dropout_backward(in_place)


def test_backward_skeleton_is_not_attempted(capsys, monkeypatch):
    monkeypatch.delenv("NBGRADER_EXECUTION", raising=False)
    assert not check_dropout_backward(not_attempted)
    assert "not attempted yet" in capsys.readouterr().out
    monkeypatch.setenv("NBGRADER_EXECUTION", "autograde")
    with pytest.raises(ExerciseNotAttempted):
        check_dropout_backward(not_attempted, hidden=True)


# -- the earlier exercise (mask handed in), kept for notebooks handed out before ---------

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


@pytest.mark.parametrize("answer", [dropout_forward, dropout_forward_where])
@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_right_answers_pass(answer, hidden, capsys):
    assert check_dropout_forward(answer, hidden=hidden)
    out = capsys.readouterr().out
    assert out == f"{answer.__name__}: PASS ({7 if hidden else 3} cases)\n"


@pytest.mark.parametrize("answer", [no_scaling, scaled_in_evaluation, mask_in_evaluation,
                                    book_original_dropout, times_keep_probability,
                                    hard_coded_half, inverted_mask])
@pytest.mark.parametrize("hidden", [False, True], ids=["visible", "hidden"])
def test_typical_mistakes_fail(answer, hidden):
    with pytest.raises(ExerciseFailed, match=f"^{answer.__name__}: FAIL"):
        check_dropout_forward(answer, hidden=hidden)


def test_changing_x_in_place_is_reported():
    with pytest.raises(ExerciseFailed, match="changed its argument `x` in place"):
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


# -- notebook 12's numerical gradient check of the student's backward pass ------------

def run_numerical_check(backward):
    """Run that cell as the notebook does (its setup cell's names), with ``backward``."""
    namespace = {"np": np, "rng": np.random.default_rng(0), "Dropout": Dropout,
                 "GradientCheckError": GradientCheckError,
                 "numerical_gradient": numerical_gradient, "relative_error": relative_error,
                 "my_dropout_backward": backward}
    cell = code_cell("12_regularization.ipynb", "numerical_gradient(", "my_dropout_backward(")
    return run_cell(cell, namespace)


@pytest.mark.parametrize("answer", [dropout_backward, dropout_backward_where],
                         ids=lambda f: f.__name__)
def test_numerical_check_cell_passes_a_right_backward(answer):
    assert run_numerical_check(answer) == (
        "numerical gradient check of my_dropout_backward: PASS "
        "(dx within 1e-7 of the central differences)\n")


@pytest.mark.parametrize("transform, message", BACKWARD_MISTAKES[:-1],
                         ids=[m[1][:20] for m in BACKWARD_MISTAKES[:-1]])
def test_numerical_check_cell_fails_a_wrong_backward(transform, message):
    with pytest.raises(GradientCheckError, match=r"^numerical gradient check of "
                                                 r"my_dropout_backward: FAIL \(relative error"):
        run_numerical_check(backward_with(transform))


def test_numerical_check_cell_waits_for_a_blank_exercise():
    assert run_numerical_check(not_attempted) == (
        "my_dropout_backward is not written yet: write it above, then run this cell again.\n")


def test_the_numerical_check_uses_one_fixed_mask():
    """Its premise: a Dropout layer seeded alike draws the same mask at every call."""
    x = np.ones((4, 6))
    layers = [Dropout(ratio=0.3, seed=7) for _ in range(3)]
    for layer in layers:
        layer.forward(x)
    assert all(np.array_equal(layers[0].mask, layer.mask) for layer in layers)
    assert 0 < layers[0].mask.sum() < x.size
