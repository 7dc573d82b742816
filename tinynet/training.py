"""The training loop: epochs of shuffled minibatches, an optimizer, and a history.

An *iteration* is one optimizer step (SGD unless told otherwise) on one
minibatch. An *epoch* is one pass over the training set: the samples are
shuffled, cut into minibatches of ``batch_size`` (the last one may be
smaller), and every sample is used once.

One loop, :func:`training_loop`, serves every model: it records the
history, runs the minibatches, stops a diverging run and shows the progress
bar. :func:`train` (TinyNet, through the fused step of :mod:`tinynet.fast`)
and :func:`tinynet.network.train_network` (any :class:`~tinynet.network.Network`)
only supply what differs: how a minibatch's loss and gradients are computed,
how a model is evaluated, and their own checks.
"""

import warnings
from dataclasses import dataclass, field

import numpy as np

from . import fast
from ._checks import (
    NonFiniteError,
    as_float_array,
    as_generator,
    check_int,
    check_labels,
    explain_divergence,
)
from .model import PARAM_NAMES, TinyNet
from .optim import SGD, make_optimizer


@dataclass
class History:
    """What happened during :func:`train` or :func:`tinynet.network.train_network`.

    Per iteration: ``iteration_loss`` (data loss of the minibatch, before
    the step). Per epoch, starting with epoch 0 = before training:
    ``epoch``, ``train_loss`` (data loss on the whole training set),
    ``penalty`` (the weight-decay term ``(1/2) lambda sum w^2``, reported
    separately and not included in ``train_loss``), ``train_accuracy``,
    ``val_loss`` and ``val_accuracy`` (empty without validation data).
    ``diverged`` is set, with ``message``, when a minibatch loss stopped
    being finite or rose above 100 times the starting loss (and chance level).
    """

    iterations_per_epoch: int = 0
    iteration_loss: list = field(default_factory=list)
    epoch: list = field(default_factory=list)
    train_loss: list = field(default_factory=list)
    penalty: list = field(default_factory=list)
    train_accuracy: list = field(default_factory=list)
    val_loss: list = field(default_factory=list)
    val_accuracy: list = field(default_factory=list)
    diverged: bool = False
    message: str = ""

    @property
    def has_validation(self):
        return bool(self.val_loss)

    def summary(self):
        """One line with the last epoch's figures."""
        if not self.epoch:
            return "no epochs recorded"
        parts = [
            f"epoch {self.epoch[-1]}",
            f"train loss {self.train_loss[-1]:.4f}",
            f"train accuracy {self.train_accuracy[-1]:.3f}",
        ]
        if self.has_validation:
            parts += [f"val loss {self.val_loss[-1]:.4f}",
                      f"val accuracy {self.val_accuracy[-1]:.3f}"]
        line = ", ".join(parts)
        return f"{line} (stopped: {self.message})" if self.diverged else line


def minibatches(n_samples, batch_size, rng):
    """Index arrays for one epoch: a fresh shuffle cut into batches.

    Every index in ``range(n_samples)`` appears exactly once; the last batch
    holds the remainder when ``batch_size`` does not divide ``n_samples``.
    """
    order = rng.permutation(n_samples)
    return [order[i:i + batch_size] for i in range(0, n_samples, batch_size)]


def _progress_bar(total, enabled, description, unit="batch"):
    """A tqdm bar counting ``unit`` (a widget in notebooks, text in a terminal), or None."""
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=description, unit=unit, leave=True)


