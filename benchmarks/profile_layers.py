"""Where does a training step spend its time? Per layer, forward and backward.

The layers are the plain teaching layers, which ``tinynet.train_one_iter``
runs; ``tinynet.fast.train_one_iter`` runs the fused engine instead. Both
steps are timed below the table for comparison.

    python benchmarks/profile_layers.py [--case mnist] [--dtype float64] [--threads 1]

Times each layer's forward and backward pass separately (median of many
calls, CPU time of this process), in the order TinyNet runs them, and the
matrix products alone for comparison: whatever is not matrix product is
copying, padding, masking and scattering, which is what an optimisation of a
numpy implementation can attack.

``--threads 1`` sets OPENBLAS_NUM_THREADS (and friends) before numpy loads,
so the figures do not depend on what else the machine is doing.
"""

import argparse
import os
import sys
import time


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--case", default="mnist", choices=["digits", "mnist", "large"])
    parser.add_argument("--dtype", default="float64", choices=["float64", "float32"])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args()
    for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[name] = str(args.threads)
    if "numpy" in sys.modules:  # pragma: no cover - only when imported oddly
        print("warning: numpy was imported before the thread count was set")

    import numpy as np
    from bench_train_one_iter import CASES, make_case

    import tinynet

    spec = CASES[args.case]
    params, x, t = make_case(**spec, dtype=np.dtype(args.dtype))
    net = tinynet.TinyNet(**params)

    def cpu_ms(fn):
        fn()
        times = []
        for _ in range(args.repeats):
            start = time.process_time()
            fn()
            times.append(time.process_time() - start)
        return float(np.median(times)) * 1e3

    order = [layer for _, layer in net.layers]  # the order TinyNet runs them
    names = {id(layer): name for name, layer in net.layers}
    inputs, out = [], x
    forward = {}
    for layer in order:
        inputs.append(out)
        forward[id(layer)] = cpu_ms(lambda layer=layer: layer._forward(inputs[-1]))
        out = layer._forward(inputs[-1])
    loss_forward = cpu_ms(lambda: net.loss.forward(out, t))
    net.loss.forward(out, t)
    dout = net.loss.backward(1)
    backward = {}
    for layer, layer_input in reversed(list(zip(order, inputs, strict=True))):
        layer._forward(layer_input)  # refresh the cache the backward pass uses
        grad = dout
        backward[id(layer)] = cpu_ms(lambda layer=layer, grad=grad: layer._backward(grad))
        dout = layer._backward(grad)

    print(f"case {args.case}: N={spec['N']}, input {spec['shape']}, filters {spec['filters']}, "
          f"{args.dtype}, {args.threads} BLAS thread(s); CPU ms, median of {args.repeats}")
    print(f"{'layer':<8} {'forward':>8} {'backward':>9}")
    total = loss_forward
    for layer in order:
        f, b = forward[id(layer)], backward[id(layer)]
        total += f + b
        print(f"{names[id(layer)]:<8} {f:>8.2f} {b:>9.2f}")
    print(f"{'loss':<8} {loss_forward:>8.2f}")
    print(f"{'sum':<8} {total:>8.2f}")

    given = [params[k] for k in tinynet.PARAM_NAMES]
    plain = cpu_ms(lambda: tinynet.train_one_iter(*given, x, t, 0.1, 1e-4))
    fused = cpu_ms(lambda: tinynet.fast.train_one_iter(*given, x, t, 0.1, 1e-4))
    print(f"one tinynet.train_one_iter (these layers): {plain:.2f} ms")
    print(f"one tinynet.fast.train_one_iter (the fused engine): {fused:.2f} ms")

    # The matrix products any im2col implementation must do, alone.
    rng = np.random.default_rng(0)
    N, (C, H, W), (F1, F2) = spec["N"], spec["shape"], spec["filters"]
    dtype = np.dtype(args.dtype)
    shapes = [((F1, C * 9), (C * 9, N * H * W)), ((F2, F1 * 9), (F1 * 9, N * (H // 2) * (W // 2)))]
    mats = [(rng.random(a).astype(dtype), rng.random(b).astype(dtype)) for a, b in shapes]
    grads = [rng.random((Wm.shape[0], col.shape[1])).astype(dtype) for Wm, col in mats]

    def products():
        for (Wm, col), g in zip(mats, grads, strict=True):
            Wm @ col          # forward
            g @ col.T         # dW
        mats[1][0].T @ grads[1]  # dcol of conv2 (conv1 needs no dx)

    print(f"matrix products alone: {cpu_ms(products):.2f} ms")


if __name__ == "__main__":
    main()
