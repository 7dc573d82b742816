"""The fused engine (tinynet.fast) against the teaching layers.

The engine computes TinyNet's loss and gradients with its own layouts; it
must give the numbers of :class:`tinynet.TinyNet` (plain layers) to rounding
error, fall back to the layers where its layouts do not fit, and never
modify its inputs.

The property tests draw whole geometries (hypothesis), not a few chosen
shapes: batch N 1-9, input channels C 1-3, heights and widths multiples of
4 from 4 to 32 (and, for the fallback, any size from 4 to 19), conv1 with 1
to 24 filters and conv2 with 1 to 64 (so conv2 is often far wider or far
narrower than conv1), 2 to 12 classes, parameters and images each float64
or float32, labels as int64, int32 or uint8 indices or as one-hot rows, and
blocks of one sample with and without threads.
"""

import re
from unittest import mock

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import tinynet
from tinynet import fast
from tinynet.model import PARAM_NAMES, TinyNet


def layer_reference(params, x, t):
    net = TinyNet(**params)
    _, loss = net.forward(x, t)
    return loss, dict(zip(PARAM_NAMES, net.backward(), strict=True))


def assert_close(got, expected, rtol, what, same_dtype=True):
    loss, grads = got
    ref_loss, ref_grads = expected
    assert loss == pytest.approx(ref_loss, rel=rtol, abs=rtol), what
    for name in PARAM_NAMES:
        g, e = grads[name], ref_grads[name]
        assert g.shape == e.shape and (g.dtype == e.dtype or not same_dtype), (what, name)
        scale = max(float(np.max(np.abs(e))), 1e-30)
        diff = float(np.max(np.abs(g - e))) / scale
        assert diff < rtol, f"{what}: {name} differs by {diff:.2e} (relative to its largest entry)"


def random_case(rng, N, C, H, W, F1, F2, K=10, dtype=np.float64):
    params = tinynet.init_params((C, H, W), F1, F2, K, rng=rng, dtype=dtype)
    params = {k: v + rng.normal(0, 0.1, v.shape).astype(dtype) for k, v in params.items()}
    x = rng.standard_normal((N, C, H, W)).astype(dtype)
    t = rng.integers(0, K, N)
    return params, x, t


MULTIPLES_OF_4 = st.integers(1, 8).map(lambda k: 4 * k)  # 4, 8, ..., 32


@st.composite
def geometries(draw, sizes=MULTIPLES_OF_4):
    """A TinyNet and a batch: everything the engine accepts, in the exercise's range.

    Parameters and images each float64 or float32 (mixed too), labels of
    several integer types.
    """
    return dict(N=draw(st.integers(1, 9)), C=draw(st.integers(1, 3)),
                H=draw(sizes), W=draw(sizes),
                F1=draw(st.integers(1, 24)), F2=draw(st.integers(1, 64)),
                K=draw(st.integers(2, 12)),
                dtype=draw(st.sampled_from([np.float64, np.float32])),
                x_dtype=draw(st.sampled_from([np.float64, np.float32])),
                label_dtype=draw(st.sampled_from([np.int64, np.int32, np.uint8])))


def _drawn_case(geometry, seed, one_hot):
    """Parameters in ``dtype``, images in ``x_dtype``, labels as indices or one-hot rows."""
    geometry = dict(geometry)
    x_dtype, label_dtype = geometry.pop("x_dtype"), geometry.pop("label_dtype")
    rng = np.random.default_rng(seed)
    params, x, t = random_case(rng, **geometry)
    t = t.astype(label_dtype)
    return params, x.astype(x_dtype), (np.eye(geometry["K"], dtype=x_dtype)[t] if one_hot else t)


def _in_float64(params, x, t):
    return ({k: v.astype(np.float64) for k, v in params.items()}, x.astype(np.float64),
            t.astype(np.float64) if t.ndim == 2 else t)