def _decay_to_gradient(params, x, t, optimizer):
    """Size of the decay term ``weight_decay * p`` over the data gradient, at the start.

    Computed once, on the initial parameters and the first samples, only when
    training has diverged: it tells whether the weight decay or the gradient
    (scaled by the learning rate) dominated the first steps.
    """
    if optimizer.weight_decay == 0:
        return 0.0
    try:
        with np.errstate(all="ignore"):
            net = TinyNet(**{name: np.array(params[name], copy=True) for name in PARAM_NAMES})
            net.forward(x, t)
            grads = dict(zip(PARAM_NAMES, net.backward(), strict=True))
            decay = sum(float(np.sum(np.square(optimizer.weight_decay * np.asarray(params[name]))))
                        for name in PARAM_NAMES if optimizer.decays(name))
            gradient = sum(float(np.sum(np.square(grads[name]))) for name in PARAM_NAMES)
        return float(np.sqrt(decay) / max(np.sqrt(gradient), 1e-300))
    except (ValueError, FloatingPointError):  # cannot tell: judge by the step sizes alone
        return None


def _choose_optimizer(optimizer, learning_rate, weight_decay, decay_biases):
    """The optimizer :func:`train` uses (see its ``optimizer`` argument)."""
    if optimizer is None:
        return SGD(learning_rate, weight_decay, decay_biases)
    if isinstance(optimizer, str):
        return make_optimizer(optimizer, learning_rate, weight_decay, decay_biases=decay_biases)
    if not (all(callable(getattr(optimizer, method, None))
                for method in ("step", "penalty", "decays", "reset"))
            and hasattr(optimizer, "learning_rate") and hasattr(optimizer, "weight_decay")):
        raise TypeError(
            f"optimizer must be None, a name such as 'adam', or an optimizer object from "
            f"tinynet.optim (with step, penalty, decays, reset, learning_rate and "
            f"weight_decay); got {optimizer!r}."
        )
    if (learning_rate, weight_decay, decay_biases) != (0.1, 0.0, True):
        raise ValueError(
            "learning_rate, weight_decay and decay_biases belong to the optimizer object when "
            f"one is given; set them there, e.g. Adam(learning_rate={learning_rate!r}, "
            f"weight_decay={weight_decay!r}); got optimizer={optimizer!r}."
        )
    optimizer.reset()
    return optimizer


