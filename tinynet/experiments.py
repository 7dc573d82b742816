"""The experiments behind the notebooks' sliders and the studies over seeds, as plain functions.

A slider only calls one of these with keyword arguments; each returns
numbers (and draws on an ``ax`` when given one), so tests can call them for
many values without a display, and a notebook can call them once to draw a
static figure before the slider panel.

The studies repeat an experiment over seeds (or starting points), so that a
notebook's claims rest on means and spreads, not one run: :func:`seed_study`
and :func:`seed_comparison` (any experiment), :func:`path_study`,
:func:`learning_rate_grid` and :func:`optimizer_curves` (notebook 09),
:func:`activation_study` and :func:`init_training_study` (notebook 10),
:func:`weight_scale_study` (notebook 11), :func:`scores_over_seeds`
(notebook 13). The pieces they build on live in the lower modules
(:mod:`tinynet.network`, :mod:`tinynet.initialization`,
:mod:`tinynet.landscapes`, :mod:`tinynet.search`), their figures in
:mod:`tinynet.plotting`.

The studies, and the training runs behind the experiments, are decorated
with :func:`tinynet.cache.memoize`: when the environment variable
``TINYNET_CACHE_DIR`` names a folder (for grading), their results are
stored there and read back; otherwise they simply run.
"""

import functools
import warnings

import numpy as np

from . import cache, landscapes
from ._checks import _describe, as_float_array, check_int, check_labels, check_number
from .datasets import Split, load_digits_split, make_quadratic_data, quadratic_curve
from .initialization import (
    _check_activation,
    _check_weight_std,
    activation_histograms,
    describe_weight_std,
    saturated_fraction,
)
from .layers import BatchNormalization
from .model import init_params
from .network import build_mlp, train_network
from .optim import OPTIMIZERS, SGD, make_optimizer
from .plotting import (
    plot_descent_path,
    plot_history,
    plot_message,
    plot_paths,
    plot_polynomial_fit,
    plot_seed_band,
)
from .polynomial import fit_polynomial, mean_squared_error, predict_polynomial
from .presets import round_significant
from .search import ValidationScorer
from .training import train

# ---------------------------------------------------------------------------
# Gradient descent on a one-dimensional, non-convex function
# ---------------------------------------------------------------------------


def bumpy(w):
    """A non-convex test function: ``f(w) = w**4 / 4 - w**2 + w / 2``.

    It has a shallow local minimum near ``w = 1.2`` and a deeper global
    minimum near ``w = -1.5``, with a hump in between.
    """
    w = np.asarray(w, dtype=np.float64)
    return w ** 4 / 4 - w ** 2 + w / 2


def bumpy_gradient(w):
    """Derivative of :func:`bumpy`: ``w**3 - 2 w + 1/2``."""
    w = np.asarray(w, dtype=np.float64)
    return w ** 3 - 2 * w + 0.5


def gradient_descent(gradient, start, learning_rate, steps):
    """Iterate ``w <- w - learning_rate * gradient(w)``.

    Parameters
    ----------
    gradient : callable
        Returns dL/dw at ``w``.
    start : float
    learning_rate : float (>= 0)
    steps : int (>= 0)

    Returns
    -------
    path : ndarray of shape (k + 1,)
        ``w`` before each step; stops early (``k < steps``) if ``w`` leaves
        the range where float64 is meaningful (|w| > 1e6), i.e. diverges.
    """
    w = check_number("start", start)
    learning_rate = check_number("learning_rate", learning_rate, minimum=0.0)
    steps = check_int("steps", steps, minimum=0)
    path = [w]
    for _ in range(steps):
        w = w - learning_rate * float(gradient(w))
        path.append(w)
        if not abs(w) <= 1e6:
            break
    return np.array(path)


def gradient_descent_experiment(learning_rate=0.1, start=2.0, steps=30, ax=None):
    """Run gradient descent on :func:`bumpy` and describe the outcome.

    Returns
    -------
    dict
        ``path`` (the iterates), ``final_w``, ``final_loss`` and ``verdict``
        (``"converged"``, ``"still moving"`` (too slow), ``"oscillating"``
        (steps jump back and forth), or ``"diverged"``).
    """
    path = gradient_descent(bumpy_gradient, start, learning_rate, steps)
    final = path[-1]
    steps_taken = np.diff(path[-5:])
    if not abs(final) <= 1e6:
        verdict = "diverged"
    elif abs(bumpy_gradient(final)) <= 1e-3:
        verdict = "converged"
    elif len(steps_taken) >= 2 and np.all(steps_taken[1:] * steps_taken[:-1] < 0):
        verdict = "oscillating"  # every step reverses the previous one
    else:
        verdict = "still moving"
    if ax is not None:
        plot_descent_path(bumpy, path, ax=ax,
                          title=f"learning rate {format_setting(learning_rate)}: {verdict}")
    return {"path": path, "final_w": float(final), "final_loss": float(bumpy(final))
            if abs(final) <= 1e6 else float("inf"), "verdict": verdict}


# ---------------------------------------------------------------------------
# Training TinyNet on the bundled digits
# ---------------------------------------------------------------------------


@functools.lru_cache(maxsize=4)
def _shared_split(seed):
    """The split of ``seed``, loaded once; its arrays are made read-only."""
    split = load_digits_split(seed=seed)
    for array in split:
        array.flags.writeable = False
    return split


def digits_split(seed=0):
    """The bundled digits split into train / validation / test, loaded once, read-only.

    Every call hands out the same numbers: the split is loaded once per seed
    and shared, so that the panels, the scorer and a notebook all see the
    same images. Its arrays are read-only (views of the shared ones, so that
    nothing a caller does to its arrays reaches another caller). Writing into
    one, e.g. ``split.x_train[0] = 0``, ``split.x_train /= 16`` or
    ``rng.shuffle(split.x_train)``, raises numpy's ``ValueError: assignment
    destination is read-only`` (or "output array is read-only", "array is
    read-only"). To change the data, work on a copy:
    ``x = split.x_train.copy()``, or load a private split with
    :func:`tinynet.datasets.load_digits_split`.

    Returns
    -------
    tinynet.datasets.Split
        1,079 training, 359 validation and 359 test images (N, 1, 8, 8) in
        [0, 1], float64, with their labels.
    """
    return Split(*(array.view() for array in _shared_split(seed)))


def train_digits(learning_rate=0.1, weight_decay=0.0, epochs=10, batch_size=32,
                 train_size=None, conv1_filters=8, conv2_filters=16, seed=0,
                 progress=False, callback=None, optimizer=None):
    """Train TinyNet on the bundled digits with the given settings.

    Parameters
    ----------
    learning_rate, weight_decay : float (>= 0)
    epochs, batch_size : int (>= 1)
    train_size : int, optional
        Train on only the first ``train_size`` training images (the split is
        already shuffled), to provoke overfitting. Default: all 1,079.
    conv1_filters, conv2_filters : int
    seed : int
        Seeds the initial weights and the shuffling (the split is fixed).
    optimizer : str or optimizer object, optional
        Passed to :func:`tinynet.train` (default: plain SGD).

    Returns
    -------
    net : TinyNet
    history : History
        With validation curves on the 359 validation images.
    """
    split = digits_split(0)
    x, t = split.x_train, split.t_train
    if train_size is not None:
        train_size = check_int("train_size", train_size, minimum=1)
        x, t = x[:train_size], t[:train_size]
    params = init_params(x.shape[1:], conv1_filters, conv2_filters, num_classes=10, rng=seed)
    return train(params, x, t, split.x_val, split.t_val, epochs=epochs,
                 batch_size=batch_size, learning_rate=learning_rate,
                 weight_decay=weight_decay, seed=seed, progress=progress,
                 callback=callback, optimizer=optimizer)


