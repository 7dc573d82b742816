"""The layers of TinyNet, each a small class with ``forward`` and ``backward``.

The protocol, as in chapter 5 to 7 of *Deep Learning from Scratch*:

* ``forward(x)`` computes the output and caches only what ``backward`` needs;
* ``backward(dout)`` takes the gradient of the loss with respect to the
  output, returns the gradient with respect to the input ``dx``, and stores
  the parameter gradients as ``dW`` and ``db``;
* no layer modifies an array passed to it.

Images are channels first everywhere: ``(N, C, H, W)``. float32 and float64
inputs keep their dtype; integer inputs are computed in float64.

``forward`` and ``backward`` check their arguments (shape, dtype, NaN and
infinity), then call ``_forward`` / ``_backward``, which only compute; a
network that has checked its input can call those directly. The fast
training path, :mod:`tinynet.fast`, lives apart and is tested against
these layers.
"""

import numpy as np

from ._checks import as_float_array, as_generator, check_int, check_labels, check_number
from .im2col import col2im, conv_output_size, im2col, pad_images, window_slice

__all__ = ["Convolution", "Relu", "FullyConnected", "MaxPool", "SoftmaxWithLoss",
           "Sigmoid", "Tanh", "Dropout", "BatchNormalization"]

_IMAGE_FIX = (
    "A single image of shape (H, W) becomes a batch with x[None, None]; "
    "a batch of grey images (N, H, W) with x[:, None]."
)


def _check_dout(dout, expected_shape, layer):
    """``dout`` must match the shape of the layer's last output."""
    if expected_shape is None:
        raise RuntimeError(f"{layer}.backward was called before {layer}.forward.")
    dout = as_float_array("dout", dout)
    if dout.shape != expected_shape:
        raise ValueError(
            f"dout must have the shape of {layer}'s output {expected_shape}; "
            f"got {dout.shape}."
        )
    return dout


class Convolution:
    """2-D convolution (strictly, cross-correlation) with bias.

    ``out[n, f, oh, ow] = b[f] + sum_{c, i, j} W[f, c, i, j] *
    x_padded[n, c, oh * stride + i, ow * stride + j]``

    Parameters
    ----------
    W : ndarray of shape (F, C, KH, KW)
        F filters, each spanning all C input channels.
    b : ndarray of shape (F,)
    stride : int, default 1
        Step between neighbouring windows (>= 1).
    pad : int, default 0
        Zeros added on each side of H and W (>= 0).

    Notes
    -----
    Output size: ``OH = (H + 2 pad - KH) // stride + 1`` (likewise ``OW``).
    The layer keeps references to ``W`` and ``b`` (an optimiser that updates
    them in place updates the layer too) and never writes to them.
    """

    def __init__(self, W, b, stride=1, pad=0):
        self.W = as_float_array(
            "W", W, ndim=4, shape_hint="(F, C, KH, KW)",
            fix="A single 3x3 filter on a grey image has shape (1, 1, 3, 3).",
        )
        F = self.W.shape[0]
        self.b = as_float_array("b", b, ndim=1, shape_hint=f"({F},)")
        if self.b.shape != (F,):
            raise ValueError(
                f"b must have one bias per filter: expected shape ({F},) "
                f"because W has {F} filters (W.shape = {self.W.shape}); "
                f"got {self.b.shape}."
            )
        self.stride = check_int("stride", stride, minimum=1)
        self.pad = check_int("pad", pad, minimum=0)
        self.dW = None
        self.db = None
        self._x_shape = None
        self._col = None
        self._out_shape = None

    def forward(self, x):
        """Convolve ``x`` of shape (N, C, H, W) to shape (N, F, OH, OW)."""
        x = as_float_array("x", x, ndim=4, shape_hint="(N, C, H, W)", fix=_IMAGE_FIX)
        return self._forward(x)

    def _forward(self, x):
        N, C, H, W = x.shape
        F, C_w, KH, KW = self.W.shape
        if C != C_w:
            raise ValueError(
                f"x has {C} channels (x.shape = {x.shape}) but the filters W "
                f"expect {C_w} (W.shape = {self.W.shape}). The channel axis of x "
                f"is axis 1: did you mean x.transpose(0, 3, 1, 2) for (N, H, W, C) data?"
            )
        if KH > H + 2 * self.pad or KW > W + 2 * self.pad:
            raise ValueError(
                f"the kernel ({KH}x{KW}) is larger than the padded input "
                f"({H + 2 * self.pad}x{W + 2 * self.pad}: {H}x{W} with pad={self.pad}). "
                f"Use a smaller kernel or a larger pad."
            )
        dtype = np.result_type(x.dtype, self.W.dtype)
        OH = conv_output_size(H, KH, self.stride, self.pad)
        OW = conv_output_size(W, KW, self.stride, self.pad)

        # (C*KH*KW, N*OH*OW): one column per output position
        col = im2col(x.astype(dtype, copy=False), KH, KW, self.stride, self.pad)
        W_mat = self.W.reshape(F, -1).astype(dtype, copy=False)                  # (F, C*KH*KW)
        out = W_mat @ col + self.b.astype(dtype, copy=False)[:, None]           # (F, N*OH*OW)
        out = out.reshape(F, N, OH, OW).transpose(1, 0, 2, 3)                   # (N, F, OH, OW)
        out = np.ascontiguousarray(out)

        self._x_shape = x.shape
        self._col = col
        self._out_shape = out.shape
        return out

    def backward(self, dout):
        """Return dx of shape (N, C, H, W); store dW (F, C, KH, KW) and db (F,)."""
        dout = _check_dout(dout, self._out_shape, "Convolution")
        return self._backward(dout)

    def _backward(self, dout):
        F, C, KH, KW = self.W.shape
        col = self._col
        dtype = col.dtype
        dout_mat = dout.transpose(1, 0, 2, 3).reshape(F, -1)                # (F, N*OH*OW)
        dout_mat = dout_mat.astype(dtype, copy=False)

        self.dW = (dout_mat @ col.T).reshape(self.W.shape).astype(self.W.dtype, copy=False)
        self.db = dout_mat.sum(axis=1).astype(self.b.dtype, copy=False)
        W_mat = self.W.reshape(F, -1).astype(dtype, copy=False)              # (F, C*KH*KW)
        dcol = W_mat.T @ dout_mat                                            # (C*KH*KW, N*OH*OW)
        return col2im(dcol, self._x_shape, KH, KW, self.stride, self.pad)