def _relative(a, b):
    return float(np.max(np.abs(a - b))) / max(float(np.max(np.abs(b))), 1e-30)


def assert_near_the_layers(got, params, x, t, what):
    """Compare with the layers in float64; in float32, as near as the float32 layers are.

    float32 rounding (about 1e-7 per operation) grows with the number of terms
    in each sum, and now and then it flips which of two nearly equal values a
    pooling window picks, which moves a gradient by more than rounding. So in
    float32 each gradient may be as far from the float64 one as the float32
    layers' own result is, twice over, plus 1e-3 of its largest entry.
    """
    float64 = all(np.dtype(a.dtype) == np.float64 for a in (x, *params.values()))
    exact = layer_reference(*_in_float64(params, x, t))
    if float64:
        assert_close(got, exact, 1e-10, what)
        return
    rounded = layer_reference(params, x, t)
    assert got[0] == pytest.approx(exact[0], rel=1e-3 + 2 * abs(rounded[0] / exact[0] - 1)), what
    for name in PARAM_NAMES:
        allowed = 1e-3 + 2 * _relative(rounded[1][name], exact[1][name])
        difference = _relative(got[1][name], exact[1][name])
        assert difference <= allowed, f"{what}: {name} differs by {difference:.2e} > {allowed:.2e}"


@settings(max_examples=150, deadline=None)
@given(geometry=geometries(), seed=st.integers(0, 2**32 - 1), one_hot=st.booleans(),
       blocks=st.sampled_from(["as chosen", "one sample each", "one sample each, threads"]))
def test_engine_matches_the_layers_on_drawn_geometries(geometry, seed, one_hot, blocks):
    params, x, t = _drawn_case(geometry, seed, one_hot)
    assert fast._applies(params, x)
    with (
        mock.patch.object(fast, "_BLOCK_BYTES", 1 if blocks != "as chosen" else fast._BLOCK_BYTES),
        mock.patch.object(
            fast, "_MIN_FLOP_FOR_THREADS", 0 if "threads" in blocks else fast._MIN_FLOP_FOR_THREADS
        ),
        mock.patch.object(fast, "_workers", (lambda: 2) if "threads" in blocks else fast._workers),
    ):
        got = fast.gradients(params, x, t)
    for name, g in got[1].items():
        assert g.dtype == geometry["dtype"] and g.shape == params[name].shape, name
    assert_near_the_layers(got, params, x, t, f"{geometry}, {blocks}")


@settings(max_examples=40, deadline=None)
@given(geometry=geometries(sizes=st.integers(4, 19)), seed=st.integers(0, 2**32 - 1),
       one_hot=st.booleans())
def test_sizes_the_engine_does_not_take_go_to_the_layers_unchanged(geometry, seed, one_hot):
    params, x, t = _drawn_case(geometry, seed, one_hot)
    H, W = geometry["H"], geometry["W"]
    assert fast._applies(params, x) == (H % 4 == 0 and W % 4 == 0)
    got = fast.gradients(params, x, t)
    expected = layer_reference(params, x, t)
    if not fast._applies(params, x):  # the layers themselves, to the last bit
        assert got[0] == expected[0]
        for name in PARAM_NAMES:
            np.testing.assert_array_equal(got[1][name], expected[1][name], err_msg=name)
    else:
        assert_near_the_layers(got, params, x, t, str(geometry))


@settings(max_examples=60, deadline=None)
@given(geometry=geometries(), seed=st.integers(0, 2**32 - 1), one_hot=st.booleans(),
       learning_rate=st.floats(0, 2), weight_decay=st.sampled_from([0.0, 1e-4, 0.01, 0.5]))
