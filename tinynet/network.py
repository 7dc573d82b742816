"""A general network: a list of layers, a loss, and how to train it.

TinyNet (:mod:`tinynet.model`) is the course exercise with a fixed layout.
:class:`Network` takes any list of layers that follow the protocol of
:mod:`tinynet.layers` (``forward(x)``, ``backward(dout)``, parameters as
attributes, their gradients as ``d<name>``), so batch normalisation, dropout
and other activations plug in::

    net = build_mlp(64, [100, 100], 10, batchnorm=True, dropout=0.2)
    history = train_network(net, x_train, t_train, x_val, t_val,
                            optimizer=SGD(learning_rate=0.1), epochs=20)

:func:`train_network` runs the training loop of :mod:`tinynet.training`,
the one :func:`tinynet.train` runs for TinyNet.

Parameters are named by position, as in *Deep Learning from Scratch*: the
k-th layer with weights owns ``W_k`` and ``b_k``; a batch normalisation
layer after it owns ``gamma_k`` and ``beta_k``.
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
)
from .initialization import ACTIVATIONS, init_std
from .layers import BatchNormalization, Dropout, FullyConnected, SoftmaxWithLoss
from .training import training_loop

__all__ = ["Network", "build_mlp", "train_network", "ACTIVATIONS"]

# (attribute of the parameter, attribute of its gradient, name prefix)
_WEIGHTED = (("W", "dW", "W"), ("b", "db", "b"))
_NORMALISED = (("gamma", "dgamma", "gamma"), ("beta", "dbeta", "beta"))


def _name_parameters(layers):
    """``[(name, layer, attribute, gradient attribute), ...]`` for every parameter.

    A layer with ``W`` starts a new number k; a layer with ``gamma`` takes the
    number of the weighted layer before it (a new one if there is none, or if
    that number already has a ``gamma``).
    """
    entries, k, normalised = [], 0, set()
    for layer in layers:
        if getattr(layer, "W", None) is not None:
            k += 1
            entries += [(f"{prefix}_{k}", layer, attr, grad) for attr, grad, prefix in _WEIGHTED
                        if getattr(layer, attr, None) is not None]
        if getattr(layer, "gamma", None) is not None:
            if k == 0 or k in normalised:
                k += 1
            normalised.add(k)
            entries += [(f"{prefix}_{k}", layer, attr, grad) for attr, grad, prefix in _NORMALISED]
    return entries


class Network:
    """A feed-forward network: ``layers`` in order, then ``loss``.

    Parameters
    ----------
    layers : list of layer objects
        Each has ``forward(x)`` and ``backward(dout)`` (see :mod:`tinynet.layers`).
    loss : object with ``forward(scores, t)`` and ``backward()``, optional
        Default :class:`~tinynet.layers.SoftmaxWithLoss`.

    Attributes
    ----------
    params : dict of str to ndarray
        The layers' own parameter arrays (not copies) by name: an optimizer
        that updates them in place trains the network.
    grads : dict of str to ndarray
        The gradients of the last :meth:`backward`, same names.
    training : bool
        The mode set by :meth:`train` / :meth:`eval`.
    """

    def __init__(self, layers, loss=None):
        if isinstance(layers, (str, bytes)) or not hasattr(layers, "__iter__"):
            raise TypeError(f"layers must be a list of layer objects; got {type(layers).__name__}.")
        layers = list(layers)
        if not layers:
            raise ValueError("layers must hold at least one layer.")
        for i, layer in enumerate(layers):
            if not (callable(getattr(layer, "forward", None))
                    and callable(getattr(layer, "backward", None))):
                raise TypeError(
                    f"layers[{i}] ({type(layer).__name__}) is not a layer: it needs "
                    "forward(x) and backward(dout) methods, as in tinynet.layers."
                )
        self.layers = layers
        self.loss = SoftmaxWithLoss() if loss is None else loss
        if not (callable(getattr(self.loss, "forward", None))
                and callable(getattr(self.loss, "backward", None))):
            raise TypeError(f"loss must have forward(scores, t) and backward(); got {self.loss!r}.")
        self._entries = _name_parameters(layers)
        self.training = True
        self.train()

    def __repr__(self):
        inner = ", ".join(type(layer).__name__ for layer in self.layers)
        return f"Network([{inner}])"

    # -- parameters -----------------------------------------------------------

    @property
    def params(self):
        """The parameter arrays by name (``W_1, b_1, gamma_1, beta_1, W_2, ...``)."""
        return {name: getattr(layer, attr) for name, layer, attr, _ in self._entries}

    @property
    def grads(self):
        """The gradients of the last :meth:`backward`, by parameter name."""
        return {name: getattr(layer, grad) for name, layer, _, grad in self._entries}

    # -- modes ----------------------------------------------------------------

    def train(self):
        """Training mode: dropout drops, batch norm uses batch statistics."""
        return self._set_mode(True)

    def eval(self):
        """Evaluation mode: dropout passes through, batch norm uses running statistics."""
        return self._set_mode(False)

    def _set_mode(self, training):
        self.training = training
        for layer in self.layers:
            if hasattr(layer, "training"):
                layer.training = training
        return self

    # -- forward and backward -------------------------------------------------

    def scores(self, x):
        """Class scores (N, K) in the current mode (no loss)."""
        # The first layer checks x; later inputs are the network's own arrays.
        out = self.layers[0].forward(x)
        for layer in self.layers[1:]:
            out = getattr(layer, "_forward", layer.forward)(out)
        if not all_finite(out):
            self._raise_non_finite(x)
        return out

    def _raise_non_finite(self, x):
        """Name the first layer whose output is not finite (error path only)."""
        culprit = len(self.layers) - 1
        with np.errstate(all="ignore"):
            out = x
            for i, layer in enumerate(self.layers):
                forward = layer.forward if i == 0 else getattr(layer, "_forward", layer.forward)
                out = forward(out)
                if not np.all(np.isfinite(out)):
                    culprit = i
                    break
        raise NonFiniteError(
            f"the scores contain NaN or infinite values although x is finite: the values "
            f"overflowed inside the network, first in the output of layer {culprit} "
            f"({type(self.layers[culprit]).__name__}). The parameters are too large (as after "
            "a diverging training run); build the network again and train with a smaller "
            "learning rate."
        )

    def forward(self, x, t):
        """Run the layers and the loss.

        Parameters
        ----------
        x : ndarray of shape (N, ...)
            What the first layer takes: (N, D) for an MLP (images are
            flattened by the first FullyConnected), (N, C, H, W) for a
            convolution.
        t : ndarray of shape (N,) of integer labels, or (N, K) one-hot rows

        Returns
        -------
        scores : ndarray of shape (N, K)
        loss : float
            Mean loss over the batch (no weight-decay term).
        """
        if np.ndim(x) >= 1 and np.shape(x)[0] == 0:
            raise ValueError(
                f"x must hold at least one sample; got an empty batch of shape {np.shape(x)}."
            )
        scores = self.scores(x)
        return scores, self.loss.forward(scores, t)

    def backward(self):
        """Backpropagate from the loss of the last :meth:`forward`.

        Returns
        -------
        dict of str to ndarray
            The gradient of the loss for every parameter (see :attr:`params`).
        """
        dout = self.loss.backward(1)
        for layer in reversed(self.layers):
            dout = getattr(layer, "_backward", layer.backward)(dout)
        return self.grads

    # -- evaluation -----------------------------------------------------------

    def _in_eval_mode(self, function):
        """Run ``function()`` in evaluation mode, then restore the previous modes."""
        modes = [(layer, layer.training) for layer in self.layers if hasattr(layer, "training")]
        previous = self.training
        self.eval()
        try:
            return function()
        finally:
            for layer, mode in modes:
                layer.training = mode
            self.training = previous

    def predict(self, x, batch_size=256):
        """Class scores of shape (N, K) in evaluation mode, ``batch_size`` samples at a time."""
        x = as_float_array("x", x)
        if x.ndim < 2:
            raise ValueError(
                f"x must have a batch axis; got shape {x.shape}. A single sample becomes "
                "a batch with x[None]."
            )
        batch_size = check_int("batch_size", batch_size, minimum=1)
        if len(x) == 0:
            raise ValueError("x must hold at least one sample to predict.")
        return self._in_eval_mode(lambda: np.concatenate(
            [self.scores(x[i:i + batch_size]) for i in range(0, len(x), batch_size)]))

    def classify(self, x, batch_size=256):
        """Predicted class indices of shape (N,), in evaluation mode."""
        return self.predict(x, batch_size).argmax(axis=1)

    def evaluate(self, x, t, batch_size=256):
        """Mean loss and accuracy over all of ``x``, in evaluation mode and in batches.

        Returns
        -------
        loss : float
        accuracy : float in [0, 1]
        """
        x = as_float_array("x", x)
        if x.ndim < 2 or len(x) == 0:
            raise ValueError(
                f"x must be a non-empty batch of shape (N, ...); got shape {x.shape}."
            )
        batch_size = check_int("batch_size", batch_size, minimum=1)
        N = len(x)
        t = np.asarray(t)
        if len(t) != N:
            raise ValueError(f"t must have one label per sample: expected {N}, got {len(t)}.")

        def run():
            total_loss, correct = 0.0, 0
            for i in range(0, N, batch_size):
                scores, loss = self.forward(x[i:i + batch_size], t[i:i + batch_size])
                labels, _ = check_labels("t", t[i:i + batch_size], len(scores), scores.shape[1])
                total_loss += loss * len(labels)
                correct += int(np.sum(scores.argmax(axis=1) == labels))
            return total_loss / N, correct / N

        return self._in_eval_mode(run)

    def accuracy(self, x, t, batch_size=256):
        """Fraction of samples whose highest score is the true class (evaluation mode)."""
        return self.evaluate(x, t, batch_size)[1]


def build_mlp(input_size, hidden_sizes, output_size, activation="relu", weight_std="he",
              batchnorm=False, dropout=0.0, seed=0):
    """A multi-layer perceptron as a :class:`Network`.

    Per hidden layer: Affine (:class:`~tinynet.layers.FullyConnected`) ->
    [:class:`~tinynet.layers.BatchNormalization`] -> activation ->
    [:class:`~tinynet.layers.Dropout`]; then the output Affine.

    Parameters
    ----------
    input_size : int
        Features per sample (64 for the 8x8 digits; images are flattened).
    hidden_sizes : sequence of int
        Units of each hidden layer (may be empty: softmax regression).
    output_size : int
        Number of classes.
    activation : {"relu", "sigmoid", "tanh"}
    weight_std : float, "xavier" or "he"
        Standard deviation of the normal weights of every Affine layer:
        a number, ``1 / sqrt(fan_in)`` ("xavier") or ``sqrt(2 / fan_in)``
        ("he"). Biases start at 0, batch norm at gamma = 1, beta = 0.
    batchnorm : bool
    dropout : float in [0, 1)
        Dropout ratio after each hidden activation (0: no Dropout layers).
    seed : int
        Seeds the weights and, through derived seeds, each Dropout layer.

    Returns
    -------
    Network
    """
    input_size = check_int("input_size", input_size, minimum=1)
    output_size = check_int("output_size", output_size, minimum=1)
    if isinstance(hidden_sizes, (str, bytes)) or not hasattr(hidden_sizes, "__iter__"):
        raise TypeError(
            f"hidden_sizes must be a sequence of ints such as (100, 100); got {hidden_sizes!r}."
        )
    hidden_sizes = [check_int(f"hidden_sizes[{i}]", h, minimum=1)
                    for i, h in enumerate(hidden_sizes)]
    if activation not in ACTIVATIONS:
        raise ValueError(
            f"activation must be one of {sorted(ACTIVATIONS)}; got {activation!r}."
        )
    if not isinstance(batchnorm, (bool, np.bool_)):
        raise TypeError(f"batchnorm must be True or False; got {batchnorm!r}.")
    dropout = check_number("dropout", dropout, minimum=0.0)
    if dropout >= 1.0:
        raise ValueError(f"dropout must be in [0, 1); got {dropout}.")
    init_std((1, 1), weight_std)  # reject a bad weight_std before drawing anything
    seed = check_int("seed", seed, minimum=0)
    rng = np.random.default_rng(seed)
    # one seed per Dropout layer, independent of the weights' stream
    dropout_seeds = np.random.SeedSequence([seed, 1]).generate_state(max(len(hidden_sizes), 1))

    layers = []
    sizes = [input_size] + hidden_sizes + [output_size]
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:], strict=True)):
        W = rng.standard_normal((fan_in, fan_out)) * init_std((fan_in, fan_out), weight_std)
        layers.append(FullyConnected(W, np.zeros(fan_out)))
        if i == len(hidden_sizes):
            break  # the output layer
        if batchnorm:
            layers.append(BatchNormalization(np.ones(fan_out), np.zeros(fan_out)))
        layers.append(ACTIVATIONS[activation]())
        if dropout > 0:
            layers.append(Dropout(dropout, seed=int(dropout_seeds[i])))
    return Network(layers)


def train_network(network, x_train, t_train, x_val=None, t_val=None, *, optimizer, epochs=10,
                  batch_size=32, seed=0, progress=False, callback=None):
    """Train a :class:`Network` in place with minibatches and an optimizer.

    Parameters
    ----------
    network : Network
        Trained in place (its parameter arrays are updated).
    x_train : ndarray of shape (N, ...)
    t_train : ndarray of shape (N,) of integer labels, or (N, K) one-hot
    x_val, t_val : optional validation data
    optimizer : object with ``step(params, grads)`` and ``penalty(params)``
        For example ``tinynet.optim.SGD(learning_rate=0.1)``; it may keep
        state between steps (call its ``reset()`` to start afresh).
    epochs, batch_size : int (>= 1)
    seed : int or numpy.random.Generator
        Drives the shuffling. Dropout masks come from the Dropout layers' own
        generators.
    progress : bool
        Show a progress bar.
    callback : callable, optional
        ``callback(history)`` after each epoch.

    Returns
    -------
    History
        As :func:`tinynet.train`'s: epoch 0 is before training; per-epoch
        losses and accuracies are measured in evaluation mode;
        ``iteration_loss`` is each minibatch's loss in training mode, before
        its step (with batch normalisation, a last minibatch of a single
        sample is skipped: it has no batch variance); ``diverged`` and
        ``message`` are set when a loss stopped being finite or rose above
        100 times the starting loss (and chance).
    """
    if not isinstance(network, Network):
        raise TypeError(
            f"network must be a tinynet.network.Network; got {type(network).__name__}. "
            "Build one with build_mlp(...) or Network([...])."
        )
    if not (callable(getattr(optimizer, "step", None))
            and callable(getattr(optimizer, "penalty", None))):
        raise TypeError(
            f"optimizer must be an object with step(params, grads) and penalty(params), "
            f"such as tinynet.optim.SGD(learning_rate=0.1); got {optimizer!r}."
        )
    x_train = as_float_array("x_train", x_train)
    if x_train.ndim < 2 or len(x_train) == 0:
        raise ValueError(
            f"x_train must be a non-empty batch of shape (N, ...); got shape {x_train.shape}."
        )
    N = len(x_train)
    t_train = np.asarray(t_train)
    if t_train.ndim == 0 or len(t_train) != N:
        raise ValueError(
            f"t_train must have one label per sample: expected {N}, got shape {t_train.shape}."
        )
    has_val = x_val is not None or t_val is not None
    if has_val:
        if x_val is None or t_val is None:
            raise ValueError("Pass both x_val and t_val, or neither.")
        x_val = as_float_array("x_val", x_val)
        t_val = np.asarray(t_val)
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    rng = as_generator("seed", seed)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable; got {callback!r}.")

    # A batch of one sample has no batch variance: batch norm cannot train on
    # it (PyTorch raises there too). Such a last minibatch is skipped.
    skip_single = any(isinstance(layer, BatchNormalization) for layer in network.layers)
    if skip_single and (batch_size == 1 or N == 1):
        raise ValueError(
            f"batch normalisation needs minibatches of at least 2 samples; got batch_size="
            f"{batch_size} and {N} training samples. Use batch_size >= 2."
        )

    def loss_and_gradients(x, t):
        _, loss = network.forward(x, t)
        return loss, network.backward  # backward only once the loss has passed the guard

    return training_loop(
        network.params, optimizer, x_train, t_train, x_val, t_val,
        loss_and_gradients=loss_and_gradients, evaluate=network.evaluate,
        # after epoch 0 is recorded, which checks that the data fit the network
        n_classes=lambda: max(network.predict(x_train[:1]).shape[1], 2),
        epochs=epochs, batch_size=batch_size, rng=rng, progress=progress,
        callback=callback, skip_single=skip_single, train_mode=network.train)
