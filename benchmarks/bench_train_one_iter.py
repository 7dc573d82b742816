"""Time one ``train_one_iter`` (forward, backward, SGD step) on TinyNet.

    python benchmarks/bench_train_one_iter.py [--repeats 30] [--cases mnist,digits,large]

For each batch shape it prints the median time of tinynet in float64 and
float32, of the plain loop versions of convolution and pooling
(:mod:`tinynet.naive`), and, when PyTorch is importable, of the same step in
PyTorch on the CPU (PyTorch is never a dependency of tinynet; install it by
hand to compare). It also prints the peak memory one tinynet iteration
allocates (tracemalloc), next to the size of its largest im2col buffer.

On 2 cores, BLAS worker threads keep spinning for about 0.1 s after a call
and bias back-to-back comparisons. So each variant runs once untimed right
before each timed call, the variants are interleaved round by round, and
ratios are the median of the per-round ratios (paired), not a ratio of
medians.
"""

import argparse
import os
import platform
import time
import tracemalloc

import numpy as np

import tinynet
from tinynet import naive
from tinynet.layers import Convolution, MaxPool
from tinynet.model import PARAM_NAMES, TinyNet

CASES = {
    "digits": dict(N=64, shape=(1, 8, 8), filters=(8, 16)),
    "mnist": dict(N=100, shape=(1, 28, 28), filters=(16, 32)),
    "large": dict(N=256, shape=(1, 28, 28), filters=(32, 64)),
}
LEARNING_RATE, WEIGHT_DECAY = 0.1, 1e-4


# ---------------------------------------------------------------------------
# The loop versions, swapped into TinyNet
# ---------------------------------------------------------------------------

class LoopConvolution(Convolution):
    """Convolution computed by :func:`tinynet.naive.conv_forward_naive`."""

    def _forward(self, x):
        self._x = x
        return naive.conv_forward_naive(x, self.W, self.b, self.stride, self.pad)

    def _backward(self, dout, need_dx=True, release=False):
        dx, self.dW, self.db = naive.conv_backward_naive(dout, self._x, self.W,
                                                         self.stride, self.pad)
        return dx


class LoopMaxPool(MaxPool):
    """Max pooling computed by :mod:`tinynet.naive`."""

    def _forward(self, x):
        self._x = x
        return naive.maxpool_forward_naive(x, self.pool_h, self.pool_w, self.stride, self.pad)

    def _backward(self, dout):
        return naive.maxpool_backward_naive(dout, self._x, self.pool_h, self.pool_w,
                                            self.stride, self.pad)


class LoopTinyNet(TinyNet):
    """TinyNet whose convolutions and pools are the loop versions."""

    def __init__(self, W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc):
        super().__init__(W_conv1, b_conv1, W_conv2, b_conv2, W_fc, b_fc)
        self.conv1 = LoopConvolution(W_conv1, b_conv1, stride=1, pad=1)
        self.conv2 = LoopConvolution(W_conv2, b_conv2, stride=1, pad=1)
        self.pool1 = LoopMaxPool(2, 2, stride=2)
        self.pool2 = LoopMaxPool(2, 2, stride=2)


def loop_train_one_iter(params, x, t):
    params = {k: v.copy() for k, v in params.items()}
    net = LoopTinyNet(**params)
    net.forward(x, t)
    grads = dict(zip(PARAM_NAMES, net.backward()))
    tinynet.SGD(LEARNING_RATE, WEIGHT_DECAY).step(params, grads)
    return tuple(params[k] for k in PARAM_NAMES)


# ---------------------------------------------------------------------------
# PyTorch, when available
# ---------------------------------------------------------------------------

def torch_step_factory(params, x, t):
    """The same step in PyTorch: autograd, then p - lr * (grad + wd * p)."""
    import torch
    import torch.nn.functional as F

    tensors = [torch.from_numpy(params[k].copy()) for k in PARAM_NAMES]
    xt, tt = torch.from_numpy(x), torch.from_numpy(t)

    def step():
        W1, b1, W2, b2, Wf, bf = [p.clone().requires_grad_(True) for p in tensors]
        h = F.max_pool2d(F.relu(F.conv2d(xt, W1, b1, padding=1)), 2, 2)
        h = F.max_pool2d(F.relu(F.conv2d(h, W2, b2, padding=1)), 2, 2)
        loss = F.cross_entropy(h.flatten(1) @ Wf + bf, tt)
        loss.backward()
        with torch.no_grad():
            return tuple((p - LEARNING_RATE * (p.grad + WEIGHT_DECAY * p)).numpy()
                         for p in (W1, b1, W2, b2, Wf, bf))

    return step