def test_fast_train_one_iter_gives_the_reference_numbers(geometry, seed, one_hot,
                                                         learning_rate, weight_decay):
    params, x, t = _drawn_case(geometry, seed, one_hot)
    copies = {k: v.copy() for k, v in params.items()}
    settings = dict(learning_rate=learning_rate, weight_decay=weight_decay)
    got = fast.train_one_iter(**params, x=x, t=t, **settings)
    rounded = tinynet.train_one_iter(**params, x=x, t=t, **settings)    # same dtypes
    params64, x64, t64 = _in_float64(params, x, t)
    exact = tinynet.train_one_iter(**params64, x=x64, t=t64, **settings)
    float32 = np.float32 in (geometry["dtype"], geometry["x_dtype"])
    for name, new, plain, want in zip(PARAM_NAMES, got, rounded, exact, strict=True):
        p = params[name]
        np.testing.assert_array_equal(p, copies[name], err_msg=f"{name} modified")
        assert new.dtype == plain.dtype == p.dtype, name
        if learning_rate == 0:
            np.testing.assert_array_equal(new, p, err_msg=name)
            continue
        # compare on the scale of the step, learning_rate * (grad + weight_decay * p); in
        # float32 as near as the plain float32 step is, twice over, plus the rounding of p
        step = float(np.max(np.abs(want - p)))
        difference = float(np.max(np.abs(new - want)))
        allowed = 1e-10 * step
        if float32:
            allowed = (1e-3 * step + 2 * float(np.max(np.abs(plain - want)))
                       + 4 * np.finfo(np.float32).eps * float(np.max(np.abs(p))))
        assert difference <= allowed, (name, difference, allowed)


@pytest.mark.parametrize("F1, F2", [(2, 16), (3, 13), (3, 32), (1, 23), (5, 23), (24, 1)])
def test_conv2_far_wider_or_narrower_than_conv1(F1, F2):
    """The geometries of the reported crash (conv2 with more than 4x conv1's values) and
    the opposite extreme, with one sample of 16x16."""
    rng = np.random.default_rng(F1 * 100 + F2)
    params, x, t = random_case(rng, N=1, C=1, H=16, W=16, F1=F1, F2=F2)
    assert fast._applies(params, x)
    assert_close(fast.gradients(params, x, t), layer_reference(params, x, t), 1e-12,
                 f"F1={F1}, F2={F2}")


SHAPES = [
    dict(N=1, C=1, H=4, W=4, F1=2, F2=3),       # smallest: one sample, 1x1 after the pools
    dict(N=3, C=2, H=8, W=12, F1=3, F2=5),      # non-square
    dict(N=7, C=3, H=12, W=8, F1=5, F2=2, K=4),
    dict(N=64, C=1, H=8, W=8, F1=8, F2=16),     # the digits
    dict(N=37, C=1, H=28, W=28, F1=16, F2=32),  # MNIST-sized, several blocks
]


@pytest.mark.parametrize("shape", SHAPES)
def test_engine_matches_the_layers_float64(shape):
    rng = np.random.default_rng(shape["N"])
    params, x, t = random_case(rng, **shape)
    net = TinyNet(**params)
    assert fast.fast_path_applies(net, x)
    assert_close(fast.loss_and_gradients(net, x, t), layer_reference(params, x, t),
                 1e-12, str(shape))


@pytest.mark.parametrize("shape", SHAPES[1:4])
def test_engine_matches_the_layers_float32(shape):
    rng = np.random.default_rng(10 + shape["N"])
    params, x, t = random_case(rng, **shape, dtype=np.float32)
    got = fast.loss_and_gradients(TinyNet(**params), x, t)
    assert all(g.dtype == np.float32 for g in got[1].values())
    assert_close(got, layer_reference(params, x, t), 2e-5, str(shape))