class Relu:
    """Rectified linear unit: ``out = max(x, 0)``, gradient 1 where x > 0, else 0."""

    def __init__(self):
        self._mask = None

    def forward(self, x):
        """Apply ReLU element-wise; any shape."""
        return self._forward(as_float_array("x", x))

    def _forward(self, x):
        self._mask = x > 0
        return np.maximum(x, 0)  # keeps the dtype and memory layout of x

    def backward(self, dout):
        """Pass the gradient through where the input was positive."""
        dout = _check_dout(dout, None if self._mask is None else self._mask.shape, "Relu")
        return self._backward(dout)

    def _backward(self, dout):
        return np.where(self._mask, dout, 0.0)


class FullyConnected:
    """Affine layer ``out = x_flat @ W + b``.

    Parameters
    ----------
    W : ndarray of shape (in_features, out_features)
    b : ndarray of shape (out_features,)

    Notes
    -----
    An input with more than two axes, such as (N, C, H, W), is flattened per
    sample to (N, C * H * W) in C order; ``backward`` returns ``dx`` in the
    input's original shape.
    """

    def __init__(self, W, b):
        self.W = as_float_array(
            "W", W, ndim=2, shape_hint="(in_features, out_features)",
            fix="For 64 inputs and 10 classes W has shape (64, 10).",
        )
        out_features = self.W.shape[1]
        self.b = as_float_array("b", b, ndim=1, shape_hint=f"({out_features},)")
        if self.b.shape != (out_features,):
            raise ValueError(
                f"b must have one bias per output: expected shape ({out_features},) "
                f"because W has shape {self.W.shape}; got {self.b.shape}."
            )
        self.dW = None
        self.db = None
        self._x_flat = None
        self._x_shape = None

    def forward(self, x):
        """Return ``x_flat @ W + b`` of shape (N, out_features)."""
        x = as_float_array("x", x)
        if x.ndim < 2:
            raise ValueError(
                f"x must have a batch axis: shape (N, in_features) or (N, C, H, W); "
                f"got shape {x.shape}. A single sample becomes a batch with x[None]."
            )
        return self._forward(x)

    def _forward(self, x):
        N = x.shape[0]
        x_flat = x.reshape(N, -1)  # (N, D); copies only if x is a transposed view
        D = x_flat.shape[1]
        if D != self.W.shape[0]:
            raise ValueError(
                f"x has {D} features per sample (x.shape = {x.shape}) but W expects "
                f"{self.W.shape[0]} (W.shape = {self.W.shape}). Make W's first "
                f"axis {D}, or check the input size of the layers before this one."
            )
        self._x_flat = x_flat
        self._x_shape = x.shape
        return x_flat @ self.W + self.b

    def backward(self, dout):
        """Return dx in the input's shape; store dW and db."""
        expected = None if self._x_flat is None else (self._x_flat.shape[0], self.W.shape[1])
        dout = _check_dout(dout, expected, "FullyConnected")
        return self._backward(dout)

    def _backward(self, dout):
        self.dW = (self._x_flat.T @ dout).astype(self.W.dtype, copy=False)
        self.db = dout.sum(axis=0).astype(self.b.dtype, copy=False)
        return (dout @ self.W.T).reshape(self._x_shape)