# ---------------------------------------------------------------------------
# Measuring
# ---------------------------------------------------------------------------

def make_case(N, shape, filters, dtype=np.float64, seed=0):
    rng = np.random.default_rng(seed)
    params = tinynet.init_params(shape, *filters, num_classes=10, rng=rng, dtype=dtype)
    x = rng.random((N, *shape)).astype(dtype)
    t = rng.integers(0, 10, N)
    return params, x, t


def timed(fn):
    fn()  # untimed right before: BLAS threads awake, caches warm
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def interleaved(variants, rounds):
    """Time every variant once per round; return {name: array of seconds}."""
    times = {name: [] for name in variants}
    for _ in range(rounds):
        for name, fn in variants.items():
            times[name].append(timed(fn))
    return {name: np.array(ts) for name, ts in times.items()}


def peak_memory(fn):
    """Peak bytes allocated while ``fn`` runs (numpy reports to tracemalloc)."""
    fn()
    tracemalloc.start()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def largest_im2col_bytes(N, shape, filters, dtype):
    C, H, W = shape
    conv1 = C * 9 * N * H * W
    conv2 = filters[0] * 9 * N * (H // 2) * (W // 2)
    return max(conv1, conv2) * np.dtype(dtype).itemsize


def blas_description():
    try:
        from threadpoolctl import threadpool_info

        info = [f"{i['internal_api']} {i.get('version', '')} {i.get('architecture', '')} "
                f"x{i['num_threads']}" for i in threadpool_info() if i["user_api"] == "blas"]
        return "; ".join(info)
    except ImportError:
        return "threadpoolctl not installed"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="rounds per case")
    parser.add_argument("--cases", default="digits,mnist,large")
    parser.add_argument("--loop-repeats", type=int, default=3,
                        help="rounds for the slow loop versions (0 to skip)")
    args = parser.parse_args()

    try:
        import torch

        torch.set_num_threads(os.cpu_count() or 1)
        torch_version = torch.__version__
    except ImportError:
        torch = None
        torch_version = "not installed (pip install torch to compare)"

    print(f"Python {platform.python_version()}, numpy {np.__version__}, "
          f"tinynet {tinynet.__version__}, torch {torch_version}")
    print(f"{platform.machine()}, {os.cpu_count()} cores; BLAS: {blas_description()}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}")
    print()
    header = (f"{'case':<7} {'dtype':<8} {'tinynet ms':>10} {'torch ms':>9} "
              f"{'tinynet/torch':>13} {'loops ms':>9} {'peak MB':>8} {'im2col MB':>9}")
    print(header)
    print("-" * len(header))
    for case in args.cases.split(","):
        spec = CASES[case]
        for dtype in (np.float64, np.float32):
            params, x, t = make_case(**spec, dtype=dtype)
            given = [params[k] for k in PARAM_NAMES]

            def ours():
                return tinynet.train_one_iter(*given, x, t, LEARNING_RATE, WEIGHT_DECAY)

            variants = {"tinynet": ours}
            if torch is not None:
                variants["torch"] = torch_step_factory(params, x, t)
                difference = max(float(np.max(np.abs(a - b)))
                                 for a, b in zip(ours(), variants["torch"]()))
                tolerance = 1e-8 if dtype == np.float64 else 1e-3
                if difference > tolerance:
                    raise SystemExit(f"{case} {np.dtype(dtype).name}: tinynet and torch "
                                     f"disagree by {difference:.2e}")
            times = interleaved(variants, args.repeats)
            ms = {name: float(np.median(ts)) * 1e3 for name, ts in times.items()}
            ratio = (f"{np.median(times['tinynet'] / times['torch']):.2f}"
                     if "torch" in times else "-")
            torch_ms = f"{ms['torch']:.2f}" if "torch" in ms else "-"
            loops_ms = "-"
            if args.loop_repeats and dtype == np.float64:
                loops = interleaved({"loops": lambda: loop_train_one_iter(params, x, t)},
                                    args.loop_repeats)["loops"]
                loops_ms = f"{np.median(loops) * 1e3:.1f}"
            peak = peak_memory(ours) / 2**20
            im2col = largest_im2col_bytes(**spec, dtype=dtype) / 2**20
            print(f"{case:<7} {np.dtype(dtype).name:<8} {ms['tinynet']:>10.2f} {torch_ms:>9} "
                  f"{ratio:>13} {loops_ms:>9} {peak:>8.1f} {im2col:>9.1f}", flush=True)
    print()
    print("tinynet/torch is the median of per-round ratios (below 1: tinynet is faster).")


if __name__ == "__main__":
    main()
