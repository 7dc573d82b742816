"""Teaching scenarios for the training panel, and the line of Python that repeats a run.

Plain functions and data, no widgets: :func:`tinynet.widgets.training_panel`
only calls them, and the tests call them directly.

* :data:`TRAINING_PRESETS` names the scenarios an instructor picks from a
  menu (learning rate too small, about right, too large; overfitting a small
  subset; the small gain of weight decay), each with the settings that show
  its lesson on the bundled digits and a sentence saying what to look at.
* :data:`NETWORK_PRESETS` does the same for
  :func:`tinynet.experiments.network_experiment` (an MLP): optimizers,
  batch normalisation, dropout.
* :func:`preset_settings` gives a scenario's complete settings,
  :func:`matching_preset` names the scenario that some settings are.
* :func:`tidy_settings` rounds the slider values to the three significant
  digits their readouts show, so what the class sees is what is trained.
* :func:`python_line` writes settings as one line of Python that reproduces
  the run exactly: paste it into any notebook and get the same numbers.

::

    >>> from tinynet.presets import preset_settings, python_line
    >>> settings = preset_settings("learning rate too large")
    >>> python_line(settings)
    'from tinynet.experiments import training_experiment; training_experiment(learning_rate=3.0, weight_decay=0.0, epochs=10, batch_size=32, train_size=None, seed=0)'
"""  # noqa: E501 (the doctest's output is one line)

import math
from typing import NamedTuple

__all__ = [
    "TRAINING_DEFAULTS",
    "TRAINING_PRESETS",
    "NETWORK_DEFAULTS",
    "NETWORK_PRESETS",
    "network_preset_settings",
    "Preset",
    "preset_settings",
    "matching_preset",
    "tidy_settings",
    "round_significant",
    "python_line",
]

# The keyword arguments of tinynet.experiments.training_experiment, in its order.
TRAINING_DEFAULTS = {"learning_rate": 0.1, "weight_decay": 0.0, "epochs": 10,
                     "batch_size": 32, "train_size": None, "seed": 0}


class Preset(NamedTuple):
    """A teaching scenario: the settings that differ from the defaults, and its lesson."""

    settings: dict
    lesson: str


# Values chosen so that each lesson shows on the bundled digits whatever the
# seed, and each retrains in about a second or less. The numbers in the
# lessons are means ± standard deviations over seeds 0-9 (or 0-4) from
# tools/study_regularization.py; tests/test_presets.py re-checks every lesson
# over seeds 0-4.
TRAINING_PRESETS = {
    "learning rate too small": Preset(
        {"learning_rate": 0.003},
        "Every step is safe but tiny: after 10 epochs the loss is still about 2 "
        "(1.9 to 2.15 over 5 seeds) and falling slowly, and fewer than half the "
        "digits are right (0.30 to 0.49).",
    ),
    "learning rate about right": Preset(
        {"learning_rate": 0.1},
        "The loss falls fast, then levels off: about 95% validation accuracy, "
        "with training and validation curves close together (any seed).",
    ),
    "learning rate too large": Preset(
        {"learning_rate": 3.0},
        "The first huge steps kill every ReLU: the loss sticks at ln 10 = 2.30 "
        "and the accuracy at chance (0.1). Nothing can recover.",
    ),
    "learning rate far too large: diverges": Preset(
        {"learning_rate": 30.0},
        "The loss explodes: at seed 0 (and in 3 of seeds 0-4) training stops after "
        "a single step and a message replaces the curves; in the other seeds the "
        "loss stays far above ln 10 and the accuracy at chance (0.1).",
    ),
    "overfitting a small subset": Preset(
        {"train_size": 100, "epochs": 100, "batch_size": 25},
        "Only 100 training images, for 100 epochs: training accuracy reaches 1.0 "
        "and the training loss almost 0, but validation stays at 0.85 (0.85 ± 0.02 "
        "over 10 seeds). The gap of about 0.15 is memorising.",
    ),
    "weight decay: a small, steady gain": Preset(
        {"train_size": 100, "epochs": 100, "batch_size": 25, "weight_decay": 0.003},
        "The same 100 images with weight decay 0.003: the weights stay smaller. "
        "On average over 10 seeds validation accuracy (mean of the last 10 epochs) "
        "rises by only 0.003, but in 9 of 10 seeds, and the gap narrows in 9 of 10. "
        "The gain is smaller than the spread between seeds (0.02), so one run may not "
        "show it; stronger decay (0.03) lowers validation accuracy in every seed. "
        "More images (training images: all) is the strong cure.",
    ),
}

