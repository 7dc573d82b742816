"""Tests for tinynet.widgets: panels build without a display and rerun their experiment."""

import ast
import base64
import html
import warnings
from pathlib import Path

import ipywidgets as widgets
import pytest

from tinynet import experiments, presets
from tinynet import widgets as widgets_module
from tinynet.optim import OPTIMIZERS
from tinynet.widgets import (
    INSTRUCTOR_SLIDERS,
    NETWORK_DEFAULTS,
    RATE_FORMAT,
    ChoiceSlider,
    ExperimentPanel,
    OptionalLogSlider,
    network_panel,
    overfitting_panel,
    polynomial_panel,
    training_panel,
)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
INSTRUCTOR = Path(__file__).resolve().parents[1] / "notebooks" / "instructor"


def printed(panel):
    """The text the panel printed beside or below its figure."""
    return "".join(o["text"] for o in panel.numbers.outputs if o["output_type"] == "stream")


def run_python_line(line):
    """Execute a line of Python the way a notebook cell does: the last expression's value."""
    tree = ast.parse(line)
    *statements, last = tree.body
    namespace = {}
    exec(compile(ast.Module(statements, type_ignores=[]), "<line>", "exec"), namespace)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # a diverged run warns
        return eval(compile(ast.Expression(last.value), "<line>", "eval"), namespace)


def shown_png(panel):
    (figure,) = [o for o in panel.output.outputs if o["output_type"] == "display_data"]
    return base64.b64decode(figure["data"]["image/png"])


# -- the weight-decay control that can be exactly 0 ------------------------------

def test_optional_log_slider_off_is_exactly_zero_and_on_restores_the_slider():
    control = OptionalLogSlider(0.0, "weight decay", min=-5, max=-1, off_value=1e-3)
    assert control.value == 0.0
    assert not control.switch.value and control.slider.disabled
    control.switch.value = True
    assert control.value == pytest.approx(1e-3)
    assert not control.slider.disabled
    control.slider.value = 1e-2
    assert control.value == pytest.approx(1e-2)
    control.switch.value = False
    assert control.value == 0.0


def test_optional_log_slider_value_drives_the_parts():
    control = OptionalLogSlider(1e-3, min=-5, max=-1)
    seen = []
    control.observe(lambda change: seen.append(change["new"]), "value")
    control.value = 0.0
    assert not control.switch.value
    control.value = 1e-2
    assert control.switch.value and control.slider.value == pytest.approx(1e-2)
    control.value = 5.0  # beyond the slider: clipped to its maximum 10**-1
    assert control.value == pytest.approx(0.1)
    assert seen[:2] == [0.0, pytest.approx(1e-2)]  # no spurious intermediate values


# -- the training panel -------------------------------------------------------

def test_training_panel_builds_and_runs_once_with_its_defaults():
    panel = training_panel(learning_rate=0.1, epochs=2, batch_size=64)
    assert isinstance(panel, widgets.VBox)
    assert set(panel.controls) == {"learning_rate", "weight_decay", "epochs", "batch_size",
                                   "train_size"}
    assert panel.runs == 1
    assert panel.settings == {"learning_rate": 0.1, "weight_decay": 0.0, "epochs": 2,
                              "batch_size": 64, "train_size": None, "seed": 0}
    assert list(panel.settings) == list(presets.TRAINING_DEFAULTS)  # the signature's order
    expected = experiments.training_experiment(learning_rate=0.1, epochs=2, batch_size=64)
    assert panel.result == expected
    assert printed(panel) == experiments.describe_training(expected) + "\n"
    assert shown_png(panel).startswith(PNG_MAGIC)


def test_training_panel_retrains_when_a_slider_changes():
    panel = training_panel(epochs=1, batch_size=128)
    panel.controls["learning_rate"].value = 0.01
    assert panel.runs == 2
    assert panel.settings["learning_rate"] == pytest.approx(0.01)
    expected = experiments.training_experiment(learning_rate=panel.settings["learning_rate"],
                                               epochs=1, batch_size=128)
    assert panel.result == expected
    assert f"accuracy {expected['val_accuracy']:.3f}" in printed(panel)


