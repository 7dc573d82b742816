"""Slider panels for the notebooks: thin ipywidgets glue around :mod:`tinynet.experiments`.

Each panel wires a few controls to one plain function of
:mod:`tinynet.experiments` and shows what it returns: the figure it draws,
and beside or below it the rounded numbers it reports. All the logic lives
in those functions (and in :mod:`tinynet.presets`), which the tests call
directly; a panel only

* collects its settings, a dict of keyword arguments (:attr:`ExperimentPanel.settings`),
* calls the experiment with them whenever a control is released,
* shows the figure and the printed summary, and keeps the result
  (:attr:`ExperimentPanel.result`).

Changing several controls at once with :meth:`ExperimentPanel.set` runs the
experiment only once; that is what the menus of teaching scenarios call. The
training panel (TinyNet, with an optional optimizer menu) and the network
panel (an MLP with a dropout-ratio slider and a batch-norm switch, calling
:func:`tinynet.experiments.network_experiment`) also print their settings as
one line of Python that repeats the run exactly.

Every panel carries the same small style sheet (:data:`PANEL_CSS`): text
breaks only between words, the numbers stand beside a figure that shrinks to
the screen, and a panel fits a 1280x720 or 1024x768 projector
(tests/browser measure it in Voila and JupyterLab).

::

    from tinynet.widgets import training_panel
    panel = training_panel(learning_rate=0.1, epochs=10)
    panel                                   # shows the panel in a notebook
    panel.set(learning_rate=1.0, weight_decay=0)   # retrains once
    panel.result                            # the summary dict of the last run
    panel.python_line                       # the same run as one line of Python
    network_panel(dropout=0.5, batchnorm=True)     # the MLP, same conventions
"""

import base64
import contextlib
import html
import inspect
import io
import warnings

import ipywidgets as widgets
import traitlets

from . import experiments, presets
from .optim import OPTIMIZERS
from .plotting import new_figure

__all__ = [
    "OptionalLogSlider",
    "ChoiceSlider",
    "ExperimentPanel",
    "training_panel",
    "overfitting_panel",
    "polynomial_panel",
    "network_panel",
]

_STYLE = {"description_width": "initial"}

# Readouts: one format per quantity in every panel. d3-format ".3" is three
# significant digits with trailing zeros trimmed (0.1, 0.178, 0.00178), the
# values tidy_settings trains with.
RATE_FORMAT = ".3"

