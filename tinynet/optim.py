"""Optimizers: SGD, Momentum, Nesterov, AdaGrad, RMSProp and Adam.

Every optimizer updates a dict of parameter arrays in place from a dict of
gradients with the same names::

    optimizer = Adam(learning_rate=0.001)
    optimizer.step(params, grads)   # params[name] changes, grads does not

Optimizers other than SGD keep a state per parameter name (a velocity, a sum
of squares, moment estimates); ``reset()`` forgets it.

L2 weight decay is added to the gradient before the update, as in PyTorch::

    g = grad + weight_decay * p

``weight_decay * p`` is the gradient of the penalty
``(1/2) * weight_decay * sum(p ** 2)`` (reported by ``penalty(params)``).
With ``decay_biases=False`` the parameters for which :func:`is_bias` is true
are not decayed, as in *Deep Learning from Scratch*.

Each update rule below is the one of ``torch.optim`` with the same name
(``SGD`` with ``momentum`` and ``nesterov=True``, ``Adagrad``, ``RMSprop``,
``Adam``) with dampening 0, no learning-rate decay, a zero initial state,
no centering and no AMSGrad; ``tests/test_optim.py`` checks them against
PyTorch's numbers in float64.
"""

import numpy as np

from ._checks import check_number


def is_bias(name):
    """Whether ``name`` is a bias-like parameter that ``decay_biases=False`` leaves undecayed.

    True for ``b`` and ``b_...`` (``b_conv1``, ``b_fc``), ``beta_...`` and
    ``gamma_...`` (batch normalisation's shift and scale).
    """
    return name == "b" or name.startswith(("b_", "beta_", "gamma_"))


def _check_fraction(name, value, allow_zero=True):
    """A number in [0, 1) (or (0, 1) with ``allow_zero=False``)."""
    value = check_number(name, value, minimum=0.0, allow_equal=allow_zero)
    if value >= 1.0:
        raise ValueError(f"{name} must be < 1; got {value}. Typical values are 0.9 to 0.999.")
    return value


class Optimizer:
    """What every optimizer shares: weight decay, argument checks, state per name.

    A subclass sets ``hyperparameters`` (the names shown by ``repr``) and
    writes ``update(p, g, state)``, which changes the array ``p`` in place
    from the gradient ``g`` (weight decay already added) and the dict
    ``state`` kept for that parameter.
    """

    hyperparameters = ()

    def __init__(self, learning_rate, weight_decay=0.0, decay_biases=True):
        self.learning_rate = check_number("learning_rate", learning_rate, minimum=0.0)
        self.weight_decay = check_number("weight_decay", weight_decay, minimum=0.0)
        if not isinstance(decay_biases, (bool, np.bool_)):
            raise TypeError(f"decay_biases must be True or False; got {decay_biases!r}.")
        self.decay_biases = bool(decay_biases)
        self.state = {}

    def __repr__(self):
        names = ("learning_rate",) + tuple(self.hyperparameters) + ("weight_decay",)
        settings = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__name__}({settings})"

    def decays(self, name):
        """Whether the parameter called ``name`` is weight-decayed."""
        return self.weight_decay > 0 and (self.decay_biases or not is_bias(name))

    def penalty(self, params):
        """The L2 penalty ``(1/2) * weight_decay * sum(p ** 2)`` over decayed parameters.

        A float: 0.0 when nothing is decayed.
        """
        return sum(
            (0.5 * self.weight_decay * float(np.sum(p * p))
             for name, p in params.items()
             if self.decays(name)),
            0.0,
        )

    def reset(self):
        """Forget the state of every parameter (start afresh)."""
        self.state = {}

    def step(self, params, grads):
        """Update every array in ``params`` in place.

        Parameters
        ----------
        params : dict of str to ndarray
            The arrays to update (they are modified).
        grads : dict of str to ndarray
            Gradients of the data loss, same keys and shapes (not modified).
        """
        missing = set(params) - set(grads)
        if missing:
            raise ValueError(f"grads is missing gradients for {sorted(missing)}.")
        for name, p in params.items():
            g = grads[name]
            if g.shape != p.shape:
                raise ValueError(
                    f"grads[{name!r}] has shape {g.shape} but the parameter has {p.shape}."
                )
            if self.decays(name):
                g = g + self.weight_decay * p  # a new array: grads[name] is left alone
            state = self.state.setdefault(name, {})
            self.update(p, g, state)

    def update(self, p, g, state):
        raise NotImplementedError

    def _zeros(self, state, key, p):
        """``state[key]``, created as zeros of ``p``'s shape on the first step."""
        if key not in state:
            state[key] = np.zeros(p.shape)
        elif state[key].shape != p.shape:
            raise ValueError(
                f"{type(self).__name__} holds state of shape {state[key].shape} for a parameter "
                f"that now has shape {p.shape}. Call reset() before training another model."
            )
        return state[key]


