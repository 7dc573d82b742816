"""Slider panels for the notebooks: thin ipywidgets glue around :mod:`tinynet.experiments`.

Each panel wires a few controls to one plain function of
:mod:`tinynet.experiments` and shows what it returns in an ``Output`` area:
the figure it draws, and below it the rounded numbers it reports. All the
logic lives in those functions, which the tests call directly; a panel only

* collects its settings, a dict of keyword arguments (:attr:`ExperimentPanel.settings`),
* calls the experiment with them whenever a control is released,
* shows the figure and the printed summary, and keeps the result
  (:attr:`ExperimentPanel.result`).

Changing several controls at once with :meth:`ExperimentPanel.set` runs the
experiment only once; that is what a menu of prepared scenarios would call,
and :attr:`~ExperimentPanel.settings` is everything needed to repeat a run in
one line of Python.

::

    from tinynet.widgets import training_panel
    panel = training_panel(learning_rate=0.1, epochs=10)
    panel                                   # shows the panel in a notebook
    panel.set(learning_rate=1.0, weight_decay=0)   # retrains once
    panel.result                            # the summary dict of the last run
"""

import base64
import contextlib
import io
import warnings

import ipywidgets as widgets
import traitlets

from . import experiments
from .plotting import new_figure

__all__ = [
    "OptionalLogSlider",
    "ExperimentPanel",
    "training_panel",
    "overfitting_panel",
    "polynomial_panel",
]

_STYLE = {"description_width": "initial"}
_WIDE = widgets.Layout(width="420px")


class OptionalLogSlider(widgets.HBox):
    """A log-scale slider with an on/off checkbox; its ``value`` is exactly 0 when off.

    A log scale cannot reach 0, but "no weight decay" is the most important
    setting of all. Ticking the box off makes ``value`` 0.0 (the slider keeps
    its position, greyed out); ticking it on again restores the slider's value.
    Setting ``value`` to 0 unticks the box; setting it to a positive number
    ticks it and moves the slider.

    Parameters
    ----------
    value : float (>= 0)
    description : str
    min, max : float
        Exponents of the slider's range: ``10**min`` to ``10**max``.
    step : float
        Step of the exponent.
    off_value : float
        Where the slider sits when the panel starts with ``value = 0``.
    """

    value = traitlets.Float(0.0)

    def __init__(self, value=0.0, description="", min=-5.0, max=-1.0, step=0.25,
                 off_value=None):
        on = value > 0
        self.switch = widgets.Checkbox(value=on, description=description, indent=False,
                                       layout=widgets.Layout(width="auto"))
        self.slider = widgets.FloatLogSlider(
            value=value if on else (off_value or 10 ** ((min + max) / 2)),
            base=10, min=min, max=max, step=step, continuous_update=False,
            disabled=not on, readout_format=".1e", layout=widgets.Layout(width="300px"))
        super().__init__([self.switch, self.slider])
        self._syncing = False
        self.value = float(self.slider.value) if on else 0.0
        self.switch.observe(self._from_parts, "value")
        self.slider.observe(self._from_parts, "value")
        self.observe(self._to_parts, "value")

    def _from_parts(self, _change):
        if self._syncing:
            return
        self.slider.disabled = not self.switch.value
        self.value = float(self.slider.value) if self.switch.value else 0.0

    def _to_parts(self, change):
        if self._syncing:
            return
        value = change["new"]
        if value < 0:
            raise traitlets.TraitError(f"value must be >= 0; got {value}.")
        self._syncing = True
        try:
            if value > 0:
                self.slider.value = value  # clipped to the slider's range
            self.switch.value = value > 0
            self.slider.disabled = not self.switch.value
        finally:
            self._syncing = False
        actual = float(self.slider.value) if self.switch.value else 0.0
        if actual != value:
            self.value = actual  # the slider clipped it