# The keyword arguments of tinynet.experiments.network_experiment, in its order
# (axes and average_last left out).
NETWORK_DEFAULTS = {"learning_rate": 0.1, "weight_decay": 0.0, "dropout": 0.0,
                    "batchnorm": False, "optimizer": "sgd", "weight_std": "he",
                    "hidden_sizes": (100, 100), "epochs": 20, "batch_size": 32,
                    "train_size": None, "seed": 0}

# The overfitting setting the three regularisation scenarios share.
_DEEP_MLP_ON_100_IMAGES = {"hidden_sizes": (100, 100, 100, 100, 100), "train_size": 100,
                           "epochs": 100, "batch_size": 20}

# Scenarios for tinynet.experiments.network_experiment (an MLP on the flattened
# digits), for the optimizer, batch-norm and dropout lessons; numbers are
# over seeds 0-4 (regularisation: 0-19, as in notebook 12).
NETWORK_PRESETS = {
    "SGD at a small learning rate": Preset(
        {"learning_rate": 0.01},
        "Plain SGD with learning rate 0.01: after 20 epochs the training loss is still "
        "about 0.37 and validation accuracy 0.91 ± 0.02 over 5 seeds, against 0.97 at "
        "learning rate 0.1.",
    ),
    "momentum at the same small rate": Preset(
        {"learning_rate": 0.01, "optimizer": "momentum"},
        "Momentum 0.9 at the same learning rate 0.01 builds up speed along the steady "
        "direction: validation accuracy 0.97 ± 0.01 over 5 seeds, as good as plain SGD "
        "at a 10 times larger rate.",
    ),
    "Adam at its default rate": Preset(
        {"learning_rate": 0.001, "optimizer": "adam"},
        "Adam at its usual learning rate 0.001, untuned: validation accuracy "
        "0.98 ± 0.005 over 5 seeds, a little above SGD at 0.1 (0.97 ± 0.005).",
    ),
    "deep network, weights too small": Preset(
        {"hidden_sizes": (100, 100, 100, 100, 100), "weight_std": 0.01},
        "Five hidden layers with weights of standard deviation 0.01: the signal "
        "shrinks layer by layer, the gradients vanish, and the loss stays at "
        "ln 10 = 2.30: chance accuracy (0.10) in every one of 5 seeds.",
    ),
    "batch norm rescues small weights": Preset(
        {"hidden_sizes": (100, 100, 100, 100, 100), "weight_std": 0.01, "batchnorm": True},
        "The same network with batch normalisation after each hidden Affine layer: "
        "every layer's inputs are rescaled, and it learns, to 0.98 ± 0.005 validation "
        "accuracy over 5 seeds.",
    ),
    "deep MLP overfitting 100 images": Preset(
        dict(_DEEP_MLP_ON_100_IMAGES),
        "Five hidden layers of 100 units (about 47,000 weights) on 100 images for 100 "
        "epochs: training accuracy 1.0, validation 0.85 ± 0.02 over 20 seeds (mean of "
        "the last 10 epochs), a gap of about 0.15.",
    ),
    "weight decay 0.003 on the deep MLP": Preset(
        {**_DEEP_MLP_ON_100_IMAGES, "weight_decay": 0.003},
        "The same with weight decay 0.003: over 20 seeds validation accuracy (mean of the "
        "last 10 epochs) rises by 0.006 on average (+0.001 to +0.012, two standard errors "
        "either side), higher in 12 of 20 seeds, and the gap narrows in 12 of 20. Less "
        "than the spread between seeds (0.017), so one run often does not show it. 0.03 "
        "is too strong: -0.055, lower in 19 of 20 seeds.",
    ),
    "dropout 0.2 on the deep MLP": Preset(
        {**_DEEP_MLP_ON_100_IMAGES, "dropout": 0.2},
        "The same with dropout 0.2 after each hidden layer: over 20 seeds validation "
        "accuracy (mean of the last 10 epochs) rises by 0.008 on average (0.000 to "
        "+0.017, two standard errors either side), higher in 13 of 20 seeds, gap narrower "
        "in 14 of 20. A small gain; dropout 0.5 is too strong for five layers.",
    ),
}


