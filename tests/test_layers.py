"""Tests for tinynet.layers: gradients, properties and behaviour of each layer."""

import numpy as np
import pytest
from grids import CONV_GRID, POOL_GRID, conv_id, pool_id
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

from tinynet.gradcheck import check_layer
from tinynet.layers import Convolution, FullyConnected, MaxPool, Relu, SoftmaxWithLoss

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
    x = (
        rng.integers(-3, 3, size=(2, 2, H, W)) * 1.0
        if integers
        else rng.standard_normal((2, 2, H, W))
    )
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


@pytest.mark.parametrize(
    "ph, pw, stride, pad", [(2, 2, 2, 1), (3, 3, 1, 1), (3, 3, 2, 2), (2, 3, 1, 1)]
)
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
    np.testing.assert_allclose(
        layer.backward(), (probabilities - one_hot) / 6, rtol=1e-10, atol=1e-15
    )


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


# -- 7. Batch normalisation against PyTorch -----------------------------------
#
# The numbers below were made once with torch.nn.functional.batch_norm
# (float64) by tools/reference_batchnorm.py; PyTorch is not needed to run
# these tests. Per case: two training-mode calls on x1 then x2 (running
# statistics updated in place), autograd's gradients of sum(out2 * dout),
# then an evaluation-mode call on x1 and its gradients.

from tinynet.layers import BatchNormalization  # noqa: E402