def test_training_panel_weight_decay_on_and_off():
    panel = training_panel(epochs=1, batch_size=128, weight_decay=1e-2)
    assert panel.result["penalty"] > 0
    assert "weight-decay penalty" in printed(panel)
    panel.controls["weight_decay"].switch.value = False
    assert panel.settings["weight_decay"] == 0.0
    assert panel.result["penalty"] == 0
    assert "penalty" not in printed(panel)


def test_training_panel_set_changes_several_controls_and_retrains_once():
    panel = training_panel(epochs=1, batch_size=128)
    panel.set(learning_rate=0.3, epochs=2, batch_size=64)
    assert panel.runs == 2
    assert panel.settings["epochs"] == 2 and panel.settings["batch_size"] == 64
    assert panel.result == experiments.training_experiment(
        learning_rate=panel.settings["learning_rate"], epochs=2, batch_size=64)
    with pytest.raises(ValueError, match="not controls of this panel"):
        panel.set(momentum=0.9)
    panel.set(seed=1)  # a fixed setting: no control, but a scenario may change it
    assert panel.runs == 3 and panel.settings["seed"] == 1


def test_training_panel_shows_a_message_when_training_diverges():
    panel = training_panel(epochs=1, batch_size=128)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no warning escapes: the panel prints it instead
        panel.set(learning_rate=50.0)
    assert panel.result["diverged"]
    text = printed(panel)
    assert text.startswith("Diverged: learning rate too high?")
    assert "try a smaller one" in text
    assert shown_png(panel).startswith(PNG_MAGIC)


def test_training_panel_fixed_settings_and_chosen_sliders():
    panel = training_panel(sliders=("weight_decay",), epochs=1, batch_size=128, train_size=50)
    assert list(panel.controls) == ["weight_decay"]
    assert panel.settings["train_size"] == 50 and panel.settings["epochs"] == 1
    with pytest.raises(ValueError, match="no slider for"):
        training_panel(sliders=("momentum",))
    with pytest.raises(TypeError, match="unexpected settings"):
        training_panel(momentum=0.9)


# -- the instructor's features: scenarios, the line of Python, numbers beside --

def test_training_panel_python_line_reproduces_the_panel_exactly():
    panel = training_panel(epochs=2, batch_size=64)
    panel.controls["learning_rate"].value = 10 ** -0.75  # one step right of 0.1 on the slider
    panel.controls["weight_decay"].value = 10 ** -2.75
    assert panel.settings["learning_rate"] == 0.178  # rounded as the readout shows it
    assert panel.settings["weight_decay"] == 0.00178
    line = panel.python_line
    assert line == presets.python_line(panel.settings)
    assert "learning_rate=0.178, weight_decay=0.00178, epochs=2, batch_size=64" in line
    assert line in panel.code.value  # shown as is (nothing in it needs escaping)
    result = run_python_line(line)
    assert result == panel.result
    assert printed(panel) == experiments.describe_training(result) + "\n"


def test_training_panel_python_line_of_a_diverged_run():
    panel = training_panel(epochs=1, learning_rate=50.0)
    assert panel.result["diverged"]
    assert run_python_line(panel.python_line) == panel.result


def test_training_panel_scenario_menu_moves_the_sliders_and_retrains_once():
    panel = training_panel(epochs=2)
    assert panel.scenario.value == "(your own settings)"  # 2 epochs is no scenario
    assert panel.lesson.value == ""
    # the scenario that adds weight decay to "overfitting a small subset" (its
    # name is REG's to choose)
    (decayed,) = [name for name, preset in presets.TRAINING_PRESETS.items()
                  if preset.settings.get("weight_decay")]
    panel.scenario.value = decayed
    assert panel.runs == 2
    expected = presets.preset_settings(decayed)
    assert panel.settings == expected
    assert panel.controls["train_size"].slider.value == "100"
    assert panel.controls["weight_decay"].switch.value
    assert panel.controls["epochs"].value == 100
    assert panel.result == experiments.training_experiment(**expected)
    assert html.escape(decayed) in panel.lesson.value
    panel.controls["weight_decay"].value = 0.0  # now it is the overfitting scenario
    assert panel.scenario.value == "overfitting a small subset" and panel.runs == 3
    panel.controls["epochs"].value = 99
    assert panel.scenario.value == "(your own settings)" and panel.runs == 4
    panel.scenario.value = "(your own settings)"  # choosing the placeholder does nothing
    assert panel.runs == 4


