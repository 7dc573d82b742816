"""Plain loop versions of convolution and max pooling.

These follow the definitions directly, one output pixel at a time, so they
are easy to read and slow. The notebooks teach them first; the tests check
that the vectorised layers in :mod:`tinynet.layers` agree with them.
"""

import numpy as np

from .im2col import conv_output_size, pad_images


def conv_forward_naive(x, W, b, stride=1, pad=0):
    """Convolution by looping over output pixels.

    Parameters
    ----------
    x : ndarray of shape (N, C, H, W)
    W : ndarray of shape (F, C, KH, KW)
    b : ndarray of shape (F,)

    Returns
    -------
    out : ndarray of shape (N, F, OH, OW)
    """
    N, C, H, W_in = x.shape
    F, _, KH, KW = W.shape
    OH = conv_output_size(H, KH, stride, pad)
    OW = conv_output_size(W_in, KW, stride, pad)
    xp = pad_images(x, pad)
    out = np.empty((N, F, OH, OW), dtype=np.result_type(x, W))
    for oh in range(OH):
        for ow in range(OW):
            top, left = oh * stride, ow * stride
            window = xp[:, :, top:top + KH, left:left + KW]  # (N, C, KH, KW)
            # every sample times every filter: sum over C, KH, KW
            out[:, :, oh, ow] = np.tensordot(window, W, axes=([1, 2, 3], [1, 2, 3])) + b
    return out


def conv_backward_naive(dout, x, W, stride=1, pad=0):
    """Gradients of the convolution by looping over output pixels.

    Each output pixel ``out[n, f, oh, ow]`` was a dot product of one window
    with one filter, so its gradient flows back to that window (for ``dx``)
    and to that filter (for ``dW``).

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
    dW : ndarray of shape (F, C, KH, KW)
    db : ndarray of shape (F,)
    """
    N, C, H, W_in = x.shape
    F, _, KH, KW = W.shape
    _, _, OH, OW = dout.shape
    xp = pad_images(x, pad)
    dxp = np.zeros(xp.shape, dtype=np.result_type(dout, W))
    dW = np.zeros(W.shape, dtype=np.result_type(dout, x))
    for oh in range(OH):
        for ow in range(OW):
            top, left = oh * stride, ow * stride
            window = xp[:, :, top:top + KH, left:left + KW]  # (N, C, KH, KW)
            g = dout[:, :, oh, ow]                            # (N, F)
            dW += np.tensordot(g, window, axes=([0], [0]))    # (F, C, KH, KW)
            dxp[:, :, top:top + KH, left:left + KW] += np.tensordot(g, W, axes=([1], [0]))
    db = dout.sum(axis=(0, 2, 3))
    return dxp[:, :, pad:pad + H, pad:pad + W_in], dW, db


def maxpool_forward_naive(x, pool_h, pool_w, stride=1, pad=0):
    """Max pooling by looping over output pixels (padding holds -inf).

    Returns
    -------
    out : ndarray of shape (N, C, OH, OW)
    """
    N, C, H, W = x.shape
    OH = conv_output_size(H, pool_h, stride, pad)
    OW = conv_output_size(W, pool_w, stride, pad)
    xp = pad_images(x, pad, value=-np.inf)
    out = np.empty((N, C, OH, OW), dtype=x.dtype)
    for oh in range(OH):
        for ow in range(OW):
            top, left = oh * stride, ow * stride
            out[:, :, oh, ow] = xp[:, :, top:top + pool_h, left:left + pool_w].max(axis=(2, 3))
    return out


def maxpool_backward_naive(dout, x, pool_h, pool_w, stride=1, pad=0):
    """Route each output gradient to its window's first maximum (row-major).

    Returns
    -------
    dx : ndarray of shape (N, C, H, W)
    """
    N, C, H, W = x.shape
    _, _, OH, OW = dout.shape
    xp = pad_images(x, pad, value=-np.inf)
    dxp = np.zeros(xp.shape, dtype=dout.dtype)
    n_idx, c_idx = np.meshgrid(np.arange(N), np.arange(C), indexing="ij")
    for oh in range(OH):
        for ow in range(OW):
            top, left = oh * stride, ow * stride
            window = xp[:, :, top:top + pool_h, left:left + pool_w].reshape(N, C, -1)
            first_max = window.argmax(axis=2)  # argmax returns the first of ties
            i, j = np.divmod(first_max, pool_w)
            dxp[n_idx, c_idx, top + i, left + j] += dout[:, :, oh, ow]
    return dxp[:, :, pad:pad + H, pad:pad + W]