class SGD(Optimizer):
    """Plain SGD with L2 weight decay.

    Update, with ``g = grad + weight_decay * p``::

        p <- p - learning_rate * g

    Parameters
    ----------
    learning_rate : float, default 0.1
        Step size (>= 0).
    weight_decay : float, default 0.0
        L2 coefficient lambda (>= 0).
    decay_biases : bool, default True
        Whether biases are decayed too. The course exercise decays every
        parameter; *Deep Learning from Scratch* decays weights only
        (``decay_biases=False``).
    """

    def __init__(self, learning_rate=0.1, weight_decay=0.0, decay_biases=True):
        super().__init__(learning_rate, weight_decay, decay_biases)

    def update(self, p, g, state):
        p -= self.learning_rate * g


class Momentum(Optimizer):
    """SGD with heavy-ball momentum (``torch.optim.SGD(momentum=...)``).

    Update, with ``g = grad + weight_decay * p`` and the velocity ``v``
    starting at 0::

        v <- momentum * v + g
        p <- p - learning_rate * v

    The book writes ``v <- momentum * v - learning_rate * g; p <- p + v``,
    which is the same sequence of parameters while the learning rate stays
    fixed (its ``v`` is ``-learning_rate`` times this one).

    Parameters
    ----------
    learning_rate : float, default 0.01
    momentum : float in [0, 1), default 0.9
        How much of the previous velocity is kept; 0 gives plain SGD.
    weight_decay : float, default 0.0
    decay_biases : bool, default True
    """

    hyperparameters = ("momentum",)

    def __init__(self, learning_rate=0.01, momentum=0.9, weight_decay=0.0, decay_biases=True):
        super().__init__(learning_rate, weight_decay, decay_biases)
        self.momentum = _check_fraction("momentum", momentum)

    def update(self, p, g, state):
        v = self.momentum * self._zeros(state, "velocity", p) + g
        state["velocity"] = v
        p -= self.learning_rate * v


class Nesterov(Momentum):
    """SGD with Nesterov momentum (``torch.optim.SGD(momentum=..., nesterov=True)``).

    Update, with ``g = grad + weight_decay * p`` and ``v`` starting at 0::

        v <- momentum * v + g
        p <- p - learning_rate * (g + momentum * v)

    It steps as if it had already moved along the new velocity: the
    gradient term is counted once more, the velocity ``momentum`` times.

    Parameters
    ----------
    learning_rate : float, default 0.01
    momentum : float in (0, 1), default 0.9
    weight_decay : float, default 0.0
    decay_biases : bool, default True
    """

    def __init__(self, learning_rate=0.01, momentum=0.9, weight_decay=0.0, decay_biases=True):
        super().__init__(learning_rate, momentum, weight_decay, decay_biases)
        self.momentum = _check_fraction("momentum", momentum, allow_zero=False)

    def update(self, p, g, state):
        v = self.momentum * self._zeros(state, "velocity", p) + g
        state["velocity"] = v
        p -= self.learning_rate * (g + self.momentum * v)


class AdaGrad(Optimizer):
    """AdaGrad (``torch.optim.Adagrad``, no learning-rate decay, initial sum 0).

    Update, with ``g = grad + weight_decay * p`` and ``h`` starting at 0
    (all operations elementwise)::

        h <- h + g * g
        p <- p - learning_rate * g / (sqrt(h) + eps)

    Each coordinate's step shrinks as its squared gradients pile up.

    Parameters
    ----------
    learning_rate : float, default 0.01
    eps : float (> 0), default 1e-10
        Added outside the square root, so a zero gradient gives a zero step.
    weight_decay : float, default 0.0
    decay_biases : bool, default True
    """

    hyperparameters = ("eps",)

    def __init__(self, learning_rate=0.01, eps=1e-10, weight_decay=0.0, decay_biases=True):
        super().__init__(learning_rate, weight_decay, decay_biases)
        self.eps = check_number("eps", eps, minimum=0.0, allow_equal=False)

    def update(self, p, g, state):
        h = self._zeros(state, "sum_of_squares", p) + g * g
        state["sum_of_squares"] = h
        p -= self.learning_rate * g / (np.sqrt(h) + self.eps)


