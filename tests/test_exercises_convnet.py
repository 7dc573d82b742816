"""Tests for tinynet.exercises.convnet: right answers pass, wrong ones fail with a hint."""

import re

import numpy as np
import pytest

from tinynet import TinyNet
from tinynet.exercises import ExerciseFailed
from tinynet.exercises.convnet import (
    check_avg_pool_backward,
    check_avg_pool_forward,
    check_conv_backward,
    check_conv_forward,
    check_conv_output_size,
    check_count_parameters,
    check_fc_in_features,
    check_im2col,
    check_pool_backward,
    check_pool_forward,
    check_tinynet_backward,
)
from tinynet.im2col import conv_output_size, im2col, pad_images
from tinynet.layers import MaxPool
from tinynet.naive import (
    conv_backward_naive,
    conv_forward_naive,
    maxpool_backward_naive,
    maxpool_forward_naive,
)


def not_attempted(*args):
    raise NotImplementedError


# ---------------------------------------------------------------------------
# Right answers written independently of the package, as a student would
# ---------------------------------------------------------------------------


def conv_forward_loops(x, W, b, stride, pad):
    N, C, H, W_in = x.shape
    F, _, KH, KW = W.shape
    OH, OW = (H + 2 * pad - KH) // stride + 1, (W_in + 2 * pad - KW) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    out = np.zeros((N, F, OH, OW), dtype=x.dtype)
    for n in range(N):
        for f in range(F):
            for oh in range(OH):
                for ow in range(OW):
                    window = xp[n, :, oh * stride:oh * stride + KH, ow * stride:ow * stride + KW]
                    out[n, f, oh, ow] = np.sum(window * W[f]) + b[f]
    return out


