"""Turning convolution into one matrix multiplication: ``im2col`` and ``col2im``.

A convolution slides a ``KH x KW`` window over a padded input. ``im2col``
copies every window into one column of a matrix, so that the whole layer
becomes ``W_matrix @ columns``. ``col2im`` is its adjoint: it adds each
column back onto the window it came from, which is exactly what the backward
pass needs.

Both loop only over the ``KH * KW`` kernel offsets; each step moves a whole
strided slice of the batch at once. For tiny images (the 4x4 maps deep in
TinyNet on 8x8 digits) those slices are so short that numpy's per-row work
dominates; there both functions instead multiply by a small 0/1 matrix that
maps window entries to pixels (:func:`window_matrix`), which gives the same
numbers in a few large operations.
"""

import functools

import numpy as np

# Use the window matrix when it has at most this many entries (KH*KW*OH*OW*H*W).
_SMALL = 4096


def conv_output_size(size, kernel, stride, pad):
    """Output length of a convolution or pooling along one axis.

    ``out = (size + 2 * pad - kernel) // stride + 1``: the number of window
    positions that fit, rounding down (a window never hangs over the edge).
    """
    return (size + 2 * pad - kernel) // stride + 1


def pad_images(x, pad, value=0.0):
    """Pad the last two (spatial) axes of a 4-D array by ``pad`` on each side.

    Works for any order of the first two axes, (N, C, H, W) or (C, N, H, W),
    and keeps that memory layout.
    """
    if pad == 0:
        return x
    A, B, H, W = x.shape
    if value == 0:
        xp = np.zeros((A, B, H + 2 * pad, W + 2 * pad), dtype=x.dtype)
    else:
        xp = np.full((A, B, H + 2 * pad, W + 2 * pad), value, dtype=x.dtype)
    xp[:, :, pad:pad + H, pad:pad + W] = x
    return xp


def window_slice(i, j, stride, OH, OW):
    """The strided slice that picks offset (i, j) of every window."""
    return (
        slice(None),
        slice(None),
        slice(i, i + stride * (OH - 1) + 1, stride),
        slice(j, j + stride * (OW - 1) + 1, stride),
    )


@functools.lru_cache(maxsize=64)
def window_matrix(H, W, KH, KW, stride, pad, dtype=np.float64):
    """The 0/1 matrix that picks every window entry out of an image.

    Returns
    -------
    S : ndarray of shape (KH * KW * OH * OW, H * W)
        ``S[(i, j, oh, ow), (h, w)] = 1`` when offset (i, j) of window
        (oh, ow) falls on pixel (h, w); rows that fall on padding are zero.
        So ``windows = image_flat @ S.T`` (im2col) and
        ``image_flat = windows @ S`` (col2im, adding overlaps).
    """
    OH = conv_output_size(H, KH, stride, pad)
    OW = conv_output_size(W, KW, stride, pad)
    S = np.zeros((KH, KW, OH, OW, H + 2 * pad, W + 2 * pad), dtype=dtype)
    i, j, oh, ow = np.indices((KH, KW, OH, OW))
    S[i, j, oh, ow, oh * stride + i, ow * stride + j] = 1
    S = S[..., pad:pad + H, pad:pad + W].reshape(KH * KW * OH * OW, H * W)
    S.flags.writeable = False  # shared through the cache
    return S


def _is_small(H, W, KH, KW, OH, OW):
    return KH * KW * OH * OW * H * W <= _SMALL


def im2col(x, KH, KW, stride=1, pad=0):
    """Copy every ``KH x KW`` window of ``x`` into a column.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    KH, KW : int
        Window height and width.
    stride, pad : int

    Returns
    -------
    col : ndarray of shape (C * KH * KW, N * OH * OW)
        Row ``(c, i, j)`` holds the input value at channel ``c`` and kernel
        offset ``(i, j)`` for every window; column ``(n, oh, ow)`` is one
        window. ``OH = (H + 2 pad - KH) // stride + 1``, likewise ``OW``.

    Notes
    -----
    The work happens with the channel axis first, (C, N, H, W), because the
    rows of ``col`` are grouped by channel: each of the ``KH * KW`` copies
    then moves whole contiguous blocks. If ``x`` is itself a transposed view
    of a (C, N, H, W) array (as the layers produce), no transpose is copied.
    """
    N, C, H, W = x.shape
    OH = conv_output_size(H, KH, stride, pad)
    OW = conv_output_size(W, KW, stride, pad)
    if _is_small(H, W, KH, KW, OH, OW):
        S = window_matrix(H, W, KH, KW, stride, pad, x.dtype)
        windows = x.transpose(1, 0, 2, 3).reshape(C * N, H * W) @ S.T       # (C*N, KH*KW*OH*OW)
        windows = windows.reshape(C, N, KH * KW, OH * OW).transpose(0, 2, 1, 3)  # (C, KH*KW, N, OH*OW)
        return windows.reshape(C * KH * KW, N * OH * OW)                   # copies
    xp = pad_images(x.transpose(1, 0, 2, 3), pad)            # (C, N, H + 2 pad, W + 2 pad)
    col = np.empty((C, KH, KW, N, OH, OW), dtype=x.dtype)
    for i in range(KH):
        for j in range(KW):
            col[:, i, j] = xp[window_slice(i, j, stride, OH, OW)]  # (C, N, OH, OW)
    return col.reshape(C * KH * KW, N * OH * OW)


def col2im(col, x_shape, KH, KW, stride=1, pad=0):
    """Add each column back onto its window: the adjoint of :func:`im2col`.

    Parameters
    ----------
    col : ndarray of shape (C * KH * KW, N * OH * OW)
    x_shape : tuple (N, C, H, W)
        Shape of the input that :func:`im2col` was given.

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
        Where windows overlap, their contributions are summed. (It is a
        view of a (C, N, H, W) array, like the layers' outputs.)
    """
    N, C, H, W = x_shape
    OH = conv_output_size(H, KH, stride, pad)
    OW = conv_output_size(W, KW, stride, pad)
    if _is_small(H, W, KH, KW, OH, OW):
        S = window_matrix(H, W, KH, KW, stride, pad, col.dtype)
        windows = col.reshape(C, KH * KW, N, OH * OW).transpose(0, 2, 1, 3)   # (C, N, KH*KW, OH*OW)
        dx = windows.reshape(C * N, KH * KW * OH * OW) @ S                    # (C*N, H*W)
        return dx.reshape(C, N, H, W).transpose(1, 0, 2, 3)
    col = col.reshape(C, KH, KW, N, OH, OW)
    Hp, Wp = H + 2 * pad, W + 2 * pad
    if stride == KH and stride == KW and OH * stride == Hp and OW * stride == Wp:
        # Windows tile the input exactly: every cell is written once, no sums.
        dxp = np.empty((C, N, Hp, Wp), dtype=col.dtype)
        for i in range(KH):
            for j in range(KW):
                dxp[window_slice(i, j, stride, OH, OW)] = col[:, i, j]
    else:
        dxp = np.zeros((C, N, Hp, Wp), dtype=col.dtype)
        for i in range(KH):
            for j in range(KW):
                dxp[window_slice(i, j, stride, OH, OW)] += col[:, i, j]  # (C, N, OH, OW)
    return dxp[:, :, pad:pad + H, pad:pad + W].transpose(1, 0, 2, 3)   # (N, C, H, W) view
