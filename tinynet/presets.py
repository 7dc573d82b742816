"""Teaching scenarios for the training panel, and the line of Python that repeats a run.

Plain functions and data, no widgets: :func:`tinynet.widgets.training_panel`
only calls them, and the tests call them directly.

* :data:`TRAINING_PRESETS` names the scenarios an instructor picks from a
  menu (learning rate too small, about right, too large; overfitting a small
  subset; weight decay to the rescue), each with the settings that show its
  lesson on the bundled digits and a sentence saying what to look at.
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
"""

import math
from typing import NamedTuple

__all__ = [
    "TRAINING_DEFAULTS",
    "TRAINING_PRESETS",
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


# Values chosen so that each lesson shows on the bundled digits with seed 0,
# and each retrains in well under 2 s (0.3 s to 0.7 s on a laptop core);
# tests/test_presets.py checks every lesson.
TRAINING_PRESETS = {
    "learning rate too small": Preset(
        {"learning_rate": 0.003},
        "Every step is safe but tiny: after 10 epochs the loss is still above 2 "
        "and falling slowly, and fewer than half the digits are right.",
    ),
    "learning rate about right": Preset(
        {"learning_rate": 0.1},
        "The loss falls fast, then levels off: about 95% validation accuracy, "
        "with training and validation curves close together.",
    ),
    "learning rate too large": Preset(
        {"learning_rate": 3.0},
        "The first huge steps kill every ReLU: the loss sticks at ln 10 = 2.30 "
        "and the accuracy at chance (0.1). Nothing can recover.",
    ),
    "learning rate far too large: diverges": Preset(
        {"learning_rate": 30.0},
        "The loss explodes after a single step: training stops, and a message "
        "replaces the curves.",
    ),
    "overfitting a small subset": Preset(
        {"train_size": 100, "epochs": 100, "batch_size": 25},
        "Only 100 training images, for 100 epochs: training accuracy reaches 1.0, "
        "the training loss goes to almost 0, but validation stays near 0.88. "
        "The gap is memorising.",
    ),
    "weight decay to the rescue": Preset(
        {"train_size": 100, "epochs": 100, "batch_size": 25, "weight_decay": 0.03},
        "The same 100 images with weight decay 0.03: the weights stay smaller, "
        "the training loss higher, and validation accuracy rises to 0.90, so the "
        "gap narrows. A mild cure; more images (training images: all) is the "
        "strong one.",
    ),
}


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
