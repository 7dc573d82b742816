"""Hyperparameter search: random log-uniform trials scored on a validation set.

A *trial* draws one value for each setting (learning rate, weight decay, ...),
trains a network with them, and scores it on the **validation** set. After
``n_trials`` trials the best settings are the ones with the highest score.
The test set plays no part: it is kept for one final measurement of the
settings the search chose (see :class:`ValidationScorer`, which never holds it).

Settings such as the learning rate matter by their order of magnitude, so
they are drawn *log-uniformly*: ``log(value)`` is uniform between ``log(low)``
and ``log(high)``, and each decade of the range gets the same share of trials.
A second round searches the narrower ranges around the best trials of the
first (:meth:`SearchResult.narrowed`).

The scorer on the course's digits (:func:`tinynet.experiments.digits_scorer`),
the spread of a score over seeds (:func:`tinynet.experiments.scores_over_seeds`)
and the figures (:func:`tinynet.plotting.plot_search`,
:func:`tinynet.plotting.plot_seed_spread`) live with the experiments and the
plots.
"""

import numbers
import warnings
from dataclasses import dataclass

import numpy as np

from . import cache
from ._checks import _describe, as_generator, check_int, check_number
from .model import init_params
from .training import _progress_bar, train

__all__ = [
    "log_uniform",
    "random_search",
    "SearchResult",
    "ValidationScorer",
]


def _check_range(name, low, high):
    """``(low, high)`` as floats with ``0 < low < high``, or an error naming ``name``."""
    prefix = f"{name} " if name else ""
    low = check_number(f"{prefix}low", low)
    high = check_number(f"{prefix}high", high)
    name = name or "log_uniform"
    if low <= 0:
        raise ValueError(
            f"{name}: the low end must be > 0 for a log-uniform range (log(0) is -inf); "
            f"got low={low:g}. Use a small positive value such as 1e-6."
        )
    if not high > low:
        raise ValueError(
            f"{name}: the high end must be larger than the low end; got low={low:g}, "
            f"high={high:g}. Swap them or widen the range."
        )
    return low, high


def log_uniform(low, high, size, rng):
    """Draw ``size`` numbers whose logarithm is uniform on ``[log(low), log(high))``.

    ``u ~ Uniform(ln low, ln high)``, ``x = exp(u)``: every decade between
    ``low`` and ``high`` receives the same share of samples (for 1e-3..1,
    a third each in [1e-3, 1e-2), [1e-2, 1e-1) and [1e-1, 1)). The base of the
    logarithm does not matter as long as the same base is used both ways.

    Parameters
    ----------
    low, high : float, 0 < low < high
    size : int (>= 0) or tuple of int
        Shape of the result.
    rng : numpy.random.Generator or int
        Source of randomness (an int seeds a new Generator).

    Returns
    -------
    ndarray of float64, of shape ``size``, every entry in ``[low, high]``.
    """
    low, high = _check_range("", low, high)
    if isinstance(size, tuple):
        size = tuple(check_int("size", n, minimum=0) for n in size)
    else:
        size = check_int("size", size, minimum=0)
    rng = as_generator("rng", rng)
    samples = np.exp(rng.uniform(np.log(low), np.log(high), size))
    # exp(log(low)) can miss low by one rounding step: keep the promise of the range.
    return np.clip(samples, low, high)


def _check_ranges(ranges):
    if not hasattr(ranges, "items"):
        raise TypeError(
            f"ranges must be a dict from a setting name to (low, high); got "
            f"{_describe(ranges)}. Example: ranges={{'learning_rate': (1e-3, 1.0)}}."
        )
    if not ranges:
        raise ValueError(
            "ranges is empty: give at least one setting, e.g. "
            "ranges={'learning_rate': (1e-3, 1.0)}."
        )
    checked = {}
    for name, bounds in ranges.items():
        if not isinstance(name, str) or not name.isidentifier():
            raise TypeError(
                f"ranges: each key must be a keyword-argument name of train_and_score; "
                f"got {name!r}."
            )
        if isinstance(bounds, str) or np.shape(bounds) != (2,):
            raise ValueError(
                f"ranges[{name!r}] must be a pair (low, high); got {bounds!r}."
            )
        checked[name] = _check_range(f"ranges[{name!r}]", bounds[0], bounds[1])
    return checked


