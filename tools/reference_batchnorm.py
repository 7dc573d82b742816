"""Reference values for tinynet.layers.BatchNormalization, computed with PyTorch.

Run by hand (PyTorch is NOT a project dependency; no test imports it):

    .venv/bin/python tools/reference_batchnorm.py > /tmp/batchnorm_reference.py

and paste the printed block into tests/test_layers.py (section "Batch
normalisation against PyTorch"). The numbers there were made with torch
2.13.0+cpu, float64.

Each case: inputs rounded to three decimals (so they can be written down
exactly), two training-mode calls of ``torch.nn.functional.batch_norm``
(``training=True``) that update the running statistics in place, the
gradients of ``sum(out2 * dout)`` for the second call from autograd (dx,
dgamma, dbeta), then an evaluation-mode call (``training=False``) with the
running statistics after the two steps, and its gradient for the same
``dout``.
"""

import numpy as np
import torch
import torch.nn.functional as F


def rounded(rng, shape, scale=1.0, shift=0.0):
    return np.round(shift + scale * rng.standard_normal(shape), 3)


def case(name, shape, momentum, eps, seed):
    rng = np.random.default_rng(seed)
    C = shape[1]
    inputs = {
        "x1": rounded(rng, shape, 2.0, 1.5),
        "x2": rounded(rng, shape, 0.5, -0.7),
        "gamma": rounded(rng, (C,), 0.3, 1.0),
        "beta": rounded(rng, (C,), 0.5),
        "running_mean": rounded(rng, (C,), 0.2),
        "running_var": np.round(0.5 + rng.random(C), 3),
        "dout": rounded(rng, shape),
    }
    t = {k: torch.tensor(v, dtype=torch.float64) for k, v in inputs.items()}
    running_mean = t["running_mean"].clone()
    running_var = t["running_var"].clone()
    gamma = t["gamma"].clone().requires_grad_(True)
    beta = t["beta"].clone().requires_grad_(True)

    out1 = F.batch_norm(t["x1"], running_mean, running_var, gamma, beta,
                        training=True, momentum=momentum, eps=eps)
    x2 = t["x2"].clone().requires_grad_(True)
    out2 = F.batch_norm(x2, running_mean, running_var, gamma, beta,
                        training=True, momentum=momentum, eps=eps)
    (out2 * t["dout"]).sum().backward()
    outputs = {
        "out1": out1.detach(), "out2": out2.detach(),
        "running_mean_after": running_mean.clone(), "running_var_after": running_var.clone(),
        "dx_train": x2.grad, "dgamma_train": gamma.grad.clone(), "dbeta_train": beta.grad.clone(),
    }
    gamma.grad = None
    beta.grad = None
    x_eval = t["x1"].clone().requires_grad_(True)
    out_eval = F.batch_norm(x_eval, running_mean, running_var, gamma, beta,
                            training=False, momentum=momentum, eps=eps)
    (out_eval * t["dout"]).sum().backward()
    outputs.update({"out_eval": out_eval.detach(), "dx_eval": x_eval.grad,
                    "dgamma_eval": gamma.grad.clone(), "dbeta_eval": beta.grad.clone()})

    print(f"{name} = dict(")
    print(f"    momentum={momentum!r}, eps={eps!r},")
    for key, value in inputs.items():
        print(f"    {key}=np.array({value.tolist()!r}),")
    for key, value in outputs.items():
        print(f"    {key}=np.array({value.numpy().tolist()!r}),")
    print(")")


if __name__ == "__main__":
    print(f"# made with torch {torch.__version__}, float64, by tools/reference_batchnorm.py")
    case("TORCH_BN_2D", (5, 3), momentum=0.1, eps=1e-5, seed=1)
    case("TORCH_BN_4D", (2, 3, 2, 3), momentum=0.3, eps=1e-3, seed=2)