# The look of every panel, scoped to its own class. JupyterLab and Voila
# render printed text with `word-break: break-all`, which split "0.6" / "479"
# and "batch_siz" / "e" across lines; here text breaks only between words
# (a long message wraps at spaces), labels and readouts never wrap, and the
# figure shrinks to the room it has (it is drawn for 1280-pixel screens and
# scaled down on 1024-pixel projectors) so that the numbers stay beside it
# and the whole panel fits one screen. (The output area's table layout would
# make the numbers' column a million pixels wide inside a flex row; as
# blocks they take the width of their longest line.)
PANEL_CSS = """<style>
.tinynet-panel .tinynet-numbers pre {
  white-space: pre-wrap !important; word-break: normal !important;
  overflow-wrap: normal !important; font-size: 14px !important;
  line-height: 1.5 !important; margin: 0 !important; }
.tinynet-panel .tinynet-numbers .jp-OutputArea-child,
.tinynet-panel .tinynet-numbers .jp-OutputArea-output {
  display: block !important; width: auto !important; }
.tinynet-panel .tinynet-code pre {
  white-space: pre-wrap !important; word-break: normal !important;
  overflow-wrap: normal !important; line-height: 1.4 !important; }
.tinynet-panel .tinynet-lesson, .tinynet-panel .tinynet-code {
  word-break: normal; overflow-wrap: normal; }
.tinynet-panel .tinynet-lesson .widget-html-content { line-height: 1.4; }
.tinynet-panel .tinynet-plot img { max-width: 100% !important; height: auto !important; }
.tinynet-panel .widget-label, .tinynet-panel .widget-readout,
.tinynet-panel .widget-dropdown > select, .tinynet-panel .widget-checkbox label {
  white-space: nowrap !important; word-break: normal !important; }
</style>"""


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
    readout_format : str
        How the readout shows the value (d3-format), by default three
        significant digits as every panel shows rates: 0.1, 0.00178.
    """

    value = traitlets.Float(0.0)

    def __init__(self, value=0.0, description="", min=-5.0, max=-1.0, step=0.25,
                 off_value=None, readout_format=RATE_FORMAT):
        on = value > 0
        self.switch = widgets.Checkbox(value=on, description=description, indent=False,
                                       layout=widgets.Layout(width="auto"))
        self.slider = widgets.FloatLogSlider(
            value=value if on else (off_value or 10 ** ((min + max) / 2)),
            base=10, min=min, max=max, step=step, continuous_update=False,
            disabled=not on, readout_format=readout_format,
            layout=widgets.Layout(width="300px"))
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


class ChoiceSlider(widgets.HBox):
    """A slider over labelled choices whose values may be anything, None included.

    ipywidgets' ``SelectionSlider`` cannot hold None, yet "all the training
    images" is ``train_size=None``. This shows the labels and keeps the
    matching value in ``value``.

    Parameters
    ----------
    choices : sequence of (str, object)
        Label and value of each position, left to right.
    value : object
        One of the values.
    description : str
    """

    value = traitlets.Any()

    def __init__(self, choices, value, description=""):
        self.choices = list(choices)
        self.slider = widgets.SelectionSlider(
            options=[label for label, _ in self.choices], value=self._label(value),
            description=description, continuous_update=False, style=_STYLE)
        super().__init__([self.slider])
        self.value = value
        self.slider.observe(self._from_slider, "value")
        self.observe(self._to_slider, "value")

    def _label(self, value):
        for label, choice in self.choices:
            if choice == value and type(choice) is type(value):
                return label
        raise traitlets.TraitError(
            f"{value!r} is not one of the choices {[c for _, c in self.choices]}.")

    def _from_slider(self, change):
        self.value = dict(self.choices)[change["new"]]

    def _to_slider(self, change):
        self.slider.value = self._label(change["new"])


_DPI = 96  # one figure inch is 96 CSS pixels


def _figure_output(fig):
    """A Jupyter display_data message holding the figure as PNG (deterministic bytes)."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=_DPI, metadata={"Software": None})
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(buffer.getvalue()).decode("ascii"),
                     "text/plain": repr(fig)}}


def _text_output(text):
    return {"output_type": "stream", "name": "stdout", "text": text + "\n"}


