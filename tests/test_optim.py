"""Tests for tinynet.optim: SGD with L2 weight decay."""

import numpy as np
import pytest

from tinynet.gradcheck import numerical_gradient
from tinynet.layers import Convolution
from tinynet.optim import SGD, is_bias


def make_params(rng):
    """Non-zero parameters and gradients with TinyNet's names and shapes."""
    shapes = {
        "W_conv1": (3, 1, 3, 3), "b_conv1": (3,),
        "W_conv2": (4, 3, 3, 3), "b_conv2": (4,),
        "W_fc": (16, 5), "b_fc": (5,),
    }
    params = {name: rng.normal(0, 1, shape) for name, shape in shapes.items()}
    grads = {name: rng.normal(0, 1, shape) for name, shape in shapes.items()}
    return params, grads


@pytest.mark.parametrize("learning_rate, weight_decay", [(0.1, 0.0), (0.05, 0.01), (1.0, 0.5), (0.0, 0.3)])
def test_step_equals_formula(learning_rate, weight_decay):
    rng = np.random.default_rng(0)
    params, grads = make_params(rng)
    before = {k: v.copy() for k, v in params.items()}
    SGD(learning_rate, weight_decay).step(params, grads)
    for name, p in params.items():
        expected = before[name] - learning_rate * (grads[name] + weight_decay * before[name])
        np.testing.assert_allclose(p, expected, rtol=1e-14, atol=1e-15, err_msg=name)


def test_step_updates_in_place_and_leaves_grads_alone():
    rng = np.random.default_rng(1)
    params, grads = make_params(rng)
    ids = {name: id(p) for name, p in params.items()}
    grads_before = {k: v.copy() for k, v in grads.items()}
    layer = Convolution(params["W_conv1"], params["b_conv1"])
    W_before = layer.W.copy()
    SGD(0.1, 0.01).step(params, grads)
    assert {name: id(p) for name, p in params.items()} == ids
    # a layer holding a reference sees the update
    assert layer.W is params["W_conv1"]
    assert not np.array_equal(layer.W, W_before)
    for name in grads:
        np.testing.assert_array_equal(grads[name], grads_before[name], err_msg=name)


def test_step_in_place_keeps_float32():
    rng = np.random.default_rng(2)
    params, grads = make_params(rng)
    params = {k: v.astype(np.float32) for k, v in params.items()}
    expected = {k: v - np.float32(0.1) * (grads[k] + 0.01 * v) for k, v in params.items()}
    SGD(0.1, 0.01).step(params, grads)
    for name, p in params.items():
        assert p.dtype == np.float32
        np.testing.assert_allclose(p, expected[name], rtol=1e-6, atol=1e-6, err_msg=name)


def test_decay_biases_false_leaves_bias_gradient_undecayed():
    rng = np.random.default_rng(3)
    params, grads = make_params(rng)
    params["b"] = rng.normal(size=2)
    grads["b"] = rng.normal(size=2)
    before = {k: v.copy() for k, v in params.items()}
    learning_rate, weight_decay = 0.2, 0.1
    optimizer = SGD(learning_rate, weight_decay, decay_biases=False)
    optimizer.step(params, grads)
    for name, p in params.items():
        if name.startswith("b"):
            assert not optimizer.decays(name)
            expected = before[name] - learning_rate * grads[name]
        else:
            assert optimizer.decays(name)
            expected = before[name] - learning_rate * (grads[name] + weight_decay * before[name])
        np.testing.assert_allclose(p, expected, rtol=1e-14, atol=1e-15, err_msg=name)


def test_is_bias_names():
    assert is_bias("b") and is_bias("b_fc") and is_bias("b_conv1")
    assert not is_bias("W_fc") and not is_bias("beta") and not is_bias("bias_like")


@pytest.mark.parametrize("decay_biases", [True, False])
def test_penalty_is_half_lambda_sum_of_squares(decay_biases):
    rng = np.random.default_rng(4)
    params, _ = make_params(rng)
    weight_decay = 0.03
    expected = 0.5 * weight_decay * sum(
        np.sum(p ** 2) for name, p in params.items() if decay_biases or not name.startswith("b_")
    )
    assert SGD(0.1, weight_decay, decay_biases).penalty(params) == pytest.approx(expected, rel=1e-12)
    assert SGD(0.1, 0.0, decay_biases).penalty(params) == 0


@pytest.mark.parametrize("decay_biases", [True, False])
def test_weight_decay_adds_the_gradient_of_the_penalty(decay_biases):
    """The extra step term is exactly the numerical gradient of the penalty."""
    rng = np.random.default_rng(5)
    params, grads = make_params(rng)
    learning_rate, weight_decay = 0.1, 0.2
    optimizer = SGD(learning_rate, weight_decay, decay_biases)
    plain = {k: v.copy() for k, v in params.items()}
    decayed = {k: v.copy() for k, v in params.items()}
    SGD(learning_rate, 0.0).step(plain, grads)
    optimizer.step(decayed, grads)
    probe = {k: v.copy() for k, v in params.items()}
    for name in params:
        added = (plain[name] - decayed[name]) / learning_rate  # what weight decay added to g
        np.testing.assert_allclose(
            added, weight_decay * params[name] if optimizer.decays(name) else 0.0,
            rtol=1e-12, atol=1e-13, err_msg=name,
        )
        numeric = numerical_gradient(lambda: optimizer.penalty(probe), probe[name])
        np.testing.assert_allclose(added, numeric, rtol=1e-6, atol=1e-8, err_msg=name)
    for name in params:  # numerical_gradient restores what it perturbs
        np.testing.assert_array_equal(probe[name], params[name])


def test_step_rejects_mismatched_grads():
    rng = np.random.default_rng(6)
    params, grads = make_params(rng)
    del grads["b_fc"]
    with pytest.raises(ValueError, match=r"grads is missing gradients for \['b_fc'\]"):
        SGD().step(params, grads)
    params, grads = make_params(rng)
    grads["W_fc"] = grads["W_fc"].T
    with pytest.raises(ValueError, match=r"grads\['W_fc'\] has shape \(5, 16\) but the parameter has \(16, 5\)"):
        SGD().step(params, grads)


def test_constructor_rejects_bad_arguments():
    with pytest.raises(ValueError, match="learning_rate must be >= 0"):
        SGD(learning_rate=-1)
    with pytest.raises(ValueError, match="weight_decay must be >= 0"):
        SGD(weight_decay=-0.1)
    with pytest.raises(TypeError, match="learning_rate must be a real number"):
        SGD(learning_rate="0.1")
    with pytest.raises(ValueError, match="learning_rate must be finite"):
        SGD(learning_rate=float("nan"))
    with pytest.raises(TypeError, match="decay_biases must be True or False"):
        SGD(decay_biases="no")