class MaxPool:
    """Max pooling over ``pool_h x pool_w`` windows.

    Parameters
    ----------
    pool_h, pool_w : int
        Window height and width.
    stride : int, default 1
    pad : int, default 0
        Padding on each side; padded cells hold -inf, so they never win.
        Must be smaller than the window, so every window sees real input.

    Notes
    -----
    Output size: ``OH = (H + 2 pad - pool_h) // stride + 1``: leftover rows and
    columns that do not fill a window are dropped, as in every major framework.
    When several cells tie for the maximum, the gradient goes to the first of
    them in row-major order.
    """

    def __init__(self, pool_h, pool_w, stride=1, pad=0):
        self.pool_h = check_int("pool_h", pool_h, minimum=1)
        self.pool_w = check_int("pool_w", pool_w, minimum=1)
        self.stride = check_int("stride", stride, minimum=1)
        self.pad = check_int("pad", pad, minimum=0)
        if self.pad >= self.pool_h or self.pad >= self.pool_w:
            raise ValueError(
                f"pad must be smaller than the pooling window ({self.pool_h}x{self.pool_w}) "
                f"so that no window is all padding; got pad={self.pad}."
            )
        self._argmax = None
        self._x_shape = None

    def forward(self, x):
        """Pool ``x`` of shape (N, C, H, W) to (N, C, OH, OW)."""
        x = as_float_array("x", x, ndim=4, shape_hint="(N, C, H, W)", fix=_IMAGE_FIX)
        return self._forward(x)

    def _forward(self, x):
        N, C, H, W = x.shape
        if self.pool_h > H + 2 * self.pad or self.pool_w > W + 2 * self.pad:
            raise ValueError(
                f"the pooling window ({self.pool_h}x{self.pool_w}) is larger than "
                f"the padded input ({H + 2 * self.pad}x{W + 2 * self.pad})."
            )
        OH = conv_output_size(H, self.pool_h, self.stride, self.pad)
        OW = conv_output_size(W, self.pool_w, self.stride, self.pad)
        xp = pad_images(x, self.pad, value=-np.inf)      # (N, C, H + 2 pad, W + 2 pad)
        # Visit the window offsets k = i * pool_w + j in row-major order; a
        # strict ">" keeps the first maximum when values tie.
        out = xp[window_slice(0, 0, self.stride, OH, OW)]  # offset (0, 0) of every window
        argmax = np.zeros((N, C, OH, OW), dtype=np.intp)
        for k in range(1, self.pool_h * self.pool_w):
            i, j = divmod(k, self.pool_w)
            candidate = xp[window_slice(i, j, self.stride, OH, OW)]   # (N, C, OH, OW)
            better = candidate > out
            out = np.where(better, candidate, out)
            argmax = np.where(better, k, argmax)
        self._argmax = argmax
        self._x_shape = x.shape
        return np.array(out)  # a copy, even for a 1x1 window

    def backward(self, dout):
        """Send each output gradient to the input cell that won its window."""
        expected = None if self._argmax is None else (
            self._x_shape[0], self._x_shape[1], *self._argmax.shape[2:])
        dout = _check_dout(dout, expected, "MaxPool")
        return self._backward(dout)

    def _backward(self, dout):
        N, C, H, W = self._x_shape
        OH, OW = dout.shape[2:]
        dxp = np.zeros((N, C, H + 2 * self.pad, W + 2 * self.pad), dtype=dout.dtype)
        for k in range(self.pool_h * self.pool_w):
            i, j = divmod(k, self.pool_w)
            # windows can overlap (stride < window): a cell sums what it won
            dxp[window_slice(i, j, self.stride, OH, OW)] += np.where(self._argmax == k, dout, 0.0)
        return dxp[:, :, self.pad:self.pad + H, self.pad:self.pad + W]


