"""tinynet: a small convolutional network built from scratch in numpy.

The course exercise's API::

    from tinynet.layers import Convolution, Relu, FullyConnected, MaxPool, SoftmaxWithLoss
    from tinynet import TinyNet, init_params, train_one_iter

Modules, one idea each, from the bottom up (a module imports only modules
listed before it; ``tests/test_layout.py`` checks the order):

* the layers and the network: :mod:`~tinynet.layers` (forward and backward
  of each layer, batch normalisation and dropout among them),
  :mod:`~tinynet.im2col`, :mod:`~tinynet.naive` (loop versions),
  :mod:`~tinynet.model` (TinyNet, the exercise's network, and
  ``train_one_iter``, the exercise), :mod:`~tinynet.fast` (the same step,
  fused for speed: advanced reading);
* checking and data: :mod:`~tinynet.gradcheck`, :mod:`~tinynet.polynomial`,
  :mod:`~tinynet.datasets`;
* training: :mod:`~tinynet.optim` (SGD, Momentum, Nesterov, AdaGrad,
  RMSProp, Adam), :mod:`~tinynet.training` (the one training loop, and
  ``train`` for TinyNet), :mod:`~tinynet.initialization` (weight scales and
  activation histograms), :mod:`~tinynet.network` (a network from any list
  of layers, MLPs, ``train_network``), :mod:`~tinynet.landscapes` (the
  optimizers' test surface and their paths on it), :mod:`~tinynet.search`
  (random hyperparameter search on validation data);
* the lessons' glue: :mod:`~tinynet.presets` (the panels' scenarios),
  :mod:`~tinynet.plotting` (every plotting helper),
  :mod:`~tinynet.experiments` (the functions behind the sliders, and the
  studies over seeds), :mod:`~tinynet.figures`, :mod:`~tinynet.widgets`,
  :mod:`~tinynet.exercises` (the checkers of the exercise edition),
  :mod:`~tinynet.cli`.
"""

from . import fast
from .model import PARAM_NAMES, TinyNet, init_params, output_shapes, train_one_iter
from .network import Network, build_mlp, train_network
from .optim import OPTIMIZERS, SGD, AdaGrad, Adam, Momentum, Nesterov, RMSProp, make_optimizer
from .training import History, train

__version__ = "0.2.0"

__all__ = [
    "PARAM_NAMES",
    "OPTIMIZERS",
    "SGD",
    "Momentum",
    "Nesterov",
    "AdaGrad",
    "RMSProp",
    "Adam",
    "make_optimizer",
    "History",
    "Network",
    "TinyNet",
    "build_mlp",
    "init_params",
    "output_shapes",
    "train",
    "train_network",
    "train_one_iter",
    "fast",
    "__version__",
]