def train(params, x_train, t_train, x_val=None, t_val=None, *, epochs=10,
          batch_size=32, learning_rate=0.1, weight_decay=0.0, decay_biases=True,
          seed=0, progress=False, callback=None, eval_batch_size=512, optimizer=None):
    """Train TinyNet with minibatch SGD (or another optimizer) and L2 weight decay.

    Parameters
    ----------
    params : dict of str to ndarray
        Initial parameters, e.g. from :func:`tinynet.init_params`. They are
        copied, never modified.
    x_train : ndarray of shape (N, C, H, W)
    t_train : ndarray of shape (N,) of integer labels, or (N, K) one-hot
    x_val, t_val : optional validation data, same layout
    epochs : int (>= 1)
    batch_size : int (>= 1)
    learning_rate, weight_decay : float (>= 0)
    decay_biases : bool, default True
        Decay biases as well as weights (the course exercise does).
    seed : int or numpy.random.Generator
        Drives the shuffling; the same seed gives the same numbers, bit for bit.
    progress : bool, default False
        Show a progress bar (a widget in Jupyter, text in a terminal).
    callback : callable, optional
        Called as ``callback(history)`` after each epoch (for live plots).
    eval_batch_size : int (>= 1), default 512
        Batch size of the per-epoch evaluation passes.
    optimizer : None, str or optimizer object, default None
        None: ``tinynet.optim.SGD(learning_rate, weight_decay, decay_biases)``.
        A name from ``tinynet.optim.OPTIMIZERS`` (``"adam"``, ...): that
        optimizer built with ``learning_rate``, ``weight_decay`` and
        ``decay_biases`` and its own default hyperparameters. An object such
        as ``tinynet.optim.Adam(learning_rate=0.001, beta2=0.99)``: used as it
        is (it carries its own learning rate and weight decay, so leave those
        three arguments at their defaults); ``train`` calls its ``reset()``
        first, so every run starts from a fresh state.

    Returns
    -------
    net : TinyNet
        The trained network (it owns copies of the parameters).
    history : History
    """
    if not hasattr(params, "keys"):
        raise TypeError(
            f"params must be a dict of the six TinyNet arrays; got {type(params).__name__}. "
            "Build it with tinynet.init_params(...)."
        )
    missing = [name for name in PARAM_NAMES if name not in params]
    if missing:
        raise ValueError(
            f"params is missing {missing}; build it with tinynet.init_params(...)."
        )
    x_train = as_float_array("x_train", x_train, ndim=4, shape_hint="(N, C, H, W)")
    N = len(x_train)
    if N == 0:
        raise ValueError("x_train must hold at least one sample.")
    n_classes = np.shape(params["W_fc"])[-1]
    check_labels("t_train", t_train, N, n_classes)
    has_val = x_val is not None or t_val is not None
    if has_val:
        if x_val is None or t_val is None:
            raise ValueError("Pass both x_val and t_val, or neither.")
        x_val = as_float_array("x_val", x_val, ndim=4, shape_hint="(N, C, H, W)")
        check_labels("t_val", t_val, len(x_val), n_classes)
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    eval_batch_size = check_int("eval_batch_size", eval_batch_size, minimum=1)
    optimizer = _choose_optimizer(optimizer, learning_rate, weight_decay, decay_biases)
    rng = as_generator("seed", seed)
    if callback is not None and not callable(callback):
        raise TypeError(f"callback must be callable; got {callback!r}.")

    t_train = np.asarray(t_train)
    net = TinyNet(**{name: np.array(params[name], copy=True) for name in PARAM_NAMES})

    def loss_and_gradients(x, t):
        # The fused pass computes both at once; the loop asks for the gradients later.
        loss, grads = fast.loss_and_gradients(net, x, t)
        return loss, lambda: grads

    def decay_to_gradient():
        return _decay_to_gradient(params, x_train[:batch_size], t_train[:batch_size], optimizer)

    history = training_loop(
        net.params, optimizer, x_train, t_train, x_val, t_val,
        loss_and_gradients=loss_and_gradients,
        evaluate=lambda x, t: net.evaluate(x, t, eval_batch_size),
        n_classes=n_classes, epochs=epochs, batch_size=batch_size, rng=rng,
        progress=progress, callback=callback, decay_to_gradient=decay_to_gradient)
    return net, history


