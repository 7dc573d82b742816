"""Time one ``train_one_iter`` (forward, backward, SGD step) on TinyNet.

Prints the median time of the vectorised package next to the plain loop
versions of convolution and pooling from :mod:`tinynet.naive`, for an
MNIST-shaped batch and a digits batch.

    python benchmarks/bench_train_one_iter.py [--repeats 20]

On 2 cores, BLAS worker threads keep spinning for a while after a call, so
each variant runs once untimed right before each timed call, and the
variants are interleaved; the table reports medians and the median of the
paired ratios.
"""

import argparse
import platform
import time

import numpy as np

import tinynet
from tinynet import naive
from tinynet.layers import Convolution, MaxPool
from tinynet.model import PARAM_NAMES, TinyNet

CASES = {
    "mnist": dict(N=100, shape=(1, 28, 28), filters=(16, 32)),
    "digits": dict(N=64, shape=(1, 8, 8), filters=(8, 16)),
}


class LoopConvolution(Convolution):
    """Convolution computed by :func:`tinynet.naive.conv_forward_naive`."""

    def forward(self, x):
        self._x = x
        return naive.conv_forward_naive(x, self.W, self.b, self.stride, self.pad)

    def backward(self, dout):
        dx, self.dW, self.db = naive.conv_backward_naive(dout, self._x, self.W, self.stride, self.pad)
        return dx


class LoopMaxPool(MaxPool):
    """Max pooling computed by :mod:`tinynet.naive`."""

    def forward(self, x):
        self._x = x
        return naive.maxpool_forward_naive(x, self.pool_h, self.pool_w, self.stride, self.pad)

    def backward(self, dout):
        return naive.maxpool_backward_naive(dout, self._x, self.pool_h, self.pool_w,
                                            self.stride, self.pad)


def loop_train_one_iter(params, x, t, learning_rate, weight_decay):
    """``train_one_iter`` with the loop layers swapped in."""
    params = {k: v.copy() for k, v in params.items()}
    net = TinyNet(**params)
    net.conv1 = LoopConvolution(params["W_conv1"], params["b_conv1"], stride=1, pad=1)
    net.conv2 = LoopConvolution(params["W_conv2"], params["b_conv2"], stride=1, pad=1)
    net.pool1 = LoopMaxPool(2, 2, stride=2)
    net.pool2 = LoopMaxPool(2, 2, stride=2)
    net.forward(x, t)
    grads = dict(zip(PARAM_NAMES, net.backward()))
    tinynet.SGD(learning_rate, weight_decay).step(params, grads)
    return tuple(params[k] for k in PARAM_NAMES)


def make_case(N, shape, filters, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    params = tinynet.init_params(shape, *filters, num_classes=10, rng=rng, dtype=dtype)
    x = rng.random((N, *shape)).astype(dtype)
    t = rng.integers(0, 10, N)
    return params, x, t


def timed(fn):
    fn()  # untimed warm-up right before: BLAS threads awake, caches warm
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def bench(variants, repeats):
    """Interleave the variants; return {name: list of seconds}."""
    times = {name: [] for name in variants}
    for _ in range(repeats):
        for name, fn in variants.items():
            times[name].append(timed(fn))
    return times


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--loop-repeats", type=int, default=3,
                        help="repeats for the slow loop versions")
    args = parser.parse_args()
    print(f"numpy {np.__version__}, Python {platform.python_version()}, "
          f"{platform.machine()}, tinynet {tinynet.__version__}")
    print(f"{'case':<8} {'variant':<12} {'median ms':>10} {'ratio':>8}")
    for case, spec in CASES.items():
        params, x, t = make_case(**spec)
        args_in = [params[k] for k in PARAM_NAMES]

        def vectorised():
            tinynet.train_one_iter(*args_in, x, t, 0.1, 1e-4)

        def loops():
            loop_train_one_iter(params, x, t, 0.1, 1e-4)

        fast = np.median(bench({"vectorised": vectorised}, args.repeats)["vectorised"])
        slow = np.median(bench({"loops": loops}, args.loop_repeats)["loops"])
        print(f"{case:<8} {'vectorised':<12} {fast * 1e3:>10.2f} {1.0:>8.2f}")
        print(f"{case:<8} {'loops':<12} {slow * 1e3:>10.2f} {slow / fast:>8.1f}x")


if __name__ == "__main__":
    main()
