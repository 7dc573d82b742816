"""Tests for tinynet.layers: gradients, properties and behaviour of each layer."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinynet.gradcheck import check_layer
from tinynet.layers import Convolution, FullyConnected, MaxPool, Relu, SoftmaxWithLoss
from grids import CONV_GRID, POOL_GRID, conv_id, pool_id

TOLERANCE = 1e-6
PROPERTY_SETTINGS = settings(max_examples=40, deadline=None)


class LossLayer:
    """SoftmaxWithLoss with fixed labels, as a one-input layer for check_layer."""

    def __init__(self, t):
        self.inner = SoftmaxWithLoss()
        self.t = t

    def forward(self, x):
        return np.asarray(self.inner.forward(x, self.t))

    def backward(self, dout):
        return self.inner.backward(dout)


def assert_gradients_ok(report):
    assert report.passed, str(report)
    assert max(report.errors.values()) < TOLERANCE, str(report)


# -- 1. gradient checks ------------------------------------------------------

@pytest.mark.parametrize("case", CONV_GRID, ids=conv_id)
def test_convolution_gradients(case, rng):
    N, C, F, H, W, KH, KW, stride, pad = case
    layer = Convolution(rng.standard_normal((F, C, KH, KW)), rng.standard_normal(F),
                        stride=stride, pad=pad)
    report = check_layer(layer, rng.standard_normal((N, C, H, W)), rng=rng)
    assert set(report.errors) == {"x", "W", "b"}
    assert_gradients_ok(report)


@pytest.mark.parametrize("case", POOL_GRID, ids=pool_id)
def test_maxpool_gradients(case, rng, distinct):
    N, C, H, W, ph, pw, stride, pad = case
    layer = MaxPool(ph, pw, stride=stride, pad=pad)
    report = check_layer(layer, distinct((N, C, H, W)), rng=rng)
    assert set(report.errors) == {"x"}
    assert_gradients_ok(report)


@pytest.mark.parametrize("x_shape, out_features", [
    ((3, 6), 4),
    ((1, 6), 2),
    ((2, 2, 3, 3), 5),
    ((1, 3, 2, 2), 3),
])
def test_fully_connected_gradients(x_shape, out_features, rng):
    D = int(np.prod(x_shape[1:]))
    layer = FullyConnected(rng.standard_normal((D, out_features)),
                           rng.standard_normal(out_features))
    report = check_layer(layer, rng.standard_normal(x_shape), rng=rng)
    assert set(report.errors) == {"x", "W", "b"}
    assert_gradients_ok(report)


@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4, 3)])
def test_relu_gradient(shape, rng, distinct):
    report = check_layer(Relu(), distinct(shape), rng=rng)
    assert_gradients_ok(report)


@pytest.mark.parametrize("one_hot", [False, True], ids=["indices", "one-hot"])
@pytest.mark.parametrize("N, K", [(1, 2), (4, 3), (5, 10)])
def test_softmax_with_loss_gradient(N, K, one_hot, rng):
    labels = rng.integers(0, K, size=N)
    t = np.eye(K)[labels] if one_hot else labels
    report = check_layer(LossLayer(t), 2 * rng.standard_normal((N, K)), rng=rng)
    assert_gradients_ok(report)


# -- 3. convolution forward against an independent loop ----------------------

def conv_by_definition(x, W, b, stride, pad):
    """out[n, f, oh, ow] = b[f] + sum_{c,i,j} W[f,c,i,j] * x[n, c, oh*s+i-pad, ow*s+j-pad].

    Cells outside x count as 0 (zero padding); written without the package.
    """
    N, C, H, W_in = x.shape
    F, _, KH, KW = W.shape
    OH = (H + 2 * pad - KH) // stride + 1
    OW = (W_in + 2 * pad - KW) // stride + 1
    out = np.zeros((N, F, OH, OW))
    for n in range(N):
        for f in range(F):
            for oh in range(OH):
                for ow in range(OW):
                    total = b[f]
                    for c in range(C):
                        for i in range(KH):
                            for j in range(KW):
                                r = oh * stride + i - pad
                                q = ow * stride + j - pad
                                if 0 <= r < H and 0 <= q < W_in:
                                    total += W[f, c, i, j] * x[n, c, r, q]
                    out[n, f, oh, ow] = total
    return out


@pytest.mark.parametrize("stride, pad, KH, KW", [
    (1, 0, 3, 3), (1, 1, 3, 3), (2, 1, 3, 3), (2, 2, 2, 3), (3, 0, 1, 1), (1, 2, 5, 5),
])
def test_convolution_forward_matches_definition(stride, pad, KH, KW, rng):
    x = rng.standard_normal((2, 2, 5, 4))
    W = rng.standard_normal((3, 2, KH, KW))
    b = rng.standard_normal(3)
    out = Convolution(W, b, stride=stride, pad=pad).forward(x)
    np.testing.assert_allclose(out, conv_by_definition(x, W, b, stride, pad),
                               rtol=1e-12, atol=1e-12)


def test_convolution_hand_computed_example():
    # 3x3 image, 2x2 kernel [[1, 0], [0, -1]]: each output is top-left minus bottom-right.
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    W = np.array([[[[1.0, 0.0], [0.0, -1.0]]]])
    out = Convolution(W, np.array([0.5])).forward(x)
    np.testing.assert_array_equal(out, np.full((1, 1, 2, 2), 1 - 5 + 0.5))


# -- 4. property tests -------------------------------------------------------

@st.composite
def window_geometry(draw, max_pad=2):
    """Input size, window, stride and pad such that the window fits."""
    KH = draw(st.integers(1, 5))
    KW = draw(st.integers(1, 5))
    pad = draw(st.integers(0, max_pad))
    H = draw(st.integers(max(1, KH - 2 * pad), 9))
    W = draw(st.integers(max(1, KW - 2 * pad), 9))
    stride = draw(st.integers(1, 4))
    return H, W, KH, KW, stride, pad


@PROPERTY_SETTINGS
@given(geometry=window_geometry(), N=st.integers(1, 3), C=st.integers(1, 3),
       F=st.integers(1, 3), seed=st.integers(0, 2**32 - 1))
def test_convolution_output_size_formula(geometry, N, C, F, seed):
    H, W, KH, KW, stride, pad = geometry
    rng = np.random.default_rng(seed)
    layer = Convolution(rng.standard_normal((F, C, KH, KW)), rng.standard_normal(F),
                        stride=stride, pad=pad)
    out = layer.forward(rng.standard_normal((N, C, H, W)))
    OH = (H + 2 * pad - KH) // stride + 1
    OW = (W + 2 * pad - KW) // stride + 1
    assert out.shape == (N, F, OH, OW)
    assert layer.backward(np.ones(out.shape)).shape == (N, C, H, W)


@st.composite
def pool_geometry(draw):
    ph = draw(st.integers(1, 4))
    pw = draw(st.integers(1, 4))
    pad = draw(st.integers(0, min(ph, pw) - 1))
    H = draw(st.integers(max(1, ph - 2 * pad), 9))
    W = draw(st.integers(max(1, pw - 2 * pad), 9))
    stride = draw(st.integers(1, 4))
    return H, W, ph, pw, stride, pad


@PROPERTY_SETTINGS
@given(geometry=pool_geometry(), seed=st.integers(0, 2**32 - 1))
def test_maxpool_output_size_formula(geometry, seed):
    H, W, ph, pw, stride, pad = geometry
    x = np.random.default_rng(seed).standard_normal((2, 3, H, W))
    out = MaxPool(ph, pw, stride=stride, pad=pad).forward(x)
    assert out.shape == (2, 3, (H + 2 * pad - ph) // stride + 1, (W + 2 * pad - pw) // stride + 1)


@PROPERTY_SETTINGS
@given(geometry=pool_geometry(), seed=st.integers(0, 2**32 - 1), integers=st.booleans())
def test_maxpool_value_is_max_of_its_window(geometry, seed, integers):
    H, W, ph, pw, stride, pad = geometry
    rng = np.random.default_rng(seed)
    # small integers give many ties; normals give none
    x = rng.integers(-3, 3, size=(2, 2, H, W)) * 1.0 if integers else rng.standard_normal((2, 2, H, W))
    out = MaxPool(ph, pw, stride=stride, pad=pad).forward(x)
    for n, c, oh, ow in np.ndindex(*out.shape):
        # the window in input coordinates, clipped to the real (unpadded) cells
        top, left = oh * stride - pad, ow * stride - pad
        window = x[n, c, max(top, 0):top + ph, max(left, 0):left + pw]
        assert window.size > 0
        assert out[n, c, oh, ow] == window.max()
        assert out[n, c, oh, ow] in window


@PROPERTY_SETTINGS
@given(
    x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=2, max_dims=2, max_side=6),
                 elements=st.floats(-50, 50)),
    shift=st.floats(-100, 100),
    seed=st.integers(0, 2**32 - 1),
)
def test_softmax_rows_sum_to_one_and_ignore_a_shift(x, shift, seed):
    N, K = x.shape
    t = np.random.default_rng(seed).integers(0, K, size=N)
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    y = layer.y.copy()
    assert np.all(y >= 0)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-12)
    shifted_loss = layer.forward(x + shift, t)
    np.testing.assert_allclose(layer.y, y, rtol=1e-9, atol=1e-12)
    assert shifted_loss == pytest.approx(loss, rel=1e-9, abs=1e-9)
    # a different constant per row changes nothing either
    row_shift = np.random.default_rng(seed).uniform(-100, 100, size=(N, 1))
    assert layer.forward(x + row_shift, t) == pytest.approx(loss, rel=1e-9, abs=1e-9)


@PROPERTY_SETTINGS
@given(x=hnp.arrays(np.float64, hnp.array_shapes(min_dims=1, max_dims=4, max_side=5),
                    elements=st.floats(-1e6, 1e6)))
def test_relu_properties(x):
    out = Relu().forward(x)
    assert out.shape == x.shape
    assert np.all(out >= 0)
    np.testing.assert_array_equal(out[x > 0], x[x > 0])
    np.testing.assert_array_equal(out[x <= 0], 0.0)


# -- 5. specific behaviour: max pooling --------------------------------------

def test_maxpool_tie_sends_gradient_to_first_maximum():
    x = np.array([[[[5.0, 5.0, 1.0, 7.0],
                    [5.0, 1.0, 7.0, 2.0]]]])  # two 2x2 windows, each with a tie
    layer = MaxPool(2, 2, stride=2)
    np.testing.assert_array_equal(layer.forward(x), [[[[5.0, 7.0]]]])
    dx = layer.backward(np.array([[[[3.0, 4.0]]]]))
    np.testing.assert_array_equal(dx, [[[[3.0, 0.0, 0.0, 4.0],
                                          [0.0, 0.0, 0.0, 0.0]]]])


def test_maxpool_all_equal_window_routes_everything_to_top_left():
    layer = MaxPool(3, 3, stride=3)
    layer.forward(np.full((1, 1, 3, 3), 2.0))
    dx = layer.backward(np.ones((1, 1, 1, 1)))
    expected = np.zeros((1, 1, 3, 3))
    expected[0, 0, 0, 0] = 1.0
    np.testing.assert_array_equal(dx, expected)


@pytest.mark.parametrize("ph, pw, stride, pad", [(2, 2, 2, 1), (3, 3, 1, 1), (3, 3, 2, 2), (2, 3, 1, 1)])
def test_maxpool_padding_never_wins(ph, pw, stride, pad, rng):
    x = -1.0 - rng.random((2, 2, 5, 4))  # all negative: a zero pad would win
    layer = MaxPool(ph, pw, stride=stride, pad=pad)
    out = layer.forward(x)
    assert np.all(out < 0)
    assert np.all(np.isin(out, x))
    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    # every output's gradient lands on a real cell: nothing is lost in the padding
    np.testing.assert_allclose(dx.sum(axis=(2, 3)), dout.sum(axis=(2, 3)), rtol=1e-12)


def test_maxpool_odd_size_floors(distinct):
    x = distinct((1, 1, 5, 5))
    layer = MaxPool(2, 2, stride=2)
    out = layer.forward(x)
    assert out.shape == (1, 1, 2, 2)
    expected = x[0, 0, :4, :4].reshape(2, 2, 2, 2).max(axis=(1, 3))
    np.testing.assert_array_equal(out[0, 0], expected)
    dx = layer.backward(np.ones(out.shape))
    # the last row and column belong to no window
    assert np.all(dx[..., 4, :] == 0) and np.all(dx[..., :, 4] == 0)
    assert dx.sum() == 4


# -- 5. specific behaviour: dtypes -------------------------------------------

def make_case(name, dtype, rng):
    """A layer with parameters of ``dtype``, an input for it and labels if needed."""
    def arr(*shape):
        return rng.standard_normal(shape).astype(dtype)

    if name == "Convolution":
        return Convolution(arr(2, 3, 3, 3), arr(2), stride=2, pad=1), arr(2, 3, 5, 6), None
    if name == "MaxPool":
        return MaxPool(3, 3, stride=2, pad=1), arr(2, 3, 5, 6), None
    if name == "FullyConnected":
        return FullyConnected(arr(12, 4), arr(4)), arr(2, 3, 2, 2), None
    if name == "Relu":
        return Relu(), arr(2, 3, 4), None
    return SoftmaxWithLoss(), arr(4, 3), np.array([0, 2, 1, 2])


LAYER_NAMES = ["Convolution", "MaxPool", "FullyConnected", "Relu", "SoftmaxWithLoss"]


def run(layer, x, t, rng):
    """Forward and backward once; returns (out, dx)."""
    if t is not None:
        return layer.forward(x, t), layer.backward()
    out = layer.forward(x)
    return out, layer.backward(rng.standard_normal(out.shape).astype(out.dtype))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", LAYER_NAMES)
def test_float_dtype_is_kept(name, dtype, rng):
    layer, x, t = make_case(name, dtype, rng)
    out, dx = run(layer, x, t, rng)
    if t is None:
        assert out.dtype == dtype
    else:
        assert isinstance(out, float) and layer.y.dtype == dtype
    assert dx.dtype == dtype
    assert dx.shape == x.shape
    for grad in ("dW", "db"):
        if hasattr(layer, grad):
            assert getattr(layer, grad).dtype == dtype


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_float32_agrees_with_float64(name):
    layer32, x32, t = make_case(name, np.float32, np.random.default_rng(5))
    layer64, x64, _ = make_case(name, np.float64, np.random.default_rng(5))
    out32, dx32 = run(layer32, x32, t, np.random.default_rng(6))
    out64, dx64 = run(layer64, x32.astype(np.float64), t, np.random.default_rng(6))
    np.testing.assert_allclose(out32, out64, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(dx32, dx64, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_integer_input_is_computed_in_float64(name, rng):
    layer, x, t = make_case(name, np.float64, np.random.default_rng(3))
    reference, _, _ = make_case(name, np.float64, np.random.default_rng(3))
    x_int = rng.integers(-5, 6, size=x.shape)
    out = layer.forward(x_int, t) if t is not None else layer.forward(x_int)
    expected = (reference.forward(x_int.astype(np.float64), t) if t is not None
                else reference.forward(x_int.astype(np.float64)))
    if t is None:
        assert out.dtype == np.float64
    else:
        assert layer.y.dtype == np.float64
    np.testing.assert_array_equal(out, expected)


# -- 5. specific behaviour: nothing passed in is modified --------------------

@pytest.mark.parametrize("name", LAYER_NAMES)
def test_layers_do_not_modify_their_arguments(name, rng):
    layer, x, t = make_case(name, np.float64, rng)
    given = {"x": x}
    for attr in ("W", "b"):
        if hasattr(layer, attr):
            given[attr] = getattr(layer, attr)
    if t is not None:
        given["t"] = t
    copies = {key: value.copy() for key, value in given.items()}

    if t is not None:
        layer.forward(x, t)
        dout = np.float64(2.0)
    else:
        out = layer.forward(x)
        dout = rng.standard_normal(out.shape)
    given["dout"] = np.asarray(dout)
    copies["dout"] = given["dout"].copy()
    dx_first = layer.backward(given["dout"])
    dx_first = dx_first.copy()
    # a second backward must not see caches altered by the first
    np.testing.assert_array_equal(layer.backward(given["dout"]), dx_first,
                                  err_msg=f"{name}.backward changed its own cache")

    for key, value in given.items():
        np.testing.assert_array_equal(value, copies[key], err_msg=f"{name} modified {key}")


@pytest.mark.parametrize("name", LAYER_NAMES)
def test_layers_work_on_read_only_arrays(name, rng):
    layer, x, t = make_case(name, np.float64, rng)
    for array in [x, t, getattr(layer, "W", None), getattr(layer, "b", None)]:
        if array is not None:
            array.flags.writeable = False
    out, dx = run(layer, x, t, rng)
    assert dx.shape == x.shape


# -- 5. specific behaviour: FullyConnected -----------------------------------

def test_fully_connected_flattens_4d_input_and_restores_its_shape(rng):
    x = rng.standard_normal((2, 3, 2, 2))
    W = rng.standard_normal((12, 4))
    b = rng.standard_normal(4)
    layer = FullyConnected(W, b)
    out = layer.forward(x)
    np.testing.assert_allclose(out, x.reshape(2, 12) @ W + b, rtol=1e-12)
    dout = rng.standard_normal((2, 4))
    dx = layer.backward(dout)
    assert dx.shape == (2, 3, 2, 2)
    # element (n, c, h, w) of the input is feature c*4 + h*2 + w
    for n, c, h, w in np.ndindex(*x.shape):
        assert dx[n, c, h, w] == pytest.approx(dout[n] @ W[c * 4 + h * 2 + w])
    np.testing.assert_allclose(layer.dW, x.reshape(2, 12).T @ dout, rtol=1e-12)
    np.testing.assert_allclose(layer.db, dout.sum(axis=0), rtol=1e-12)


# -- 5. specific behaviour: SoftmaxWithLoss ----------------------------------

def test_index_labels_and_one_hot_give_identical_results(rng):
    x = rng.standard_normal((5, 4))
    labels = np.array([3, 0, 0, 2, 1])
    by_index, by_one_hot = SoftmaxWithLoss(), SoftmaxWithLoss()
    assert by_index.forward(x, labels) == by_one_hot.forward(x, np.eye(4)[labels])
    np.testing.assert_array_equal(by_index.y, by_one_hot.y)
    np.testing.assert_array_equal(by_index.backward(), by_one_hot.backward())


def test_integer_one_hot_and_float_index_labels_are_accepted(rng):
    x = rng.standard_normal((3, 3))
    labels = np.array([2, 0, 1])
    expected = SoftmaxWithLoss().forward(x, labels)
    assert SoftmaxWithLoss().forward(x, np.eye(3, dtype=int)[labels]) == expected
    assert SoftmaxWithLoss().forward(x, labels.astype(float)) == expected
    assert SoftmaxWithLoss().forward(x, list(labels)) == expected


def test_loss_is_mean_negative_log_softmax(rng):
    x = 3 * rng.standard_normal((6, 5))
    t = rng.integers(0, 5, size=6)
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    # straight from the definition, no stability tricks (the logits are small)
    probabilities = np.exp(x) / np.exp(x).sum(axis=1, keepdims=True)
    expected = -np.mean([np.log(probabilities[n, t[n]]) for n in range(6)])
    assert loss == pytest.approx(expected, rel=1e-12)
    np.testing.assert_allclose(layer.y, probabilities, rtol=1e-12)
    one_hot = np.eye(5)[t]
    np.testing.assert_allclose(layer.backward(), (probabilities - one_hot) / 6, rtol=1e-10, atol=1e-15)


def test_backward_scales_with_dout(rng):
    layer = SoftmaxWithLoss()
    layer.forward(rng.standard_normal((4, 3)), np.array([0, 1, 2, 1]))
    dx1 = layer.backward()
    np.testing.assert_allclose(layer.backward(dout=2), 2 * dx1, rtol=1e-15)
    np.testing.assert_allclose(layer.backward(np.float64(-0.5)), -0.5 * dx1, rtol=1e-15)
    np.testing.assert_array_equal(layer.backward(1), dx1)


def test_gradient_rows_sum_to_zero(rng):
    layer = SoftmaxWithLoss()
    layer.forward(rng.standard_normal((4, 6)), rng.integers(0, 6, size=4))
    np.testing.assert_allclose(layer.backward().sum(axis=1), 0, atol=1e-15)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_huge_logits_stay_finite(dtype):
    x = np.array([[1e4, 0.0, -1e4], [1e4, 0.0, -1e4], [-1e4, 1e4, 1e4]], dtype=dtype)
    t = np.array([0, 1, 0])
    layer = SoftmaxWithLoss()
    loss = layer.forward(x, t)
    assert np.isfinite(loss)
    # sample 0 is certain and right (0), sample 1 is off by 1e4, sample 2 by 2e4 + log 2
    assert loss == pytest.approx((0 + 1e4 + 2e4 + np.log(2)) / 3, rel=1e-6)
    assert np.all(np.isfinite(layer.y))
    dx = layer.backward()
    assert np.all(np.isfinite(dx))
    np.testing.assert_allclose(dx[0], 0, atol=1e-7)


# -- 6. Sigmoid, Tanh and Dropout ---------------------------------------------

from tinynet.layers import Dropout, Sigmoid, Tanh  # noqa: E402


class FixedMaskDropout:
    """A Dropout layer whose generator is reseeded before every forward.

    A numerical gradient calls forward many times; a fresh mask each time
    would make the function random. Reseeding gives the same mask every time.
    """

    def __init__(self, ratio, seed):
        self.inner = Dropout(ratio, seed=seed)
        self.seed = seed

    def forward(self, x):
        self.inner.rng = np.random.default_rng(self.seed)
        return self.inner.forward(x)

    def backward(self, dout):
        return self.inner.backward(dout)


@pytest.mark.parametrize("layer_class", [Sigmoid, Tanh])
@pytest.mark.parametrize("shape", [(4, 5), (2, 3, 4, 3)])
def test_sigmoid_and_tanh_gradients(layer_class, shape, rng):
    report = check_layer(layer_class(), 2 * rng.standard_normal(shape), rng=rng)
    assert set(report.errors) == {"x"}
    assert_gradients_ok(report)


def test_sigmoid_matches_its_definition_and_is_stable(rng):
    x = 3 * rng.standard_normal((5, 4))
    np.testing.assert_allclose(Sigmoid().forward(x), 1 / (1 + np.exp(-x)), rtol=1e-14)
    big = np.array([[-1000.0, -40.0, 0.0, 40.0, 1000.0]])
    with np.errstate(over="raise", invalid="raise", divide="raise"):  # no overflow warning
        out = Sigmoid().forward(big)
    np.testing.assert_allclose(out, [[0.0, np.exp(-40.0) / (1 + np.exp(-40.0)), 0.5,
                                      1 / (1 + np.exp(-40.0)), 1.0]], rtol=1e-14, atol=0)
    assert out[0, 0] == 0.0 and out[0, -1] == 1.0


def test_sigmoid_and_tanh_hand_values():
    x = np.array([[0.0, np.log(3.0)]])
    np.testing.assert_allclose(Sigmoid().forward(x), [[0.5, 0.75]], rtol=1e-15)
    layer = Tanh()
    np.testing.assert_allclose(layer.forward(x), [[0.0, 0.8]], rtol=1e-15)
    # d tanh = 1 - tanh^2: 1 and 1 - 0.64
    np.testing.assert_allclose(layer.backward(np.ones((1, 2))), [[1.0, 0.36]], rtol=1e-14)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("layer_class", [Sigmoid, Tanh])
def test_sigmoid_and_tanh_keep_dtype_and_inputs(layer_class, dtype, rng):
    x = rng.standard_normal((3, 4)).astype(dtype)
    x.flags.writeable = False
    layer = layer_class()
    out = layer.forward(x)
    dout = rng.standard_normal(out.shape).astype(dtype)
    copy = dout.copy()
    dx = layer.backward(dout)
    assert out.dtype == dtype and dx.dtype == dtype
    np.testing.assert_array_equal(dout, copy)


@pytest.mark.parametrize("shape", [(6, 5), (2, 3, 4, 4)])
@pytest.mark.parametrize("ratio", [0.2, 0.5])
def test_dropout_gradient_with_a_fixed_mask(shape, ratio, rng):
    report = check_layer(FixedMaskDropout(ratio, seed=3), rng.standard_normal(shape), rng=rng)
    assert_gradients_ok(report)


def test_dropout_is_inverted_dropout(rng):
    x = rng.standard_normal((40, 50)) + 3.0
    layer = Dropout(0.3, seed=1)
    out = layer.forward(x)
    kept = out != 0
    np.testing.assert_array_equal(kept, layer.mask)
    np.testing.assert_allclose(out[kept], x[kept] / 0.7, rtol=1e-15)
    assert abs(kept.mean() - 0.7) < 0.03          # 2000 draws: sd 0.01
    dout = rng.standard_normal(x.shape)
    np.testing.assert_allclose(layer.backward(dout), dout * kept / 0.7, rtol=1e-15)
    # the expected output equals x: average many masks of one input
    layer = Dropout(0.5, seed=2)
    x = np.full((1, 20000), 2.0)
    assert layer.forward(x).mean() == pytest.approx(2.0, abs=0.05)


def test_dropout_evaluation_mode_is_the_identity(rng):
    layer = Dropout(0.5, seed=0)
    layer.training = False
    x = rng.standard_normal((4, 6))
    out = layer.forward(x)
    np.testing.assert_array_equal(out, x)
    assert out is not x
    dout = rng.standard_normal((4, 6))
    np.testing.assert_array_equal(layer.backward(dout), dout)
    np.testing.assert_array_equal(Dropout(0.0).forward(x), x)


def test_dropout_is_seeded_by_its_own_generator(rng):
    x = rng.standard_normal((5, 7))
    a, b, c = Dropout(0.5, seed=4), Dropout(0.5, seed=4), Dropout(0.5, seed=5)
    first = a.forward(x)
    np.testing.assert_array_equal(first, b.forward(x))
    assert not np.array_equal(first, c.forward(x))
    assert not np.array_equal(first, a.forward(x))  # a new mask at every forward
    np.random.seed(0)  # the global state plays no part
    d = Dropout(0.5, seed=4)
    np.random.seed(1)
    np.testing.assert_array_equal(d.forward(x), first)
    generator = np.random.default_rng(4)
    np.testing.assert_array_equal(Dropout(0.5, seed=generator).forward(x), first)


@pytest.mark.parametrize("ratio, error, match", [
    (1.0, ValueError, r"ratio must be in \[0, 1\)"),
    (-0.1, ValueError, "ratio must be >= 0"),
    ("0.5", TypeError, "ratio must be a real number"),
])
def test_dropout_rejects_bad_ratios(ratio, error, match):
    with pytest.raises(error, match=match):
        Dropout(ratio)


def test_dropout_rejects_a_bad_seed_and_dout():
    with pytest.raises(ValueError, match="seed must be an integer >= 0"):
        Dropout(0.5, seed=-1)
    layer = Dropout(0.5)
    with pytest.raises(RuntimeError, match="before Dropout.forward"):
        layer.backward(np.ones((2, 2)))
    layer.forward(np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"dout must have the shape of Dropout's output \(2, 3\)"):
        layer.backward(np.ones((3, 2)))
