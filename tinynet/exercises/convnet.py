"""Checkers for the exercises of notebooks 04 to 06: convolution, max pooling, TinyNet.

Each ``check_*(student, *, hidden=False)`` takes the student's function (or
class), runs it on a few seeded inputs next to the package's own
implementation (``hidden=True``: other seeds and sizes), and prints ``PASS``,
prints "not attempted yet" (the skeleton still raises
``NotImplementedError``), or raises :class:`~tinynet.exercises.ExerciseFailed`
with a hint. The references are the package's code: :mod:`tinynet.im2col`,
:mod:`tinynet.naive`, :mod:`tinynet.layers` and :mod:`tinynet.model`.

The last convolution and pooling case is float32: the answer must keep the
input's dtype. When a case with ``stride != 1`` or ``pad != 0`` fails and
every case without that setting passes, the message names the setting.
"""

import numpy as np

from ..im2col import conv_output_size, im2col
from ..layers import Convolution
from ..model import init_params
from ..naive import (
    conv_backward_naive,
    conv_forward_naive,
    maxpool_backward_naive,
    maxpool_forward_naive,
)
from . import Case, ExerciseFailed, case_seed, check_function, float32_case

__all__ = [
    "check_conv_output_size",
    "check_conv_forward",
    "check_conv_backward",
    "check_im2col",
    "check_pool_forward",
    "check_pool_backward",
    "check_avg_pool_forward",
    "check_avg_pool_backward",
    "check_tinynet_backward",
    "check_fc_in_features",
    "check_count_parameters",
]

_SEED = 20240604


def _rng(hidden=False):
    return np.random.default_rng(case_seed(_SEED + 1000 * hidden, hidden))


# The settings that switch a feature on, with their neutral value: an answer
# right on every case with stride=1 but wrong with stride=2 is told so.
_CONV_SETTINGS = {"stride": 1, "pad": 0}
_POOL_SETTINGS = {"pad": 0}


def _float32_last(cases):
    """The cases, the last one's float arrays turned float32 (its note says so)."""
    return cases[:-1] + [float32_case(cases[-1])]


# ---------------------------------------------------------------------------
# Notebook 04: convolution
# ---------------------------------------------------------------------------

# (H, W, KH, KW, stride, pad): square and non-square, stride 1 to 3, pad 0 to 2,
# and sizes where the division leaves a remainder (the result is floored).
# The last one of each table is run in float32.
_CONV_SHAPES = [
    (4, 4, 2, 2, 1, 0),
    (5, 5, 3, 3, 1, 1),
    (7, 6, 3, 2, 2, 1),
    (6, 7, 2, 3, 3, 0),
    (5, 4, 1, 1, 2, 2),
    (6, 5, 3, 3, 2, 1),
]
_CONV_HIDDEN_SHAPES = [
    (6, 6, 3, 3, 1, 1),
    (8, 5, 2, 4, 2, 0),
    (5, 9, 3, 1, 1, 2),
    (7, 7, 4, 4, 3, 1),
    (3, 3, 3, 3, 1, 0),
    (9, 6, 2, 2, 2, 1),
    (5, 7, 2, 2, 1, 1),
]


def _conv_shapes(hidden):
    """(N, C, F) with each (H, W, KH, KW, stride, pad) of the visible or hidden table."""
    sizes = [(1, 1, 1), (2, 3, 2), (3, 2, 4)]
    table = _CONV_HIDDEN_SHAPES if hidden else _CONV_SHAPES
    return [(*sizes[k % 3], *shape) for k, shape in enumerate(table)]


def _conv_inputs(rng, N, C, F, H, W, KH, KW):
    x = rng.standard_normal((N, C, H, W))
    weights = rng.standard_normal((F, C, KH, KW))
    b = rng.standard_normal(F)
    return x, weights, b