class RMSProp(Optimizer):
    """RMSProp (``torch.optim.RMSprop``, not centered, no momentum).

    Update, with ``g = grad + weight_decay * p`` and ``s`` starting at 0
    (elementwise)::

        s <- alpha * s + (1 - alpha) * g * g
        p <- p - learning_rate * g / (sqrt(s) + eps)

    Unlike AdaGrad's sum, the moving average ``s`` forgets old gradients.

    Parameters
    ----------
    learning_rate : float, default 0.01
    alpha : float in [0, 1), default 0.99
        Decay rate of the moving average of squared gradients.
    eps : float (> 0), default 1e-8
        Added outside the square root.
    weight_decay : float, default 0.0
    decay_biases : bool, default True
    """

    hyperparameters = ("alpha", "eps")

    def __init__(self, learning_rate=0.01, alpha=0.99, eps=1e-8, weight_decay=0.0,
                 decay_biases=True):
        super().__init__(learning_rate, weight_decay, decay_biases)
        self.alpha = _check_fraction("alpha", alpha)
        self.eps = check_number("eps", eps, minimum=0.0, allow_equal=False)

    def update(self, p, g, state):
        s = self.alpha * self._zeros(state, "mean_square", p) + (1 - self.alpha) * g * g
        state["mean_square"] = s
        p -= self.learning_rate * g / (np.sqrt(s) + self.eps)


class Adam(Optimizer):
    """Adam (Kingma & Ba 2015, Algorithm 1; ``torch.optim.Adam`` without AMSGrad).

    Update at step t = 1, 2, ... of a parameter, with
    ``g = grad + weight_decay * p`` and ``m``, ``v`` starting at 0
    (elementwise)::

        m <- beta1 * m + (1 - beta1) * g
        v <- beta2 * v + (1 - beta2) * g * g
        m_hat = m / (1 - beta1 ** t)        # bias correction: m and v start at 0
        v_hat = v / (1 - beta2 ** t)
        p <- p - learning_rate * m_hat / (sqrt(v_hat) + eps)

    Parameters
    ----------
    learning_rate : float, default 0.001
    beta1 : float in [0, 1), default 0.9
        Decay rate of the mean of the gradients.
    beta2 : float in [0, 1), default 0.999
        Decay rate of the mean of the squared gradients.
    eps : float (> 0), default 1e-8
    weight_decay : float, default 0.0
        Added to the gradient (L2, as in ``torch.optim.Adam``; not AdamW).
    decay_biases : bool, default True
    """

    hyperparameters = ("beta1", "beta2", "eps")

    def __init__(self, learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-8,
                 weight_decay=0.0, decay_biases=True):
        super().__init__(learning_rate, weight_decay, decay_biases)
        self.beta1 = _check_fraction("beta1", beta1)
        self.beta2 = _check_fraction("beta2", beta2)
        self.eps = check_number("eps", eps, minimum=0.0, allow_equal=False)

    def update(self, p, g, state):
        t = state.get("step", 0) + 1
        m = self.beta1 * self._zeros(state, "m", p) + (1 - self.beta1) * g
        v = self.beta2 * self._zeros(state, "v", p) + (1 - self.beta2) * g * g
        state.update(step=t, m=m, v=v)
        m_hat = m / (1 - self.beta1 ** t)
        v_hat = v / (1 - self.beta2 ** t)
        p -= self.learning_rate * m_hat / (np.sqrt(v_hat) + self.eps)


OPTIMIZERS = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSProp,
    "adam": Adam,
}


def make_optimizer(name, learning_rate, weight_decay=0.0, **kwargs):
    """Build the optimizer called ``name`` (a key of :data:`OPTIMIZERS`).

    ``kwargs`` are the optimizer's own hyperparameters (``momentum=0.8``,
    ``beta2=0.99``, ``decay_biases=False``, ...).

    >>> make_optimizer("adam", 0.001)
    Adam(learning_rate=0.001, beta1=0.9, beta2=0.999, eps=1e-08, weight_decay=0.0)
    """
    if not isinstance(name, str) or name.lower() not in OPTIMIZERS:
        raise ValueError(
            f"optimizer must be one of {sorted(OPTIMIZERS)}; got {name!r}."
        )
    cls = OPTIMIZERS[name.lower()]
    try:
        return cls(learning_rate=learning_rate, weight_decay=weight_decay, **kwargs)
    except TypeError as error:
        if "unexpected keyword" not in str(error):
            raise
        allowed = ", ".join(cls.hyperparameters + ("decay_biases",))
        raise TypeError(
            f"{cls.__name__} does not take {sorted(kwargs)}; its own settings are: {allowed}."
        ) from None