def training_loop(params, optimizer, x_train, t_train, x_val=None, t_val=None, *,
                  loss_and_gradients, evaluate, n_classes, epochs, batch_size, rng,
                  progress=False, callback=None, skip_single=False, train_mode=None,
                  decay_to_gradient=None):
    """The loop behind :func:`train` and :func:`tinynet.network.train_network`.

    Records epoch 0 (before any step), then runs ``epochs`` epochs of shuffled
    minibatches, one optimizer step each, and records every epoch. It stops
    early, with a ``RuntimeWarning`` and ``history.diverged`` set, when a
    minibatch loss is not finite or rises above 100 times the larger of the
    starting loss and chance level (``log n_classes``), or when the
    parameters overflow. It shows the progress bar and calls ``callback``.
    What differs between models comes in as functions; the arguments are
    expected to be checked already (this loop does not validate them).

    Parameters
    ----------
    params : dict of str to ndarray
        The model's own parameter arrays, updated in place by
        ``optimizer.step(params, grads)``.
    optimizer : optimizer object
        With ``step(params, grads)`` and ``penalty(params)``; its
        ``learning_rate`` and ``weight_decay`` (0 if absent) go into the
        divergence message.
    x_train, t_train : ndarray
        Training samples (N, ...) and their labels; ``x_val, t_val``
        optional validation data (both or neither).
    loss_and_gradients : callable
        ``loss_and_gradients(x, t) -> (loss, gradients)``: the data loss of a
        minibatch in training mode, and a function returning the gradient
        dict of that loss. The loop calls ``gradients()`` only once the loss
        has passed the divergence guard, so a model may postpone its backward
        pass until then. A :class:`tinynet._checks.NonFiniteError` counts as
        a non-finite loss.
    evaluate : callable
        ``evaluate(x, t) -> (loss, accuracy)`` in evaluation mode.
    n_classes : int or callable
        Number of classes (for the chance level ``log n_classes``), or a
        function returning it, called once epoch 0 is recorded (when the
        data are known to fit the model).
    epochs, batch_size : int (>= 1)
    rng : numpy.random.Generator
        Drives the shuffling.
    progress : bool
    callback : callable, optional
        ``callback(history)`` after each epoch.
    skip_single : bool, default False
        Skip a last minibatch of a single sample (batch normalisation cannot
        train on it); ``iterations_per_epoch`` then counts one fewer.
    train_mode : callable, optional
        Called before the first step and once more at the end, even after an
        error (a network puts its layers back in training mode).
    decay_to_gradient : callable, optional
        Called only if training diverges: the size of the decay term over the
        data gradient at the start, for
        :func:`tinynet._checks.explain_divergence` (None: judge by the step
        sizes alone).

    Returns
    -------
    History
    """
    N = len(x_train)
    has_val = x_val is not None
    history = History(iterations_per_epoch=-(-N // batch_size)
                      - (1 if skip_single and N % batch_size == 1 else 0))

    def record(epoch):
        loss, acc = evaluate(x_train, t_train)
        history.epoch.append(epoch)
        history.train_loss.append(loss)
        history.train_accuracy.append(acc)
        history.penalty.append(float(optimizer.penalty(params)))
        if has_val:
            loss, acc = evaluate(x_val, t_val)
            history.val_loss.append(loss)
            history.val_accuracy.append(acc)

    def stop(epoch, iteration, loss):
        history.diverged = True
        history.message = (
            f"the loss became {loss:.3g} at epoch {epoch}, iteration {iteration}: "
            "training diverged. " + explain_divergence(
                float(getattr(optimizer, "learning_rate", 0.0)),
                float(getattr(optimizer, "weight_decay", 0.0)),
                None if decay_to_gradient is None else decay_to_gradient())
        )
        # the caller of train / train_network: stop <- training_loop <- train <- caller
        warnings.warn(history.message, RuntimeWarning, stacklevel=4)

    # Large learning rates overflow on purpose in the lessons; the divergence
    # guard below reports it, so numpy's own warnings would only add noise.
    with np.errstate(over="ignore", invalid="ignore"):
        record(0)  # also checks that the data fit the model, before any output or step
        if callable(n_classes):
            n_classes = n_classes()
        # In float64 a too-large step sends the loss to 1e60 and kills every
        # ReLU long before anything overflows, so a finite loss far above the
        # start (and above chance, log K) counts as diverged too.
        blowup = 100.0 * max(history.train_loss[0], float(np.log(n_classes)))
        bar = _progress_bar(epochs * history.iterations_per_epoch, progress, "training")
        if train_mode is not None:
            train_mode()
        try:
            for epoch in range(1, epochs + 1):
                for iteration, batch in enumerate(minibatches(N, batch_size, rng), 1):
                    if skip_single and len(batch) == 1:
                        continue
                    try:
                        loss, gradients = loss_and_gradients(x_train[batch], t_train[batch])
                    except NonFiniteError:  # parameters or activations overflowed
                        loss = float("nan")
                    if not np.isfinite(loss) or loss > blowup:
                        stop(epoch, iteration, loss)
                        return history
                    history.iteration_loss.append(loss)
                    optimizer.step(params, gradients())
                    if bar is not None:
                        bar.update(1)
                        bar.set_postfix(loss=f"{loss:.3f}", refresh=False)
                try:
                    record(epoch)
                except NonFiniteError:
                    stop(epoch, history.iterations_per_epoch, float("nan"))
                    return history
                if callback is not None:
                    callback(history)
        finally:
            if train_mode is not None:
                train_mode()
            if bar is not None:
                bar.close()
    return history
