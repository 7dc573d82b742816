"""Where does weight decay (and dropout) really help on the bundled digits?

A paired study over seeds: each setting is trained with and without the
regulariser at the same seeds (same initial weights, same shuffling), and
the table gives, over the seeds,

* validation accuracy at the last epoch and averaged over the last
  ``LAST`` epochs: mean ± std without and with the regulariser;
* the mean change and in how many seeds validation accuracy rose;
* in how many seeds the train-validation gap narrowed (last epoch and
  last-epochs mean);
* the time of one run.

Run (from the repository root; about 10 to 20 minutes on one core)::

    nice -n 19 env OPENBLAS_NUM_THREADS=1 .venv/bin/python tools/study_regularization.py
    nice -n 19 env OPENBLAS_NUM_THREADS=1 .venv/bin/python tools/study_regularization.py --part mlp
    nice -n 19 env OPENBLAS_NUM_THREADS=1 .venv/bin/python tools/study_regularization.py --part deep

The numbers quoted in tinynet/presets.py and notebooks 08 and 12 come from
this table (and are re-checked over fewer seeds in tests/test_presets.py).
"""

import argparse
import time
import warnings

import numpy as np

from tinynet.experiments import network_experiment, overfitting_experiment

LAST = 10  # epochs averaged for the "late" figures

# (label, experiment, baseline settings, list of changes)
TINYNET = [
    ("TinyNet 100 img, 100 ep, bs 25, lr 0.1 (the old scenario)", overfitting_experiment,
     {"train_size": 100, "epochs": 100, "batch_size": 25, "learning_rate": 0.1},
     [{"weight_decay": w} for w in (0.003, 0.01, 0.03)]),
    ("TinyNet 50 img, 100 ep, bs 10, lr 0.1", overfitting_experiment,
     {"train_size": 50, "epochs": 100, "batch_size": 10, "learning_rate": 0.1},
     [{"weight_decay": w} for w in (0.01, 0.03)]),
    ("TinyNet 200 img, 50 ep, bs 25, lr 0.1", overfitting_experiment,
     {"train_size": 200, "epochs": 50, "batch_size": 25, "learning_rate": 0.1},
     [{"weight_decay": w} for w in (0.01, 0.03)]),
]

MLP = [
    ("MLP 200-200, 100 img, 100 ep, bs 20, lr 0.1", network_experiment,
     {"hidden_sizes": (200, 200), "train_size": 100, "epochs": 100, "batch_size": 20,
      "learning_rate": 0.1},
     [{"weight_decay": 0.01}, {"weight_decay": 0.03}, {"weight_decay": 0.1},
      {"dropout": 0.2}, {"dropout": 0.5}, {"weight_decay": 0.03, "dropout": 0.5}]),
    ("MLP 500-500, 50 img, 100 ep, bs 10, lr 0.1", network_experiment,
     {"hidden_sizes": (500, 500), "train_size": 50, "epochs": 100, "batch_size": 10,
      "learning_rate": 0.1},
     [{"weight_decay": 0.03}, {"weight_decay": 0.1}, {"dropout": 0.5},
      {"weight_decay": 0.03, "dropout": 0.5}]),
    ("MLP 100x5, 100 img, 100 ep, bs 20, lr 0.1", network_experiment,
     {"hidden_sizes": (100,) * 5, "train_size": 100, "epochs": 100, "batch_size": 20,
      "learning_rate": 0.1},
     [{"weight_decay": 0.003}, {"weight_decay": 0.03}, {"weight_decay": 0.1},
      {"dropout": 0.2}, {"dropout": 0.5}, {"weight_decay": 0.003, "dropout": 0.2},
      {"weight_decay": 0.03, "dropout": 0.2}]),
]


def runs(function, seeds, settings):
    out = []
    start = time.perf_counter()
    for seed in seeds:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            out.append(function(seed=seed, average_last=LAST, **settings))
    return out, (time.perf_counter() - start) / len(seeds)


def column(results, name):
    return np.array([r[name] if not r["diverged"] else np.nan for r in results])


def ms(values):
    return f"{np.nanmean(values):.3f} ± {np.nanstd(values):.3f}"


def study(rows, seeds):
    header = (f"{'change':<28} {'val last: without':>17} {'with':>15} {'Δ':>7} {'up':>5} "
              f"{'gap<':>5} | {'val late: without':>17} {'with':>15} {'Δ':>7} {'up':>5} "
              f"{'gap<':>5} | {'s/run':>5}")
    for label, function, baseline, changes in rows:
        print(f"\n## {label}   ({len(seeds)} seeds, late = mean of the last {LAST} epochs)")
        print(header)
        base, base_time = runs(function, seeds, baseline)
        for change in changes:
            new, new_time = runs(function, seeds, {**baseline, **change})
            text = ", ".join(f"{k}={v}" for k, v in change.items())
            cells = []
            for acc, gap in (("val_accuracy", "gap"), ("late_val_accuracy", "late_gap")):
                a, b = column(base, acc), column(new, acc)
                d = b - a
                narrower = int(np.sum(column(new, gap) < column(base, gap)))
                n = len(seeds)
                cells.append(f"{ms(a):>17} {ms(b):>15} {np.nanmean(d):+7.3f} "
                             f"{int(np.sum(d > 0)):>2}/{n:<2} {narrower:>2}/{n:<2}")
            print(f"{text:<28} {cells[0]} | {cells[1]} | {new_time:5.2f}", flush=True)
        print(f"{'(baseline)':<28} gap without: last {ms(column(base, 'gap'))}, "
              f"late {ms(column(base, 'late_gap'))} | {base_time:5.2f}", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--part", choices=["tinynet", "mlp", "deep", "all"], default="all",
                        help="deep: only the five-layer MLP of notebook 12 (about a minute)")
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()
    seeds = range(args.seeds)
    if args.part in ("tinynet", "all"):
        study(TINYNET, seeds)
    if args.part in ("mlp", "all"):
        study(MLP, seeds)
    if args.part == "deep":
        study(MLP[-1:], seeds)


if __name__ == "__main__":
    main()