class SoftmaxWithLoss:
    """Softmax followed by the mean cross-entropy loss over the batch.

    ``y = softmax(x)`` row by row, ``loss = -mean_n log y[n, t[n]]``, and the
    gradient with respect to the scores is ``(y - onehot(t)) / N``.
    """

    def __init__(self):
        self.loss = None
        self.y = None
        self._t = None

    def forward(self, x, t):
        """Return the mean cross-entropy of scores ``x`` against labels ``t``.

        Parameters
        ----------
        x : ndarray of shape (N, K)
            Class scores (logits).
        t : ndarray of shape (N,) with integer labels in [0, K), or
            ndarray of shape (N, K) with one-hot rows.

        Returns
        -------
        loss : float
        """
        x = as_float_array(
            "x", x, ndim=2, shape_hint="(N, K) of class scores",
            fix="Flatten the scores to (N, K) first.",
        )
        labels, _ = check_labels("t", t, x.shape[0], x.shape[1])
        # Subtracting each row's maximum leaves softmax unchanged and keeps
        # exp() from overflowing; log-sum-exp gives log y without log(0).
        shifted = x - x.max(axis=1, keepdims=True)
        exp = np.exp(shifted)
        sum_exp = exp.sum(axis=1, keepdims=True)
        self.y = exp / sum_exp
        rows = np.arange(x.shape[0])
        log_y_true = shifted[rows, labels] - np.log(sum_exp[:, 0])
        self.loss = float(-log_y_true.mean()) if len(labels) else 0.0
        self._t = labels
        return self.loss

    def backward(self, dout=1):
        """Return dx = dout * (y - onehot(t)) / N of shape (N, K)."""
        if self.y is None:
            raise RuntimeError("SoftmaxWithLoss.backward was called before forward.")
        # The loss is a scalar, so dout must be one too: an array would
        # broadcast silently against (N, K), and a string would be parsed.
        dout = as_float_array("dout", dout)
        if dout.ndim != 0:
            raise ValueError(
                f"dout must be a scalar (the gradient of the scalar loss, usually 1); "
                f"got shape {dout.shape}."
            )
        N = self.y.shape[0]
        dx = self.y.copy()
        dx[np.arange(N), self._t] -= 1
        dx /= N
        if dout != 1:
            dx *= dout.astype(dx.dtype)
        return dx


class Sigmoid:
    """Logistic sigmoid ``out = 1 / (1 + exp(-x))``; gradient ``out * (1 - out)``."""

    def __init__(self):
        self._out = None

    def forward(self, x):
        """Apply the sigmoid element-wise; any shape."""
        return self._forward(as_float_array("x", x))

    def _forward(self, x):
        # exp(-|x|) never overflows: for x >= 0 use 1 / (1 + e^-x), for x < 0
        # the same value written as e^x / (1 + e^x).
        e = np.exp(-np.abs(x))
        out = np.where(x >= 0, 1.0, e) / (1.0 + e)
        self._out = out.astype(x.dtype, copy=False)
        return self._out

    def backward(self, dout):
        """Return ``dout * out * (1 - out)``."""
        dout = _check_dout(dout, None if self._out is None else self._out.shape, "Sigmoid")
        return self._backward(dout)

    def _backward(self, dout):
        return dout * self._out * (1.0 - self._out)


class Tanh:
    """Hyperbolic tangent ``out = tanh(x)``; gradient ``1 - out ** 2``."""

    def __init__(self):
        self._out = None

    def forward(self, x):
        """Apply tanh element-wise; any shape."""
        return self._forward(as_float_array("x", x))

    def _forward(self, x):
        self._out = np.tanh(x)
        return self._out

    def backward(self, dout):
        """Return ``dout * (1 - out ** 2)``."""
        dout = _check_dout(dout, None if self._out is None else self._out.shape, "Tanh")
        return self._backward(dout)

    def _backward(self, dout):
        return dout * (1.0 - self._out * self._out)


