"""Stochastic gradient descent with L2 weight decay.

The update for a parameter ``p`` with gradient ``g`` is::

    p <- p - learning_rate * (g + weight_decay * p)

``weight_decay * p`` is the gradient of the penalty
``(1/2) * weight_decay * sum(p ** 2)``. It is added straight to the gradient
instead of to the loss, as in the course text.
"""

import numpy as np

from ._checks import check_number


def is_bias(name):
    """Parameters named ``b`` or ``b_...`` are biases (``b_conv1``, ``b_fc``)."""
    return name == "b" or name.startswith("b_")


class SGD:
    """Plain SGD with L2 weight decay.

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
        self.learning_rate = check_number("learning_rate", learning_rate, minimum=0.0)
        self.weight_decay = check_number("weight_decay", weight_decay, minimum=0.0)
        if not isinstance(decay_biases, (bool, np.bool_)):
            raise TypeError(f"decay_biases must be True or False; got {decay_biases!r}.")
        self.decay_biases = bool(decay_biases)

    def decays(self, name):
        """Whether the parameter called ``name`` is weight-decayed."""
        return self.weight_decay > 0 and (self.decay_biases or not is_bias(name))

    def step(self, params, grads):
        """Update every array in ``params`` in place.

        Parameters
        ----------
        params : dict of str to ndarray
            The arrays to update (they are modified).
        grads : dict of str to ndarray
            Gradients of the data loss, same keys and shapes.
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
                g = g + self.weight_decay * p
            p -= self.learning_rate * g

    def penalty(self, params):
        """The L2 penalty ``(1/2) * weight_decay * sum(p ** 2)`` over decayed parameters."""
        return sum(
            0.5 * self.weight_decay * float(np.sum(p * p))
            for name, p in params.items()
            if self.decays(name)
        )