def test_ties_in_pooling_windows_go_to_the_first_maximum():
    """Integer inputs and dyadic weights: every sum is exact, so windows tie often."""
    rng = np.random.default_rng(5)
    N, C, H, W, F1, F2, K = 6, 2, 8, 8, 3, 4, 5
    params = {
        "W_conv1": rng.integers(-2, 3, (F1, C, 3, 3)) / 4.0,
        "b_conv1": rng.integers(-2, 3, F1) / 4.0,
        "W_conv2": rng.integers(-2, 3, (F2, F1, 3, 3)) / 4.0,
        "b_conv2": rng.integers(-2, 3, F2) / 4.0,
        "W_fc": rng.integers(-2, 3, (F2 * 2 * 2, K)) / 8.0,
        "b_fc": rng.integers(-2, 3, K) / 8.0,
    }
    x = rng.integers(0, 2, (N, C, H, W)).astype(np.float64)
    x[0] = 0.0  # a blank image: every window of it ties
    t = rng.integers(0, K, N)
    assert_close(fast.loss_and_gradients(TinyNet(**params), x, t),
                 layer_reference(params, x, t), 1e-12, "ties")


def test_one_hot_labels_and_indices_agree():
    rng = np.random.default_rng(8)
    params, x, t = random_case(rng, N=5, C=1, H=8, W=8, F1=3, F2=4)
    by_index = fast.loss_and_gradients(TinyNet(**params), x, t)
    by_one_hot = fast.loss_and_gradients(TinyNet(**params), x, np.eye(10)[t])
    assert_close(by_one_hot, by_index, 0.0 + 1e-300, "one-hot")


@pytest.mark.parametrize("shape", [
    dict(N=3, C=1, H=6, W=8, F1=2, F2=3),   # 6 is not divisible by 4
    dict(N=2, C=2, H=9, W=7, F1=3, F2=2),   # odd sizes
])
def test_sizes_outside_the_layout_fall_back_to_the_layers(shape):
    rng = np.random.default_rng(3)
    params, x, t = random_case(rng, **shape)
    net = TinyNet(**params)
    assert not fast.fast_path_applies(net, x)
    assert_close(fast.loss_and_gradients(net, x, t), layer_reference(params, x, t),
                 1e-15, "fallback")


def test_other_kernels_fall_back_to_the_layers():
    rng = np.random.default_rng(4)
    params = tinynet.init_params((1, 12, 12), 3, 4, 5, kernel_size=5, rng=rng)
    x = rng.standard_normal((4, 1, 12, 12))
    t = rng.integers(0, 5, 4)
    net = TinyNet(**params)
    assert not fast.fast_path_applies(net, x)
    assert_close(fast.loss_and_gradients(net, x, t), layer_reference(params, x, t),
                 1e-15, "5x5 kernels")


def test_inputs_are_not_modified():
    rng = np.random.default_rng(9)
    params, x, t = random_case(rng, N=9, C=2, H=8, W=8, F1=3, F2=4)
    copies = {k: v.copy() for k, v in params.items()}, x.copy(), t.copy()
    fast.loss_and_gradients(TinyNet(**params), x, t)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(params[name], copies[0][name], err_msg=name)
    np.testing.assert_array_equal(x, copies[1])
    np.testing.assert_array_equal(t, copies[2])


def test_blocks_and_threads_do_not_change_the_result(monkeypatch):
    """Many small blocks, with and without threads, add up to the same gradients."""
    rng = np.random.default_rng(11)
    params, x, t = random_case(rng, N=23, C=1, H=12, W=12, F1=4, F2=6)
    reference = layer_reference(params, x, t)
    one_block = fast.loss_and_gradients(TinyNet(**params), x, t)
    monkeypatch.setattr(fast, "_BLOCK_BYTES", 1)            # one sample per block
    monkeypatch.setattr(fast, "_MIN_FLOP_FOR_THREADS", 0)   # threads whenever BLAS has 2
    runs = [fast.loss_and_gradients(TinyNet(**params), x, t) for _ in range(3)]
    for run in runs:
        assert_close(run, reference, 1e-12, "blocks")
        assert_close(run, one_block, 1e-12, "blocks vs one block")
        for name in PARAM_NAMES:  # deterministic: bit for bit the same every time
            np.testing.assert_array_equal(run[1][name], runs[0][1][name])
    monkeypatch.setattr(fast, "_workers", lambda: 2)
    threaded = fast.loss_and_gradients(TinyNet(**params), x, t)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(threaded[1][name], runs[0][1][name])