# made with torch 2.13.0+cpu, float64, by tools/reference_batchnorm.py
TORCH_BN_2D = dict(
    momentum=0.1,
    eps=1e-05,
    x1=np.array(
        [
            [2.191, 3.143, 2.161],
            [-1.106, 3.311, 2.393],
            [0.426, 2.662, 2.229],
            [2.088, 1.557, 2.593],
            [0.027, 1.174, 0.536],
        ]
    ),
    x2=np.array(
        [
            [-0.401, -0.68, -0.846],
            [-1.091, -0.829, -0.696],
            [-0.838, -0.053, -0.197],
            [-2.056, -1.645, -0.787],
            [-0.911, -0.593, -0.591],
        ]
    ),
    gamma=np.array([1.635, 0.666, 0.887]),
    beta=np.array([1.021, 0.323, 0.332]),
    running_mean=np.array([-0.103, -0.33, 0.033]),
    running_var=np.array([1.141, 1.353, 1.093]),
    dout=np.array(
        [
            [-0.072, -0.945, -0.098],
            [0.095, 0.036, -0.506],
            [0.594, 0.891, 0.321],
            [-0.818, 0.732, -0.501],
            [0.879, -1.072, 0.914],
        ]
    ),
    out1=np.array(
        [
            [2.923272783614958, 0.9252163221055875, 0.546539203426755],
            [-1.3554783199315812, 1.0559975295949084, 0.8252239469598298],
            [0.6327069062234987, 0.5507772697105674, 0.6282226627381736],
            [2.7896023669739836, -0.3094205533590734, 1.0654694155228257],
            [0.11489626311914045, -0.6075705680519896, -1.4054552286475857],
        ]
    ),
    out2=np.array(
        [
            [2.9871742954811547, 0.4266107725627164, -0.5264565462142923],
            [0.9266331899495678, 0.2336357086646573, 0.05201821538563522],
            [1.682164928644483, 1.2386602025230058, 1.9764109223080604],
            [-1.9551380663373623, -0.8231941714750495, -0.29892313998498776],
            [1.4641656522621556, 0.5392874877246705, 0.45695054850558436],
        ]
    ),
    running_mean_after=np.array([-0.12410200000000002, -0.13005400000000006, 0.14280600000000002]),
    running_var_after=np.array([1.1402405730000003, 1.211325387, 0.953280992]),
    dx_train=np.array(
        [
            [-1.966908422840992, -1.1096212294491643, 0.5181824320812802],
            [-0.056596172541357, 0.12077014884315221, -1.7266895630041392],
            [0.9159760197724183, 1.4371392666488094, -0.7709580515383698],
            [-0.808883864731369, 0.8023801940950125, -1.3000785472070806],
            [1.9164124403412983, -1.2506683801378098, 3.2795437296683096],
        ]
    ),
    dgamma_train=np.array([1.8753676562616428, -0.5347603220306668, 1.334783230069154]),
    dbeta_train=np.array([0.678, -0.358, 0.13000000000000006]),
    out_eval=np.array(
        [
            [4.565767355815358, 2.303592806712585, 2.1654699057284477],
            [-0.48243266825409375, 2.4052530883723784, 2.3762350839665154],
            [1.8632884226996218, 2.012529738389009, 2.227245906246502],
            [4.408058953486225, 1.3438713381861995, 2.557929203137264],
            [1.252359757366376, 1.1121101008308365, 0.6892051874661164],
        ]
    ),
    dx_eval=np.array(
        [
            [-0.11024276667667592, -0.5718390843363392, -0.08903011839366674],
            [0.14545920603172516, 0.02178434606995578, -0.45968612150199356],
            [0.9095028250825763, 0.5391625652314056, 0.29161906126905124],
            [-1.2524803214100124, 0.4429483700891009, -0.45514376852272487],
            [1.3458804431777518, -0.6486894163053499, 0.8303421246103204],
        ]
    ),
    dgamma_eval=np.array([-1.5076324325663342, -0.5855500041978057, -1.5720338858749223]),
    dbeta_eval=np.array([0.678, -0.358, 0.13000000000000006]),
)
TORCH_BN_4D = dict(
    momentum=0.3,
    eps=0.001,
    x1=np.array(
        [
            [
                [[1.878, 0.455, 0.674], [-3.383, 5.099, 3.788]],
                [[0.849, 3.048, 2.062], [0.392, 3.455, 0.879]],
                [[0.842, -0.084, 2.41], [1.302, 2.591, 0.286]],
            ],
            [
                [[1.754, -0.285, 3.183], [1.876, 2.161, 2.321]],
                [[-0.522, 3.066, 5.613], [-1.777, -1.959, -1.51]],
                [[3.183, 1.757, 3.657], [2.945, 1.921, 2.068]],
            ],
        ]
    ),
    x2=np.array(
        [
            [
                [[-0.785, -0.266, -1.265], [-0.911, -0.579, 0.201]],
                [[-1.082, -1.24, -0.982], [-0.215, -0.818, -0.038]],
                [[-1.636, -0.136, -0.183], [-1.409, -0.623, -0.092]],
            ],
            [
                [[-0.656, -0.2, 0.487], [-0.563, -0.84, -1.086]],
                [[-0.376, -0.798, -0.789], [-0.753, -0.375, -1.233]],
                [[-1.465, -1.917, -0.101], [-0.663, 0.055, -0.704]],
            ],
        ]
    ),
    gamma=np.array([0.777, 1.143, 0.977]),
    beta=np.array([-0.627, -0.443, 0.883]),
    running_mean=np.array([0.071, 0.083, -0.055]),
    running_var=np.array([1.427, 1.285, 0.513]),
    dout=np.array(
        [
            [
                [[-0.759, -0.134, -0.906], [0.19, 1.129, -0.836]],
                [[1.429, -0.668, 0.153], [-0.836, -0.222, 0.047]],
                [[-0.435, -0.703, -0.678], [-0.821, -1.57, -0.263]],
            ],
            [
                [[0.401, 0.908, 0.647], [2.457, 0.319, -0.456]],
                [[1.872, -1.047, 0.968], [-0.955, 0.354, -1.968]],
                [[0.899, -0.158, -0.968], [1.678, 0.765, 0.046]],
            ],
        ]
    ),
    out1=np.array(
        [
            [
                [
                    [-0.5323996346967528, -1.0681859822649948, -0.9857283504185823],
                    [-2.5132653933450464, 0.680367635519205, 0.18675140104136545],
                ],
                [
                    [-0.5855940632759356, 0.5185057435683691, 0.023443256279381132],
                    [-0.8150500031248883, 0.7228570948124037, -0.5705313101129845],
                ],
                [
                    [-0.058536181063341144, -0.8775709426083423, 1.3283390955053005],
                    [0.3483277393585818, 1.4884312033234919, -0.5503108327037523],
                ],
            ],
            [
                [
                    [-0.5790879741896987, -1.346809943755156, -0.0410425134201851],
                    [-0.53315267243051, -0.4258447953701101, -0.3656017766695347],
                ],
                [
                    [-1.2739618828227939, 0.5275433954661396, 1.8063711390006754],
                    [-1.9040870568062418, -1.9954677593281445, -1.7700285536559786],
                ],
                [
                    [2.0120473791708355, 0.7507692258628749, 2.4312941145621214],
                    [1.801539524691667, 0.8958250583611258, 1.0258446155394358],
                ],
            ],
        ]
    ),
    out2=np.array(
        [
            [
                [
                    [-1.0142558020634636, -0.1986220059013902, -1.7685991973578665],
                    [-1.2122709433282446, -0.6905167615829488, 0.5352912557704562],
                ],
                [
                    [-1.519802174899823, -1.9962588665241083, -1.2182473067831863],
                    [1.0946785316714154, -0.7236973230719024, 1.6284306482378619],
                ],
                [
                    [-0.43128613075598204, 1.7677425319701452, 1.6988396338713934],
                    [-0.09849979313009495, 1.053791226138396, 1.832247372743445],
                ],
            ],
            [
                [
                    [-0.8115260145780928, -0.09489978904840977, 0.9847541954667047],
                    [-0.665371981739802, -1.1006909827742806, -1.4872919728626623],
                ],
                [
                    [0.6091751940036306, -0.6633863494485753, -0.636246411318078],
                    [-0.5276866587960889, 0.612190742684797, -1.975150025755944],
                ],
                [
                    [-0.1805968632052038, -0.8432375002400101, 1.8190532007670883],
                    [0.9951504617990324, 2.0477521816906057, 0.9350436783511851],
                ],
            ],
        ]
    ),
    running_mean_after=np.array([0.2148325, 0.0611249999999999, 0.15156499999999992]),
    running_var_after=np.array([1.7542851388636367, 1.863340161363636, 0.6756860918181817]),
    dx_train=np.array(
        [
            [
                [
                    [-1.4363790245194046, -0.7576105334477352, -1.3867497792231118],
                    [0.1286905438298544, 1.4102606980517647, -2.133883805355654],
                ],
                [
                    [5.302707335909128, -0.6783761786898644, 1.2380810986099136],
                    [-3.407046088467877, -0.24827889384220334, -1.1280280356297285],
                ],
                [
                    [-0.5064589948111768, -0.6676373385591925, -0.6382472572032964],
                    [-1.0372762010507415, -2.0139059699866446, -0.015791964024640684],
                ],
            ],
            [
                [
                    [0.31119365701796303, 0.8413543036977328, 0.029504192418328246],
                    [3.48792252802944, 0.2899079758621638, -0.7842107563613409],
                ],
                [
                    [5.10808539354144, -2.77946377983064, 3.2773560619077995],
                    [-2.5995870552222544, 0.5283146343295895, -4.613764492615303],
                ],
                [
                    [1.4756259805217247, -0.14377960338010334, -1.0507257241698749],
                    [2.741545033640978, 1.513983727674919, 0.3426683113480482],
                ],
            ],
        ]
    ),
    dgamma_train=np.array([2.207321446113818, 3.269838187506741, -0.8426728853631713]),
    dbeta_train=np.array([2.96, -0.8729999999999996, -2.2079999999999997]),
    out_eval=np.array(
        [
            [
                [
                    [0.34840094205552347, -0.48614851886468446, -0.35771118088750553],
                    [-2.7370275287113173, 2.237426812486999, 1.4685622002126544],
                ],
                [
                    [0.2165397464139772, 2.0573493956151014, 1.2319568016577076],
                    [-0.16602051265146783, 2.398054046467697, 0.24165311134168696],
                ],
                [
                    [1.703018664223166, 0.6032231974947243, 3.565307316307612],
                    [2.2493533453193684, 3.780278136478074, 1.042666310550365],
                ],
            ],
            [
                [
                    [0.27567843105474643, -0.920137697417709, 1.1137467231524112],
                    [0.34722799832970447, 0.5143724792589099, 0.6082079773244289],
                ],
                [
                    [-0.931141030782358, 2.072417414571727, 4.204542096934285],
                    [-1.9817167969248821, -2.1340712108196547, -1.7582078490682655],
                ],
                [
                    [4.483387117367099, 2.7897496059688724, 5.046349375714056],
                    [4.2007183041042815, 2.984529796620562, 3.159119357753479],
                ],
            ],
        ]
    ),
    dx_eval=np.array(
        [
            [
                [
                    [-0.4451321439483049, -0.07858722962987202, -0.5313435077960004],
                    [0.1114296539528036, 0.6621267332248172, -0.4902904773923359],
                ],
                [
                    [1.196233282723241, -0.5591909257236704, 0.1280781611313197],
                    [-0.6998257693188448, -0.1858389004650521, 0.039344271720078594],
                ],
                [
                    [-0.5166425788627129, -0.8349419148057177, -0.8052498125722285],
                    [-0.9750886373477868, -1.8646640202631248, -0.3123609154963069],
                ],
            ],
            [
                [
                    [0.23517521702670655, 0.5325164515218194, 0.37944729530244176],
                    [1.4409613671686234, 0.18708452426812816, -0.2674311694867286],
                ],
                [
                    [1.5670739714890882, -0.87645643597707, 0.8103245750007677],
                    [-0.7994421168654268, 0.29633770614697497, -1.6474367392577591],
                ],
                [
                    [1.0677279963162734, -0.18765408611565207, -1.1496781984807036],
                    [1.9929339019117982, 0.908578328344771, 0.05463346810962021],
                ],
            ],
        ]
    ),
    dgamma_eval=np.array([4.497494059785996, 2.7200089458030092, -1.5417215081349482]),
    dbeta_eval=np.array([2.96, -0.8729999999999996, -2.2079999999999997]),
)

