"""The loop versions in tinynet.naive agree with the vectorised layers."""

import numpy as np
import pytest
from grids import CONV_GRID, POOL_GRID, conv_id, pool_id

from tinynet.layers import Convolution, MaxPool
from tinynet.naive import (
    conv_backward_naive,
    conv_forward_naive,
    maxpool_backward_naive,
    maxpool_forward_naive,
)

RTOL = ATOL = 1e-12


@pytest.mark.parametrize("case", CONV_GRID, ids=conv_id)
def test_convolution_naive_equals_vectorised(case, rng):
    N, C, F, H, W, KH, KW, stride, pad = case
    x = rng.standard_normal((N, C, H, W))
    Wt = rng.standard_normal((F, C, KH, KW))
    b = rng.standard_normal(F)
    layer = Convolution(Wt, b, stride=stride, pad=pad)

    out = layer.forward(x)
    out_naive = conv_forward_naive(x, Wt, b, stride, pad)
    assert out.shape == out_naive.shape
    np.testing.assert_allclose(out, out_naive, rtol=RTOL, atol=ATOL)

    dout = rng.standard_normal(out.shape)
    dx = layer.backward(dout)
    dx_naive, dW_naive, db_naive = conv_backward_naive(dout, x, Wt, stride, pad)
    np.testing.assert_allclose(dx, dx_naive, rtol=RTOL, atol=ATOL, err_msg="dx")
    np.testing.assert_allclose(layer.dW, dW_naive, rtol=RTOL, atol=ATOL, err_msg="dW")
    np.testing.assert_allclose(layer.db, db_naive, rtol=RTOL, atol=ATOL, err_msg="db")


@pytest.mark.parametrize("case", POOL_GRID, ids=pool_id)
@pytest.mark.parametrize("values", ["distinct", "ties"])
def test_maxpool_naive_equals_vectorised(case, values, rng, distinct):
    N, C, H, W, ph, pw, stride, pad = case
    # with many ties both versions must pick the same (first) maximum
    x = distinct((N, C, H, W)) if values == "distinct" else rng.integers(-2, 2, (N, C, H, W)) * 1.0
    layer = MaxPool(ph, pw, stride=stride, pad=pad)

    out = layer.forward(x)
    out_naive = maxpool_forward_naive(x, ph, pw, stride, pad)
    assert out.shape == out_naive.shape
    np.testing.assert_array_equal(out, out_naive)

    dout = rng.standard_normal(out.shape)
    np.testing.assert_allclose(layer.backward(dout),
                               maxpool_backward_naive(dout, x, ph, pw, stride, pad),
                               rtol=RTOL, atol=ATOL)


def test_naive_versions_keep_float32(rng):
    x = rng.standard_normal((2, 2, 5, 5)).astype(np.float32)
    Wt = rng.standard_normal((3, 2, 3, 3)).astype(np.float32)
    b = rng.standard_normal(3).astype(np.float32)
    out = conv_forward_naive(x, Wt, b, 1, 1)
    assert out.dtype == np.float32
    grads = conv_backward_naive(out, x, Wt, 1, 1)
    assert all(g.dtype == np.float32 for g in grads)
    assert maxpool_forward_naive(x, 2, 2, 2).dtype == np.float32