@dataclass(frozen=True, eq=False)
class SearchResult:
    """The trials of :func:`random_search`.

    Attributes
    ----------
    ranges : dict of str to (float, float)
        The ranges that were searched.
    settings : list of dict
        The settings of each trial, in the order they were run.
    scores : ndarray of shape (n_trials,)
        Validation score of each trial; NaN for a trial that failed
        (training diverged).
    seed : int or None
        The seed the settings were drawn with (None when a Generator was given).
    """

    ranges: dict
    settings: list
    scores: np.ndarray
    seed: object = None

    @property
    def names(self):
        """The setting names, in the order of ``ranges``."""
        return tuple(self.ranges)

    @property
    def n_trials(self):
        return len(self.settings)

    def values(self, name):
        """``ndarray of shape (n_trials,)``: the value of setting ``name`` in each trial."""
        if name not in self.ranges:
            raise KeyError(f"no setting {name!r} in this search; it has {list(self.names)}.")
        return np.array([s[name] for s in self.settings], dtype=np.float64)

    @property
    def n_failed(self):
        """How many trials scored NaN (diverged)."""
        return int(np.sum(np.isnan(self.scores)))

    def ranking(self):
        """Trial indices from the best score to the worst; failed trials last."""
        scores = np.where(np.isnan(self.scores), -np.inf, self.scores)
        return np.argsort(-scores, kind="stable")  # ties keep the order of the trials

    def top(self, k=5):
        """Indices of the ``k`` best trials (failed trials never count)."""
        k = check_int("k", k, minimum=1)
        ok = self.n_trials - self.n_failed
        if ok == 0:
            raise ValueError("every trial failed (NaN score): there is no best trial. "
                             "Make the ranges smaller (a lower learning rate).")
        return self.ranking()[:min(k, ok)]

    @property
    def best_index(self):
        return int(self.top(1)[0])

    @property
    def best_settings(self):
        """The settings of the best trial (a new dict)."""
        return dict(self.settings[self.best_index])

    @property
    def best_score(self):
        return float(self.scores[self.best_index])

    def narrowed(self, top=5, widen=2.0):
        """New ranges around the ``top`` best trials, in log space.

        For each setting the new range runs from the smallest to the largest
        value among the best ``top`` trials, each end moved outwards by the
        factor ``widen`` (``low / widen``, ``high * widen``: the same margin in
        every decade), and clipped to the range that was searched. When the
        best trials sit at an edge, the new range touches that edge: a hint
        that the first range was too narrow on that side.

        Parameters
        ----------
        top : int (>= 1)
        widen : float (> 1)

        Returns
        -------
        dict of str to (float, float)
            Contains the values of every one of the ``top`` best trials.
        """
        top = check_int("top", top, minimum=1)
        widen = check_number("widen", widen, minimum=1.0, allow_equal=False)
        best = self.top(top)
        ranges = {}
        for name, (low, high) in self.ranges.items():
            chosen = self.values(name)[best]
            ranges[name] = (max(low, float(chosen.min()) / widen),
                            min(high, float(chosen.max()) * widen))
        return ranges

    def table(self, k=5, digits=3):
        """The ``k`` best trials as text, one line each: settings and score."""
        lines = []
        for rank, index in enumerate(self.top(k), 1):
            parts = [f"{name} {self.settings[index][name]:.2e}" for name in self.names]
            lines.append(f"{rank}. " + ", ".join(parts)
                         + f"  ->  score {self.scores[index]:.{digits}f}")
        return "\n".join(lines)


def random_search(train_and_score, ranges, n_trials, seed=0, progress=False):
    """Random search: draw each setting log-uniformly, train, score, keep everything.

    Parameters
    ----------
    train_and_score : callable
        Called as ``train_and_score(**settings)`` with one float per name in
        ``ranges``; returns the validation score (higher is better), or NaN
        when training failed. It must score on validation data only: the
        test set is for the one final measurement after the search.
    ranges : dict of str to (low, high)
        The range of each setting, ``0 < low < high``; values are drawn
        log-uniformly (:func:`log_uniform`).
    n_trials : int (>= 1)
    seed : int or numpy.random.Generator, default 0
        Draws the settings. All settings are drawn before the first trial,
        so the same seed gives the same trials whatever the scorer does.
    progress : bool, default False
        Show a progress bar over the trials (tqdm).

    Returns
    -------
    SearchResult
    """
    if not callable(train_and_score):
        raise TypeError(
            f"train_and_score must be a function called as train_and_score(**settings) "
            f"that returns a validation score; got {_describe(train_and_score)}."
        )
    ranges = _check_ranges(ranges)
    n_trials = check_int("n_trials", n_trials, minimum=1)
    seed_used = None if isinstance(seed, np.random.Generator) else seed
    rng = as_generator("seed", seed)
    drawn = {name: log_uniform(low, high, n_trials, rng) for name, (low, high) in ranges.items()}
    settings = [{name: float(drawn[name][i]) for name in ranges} for i in range(n_trials)]

    scores = np.empty(n_trials)
    bar = _progress_bar(n_trials, progress, "search", unit="trial")
    try:
        for i, trial in enumerate(settings):
            score = train_and_score(**trial)
            if isinstance(score, (bool, np.bool_)) or not isinstance(score, numbers.Real):
                raise TypeError(
                    f"train_and_score must return a number (the validation score); trial "
                    f"{i} with {trial} returned {_describe(score)}."
                )
            scores[i] = float(score)
            if bar is not None:
                bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return SearchResult(ranges=ranges, settings=settings, scores=scores, seed=seed_used)


# ---------------------------------------------------------------------------
# A scorer for TinyNet: it never holds the test set
# ---------------------------------------------------------------------------