TORCH_CASES = {"(N, D)": TORCH_BN_2D, "(N, C, H, W)": TORCH_BN_4D}
EXACT = dict(rtol=1e-12, atol=1e-12)


def run_like_torch(case, **overrides):
    """Our layer through the same steps as the PyTorch reference."""
    settings = {"momentum": case["momentum"], "eps": case["eps"], **overrides}
    layer = BatchNormalization(case["gamma"], case["beta"], running_mean=case["running_mean"],
                               running_var=case["running_var"], **settings)
    got = {"out1": layer.forward(case["x1"]), "out2": layer.forward(case["x2"])}
    got["dx_train"] = layer.backward(case["dout"])
    got.update(dgamma_train=layer.dgamma, dbeta_train=layer.dbeta,
               running_mean_after=layer.running_mean, running_var_after=layer.running_var)
    layer.training = False
    got["out_eval"] = layer.forward(case["x1"])
    got["dx_eval"] = layer.backward(case["dout"])
    got.update(dgamma_eval=layer.dgamma, dbeta_eval=layer.dbeta)
    return got


def batchnorm_by_formula(case, unbiased_running=True, momentum=None):
    """Two training steps written out with numpy alone (no layer code).

    Returns (out2, running_mean, running_var) for the near-miss checks.
    """
    m = case["momentum"] if momentum is None else momentum
    x1, x2 = case["x1"], case["x2"]
    axes = (0,) if x1.ndim == 2 else (0, 2, 3)
    shape = (1, -1) if x1.ndim == 2 else (1, -1, 1, 1)
    mean, var = case["running_mean"].copy(), case["running_var"].copy()
    for x in (x1, x2):
        M = x.size // x.shape[1]
        mu, v = x.mean(axis=axes), x.var(axis=axes)           # biased: divides by M
        out = (case["gamma"].reshape(shape) * (x - mu.reshape(shape))
               / np.sqrt(v.reshape(shape) + case["eps"]) + case["beta"].reshape(shape))
        mean = (1 - m) * mean + m * mu
        var = (1 - m) * var + m * (v * M / (M - 1) if unbiased_running else v)
    return out, mean, var


