"""Tests for tinynet.gradcheck: numerical gradients, reports and compare()."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinynet import TinyNet, init_params
from tinynet.gradcheck import (
    GradientCheckError,
    GradientReport,
    check_layer,
    check_network,
    compare,
    numerical_gradient,
    relative_error,
)
from tinynet.layers import Convolution, FullyConnected, Relu


class ReluWithoutMask(Relu):
    """A broken ReLU: backward forgets the mask and passes every gradient."""

    def backward(self, dout):
        super().backward(dout)
        return np.array(dout, copy=True)


class FullyConnectedWithoutBatchSum(FullyConnected):
    """A broken layer: db is the first sample's gradient, not the batch sum."""

    def backward(self, dout):
        dx = super().backward(dout)
        self.db = np.array(dout[0], copy=True)
        return dx


# -- numerical_gradient ------------------------------------------------------

def test_numerical_gradient_of_a_cubic(rng):
    x = rng.standard_normal((3, 4))
    grad = numerical_gradient(lambda: float(np.sum(x ** 3)), x)
    np.testing.assert_allclose(grad, 3 * x ** 2, rtol=1e-7, atol=1e-8)


def test_numerical_gradient_restores_x_exactly(rng):
    x = rng.standard_normal(10)
    before = x.copy()
    numerical_gradient(lambda: float(np.sum(np.sin(x))), x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_of_a_function_of_several_entries(rng):
    x = rng.standard_normal(3)
    # f = x0 * x1 + x2^2 / 2  ->  (x1, x0, x2)
    grad = numerical_gradient(lambda: float(x[0] * x[1] + x[2] ** 2 / 2), x)
    np.testing.assert_allclose(grad, [x[1], x[0], x[2]], rtol=1e-8)


@pytest.mark.parametrize("make", [lambda a: a[:, :3], lambda a: a.T], ids=["slice", "transpose"])
def test_numerical_gradient_refuses_an_array_it_cannot_perturb_in_place(make):
    x = make(np.arange(16.0).reshape(4, 4))
    with pytest.raises(ValueError, match="contiguous"):
        numerical_gradient(lambda: float(np.sum(x)), x)


def test_numerical_gradient_works_on_a_strided_view_that_flattens(rng):
    base = rng.standard_normal((4, 4))
    x = base[:, ::2]  # every other column: one uniform stride, so reshape(-1) is a view
    grad = numerical_gradient(lambda: float(np.sum(x ** 2)), x)
    np.testing.assert_allclose(grad, 2 * x, rtol=1e-7)


# -- relative_error ----------------------------------------------------------

def test_relative_error_examples():
    assert relative_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert relative_error([0.0, 0.0], [0.0, 3.0]) == 1.0
    assert relative_error([1.0], [-1.0]) == 1.0
    assert relative_error([3.0, 0.0], [0.0, 4.0]) == pytest.approx(5 / 7)


# No magnitudes near underflow: scale * 1e-161 rounds to 0 and the scale
# invariance below would then compare against an all-zero vector.
vectors = hnp.arrays(np.float64, 5, elements=st.floats(-1e3, 1e3).filter(
    lambda v: v == 0 or abs(v) > 1e-100))


@settings(max_examples=50, deadline=None)
@given(a=vectors, n=vectors, scale=st.floats(1e-3, 1e3))
def test_relative_error_properties(a, n, scale):
    error = relative_error(a, n)
    assert 0.0 <= error <= 1.0 + 1e-15  # the triangle inequality, up to rounding
    assert error == relative_error(n, a)
    assert relative_error(scale * a, scale * n) == pytest.approx(error, rel=1e-9, abs=1e-12)


# -- check_layer and GradientReport ------------------------------------------

def test_check_layer_passes_a_correct_layer(rng):
    layer = Convolution(rng.standard_normal((2, 2, 3, 3)), rng.standard_normal(2), pad=1)
    report = check_layer(layer, rng.standard_normal((2, 2, 4, 4)))
    assert report.passed
    assert set(report.errors) == {"x", "W", "b"}
    assert "PASS" in str(report) and "hint" not in str(report)
    assert report.raise_if_failed() is report


def test_check_layer_catches_a_relu_that_forgets_its_mask(distinct):
    report = check_layer(ReluWithoutMask(), distinct((3, 4)))
    assert not report.passed
    assert report.errors["x"] > 0.1
    text = str(report)
    assert "FAIL" in text
    assert "BAD" in text
    assert "hint:" in text
    with pytest.raises(GradientCheckError, match="FAIL"):
        report.raise_if_failed()


def test_check_layer_marks_only_the_broken_gradient(rng):
    layer = FullyConnectedWithoutBatchSum(rng.standard_normal((4, 3)), rng.standard_normal(3))
    report = check_layer(layer, rng.standard_normal((5, 4)))
    assert not report.passed
    assert report.errors["x"] < 1e-6 and report.errors["W"] < 1e-6
    assert report.errors["b"] > 0.1
    bad_lines = [line for line in str(report).splitlines() if line.lstrip().startswith("BAD")]
    assert len(bad_lines) == 1 and "db" in bad_lines[0]


def test_gradient_check_error_is_an_assertion_error():
    report = GradientReport("Broken", {"x": 0.5}, 1e-6)
    with pytest.raises(AssertionError, match="gradient check of Broken: FAIL"):
        report.raise_if_failed()


def test_report_tolerance_is_inclusive():
    assert GradientReport("L", {"x": 1e-6}, 1e-6).passed
    assert not GradientReport("L", {"x": 1.1e-6, "W": 0.0}, 1e-6).passed


def test_check_layer_leaves_the_layer_parameters_and_x_alone(rng):
    W = rng.standard_normal((2, 1, 2, 2))
    b = rng.standard_normal(2)
    x = rng.standard_normal((1, 1, 3, 3))
    W_copy, b_copy, x_copy = W.copy(), b.copy(), x.copy()
    layer = Convolution(W, b)
    check_layer(layer, x)
    assert layer.W is W and layer.b is b
    np.testing.assert_array_equal(W, W_copy)
    np.testing.assert_array_equal(b, b_copy)
    np.testing.assert_array_equal(x, x_copy)


def test_check_layer_accepts_a_generator_and_is_reproducible(rng):
    layer = FullyConnected(rng.standard_normal((3, 2)), rng.standard_normal(2))
    x = rng.standard_normal((2, 3))
    first = check_layer(layer, x, rng=np.random.default_rng(7))
    second = check_layer(layer, x, rng=7)
    assert first.errors == second.errors


def test_check_layer_skips_missing_parameters(distinct):
    report = check_layer(Relu(), distinct((2, 3)))
    assert set(report.errors) == {"x"}


def test_check_network_passes_tinynet():
    params = init_params(input_shape=(1, 4, 4), conv1_filters=2, conv2_filters=2,
                         num_classes=3, rng=1)
    params = {k: v + 0.1 * np.random.default_rng(2).standard_normal(v.shape)  # non-zero biases
              for k, v in params.items()}
    x = np.random.default_rng(3).standard_normal((2, 1, 4, 4))
    t = np.array([0, 2])
    before = {k: v.copy() for k, v in params.items()}
    report = check_network(TinyNet, params, x, t)
    assert report.passed, str(report)
    assert set(report.errors) == set(params)
    for k in params:
        np.testing.assert_array_equal(params[k], before[k])


# -- compare -----------------------------------------------------------------

def test_compare_exact_match(capsys):
    a = np.array([1.0, 2.0, 3.0])
    assert compare("out", a, a.copy()) == 0.0
    assert capsys.readouterr().out.strip() == "out: exact match"


def test_compare_close(capsys):
    a = np.array([1.0, 2.0, 3.0])
    diff = compare("out", a + 1e-12, a)
    assert 0 < diff < 1e-11
    out = capsys.readouterr().out
    assert out.startswith("out: close")


def test_compare_mismatch_raises_with_hint(capsys):
    with pytest.raises(
        GradientCheckError, match=r"dx: FAIL, max difference 5\.000e-01.*Hint: check the mask"
    ):
        compare("dx", [1.0, 2.5], [1.0, 2.0], hint="check the mask")
    assert capsys.readouterr().out == ""


def test_compare_shape_mismatch_raises_with_hint():
    with pytest.raises(
        GradientCheckError, match=r"shape \(2, 3\) but expected \(3, 2\).*Hint: transpose"
    ):
        compare("W", np.zeros((2, 3)), np.zeros((3, 2)), hint="transpose?")


def test_compare_respects_tolerances():
    with pytest.raises(GradientCheckError):
        compare("x", [1.0 + 1e-5], [1.0])
    assert compare("x", [1.0 + 1e-5], [1.0], rtol=1e-4) == pytest.approx(1e-5)


# -- compare_all ---------------------------------------------------------------

def test_compare_all_prints_one_line_when_all_are_exact(capsys):
    from tinynet.gradcheck import compare_all

    pairs = [(f"d{k}", np.arange(3.0) * k, np.arange(3.0) * k) for k in range(12)]
    assert compare_all("conv backward", pairs) == 12
    assert capsys.readouterr().out == "conv backward: all 12 match (rtol=1e-07, atol=1e-09)\n"


def test_compare_all_returns_the_exact_count_but_prints_a_machine_independent_line(capsys):
    from tinynet.gradcheck import compare_all

    pairs = [("dx", np.ones(3), np.ones(3)), ("dW", np.ones(2) * (1 + 1e-12), np.ones(2))]
    assert compare_all("fc", pairs, rtol=1e-6) == 1
    assert capsys.readouterr().out == "fc: all 2 match (rtol=1e-06, atol=1e-09)\n"


def test_compare_all_names_every_failing_label_and_prints_nothing(capsys):
    from tinynet.gradcheck import compare_all

    pairs = [("dx", np.ones(3), np.ones(3)), ("dW", np.ones(2) + 1e-3, np.ones(2)),
             ("db", np.ones(4), np.ones(3))]
    with pytest.raises(GradientCheckError,
                       match=r"fc: 2 of 3 differ .*dW \(max difference 1\.000e-03\), "
                             r"db \(shape \(4,\), expected \(3,\)\)"):
        compare_all("fc", pairs)
    assert capsys.readouterr().out == ""


def test_compare_all_fails_on_nan():
    from tinynet.gradcheck import compare_all

    with pytest.raises(GradientCheckError, match="dx"):
        compare_all("t", [("dx", np.array([np.nan, 1.0]), np.array([0.0, 1.0]))])