class Dropout:
    """Inverted dropout: drop each unit with probability ``ratio`` while training.

    In training mode ``out = x * mask / (1 - ratio)`` with ``mask`` drawn
    fresh at every ``forward`` (each entry 1 with probability ``1 - ratio``);
    dividing by ``1 - ratio`` keeps the expected output equal to ``x``, so
    evaluation needs no rescaling: there ``out = x``.

    Parameters
    ----------
    ratio : float in [0, 1), default 0.5
        Probability of dropping a unit.
    seed : int or numpy.random.Generator, default 0
        Seeds the layer's own generator, which draws the masks.

    Attributes
    ----------
    training : bool
        True (the default) drops units; False passes ``x`` through unchanged.
    mask : ndarray of bool or None
        The mask of the last training-mode ``forward``.
    """

    def __init__(self, ratio=0.5, seed=0):
        self.ratio = check_number("ratio", ratio, minimum=0.0)
        if self.ratio >= 1.0:
            raise ValueError(
                f"ratio must be in [0, 1) (the probability of dropping a unit); got {ratio}. "
                "A ratio of 1 would drop every unit."
            )
        self.rng = as_generator("seed", seed)
        self.training = True
        self.mask = None
        self._shape = None
        self._scale = None

    def forward(self, x):
        """Drop and rescale units in training mode; the identity in evaluation mode."""
        return self._forward(as_float_array("x", x))

    def _forward(self, x):
        self._shape = x.shape
        if not self.training or self.ratio == 0.0:
            self.mask = None
            return x.copy()
        self.mask = self.rng.random(x.shape) >= self.ratio   # keep with probability 1 - ratio
        self._scale = np.asarray(1.0 / (1.0 - self.ratio), dtype=x.dtype)
        return x * self.mask * self._scale

    def backward(self, dout):
        """Pass the gradient through the kept units, scaled like the forward pass."""
        dout = _check_dout(dout, self._shape, "Dropout")
        return self._backward(dout)

    def _backward(self, dout):
        if self.mask is None:
            return dout.copy()
        return dout * self.mask * self._scale