@pytest.mark.parametrize("learning_rate, weight_decay", [(0.0, 0.0), (0.0, 0.3), (0.2, 0.0),
                                                         (0.2, 0.05)])
def test_train_one_iter_equals_the_layers_step(learning_rate, weight_decay):
    rng = np.random.default_rng(12)
    params, x, t = random_case(rng, N=6, C=1, H=8, W=8, F1=3, F2=4)
    _, grads = layer_reference(params, x, t)
    got = tinynet.train_one_iter(**params, x=x, t=t, learning_rate=learning_rate,
                                 weight_decay=weight_decay)
    for name, new in zip(PARAM_NAMES, got, strict=True):
        p = params[name]
        expected = p - learning_rate * (grads[name] + weight_decay * p)
        np.testing.assert_allclose(new, expected, rtol=1e-12, atol=1e-15, err_msg=name)
        if learning_rate == 0:
            np.testing.assert_array_equal(new, p)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("learning_rate, weight_decay", [(0.2, 0.0), (0.2, 0.05)])
def test_both_steps_are_the_formula_on_their_gradients_bit_for_bit(dtype, learning_rate,
                                                                    weight_decay):
    # each train_one_iter is p - lr * (grad + wd * p) on its own gradients and
    # nothing else (no extra rounding, no dtype change); the gradients
    # themselves are compared with each other in the tests above
    rng = np.random.default_rng(14)
    params, x, t = random_case(rng, N=9, C=2, H=8, W=8, F1=3, F2=4, dtype=dtype)
    for step, (_, grads) in (
        (fast.train_one_iter, fast.loss_and_gradients(TinyNet(**params), x, t)),
        (tinynet.train_one_iter, layer_reference(params, x, t)),
    ):
        got = step(**params, x=x, t=t, learning_rate=learning_rate, weight_decay=weight_decay)
        for name, new in zip(PARAM_NAMES, got, strict=True):
            p = params[name]
            assert new.dtype == dtype, name
            np.testing.assert_array_equal(
                new, p - learning_rate * (grads[name] + weight_decay * p), err_msg=name)


def _near_misses(params):
    """Parameter sets one entry off from the valid ``params``, with the layers' message."""
    F1, F2 = params["W_conv1"].shape[0], params["W_conv2"].shape[0]
    rows, K = params["W_fc"].shape
    yield "b_conv1", np.zeros(F1 + 1), rf"expected shape \({F1},\) .* got \({F1 + 1},\)"
    yield "W_conv2", np.zeros((F2, F1 + 1, 3, 3)), f"W_conv2 must take the {F1} channels"
    yield "b_conv2", np.zeros(F2 - 1), rf"expected shape \({F2},\) .* got \({F2 - 1},\)"
    yield "W_fc", np.zeros((rows - 1, K)), f"W expects {rows - 1}"
    yield "b_fc", np.zeros(K + 1), rf"expected shape \({K},\) .* got \({K + 1},\)"
    yield "W_conv1", np.zeros((F1, 1, 3, 3, 1)), r"W_conv1 must be a 4-D array \(F1, C, KH, KW\)"


@pytest.mark.parametrize("miss", range(6))
def test_malformed_parameters_get_the_layers_messages(miss):
    rng = np.random.default_rng(15)
    params, x, t = random_case(rng, N=4, C=1, H=8, W=8, F1=3, F2=4)
    name, bad, message = list(_near_misses(params))[miss]
    broken = dict(params, **{name: bad})
    with pytest.raises(ValueError) as layers_error:
        TinyNet(**broken).forward(x, t)
    assert re.search(message, str(layers_error.value)), str(layers_error.value)
    assert not fast._applies(broken, x)
    for step in (tinynet.train_one_iter, fast.train_one_iter):
        with pytest.raises(ValueError) as step_error:
            step(**broken, x=x, t=t, learning_rate=0.1, weight_decay=0.0)
        assert str(step_error.value) == str(layers_error.value)