@cache.memoize
def _digits_run(learning_rate, weight_decay, epochs, batch_size, train_size, seed, optimizer):
    """What the experiments keep of a :func:`train_digits` run: its history and weight norm.

    ``optimizer`` is a name (or None for plain SGD). The weight norm is the
    sum of squared weights (biases excluded) after training, rounded to 2
    decimals; None for a diverged run. The network itself is left out, so
    that a stored run stays small (a trained TinyNet holds its last
    forward pass: megabytes).
    """
    net, history = train_digits(learning_rate=learning_rate, weight_decay=weight_decay,
                                epochs=epochs, batch_size=batch_size, train_size=train_size,
                                seed=seed, optimizer=optimizer)
    if history.diverged:
        return history, None
    return history, round(sum(float(np.sum(p * p)) for name, p in net.params.items()
                              if name.startswith("W_")), 2)


def training_summary(history):
    """The final figures of a run as a dict of rounded numbers.

    ``train_loss``, ``train_accuracy``, ``val_loss``, ``val_accuracy``,
    ``gap`` (training minus validation accuracy: how much the network has
    memorised) and ``penalty`` (the weight-decay term). Rounded to 3
    decimals (the penalty to 4) so that printed values do not depend on the
    machine's BLAS. A diverged run has ``diverged`` True and a ``message``.
    """
    if history.diverged:
        return {"diverged": True, "message": history.message}
    return {
        "diverged": False,
        "train_loss": round(history.train_loss[-1], 3),
        "train_accuracy": round(history.train_accuracy[-1], 3),
        "val_loss": round(history.val_loss[-1], 3),
        "val_accuracy": round(history.val_accuracy[-1], 3),
        "gap": round(history.train_accuracy[-1] - history.val_accuracy[-1], 3),
        "penalty": round(history.penalty[-1], 4),
    }


def late_means(history, last):
    """Validation accuracy and gap averaged over the last ``last`` epochs.

    One epoch's validation accuracy on a few hundred images jumps by a point
    or two from epoch to epoch; the mean over the last epochs is a steadier
    reading of where a run has settled.

    Returns
    -------
    dict
        ``late_val_accuracy`` and ``late_gap``, rounded to 3 decimals (empty
        for a diverged run).
    """
    last = check_int("last", last, minimum=1)
    if history.diverged:
        return {}
    train_acc = np.asarray(history.train_accuracy[1:][-last:])
    val_acc = np.asarray(history.val_accuracy[1:][-last:])
    return {"late_val_accuracy": round(float(val_acc.mean()), 3),
            "late_gap": round(float((train_acc - val_acc).mean()), 3)}


def format_setting(value):
    """A learning rate or weight decay as every readout and title shows it.

    Three significant digits (:func:`tinynet.presets.round_significant`),
    written with ``g``: ``0.001``, ``0.0178``, ``1e-05``, ``0``. One format
    for these quantities everywhere, so that panels agree.
    """
    return f"{round_significant(value):g}"


def _run_title(learning_rate, weight_decay, train_size=None, extra=()):
    title = (f"learning rate {format_setting(learning_rate)}, "
             f"weight decay {format_setting(weight_decay)}")
    for part in extra:
        title += f", {part}"
    if train_size is not None:
        title += f", {train_size} images"
    return title


def training_experiment(learning_rate=0.1, weight_decay=0.0, epochs=10, batch_size=32,
                        train_size=None, seed=0, axes=None, optimizer="sgd", average_last=None):
    """Train on the digits, draw the curves on ``axes`` (two Axes), return the summary.

    Parameters
    ----------
    optimizer : str, default "sgd"
        A name of :data:`tinynet.optim.OPTIMIZERS`, built with
        ``learning_rate`` and ``weight_decay``. ``"sgd"`` is the plain SGD of
        :func:`tinynet.train`, bit for bit.
    average_last : int, optional
        Also report :func:`late_means` over the last ``average_last`` epochs.
    """
    if not isinstance(optimizer, str):
        raise TypeError(f"optimizer must be a name such as 'sgd' or 'adam'; got {optimizer!r}.")
    history, _ = _digits_run(learning_rate=learning_rate, weight_decay=weight_decay,
                             epochs=epochs, batch_size=batch_size, train_size=train_size,
                             seed=seed, optimizer=None if optimizer == "sgd" else optimizer)
    if axes is not None:
        extra = () if optimizer == "sgd" else (optimizer,)
        draw_training(history, axes, title=_run_title(learning_rate, weight_decay,
                                                      train_size, extra))
    summary = training_summary(history)
    if average_last is not None:
        summary.update(late_means(history, average_last))
    return summary


# ---------------------------------------------------------------------------
# A multi-layer perceptron on the flattened digits (dropout, batch norm)
# ---------------------------------------------------------------------------


def train_mlp_digits(learning_rate=0.1, weight_decay=0.0, dropout=0.0, batchnorm=False,
                     optimizer="sgd", weight_std="he", hidden_sizes=(100, 100), epochs=20,
                     batch_size=32, train_size=None, seed=0):
    """Train an MLP (:func:`tinynet.network.build_mlp`) on the flattened 8x8 digits.

    ``seed`` seeds the weights, the dropout masks and the shuffling; the
    split is fixed. ``train_size`` keeps the first images of the (shuffled)
    training set. Returns ``(network, history)``.
    """
    split = digits_split(0)
    x, t = split.x_train, split.t_train
    if train_size is not None:
        train_size = check_int("train_size", train_size, minimum=1)
        x, t = x[:train_size], t[:train_size]
    x = x.reshape(len(x), -1)                      # (N, 64)
    x_val = split.x_val.reshape(len(split.x_val), -1)
    network = build_mlp(x.shape[1], hidden_sizes, 10, weight_std=weight_std,
                        batchnorm=batchnorm, dropout=dropout, seed=seed)
    opt = make_optimizer(optimizer, learning_rate, weight_decay=weight_decay)
    history = train_network(network, x, t, x_val, split.t_val, optimizer=opt,
                            epochs=epochs, batch_size=batch_size, seed=seed)
    return network, history


@cache.memoize
def _mlp_history(learning_rate, weight_decay, dropout, batchnorm, optimizer, weight_std,
                 hidden_sizes, epochs, batch_size, train_size, seed):
    """The history of a :func:`train_mlp_digits` run (the network is left out: see _digits_run)."""
    return train_mlp_digits(learning_rate=learning_rate, weight_decay=weight_decay,
                            dropout=dropout, batchnorm=batchnorm, optimizer=optimizer,
                            weight_std=weight_std, hidden_sizes=hidden_sizes, epochs=epochs,
                            batch_size=batch_size, train_size=train_size, seed=seed)[1]