class ValidationScorer:
    """Train TinyNet with given settings and return its validation accuracy.

    The scorer keeps only the training and validation arrays: whatever a
    search does with it, the test set is out of its reach.

    Parameters
    ----------
    x_train, t_train : training images (N, C, H, W) and labels (N,)
    x_val, t_val : validation images and labels
    epochs, batch_size : int (>= 1)
    conv1_filters, conv2_filters : int
    seed : int
        Seeds the initial weights and the shuffling of every trial, so two
        trials differ only by their settings.

    Calling ``scorer(learning_rate=..., weight_decay=..., seed=None)`` trains
    and returns the final validation accuracy (NaN when training diverged).
    When ``TINYNET_CACHE_DIR`` is set (for grading, see :mod:`tinynet.cache`)
    the score of a trial is stored there and read back: the scorer's arrays,
    options and the trial's settings and seed are the key. A subclass, or a
    scorer whose ``fit`` was replaced, trains through its own ``fit``,
    never cached.
    """

    def __init__(self, x_train, t_train, x_val, t_val, *, epochs=5, batch_size=32,
                 conv1_filters=8, conv2_filters=16, seed=0):
        self.x_train, self.t_train = np.asarray(x_train), np.asarray(t_train)
        self.x_val, self.t_val = np.asarray(x_val), np.asarray(t_val)
        self.epochs = check_int("epochs", epochs, minimum=1)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.conv1_filters = check_int("conv1_filters", conv1_filters, minimum=1)
        self.conv2_filters = check_int("conv2_filters", conv2_filters, minimum=1)
        self.seed = check_int("seed", seed, minimum=0)

    @classmethod
    def from_split(cls, split, train_size=None, **options):
        """A scorer on ``split``'s training and validation parts (its test part is not read).

        ``train_size`` keeps only the first images of the training part (the
        split is shuffled already), for quicker trials.
        """
        x_train, t_train = split.x_train, split.t_train
        if train_size is not None:
            train_size = check_int("train_size", train_size, minimum=1)
            x_train, t_train = x_train[:train_size], t_train[:train_size]
        return cls(x_train, t_train, split.x_val, split.t_val, **options)

    def fit(self, learning_rate, weight_decay=0.0, seed=None):
        """Train with these settings; return ``(net, history)`` (validation curves only)."""
        return _train_trial(**self._trial(learning_rate, weight_decay, seed))

    def __call__(self, learning_rate, weight_decay=0.0, seed=None):
        trial = self._trial(learning_rate, weight_decay, seed)
        if type(self) is ValidationScorer and getattr(self.fit, "__func__", None) is _FIT:
            # the package's own training: a pure function of the arguments, read from
            # the grading cache when TINYNET_CACHE_DIR is set (tinynet.cache)
            return _trial_score(**trial)
        _, history = self.fit(learning_rate, weight_decay, seed)  # not the package's fit: uncached
        return _final_score(history)

    def _trial(self, learning_rate, weight_decay, seed):
        """The checked arguments of one trial, as plain data."""
        return dict(x_train=self.x_train, t_train=self.t_train, x_val=self.x_val,
                    t_val=self.t_val,
                    learning_rate=check_number("learning_rate", learning_rate, minimum=0.0),
                    weight_decay=check_number("weight_decay", weight_decay, minimum=0.0),
                    epochs=self.epochs, batch_size=self.batch_size,
                    conv1_filters=self.conv1_filters, conv2_filters=self.conv2_filters,
                    seed=self.seed if seed is None else check_int("seed", seed, minimum=0))

    def __repr__(self):
        return (f"ValidationScorer({len(self.x_train)} training and {len(self.x_val)} "
                f"validation images, epochs={self.epochs}, batch_size={self.batch_size}, "
                f"seed={self.seed})")


_FIT = ValidationScorer.fit


def _train_trial(x_train, t_train, x_val, t_val, learning_rate, weight_decay, epochs,
                 batch_size, conv1_filters, conv2_filters, seed):
    """One trial of :class:`ValidationScorer`: ``(net, history)``."""
    params = init_params(x_train.shape[1:], conv1_filters, conv2_filters, num_classes=10,
                         rng=seed)
    with warnings.catch_warnings():
        # A diverging trial is an expected outcome of a search, reported as NaN.
        warnings.simplefilter("ignore", RuntimeWarning)
        return train(params, x_train, t_train, x_val, t_val, epochs=epochs,
                     batch_size=batch_size, learning_rate=learning_rate,
                     weight_decay=weight_decay, seed=seed)


def _final_score(history):
    return float("nan") if history.diverged else float(history.val_accuracy[-1])


@cache.memoize
def _trial_score(x_train, t_train, x_val, t_val, learning_rate, weight_decay, epochs,
                 batch_size, conv1_filters, conv2_filters, seed):
    """The score of one trial of :class:`ValidationScorer`: what calling the scorer returns.

    A function of plain arguments (arrays, numbers, the seed), so that a
    grading run can store it (:func:`tinynet.cache.memoize`); the trained
    network is not kept.
    """
    _, history = _train_trial(x_train, t_train, x_val, t_val, learning_rate, weight_decay,
                              epochs, batch_size, conv1_filters, conv2_filters, seed)
    return _final_score(history)
