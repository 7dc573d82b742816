"""Turning convolution into one matrix multiplication: ``im2col`` and ``col2im``.

A convolution slides a ``KH x KW`` window over a padded input. ``im2col``
copies every window into one column of a matrix, so that the whole layer
becomes ``W_matrix @ columns``. ``col2im`` is its adjoint: it adds each
column back onto the window it came from, which is exactly what the backward
pass needs.

Both loop only over the ``KH * KW`` kernel offsets; each step moves a whole
strided slice of the batch at once.
"""

import numpy as np


def conv_output_size(size, kernel, stride, pad):
    """Output length of a convolution or pooling along one axis.

    ``out = (size + 2 * pad - kernel) // stride + 1``: the number of window
    positions that fit, rounding down (a window never hangs over the edge).
    """
    return (size + 2 * pad - kernel) // stride + 1


def pad_images(x, pad, value=0.0):
    """Pad the last two (spatial) axes of a 4-D array by ``pad`` on each side.

    Works for any order of the first two axes, (N, C, H, W) or (C, N, H, W).
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
    """
    N, C, H, W = x.shape
    OH = conv_output_size(H, KH, stride, pad)
    OW = conv_output_size(W, KW, stride, pad)
    xp = pad_images(x, pad)                                   # (N, C, H + 2 pad, W + 2 pad)
    col = np.empty((C, KH, KW, N, OH, OW), dtype=x.dtype)
    for i in range(KH):
        for j in range(KW):
            window = xp[window_slice(i, j, stride, OH, OW)]    # (N, C, OH, OW)
            col[:, i, j] = window.transpose(1, 0, 2, 3)        # (C, N, OH, OW)
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
        Where windows overlap, their contributions are summed.
    """
    N, C, H, W = x_shape
    OH = conv_output_size(H, KH, stride, pad)
    OW = conv_output_size(W, KW, stride, pad)
    col = col.reshape(C, KH, KW, N, OH, OW)
    dxp = np.zeros((N, C, H + 2 * pad, W + 2 * pad), dtype=col.dtype)
    for i in range(KH):
        for j in range(KW):
            # (C, N, OH, OW) -> (N, C, OH, OW), added onto offset (i, j) of every window
            dxp[window_slice(i, j, stride, OH, OW)] += col[:, i, j].transpose(1, 0, 2, 3)
    return dxp[:, :, pad:pad + H, pad:pad + W]