class ExperimentPanel(widgets.VBox):
    """Controls wired to one experiment, and two Output areas showing its result.

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
    tidy : callable, optional
        ``tidy(settings)`` returns the settings to run with (for instance
        rounded to what the readouts show); default: as they are.
    beside : bool
        Print the numbers beside the figure instead of below it.

    Attributes
    ----------
    controls : dict of str to widget
    output : ipywidgets.Output
        Holds the figure.
    numbers : ipywidgets.Output
        Holds the printed summary (or "training ...", or an error).
    result : object
        What the experiment returned on the last run.
    runs : int
        How many times the experiment has run.
    on_run : list of callable
        Each is called with the panel after every successful run.
    """

    def __init__(self, view, controls, fixed=None, rows=None, tidy=None, beside=False):
        self._view = view
        self._tidy = tidy or dict
        self.controls = dict(controls)
        self.fixed = dict(fixed or {})
        self.output = widgets.Output()
        self.numbers = widgets.Output()
        self.output.add_class("tinynet-plot")
        self.numbers.add_class("tinynet-numbers")
        self.result = None
        self.runs = 0
        self.on_run = []
        self._held = False
        self._pending = False
        rows = rows or [[name] for name in self.controls]
        # a row of controls wraps between controls (never inside one) when narrow
        boxes = [widgets.HBox([self.controls[name] for name in row],
                              layout=widgets.Layout(flex_flow="row wrap",
                                                    align_items="center"))
                 for row in rows]
        if beside:
            # The figure takes the room the numbers leave, down to 420 px;
            # only on a narrower screen do the numbers go below it.
            self.output.layout = widgets.Layout(flex="1 1 420px", min_width="0")
            # as wide as its longest line, up to 460 px (51 characters); a
            # longer message (a diverged run) wraps between words
            self.numbers.layout = widgets.Layout(flex="0 1 auto", max_width="460px",
                                                 margin="16px 0 0 12px")
            results = [widgets.HBox([self.output, self.numbers],
                                    layout=widgets.Layout(flex_flow="row wrap",
                                                          align_items="flex-start",
                                                          width="100%"))]
        else:
            results = [self.output, self.numbers]
        self.css = widgets.HTML(PANEL_CSS, layout=widgets.Layout(display="none"))
        super().__init__(boxes + results + [self.css])
        self.add_class("tinynet-panel")
        for control in self.controls.values():
            control.observe(self._changed, "value")
        self.refresh()

    @property
    def settings(self):
        """The keyword arguments of the next run: fixed ones, then the controls' values."""
        values = dict(self.fixed)
        values.update({name: control.value for name, control in self.controls.items()})
        return self._tidy(values)

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
        """Set controls (or fixed settings) by name and run the experiment once.

        Raises
        ------
        ValueError
            For a name that is neither a control nor a fixed setting of the panel.
        """
        unknown = sorted(set(values) - set(self.controls) - set(self.fixed))
        if unknown:
            raise ValueError(f"{unknown} are not controls of this panel; "
                             f"it has {sorted(self.controls)} "
                             f"(and the fixed settings {sorted(self.fixed)}).")
        with self.hold():
            for name, value in values.items():
                if name in self.controls:
                    self.controls[name].value = value
                elif self.fixed[name] != value:
                    self.fixed[name] = value
                    self._pending = True
        return self

    def _changed(self, _change):
        if self._held:
            self._pending = True
        else:
            self.refresh()

    def refresh(self):
        """Run the experiment with the current settings and show its result."""
        self.numbers.outputs = (_text_output("training ..."),)
        try:
            fig, text, result = self._view(**self.settings)
        except Exception as error:
            self.output.outputs = ()
            self.numbers.outputs = (_text_output(f"{type(error).__name__}: {error}"),)
            raise
        self.result = result
        self.runs += 1
        self.output.outputs = (_figure_output(fig),)
        # never wider than the figure itself, so the numbers stand right beside it
        self.output.layout.max_width = f"{round(fig.get_figwidth() * _DPI)}px"
        self.numbers.outputs = (_text_output(text),)
        for callback in self.on_run:
            callback(self)
        return result

    def __repr__(self):
        # Deterministic (no widget ids, no image bytes): this is the text a
        # notebook stores next to the widget view, and nbval compares it.
        settings = ", ".join(f"{name}={value!r}" for name, value in self.settings.items())
        text = "".join(o.get("text", "") for o in self.numbers.outputs)
        return f"{type(self).__name__}({settings})\n{text}".rstrip("\n")


# ---------------------------------------------------------------------------
# Controls shared by the panels: one look and one readout format per quantity
# ---------------------------------------------------------------------------

# widths that keep a row of three controls inside a 1024-pixel screen
_SLIDER_WIDTH = "330px"
_SHORT_WIDTH = "300px"


def _learning_rate_slider(value, min=-3, max=2):
    return widgets.FloatLogSlider(value=value, base=10, min=min, max=max, step=0.25,
                                  description="learning rate", continuous_update=False,
                                  readout_format=RATE_FORMAT, style=_STYLE,
                                  layout=widgets.Layout(width=_SLIDER_WIDTH))


def _weight_decay_slider(value, min=-5, max=-0.5, step=0.25, off_value=1e-3):
    control = OptionalLogSlider(value, "weight decay", min=min, max=max, step=step,
                                off_value=off_value, readout_format=RATE_FORMAT)
    control.slider.layout.width = "240px"
    return control


def _int_slider(value, description, min, max, step=1, width=_SHORT_WIDTH):
    return widgets.IntSlider(value=value, min=min, max=max, step=step,
                             description=description, continuous_update=False,
                             style=_STYLE, layout=widgets.Layout(width=width))


def _batch_size_slider(value):
    return widgets.SelectionSlider(options=sorted(set(BATCH_SIZES) | {value}), value=value,
                                   description="batch size", continuous_update=False,
                                   style=_STYLE, layout=widgets.Layout(width=_SHORT_WIDTH))


