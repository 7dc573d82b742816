"""Every bad input raises ValueError or TypeError with a message naming the argument."""

import numpy as np
import pytest

from tinynet import SGD, init_params, train_one_iter
from tinynet.layers import Convolution, FullyConnected, MaxPool, Relu, SoftmaxWithLoss


def re_shape(shape):
    """A shape as it appears in a message, escaped for a regular expression."""
    return str(tuple(shape)).replace("(", r"\(").replace(")", r"\)")


@pytest.fixture
def conv(rng):
    """A 2-filter 3x3 convolution on 1-channel images."""
    return Convolution(rng.standard_normal((2, 1, 3, 3)), rng.standard_normal(2), pad=1)


@pytest.fixture
def scores(rng):
    return rng.standard_normal((2, 3))


# -- image layers: x -----------------------------------------------------------

@pytest.mark.parametrize("shape", [(28, 28), (5, 28, 28), (1, 1, 1, 28, 28)])
@pytest.mark.parametrize("make", [
    lambda rng: Convolution(rng.standard_normal((2, 1, 3, 3)), rng.standard_normal(2)),
    lambda rng: MaxPool(2, 2, stride=2),
], ids=["Convolution", "MaxPool"])
def test_image_layers_need_4d_x(make, shape, rng):
    layer = make(rng)
    message = (rf"x must be a 4-D array \(N, C, H, W\); got shape "
               rf"{re_shape(shape)}\..*x\[None, None\]")
    with pytest.raises(ValueError, match=message):
        layer.forward(rng.standard_normal(shape))


def test_convolution_channel_mismatch(conv, rng):
    with pytest.raises(ValueError, match=r"x has 3 channels .* expect 1 .*transpose\(0, 3, 1, 2\)"):
        conv.forward(rng.standard_normal((2, 3, 5, 5)))


def test_convolution_kernel_larger_than_padded_input(rng):
    layer = Convolution(rng.standard_normal((1, 1, 5, 5)), rng.standard_normal(1), pad=0)
    with pytest.raises(ValueError, match=r"kernel \(5x5\) is larger than the padded input \(4x4"):
        layer.forward(rng.standard_normal((1, 1, 4, 4)))
    padded = Convolution(rng.standard_normal((1, 1, 5, 5)), rng.standard_normal(1), pad=1)
    assert padded.forward(rng.standard_normal((1, 1, 3, 3))).shape == (1, 1, 1, 1)


def test_maxpool_window_larger_than_padded_input(rng):
    with pytest.raises(ValueError, match=r"pooling window \(3x3\) is larger than the padded "
                                         r"input \(2x2\)"):
        MaxPool(3, 3).forward(rng.standard_normal((1, 1, 2, 2)))


@pytest.mark.parametrize("bad, kind", [
    (np.nan, "NaN"), (np.inf, "inf"), (-np.inf, "-inf"),
])
@pytest.mark.parametrize("name", ["Convolution", "MaxPool", "FullyConnected", "Relu",
                                  "SoftmaxWithLoss"])
def test_non_finite_x(name, bad, kind, rng):
    x = rng.standard_normal((2, 1, 3, 3))
    x[1, 0, 2, 1] = bad
    if name == "Convolution":
        call = lambda: Convolution(rng.standard_normal((1, 1, 2, 2)), np.zeros(1)).forward(x)  # noqa: E731
    elif name == "MaxPool":
        call = lambda: MaxPool(2, 2).forward(x)  # noqa: E731
    elif name == "FullyConnected":
        call = lambda: FullyConnected(rng.standard_normal((9, 2)), np.zeros(2)).forward(x)  # noqa: E731
    elif name == "Relu":
        call = lambda: Relu().forward(x)  # noqa: E731
    else:
        x = x.reshape(2, 9)
        call = lambda: SoftmaxWithLoss().forward(x, np.array([0, 1]))  # noqa: E731
    with pytest.raises(ValueError, match=r"x contains 1 NaN or infinite value\(s\), the "
                                         r"first at index"):
        call()


@pytest.mark.parametrize("layer", [
    pytest.param(lambda rng: Convolution(rng.standard_normal((1, 1, 2, 2)), np.zeros(1)),
                 id="Convolution"),
    pytest.param(lambda rng: MaxPool(2, 2), id="MaxPool"),
    pytest.param(lambda rng: FullyConnected(rng.standard_normal((4, 2)), np.zeros(2)),
                 id="FullyConnected"),
    pytest.param(lambda rng: Relu(), id="Relu"),
])
def test_string_x_is_a_type_error(layer, rng):
    with pytest.raises(TypeError, match=r"x must be a numeric array; got the string 'image'"):
        layer(rng).forward("image")


