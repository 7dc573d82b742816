"""Tests for tinynet.im2col: the column layout, the adjoint, output sizes."""

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tinynet.im2col import col2im, conv_output_size, im2col, pad_images


def test_im2col_hand_computed_layout():
    x = np.arange(1.0, 10.0).reshape(1, 1, 3, 3)
    # 1 2 3
    # 4 5 6     each 2x2 window, read row by row, is one column
    # 7 8 9
    expected = np.array([
        [1, 2, 4, 5],
        [2, 3, 5, 6],
        [4, 5, 7, 8],
        [5, 6, 8, 9],
    ], dtype=float).T
    np.testing.assert_array_equal(im2col(x, 2, 2), expected)


def test_im2col_layout_with_channels_batch_stride_and_pad():
    x = np.arange(2 * 2 * 3 * 3, dtype=float).reshape(2, 2, 3, 3) + 1
    KH, KW, stride, pad = 2, 2, 2, 1
    col = im2col(x, KH, KW, stride, pad)
    OH = OW = (3 + 2 - 2) // 2 + 1
    assert col.shape == (2 * KH * KW, 2 * OH * OW)
    # rows are (c, i, j), columns (n, oh, ow); outside the image is 0
    for c, i, j, n, oh, ow in itertools.product(range(2), range(KH), range(KW),
                                                range(2), range(OH), range(OW)):
        r, q = oh * stride + i - pad, ow * stride + j - pad
        value = x[n, c, r, q] if 0 <= r < 3 and 0 <= q < 3 else 0.0
        assert col[(c * KH + i) * KW + j, (n * OH + oh) * OW + ow] == value


def test_col2im_of_im2col_is_identity_for_a_tiling():
    # stride == kernel and no pad: every cell is in exactly one window
    x = np.random.default_rng(1).standard_normal((2, 3, 6, 4))
    np.testing.assert_array_equal(col2im(im2col(x, 2, 2, 2, 0), x.shape, 2, 2, 2, 0), x)


def test_col2im_counts_overlaps():
    # adding back a column of ones counts how many windows cover each cell
    x_shape = (1, 1, 4, 4)
    ones = np.ones((9, 4))
    counts = col2im(ones, x_shape, 3, 3, 1, 0)[0, 0]
    expected = np.array([[1, 2, 2, 1], [2, 4, 4, 2], [2, 4, 4, 2], [1, 2, 2, 1]])
    np.testing.assert_array_equal(counts, expected)


GEOMETRIES = [
    # (N, C, H, W, KH, KW, stride, pad)
    (1, 1, 3, 3, 2, 2, 1, 0),
    (2, 3, 7, 5, 3, 3, 2, 1),
    (2, 2, 5, 6, 2, 3, 1, 2),
    (3, 1, 6, 6, 5, 5, 3, 2),
    (1, 2, 4, 7, 1, 1, 2, 0),
    (2, 1, 5, 5, 3, 2, 3, 1),
]


@pytest.mark.parametrize("N, C, H, W, KH, KW, stride, pad", GEOMETRIES)
def test_col2im_is_the_adjoint_of_im2col(N, C, H, W, KH, KW, stride, pad, rng):
    x = rng.standard_normal((N, C, H, W))
    col = im2col(x, KH, KW, stride, pad)
    OH = (H + 2 * pad - KH) // stride + 1
    OW = (W + 2 * pad - KW) // stride + 1
    assert col.shape == (C * KH * KW, N * OH * OW)
    c = rng.standard_normal(col.shape)
    back = col2im(c, x.shape, KH, KW, stride, pad)
    assert back.shape == x.shape
    # <im2col(x), c> == <x, col2im(c)>
    assert np.sum(col * c) == pytest.approx(np.sum(x * back), rel=1e-12, abs=1e-12)


@pytest.mark.parametrize("N, C, H, W, KH, KW, stride, pad", GEOMETRIES)
def test_im2col_does_not_modify_x(N, C, H, W, KH, KW, stride, pad, rng):
    x = rng.standard_normal((N, C, H, W))
    x.flags.writeable = False
    col = im2col(x, KH, KW, stride, pad)
    col_copy = col.copy()
    col.flags.writeable = False
    col2im(col, x.shape, KH, KW, stride, pad)
    np.testing.assert_array_equal(col, col_copy)


def test_pad_images_pads_spatial_axes_only(rng):
    x = rng.standard_normal((2, 3, 4, 5))
    xp = pad_images(x, 2, value=-7.0)
    assert xp.shape == (2, 3, 8, 9)
    np.testing.assert_array_equal(xp[:, :, 2:6, 2:7], x)
    border = np.ones(xp.shape, dtype=bool)
    border[:, :, 2:6, 2:7] = False
    assert np.all(xp[border] == -7.0)
    assert pad_images(x, 0) is x


@pytest.mark.parametrize("size, kernel, stride, pad, expected", [
    (28, 3, 1, 1, 28), (28, 2, 2, 0, 14), (5, 2, 2, 0, 2), (7, 3, 2, 1, 4),
    (7, 5, 3, 2, 3), (4, 4, 1, 0, 1), (1, 3, 1, 1, 1),
])
def test_conv_output_size_examples(size, kernel, stride, pad, expected):
    assert conv_output_size(size, kernel, stride, pad) == expected


@settings(max_examples=60, deadline=None)
@given(size=st.integers(1, 40), kernel=st.integers(1, 7), stride=st.integers(1, 5),
       pad=st.integers(0, 3))
def test_conv_output_size_counts_the_windows_that_fit(size, kernel, stride, pad):
    padded = size + 2 * pad
    fitting = [start for start in range(0, padded, stride) if start + kernel <= padded]
    if kernel <= padded:
        assert conv_output_size(size, kernel, stride, pad) == len(fitting)
        assert (
            conv_output_size(size, kernel, stride, pad) == (size + 2 * pad - kernel) // stride + 1
        )