@pytest.mark.parametrize("layout", list(TORCH_CASES))
def test_batchnorm_equals_pytorch(layout):
    case = TORCH_CASES[layout]
    got = run_like_torch(case)
    for key, value in got.items():
        np.testing.assert_allclose(value, case[key], err_msg=f"{layout}: {key}", **EXACT)


@pytest.mark.parametrize("layout", list(TORCH_CASES))
def test_batchnorm_formula_of_this_test_equals_pytorch(layout):
    case = TORCH_CASES[layout]
    out2, mean, var = batchnorm_by_formula(case)
    np.testing.assert_allclose(out2, case["out2"], **EXACT)
    np.testing.assert_allclose(mean, case["running_mean_after"], **EXACT)
    np.testing.assert_allclose(var, case["running_var_after"], **EXACT)


@pytest.mark.parametrize("layout", list(TORCH_CASES))
def test_batchnorm_near_misses_fail_against_pytorch(layout):
    case = TORCH_CASES[layout]
    # the biased variance in the running estimate
    _, _, var = batchnorm_by_formula(case, unbiased_running=False)
    assert not np.allclose(var, case["running_var_after"], **EXACT)
    # momentum meaning reversed: running = momentum * running + (1 - momentum) * batch
    reversed_ = run_like_torch(case, momentum=1 - case["momentum"])
    assert not np.allclose(reversed_["running_mean_after"], case["running_mean_after"], **EXACT)
    assert not np.allclose(reversed_["running_var_after"], case["running_var_after"], **EXACT)
    assert not np.allclose(reversed_["out_eval"], case["out_eval"], **EXACT)
    # another eps changes every output a little
    other_eps = run_like_torch(case, eps=case["eps"] * 1.5)
    for key in ("out2", "dx_train", "out_eval", "dx_eval"):
        assert not np.allclose(other_eps[key], case[key], **EXACT), key
    # momentum slightly off
    close = run_like_torch(case, momentum=case["momentum"] + 1e-6)
    assert not np.allclose(close["running_var_after"], case["running_var_after"], **EXACT)