def check_conv_output_size(student, *, hidden=False):
    """Check ``student(size, kernel, stride, pad)`` -> output length along one axis.

    The answer is ``(size + 2 * pad - kernel) // stride + 1``.
    """
    table = [
        (4, 2, 1, 0),    # 3
        (8, 3, 1, 1),    # "same" padding keeps 8
        (28, 5, 1, 0),   # 24
        (7, 3, 2, 1),    # 4
        (7, 2, 2, 0),    # 3: the last row does not fill a window
        (6, 3, 2, 0),    # 2: floored from 2.5
        (10, 4, 3, 2),   # 4
        (1, 1, 1, 0),    # 1
    ]
    if hidden:  # random sizes, none of them a visible case
        rng = _rng(hidden)
        visible, table = set(table), []
        while len(table) < 12:
            kernel, stride, pad = (int(v) for v in rng.integers(1, 6, 3))
            case = (kernel + int(rng.integers(0, 20)), kernel, stride, pad - 1)
            if case not in visible:
                table.append(case)
    cases = [Case(size=size, kernel=kernel, stride=stride, pad=pad)
             for size, kernel, stride, pad in table]
    return check_function(
        "conv_output_size", student, conv_output_size, cases, hidden=hidden,
        settings=_CONV_SETTINGS,
        hint="count the window positions that fit: (size + 2*pad - kernel) // stride + 1. "
             "Use integer division //, so that a window never hangs over the edge.",
    )


def check_conv_forward(student, *, hidden=False):
    """Check ``student(x, W, b, stride, pad)`` -> ``out`` of shape (N, F, OH, OW)."""
    rng = _rng(hidden)
    cases = []
    for N, C, F, H, W, KH, KW, stride, pad in _conv_shapes(hidden):
        x, weights, b = _conv_inputs(rng, N, C, F, H, W, KH, KW)
        cases.append(Case(x=x, W=weights, b=b, stride=stride, pad=pad))
    return check_function(
        "conv_forward", student, conv_forward_naive, _float32_last(cases), hidden=hidden,
        settings=_CONV_SETTINGS,
        hint="out[n, f, oh, ow] = b[f] + sum over c, i, j of W[f, c, i, j] * "
             "x_padded[n, c, oh*stride + i, ow*stride + j], where x_padded has pad "
             "zeros on each side of H and W; OH = (H + 2*pad - KH) // stride + 1. "
             "Mind the window's start: it moves by stride, its offset (i, j) by 1.",
    )


def check_conv_backward(student, *, hidden=False):
    """Check ``student(dout, x, W, stride, pad)`` -> ``(dx, dW, db)``."""
    rng = _rng(hidden)
    cases = []
    for N, C, F, H, W, KH, KW, stride, pad in _conv_shapes(hidden):
        x, weights, _ = _conv_inputs(rng, N, C, F, H, W, KH, KW)
        OH, OW = conv_output_size(H, KH, stride, pad), conv_output_size(W, KW, stride, pad)
        dout = rng.standard_normal((N, F, OH, OW))
        cases.append(Case(dout=dout, x=x, W=weights, stride=stride, pad=pad))
    return check_function(
        "conv_backward", student, conv_backward_naive, _float32_last(cases), hidden=hidden,
        settings=_CONV_SETTINGS,
        results=("dx", "dW", "db"),
        hint="return (dx, dW, db) in that order. Each output pixel (n, f, oh, ow) "
             "used one window of x_padded and filter f: add dout[n, f, oh, ow] * window "
             "to dW[f], add dout[n, f, oh, ow] * W[f] to that window of dx_padded "
             "(+=, windows overlap), and db[f] = dout[:, f].sum(). Cut the padding "
             "off dx_padded at the end.",
    )


def check_im2col(student, *, hidden=False):
    """Check ``student(x, KH, KW, stride, pad)`` -> ``col``.

    ``col`` holds every window of ``x``, laid out as :func:`tinynet.im2col.im2col`.
    """
    rng = _rng(hidden)
    cases = []
    for N, C, _, H, W, KH, KW, stride, pad in _conv_shapes(hidden):
        cases.append(Case(x=rng.standard_normal((N, C, H, W)), KH=KH, KW=KW, stride=stride,
                          pad=pad))
    return check_function(
        "im2col", student, im2col, _float32_last(cases), hidden=hidden,
        settings=_CONV_SETTINGS,
        hint="each window of x_padded, read in the order (c, i, j), becomes one line of "
             "col, the windows numbered (n*OH + oh)*OW + ow; window.reshape(-1) gives a "
             "window in exactly that order. Compare your shape with tinynet.im2col.im2col "
             "on a small input to see which axis holds the windows.",
    )


