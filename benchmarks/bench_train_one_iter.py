"""Time one ``train_one_iter`` (forward, backward, SGD step) on TinyNet against PyTorch.

    python benchmarks/bench_train_one_iter.py [--repeats 30] [--cases digits,mnist,large]

For each batch shape and dtype (float64, float32) it times the plain reference
``tinynet.train_one_iter`` (the teaching layers), the fused
``tinynet.fast.train_one_iter`` and, when PyTorch is importable, the same step
in PyTorch on the CPU (PyTorch is never a dependency of tinynet; install it
by hand to compare), and prints:

* the plain step's median time and how many times faster the fused one is;
* the fused step's median time, the **paired ratio** tinynet/torch (the median of the
  per-round ratios: the variants are interleaved round by round, so a burst
  of other load hits both) and the **best-vs-best** ratio (fastest tinynet
  run over fastest torch run, which depends least on other load);
* a **single-thread** comparison: tinynet with BLAS (and so its engine)
  limited to one thread against ``torch.set_num_threads(1)``;
* the **peak memory** one tinynet step allocates (tracemalloc).

The header names the machine, the BLAS library and the kernel it runs
(threadpoolctl), and the load average, because the figures depend on all of
them. Each variant runs once untimed right before each timed call (BLAS
threads awake, caches warm).
"""

import argparse
import os
import platform
import time
import tracemalloc

import numpy as np
from threadpoolctl import threadpool_info, threadpool_limits

import tinynet
from tinynet import fast
from tinynet.model import PARAM_NAMES

CASES = {
    "digits": dict(N=64, shape=(1, 8, 8), filters=(8, 16)),
    "mnist": dict(N=100, shape=(1, 28, 28), filters=(16, 32)),
    "large": dict(N=256, shape=(1, 28, 28), filters=(32, 64)),
}
LEARNING_RATE, WEIGHT_DECAY = 0.1, 1e-4


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
    """Peak bytes allocated while ``fn`` runs (numpy reports to tracemalloc).

    The engine's per-thread workspaces are freed first, so the figure
    includes them (they persist between steps).
    """
    fn()
    tracemalloc.start()
    fast.clear_workspaces()
    fn()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


def blas_description():
    return "; ".join(
        f"{i['internal_api']} {i.get('version', '')} kernel {i.get('architecture', '?')} "
        f"x{i['num_threads']}" for i in threadpool_info() if i["user_api"] == "blas")


def load():
    return "load %.2f %.2f %.2f" % os.getloadavg()


def ratios(times):
    paired = np.median(times["tinynet"] / times["torch"])
    best = times["tinynet"].min() / times["torch"].min()
    return paired, best


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30, help="rounds per case")
    parser.add_argument("--cases", default="digits,mnist,large")
    parser.add_argument("--no-single-thread", action="store_true",
                        help="skip the one-thread comparison")
    args = parser.parse_args()

    try:
        import torch

        threads = torch.get_num_threads()
        torch_version = torch.__version__
    except ImportError:
        torch = None
        torch_version = "not installed (pip install torch to compare)"

    print(f"Python {platform.python_version()}, numpy {np.__version__}, "
          f"tinynet {tinynet.__version__} ({os.path.dirname(tinynet.__file__)}), "
          f"torch {torch_version}")
    print(f"{platform.machine()} {platform.processor() or ''}, {os.cpu_count()} cores; "
          f"BLAS: {blas_description()}; "
          f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', '(unset)')}; {load()}")
    print()
    header = (f"{'case':<7} {'dtype':<8} {'plain ms':>9} {'x faster':>8} | "
              f"{'fast ms':>10} {'torch ms':>9} {'paired':>7} "
              f"{'best':>6} | {'1-thread: fast ms':>20} {'torch ms':>9} {'paired':>7} "
              f"{'best':>6} | {'peak MB':>7}")
    print(header)
    print("-" * len(header))
    for case in args.cases.split(","):
        spec = CASES[case]
        for dtype in (np.float64, np.float32):
            params, x, t = make_case(**spec, dtype=dtype)
            given = [params[k] for k in PARAM_NAMES]

            def ours(given=given, x=x, t=t):  # this case's arrays, bound now
                return fast.train_one_iter(*given, x, t, LEARNING_RATE, WEIGHT_DECAY)

            def plain(given=given, x=x, t=t):
                return tinynet.train_one_iter(*given, x, t, LEARNING_RATE, WEIGHT_DECAY)

            difference = max(float(np.max(np.abs(a - b)))
                             for a, b in zip(ours(), plain(), strict=True))
            if difference > (1e-10 if dtype == np.float64 else 1e-4):
                raise SystemExit(f"{case} {np.dtype(dtype).name}: tinynet.fast and the plain "
                                 f"reference disagree by {difference:.2e}")
            plain_ms = float(np.median(interleaved({"plain": plain}, max(3, args.repeats // 4))
                                       ["plain"])) * 1e3
            variants = {"tinynet": ours}
            if torch is not None:
                variants["torch"] = torch_step_factory(params, x, t)
                difference = max(float(np.max(np.abs(a - b)))
                                 for a, b in zip(ours(), variants["torch"](), strict=True))
                tolerance = 1e-8 if dtype == np.float64 else 1e-3
                if difference > tolerance:
                    raise SystemExit(f"{case} {np.dtype(dtype).name}: tinynet and torch "
                                     f"disagree by {difference:.2e}")
            times = interleaved(variants, args.repeats)
            ms = {name: float(np.median(ts)) * 1e3 for name, ts in times.items()}
            row = (f"{case:<7} {np.dtype(dtype).name:<8} {plain_ms:>9.2f} "
                   f"{plain_ms / ms['tinynet']:>8.1f} | {ms['tinynet']:>10.2f} ")
            if torch is not None:
                paired, best = ratios(times)
                row += f"{ms['torch']:>9.2f} {paired:>7.2f} {best:>6.2f} | "
            else:
                row += f"{'-':>9} {'-':>7} {'-':>6} | "
            if torch is not None and not args.no_single_thread:
                torch.set_num_threads(1)
                with threadpool_limits(1, user_api="blas"):
                    single = interleaved(variants, args.repeats)
                torch.set_num_threads(threads)
                paired, best = ratios(single)
                row += (f"{np.median(single['tinynet']) * 1e3:>20.2f} "
                        f"{np.median(single['torch']) * 1e3:>9.2f} {paired:>7.2f} {best:>6.2f} | ")
            else:
                row += f"{'-':>20} {'-':>9} {'-':>7} {'-':>6} | "
            row += f"{peak_memory(ours) / 2**20:>7.1f}"
            print(row, flush=True)
    print()
    print(f"after: {load()}")
    print("plain: tinynet.train_one_iter (the teaching layers), x faster: plain / fast; "
          "fast: tinynet.fast.train_one_iter.")
    print("paired: median of per-round fast/torch ratios; best: fastest over fastest "
          "(below 1: tinynet is faster).")


if __name__ == "__main__":
    main()
