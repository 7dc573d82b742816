"""tinynet: a small convolutional network built from scratch in numpy.

The course exercise's API::

    from tinynet.layers import Convolution, Relu, FullyConnected, MaxPool, SoftmaxWithLoss
    from tinynet import TinyNet, init_params, train_one_iter

Modules, one idea each: :mod:`~tinynet.layers` (forward and backward of each
layer), :mod:`~tinynet.im2col`, :mod:`~tinynet.naive` (loop versions),
:mod:`~tinynet.model` (TinyNet), :mod:`~tinynet.optim` (SGD),
:mod:`~tinynet.training` (the training loop), :mod:`~tinynet.gradcheck`,
:mod:`~tinynet.datasets`, :mod:`~tinynet.polynomial`, :mod:`~tinynet.plotting`.
"""

from .model import PARAM_NAMES, TinyNet, init_params, output_shapes, train_one_iter
from .optim import SGD
from .training import History, train

__version__ = "0.1.0"

__all__ = [
    "PARAM_NAMES",
    "SGD",
    "History",
    "TinyNet",
    "init_params",
    "output_shapes",
    "train",
    "train_one_iter",
    "__version__",
]