def test_training_panel_starts_from_a_preset_and_can_hide_the_menu():
    panel = training_panel(preset="learning rate too large", epochs=1)
    assert panel.settings["learning_rate"] == 3.0 and panel.settings["epochs"] == 1
    bare = training_panel(scenarios=False, epochs=1)
    assert bare.scenario not in bare.children
    with pytest.raises(ValueError, match="no training preset named 'fast'"):
        training_panel(preset="fast")


def test_training_panel_prints_its_numbers_beside_the_plot():
    panel = training_panel(epochs=1, batch_size=128)
    (row,) = [c for c in panel.children if panel.output in getattr(c, "children", ())]
    assert isinstance(row, widgets.HBox) and row.children == (panel.output, panel.numbers)
    assert "tinynet-training-panel" in panel._dom_classes
    assert repr(panel).startswith("ExperimentPanel(learning_rate=0.1, weight_decay=0.0, "
                                  "epochs=1, batch_size=128, train_size=None, seed=0)\n"
                                  "train      loss")


def test_choice_slider_holds_none_and_rejects_unknown_values():
    control = ChoiceSlider([("50", 50), ("all", None)], None, description="training images")
    assert control.value is None and control.slider.value == "all"
    control.slider.value = "50"
    assert control.value == 50
    control.value = None
    assert control.slider.value == "all"
    with pytest.raises(Exception, match="not one of the choices"):
        control.value = 60


# -- the other panels -----------------------------------------------------------

def test_polynomial_panel_degree_and_weight_decay():
    panel = polynomial_panel()
    assert panel.settings == {"degree": 2, "weight_decay": 0.0, "n_samples": 20,
                              "noise": 0.1, "seed": 0}
    panel.controls["degree"].value = 15
    free = experiments.polynomial_experiment(degree=15)
    assert panel.result["test_mse"] == free["test_mse"]
    assert printed(panel) == experiments.describe_polynomial(free) + "\n"
    panel.controls["weight_decay"].value = 1e-3
    assert panel.runs == 3
    assert panel.result["test_mse"] == experiments.polynomial_experiment(
        degree=15, weight_decay=1e-3)["test_mse"]
    assert panel.result["test_mse"] < free["test_mse"]


def test_overfitting_panel_weight_decay_slider():
    panel = overfitting_panel(epochs=5)
    assert list(panel.controls) == ["weight_decay"]
    assert "gap (train - validation accuracy)" in printed(panel)
    panel.controls["weight_decay"].value = 0.01
    assert panel.result == experiments.overfitting_experiment(weight_decay=0.01, epochs=5)


def test_experiment_panel_shows_errors_and_reraises():
    def view(value):
        raise ValueError(f"bad value {value}")

    with pytest.raises(ValueError, match="bad value 1"):
        ExperimentPanel(view, {"value": widgets.IntSlider(value=1)})


def test_hold_runs_once_even_when_nested():
    calls = []

    def view(a, b):
        calls.append((a, b))
        fig = __import__("tinynet.plotting", fromlist=["new_figure"]).new_figure()[0]
        return fig, f"{a} {b}", a + b

    panel = ExperimentPanel(view, {"a": widgets.IntSlider(value=1),
                                   "b": widgets.IntSlider(value=2)})
    with panel.hold():
        panel.controls["a"].value = 3
        with panel.hold():
            panel.controls["b"].value = 4
        assert len(calls) == 1
    assert calls == [(1, 2), (3, 4)]
    assert panel.result == 7 and printed(panel) == "3 4\n"
    with panel.hold():
        pass  # nothing changed: no rerun
    assert len(calls) == 2