def test_batchnorm_unbiased_running_variance_by_hand():
    # one feature, values 1, 2, 3: batch variance 2/3 normalises, 1 goes to the running one
    layer = BatchNormalization(np.ones(1), np.zeros(1), momentum=1.0, eps=1e-12)
    out = layer.forward(np.array([[1.0], [2.0], [3.0]]))
    np.testing.assert_allclose(out[:, 0], np.array([-1, 0, 1]) / np.sqrt(2 / 3), rtol=1e-10)
    np.testing.assert_allclose(layer.running_mean, [2.0], rtol=1e-15)
    np.testing.assert_allclose(layer.running_var, [1.0], rtol=1e-15)
    layer = BatchNormalization(np.ones(1), np.zeros(1))  # momentum 0.1 from 0 and 1
    layer.forward(np.array([[1.0], [2.0], [3.0]]))
    np.testing.assert_allclose(layer.running_mean, [0.2], rtol=1e-15)
    np.testing.assert_allclose(layer.running_var, [0.9 + 0.1 * 1.0], rtol=1e-15)


@pytest.mark.parametrize("training", [True, False], ids=["training", "evaluation"])
@pytest.mark.parametrize("shape", [(6, 4), (2, 3, 2, 3), (3, 2, 1, 1)])
def test_batchnorm_gradients(shape, training, rng):
    C = shape[1]
    layer = BatchNormalization(1 + 0.3 * rng.standard_normal(C), rng.standard_normal(C),
                               running_mean=rng.standard_normal(C),
                               running_var=0.5 + rng.random(C))
    layer.training = training
    report = check_layer(layer, 2 * rng.standard_normal(shape) + 1, params=("gamma", "beta"),
                         rng=rng)
    assert set(report.errors) == {"x", "gamma", "beta"}
    assert_gradients_ok(report)