def _train_size_slider(value):
    choices = [("all" if n is None else str(n), n) for n in TRAIN_SIZES]
    if value not in TRAIN_SIZES:
        choices.append((str(value), value))
    control = ChoiceSlider(choices, value, description="training images")
    control.slider.layout.width = _SHORT_WIDTH
    return control


def _optimizer_menu(value):
    return widgets.Dropdown(options=list(OPTIMIZERS), value=value, description="optimizer",
                            style=_STYLE, layout=widgets.Layout(width="190px"))


def _mark(controls):
    for name, control in controls.items():
        control.add_class("tinynet-" + name.replace("_", "-"))  # for browser tests
    return controls


def _code_box(panel, line):
    """Show ``line`` (the run as Python) in the panel's code box, selectable in one click."""
    panel.python_line = line
    panel.code.value = (
        '<div style="font-size: 12px; color: #555">the same run in Python '
        "(click the line to select it, then copy):</div>"
        '<pre style="user-select: all; margin: 2px 0; padding: 4px 6px; '
        'background: #f4f4f4; font-size: 12px">'
        f"{html.escape(line)}</pre>")


def _with_scenarios(panel, catalogue, complete, matching):
    """Give ``panel`` a menu of scenarios, the lesson of the chosen one, and a code box.

    ``catalogue`` maps names to presets with a ``lesson``; ``complete(name)``
    gives a scenario's full settings and ``matching(settings)`` the name of
    the scenario the settings are, or None. The menu follows the sliders.
    """
    panel.code = widgets.HTML()
    panel.code.add_class("tinynet-code")
    panel.lesson = widgets.HTML(layout=widgets.Layout(width="auto", max_width="980px"))
    panel.lesson.add_class("tinynet-lesson")
    panel.scenario = widgets.Dropdown(options=[_NO_PRESET] + list(catalogue),
                                      value=_NO_PRESET, description="scenario", style=_STYLE,
                                      layout=widgets.Layout(width="420px"))
    panel.scenario.add_class("tinynet-scenario")
    syncing = []

    def show_scenario(panel):
        name = matching(panel.settings)
        syncing.append(True)
        try:
            panel.scenario.value = name or _NO_PRESET
        finally:
            syncing.pop()
        panel.lesson.value = (f"<b>{html.escape(name)}</b>: "
                              f"{html.escape(catalogue[name].lesson)}" if name else "")

    def choose(change):
        if syncing or change["new"] == _NO_PRESET:
            return
        chosen = complete(change["new"])
        panel.set(**{name: chosen[name] for name in panel.settings})

    panel.scenario.observe(choose, "value")
    panel.on_run.append(show_scenario)
    show_scenario(panel)


# ---------------------------------------------------------------------------
# The panels of notebooks 07 and 08, and the instructor's training panel
# ---------------------------------------------------------------------------

# Two panels of curves, 806 x 298 pixels: beside the numbers on a 1280-pixel
# screen; the browser scales the image down on a narrower one.
_CURVES = {"ncols": 2, "width": 4.2, "height": 3.1}


def _title_over_both(fig, axes):
    """Move the left panel's title (the run's settings) over both panels, wrapped if long.

    Centred over the left panel, a long title ("learning rate 0.01, weight
    decay 0, MLP 100-100, dropout 0.1, batch norm, momentum") ran off the
    figure's left edge.
    """
    title = axes[0].get_title()
    if title:
        axes[0].set_title("")
        fig.suptitle(title, wrap=True)
    return fig


def _training_view(**settings):
    fig, axes = new_figure(**_CURVES)
    with warnings.catch_warnings():
        # a diverged run warns; the panel prints the same message beside the plot
        warnings.simplefilter("ignore", RuntimeWarning)
        summary = experiments.training_experiment(**settings, axes=axes)
    return _title_over_both(fig, axes), experiments.describe_training(summary), summary


def _experiment_defaults(function, known=None):
    """The keyword arguments ``function`` takes and their defaults, axes and extras left out.

    ``known`` (a catalogue's defaults) comes first, in its order; arguments
    of ``function`` it lacks follow in the signature's order.
    """
    skip = {"axes", "ax", "average_last"}
    found = {name: p.default for name, p in inspect.signature(function).parameters.items()
             if name not in skip and p.default is not inspect.Parameter.empty}
    return {**(known or {}), **{k: v for k, v in found.items() if k not in (known or {})}}