def test_string_scores_are_a_type_error():
    with pytest.raises(TypeError, match=r"x must be a numeric array"):
        SoftmaxWithLoss().forward("scores", np.array([0]))


def test_complex_or_object_x_is_a_type_error(conv):
    with pytest.raises(TypeError, match=r"x must hold real numbers; got dtype complex128"):
        conv.forward(np.ones((1, 1, 3, 3), dtype=complex))
    with pytest.raises(TypeError, match=r"x must hold real numbers; got dtype object"):
        Relu().forward(np.array([1.0, None]))


# -- parameters: W, b ------------------------------------------------------------

@pytest.mark.parametrize("shape", [(3, 3), (2, 1, 3), (1, 2, 1, 3, 3)])
def test_convolution_W_needs_4_dims(shape, rng):
    with pytest.raises(ValueError, match=r"W must be a 4-D array \(F, C, KH, KW\).*\(1, 1, 3, 3\)"):
        Convolution(rng.standard_normal(shape), np.zeros(1))


def test_fully_connected_W_needs_2_dims(rng):
    with pytest.raises(ValueError, match=r"W must be a 2-D array \(in_features, out_features\)"):
        FullyConnected(rng.standard_normal((4, 2, 1)), np.zeros(2))


@pytest.mark.parametrize("b_shape", [(3,), (1,), (2, 1)])
def test_convolution_bias_of_wrong_length(b_shape, rng):
    with pytest.raises(ValueError, match=r"b must"):
        Convolution(rng.standard_normal((2, 1, 3, 3)), np.zeros(b_shape))
    if len(b_shape) == 1:
        with pytest.raises(ValueError, match=rf"b must have one bias per filter: expected shape "
                                             rf"\(2,\).*got \({b_shape[0]},\)"):
            Convolution(rng.standard_normal((2, 1, 3, 3)), np.zeros(b_shape))


def test_fully_connected_bias_of_wrong_length(rng):
    with pytest.raises(ValueError, match=r"b must have one bias per output: expected shape "
                                         r"\(2,\).*got \(3,\)"):
        FullyConnected(rng.standard_normal((4, 2)), np.zeros(3))


def test_non_finite_W(rng):
    W = rng.standard_normal((2, 1, 3, 3))
    W[0, 0, 1, 1] = np.nan
    with pytest.raises(ValueError, match=r"W contains 1 NaN"):
        Convolution(W, np.zeros(2))


def test_string_W_is_a_type_error():
    with pytest.raises(TypeError, match=r"W must be a numeric array"):
        FullyConnected("weights", np.zeros(2))