def _figure_output(fig):
    """A Jupyter display_data message holding the figure as PNG (deterministic bytes)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=96, metadata={"Software": None})
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
                     "text/plain": repr(fig)}}


def _text_output(text):
    return {"output_type": "stream", "name": "stdout", "text": text + "\n"}


class ExperimentPanel(widgets.VBox):
    """Controls wired to one experiment, and an Output area showing its result.

    Parameters
    ----------
    view : callable
        ``view(**settings)`` runs the experiment and returns
        ``(figure, text, result)``.
    controls : dict of str to widget
        One widget with a ``value`` per keyword argument shown as a control.
    fixed : dict, optional
        Keyword arguments passed on every run but without a control.
    rows : list of list of str, optional
        How to lay out the controls, by name; default one per row.

    Attributes
    ----------
    controls : dict of str to widget
    output : ipywidgets.Output
        Holds the figure, then the printed summary.
    result : object
        What the experiment returned on the last run.
    runs : int
        How many times the experiment has run.
    """

    def __init__(self, view, controls, fixed=None, rows=None):
        self._view = view
        self.controls = dict(controls)
        self.fixed = dict(fixed or {})
        self.output = widgets.Output()
        self.result = None
        self.runs = 0
        self._held = False
        self._pending = False
        rows = rows or [[name] for name in self.controls]
        boxes = [widgets.HBox([self.controls[name] for name in row]) for row in rows]
        super().__init__(boxes + [self.output])
        for control in self.controls.values():
            control.observe(self._changed, "value")
        self.refresh()

    @property
    def settings(self):
        """The keyword arguments of the next run: fixed ones, then the controls' values."""
        values = dict(self.fixed)
        values.update({name: control.value for name, control in self.controls.items()})
        return values

    @contextlib.contextmanager
    def hold(self):
        """Change several controls, then run the experiment once (if anything changed)."""
        if self._held:  # nested: the outer hold runs it
            yield
            return
        self._held, self._pending = True, False
        try:
            yield
        finally:
            self._held = False
        if self._pending:
            self.refresh()

    def set(self, **values):
        """Set controls by name and run the experiment once.

        Raises
        ------
        ValueError
            For a name that is not one of the panel's controls.
        """
        unknown = sorted(set(values) - set(self.controls))
        if unknown:
            raise ValueError(f"{unknown} are not controls of this panel; "
                             f"it has {sorted(self.controls)}.")
        with self.hold():
            for name, value in values.items():
                self.controls[name].value = value
        return self

    def _changed(self, _change):
        if self._held:
            self._pending = True
        else:
            self.refresh()

    def refresh(self):
        """Run the experiment with the current settings and show its result."""
        self.output.outputs = (_text_output("running ..."),)
        try:
            fig, text, result = self._view(**self.settings)
        except Exception as error:
            self.output.outputs = (_text_output(f"{type(error).__name__}: {error}"),)
            raise
        self.result = result
        self.runs += 1
        self.output.outputs = (_figure_output(fig), _text_output(text))
        return result


# ---------------------------------------------------------------------------
# The panels of notebooks 07 and 08
# ---------------------------------------------------------------------------


def _learning_rate_slider(value):
    return widgets.FloatLogSlider(value=value, base=10, min=-3, max=2, step=0.25,
                                  description="learning rate", continuous_update=False,
                                  readout_format=".3g", style=_STYLE, layout=_WIDE)


def _training_view(**settings):
    fig, axes = new_figure(ncols=2, width=4.2, height=3.1)
    with warnings.catch_warnings():
        # a diverged run warns; the panel prints the same message below the plot
        warnings.simplefilter("ignore", RuntimeWarning)
        summary = experiments.training_experiment(**settings, axes=axes)
    return fig, experiments.describe_training(summary), summary


TRAINING_DEFAULTS = {"learning_rate": 0.1, "weight_decay": 0.0, "epochs": 10,
                     "batch_size": 32, "train_size": None, "seed": 0}
BATCH_SIZES = (8, 16, 32, 64, 128)


def training_panel(sliders=("learning_rate", "weight_decay", "epochs", "batch_size"),
                   **defaults):
    """Sliders that retrain TinyNet on the digits and redraw its loss and accuracy curves.

    Calls :func:`tinynet.experiments.training_experiment` (8 and 16 filters)
    whenever a slider is released, and prints
    :func:`tinynet.experiments.describe_training` below the curves; a
    diverged run shows a message instead of curves.

    Parameters
    ----------
    sliders : sequence of str
        Which settings get a control, among ``learning_rate`` (log slider,
        1e-3 to 100), ``weight_decay`` (log slider with an on/off box, so it
        can be exactly 0), ``epochs`` (1 to 20) and ``batch_size``
        (8 to 128). The others stay fixed.
    **defaults
        Starting values of ``learning_rate``, ``weight_decay``, ``epochs``,
        ``batch_size``, ``train_size`` and ``seed``.

    Returns
    -------
    ExperimentPanel
    """
    settings = _settings(TRAINING_DEFAULTS, defaults)
    makers = {
        "learning_rate": lambda v: _learning_rate_slider(v),
        "weight_decay": lambda v: OptionalLogSlider(v, "weight decay", min=-5, max=-0.5,
                                                    off_value=1e-3),
        "epochs": lambda v: widgets.IntSlider(value=v, min=1, max=max(20, v),
                                              description="epochs",
                                              continuous_update=False, style=_STYLE),
        "batch_size": lambda v: widgets.SelectionSlider(
            options=sorted(set(BATCH_SIZES) | {v}), value=v, description="batch size",
            continuous_update=False, style=_STYLE),
    }
    controls = _controls(makers, sliders, settings)
    fixed = {k: v for k, v in settings.items() if k not in controls}
    rows = [[n for n in ("learning_rate", "weight_decay") if n in controls],
            [n for n in ("epochs", "batch_size") if n in controls]]
    return ExperimentPanel(_training_view, controls, fixed, [r for r in rows if r])