def test_batchnorm_normalises_each_feature_and_each_channel(rng):
    x = 3 * rng.standard_normal((50, 4)) + np.array([1.0, -2.0, 5.0, 0.0])
    out = BatchNormalization(np.ones(4), np.zeros(4), eps=1e-12).forward(x)
    np.testing.assert_allclose(out.mean(axis=0), 0, atol=1e-12)
    np.testing.assert_allclose(out.var(axis=0), 1, rtol=1e-9)
    images = rng.standard_normal((4, 3, 5, 2)) * np.array([1.0, 2.0, 3.0])[:, None, None]
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    out = BatchNormalization(gamma, beta).forward(images)
    # per channel: the same as (N*H*W, C) rows through the (N, D) layer
    rows = images.transpose(0, 2, 3, 1).reshape(-1, 3)
    expected = (
        BatchNormalization(gamma, beta).forward(rows).reshape(4, 5, 2, 3).transpose(0, 3, 1, 2)
    )
    np.testing.assert_allclose(out, expected, rtol=1e-14, atol=1e-14)


def test_batchnorm_evaluation_mode_uses_only_the_running_statistics(rng):
    layer = BatchNormalization(np.array([2.0]), np.array([0.5]),
                               running_mean=np.array([1.0]), running_var=np.array([4.0]), eps=1e-12)
    layer.training = False
    # a single sample works in evaluation mode: (3 - 1) / 2 * 2 + 0.5
    np.testing.assert_allclose(layer.forward(np.array([[3.0]])), [[2.5]], rtol=1e-12)
    np.testing.assert_array_equal(layer.running_mean, [1.0])  # unchanged
    np.testing.assert_allclose(layer.backward(np.array([[1.0]])), [[1.0]], rtol=1e-12)


def test_batchnorm_does_not_modify_its_arguments(rng):
    gamma, beta = rng.standard_normal(3), rng.standard_normal(3)
    mean, var = rng.standard_normal(3), 1 + rng.random(3)
    x, dout = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    given = [gamma, beta, mean, var, x, dout]
    copies = [a.copy() for a in given]
    for a in given:
        a.flags.writeable = False
    layer = BatchNormalization(gamma, beta, running_mean=mean, running_var=var)
    layer.forward(x)
    dx = layer.backward(dout).copy()
    np.testing.assert_array_equal(layer.backward(dout), dx)
    for a, copy in zip(given, copies, strict=True):
        np.testing.assert_array_equal(a, copy)
    assert not np.array_equal(layer.running_mean, mean)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_batchnorm_keeps_the_float_dtype(dtype, rng):
    layer = BatchNormalization(np.ones(3, dtype), np.zeros(3, dtype))
    out = layer.forward(rng.standard_normal((5, 3)).astype(dtype))
    dx = layer.backward(np.ones((5, 3), dtype))
    assert out.dtype == dtype and dx.dtype == dtype and layer.dgamma.dtype == dtype


@pytest.mark.parametrize("kwargs, x, error, match", [
    ({"beta": np.zeros(2)}, None, ValueError, r"beta must have the shape of gamma \(3,\)"),
    ({"gamma": np.ones((3, 1))}, None, ValueError, "gamma must be a 1-D array"),
    ({"momentum": 1.5}, None, ValueError, r"momentum must be in \[0, 1\]"),
    ({"eps": 0.0}, None, ValueError, "eps must be > 0"),
    ({"running_var": -np.ones(3)}, None, ValueError, "running_var must be >= 0"),
    ({"running_mean": np.zeros(4)}, None, ValueError, r"running_mean must have shape \(3,\)"),
    ({}, np.ones((4, 2)), ValueError, "x has 2 features/channels on axis 1"),
    ({}, np.ones((4, 3, 2)), ValueError, r"x must have shape \(N, D\) or \(N, C, H, W\)"),
    ({}, np.ones((1, 3)), ValueError, "training mode needs more than one value per feature"),
])
def test_batchnorm_rejects_bad_arguments(kwargs, x, error, match):
    arguments = {"gamma": np.ones(3), "beta": np.zeros(3), **kwargs}
    with pytest.raises(error, match=match):
        layer = BatchNormalization(**arguments)
        layer.forward(x)


def test_batchnorm_backward_needs_forward_and_the_output_shape():
    layer = BatchNormalization(np.ones(3), np.zeros(3))
    with pytest.raises(RuntimeError, match="before BatchNormalization.forward"):
        layer.backward(np.ones((2, 3)))
    layer.forward(np.arange(6.0).reshape(2, 3))
    with pytest.raises(ValueError, match=r"BatchNormalization's output \(2, 3\)"):
        layer.backward(np.ones((3, 3)))