# -- the look shared by every panel (measured in a browser by tests/browser) ------

def _rate_controls(panel):
    for name in ("learning_rate", "weight_decay"):
        control = panel.controls.get(name)
        if control is not None:
            yield name, getattr(control, "slider", control)


def test_every_panel_shows_rates_in_one_format_and_trains_with_what_it_shows():
    panels = [training_panel(epochs=1, batch_size=128),
              overfitting_panel(epochs=1, weight_decay=10 ** -1.75),
              polynomial_panel(weight_decay=10 ** -3.5)]
    for panel in panels:
        for name, slider in _rate_controls(panel):
            assert slider.readout_format == RATE_FORMAT, (type(panel), name)
    # the readout shows 0.0178, and 0.0178 is trained and written in the title
    assert panels[1].settings["weight_decay"] == 0.0178
    assert panels[1].result == experiments.overfitting_experiment(weight_decay=0.0178,
                                                                  epochs=1)
    assert panels[2].settings["weight_decay"] == 0.000316


def test_every_panel_carries_the_css_that_keeps_words_whole():
    for panel in (training_panel(epochs=1, batch_size=128), polynomial_panel()):
        assert "tinynet-panel" in panel._dom_classes
        assert panel.css in panel.children
        css = panel.css.value
        assert css.startswith("<style>") and panel.css.layout.display == "none"
        # printed numbers and the line of Python break only between words
        for rule in (".tinynet-numbers pre {", ".tinynet-code pre {"):
            block = css.split(rule, 1)[1].split("}", 1)[0]
            assert "word-break: normal" in block and "overflow-wrap: normal" in block
    # the figure's column is never wider than the figure (96 pixels an inch)
    assert training_panel(epochs=1, batch_size=128).output.layout.max_width == "806px"
    assert polynomial_panel().output.layout.max_width == "528px"


def test_present_config_culls_kernels_of_closed_pages_only():
    from traitlets.config import PyFileConfigLoader

    config = PyFileConfigLoader("voila.py", path=str(INSTRUCTOR)).load_config()
    manager = config.MappingKernelManager
    assert 0 < manager.cull_idle_timeout <= 300 and 0 < manager.cull_interval
    assert manager.cull_connected is False and manager.cull_busy is False
    makefile = (INSTRUCTOR.parents[1] / "Makefile").read_text()
    recipe = makefile.split("\npresent:", 1)[1].split("\n\n", 1)[0]
    assert "--no-browser" in recipe and "--Voila.config_file_paths=$(PRESENT_CONFIG)" in recipe
    assert "PRESENT_CONFIG   := notebooks/instructor" in makefile


# -- the optimizer menu -----------------------------------------------------------

def test_training_panel_optimizer_menu_retrains_with_that_optimizer():
    panel = training_panel(sliders=INSTRUCTOR_SLIDERS, epochs=1, batch_size=128)
    menu = panel.controls["optimizer"]
    assert list(menu.options) == list(OPTIMIZERS) and menu.value == "sgd"
    assert panel.settings["optimizer"] == "sgd"
    assert panel.scenario.value == "(your own settings)"  # 1 epoch is no scenario
    menu.value = "adam"
    assert panel.runs == 2
    expected = experiments.training_experiment(epochs=1, batch_size=128, optimizer="adam")
    assert panel.result == expected
    assert printed(panel) == experiments.describe_training(expected) + "\n"
    assert panel.python_line.endswith("seed=0, optimizer='adam')")
    assert run_python_line(panel.python_line) == panel.result
    assert expected != experiments.training_experiment(epochs=1, batch_size=128)


def test_training_panel_scenario_resets_the_optimizer_and_only_sgd_matches():
    panel = training_panel(sliders=INSTRUCTOR_SLIDERS, optimizer="momentum",
                           learning_rate=0.1)
    assert panel.scenario.value == "(your own settings)"  # the scenarios are plain SGD
    panel.scenario.value = "learning rate too large"
    assert panel.settings == {**presets.preset_settings("learning rate too large"),
                              "optimizer": "sgd"}
    assert panel.controls["optimizer"].value == "sgd" and panel.runs == 2
    assert panel.scenario.value == "learning rate too large"