def test_fully_connected_feature_count_mismatch(rng):
    layer = FullyConnected(rng.standard_normal((10, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"x has 12 features per sample .* W expects 10"):
        layer.forward(rng.standard_normal((2, 3, 2, 2)))


def test_fully_connected_needs_a_batch_axis(rng):
    layer = FullyConnected(rng.standard_normal((4, 2)), np.zeros(2))
    with pytest.raises(ValueError, match=r"x must have a batch axis.*x\[None\]"):
        layer.forward(rng.standard_normal(4))


# -- stride, pad, window -----------------------------------------------------------

@pytest.mark.parametrize("make", [
    lambda **kw: Convolution(np.ones((1, 1, 3, 3)), np.zeros(1), **kw),
    lambda **kw: MaxPool(3, 3, **kw),
], ids=["Convolution", "MaxPool"])
class TestStrideAndPad:
    @pytest.mark.parametrize("stride", [0, -1])
    def test_stride_below_one(self, make, stride):
        with pytest.raises(ValueError, match=rf"stride must be an integer >= 1; got {stride}"):
            make(stride=stride)

    @pytest.mark.parametrize("stride, shown", [(1.5, "float 1.5"), ("2", "the string '2'"),
                                               (2.0, "float 2.0"), (True, "bool True")])
    def test_stride_not_an_integer(self, make, stride, shown):
        with pytest.raises(TypeError, match=rf"stride must be an integer; got {shown}.*stride=1"):
            make(stride=stride)

    def test_negative_pad(self, make):
        with pytest.raises(ValueError, match=r"pad must be an integer >= 0; got -1"):
            make(pad=-1)

    def test_pad_not_an_integer(self, make):
        with pytest.raises(TypeError, match=r"pad must be an integer; got float 0.5"):
            make(pad=0.5)

    def test_numpy_integers_are_accepted(self, make):
        make(stride=np.int64(2), pad=np.int32(1))


@pytest.mark.parametrize("ph, pw, pad", [(2, 2, 2), (2, 2, 3), (3, 2, 2), (1, 1, 1)])
def test_maxpool_pad_must_be_smaller_than_the_window(ph, pw, pad):
    with pytest.raises(ValueError, match=rf"pad must be smaller than the pooling window "
                                         rf"\({ph}x{pw}\).*got pad={pad}"):
        MaxPool(ph, pw, pad=pad)


@pytest.mark.parametrize("name", ["pool_h", "pool_w"])
def test_maxpool_window_must_be_positive_integer(name):
    sizes = {"pool_h": 2, "pool_w": 2}
    with pytest.raises(ValueError, match=rf"{name} must be an integer >= 1; got 0"):
        MaxPool(**{**sizes, name: 0})
    with pytest.raises(TypeError, match=rf"{name} must be an integer"):
        MaxPool(**{**sizes, name: 2.5})


# -- labels ------------------------------------------------------------------------

@pytest.mark.parametrize("t, message", [
    (np.array([0, 3]), r"t must hold class indices in \[0, 2\].*got values from 0 to 3"),
    (np.array([-1, 2]), r"t must hold class indices in \[0, 2\].*got values from -1 to 2"),
    (np.array([0.0, 1.5]), r"t must hold integer class indices; got non-integer values such "
                           r"as \[1\.5\]"),
    (np.array([0.0, np.nan]), r"t must hold integer class indices"),
    (np.array([0, 1, 2]), r"t must have one label per sample: expected length 2, got 3"),
    (np.array([1]), r"t must have one label per sample: expected length 2, got 1"),
    (np.array([[1, 1, 0], [0, 1, 0]]), r"t of shape \(2, 3\) is read as one-hot rows, but some "
                                       r"rows are not one-hot.*np\.eye\(3\)"),
    (np.array([[0, 0, 0], [0, 1, 0]]), r"t of shape \(2, 3\) is read as one-hot rows"),
    (np.array([[0.5, 0.5, 0], [0, 1, 0]]), r"t of shape \(2, 3\) is read as one-hot rows"),
    (np.array([[2, -1, 0], [0, 1, 0]]), r"t of shape \(2, 3\) is read as one-hot rows"),
    (np.eye(4)[[0, 1]], r"t given as one-hot rows must have shape \(2, 3\) like the scores; "
                        r"got \(2, 4\)"),
    (np.eye(3)[[0, 1, 2]], r"t given as one-hot rows must have shape \(2, 3\)"),
    (np.zeros((2, 3, 1)), r"t must be class indices of shape \(2,\) or one-hot rows of "
                          r"shape \(2, 3\)"),
    (np.int64(1), r"t must be class indices of shape \(2,\)"),
], ids=[
    "out-of-range", "negative", "non-integer", "nan", "too-long", "too-short",
    "two-ones", "all-zeros", "half", "not-binary", "one-hot-wrong-K", "one-hot-wrong-N",
    "3-d", "scalar",
])
def test_bad_labels(scores, t, message):
    with pytest.raises(ValueError, match=message):
        SoftmaxWithLoss().forward(scores, t)


@pytest.mark.parametrize("t, message", [
    ("01", r"t must be an array of labels; got the string '01'"),
    (None, r"t must be an array of labels"),
    (np.array([True, False]), r"t must hold integer class indices; got dtype bool"),
    (np.array(["a", "b"]), r"t must hold integer class indices; got dtype <U1"),
    (np.array([[True, False, False], [False, True, False]]), r"t must be numeric one-hot rows; "
                                                             r"got dtype bool"),
])
def test_labels_of_the_wrong_kind(scores, t, message):
    with pytest.raises(TypeError, match=message):
        SoftmaxWithLoss().forward(scores, t)


def test_scores_must_be_2d(rng):
    with pytest.raises(ValueError, match=r"x must be a 2-D array \(N, K\) of class "
                                         r"scores.*Flatten"):
        SoftmaxWithLoss().forward(rng.standard_normal((2, 3, 1)), np.array([0, 1]))


# -- backward ----------------------------------------------------------------------

@pytest.mark.parametrize("layer, name", [
    (lambda: Convolution(np.ones((1, 1, 2, 2)), np.zeros(1)), "Convolution"),
    (lambda: MaxPool(2, 2), "MaxPool"),
    (lambda: FullyConnected(np.ones((4, 2)), np.zeros(2)), "FullyConnected"),
    (lambda: Relu(), "Relu"),
])
def test_backward_before_forward(layer, name):
    with pytest.raises(RuntimeError, match=rf"{name}\.backward was called before {name}\.forward"):
        layer().backward(np.ones((1, 1, 1, 1)))


def test_loss_backward_before_forward():
    with pytest.raises(RuntimeError, match=r"SoftmaxWithLoss\.backward was called before forward"):
        SoftmaxWithLoss().backward()


@pytest.mark.parametrize("layer, x, bad_dout, name, expected", [
    (lambda rng: Convolution(rng.standard_normal((2, 1, 3, 3)), np.zeros(2)),
     (1, 1, 5, 5), (1, 2, 4, 4), "Convolution", (1, 2, 3, 3)),
    (lambda rng: MaxPool(2, 2, stride=2), (1, 1, 4, 4), (1, 1, 4, 4), "MaxPool", (1, 1, 2, 2)),
    (lambda rng: FullyConnected(rng.standard_normal((4, 3)), np.zeros(3)),
     (2, 4), (3, 2), "FullyConnected", (2, 3)),
    (lambda rng: Relu(), (2, 3), (3, 2), "Relu", (2, 3)),
], ids=["Convolution", "MaxPool", "FullyConnected", "Relu"])
def test_dout_of_the_wrong_shape(layer, x, bad_dout, name, expected, rng):
    instance = layer(rng)
    instance.forward(rng.standard_normal(x))
    with pytest.raises(ValueError, match=rf"dout must have the shape of {name}'s output "
                                         rf"{re_shape(expected)}; got {re_shape(bad_dout)}"):
        instance.backward(np.ones(bad_dout))


def test_non_finite_or_string_dout(conv, rng):
    out = conv.forward(rng.standard_normal((1, 1, 3, 3)))
    dout = np.ones(out.shape)
    dout[0, 1, 0, 0] = np.nan
    with pytest.raises(ValueError, match=r"dout contains 1 NaN"):
        conv.backward(dout)
    with pytest.raises(TypeError, match=r"dout must be a numeric array"):
        conv.backward("ones")


@pytest.mark.parametrize("dout, error, message", [
    (np.ones(3), ValueError, r"dout must be a scalar .*got shape \(3,\)"),
    (np.ones((2, 3)), ValueError, r"dout must be a scalar"),
    ("2", TypeError, r"dout must be a numeric array; got the string '2'"),
    (np.nan, ValueError, r"dout contains 1 NaN"),
], ids=["row", "matrix", "string", "nan"])
def test_loss_backward_needs_a_scalar_dout(scores, dout, error, message):
    layer = SoftmaxWithLoss()
    layer.forward(scores, np.array([0, 1]))
    with pytest.raises(error, match=message):
        layer.backward(dout)


# -- SGD -----------------------------------------------------------------------------

@pytest.mark.parametrize("kwargs, error, message", [
    ({"learning_rate": -0.1}, ValueError, r"learning_rate must be >= 0\.0; got -0\.1"),
    ({"weight_decay": -1e-4}, ValueError, r"weight_decay must be >= 0\.0; got -0\.0001"),
    ({"learning_rate": "0.1"}, TypeError, r"learning_rate must be a real number; got the string "
                                          r"'0\.1'.*learning_rate=0\.1"),
    ({"weight_decay": "0"}, TypeError, r"weight_decay must be a real number"),
    ({"learning_rate": float("nan")}, ValueError, r"learning_rate must be finite"),
    ({"learning_rate": float("inf")}, ValueError, r"learning_rate must be finite"),
    ({"learning_rate": None}, TypeError, r"learning_rate must be a real number"),
    ({"decay_biases": "yes"}, TypeError, r"decay_biases must be True or False"),
], ids=["negative-lr", "negative-wd", "string-lr", "string-wd", "nan-lr", "inf-lr", "none-lr",
        "decay-biases"])
def test_sgd_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        SGD(**kwargs)


def test_sgd_step_checks_gradients(rng):
    params = {"W": rng.standard_normal((2, 2)), "b": rng.standard_normal(2)}
    with pytest.raises(ValueError, match=r"grads is missing gradients for \['b'\]"):
        SGD().step(params, {"W": np.ones((2, 2))})
    with pytest.raises(ValueError, match=r"grads\['W'\] has shape \(2,\) but the parameter "
                                         r"has \(2, 2\)"):
        SGD().step(params, {"W": np.ones(2), "b": np.ones(2)})


# -- train_one_iter and init_params --------------------------------------------------

@pytest.fixture
def small_batch(rng):
    params = init_params(input_shape=(1, 4, 4), conv1_filters=2, conv2_filters=2, num_classes=3,
                         rng=0)
    x = rng.standard_normal((2, 1, 4, 4))
    return params, x, np.array([0, 2])


def test_train_one_iter_negative_learning_rate(small_batch):
    params, x, t = small_batch
    with pytest.raises(ValueError, match=r"learning_rate must be >= 0"):
        train_one_iter(**params, x=x, t=t, learning_rate=-0.1, weight_decay=0.0)
    with pytest.raises(ValueError, match=r"weight_decay must be >= 0"):
        train_one_iter(**params, x=x, t=t, learning_rate=0.1, weight_decay=-1.0)
    with pytest.raises(TypeError, match=r"learning_rate must be a real number"):
        train_one_iter(**params, x=x, t=t, learning_rate="0.1", weight_decay=0.0)


def test_train_one_iter_nan_in_x(small_batch):
    params, x, t = small_batch
    x = x.copy()
    x[1, 0, 3, 3] = np.nan
    with pytest.raises(ValueError, match=r"x contains 1 NaN or infinite value\(s\), the first at "
                                         r"index \(1, 0, 3, 3\)"):
        train_one_iter(**params, x=x, t=t, learning_rate=0.1, weight_decay=0.0)


def test_train_one_iter_bad_labels_and_parameters(small_batch):
    params, x, t = small_batch
    with pytest.raises(ValueError, match=r"t must hold class indices in \[0, 2\]"):
        train_one_iter(**params, x=x, t=np.array([0, 3]), learning_rate=0.1, weight_decay=0.0)
    bad = dict(params, W_fc=np.full(params["W_fc"].shape, np.inf))
    with pytest.raises(ValueError, match=r"W_fc contains"):
        train_one_iter(**bad, x=x, t=t, learning_rate=0.1, weight_decay=0.0)


@pytest.mark.parametrize("kwargs, error, message", [
    ({"input_shape": (8, 8)}, ValueError, r"input_shape must be \(C, H, W\), e\.g\. \(1, 8, 8\); "
                                          r"got \(8, 8\)"),
    ({"input_shape": "1x8x8"}, ValueError, r"input_shape must be \(C, H, W\)"),
    ({"input_shape": (1, 0, 8)}, ValueError, r"input_shape\[1\] must be an integer >= 1; got 0"),
    ({"input_shape": (1, 8.0, 8)}, TypeError, r"input_shape\[1\] must be an integer"),
    ({"input_shape": (1, 3, 3)}, ValueError, r"input_shape \(1, 3, 3\) is too small"),
    ({"conv1_filters": 0}, ValueError, r"conv1_filters must be an integer >= 1; got 0"),
    ({"conv2_filters": 2.5}, TypeError, r"conv2_filters must be an integer; got float 2\.5"),
    ({"num_classes": 1}, ValueError, r"num_classes must be an integer >= 2; got 1"),
    ({"kernel_size": 0}, ValueError, r"kernel_size must be an integer >= 1"),
    ({"kernel_size": "3"}, TypeError, r"kernel_size must be an integer; got the string '3'"),
    ({"dtype": np.int32}, TypeError, r"dtype must be a float type"),
    ({"rng": -1}, ValueError, r"rng must be an integer >= 0; got -1"),
    ({"rng": "seed"}, TypeError, r"rng must be an integer"),
])
def test_init_params_bad_arguments(kwargs, error, message):
    with pytest.raises(error, match=message):
        init_params(**kwargs)


# -- issue 10: failures inside the network and at the model's entry points -----

def test_overflow_inside_the_network_names_the_scores_and_the_layer(rng):
    from tinynet import TinyNet
    params = init_params((1, 8, 8), 4, 4, rng=0)
    params["W_fc"] = np.full_like(params["W_fc"], 1e308)
    net = TinyNet(**params)
    x = np.full((3, 1, 8, 8), 0.5)  # finite input
    message = (r"scores contain \d+ NaN or infinite value\(s\).*"
               r"although x is finite.*first in the output of fc "
               r"\(its largest \|weight\| is 1e\+308\).*init_params")
    with np.errstate(all="ignore"), pytest.raises(ValueError, match=message) as info:
        net.forward(x, np.array([0, 1, 2]))
    assert not str(info.value).startswith("x ")
    with np.errstate(all="ignore"), pytest.raises(ValueError,
                                                  match=r"scores contain .*output of fc"):
        net.predict(x, batch_size=2)


def test_overflow_in_a_convolution_is_located_there():
    from tinynet import TinyNet
    params = init_params((1, 8, 8), 4, 4, rng=0)
    params["W_conv1"] = np.full_like(params["W_conv1"], 1e308)
    with np.errstate(all="ignore"), pytest.raises(ValueError,
                                                  match=r"first in the output of conv1"):
        TinyNet(**params).forward(np.full((2, 1, 8, 8), 0.5), np.array([0, 1]))


def test_empty_batch_is_a_clear_error(small_batch):
    from tinynet import TinyNet
    params, x, t = small_batch
    message = r"x must hold at least one sample; got an empty batch of shape \(0, 1, 4, 4\)"
    with pytest.raises(ValueError, match=message):
        TinyNet(**params).forward(x[:0], t[:0])
    with pytest.raises(ValueError, match=message):
        train_one_iter(**params, x=x[:0], t=t[:0], learning_rate=0.1, weight_decay=0.0)
    # predict has a defined result: no rows.
    assert TinyNet(**params).predict(x[:0]).shape == (0, 3)


@pytest.mark.parametrize("method", ["evaluate", "accuracy"])
@pytest.mark.parametrize("t, error, message", [
    (None, TypeError, r"t must be an array of labels; got NoneType None\. Pass the true class "
                      r"labels, one per sample, of shape \(2,\)"),
    (2, ValueError, r"t must be class indices of shape \(2,\), one label per sample; got the "
                    r"scalar 2\. For a single sample pass a list such as t=\[2\]"),
])
def test_evaluate_and_accuracy_need_labels(small_batch, method, t, error, message):
    from tinynet import TinyNet
    params, x, _ = small_batch
    with pytest.raises(error, match=message):
        getattr(TinyNet(**params), method)(x, t)


def test_evaluate_accepts_one_hot_labels(small_batch):
    from tinynet import TinyNet
    params, x, t = small_batch
    net = TinyNet(**params)
    assert net.evaluate(x, np.eye(3)[t]) == net.evaluate(x, t)


@pytest.mark.parametrize("learning_rate, weight_decay, blamed", [
    (1e308, 1e308, r"The weight decay 1e\+308 is too large for the learning rate 1e\+308"),
    (1e308, 0.0, r"The learning rate 1e\+308 is probably too large"),
])
def test_train_one_iter_flags_non_finite_results(small_batch, learning_rate, weight_decay, blamed):
    params, x, t = small_batch
    with np.errstate(over="ignore", invalid="ignore"), pytest.raises(
            ValueError, match=r"the SGD step made \w+ non-finite \(\d+ of its \d+ values are NaN "
                              r"or infinite\).*" + blamed):
        train_one_iter(**params, x=x, t=t, learning_rate=learning_rate, weight_decay=weight_decay)


# -- the finiteness test behind every check ----------------------------------

@pytest.mark.parametrize("size", [1, 7, 4096, 4097, 100_000],
                         ids=lambda n: f"{n} entries")
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_all_finite_agrees_with_isfinite_on_small_and_large_arrays(size, dtype):
    from tinynet._checks import all_finite

    rng = np.random.default_rng(size)
    clean = rng.standard_normal(size).astype(dtype)
    assert all_finite(clean)
    # huge but finite values whose sum overflows are still finite
    huge = np.full(size, np.finfo(dtype).max, dtype=dtype)
    assert all_finite(huge)
    for bad in (np.nan, np.inf, -np.inf):
        spoiled = clean.copy()
        spoiled[rng.integers(size)] = bad
        assert not all_finite(spoiled), (size, dtype, bad)
        assert not all_finite(spoiled.reshape(1, -1))
    assert all_finite(np.zeros((0, 3), dtype=dtype))