# ---------------------------------------------------------------------------
# Notebook 05: max pooling (and average pooling)
# ---------------------------------------------------------------------------

# (H, W, pool_h, pool_w, stride, pad): 2x2/2, overlapping 3x3/2, non-square,
# stride 1, padding, and odd sizes that leave a row or column over.
_POOL_SHAPES = [
    (4, 4, 2, 2, 2, 0),
    (5, 5, 2, 2, 2, 0),
    (5, 5, 3, 3, 2, 0),
    (6, 5, 2, 3, 1, 0),
    (5, 5, 2, 2, 2, 1),
    (4, 6, 3, 3, 2, 1),
]
_POOL_HIDDEN_SHAPES = [
    (6, 6, 2, 2, 2, 0),
    (7, 5, 3, 2, 2, 0),
    (8, 8, 4, 4, 4, 0),
    (5, 7, 2, 2, 1, 0),
    (6, 6, 3, 3, 3, 1),
    (7, 7, 3, 3, 2, 1),
    (3, 4, 2, 2, 1, 1),
]


def _pool_input(rng, shape, ties):
    if ties:
        # Small integers: many windows hold their maximum twice.
        return rng.integers(-3, 3, size=shape).astype(np.float64)
    return rng.standard_normal(shape)


def _pool_cases(with_dout, with_pad=True, hidden=False):
    rng = _rng(hidden)
    cases = []
    for k, (H, W, ph, pw, stride, pad) in enumerate(_POOL_HIDDEN_SHAPES if hidden
                                                    else _POOL_SHAPES):
        if pad and not with_pad:
            continue
        N, C = [(1, 1), (2, 3), (3, 2)][k % 3]
        for ties in (False, True):
            x = _pool_input(rng, (N, C, H, W), ties)
            if pad:
                x = -np.abs(x) - 1  # all negative: zero padding would win at the edges
            OH, OW = conv_output_size(H, ph, stride, pad), conv_output_size(W, pw, stride, pad)
            case = Case(x=x, pool_h=ph, pool_w=pw, stride=stride,
                        note="ties in the windows" if ties else "")
            if with_pad:
                case["pad"] = pad
            if with_dout:
                case = Case(dout=rng.standard_normal((N, C, OH, OW)), **case, note=case.note)
            cases.append(case)
    return cases


def check_pool_forward(student, *, hidden=False):
    """Check ``student(x, pool_h, pool_w, stride, pad)`` -> ``out`` of shape (N, C, OH, OW)."""
    return check_function(
        "pool_forward", student, maxpool_forward_naive,
        _float32_last(_pool_cases(with_dout=False, hidden=hidden)), hidden=hidden,
        settings=_POOL_SETTINGS,
        hint="out[n, c, oh, ow] is the maximum of the window x_padded[n, c, "
             "oh*stride : oh*stride + pool_h, ow*stride : ow*stride + pool_w]; "
             "OH = (H + 2*pad - pool_h) // stride + 1. Pad with -np.inf, not 0: "
             "on negative inputs a zero in the padding would win.",
    )


def check_pool_backward(student, *, hidden=False):
    """Check ``student(dout, x, pool_h, pool_w, stride, pad)`` -> ``dx`` of shape (N, C, H, W)."""
    return check_function(
        "pool_backward", student, maxpool_backward_naive,
        _float32_last(_pool_cases(with_dout=True, hidden=hidden)), hidden=hidden,
        settings=_POOL_SETTINGS,
        hint="each dout[n, c, oh, ow] goes to the one cell that won its window: "
             "the first maximum in row-major order (np.argmax of the flattened "
             "window gives it), and to no other cell. Use += because overlapping "
             "windows can share a winner. Pad x with -np.inf and cut the padding "
             "off dx at the end.",
    )