def im2col_loops(x, KH, KW, stride, pad):
    N, C, H, W = x.shape
    OH, OW = (H + 2 * pad - KH) // stride + 1, (W + 2 * pad - KW) // stride + 1
    xp = np.pad(x, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    columns = []
    for n in range(N):
        for oh in range(OH):
            for ow in range(OW):
                columns.append(xp[n, :, oh * stride:oh * stride + KH,
                                  ow * stride:ow * stride + KW].reshape(-1))
    return np.stack(columns, axis=1)


def avg_pool_forward(x, pool_h, pool_w, stride):
    N, C, H, W = x.shape
    OH, OW = (H - pool_h) // stride + 1, (W - pool_w) // stride + 1
    out = np.zeros((N, C, OH, OW), dtype=x.dtype)
    for oh in range(OH):
        for ow in range(OW):
            out[:, :, oh, ow] = x[:, :, oh * stride:oh * stride + pool_h,
                                  ow * stride:ow * stride + pool_w].mean(axis=(2, 3))
    return out


def avg_pool_backward(dout, x, pool_h, pool_w, stride):
    dx = np.zeros_like(x)
    OH, OW = dout.shape[2:]
    for oh in range(OH):
        for ow in range(OW):
            dx[:, :, oh * stride:oh * stride + pool_h, ow * stride:ow * stride + pool_w] += (
                dout[:, :, oh, ow, None, None] / (pool_h * pool_w))
    return dx


class LayerByLayerNet(TinyNet):
    """A TinyNet that walks its layers explicitly, as the notebook's class does."""

    def forward(self, x, t):
        out = x
        for layer in (self.conv1, self.relu1, self.pool1, self.conv2, self.relu2,
                      self.pool2, self.fc):
            out = layer.forward(out)
        return out, self.loss.forward(out, t)

    def backward(self):
        dout = self.loss.backward(1)
        for layer in (self.fc, self.pool2, self.relu2, self.conv2, self.pool1,
                      self.relu1, self.conv1):
            dout = layer.backward(dout)
        return (self.conv1.dW, self.conv1.db, self.conv2.dW, self.conv2.db,
                self.fc.dW, self.fc.db)


# ---------------------------------------------------------------------------
# Common behaviour of every checker
# ---------------------------------------------------------------------------

RIGHT = [
    (check_conv_output_size, lambda size, k, s, p: (size + 2 * p - k) // s + 1),
    (check_conv_forward, conv_forward_loops),
    (check_conv_backward, conv_backward_naive),
    (check_im2col, im2col_loops),
    (check_pool_forward, maxpool_forward_naive),
    (check_pool_backward, maxpool_backward_naive),
    (check_avg_pool_forward, avg_pool_forward),
    (check_avg_pool_backward, avg_pool_backward),
    (check_tinynet_backward, LayerByLayerNet),
    (check_fc_in_features, lambda shape, F2: F2 * (shape[1] // 4) * (shape[2] // 4)),
]


@pytest.mark.parametrize("checker, answer", RIGHT, ids=lambda v: getattr(v, "__name__", ""))
def test_a_right_answer_passes(checker, answer, capsys):
    assert checker(answer)
    assert "PASS" in capsys.readouterr().out


@pytest.mark.parametrize("checker", [c for c, _ in RIGHT] + [check_count_parameters],
                         ids=lambda c: c.__name__)
def test_the_skeleton_is_reported_as_not_attempted(checker, capsys):
    if checker is check_tinynet_backward:
        class Skeleton(TinyNet):
            def forward(self, x, t):
                raise NotImplementedError
        answer = Skeleton
    else:
        answer = not_attempted
    assert not checker(answer) and not checker(answer).attempted
    assert "not attempted yet" in capsys.readouterr().out


# ---------------------------------------------------------------------------
# Wrong answers fail, with the hint that points at the mistake
# ---------------------------------------------------------------------------


def test_output_size_with_true_division_fails():
    with pytest.raises(ExerciseFailed, match="integer division"):
        check_conv_output_size(lambda size, k, s, p: (size + 2 * p - k) / s + 1)


def test_output_size_forgetting_pad_fails():
    with pytest.raises(ExerciseFailed, match="conv_output_size: FAIL"):
        check_conv_output_size(lambda size, k, s, p: (size - k) // s + 1)


def test_conv_forward_without_bias_fails():
    def no_bias(x, W, b, stride, pad):
        return conv_forward_loops(x, W, np.zeros_like(b), stride, pad)

    with pytest.raises(ExerciseFailed, match=r"b\[f\]"):
        check_conv_forward(no_bias)


def test_conv_forward_ignoring_stride_fails():
    def stride_one(x, W, b, stride, pad):
        return conv_forward_loops(x, W, b, 1, pad)

    with pytest.raises(ExerciseFailed, match="shape"):
        check_conv_forward(stride_one)


def test_conv_backward_with_dx_assigned_not_added_fails():
    def assigned(dout, x, W, stride, pad):
        N, C, H, W_in = x.shape
        F, _, KH, KW = W.shape
        xp = pad_images(x, pad)
        dxp = np.zeros_like(xp)
        for oh in range(dout.shape[2]):
            for ow in range(dout.shape[3]):
                top, left = oh * stride, ow * stride
                # "=" instead of "+=": overlapping windows overwrite each other
                dxp[:, :, top:top + KH, left:left + KW] = np.tensordot(
                    dout[:, :, oh, ow], W, axes=([1], [0]))
        _, dW, db = conv_backward_naive(dout, x, W, stride, pad)
        return dxp[:, :, pad:pad + H, pad:pad + W_in], dW, db

    with pytest.raises(ExerciseFailed, match=r"(?s)result 1 \(dx\) differs.*\+="):
        check_conv_backward(assigned)


def test_conv_backward_in_the_wrong_order_fails():
    def swapped(dout, x, W, stride, pad):
        dx, dW, db = conv_backward_naive(dout, x, W, stride, pad)
        return dW, dx, db

    with pytest.raises(ExerciseFailed, match=r"(?s)has the right values in the wrong places: "
                                             r"result 1 holds dW \(expected dx\); result 2 "
                                             r"holds dx \(expected dW\)\. Return dx, dW, db "
                                             r"in that order\..*\(dx, dW, db\)"):
        check_conv_backward(swapped)


def test_im2col_transposed_fails():
    with pytest.raises(ExerciseFailed,
                       match=r"(?s)im2col: FAIL.*your result has shape \(\d+, \d+\); expected"):
        check_im2col(lambda x, KH, KW, s, p: im2col(x, KH, KW, s, p).T)


def test_im2col_in_the_book_row_order_fails():
    # (N*OH*OW, C*KH*KW) reshaped to the right shape but in the wrong order
    def wrong_order(x, KH, KW, s, p):
        col = im2col(x, KH, KW, s, p)
        return col.T.reshape(col.shape)

    with pytest.raises(ExerciseFailed,
                       match=r"(?s)your result differs at index.*read in the order \(c, i, j\)"):
        check_im2col(wrong_order)


def test_pool_forward_with_zero_padding_fails():
    def zero_padded(x, ph, pw, stride, pad):
        xp = pad_images(x, pad, value=0.0)
        return maxpool_forward_naive(xp, ph, pw, stride, 0)

    with pytest.raises(ExerciseFailed, match="-np.inf"):
        check_pool_forward(zero_padded)


def test_pool_backward_sharing_ties_fails():
    def shared(dout, x, ph, pw, stride, pad):
        xp = pad_images(x, pad, value=-np.inf)
        dxp = np.zeros_like(xp)
        for oh in range(dout.shape[2]):
            for ow in range(dout.shape[3]):
                window = xp[:, :, oh * stride:oh * stride + ph, ow * stride:ow * stride + pw]
                winners = window == window.max(axis=(2, 3), keepdims=True)
                share = winners / winners.sum(axis=(2, 3), keepdims=True)
                dxp[:, :, oh * stride:oh * stride + ph, ow * stride:ow * stride + pw] += (
                    share * dout[:, :, oh, ow, None, None])
        H, W = x.shape[2:]
        return dxp[:, :, pad:pad + H, pad:pad + W]

    with pytest.raises(ExerciseFailed, match="first maximum"):
        check_pool_backward(shared)


def test_pool_backward_assigned_not_added_fails():
    def assigned(dout, x, ph, pw, stride, pad):
        xp = pad_images(x, pad, value=-np.inf)
        dxp = np.zeros_like(xp)
        N, C = x.shape[:2]
        for n in range(N):
            for c in range(C):
                for oh in range(dout.shape[2]):
                    for ow in range(dout.shape[3]):
                        top, left = oh * stride, ow * stride
                        window = xp[n, c, top:top + ph, left:left + pw]
                        i, j = divmod(int(np.argmax(window)), pw)
                        dxp[n, c, oh * stride + i, ow * stride + j] = dout[n, c, oh, ow]
        H, W = x.shape[2:]
        return dxp[:, :, pad:pad + H, pad:pad + W]

    with pytest.raises(ExerciseFailed, match=r"\+="):
        check_pool_backward(assigned)


def test_pool_backward_passes_with_the_package_layer():
    def with_layer(dout, x, ph, pw, stride, pad):
        layer = MaxPool(ph, pw, stride=stride, pad=pad)
        layer.forward(x)
        return layer.backward(dout)

    assert check_pool_backward(with_layer)


def test_avg_pool_forward_with_the_sum_fails():
    with pytest.raises(ExerciseFailed, match="mean"):
        check_avg_pool_forward(lambda x, ph, pw, s: avg_pool_forward(x, ph, pw, s) * ph * pw)


def test_avg_pool_backward_without_the_division_fails():
    def undivided(dout, x, ph, pw, s):
        return avg_pool_backward(dout, x, ph, pw, s) * ph * pw

    with pytest.raises(ExerciseFailed, match=r"/\(pool_h\*pool_w\)"):
        check_avg_pool_backward(undivided)


def test_tinynet_with_gradients_in_the_wrong_order_fails():
    class Swapped(LayerByLayerNet):
        def backward(self):
            dW1, db1, dW2, db2, dWf, dbf = super().backward()
            return dW2, db2, dW1, db1, dWf, dbf

    with pytest.raises(ExerciseFailed,
                       match=r"(?s)^Swapped: FAIL on case 1 .*\n  the result of backward\(\) has "
                             r"the right values in the wrong places: result 1 holds dW_conv2 "
                             r"\(expected dW_conv1\); result 2 holds db_conv2 \(expected "
                             r"db_conv1\); result 3 holds dW_conv1 \(expected dW_conv2\); "
                             r"result 4 holds db_conv1 \(expected db_conv2\)\. Return dW_conv1, "
                             r"db_conv1, dW_conv2, db_conv2, dW_fc, db_fc in that order\."):
        check_tinynet_backward(Swapped)


def test_tinynet_without_the_second_relu_fails():
    class NoRelu(LayerByLayerNet):
        def forward(self, x, t):
            out = x
            for layer in (self.conv1, self.relu1, self.pool1, self.conv2, self.pool2, self.fc):
                out = layer.forward(out)
            return out, self.loss.forward(out, t)

        def backward(self):
            dout = self.loss.backward(1)
            for layer in (self.fc, self.pool2, self.conv2, self.pool1, self.relu1, self.conv1):
                dout = layer.backward(dout)
            return (self.conv1.dW, self.conv1.db, self.conv2.dW, self.conv2.db,
                    self.fc.dW, self.fc.db)

    with pytest.raises(ExerciseFailed, match="^NoRelu: FAIL"):
        check_tinynet_backward(NoRelu)


def test_tinynet_returning_a_dict_fails():
    class Dict(LayerByLayerNet):
        def backward(self):
            return dict(zip("abcdef", super().backward(), strict=True))

    with pytest.raises(ExerciseFailed,
                       match=r"the result of backward\(\) is a dict; expected a tuple of "
                             r"6 results"):
        check_tinynet_backward(Dict)


def test_tinynet_checker_wants_the_class_not_an_instance():
    from tinynet import init_params

    with pytest.raises(ExerciseFailed, match="pass your class itself"):
        check_tinynet_backward(TinyNet(**init_params()))


def test_fc_in_features_without_floor_fails():
    with pytest.raises(ExerciseFailed, match="rounding down"):
        check_fc_in_features(lambda shape, F2: int(F2 * (shape[1] / 4) * (shape[2] / 4)))


def test_fc_in_features_counting_channels_fails():
    with pytest.raises(ExerciseFailed, match="channels C do not matter"):
        check_fc_in_features(lambda shape, F2: shape[0] * F2 * (shape[1] // 4) * (shape[2] // 4))


def count_parameters(input_shape, F1, F2, K):
    C, H, W = input_shape
    fc_in = F2 * (H // 2 // 2) * (W // 2 // 2)
    return (F1 * C * 9 + F1) + (F2 * F1 * 9 + F2) + (fc_in * K + K)


def test_count_parameters_right_and_wrong(capsys):
    assert check_count_parameters(count_parameters)
    assert "PASS" in capsys.readouterr().out
    with pytest.raises(ExerciseFailed, match="weights and biases"):
        check_count_parameters(
            lambda shape, F1, F2, K: count_parameters(shape, F1, F2, K) - F1 - F2 - K)


def test_output_size_reference_is_the_package_formula():
    # The checker's reference, spelled out: a guard against editing one and not the other.
    assert [conv_output_size(*c) for c in [(7, 2, 2, 0), (6, 3, 2, 0), (8, 3, 1, 1)]] == [3, 2, 8]


def test_checkers_do_not_share_state_between_calls(capsys):
    # Seeded inputs: the same answer gives the same verdict every time.
    for _ in range(2):
        assert check_conv_forward(conv_forward_naive)
        assert check_pool_backward(maxpool_backward_naive)


# ---------------------------------------------------------------------------
# A setting the answer ignores (stride, pad) is named
# ---------------------------------------------------------------------------


def _setting_line(checker, student, hidden=False):
    with pytest.raises(ExerciseFailed) as caught:
        checker(student, hidden=hidden)
    return str(caught.value).splitlines()[1]


def im2col_stride_one(x, KH, KW, stride=1, pad=0):
    return im2col_loops(x, KH, KW, 1, pad)


def im2col_unpadded(x, KH, KW, stride=1, pad=0):
    return im2col_loops(x, KH, KW, stride, 0)


def conv_forward_stride_one(x, W, b, stride=1, pad=0):
    return conv_forward_loops(x, W, b, 1, pad)


def conv_backward_unpadded(dout, x, W, stride=1, pad=0):
    # pads x but never cuts the padding off dx: right only when pad = 0
    return conv_backward_naive(dout, pad_images(x, pad), W, stride, 0)


@pytest.mark.parametrize("hidden", [False, True])
@pytest.mark.parametrize("checker, student, setting, value", [
    (check_im2col, im2col_stride_one, "stride", 1),
    (check_im2col, im2col_unpadded, "pad", 0),
    (check_conv_forward, conv_forward_stride_one, "stride", 1),
    (check_conv_backward, conv_backward_unpadded, "pad", 0),
    (check_conv_output_size, lambda size, kernel, stride, pad: (size - kernel) // stride + 1,
     "pad", 0),
    (check_conv_output_size, lambda size, kernel, stride, pad: size + 2 * pad - kernel + 1,
     "stride", 1),
], ids=["im2col stride", "im2col pad", "conv_forward stride", "conv_backward pad",
        "output size pad", "output size stride"])
def test_an_ignored_setting_is_named(checker, student, setting, value, hidden):
    line = _setting_line(checker, student, hidden)
    name = getattr(student, "__name__", "")
    shown = name if name.isidentifier() else checker.__name__[len("check_"):]
    assert re.fullmatch(rf"  your {shown} is right with {setting}={value} but not with "
                        rf"{setting}=\d+: look at each place where {setting} should enter\.",
                        line), line


def test_the_setting_is_not_named_when_the_answer_is_wrong_without_it():
    def no_bias_no_stride(x, W, b, stride=1, pad=0):
        return conv_forward_loops(x, W, np.zeros_like(b), 1, pad)

    with pytest.raises(ExerciseFailed) as caught:
        check_conv_forward(no_bias_no_stride)
    message = str(caught.value)
    assert "FAIL on case 1 of 6" in message and "is right with" not in message


def test_a_pooling_answer_with_zero_padding_is_told_about_pad():
    def zero_padded(x, ph, pw, stride, pad):
        return maxpool_forward_naive(pad_images(x, pad, value=0.0), ph, pw, stride, 0)

    assert _setting_line(check_pool_forward, zero_padded) == (
        "  your zero_padded is right with pad=0 but not with pad=1: look at each place where "
        "pad should enter.")


def test_float32_cases_keep_their_dtype_and_a_float64_answer_fails():
    def float64_out(x, W, b, stride=1, pad=0):
        return conv_forward_loops(x, W, b, stride, pad).astype(np.float64)

    with pytest.raises(ExerciseFailed, match=r"(?s)^float64_out: FAIL on case 6 of 6 .*float32\)\n"
                                             r"  your result is float64, but this case's inputs "
                                             r"are float32.*np\.zeros_like\(x\) or "
                                             r"dtype=x\.dtype"):
        check_conv_forward(float64_out)