def _overfitting_view(**settings):
    fig, axes = new_figure(ncols=2, width=4.2, height=3.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # printed below the plot instead
        summary = experiments.overfitting_experiment(**settings, axes=axes)
    return fig, experiments.describe_training(summary), summary


OVERFITTING_DEFAULTS = {"weight_decay": 0.0, "train_size": 100, "epochs": 100,
                        "batch_size": 25, "learning_rate": 0.1, "seed": 0}


def overfitting_panel(sliders=("weight_decay",), **defaults):
    """A weight-decay slider for TinyNet trained long on a few digits.

    Calls :func:`tinynet.experiments.overfitting_experiment` and prints the
    final accuracies, their gap and the size of the weights.

    Parameters
    ----------
    sliders : sequence of str
        Among ``weight_decay`` and ``train_size`` (50 to 400).
    **defaults
        Starting values of the arguments of ``overfitting_experiment``.

    Returns
    -------
    ExperimentPanel
    """
    settings = _settings(OVERFITTING_DEFAULTS, defaults)
    makers = {
        "weight_decay": lambda v: OptionalLogSlider(v, "weight decay", min=-4, max=-0.5,
                                                    off_value=1e-2),
        "train_size": lambda v: widgets.IntSlider(value=v, min=50, max=max(400, v), step=50,
                                                  description="training images",
                                                  continuous_update=False, style=_STYLE),
    }
    controls = _controls(makers, sliders, settings)
    fixed = {k: v for k, v in settings.items() if k not in controls}
    return ExperimentPanel(_overfitting_view, controls, fixed, [list(controls)])


def _polynomial_view(**settings):
    fig, ax = new_figure(width=5.5, height=3.6)
    result = experiments.polynomial_experiment(**settings, ax=ax)
    return fig, experiments.describe_polynomial(result), result


POLYNOMIAL_DEFAULTS = {"degree": 2, "weight_decay": 0.0, "n_samples": 20, "noise": 0.1,
                       "seed": 0}


def polynomial_panel(sliders=("degree", "weight_decay"), **defaults):
    """Sliders for the degree and the weight decay of a polynomial fit to a parabola.

    Calls :func:`tinynet.experiments.polynomial_experiment` and prints the
    training and test errors and the largest coefficient.

    Parameters
    ----------
    sliders : sequence of str
        Among ``degree`` (0 to 15), ``weight_decay`` (log slider, 1e-8 to 1,
        with an on/off box) and ``n_samples`` (5 to 100).
    **defaults
        Starting values of the arguments of ``polynomial_experiment``.

    Returns
    -------
    ExperimentPanel
    """
    settings = _settings(POLYNOMIAL_DEFAULTS, defaults)
    makers = {
        "degree": lambda v: widgets.IntSlider(value=v, min=0, max=max(15, v),
                                              description="degree",
                                              continuous_update=False, style=_STYLE),
        "weight_decay": lambda v: OptionalLogSlider(v, "weight decay", min=-8, max=0,
                                                    step=0.5, off_value=1e-3),
        "n_samples": lambda v: widgets.IntSlider(value=v, min=5, max=max(100, v), step=5,
                                                 description="samples",
                                                 continuous_update=False, style=_STYLE),
    }
    controls = _controls(makers, sliders, settings)
    fixed = {k: v for k, v in settings.items() if k not in controls}
    return ExperimentPanel(_polynomial_view, controls, fixed, [list(controls)])


def _settings(known, given):
    unknown = sorted(set(given) - set(known))
    if unknown:
        raise TypeError(f"unexpected settings {unknown}; this panel takes {sorted(known)}.")
    return {**known, **given}


def _controls(makers, names, settings):
    unknown = sorted(set(names) - set(makers))
    if unknown:
        raise ValueError(f"no slider for {unknown}; choose among {sorted(makers)}.")
    return {name: makers[name](settings[name]) for name in names}