def _python_line(function_name, settings):
    """One line of Python calling ``tinynet.experiments.<function_name>`` with ``settings``.

    ``repr`` writes each float so that it reads back bit for bit: the line
    repeats the run exactly.
    """
    arguments = ", ".join(f"{name}={value!r}" for name, value in settings.items())
    return (f"from tinynet.experiments import {function_name}; "
            f"{function_name}({arguments})")


# The arguments of training_experiment: the scenarios' ones, then any newer
# (the optimizer, where tinynet.presets does not know it yet).
TRAINING_DEFAULTS = _experiment_defaults(experiments.training_experiment,
                                         presets.TRAINING_DEFAULTS)


def _training_line(settings):
    if set(settings) <= set(presets.TRAINING_DEFAULTS):
        return presets.python_line(settings)
    return _python_line("training_experiment", settings)


def _training_scenario(name):
    return {**TRAINING_DEFAULTS, **presets.preset_settings(name)}


def _matching_training_scenario(settings):
    # settings the scenarios do not name must keep their defaults
    if any(settings[k] != TRAINING_DEFAULTS[k] for k in settings
           if k not in presets.TRAINING_DEFAULTS):
        return None
    return presets.matching_preset({k: settings[k] for k in presets.TRAINING_DEFAULTS})


BATCH_SIZES = (8, 16, 25, 32, 64, 128)
TRAIN_SIZES = (50, 100, 200, 400, None)  # None: all 1,079 training images
TRAINING_SLIDERS = ("learning_rate", "weight_decay", "epochs", "batch_size", "train_size")
# the instructor's panel: the same with the menu of optimizers
INSTRUCTOR_SLIDERS = ("optimizer",) + TRAINING_SLIDERS
_NO_PRESET = "(your own settings)"


def training_panel(sliders=TRAINING_SLIDERS, preset=None, scenarios=True, **defaults):
    """Sliders that retrain TinyNet on the digits and redraw its loss and accuracy curves.

    The instructor's panel. It calls
    :func:`tinynet.experiments.training_experiment` (8 and 16 filters)
    whenever a control is released, and shows

    * the loss and accuracy curves, and beside them the final figures of
      :func:`tinynet.experiments.describe_training`; a diverged run shows a
      message ("learning rate too high?") instead of curves;
    * a menu of teaching scenarios (:data:`tinynet.presets.TRAINING_PRESETS`):
      choosing one moves the sliders and retrains once, and its lesson is
      shown; moving a slider away from it shows "(your own settings)";
    * the settings as one line of Python (:func:`tinynet.presets.python_line`)
      that repeats the run exactly; one click selects it for copying;
    * a menu of optimizers (:data:`tinynet.optim.OPTIMIZERS`; each is built
      with the slider's learning rate and weight decay, and each needs its
      own rate: in the default 10 epochs Adam at 0.001 stays below SGD at
      0.1, 0.907 against 0.947 validation accuracy over seeds 0-9, and
      reaches 0.973 at 0.01 or 0.02; notebook 09 tunes a rate for each).

    Learning rate and weight decay are rounded to the three significant
    digits their readouts show (:func:`tinynet.presets.tidy_settings`)
    before each run.

    Parameters
    ----------
    sliders : sequence of str
        Which settings get a control, among ``optimizer`` (a menu of
        :data:`tinynet.optim.OPTIMIZERS`), ``learning_rate`` (log slider,
        1e-3 to 100), ``weight_decay`` (log slider with an on/off box, so it
        can be exactly 0), ``epochs`` (1 to 100), ``batch_size`` (8 to 128)
        and ``train_size`` (50 images to all). The others stay fixed (a
        scenario can still change them).
    preset : str, optional
        Start from this scenario's settings (``**defaults`` override them).
    scenarios : bool
        Show the menu of scenarios.
    **defaults
        Starting values of the arguments of ``training_experiment``
        (:data:`tinynet.presets.TRAINING_DEFAULTS`).

    Returns
    -------
    ExperimentPanel
        With the extra attributes ``scenario`` (the menu), ``lesson`` and
        ``code`` (HTML widgets) and ``python_line`` (the line of the last run).
    """
    # A setting the scenarios do not know (the optimizer) is part of the run
    # only when the panel shows it or is given it, so that panels without it
    # print the same settings and line as before.
    known = {k: v for k, v in TRAINING_DEFAULTS.items()
             if k in presets.TRAINING_DEFAULTS or k in sliders or k in defaults}
    start = _training_scenario(preset) if preset is not None else TRAINING_DEFAULTS
    _settings(known, defaults)  # an unknown name raises
    given = {**start, **defaults}
    settings = {name: given[name] for name in known}

    def tidy(values):
        # the order of training_experiment's signature; readout precision
        return presets.tidy_settings({name: values[name] for name in known})

    makers = {
        "optimizer": _optimizer_menu,
        "learning_rate": _learning_rate_slider,
        "weight_decay": _weight_decay_slider,
        "epochs": lambda v: _int_slider(v, "epochs", 1, max(100, v)),
        "batch_size": _batch_size_slider,
        "train_size": _train_size_slider,
    }
    controls = _mark(_controls(makers, sliders, settings))
    fixed = {k: v for k, v in settings.items() if k not in controls}
    rows = [[n for n in ("optimizer", "learning_rate", "weight_decay") if n in controls],
            [n for n in ("epochs", "batch_size", "train_size") if n in controls]]
    panel = ExperimentPanel(_training_view, controls, fixed, [r for r in rows if r],
                            tidy=tidy, beside=True)
    panel.add_class("tinynet-training-panel")
    _with_scenarios(panel, presets.TRAINING_PRESETS, _training_scenario,
                    _matching_training_scenario)
    panel.on_run.append(lambda panel: _code_box(panel, _training_line(panel.settings)))
    _code_box(panel, _training_line(panel.settings))
    header = [widgets.VBox([panel.scenario, panel.lesson])] if scenarios else []
    panel.children = tuple(header) + panel.children + (panel.code,)
    return panel