def test_non_finite_scores_raise_the_layers_message():
    rng = np.random.default_rng(13)
    params, x, t = random_case(rng, N=2, C=1, H=8, W=8, F1=2, F2=3)
    params["W_fc"] = params["W_fc"] * 1e308
    with np.errstate(all="ignore"), pytest.raises(ValueError, match="NaN or infinite"):
        fast.loss_and_gradients(TinyNet(**params), x, t)


def test_cleared_workspaces_give_the_same_numbers():
    rng = np.random.default_rng(14)
    params, x, t = random_case(rng, N=5, C=1, H=8, W=8, F1=3, F2=4)
    first = fast.loss_and_gradients(TinyNet(**params), x, t)
    fast.clear_workspaces()
    again = fast.loss_and_gradients(TinyNet(**params), x, t)
    for name in PARAM_NAMES:
        np.testing.assert_array_equal(again[1][name], first[1][name], err_msg=name)


@pytest.mark.parametrize("chunk", [1, 10**4, 10**12])
def test_product_chunks_do_not_change_the_result(monkeypatch, chunk):
    """One BLAS call per image, a few images, or one call per product: same numbers."""
    rng = np.random.default_rng(15)
    params, x, t = random_case(rng, N=6, C=2, H=12, W=8, F1=4, F2=6)
    monkeypatch.setattr(fast, "_GEMM_CHUNK", chunk)
    assert_close(fast.loss_and_gradients(TinyNet(**params), x, t),
                 layer_reference(params, x, t), 1e-12, f"chunk {chunk}")


def test_chunk_rows_divide_the_rows_and_respect_the_limit(monkeypatch):
    monkeypatch.setattr(fast, "_GEMM_CHUNK", 1000)
    assert fast._chunk_rows(96, 8, 10) == 96      # 960 multiply-adds: one chunk
    assert fast._chunk_rows(96, 8, 20) == 48      # 1920: two chunks of 48 rows
    assert fast._chunk_rows(96, 8, 200) == 8      # even one unit is over: one unit
    assert fast._chunk_rows(40, 8, 20) == 40      # 800: all five units
    assert fast._chunk_rows(56, 8, 20) == 8       # 7 units: 7 does not split


@pytest.mark.parametrize("N, block_bytes, expected", [
    (100, 16 * 13 * 14 * 14 * 16 * 8, [13] * 7 + [9]),   # at most 16 a block: 8 blocks, not 7
    (64, 1 << 30, [64]),                                 # one block is left alone
    (5, 1, [1] * 5),                                     # 6 blocks asked for 5 samples: one each
])
def test_blocks_are_nearly_equal_and_even_in_number(monkeypatch, N, block_bytes, expected):
    """Two threads get equal work; the blocks depend on the shapes only."""
    sizes = []
    original = fast._block_pass

    def recording(xb, *args):
        sizes.append(xb.shape[0])
        return original(xb, *args)

    monkeypatch.setattr(fast, "_block_pass", recording)
    monkeypatch.setattr(fast, "_BLOCK_BYTES", block_bytes)
    monkeypatch.setattr(fast, "_MIN_FLOP_FOR_THREADS", float("inf"))   # in order, one thread
    rng = np.random.default_rng(16)
    params, x, t = random_case(rng, N=N, C=1, H=28, W=28, F1=16, F2=32)
    got = fast.loss_and_gradients(TinyNet(**params), x, t)
    assert sizes == expected
    assert_close(got, layer_reference(params, x, t), 1e-12, "even blocks")