def _avg_pool_conv(pool_h, pool_w, stride, dtype):
    # Average pooling is a convolution of each channel on its own with a
    # constant filter 1 / (pool_h * pool_w): reuse the package's Convolution.
    weights = np.full((1, 1, pool_h, pool_w), 1.0 / (pool_h * pool_w), dtype=dtype)
    return Convolution(weights, np.zeros(1, dtype=dtype), stride=stride, pad=0)


def _avg_pool_forward_reference(x, pool_h, pool_w, stride):
    N, C, H, W = x.shape
    out = _avg_pool_conv(pool_h, pool_w, stride, x.dtype).forward(x.reshape(N * C, 1, H, W))
    return out.reshape(N, C, *out.shape[2:])


def _avg_pool_backward_reference(dout, x, pool_h, pool_w, stride):
    N, C, H, W = x.shape
    conv = _avg_pool_conv(pool_h, pool_w, stride, x.dtype)
    conv.forward(x.reshape(N * C, 1, H, W))
    dx = conv.backward(dout.reshape(N * C, 1, *dout.shape[2:]))
    return dx.reshape(x.shape)


def check_avg_pool_forward(student, *, hidden=False):
    """Check ``student(x, pool_h, pool_w, stride)`` -> ``out``: the mean of each window."""
    return check_function(
        "avg_pool_forward", student, _avg_pool_forward_reference,
        _float32_last(_pool_cases(with_dout=False, with_pad=False, hidden=hidden)),
        hidden=hidden,
        hint="out[n, c, oh, ow] is the mean of the window x[n, c, oh*stride : "
             "oh*stride + pool_h, ow*stride : ow*stride + pool_w]; "
             "OH = (H - pool_h) // stride + 1.",
    )


def check_avg_pool_backward(student, *, hidden=False):
    """Check ``student(dout, x, pool_h, pool_w, stride)`` -> ``dx`` of shape (N, C, H, W)."""
    return check_function(
        "avg_pool_backward", student, _avg_pool_backward_reference,
        _float32_last(_pool_cases(with_dout=True, with_pad=False, hidden=hidden)),
        hidden=hidden,
        hint="every cell of a window contributed 1/(pool_h*pool_w) of its mean, so "
             "each cell of the window gets dout[n, c, oh, ow] / (pool_h*pool_w); "
             "add (+=) where windows overlap; cells in no window get 0.",
    )


# ---------------------------------------------------------------------------
# Notebook 06: TinyNet
# ---------------------------------------------------------------------------

_GRADIENT_NAMES = ("dW_conv1", "db_conv1", "dW_conv2", "db_conv2", "dW_fc", "db_fc")


def _tinynet_cases(hidden):
    rng = _rng(hidden)
    # (input_shape, F1, F2, K, N): the digits' 8x8, an odd 7x7, a non-square 6x9, N = 1
    # the last one of each list is float32
    sizes = [((1, 8, 8), 4, 6, 10, 5), ((1, 7, 7), 3, 4, 3, 4), ((2, 6, 9), 2, 3, 4, 3),
             ((1, 8, 8), 3, 4, 10, 4)]
    if hidden:
        sizes = [((3, 7, 9), 2, 3, 5, 2), ((1, 8, 8), 3, 5, 10, 1), ((2, 5, 11), 4, 2, 3, 6),
                 ((1, 9, 6), 2, 2, 2, 3)]
    cases = []
    for k, ((C, H, W), F1, F2, K, N) in enumerate(sizes):
        params = init_params((C, H, W), F1, F2, K, rng=rng)
        for name in ("b_conv1", "b_conv2", "b_fc"):
            params[name] = 0.1 * rng.standard_normal(params[name].shape)  # non-zero biases
        x = rng.standard_normal((N, C, H, W))
        t = rng.integers(0, K, size=N)
        one_hot = k == 1
        cases.append(Case(**params, x=x, t=np.eye(K)[t] if one_hot else t,
                          note="one-hot labels" if one_hot else ""))
    return _float32_last(cases)


def _run_network(net_class, W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc, x, t):
    """Build the network, run forward(x, t) and backward(); both answers by their call."""
    net = net_class(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc)
    answers = {"forward(x, t)": net.forward(x, t)}
    answers["backward()"] = net.backward()
    return answers


