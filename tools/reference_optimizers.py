"""Print PyTorch reference trajectories for tests/test_optim.py.

Run by hand (torch is not a project dependency; torch 2.13 CPU was used):

    .venv/bin/python tools/reference_optimizers.py > /tmp/reference.txt

Two float64 parameters, ``W`` of shape (2, 3) and ``b`` of shape (3,), start
from fixed values and take 5 steps on the fixed quadratic

    loss = sum(0.5 * A_W * (W - C_W) ** 2) + sum(0.5 * A_b * (b - C_b) ** 2)

whose gradient is ``A * (p - C)`` (set on ``.grad`` directly, so the numbers
do not depend on autograd). For each optimizer and setting the script prints
the parameters after each step, as Python literals (``repr``) to paste into
the test. ``decay_biases=False`` is two torch parameter groups, the bias one
with ``weight_decay=0``.
"""

import torch

torch.set_default_dtype(torch.float64)

W0 = [[0.5, -1.2, 2.0], [-0.3, 0.8, 1.5]]
B0 = [0.1, -0.7, 0.05]
A_W = [[1.0, 10.0, 0.1], [3.0, 0.5, 20.0]]
C_W = [[-1.0, 0.5, 0.0], [2.0, -0.5, 1.0]]
A_B = [2.0, 0.2, 5.0]
C_B = [0.3, 0.0, -1.0]
STEPS = 5

# (tinynet name, settings as tinynet keywords, torch class, torch keywords)
CASES = [
    ("momentum", dict(learning_rate=0.05, momentum=0.9),
     torch.optim.SGD, dict(lr=0.05, momentum=0.9)),
    ("momentum", dict(learning_rate=0.02, momentum=0.5, weight_decay=0.1, decay_biases=False),
     torch.optim.SGD, dict(lr=0.02, momentum=0.5, weight_decay=0.1)),
    ("nesterov", dict(learning_rate=0.05, momentum=0.9),
     torch.optim.SGD, dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("nesterov", dict(learning_rate=0.02, momentum=0.7, weight_decay=0.05),
     torch.optim.SGD, dict(lr=0.02, momentum=0.7, nesterov=True, weight_decay=0.05)),
    ("adagrad", dict(learning_rate=0.1, eps=1e-10),
     torch.optim.Adagrad, dict(lr=0.1, eps=1e-10)),
    ("adagrad", dict(learning_rate=0.5, eps=1e-3, weight_decay=0.2),
     torch.optim.Adagrad, dict(lr=0.5, eps=1e-3, weight_decay=0.2)),
    ("rmsprop", dict(learning_rate=0.01, alpha=0.99, eps=1e-8),
     torch.optim.RMSprop, dict(lr=0.01, alpha=0.99, eps=1e-8)),
    ("rmsprop", dict(learning_rate=0.03, alpha=0.9, eps=1e-3, weight_decay=0.1),
     torch.optim.RMSprop, dict(lr=0.03, alpha=0.9, eps=1e-3, weight_decay=0.1)),
    ("adam", dict(learning_rate=0.1, beta1=0.9, beta2=0.999, eps=1e-8),
     torch.optim.Adam, dict(lr=0.1, betas=(0.9, 0.999), eps=1e-8)),
    ("adam", dict(learning_rate=0.05, beta1=0.8, beta2=0.99, eps=1e-3, weight_decay=0.1,
                  decay_biases=False),
     torch.optim.Adam, dict(lr=0.05, betas=(0.8, 0.99), eps=1e-3, weight_decay=0.1)),
]


def trajectory(torch_class, options, decay_biases):
    W = torch.tensor(W0, requires_grad=True)
    b = torch.tensor(B0, requires_grad=True)
    if decay_biases:
        optimizer = torch_class([W, b], **options)
    else:
        optimizer = torch_class([{"params": [W]}, {"params": [b], "weight_decay": 0.0}],
                                **options)
    steps = []
    with torch.no_grad():
        for _ in range(STEPS):
            W.grad = torch.tensor(A_W) * (W - torch.tensor(C_W))
            b.grad = torch.tensor(A_B) * (b - torch.tensor(C_B))
            optimizer.step()
            steps.append({"W": W.tolist(), "b": b.tolist()})
    return steps


def main():
    print(f"# torch {torch.__version__}")
    print("REFERENCE = [")
    for name, settings, torch_class, options in CASES:
        steps = trajectory(torch_class, options, settings.get("decay_biases", True))
        print(f"    ({name!r}, {settings!r}, [")
        for step in steps:
            print(f"        {step!r},")
        print("    ]),")
    print("]")


if __name__ == "__main__":
    main()