# ---------------------------------------------------------------------------
# The network panel: an MLP with dropout and batch normalisation
# ---------------------------------------------------------------------------


def _network_view(**settings):
    fig, axes = new_figure(**_CURVES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # printed beside the plot instead
        summary = experiments.network_experiment(**settings, axes=axes)
    return _title_over_both(fig, axes), experiments.describe_training(summary), summary


def _network_presets():
    """REG's scenarios for this panel (:data:`tinynet.presets.NETWORK_PRESETS`), if any."""
    return getattr(presets, "NETWORK_PRESETS", {})


# The arguments of network_experiment, in its order.
NETWORK_DEFAULTS = _experiment_defaults(experiments.network_experiment,
                                        getattr(presets, "NETWORK_DEFAULTS", None))
NETWORK_SLIDERS = ("optimizer", "learning_rate", "weight_decay", "dropout", "batchnorm",
                   "epochs", "train_size")


def _tidy_network(settings):
    tidy = presets.tidy_settings({name: settings[name] for name in NETWORK_DEFAULTS})
    tidy["dropout"] = round(float(tidy["dropout"]), 2)  # a slider's 0.30000000000000004
    return tidy


def _network_scenario(name):
    return _tidy_network({**NETWORK_DEFAULTS, **_network_presets()[name].settings})


def _matching_network_scenario(settings):
    tidy = _tidy_network({**NETWORK_DEFAULTS, **settings})
    for name in _network_presets():
        if _network_scenario(name) == tidy:
            return name
    return None


def network_panel(sliders=NETWORK_SLIDERS, preset=None, scenarios=True, **defaults):
    """Retrain an MLP on the flattened digits with dropout and batch normalisation.

    Calls :func:`tinynet.experiments.network_experiment` (an MLP built by
    :func:`tinynet.network.build_mlp`, two hidden layers of 100 by default)
    whenever a control is released, and shows the loss and accuracy curves
    with the final figures of :func:`tinynet.experiments.describe_training`
    beside them, the run as one line of Python, and, when
    :data:`tinynet.presets.NETWORK_PRESETS` exists, a menu of its scenarios.

    Parameters
    ----------
    sliders : sequence of str
        Among ``optimizer`` (menu), ``learning_rate``, ``weight_decay``,
        ``dropout`` (ratio 0 to 0.8 in steps of 0.1), ``batchnorm``
        (switch), ``epochs`` (1 to 100), ``batch_size`` and ``train_size``
        (50 images to all). The others stay fixed.
    preset : str, optional
        Start from this scenario's settings (``**defaults`` override them).
    scenarios : bool
        Show the menu of scenarios (if there are any).
    **defaults
        Starting values of the arguments of ``network_experiment``.

    Returns
    -------
    ExperimentPanel
        With the extra attributes ``scenario``, ``lesson``, ``code`` and
        ``python_line`` as the training panel has.
    """
    catalogue = _network_presets()
    if preset is not None and preset not in catalogue:
        raise ValueError(f"no network preset named {preset!r}; choose among {list(catalogue)}.")
    start = _network_scenario(preset) if preset is not None else NETWORK_DEFAULTS
    _settings(NETWORK_DEFAULTS, defaults)  # an unknown name raises
    settings = {**start, **defaults}
    makers = {
        "optimizer": _optimizer_menu,
        "learning_rate": _learning_rate_slider,
        "weight_decay": _weight_decay_slider,
        "dropout": lambda v: widgets.FloatSlider(
            value=v, min=0.0, max=0.8, step=0.1, description="dropout ratio",
            readout_format=".1f", continuous_update=False, style=_STYLE,
            layout=widgets.Layout(width="260px")),
        "batchnorm": lambda v: widgets.Checkbox(value=bool(v), description="batch norm",
                                                indent=False,
                                                layout=widgets.Layout(width="110px")),
        "epochs": lambda v: _int_slider(v, "epochs", 1, max(100, v), width="260px"),
        "batch_size": _batch_size_slider,
        "train_size": _train_size_slider,
    }
    controls = _mark(_controls(makers, sliders, settings))
    fixed = {k: v for k, v in settings.items() if k not in controls}
    rows = [[n for n in ("optimizer", "learning_rate", "weight_decay") if n in controls],
            [n for n in ("dropout", "batchnorm", "epochs", "batch_size", "train_size")
             if n in controls]]
    panel = ExperimentPanel(_network_view, controls, fixed, [r for r in rows if r],
                            tidy=_tidy_network, beside=True)
    panel.add_class("tinynet-network-panel")
    _with_scenarios(panel, catalogue, _network_scenario, _matching_network_scenario)

    def show_line(panel):
        _code_box(panel, _python_line("network_experiment", panel.settings))

    panel.on_run.append(show_line)
    show_line(panel)
    header = [widgets.VBox([panel.scenario, panel.lesson])] if scenarios and catalogue else []
    panel.children = tuple(header) + panel.children + (panel.code,)
    return panel


def _overfitting_view(**settings):
    fig, axes = new_figure(**_CURVES)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # printed below the plot instead
        summary = experiments.overfitting_experiment(**settings, axes=axes)
    return _title_over_both(fig, axes), experiments.describe_training(summary), summary


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
        "weight_decay": lambda v: _weight_decay_slider(v, min=-4, max=-0.5, off_value=1e-2),
        "train_size": lambda v: _int_slider(v, "training images", 50, max(400, v), step=50),
    }
    controls = _mark(_controls(makers, sliders, settings))
    fixed = {k: v for k, v in settings.items() if k not in controls}
    # weight decay rounded to its readout's 3 digits, as in the training panel
    return ExperimentPanel(_overfitting_view, controls, fixed, [list(controls)],
                           tidy=presets.tidy_settings, beside=True)


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
        "degree": lambda v: _int_slider(v, "degree", 0, max(15, v)),
        "weight_decay": lambda v: _weight_decay_slider(v, min=-8, max=0, step=0.5,
                                                       off_value=1e-3),
        "n_samples": lambda v: _int_slider(v, "samples", 5, max(100, v), step=5),
    }
    controls = _mark(_controls(makers, sliders, settings))
    fixed = {k: v for k, v in settings.items() if k not in controls}
    return ExperimentPanel(_polynomial_view, controls, fixed, [list(controls)],
                           tidy=presets.tidy_settings, beside=True)


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