def network_preset_settings(name):
    """The complete settings of the network scenario ``name`` (defaults, then its own).

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones.
    """
    if name not in NETWORK_PRESETS:
        raise ValueError(f"no network preset named {name!r}; "
                         f"choose among {list(NETWORK_PRESETS)}.")
    return {**NETWORK_DEFAULTS, **NETWORK_PRESETS[name].settings}


def preset_settings(name):
    """The complete settings of the scenario ``name``: the defaults, then its own.

    Parameters
    ----------
    name : str
        A key of :data:`TRAINING_PRESETS`.

    Returns
    -------
    dict
        One value for each key of :data:`TRAINING_DEFAULTS`, in that order.

    Raises
    ------
    ValueError
        For an unknown name; the message lists the known ones.
    """
    if name not in TRAINING_PRESETS:
        raise ValueError(f"no training preset named {name!r}; "
                         f"choose among {list(TRAINING_PRESETS)}.")
    return {**TRAINING_DEFAULTS, **TRAINING_PRESETS[name].settings}


def matching_preset(settings):
    """The name of the scenario whose settings these are, or None.

    Settings are compared after :func:`tidy_settings`, so a slider that shows
    0.1 matches a preset of 0.1.
    """
    tidy = tidy_settings({**TRAINING_DEFAULTS, **settings})
    for name in TRAINING_PRESETS:
        if tidy_settings(preset_settings(name)) == tidy:
            return name
    return None


def round_significant(value, digits=3):
    """``value`` rounded to ``digits`` significant digits (0 stays 0).

    >>> round_significant(0.17782794100389226)
    0.178
    >>> round_significant(1.7782794100389227e-05)
    1.78e-05
    """
    value = float(value)
    if value == 0 or not math.isfinite(value):
        return value
    # the position of the last kept digit, counted from the decimal point
    decimals = digits - 1 - math.floor(math.log10(abs(value)))
    return round(value, decimals)


def tidy_settings(settings):
    """Settings with ``learning_rate`` and ``weight_decay`` rounded to 3 significant digits.

    A log-scale slider moves in steps of its exponent, so its value is
    ``10 ** -0.75 = 0.17782794100389226``, while its readout shows 0.178.
    The panel trains with the rounded value: the readout, the printed line of
    Python and the run all agree. Other settings are returned unchanged.

    Parameters
    ----------
    settings : dict
        Keyword arguments of :func:`tinynet.experiments.training_experiment`.

    Returns
    -------
    dict
        A new dict, same keys and order.
    """
    tidy = dict(settings)
    for name in ("learning_rate", "weight_decay"):
        if name in tidy:
            tidy[name] = round_significant(tidy[name])
    return tidy


def python_line(settings):
    """One line of Python that repeats a run of the training panel exactly.

    Every setting is written out, in the order of the function's signature,
    with ``repr`` (which writes a float so that it reads back bit for bit).
    Evaluated, the line returns the summary dict that the panel shows.

    Parameters
    ----------
    settings : dict
        Keyword arguments of :func:`tinynet.experiments.training_experiment`;
        missing ones take their defaults.

    Returns
    -------
    str

    Raises
    ------
    ValueError
        For a setting that ``training_experiment`` does not take.
    """
    unknown = sorted(set(settings) - set(TRAINING_DEFAULTS))
    if unknown:
        raise ValueError(f"{unknown} are not arguments of training_experiment; "
                         f"it takes {list(TRAINING_DEFAULTS)}.")
    full = {**TRAINING_DEFAULTS, **settings}
    arguments = ", ".join(f"{name}={full[name]!r}" for name in TRAINING_DEFAULTS)
    return ("from tinynet.experiments import training_experiment; "
            f"training_experiment({arguments})")