def check_tinynet_backward(student_class, *, hidden=False):
    """Check a TinyNet class: ``forward(x, t)`` -> ``(scores, loss)``, ``backward()`` -> gradients.

    Parameters
    ----------
    student_class : class
        Built as ``student_class(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc)``;
        compared with :class:`tinynet.TinyNet` on the scores, the loss and the
        gradients ``(dW_conv1, db_conv1, dW_conv2, db_conv2, dW_fc, db_fc)``.
        None of the arrays given to it (weights, ``x``, ``t``) may change.
    hidden : bool
        Other seeds and sizes.
    """
    from ..model import TinyNet

    if not isinstance(student_class, type):
        raise ExerciseFailed(
            f"tinynet_backward: pass your class itself, as in "
            f"check_tinynet_backward(MyTinyNet), not {type(student_class).__name__} "
            f"{student_class!r}."
        )
    return check_function(
        "tinynet_backward", student_class, TinyNet, _tinynet_cases(hidden), hidden=hidden,
        call=_run_network,
        results={"forward(x, t)": ("scores", "loss"), "backward()": _GRADIENT_NAMES},
        hint="forward runs conv1, relu1, pool1, conv2, relu2, pool2, fc, then "
             "loss.forward(scores, t), and returns (scores, loss); backward starts from "
             "dout = self.loss.backward(1), calls every layer's backward in reverse order, "
             "and returns (conv1.dW, conv1.db, conv2.dW, conv2.db, fc.dW, fc.db).",
    )


def _fc_in_features_reference(input_shape, conv2_filters):
    return int(init_params(tuple(input_shape), conv2_filters=conv2_filters,
                           rng=0)["W_fc"].shape[0])


def check_fc_in_features(student, *, hidden=False):
    """Check ``student(input_shape, conv2_filters)`` -> the number of inputs of TinyNet's fc."""
    table = [((1, 8, 8), 16), ((1, 28, 28), 32), ((1, 7, 7), 16), ((3, 9, 6), 5),
             ((1, 4, 4), 8), ((2, 11, 13), 3)]
    if hidden:
        table = [((1, 10, 10), 4), ((2, 15, 9), 7), ((1, 5, 13), 2), ((3, 32, 32), 12),
                 ((1, 6, 7), 1)]
    cases = [Case(input_shape=shape, conv2_filters=F2) for shape, F2 in table]
    return check_function(
        "fc_in_features", student, _fc_in_features_reference, cases, hidden=hidden,
        hint="the 3x3 convolutions with pad 1 keep H and W; each 2x2 pool with "
             "stride 2 halves them, rounding down (H // 2). The fc layer sees "
             "conv2_filters * H4 * W4 numbers, where H4 = (H // 2) // 2. The input "
             "channels C do not matter.",
    )


def _count_parameters_reference(input_shape, conv1_filters, conv2_filters, num_classes):
    params = init_params(tuple(input_shape), conv1_filters, conv2_filters, num_classes, rng=0)
    return int(sum(p.size for p in params.values()))


def check_count_parameters(student, *, hidden=False):
    """Check ``student(input_shape, conv1_filters, conv2_filters, num_classes)`` -> parameters.

    The answer is the total number of weights and biases of TinyNet.
    """
    table = [((1, 8, 8), 8, 16, 10), ((1, 28, 28), 16, 32, 10), ((3, 7, 7), 4, 5, 3),
             ((2, 9, 6), 1, 1, 2)]
    if hidden:
        table = [((1, 12, 12), 6, 10, 4), ((3, 5, 9), 2, 3, 7), ((2, 16, 8), 5, 1, 2)]
    cases = [Case(input_shape=shape, conv1_filters=F1, conv2_filters=F2, num_classes=K)
             for shape, F1, F2, K in table]
    return check_function(
        "count_parameters", student, _count_parameters_reference, cases, hidden=hidden,
        hint="add weights and biases of the three layers with parameters: conv1 has "
             "F1*C*3*3 + F1, conv2 F2*F1*3*3 + F2, fc (F2*H4*W4)*K + K with "
             "H4 = (H // 2) // 2 and W4 = (W // 2) // 2. ReLU and pooling have none.",
    )