class BatchNormalization:
    """Batch normalisation (Ioffe & Szegedy, 2015), with PyTorch's conventions.

    Training mode, per feature (``x`` of shape (N, D)) or per channel (``x``
    of shape (N, C, H, W), statistics over N, H and W)::

        mu = mean(x),  var = mean((x - mu) ** 2)          (the biased batch variance)
        x_hat = (x - mu) / sqrt(var + eps)
        out = gamma * x_hat + beta
        running_mean = (1 - momentum) * running_mean + momentum * mu
        running_var  = (1 - momentum) * running_var  + momentum * var * M / (M - 1)

    where M is the number of values per feature (N, or N * H * W): the running
    variance uses the unbiased estimate. Evaluation mode normalises with the
    running statistics instead: ``out = gamma * (x - running_mean) /
    sqrt(running_var + eps) + beta``. Both equal
    ``torch.nn.functional.batch_norm`` with the same arguments.

    Parameters
    ----------
    gamma : ndarray of shape (D,) or (C,)
        Scale (start at 1).
    beta : ndarray of shape (D,) or (C,)
        Shift (start at 0).
    momentum : float in [0, 1], default 0.1
        Weight of the new batch in the running statistics.
    eps : float > 0, default 1e-5
        Added to the variance before the square root, so a constant feature
        does not divide by zero.
    running_mean, running_var : ndarray of shape (D,) or (C,), optional
        Starting running statistics (default 0 and 1); copied.

    Attributes
    ----------
    training : bool
        True (default): batch statistics, and the running ones are updated.
    dgamma, dbeta : ndarray
        Gradients from the last ``backward``.
    """

    def __init__(self, gamma, beta, momentum=0.1, eps=1e-5, running_mean=None, running_var=None):
        self.gamma = as_float_array("gamma", gamma, ndim=1, shape_hint="(D,) or (C,)")
        D = self.gamma.shape[0]
        self.beta = as_float_array("beta", beta, ndim=1, shape_hint=f"({D},)")
        if self.beta.shape != (D,):
            raise ValueError(
                f"beta must have the shape of gamma ({D},); got {self.beta.shape}."
            )
        self.momentum = check_number("momentum", momentum, minimum=0.0)
        if self.momentum > 1:
            raise ValueError(
                f"momentum must be in [0, 1] (the weight of the new batch in the running "
                f"statistics, PyTorch's convention); got {momentum}."
            )
        self.eps = check_number("eps", eps, minimum=0.0, allow_equal=False)
        self.running_mean = self._statistic("running_mean", running_mean, 0.0, D)
        self.running_var = self._statistic("running_var", running_var, 1.0, D)
        if np.any(self.running_var < 0):
            raise ValueError("running_var must be >= 0 (it is a variance).")
        self.training = True
        self.dgamma = None
        self.dbeta = None
        self._cache = None
        self._x_shape = None

    @staticmethod
    def _statistic(name, value, default, D):
        if value is None:
            return np.full(D, default)
        array = np.array(as_float_array(name, value, ndim=1, shape_hint=f"({D},)"), copy=True)
        if array.shape != (D,):
            raise ValueError(f"{name} must have shape ({D},) like gamma; got {array.shape}.")
        return array

    def forward(self, x):
        """Normalise ``x`` of shape (N, D) or (N, C, H, W); same shape out."""
        x = as_float_array("x", x)
        D = self.gamma.shape[0]
        if x.ndim not in (2, 4):
            raise ValueError(
                f"x must have shape (N, D) or (N, C, H, W); got shape {x.shape}."
            )
        if x.shape[1] != D:
            raise ValueError(
                f"x has {x.shape[1]} features/channels on axis 1 (x.shape = {x.shape}) but "
                f"gamma has {D}. Give gamma and beta one entry per feature (axis 1 of x)."
            )
        if self.training and x.size // D < 2:
            raise ValueError(
                f"training mode needs more than one value per feature to estimate a "
                f"variance; got x of shape {x.shape}. Use a batch of at least 2 samples, "
                "or evaluation mode (layer.training = False)."
            )
        return self._forward(x)

    def _forward(self, x):
        self._x_shape = x.shape
        if x.ndim == 4:
            N, C, H, W = x.shape
            x2 = x.transpose(0, 2, 3, 1).reshape(-1, C)       # (N*H*W, C)
            out = self._forward_2d(x2)                         # (N*H*W, C)
            return np.ascontiguousarray(out.reshape(N, H, W, C).transpose(0, 3, 1, 2))
        return self._forward_2d(x)

    def _forward_2d(self, x):
        M = x.shape[0]
        if self.training:
            if M < 2:  # also on the unchecked path a network takes
                raise ValueError(
                    "training mode needs more than one value per feature to estimate a "
                    f"variance; got {M}. Use batches of at least 2 samples.")
            mu = x.mean(axis=0)
            xc = x - mu
            var = np.mean(xc * xc, axis=0)                     # biased: divides by M
            m = self.momentum
            self.running_mean = (1 - m) * self.running_mean + m * mu
            self.running_var = (1 - m) * self.running_var + m * var * (M / (M - 1))  # unbiased
        else:
            xc = x - self.running_mean
            var = self.running_var
        std = np.sqrt(var + self.eps)
        x_hat = xc / std
        self._cache = (x_hat, std, self.training)
        out = self.gamma * x_hat + self.beta
        return out.astype(np.result_type(x.dtype, self.gamma.dtype), copy=False)

    def backward(self, dout):
        """Return dx in the input's shape; store dgamma and dbeta."""
        dout = _check_dout(dout, self._x_shape, "BatchNormalization")
        return self._backward(dout)

    def _backward(self, dout):
        if dout.ndim == 4:
            N, C, H, W = dout.shape
            d2 = dout.transpose(0, 2, 3, 1).reshape(-1, C)    # (N*H*W, C)
            dx = self._backward_2d(d2)                         # (N*H*W, C)
            return np.ascontiguousarray(dx.reshape(N, H, W, C).transpose(0, 3, 1, 2))
        return self._backward_2d(dout)

    def _backward_2d(self, dout):
        x_hat, std, training = self._cache
        self.dbeta = dout.sum(axis=0).astype(self.beta.dtype, copy=False)
        self.dgamma = (dout * x_hat).sum(axis=0).astype(self.gamma.dtype, copy=False)
        dx_hat = dout * self.gamma
        if not training:  # the running statistics are constants
            return dx_hat / std
        # Through the batch mean and variance as well (the compact formula):
        # dx = (dx_hat - mean(dx_hat) - x_hat * mean(dx_hat * x_hat)) / std
        return (dx_hat - dx_hat.mean(axis=0) - x_hat * np.mean(dx_hat * x_hat, axis=0)) / std
