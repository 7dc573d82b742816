"""TinyNet: two convolution blocks and a classifier, and one SGD step on it.

::

    x (N, C, H, W)
    -> conv1 (3x3, pad 1) -> ReLU -> max pool 2x2/2
    -> conv2 (3x3, pad 1) -> ReLU -> max pool 2x2/2
    -> fully connected -> softmax with cross-entropy loss
"""

import numpy as np

from ._checks import (
    NonFiniteError,
    all_finite,
    as_float_array,
    as_generator,
    check_int,
    check_labels,
    check_number,
    explain_divergence,
)
from .im2col import conv_output_size
from .layers import Convolution, FullyConnected, MaxPool, Relu, SoftmaxWithLoss

PARAM_NAMES = ("W_conv1", "b_conv1", "W_conv2", "b_conv2", "W_fc", "b_fc")


class TinyNet:
    """The course exercise's network, with the exercise's constructor.

    Parameters
    ----------
    W_conv1 : ndarray of shape (F1, C, KH1, KW1)
    b_conv1 : ndarray of shape (F1,)
    W_conv2 : ndarray of shape (F2, F1, KH2, KW2)
    b_conv2 : ndarray of shape (F2,)
    W_fc : ndarray of shape (F2 * H4 * W4, K)
        ``H4`` and ``W4`` are the height and width after the second pool.
    b_fc : ndarray of shape (K,)

    The layers run in the order of :attr:`layers`, the exercise's:
    conv1 -> relu1 -> pool1 -> conv2 -> relu2 -> pool2 -> fc, then the loss.
    They keep references to the arrays passed in and never write to them;
    :func:`tinynet.train` trains on copies.
    """

    def __init__(self, W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc):
        # Checked under the exercise's names first, so that an error says
        # "W_fc contains NaN" rather than the layer's "W contains NaN".
        W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc = (
            as_float_array(name, value, ndim=ndim, shape_hint=hint)
            for name, value, ndim, hint in zip(
                PARAM_NAMES, (W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc),
                (4, 1, 4, 1, 2, 1),
                ("(F1, C, KH, KW)", "(F1,)", "(F2, F1, KH, KW)", "(F2,)",
                 "(F2 * H4 * W4, K)", "(K,)"), strict=True))
        self.conv1 = Convolution(W_conv1, b_conv1, stride=1, pad=1)
        self.relu1 = Relu()
        self.pool1 = MaxPool(2, 2, stride=2, pad=0)
        self.conv2 = Convolution(W_conv2, b_conv2, stride=1, pad=1)
        self.relu2 = Relu()
        self.pool2 = MaxPool(2, 2, stride=2, pad=0)
        self.fc = FullyConnected(W_fc, b_fc)
        self.loss = SoftmaxWithLoss()
        if self.conv2.W.shape[1] != self.conv1.W.shape[0]:
            raise ValueError(
                f"W_conv2 must take the {self.conv1.W.shape[0]} channels that "
                f"conv1 produces: expected shape (F2, {self.conv1.W.shape[0]}, KH, KW); "
                f"got {self.conv2.W.shape}."
            )

    @property
    def layers(self):
        """The layers in order, as (name, layer) pairs."""
        return [
            ("conv1", self.conv1), ("relu1", self.relu1), ("pool1", self.pool1),
            ("conv2", self.conv2), ("relu2", self.relu2), ("pool2", self.pool2),
            ("fc", self.fc),
        ]

    @property
    def params(self):
        """The six parameter arrays by name (the arrays themselves, not copies)."""
        return {
            "W_conv1": self.conv1.W, "b_conv1": self.conv1.b,
            "W_conv2": self.conv2.W, "b_conv2": self.conv2.b,
            "W_fc": self.fc.W, "b_fc": self.fc.b,
        }

    @property
    def grads(self):
        """The gradients from the last :meth:`backward`, by parameter name."""
        return dict(zip(PARAM_NAMES, self._grad_tuple(), strict=True))

    def _grad_tuple(self):
        return (self.conv1.dW, self.conv1.db, self.conv2.dW, self.conv2.db,
                self.fc.dW, self.fc.db)

    def scores(self, x):
        """Class scores (logits) of shape (N, K) for images ``x`` of shape (N, C, H, W)."""
        layers = [layer for _, layer in self.layers]
        # The first layer checks x (shape, channels, NaN, inf); the activations
        # after it are the network's own, so the unchecked _forward suffices.
        out = layers[0].forward(x)
        for layer in layers[1:]:
            out = layer._forward(out)
        return out

    def forward(self, x, t):
        """Run the network and the loss.

        Parameters
        ----------
        x : ndarray of shape (N, C, H, W)
        t : ndarray of shape (N,) of integer labels, or (N, K) one-hot rows

        Returns
        -------
        scores : ndarray of shape (N, K)
        loss : float
            Mean cross-entropy over the batch (no weight-decay term).
        """
        if np.ndim(x) == 4 and np.shape(x)[0] == 0:
            raise ValueError(
                f"x must hold at least one sample; got an empty batch of shape {np.shape(x)}. "
                "The loss is a mean over the batch, so an empty batch has none: skip it."
            )
        scores = self.scores(x)
        self._check_scores(x, scores)
        loss = self.loss.forward(scores, t)
        return scores, loss

    def _check_scores(self, x, scores):
        """Raise if finite inputs gave non-finite scores, naming the layer that overflowed.

        ``x`` has been checked by the first layer, so a NaN or inf in the
        scores arose inside the network. Only then are the layers run again,
        one at a time, to find the first whose output is not finite.
        """
        if all_finite(scores):
            return
        bad = ~np.isfinite(scores)
        first = tuple(int(i) for i in np.argwhere(bad)[0])
        culprit = "fc"
        with np.errstate(all="ignore"):
            out = x
            for name, layer in self.layers:
                out = layer.forward(out) if layer is self.conv1 else layer._forward(out)
                if not np.all(np.isfinite(out)):
                    culprit = name
                    break
        layer = getattr(self, culprit)
        largest = ""
        if hasattr(layer, "W"):
            largest = f" (its largest |weight| is {float(np.max(np.abs(layer.W))):.3g})"
        raise NonFiniteError(
            f"scores contain {int(bad.sum())} NaN or infinite value(s), the first at index "
            f"{first}, although x is finite: the values overflowed inside the network, "
            f"first in the output of {culprit}{largest}. The parameters are too large (as "
            "after a diverging training run); start again from tinynet.init_params(...) "
            "and train with a smaller learning rate."
        )

    def backward(self):
        """Backpropagate from the loss of the last :meth:`forward`.

        Returns
        -------
        tuple of ndarray
            ``(dW_conv1, db_conv1, dW_conv2, db_conv2, dW_fc, db_fc)``.
        """
        dout = self.loss.backward(1)
        for _, layer in reversed(self.layers):
            dout = layer._backward(dout)  # dout has the shape the layer's forward returned
        return self._grad_tuple()

    def predict(self, x, batch_size=256):
        """Class scores of shape (N, K), computed ``batch_size`` samples at a time."""
        x = as_float_array("x", x, ndim=4, shape_hint="(N, C, H, W)")
        batch_size = check_int("batch_size", batch_size, minimum=1)
        K = self.fc.W.shape[1]
        if len(x) == 0:
            return np.zeros((0, K), dtype=np.result_type(x, self.fc.W))
        scores = np.concatenate(
            [self.scores(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]
        )
        if not all_finite(scores):
            for i in range(0, len(x), batch_size):  # find the batch and layer (error path only)
                self._check_scores(x[i:i + batch_size], scores[i:i + batch_size])
        return scores

    def classify(self, x, batch_size=256):
        """Predicted class indices of shape (N,)."""
        return self.predict(x, batch_size).argmax(axis=1)

    def evaluate(self, x, t, batch_size=256):
        """Mean cross-entropy loss and accuracy over all of ``x``, in batches.

        Returns
        -------
        loss : float
        accuracy : float in [0, 1]
        """
        x = as_float_array("x", x, ndim=4, shape_hint="(N, C, H, W)")
        batch_size = check_int("batch_size", batch_size, minimum=1)
        N = len(x)
        if N == 0:
            raise ValueError("x must hold at least one sample to evaluate.")
        t, _ = check_labels("t", t, N, self.fc.W.shape[1])  # class indices of shape (N,)
        total_loss, correct = 0.0, 0
        for i in range(0, N, batch_size):
            scores, loss = self.forward(x[i:i + batch_size], t[i:i + batch_size])
            labels = self.loss._t
            total_loss += loss * len(labels)
            correct += int(np.sum(scores.argmax(axis=1) == labels))
        return total_loss / N, correct / N

    def accuracy(self, x, t, batch_size=256):
        """Fraction of samples whose highest score is the true class.

        ``t`` may be integer labels (N,) or one-hot rows (N, K).
        """
        return self.evaluate(x, t, batch_size)[1]


def _block_sizes(H, W, KH, KW):
    """Spatial size after one TinyNet block: ((after the conv), (after the pool)).

    The convolution has stride 1 and pad 1; the pool is 2x2 with stride 2.
    """
    conv = conv_output_size(H, KH, 1, 1), conv_output_size(W, KW, 1, 1)
    return conv, (conv_output_size(conv[0], 2, 2, 0), conv_output_size(conv[1], 2, 2, 0))


def output_shapes(input_shape, params):
    """Shape of one sample after each layer, for a table of the network.

    Parameters
    ----------
    input_shape : tuple (C, H, W)
    params : dict of str to ndarray
        The six TinyNet parameters.

    Returns
    -------
    list of (layer name, output shape without the batch axis, parameter count)
    """
    C, H, W = input_shape
    rows = [("input", (C, H, W), 0)]
    for conv, pool in (("conv1", "pool1"), ("conv2", "pool2")):
        weight, bias = params[f"W_{conv}"], params[f"b_{conv}"]
        F, _, KH, KW = weight.shape
        (Hc, Wc), (H, W) = _block_sizes(H, W, KH, KW)
        rows.append((conv, (F, Hc, Wc), weight.size + bias.size))
        rows.append((f"relu{conv[-1]}", (F, Hc, Wc), 0))
        rows.append((pool, (F, H, W), 0))
    K = params["W_fc"].shape[1]
    rows.append(("fc", (K,), params["W_fc"].size + params["b_fc"].size))
    return rows


def init_params(input_shape=(1, 8, 8), conv1_filters=8, conv2_filters=16,
                num_classes=10, kernel_size=3, rng=0, dtype=np.float64):
    """He-initialised parameters for TinyNet.

    Weights are drawn from a normal distribution with standard deviation
    ``sqrt(2 / fan_in)`` (He et al., 2015), which keeps the scale of
    activations steady through ReLU layers; biases start at zero.

    Parameters
    ----------
    input_shape : tuple (C, H, W), default (1, 8, 8)
    conv1_filters, conv2_filters : int
    num_classes : int
    kernel_size : int, default 3
        Side of the square convolution kernels (odd, so pad 1 keeps the size
        for 3x3).
    rng : int or numpy.random.Generator, default 0
    dtype : numpy dtype, default float64

    Returns
    -------
    dict of str to ndarray
        Keys ``W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc``.
    """
    if not (isinstance(input_shape, (tuple, list)) and len(input_shape) == 3):
        raise ValueError(
            f"input_shape must be (C, H, W), e.g. (1, 8, 8); got {input_shape!r}."
        )
    C, H, W = (check_int(f"input_shape[{i}]", v, minimum=1) for i, v in enumerate(input_shape))
    F1 = check_int("conv1_filters", conv1_filters, minimum=1)
    F2 = check_int("conv2_filters", conv2_filters, minimum=1)
    K = check_int("num_classes", num_classes, minimum=2)
    KS = check_int("kernel_size", kernel_size, minimum=1)
    if np.dtype(dtype).kind != "f":
        raise TypeError(f"dtype must be a float type such as np.float32; got {dtype!r}.")
    generator = as_generator("rng", rng)

    (H1, W1), (H2, W2) = _block_sizes(H, W, KS, KS)
    (H3, W3), (H4, W4) = _block_sizes(H2, W2, KS, KS)
    if min(H1, W1, H2, W2, H3, W3, H4, W4) < 1:
        raise ValueError(
            f"input_shape {tuple(input_shape)} is too small for two conv + pool "
            f"blocks; each side must be at least 4 pixels."
        )
    fc_in = F2 * H4 * W4

    def he(shape, fan_in):
        return (generator.standard_normal(shape) * np.sqrt(2.0 / fan_in)).astype(dtype)

    return {
        "W_conv1": he((F1, C, KS, KS), C * KS * KS),
        "b_conv1": np.zeros(F1, dtype=dtype),
        "W_conv2": he((F2, F1, KS, KS), F1 * KS * KS),
        "b_conv2": np.zeros(F2, dtype=dtype),
        "W_fc": he((fc_in, K), fc_in),
        "b_fc": np.zeros(K, dtype=dtype),
    }


def train_one_iter(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc,
                   x, t, learning_rate, weight_decay):
    """One SGD step with L2 weight decay on TinyNet: the course exercise.

    Builds a :class:`TinyNet` from the six parameters, runs ``forward`` and
    ``backward`` on the batch, and returns, for every parameter ``p``,
    ``p - learning_rate * (dL/dp + weight_decay * p)``. The L2 term
    ``(1/2) * weight_decay * sum(p ** 2)`` is not added to the loss; its
    gradient ``weight_decay * p`` is added to every parameter's gradient,
    biases included. The arrays passed in are not modified.

    This is the plain reference, written as the exercise describes it.
    :func:`tinynet.fast.train_one_iter` gives the same numbers faster; the
    training loop, the panels and the command line use that one.

    Parameters
    ----------
    W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc : ndarray
        See :class:`TinyNet`.
    x : ndarray of shape (N, C, H, W)
    t : ndarray of shape (N,) of integer labels, or (N, K) one-hot rows
    learning_rate : float (>= 0)
    weight_decay : float (>= 0)

    Returns
    -------
    tuple of ndarray
        ``(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc)`` after the step.
    """
    learning_rate = check_number("learning_rate", learning_rate, minimum=0.0)
    weight_decay = check_number("weight_decay", weight_decay, minimum=0.0)
    # 1. build the network; its layers keep the six arrays and only read them
    net = TinyNet(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc)
    # 2. forward: the class scores and the mean cross-entropy loss of the batch
    net.forward(x, t)
    # 3. backward: dL/dp for the six parameters, in the same order
    grads = net.backward()
    # 4. update every parameter, biases included; p - ... makes a new array,
    #    so the caller's arrays stay as they were
    params = net.params.values()  # the six arrays (as float arrays if lists came in)
    new_params = tuple(p - learning_rate * (grad + weight_decay * p)
                       for p, grad in zip(params, grads, strict=True))
    return _check_step_results(new_params, learning_rate, weight_decay)


def _check_step_results(results, learning_rate, weight_decay):
    """Return the updated parameters, or raise if the step made any of them non-finite."""
    for name, p in zip(PARAM_NAMES, results, strict=True):
        if not all_finite(p):
            bad = int(np.count_nonzero(~np.isfinite(p)))
            raise NonFiniteError(
                f"the SGD step made {name} non-finite ({bad} of its {p.size} values are "
                f"NaN or infinite): p - learning_rate * (gradient + weight_decay * p) "
                f"overflowed with learning_rate={learning_rate:g} and "
                f"weight_decay={weight_decay:g}. "
                + explain_divergence(float(learning_rate), float(weight_decay))
            )
    return results