def test_panels_without_the_menu_keep_their_settings_and_line():
    # notebook 07 prints these: the optimizer appears only where it is a choice
    panel = training_panel(epochs=1, batch_size=128)
    assert "optimizer" not in panel.settings
    assert panel.python_line == presets.python_line(panel.settings)
    fixed = training_panel(sliders=("learning_rate",), optimizer="adam", learning_rate=0.001,
                           epochs=1, batch_size=128)
    assert fixed.settings["optimizer"] == "adam" and "optimizer" not in fixed.controls


# -- the network panel: dropout and batch normalisation ---------------------------

def test_network_panel_runs_network_experiment_with_its_controls():
    panel = network_panel(epochs=2, train_size=200)
    assert list(panel.settings) == list(NETWORK_DEFAULTS)
    assert set(panel.controls) == {"optimizer", "learning_rate", "weight_decay", "dropout",
                                   "batchnorm", "epochs", "train_size"}
    assert panel.result == experiments.network_experiment(epochs=2, train_size=200)
    panel.controls["dropout"].value = 0.1 + 0.2  # 0.30000000000000004 from a slider
    assert panel.settings["dropout"] == 0.3
    panel.controls["batchnorm"].value = True
    assert panel.runs == 3
    expected = experiments.network_experiment(dropout=0.3, batchnorm=True, epochs=2,
                                              train_size=200)
    assert panel.result == expected
    assert printed(panel) == experiments.describe_training(expected) + "\n"
    assert "tinynet-network-panel" in panel._dom_classes
    assert panel.python_line.startswith("from tinynet.experiments import network_experiment; "
                                        "network_experiment(learning_rate=0.1, ")
    assert "dropout=0.3, batchnorm=True" in panel.python_line
    assert run_python_line(panel.python_line) == panel.result


def test_network_panel_set_and_errors():
    panel = network_panel(epochs=1, train_size=100)
    panel.set(optimizer="adam", learning_rate=10 ** -2.75, dropout=0.5)
    assert panel.runs == 2 and panel.settings["learning_rate"] == 0.00178
    assert panel.result == experiments.network_experiment(
        optimizer="adam", learning_rate=0.00178, dropout=0.5, epochs=1, train_size=100)
    with pytest.raises(TypeError, match="unexpected settings"):
        network_panel(momentum=0.9)
    with pytest.raises(ValueError, match="no slider for"):
        network_panel(sliders=("momentum",))
    with pytest.raises(ValueError, match="no network preset named 'fast'"):
        network_panel(preset="fast")


def test_curve_panels_title_the_run_over_both_plots():
    panel = network_panel(epochs=1, train_size=100, dropout=0.5, batchnorm=True,
                          optimizer="momentum")
    fig, _, _ = widgets_module._network_view(**panel.settings)
    title = fig._suptitle.get_text()
    assert title.startswith("learning rate 0.1, weight decay 0, MLP 100-100, dropout 0.5")
    assert fig.axes[0].get_title() == ""  # not centred over the left plot alone


def test_network_panel_scenarios_set_fixed_settings_too():
    names = list(getattr(presets, "NETWORK_PRESETS", {}))
    if not names:
        pytest.skip("tinynet.presets has no NETWORK_PRESETS")
    panel = network_panel()
    assert list(panel.scenario.options)[1:] == names
    deep = [n for n in names if "hidden_sizes" in presets.NETWORK_PRESETS[n].settings
            and "train_size" not in presets.NETWORK_PRESETS[n].settings][0]
    panel.scenario.value = deep
    expected = {**NETWORK_DEFAULTS, **presets.NETWORK_PRESETS[deep].settings}
    assert panel.settings == expected and panel.runs == 2
    assert panel.result == experiments.network_experiment(**expected)
    assert html.escape(deep) in panel.lesson.value
    panel.controls["epochs"].value = 3
    assert panel.scenario.value == "(your own settings)"
    panel.controls["epochs"].value = expected["epochs"]
    assert panel.scenario.value == deep