def network_experiment(learning_rate=0.1, weight_decay=0.0, dropout=0.0, batchnorm=False,
                       optimizer="sgd", weight_std="he", hidden_sizes=(100, 100), epochs=20,
                       batch_size=32, train_size=None, seed=0, axes=None, average_last=None):
    """Train an MLP on the digits, draw its curves on ``axes``, return the summary.

    The same summary as :func:`training_summary` (plus :func:`late_means`
    when ``average_last`` is given), so the panels print it with
    :func:`describe_training`.
    """
    history = _mlp_history(learning_rate=learning_rate, weight_decay=weight_decay,
                           dropout=dropout, batchnorm=batchnorm, optimizer=optimizer,
                           weight_std=weight_std, hidden_sizes=hidden_sizes, epochs=epochs,
                           batch_size=batch_size, train_size=train_size, seed=seed)
    if axes is not None:
        extra = [f"MLP {'-'.join(str(h) for h in hidden_sizes) or 'linear'}"]
        if dropout:
            extra.append(f"dropout {format_setting(dropout)}")
        if batchnorm:
            extra.append("batch norm")
        if optimizer != "sgd":
            extra.append(optimizer)
        draw_training(history, axes, title=_run_title(learning_rate, weight_decay,
                                                      train_size, extra))
    summary = training_summary(history)
    if average_last is not None:
        summary.update(late_means(history, average_last))
    return summary


# ---------------------------------------------------------------------------
# Claims over seeds
# ---------------------------------------------------------------------------

SUMMARY_FIGURES = ("train_loss", "train_accuracy", "val_loss", "val_accuracy", "gap",
                   "penalty", "weight_norm", "late_val_accuracy", "late_gap")


def seed_study(function, seeds, **settings):
    """Run ``function(seed=s, **settings)`` for each seed; mean and spread of each figure.

    Parameters
    ----------
    function : callable
        An experiment returning a summary dict, such as
        :func:`training_experiment`, :func:`overfitting_experiment` or
        :func:`network_experiment`.
    seeds : iterable of int
    **settings
        Passed to every call (not ``seed``).

    Returns
    -------
    dict
        ``seeds`` (list), ``runs`` (the summaries, one per seed),
        ``diverged`` (how many runs diverged), and ``mean``, ``std``
        (population standard deviation), ``min``, ``max``: dicts from each
        numeric summary figure to its value over the runs that did not
        diverge (rounded to 4 decimals).
    """
    if not callable(function):
        raise TypeError(f"function must be an experiment (callable); got {function!r}.")
    if "seed" in settings:
        raise ValueError("pass the seeds as seeds=..., not seed= among the settings.")
    seeds = [check_int("seeds[...]", s, minimum=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must name at least one seed, e.g. range(5).")
    runs = [function(seed=s, **settings) for s in seeds]
    ok = [r for r in runs if not r["diverged"]]
    study = {"seeds": seeds, "runs": runs, "diverged": len(runs) - len(ok),
             "mean": {}, "std": {}, "min": {}, "max": {}}
    for name in SUMMARY_FIGURES:
        values = np.array([r[name] for r in ok if name in r], dtype=float)
        if len(values) == 0:
            continue
        for key, reduce in (("mean", np.mean), ("std", np.std), ("min", np.min),
                            ("max", np.max)):
            study[key][name] = round(float(reduce(values)), 4)
    return study


def seed_comparison(function, seeds, baseline, changed, figures=("val_accuracy", "gap")):
    """The effect of a change of settings, seed by seed (a paired comparison).

    Runs ``function(seed=s, **baseline)`` and ``function(seed=s, **changed)``
    (``changed`` updates ``baseline``) for each seed.

    Returns
    -------
    dict
        For each figure: ``{"baseline": mean, "changed": mean, "difference":
        mean of changed - baseline, "std": its standard deviation over seeds,
        "up": number of seeds where the figure rose, "down": where it fell,
        "differences": the per-seed list}``; plus ``seeds`` and ``diverged``.
    """
    base_settings = dict(baseline)
    new_settings = {**baseline, **changed}
    base = seed_study(function, seeds, **base_settings)
    new = seed_study(function, seeds, **new_settings)
    result = {"seeds": base["seeds"], "diverged": base["diverged"] + new["diverged"]}
    for name in figures:
        pairs = [(a[name], b[name]) for a, b in zip(base["runs"], new["runs"], strict=True)
                 if not a["diverged"] and not b["diverged"]]
        d = np.array([b - a for a, b in pairs])
        result[name] = {
            "baseline": round(float(np.mean([a for a, _ in pairs])), 4),
            "changed": round(float(np.mean([b for _, b in pairs])), 4),
            "difference": round(float(d.mean()), 4),
            "std": round(float(d.std()), 4),
            "up": int(np.sum(d > 0)),
            "down": int(np.sum(d < 0)),
            "differences": [round(float(x), 3) for x in d],
        }
    return result


def paired_difference(changed, baseline, n_se=2.0):
    """A paired comparison over seeds: the mean difference, an interval and a sign count.

    ``changed[k]`` and ``baseline[k]`` are the same figure (a validation
    accuracy, say) of two settings trained with the same seed ``k``: the
    difference at each seed removes what the seed does to both.

    Parameters
    ----------
    changed, baseline : array-like of shape (n_seeds,)
        Finite numbers (leave out a seed whose run diverged).
    n_se : float (> 0), default 2
        The half-width of the interval in standard errors of the mean
        difference: 2 gives about a 95% interval for 10 or more seeds.

    Returns
    -------
    dict
        ``mean``, ``std`` (population standard deviation of the per-seed
        differences), ``se`` (``std(ddof=1) / sqrt(n)``), ``low`` and
        ``high`` (``mean -/+ n_se * se``), ``up`` and ``down`` (seeds where
        the difference is above or below 0), ``n`` (seeds compared) and
        ``differences`` (ndarray of shape (n,)).

    Raises
    ------
    ValueError
        If the arrays differ in shape or hold fewer than two seeds.

    Examples
    --------
    >>> d = paired_difference([0.86, 0.85, 0.87], [0.84, 0.85, 0.85])
    >>> round(d["mean"], 4), d["up"], d["down"]
    (0.0133, 2, 0)
    """
    changed = as_float_array("changed", changed, ndim=1, shape_hint="(n_seeds,)")
    baseline = as_float_array("baseline", baseline, ndim=1, shape_hint="(n_seeds,)")
    if changed.shape != baseline.shape:
        raise ValueError(f"changed and baseline must hold one value per seed each, paired; got "
                         f"shapes {changed.shape} and {baseline.shape}. Pass the same seeds in "
                         f"the same order.")
    n_se = check_number("n_se", n_se, minimum=0.0, allow_equal=False)
    d = changed - baseline
    if len(d) < 2:
        raise ValueError(f"a paired comparison needs at least 2 seeds; got {len(d)}. "
                         f"Train both settings with more seeds.")
    se = float(d.std(ddof=1) / np.sqrt(len(d)))
    mean = float(d.mean())
    return {"mean": mean, "std": float(d.std()), "se": se, "low": mean - n_se * se,
            "high": mean + n_se * se, "up": int(np.sum(d > 0)), "down": int(np.sum(d < 0)),
            "n": len(d), "differences": d}


def format_mean_std(study, name, decimals=3):
    """``"0.871 ± 0.012"``: a figure's mean and standard deviation over seeds."""
    return (f"{_fixed(study['mean'][name], decimals)} ± "
            f"{_fixed(study['std'][name], decimals)}")


# ---------------------------------------------------------------------------
# Polynomial fits: underfitting and overfitting
# ---------------------------------------------------------------------------


def polynomial_experiment(degree=2, weight_decay=0.0, n_samples=20, noise=0.1, seed=0,
                          ax=None):
    """Fit a polynomial to noisy samples of a parabola; report both errors.

    The training set is ``make_quadratic_data(n_samples, noise, seed=seed)``;
    the test set is 500 fresh samples from the same curve.

    Returns
    -------
    dict
        ``coefficients``, ``train_mse`` and ``test_mse`` (rounded to 4
        significant digits).
    """
    x, y = make_quadratic_data(n_samples=n_samples, noise=noise, seed=seed)
    x_test, y_test = make_quadratic_data(n_samples=500, noise=noise, seed=seed + 1000)
    coefficients = fit_polynomial(x, y, degree, weight_decay=weight_decay)
    train_mse = mean_squared_error(y, predict_polynomial(coefficients, x))
    test_mse = mean_squared_error(y_test, predict_polynomial(coefficients, x_test))
    if ax is not None:
        plot_polynomial_fit(x, y, coefficients, true_curve=quadratic_curve, ax=ax,
                            title=f"degree {degree}, weight decay {format_setting(weight_decay)}")
    return {"coefficients": coefficients,
            "train_mse": float(f"{train_mse:.4g}"),
            "test_mse": float(f"{test_mse:.4g}")}


def error_versus_degree(degrees=range(0, 16), weight_decay=0.0, n_samples=20, noise=0.1,
                        seed=0):
    """Training and test error of polynomial fits of each degree.

    Returns
    -------
    degrees, train_mse, test_mse : ndarray
    """
    degrees = np.array(list(degrees))
    results = [polynomial_experiment(int(d), weight_decay, n_samples, noise, seed)
               for d in degrees]
    return (degrees, np.array([r["train_mse"] for r in results]),
            np.array([r["test_mse"] for r in results]))


# ---------------------------------------------------------------------------
# What the slider panels print, and the small-data experiment of notebook 08
# ---------------------------------------------------------------------------

CHANCE_ACCURACY = 0.1  # ten classes


def _fixed(value, decimals=3):
    """``value`` with ``decimals`` decimals, never ``-0.000``.

    Rounding first, then adding 0.0, turns a negative zero (a gap of
    -0.0001 rounds to -0.0) into 0.0, which prints without its sign.
    """
    return f"{round(float(value), decimals) + 0.0:.{decimals}f}"


def describe_training(summary):
    """The final figures of :func:`training_summary` as a few lines of text.

    A diverged run gets a clear message instead of numbers; a run that ends
    near chance accuracy gets a note on the likely causes.

    Parameters
    ----------
    summary : dict
        As returned by :func:`training_summary` or :func:`training_experiment`.

    Returns
    -------
    str
    """
    if summary["diverged"]:
        return f"Diverged: learning rate too high?\n{summary['message']}"
    lines = [
        f"train      loss {_fixed(summary['train_loss'])}   "
        f"accuracy {_fixed(summary['train_accuracy'])}",
        f"validation loss {_fixed(summary['val_loss'])}   "
        f"accuracy {_fixed(summary['val_accuracy'])}",
    ]
    if summary.get("penalty"):
        lines.append("weight-decay penalty (1/2) lambda sum w^2 = "
                     f"{_fixed(summary['penalty'], 4)}")
    if "gap" in summary:
        lines.append(f"gap (train - validation accuracy) {_fixed(summary['gap'])}")
    if "late_val_accuracy" in summary:
        lines.append(f"last epochs' mean: validation accuracy "
                     f"{_fixed(summary['late_val_accuracy'])}, gap {_fixed(summary['late_gap'])}")
    if "weight_norm" in summary:
        lines.append(f"sum of squared weights {_fixed(summary['weight_norm'], 2)}")
    if summary["val_accuracy"] < 2 * CHANCE_ACCURACY:
        lines.append(
            "Near chance (10 classes: 0.1). Too small a learning rate has barely "
            "moved the weights; too large a one can push every ReLU to output 0 "
            "(the network then predicts one class for everything)."
        )
    return "\n".join(lines)


def draw_training(history, axes, title=None):
    """Loss and accuracy curves on ``axes``, or a clear message if training diverged.

    Parameters
    ----------
    history : History
    axes : pair of Axes
    title : str, optional

    Returns
    -------
    ndarray of two Axes
    """
    if not history.diverged:
        return plot_history(history, axes, title=title)
    ax_loss, ax_acc = np.atleast_1d(axes)[:2]
    plot_message(f"Training diverged:\nlearning rate too high?\n\n{history.message}",
                 ax=ax_loss, title=title)
    plot_message("No curves to show.\nTry a learning rate\n10 times smaller.", ax=ax_acc,
                 color="0.35")
    return np.array([ax_loss, ax_acc])


def overfitting_experiment(weight_decay=0.0, train_size=100, epochs=100, batch_size=25,
                           learning_rate=0.1, seed=0, axes=None, average_last=None):
    """Train TinyNet on a few digits for long: how far apart do train and validation end?

    With ``train_size`` images the network can learn the training set by
    heart (training accuracy 1.0) while the validation accuracy stays lower:
    the *gap* measures overfitting. Weight decay keeps the weights small.

    Parameters
    ----------
    weight_decay : float (>= 0)
    train_size, epochs, batch_size : int
    learning_rate : float
    seed : int
    axes : pair of Axes, optional
        Loss and accuracy curves are drawn on them.
    average_last : int, optional
        Also report :func:`late_means` over the last ``average_last`` epochs.

    Returns
    -------
    dict
        The figures of :func:`training_summary` (``gap`` among them), plus
        ``weight_norm`` (the sum of squared weights, biases excluded, after
        training), rounded.
    """
    history, weight_norm = _digits_run(learning_rate=learning_rate, weight_decay=weight_decay,
                                       epochs=epochs, batch_size=batch_size,
                                       train_size=train_size, seed=seed, optimizer=None)
    if axes is not None:
        draw_training(history, axes, title=f"{train_size} training images, "
                                           f"weight decay {format_setting(weight_decay)}")
    summary = training_summary(history)
    if average_last is not None:
        summary.update(late_means(history, average_last))
    if not history.diverged:
        summary["weight_norm"] = weight_norm
    return summary


@cache.memoize(call_through_if=("progress", "callback"))
def seed_curves(function, seeds, **settings):
    """Per-seed training and validation accuracy curves of a ``train_*`` function.

    ``function`` is :func:`train_digits` or :func:`train_mlp_digits`.

    Returns
    -------
    dict
        ``epoch`` (E,), ``train_accuracy`` and ``val_accuracy`` of shape
        (n_seeds, E), NaN after a run diverged.
    """
    histories = [function(seed=s, **settings)[1] for s in seeds]
    E = max(len(h.epoch) for h in histories)
    def curves(field):
        out = np.full((len(histories), E), np.nan)
        for i, h in enumerate(histories):
            values = getattr(h, field)
            out[i, :len(values)] = values
        return out
    return {"epoch": np.arange(E), "train_accuracy": curves("train_accuracy"),
            "val_accuracy": curves("val_accuracy")}


def describe_polynomial(result):
    """One or two lines on a :func:`polynomial_experiment` result."""
    coefficients = np.asarray(result["coefficients"])
    largest = float(np.max(np.abs(coefficients)))
    return (f"train MSE {result['train_mse']:.4g}   test MSE {result['test_mse']:.4g}\n"
            f"{len(coefficients)} coefficients, the largest |w_k| = {largest:.3g}")


# ---------------------------------------------------------------------------
# Batch normalisation across weight scales (notebook 11)
# ---------------------------------------------------------------------------

@cache.memoize
def weight_scale_study(weight_stds, seeds=range(5), batchnorm=False, *, learning_rate=0.1,
                       hidden_sizes=(100, 100, 100, 100, 100), epochs=20, batch_size=100,
                       data=None):
    """Train MLPs on the digits for each weight scale and seed; collect the curves.

    The book's experiment (section 6.3.2): a 5-hidden-layer ReLU MLP whose
    weights are all drawn with one standard deviation, trained by SGD with
    and without batch normalisation. Seed ``s`` sets both the weights and the
    shuffling.

    Parameters
    ----------
    weight_stds : sequence of float
    seeds : iterable of int
    batchnorm : bool
    learning_rate : float
        Plain SGD (:class:`tinynet.optim.SGD`).
    hidden_sizes, epochs, batch_size : as in :func:`tinynet.network.build_mlp` and
        :func:`tinynet.network.train_network`
    data : tinynet.datasets.Split, optional
        Default :func:`tinynet.datasets.load_digits_split` (seed 0).

    Returns
    -------
    dict
        ``weight_stds``, ``seeds``, ``batchnorm``, ``epoch`` (0..epochs);
        ``train_accuracy`` and ``val_accuracy``: arrays of shape
        (n_stds, n_seeds, epochs + 1), NaN after a run diverged;
        ``diverged``: bool array (n_stds, n_seeds); ``weight_travel``: array
        of shape (n_stds, n_seeds, len(hidden_sizes) + 1), how far each
        weight matrix ``W_k`` moved during training relative to its start,
        ``||W_end - W_start|| / ||W_start||`` (NaN for a diverged run).
    """
    weight_stds = [check_number("weight_stds", w, minimum=0.0) for w in weight_stds]
    seeds = [check_int("seeds", s, minimum=0) for s in seeds]
    if not weight_stds or not seeds:
        raise ValueError("weight_stds and seeds must each hold at least one value.")
    epochs = check_int("epochs", epochs, minimum=1)
    data = load_digits_split() if data is None else data
    shape = (len(weight_stds), len(seeds), epochs + 1)
    result = {"weight_stds": weight_stds, "seeds": seeds, "batchnorm": bool(batchnorm),
              "epoch": np.arange(epochs + 1), "train_accuracy": np.full(shape, np.nan),
              "val_accuracy": np.full(shape, np.nan),
              "diverged": np.zeros(shape[:2], dtype=bool),
              "weight_travel": np.full(shape[:2] + (len(hidden_sizes) + 1,), np.nan)}
    input_size = int(np.prod(data.x_train.shape[1:]))
    n_classes = int(np.max(data.t_train)) + 1
    for i, weight_std in enumerate(weight_stds):
        for j, seed in enumerate(seeds):
            net = build_mlp(input_size, hidden_sizes, n_classes, weight_std=weight_std,
                            batchnorm=batchnorm, seed=seed)
            names = [f"W_{k}" for k in range(1, len(hidden_sizes) + 2)]
            start = {name: net.params[name].copy() for name in names}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # divergence is recorded
                history = train_network(net, data.x_train, data.t_train, data.x_val, data.t_val,
                                        optimizer=SGD(learning_rate), epochs=epochs,
                                        batch_size=batch_size, seed=seed)
            n = len(history.epoch)
            result["train_accuracy"][i, j, :n] = history.train_accuracy
            result["val_accuracy"][i, j, :n] = history.val_accuracy
            result["diverged"][i, j] = history.diverged
            if not history.diverged:
                result["weight_travel"][i, j] = [_relative_change(net.params[name], start[name])
                                                 for name in names]
    return result


def _relative_change(after, before):
    """``||after - before|| / ||before||``; NaN when ``before`` is all zeros."""
    size = np.linalg.norm(before)
    return float(np.linalg.norm(after - before) / size) if size > 0 else np.nan


def _epochs_to(curves, level):
    """First epoch at which each curve reaches ``level`` (NaN if never)."""
    reached = np.nan_to_num(curves, nan=-1.0) >= level
    first = np.argmax(reached, axis=-1).astype(float)
    first[~reached.any(axis=-1)] = np.nan
    return first


def describe_weight_scale_study(study, level=0.9):
    """Per weight scale: final accuracies (mean ± sd over seeds), epochs to ``level``.

    Returns
    -------
    list of dict
        One per weight scale: ``weight_std``, ``batchnorm``, ``seeds``,
        ``diverged`` (count), ``train_mean``, ``train_sd``, ``val_mean``,
        ``val_sd`` (last epoch; a diverged run counts as chance, 0.1),
        ``reached`` (how many seeds reached ``level`` training accuracy) and
        ``epochs_to_level`` (their mean epoch, NaN if none did).
    """
    rows = []
    for i, weight_std in enumerate(study["weight_stds"]):
        train_last = np.where(study["diverged"][i], 0.1, study["train_accuracy"][i, :, -1])
        val_last = np.where(study["diverged"][i], 0.1, study["val_accuracy"][i, :, -1])
        first = _epochs_to(study["train_accuracy"][i], level)
        reached = np.isfinite(first)
        rows.append({
            "weight_std": weight_std, "batchnorm": study["batchnorm"],
            "seeds": len(study["seeds"]), "diverged": int(study["diverged"][i].sum()),
            "train_mean": float(train_last.mean()), "train_sd": float(train_last.std()),
            "val_mean": float(val_last.mean()), "val_sd": float(val_last.std()),
            "reached": int(reached.sum()),
            "epochs_to_level": float(first[reached].mean()) if reached.any() else float("nan"),
        })
    return rows


def weight_scale_experiment(weight_std=0.01, batchnorm=True, seeds=range(3), epochs=20,
                            learning_rate=0.1, ax=None, data=None):
    """One panel of the study: accuracy over epochs for one weight scale, banded over seeds.

    Trains only the setting asked for (``batchnorm`` on or off), a few seeds,
    so that a slider retrains in about a second. Draws the mean training and
    validation accuracy with their min-max band over the seeds on ``ax``.

    Returns
    -------
    dict
        The row of :func:`describe_weight_scale_study` for this setting.
    """
    study = weight_scale_study([weight_std], seeds, batchnorm, learning_rate=learning_rate,
                               epochs=epochs, data=data)
    row = describe_weight_scale_study(study)[0]
    if ax is not None:
        color = "C0" if batchnorm else "C1"
        name = "with batch norm" if batchnorm else "without batch norm"
        plot_seed_band(study["epoch"], study["train_accuracy"][0], ax=ax, color=color,
                       label=f"train, {name}")
        plot_seed_band(study["epoch"], study["val_accuracy"][0], ax=ax, color="0.4",
                       label="validation")
        ax.set(xlabel="epoch", ylabel="accuracy", ylim=(0, 1.02),
               title=f"weight std {weight_std:.3g}, {name}")
        if row["diverged"]:
            ax.text(0.5, 0.5, f"diverged in {row['diverged']} of {row['seeds']} seeds",
                    transform=ax.transAxes, ha="center", color="C3")
        ax.legend(loc="center right", fontsize="small")
    return row


def accuracy_with_batch_statistics(network, x, t, batch_size):
    """Accuracy when each batch of ``batch_size`` is normalised by its own statistics.

    What evaluation would give without running statistics: every
    :class:`~tinynet.layers.BatchNormalization` layer in training mode (batch
    mean and variance), every other layer (dropout) in evaluation mode. The
    running statistics are saved and restored, so the network is unchanged.
    A last batch of a single sample is left out (it has no variance).

    Returns
    -------
    float
    """
    batch_size = check_int("batch_size", batch_size, minimum=2)
    x = as_float_array("x", x)
    norms = [layer for layer in network.layers if isinstance(layer, BatchNormalization)]
    saved = [(layer.running_mean, layer.running_var) for layer in norms]
    labels, _ = check_labels("t", t, len(x), network.predict(x[:1]).shape[1])

    def run():
        for layer in norms:
            layer.training = True
        correct = total = 0
        for i in range(0, len(x), batch_size):
            if len(x[i:i + batch_size]) < 2:
                break
            scores = network.scores(x[i:i + batch_size])
            correct += int(np.sum(scores.argmax(axis=1) == labels[i:i + batch_size]))
            total += len(scores)
        return correct / total

    try:
        return network._in_eval_mode(run)
    finally:
        for layer, (mean, var) in zip(norms, saved, strict=True):
            layer.running_mean, layer.running_var = mean, var


# ---------------------------------------------------------------------------
# Weight initialisation: the studies of notebook 10
# ---------------------------------------------------------------------------

def _check_seeds(seeds):
    seeds = [check_int("seeds", s, minimum=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds must hold at least one seed, such as seeds=range(5).")
    return seeds


@cache.memoize
def activation_study(activations=("sigmoid", "tanh", "relu"),
                     weight_stds=(1.0, 0.01, "xavier", "he"), seeds=range(5), n_layers=5,
                     width=100, n_samples=1000):
    """Spread and saturation per layer, for every activation, weight scale and seed.

    Returns
    -------
    dict
        ``activations``, ``weight_stds``, ``seeds`` (as lists), ``std``:
        array (n_activations, n_weight_stds, n_seeds, n_layers), the standard
        deviation of each layer's outputs; ``saturated``: same shape, the
        :func:`tinynet.initialization.saturated_fraction` of each layer.
    """
    activations = [_check_activation(a) for a in activations]
    weight_stds = [_check_weight_std(w) for w in weight_stds]
    seeds = _check_seeds(seeds)
    if not activations or not weight_stds:
        raise ValueError("activations and weight_stds must each hold at least one value.")
    shape = (len(activations), len(weight_stds), len(seeds), n_layers)
    study = {"activations": activations, "weight_stds": weight_stds, "seeds": seeds,
             "std": np.empty(shape), "saturated": np.empty(shape)}
    for i, activation in enumerate(activations):
        for j, weight_std in enumerate(weight_stds):
            for k, seed in enumerate(seeds):
                a = activation_histograms(activation, weight_std, n_layers, width, n_samples,
                                          seed)
                with np.errstate(invalid="ignore"):
                    study["std"][i, j, k] = a.reshape(n_layers, -1).std(axis=1)
                study["saturated"][i, j, k] = saturated_fraction(a, activation)
    return study


def describe_activation_study(study, layer=-1):
    """One row per (activation, weight scale): spread and saturation of one layer over seeds.

    Parameters
    ----------
    study : dict from :func:`activation_study`
    layer : int
        Which layer (default the last).

    Returns
    -------
    list of dict
        ``activation``, ``weight_std``, ``label``, ``layer`` (1-based),
        ``std_mean``, ``std_sd``, ``std_min``, ``std_max`` (the spread of
        that layer's outputs over seeds), ``saturated_mean``, ``saturated_sd``,
        ``ratio_mean``, ``ratio_sd`` (its spread divided by layer 1's).
    """
    n_layers = study["std"].shape[-1]
    layer = check_int("layer", layer)
    if not -n_layers <= layer < n_layers:
        raise ValueError(f"layer must be in [-{n_layers}, {n_layers - 1}]; got {layer}.")
    index = layer % n_layers
    rows = []
    for i, activation in enumerate(study["activations"]):
        for j, weight_std in enumerate(study["weight_stds"]):
            std = study["std"][i, j, :, index]
            with np.errstate(all="ignore"):
                ratio = std / study["std"][i, j, :, 0]
            saturated = study["saturated"][i, j, :, index]
            rows.append({
                "activation": activation, "weight_std": weight_std,
                "label": describe_weight_std(weight_std), "layer": index + 1,
                "std_mean": float(std.mean()), "std_sd": float(std.std()),
                "std_min": float(std.min()), "std_max": float(std.max()),
                "saturated_mean": float(saturated.mean()),
                "saturated_sd": float(saturated.std()),
                "ratio_mean": float(ratio.mean()), "ratio_sd": float(ratio.std()),
            })
    return rows


def activation_spread(activations):
    """Per layer, the spread of the outputs split into between units and across inputs.

    The standard deviation of all of a layer's values (the "sd" of the
    histograms) mixes two things: units that sit at different values
    whatever the input (the spread *between units*), and each unit's value
    moving from one input to the next (the spread *across inputs*, the part
    that carries information about the input). With equal numbers of inputs
    per unit the variances add exactly:
    ``total**2 = between_units**2 + across_inputs**2``.

    Parameters
    ----------
    activations : ndarray of shape (n_layers, n_samples, n_units)
        As returned by :func:`tinynet.initialization.activation_histograms`.

    Returns
    -------
    dict
        ``total``, ``between_units`` (standard deviation over the units of
        each unit's mean over the inputs) and ``across_inputs`` (root mean
        over the units of each unit's variance over the inputs): ndarrays
        of shape (n_layers,).
    """
    a = as_float_array("activations", activations, ndim=3,
                       shape_hint="(n_layers, n_samples, n_units)")
    return {"total": a.reshape(len(a), -1).std(axis=1),
            "between_units": a.mean(axis=1).std(axis=1),
            "across_inputs": np.sqrt(a.var(axis=1).mean(axis=1))}


@cache.memoize
def init_training_study(weight_stds=(0.01, "xavier", "he"), seeds=range(5), activation="relu",
                        hidden_sizes=(100, 100, 100, 100, 100), learning_rate=0.05, epochs=20,
                        batch_size=32, data=None):
    """Train an MLP on the digits for each weight scale and seed; collect the curves.

    The book's figure 6-15 on the bundled digits: :func:`~tinynet.network.build_mlp`
    (``hidden_sizes``, ``activation``, weights drawn with each ``weight_std``
    from the seed), trained by :func:`~tinynet.network.train_network` with
    plain :class:`tinynet.optim.SGD`; seed ``s`` sets the weights and the
    shuffling.

    Parameters
    ----------
    weight_stds : sequence of float, "xavier" or "he"
    seeds : iterable of int
    activation : {"relu", "sigmoid", "tanh"}
    hidden_sizes : sequence of int
    learning_rate : float
    epochs, batch_size : int
    data : tinynet.datasets.Split, optional
        Default :func:`tinynet.datasets.load_digits_split` (seed 0); the
        images are flattened to vectors.

    Returns
    -------
    dict
        ``weight_stds``, ``seeds``, ``activation``, ``epoch`` (0..epochs);
        ``train_loss``, ``train_accuracy``, ``val_accuracy``: arrays of shape
        (n_weight_stds, n_seeds, epochs + 1), NaN after a run diverged;
        ``diverged``: bool array (n_weight_stds, n_seeds).
    """
    weight_stds = [_check_weight_std(w) for w in weight_stds]
    if not weight_stds:
        raise ValueError("weight_stds must hold at least one value, such as ('xavier', 'he').")
    seeds = _check_seeds(seeds)
    _check_activation(activation)
    learning_rate = check_number("learning_rate", learning_rate, minimum=0.0)
    epochs = check_int("epochs", epochs, minimum=1)
    data = load_digits_split() if data is None else data
    x_train = data.x_train.reshape(len(data.x_train), -1)  # (N, 1, 8, 8) -> (N, 64)
    x_val = data.x_val.reshape(len(data.x_val), -1)
    n_classes = int(max(np.max(data.t_train), np.max(data.t_val))) + 1
    shape = (len(weight_stds), len(seeds), epochs + 1)
    study = {"weight_stds": weight_stds, "seeds": seeds, "activation": activation,
             "epoch": np.arange(epochs + 1), "train_loss": np.full(shape, np.nan),
             "train_accuracy": np.full(shape, np.nan), "val_accuracy": np.full(shape, np.nan),
             "diverged": np.zeros(shape[:2], dtype=bool)}
    for i, weight_std in enumerate(weight_stds):
        for j, seed in enumerate(seeds):
            net = build_mlp(x_train.shape[1], hidden_sizes, n_classes, activation=activation,
                            weight_std=weight_std, seed=seed)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)  # divergence is recorded
                history = train_network(net, x_train, data.t_train, x_val, data.t_val,
                                        optimizer=SGD(learning_rate), epochs=epochs,
                                        batch_size=batch_size, seed=seed)
            n = len(history.epoch)
            study["train_loss"][i, j, :n] = history.train_loss
            study["train_accuracy"][i, j, :n] = history.train_accuracy
            study["val_accuracy"][i, j, :n] = history.val_accuracy
            study["diverged"][i, j] = history.diverged
    return study


def describe_init_training(study, epoch=5):
    """Per weight scale: training loss at ``epoch`` and at the end, validation accuracy.

    Returns
    -------
    list of dict
        ``weight_std``, ``label``, ``seeds``, ``diverged`` (count),
        ``epoch``, ``loss_mean``, ``loss_sd``, ``loss_min``, ``loss_max``
        (training loss at ``epoch``), ``final_loss_mean``, ``final_loss_sd``,
        ``val_mean``, ``val_sd``, ``val_min``, ``val_max`` (last epoch).
    """
    epochs = len(study["epoch"]) - 1
    epoch = check_int("epoch", epoch, minimum=0)
    if epoch > epochs:
        raise ValueError(f"epoch must be at most {epochs} (the study's last); got {epoch}.")
    rows = []
    for i, weight_std in enumerate(study["weight_stds"]):
        loss = study["train_loss"][i, :, epoch]
        final = study["train_loss"][i, :, -1]
        val = study["val_accuracy"][i, :, -1]
        rows.append({
            "weight_std": weight_std, "label": describe_weight_std(weight_std),
            "seeds": len(study["seeds"]), "diverged": int(study["diverged"][i].sum()),
            "epoch": epoch, "loss_mean": float(loss.mean()), "loss_sd": float(loss.std()),
            "loss_min": float(loss.min()), "loss_max": float(loss.max()),
            "final_loss_mean": float(final.mean()), "final_loss_sd": float(final.std()),
            "val_mean": float(val.mean()), "val_sd": float(val.std()),
            "val_min": float(val.min()), "val_max": float(val.max()),
        })
    return rows


# ---------------------------------------------------------------------------
# Hyperparameter search on the digits (notebook 13)
# ---------------------------------------------------------------------------

def digits_scorer(train_size=None, epochs=5, batch_size=32, seed=0):
    """A :class:`~tinynet.search.ValidationScorer` on the course's split of the bundled digits.

    Trains on the 1,079 training images (or the first ``train_size``) and
    scores on the 359 validation images; the 359 test images stay out.
    """
    return ValidationScorer.from_split(digits_split(0), train_size=train_size, epochs=epochs,
                                       batch_size=batch_size, seed=seed)


@cache.memoize(pure_types=(ValidationScorer,))
def scores_over_seeds(train_and_score, settings, seeds):
    """``ndarray``: ``train_and_score(**settings, seed=s)`` for each seed ``s``.

    The spread of these scores is the noise a single trial's score carries.
    """
    if not callable(train_and_score):
        raise TypeError(f"train_and_score must be callable; got {_describe(train_and_score)}.")
    seeds = [check_int("seed", s, minimum=0) for s in seeds]
    if not seeds:
        raise ValueError("seeds is empty: pass at least one, e.g. seeds=range(5).")
    return np.array([float(train_and_score(**settings, seed=s)) for s in seeds])


# ---------------------------------------------------------------------------
# Optimizers on the book's surface x**2 / 20 + y**2 (notebook 09)
# ---------------------------------------------------------------------------

def path_study(starts, learning_rates=None, steps=30):
    """Each optimizer from each start: distance to the minimum and zigzag.

    Parameters
    ----------
    starts : ndarray of shape (n, 2)
    learning_rates : dict of str to float, default ``landscapes.LEARNING_RATES``
        Optimizer name -> learning rate.
    steps : int

    Returns
    -------
    dict of str to dict
        For each optimizer name: ``distance`` (ndarray of shape (n,), the
        distance from (0, 0) after ``steps`` steps, ``inf`` where a run
        diverged) and ``across`` (ndarray of shape (n,), the
        :func:`tinynet.landscapes.across_travel` of each path).
    """
    learning_rates = (landscapes.LEARNING_RATES if learning_rates is None
                      else learning_rates)
    result = {}
    for name, learning_rate in learning_rates.items():
        distances, across = [], []
        for start in np.asarray(starts, dtype=float):
            path = landscapes.optimizer_path(make_optimizer(name, learning_rate), tuple(start),
                                             steps)
            diverged = len(path) < steps + 1 or not np.all(np.isfinite(path))
            distances.append(float("inf") if diverged
                             else float(landscapes.distance_to_minimum(path)[-1]))
            across.append(landscapes.across_travel(path))
        result[name] = {"distance": np.array(distances), "across": np.array(across)}
    return result


def path_experiment(optimizer="sgd", learning_rate=None, steps=30, start=landscapes.START,
                    ax=None):
    """One optimizer on the book's surface: its path drawn on ``ax``, a one-line verdict printed.

    The surface is :func:`tinynet.landscapes.f`, the path
    :func:`tinynet.landscapes.optimizer_path`.

    The plain function behind the notebook's slider and menu.

    Parameters
    ----------
    optimizer : str, a key of ``tinynet.optim.OPTIMIZERS``
    learning_rate : float, optional
        Default ``tinynet.landscapes.LEARNING_RATES[optimizer]``.
    steps : int, default 30
    start : pair of float
    ax : Axes, optional

    Returns
    -------
    dict
        ``path``, ``final`` (x, y), ``final_f`` (``inf`` if diverged),
        ``diverged``.
    """
    if not isinstance(optimizer, str) or optimizer.lower() not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}; got {optimizer!r}.")
    name = optimizer.lower()
    if learning_rate is None:
        learning_rate = landscapes.LEARNING_RATES[name]
    path = landscapes.optimizer_path(make_optimizer(name, learning_rate), start, steps)
    diverged = len(path) < steps + 1 or not np.all(np.isfinite(path))
    x, y = path[-1]
    final_f = float("inf") if diverged else float(landscapes.f(x, y))
    if diverged:
        text = f"{name}, learning rate {learning_rate:g}: diverged after {len(path) - 1} steps"
    else:
        text = (f"{name}, learning rate {learning_rate:g}: after {steps} steps at "
                f"({_fixed(x, 3)}, {_fixed(y, 3)}), f = {_fixed(final_f, 4)}")
    print(text)
    if ax is not None:
        plot_paths({name: path}, ax=ax, title=f"{name}, learning rate {learning_rate:g}")
    return {"path": path, "final": (float(x), float(y)), "final_f": final_f,
            "diverged": diverged}


# ---------------------------------------------------------------------------
# A learning rate for each optimizer on TinyNet (notebook 09)
# ---------------------------------------------------------------------------

@cache.memoize
def learning_rate_grid(grids, seeds=(100, 101, 102), epochs=10, batch_size=32, data=None):
    """Train TinyNet on the digits with each optimizer at each of its learning rates.

    Every run starts TinyNet (8 and 16 filters) from ``init_params(rng=seed)``
    and trains it with :func:`tinynet.train` and
    ``make_optimizer(name, learning_rate)``; seed ``s`` sets the weights and
    the shuffling, the same for every optimizer and rate.

    Parameters
    ----------
    grids : dict
        Optimizer name (a key of :data:`tinynet.optim.OPTIMIZERS`) to a
        sequence of learning rates (> 0).
    seeds : iterable of int, default (100, 101, 102)
    epochs, batch_size : int
    data : tinynet.datasets.Split, optional
        Default :func:`digits_split` (seed 0).

    Returns
    -------
    dict
        ``seeds``, ``epochs`` and ``optimizers``: for each optimizer name, in
        the order of ``grids``, a dict with ``rates`` (ndarray of shape
        (n_rates,)), ``val_accuracy`` (ndarray of shape (n_rates, n_seeds):
        the validation accuracy after the last epoch, a diverged run counted
        as chance, 0.1), ``diverged`` (bool array of the same shape) and
        ``best`` (the rate with the highest mean validation accuracy).

    Examples
    --------
    ::

        grid = learning_rate_grid({"sgd": [0.1, 0.3], "adam": [0.003, 0.01]}, seeds=[100])
        grid["optimizers"]["adam"]["best"]
    """
    if not isinstance(grids, dict) or not grids:
        raise TypeError(f"grids must be a non-empty dict from optimizer name to learning rates, "
                        f"such as {{'sgd': [0.1, 0.3]}}; got {_describe(grids)}.")
    seeds = _check_seeds(seeds)
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    data = digits_split(0) if data is None else data
    result = {"seeds": seeds, "epochs": epochs, "optimizers": {}}
    for name, rates in grids.items():
        if not isinstance(name, str) or name.lower() not in OPTIMIZERS:
            raise ValueError(f"grids must name optimizers among {sorted(OPTIMIZERS)}; "
                             f"got {name!r}.")
        rates = np.array([check_number(f"grids[{name!r}]", r, minimum=0.0, allow_equal=False)
                          for r in rates])
        if len(rates) == 0:
            raise ValueError(f"grids[{name!r}] must hold at least one learning rate.")
        accuracy = np.empty((len(rates), len(seeds)))
        diverged = np.zeros(accuracy.shape, dtype=bool)
        for i, rate in enumerate(rates):
            for j, seed in enumerate(seeds):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", RuntimeWarning)  # divergence is recorded
                    history = _optimizer_run(data, name, rate, seed, epochs, batch_size)
                diverged[i, j] = history.diverged
                accuracy[i, j] = (CHANCE_ACCURACY if history.diverged
                                  else history.val_accuracy[-1])
        result["optimizers"][name] = {"rates": rates, "val_accuracy": accuracy,
                                      "diverged": diverged,
                                      "best": float(rates[np.argmax(accuracy.mean(axis=1))])}
    return result


def _optimizer_run(data, name, learning_rate, seed, epochs, batch_size):
    """TinyNet (8 and 16 filters) from ``init_params(rng=seed)`` trained with one optimizer.

    Returns the :class:`~tinynet.training.History` of ``tinynet.train(...,
    seed=seed, optimizer=make_optimizer(name, learning_rate))`` on ``data``'s
    training part, with validation curves.
    """
    params = init_params(data.x_train.shape[1:], 8, 16, num_classes=10, rng=seed)
    _, history = train(params, data.x_train, data.t_train, data.x_val, data.t_val,
                       epochs=epochs, batch_size=batch_size, seed=seed,
                       optimizer=make_optimizer(name, learning_rate))
    return history


@cache.memoize
def optimizer_curves(learning_rates, seeds=range(5), epochs=10, batch_size=32, data=None):
    """Train TinyNet on the digits with each optimizer at its learning rate, from each seed.

    Every run starts TinyNet (8 and 16 filters) from ``init_params(rng=seed)``
    and trains it with :func:`tinynet.train` and
    ``make_optimizer(name, learning_rate)``; seed ``s`` sets the weights and
    the shuffling, the same for every optimizer, so each seed is a paired
    comparison.

    Parameters
    ----------
    learning_rates : dict
        Optimizer name (a key of :data:`tinynet.optim.OPTIMIZERS`) to its
        learning rate (> 0).
    seeds : iterable of int, default range(5)
    epochs, batch_size : int
    data : tinynet.datasets.Split, optional
        Default :func:`digits_split` (seed 0).

    Returns
    -------
    dict
        ``seeds``, ``epochs``, ``parameters`` (TinyNet's number of
        parameters), ``train_size`` (training images) and ``optimizers``:
        for each name, in the order of ``learning_rates``, a dict with
        ``learning_rate``, ``train_loss`` and ``val_accuracy`` (ndarrays of
        shape (n_seeds, epochs + 1), epoch 0 before training; NaN after a
        run diverged).

    Examples
    --------
    ::

        study = optimizer_curves({"sgd": 0.5, "adam": 0.02}, seeds=[0, 1], epochs=3)
        study["optimizers"]["adam"]["val_accuracy"][:, -1]
    """
    if not isinstance(learning_rates, dict) or not learning_rates:
        raise TypeError(f"learning_rates must be a non-empty dict from optimizer name to a "
                        f"learning rate, such as {{'sgd': 0.5, 'adam': 0.02}}; got "
                        f"{_describe(learning_rates)}.")
    seeds = _check_seeds(seeds)
    epochs = check_int("epochs", epochs, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1)
    data = digits_split(0) if data is None else data
    result = {"seeds": seeds, "epochs": epochs,
              "parameters": sum(p.size for p in init_params(data.x_train.shape[1:], 8, 16,
                                                            num_classes=10, rng=0).values()),
              "train_size": len(data.x_train), "optimizers": {}}
    for name, learning_rate in learning_rates.items():
        if not isinstance(name, str) or name.lower() not in OPTIMIZERS:
            raise ValueError(f"learning_rates must name optimizers among {sorted(OPTIMIZERS)}; "
                             f"got {name!r}.")
        learning_rate = check_number(f"learning_rates[{name!r}]", learning_rate, minimum=0.0,
                                     allow_equal=False)
        curves = {"train_loss": np.full((len(seeds), epochs + 1), np.nan),
                  "val_accuracy": np.full((len(seeds), epochs + 1), np.nan)}
        for i, seed in enumerate(seeds):
            history = _optimizer_run(data, name, learning_rate, seed, epochs, batch_size)
            for key, values in curves.items():
                values[i, :len(getattr(history, key))] = getattr(history, key)
        result["optimizers"][name] = {"learning_rate": learning_rate, **curves}
    return result
