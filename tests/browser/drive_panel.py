"""Drive the training panel in a browser page, and what the same settings give in Python.

Used by the JupyterLab and the Voila tests alike: both render the same
ipywidgets, so the same locators work (the panel and its controls carry
``tinynet-*`` classes).
"""

import math
import time
import warnings
from pathlib import Path

from tinynet import experiments
from tinynet.presets import preset_settings, tidy_settings
from tinynet.widgets import _python_line, _tidy_network, _training_line

SCREENSHOTS = Path(__file__).resolve().parent / "screenshots"
RETRAIN_TIMEOUT = 60  # seconds for one retrain to show, on a busy 2-core machine


def expected_numbers(settings, experiment=experiments.training_experiment):
    """The text the panel prints for ``settings``, computed here in the test process."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        summary = experiment(**settings)
    return experiments.describe_training(summary).strip()


def expected_network_run(settings):
    """The line and the numbers the network panel shows for ``settings``."""
    settings = _tidy_network(settings)
    return (_python_line("network_experiment", settings),
            expected_numbers(settings, experiments.network_experiment))


class PanelDriver:
    """The training panel in a page, found by its class."""

    def __init__(self, page, root=".tinynet-training-panel"):
        self.page = page
        self.panel = page.locator(root).first

    # -- what the panel shows ----------------------------------------------------------

    def numbers(self):
        return self.panel.locator(".tinynet-numbers").inner_text().strip()

    def plot_src(self):
        return self.panel.locator(".tinynet-plot img").get_attribute("src")

    def code_line(self):
        return self.panel.locator(".tinynet-code pre").inner_text().strip()

    def readout(self, name):
        return self.panel.locator(f".tinynet-{name} .widget-readout").inner_text().strip()

    def wait_until_shown(self, timeout=RETRAIN_TIMEOUT):
        self.panel.locator(".tinynet-plot img").wait_for(state="visible",
                                                        timeout=timeout * 1000)
        self.panel.scroll_into_view_if_needed()

    def wait_for_run(self, settings, before_src, timeout=RETRAIN_TIMEOUT, expected=None):
        """Wait until the panel shows the run of ``settings``; check line, numbers and plot.

        ``expected`` is the pair (line of Python, printed numbers); by default
        that of the training panel. Returns the new plot's src.
        """
        settings = tidy_settings(settings)
        line, numbers = expected or (_training_line(settings), expected_numbers(settings))
        deadline = time.monotonic() + timeout
        seen = None
        while time.monotonic() < deadline:
            seen = (self.code_line(), self.numbers())
            if seen == (line, numbers):
                break
            time.sleep(0.2)
        else:
            raise AssertionError(
                f"after {timeout} s the panel does not show the run of {settings}.\n"
                f"expected line:    {line}\nshown line:       {seen[0]}\n"
                f"expected numbers:\n{numbers}\nshown numbers:\n{seen[1]}")
        # the figure is replaced in the same message as the numbers
        src = self.plot_src()
        assert src and src.startswith("data:image/png;base64,"), src
        assert src != before_src, "the numbers changed but the plot image did not"
        return src

    # -- what an instructor does -------------------------------------------------------

    def press_on_handle(self, name, key="ArrowRight"):
        handle = self.panel.locator(f".tinynet-{name} .noUi-handle")
        handle.focus()
        handle.press(key)

    def type_into_readout(self, name, text):
        readout = self.panel.locator(f".tinynet-{name} .widget-readout")
        readout.click()
        readout.press("Control+a")
        readout.type(text)
        readout.press("Enter")

    def tick(self, name):
        self.panel.locator(f".tinynet-{name} input[type=checkbox]").check()

    def choose_scenario(self, name):
        self.panel.locator(".tinynet-scenario select").select_option(label=name)

    def choose_optimizer(self, name):
        self.panel.locator(".tinynet-optimizer select").select_option(label=name)


def drive(page, start, shot=None):
    """Move every kind of control from the settings ``start`` and check each run.

    ``shot(name, driver)`` is called at a few moments for screenshots.
    Returns the settings the panel ended with.
    """
    driver = PanelDriver(page)
    driver.wait_until_shown()
    settings = tidy_settings(start)
    src = driver.wait_for_run(settings, before_src=None)
    if shot:
        shot("before", driver)

    # learning rate, by keyboard: one step of 0.25 in log10 to the right
    driver.press_on_handle("learning-rate", "ArrowRight")
    settings["learning_rate"] = 10 ** (math.log10(settings["learning_rate"]) + 0.25)
    src = driver.wait_for_run(settings, src)
    assert driver.readout("learning-rate") == f"{tidy_settings(settings)['learning_rate']:g}"
    if shot:
        shot("after-learning-rate-key", driver)

    # learning rate, typed into the readout
    driver.type_into_readout("learning-rate", "0.05")
    settings["learning_rate"] = 0.05
    src = driver.wait_for_run(settings, src)

    # weight decay: switch it on (it starts at 0.001), one step right, then type a value
    if settings["weight_decay"] == 0:
        driver.tick("weight-decay")
        settings["weight_decay"] = 1e-3
        src = driver.wait_for_run(settings, src)
    driver.press_on_handle("weight-decay", "ArrowRight")
    settings["weight_decay"] = 10 ** (math.log10(settings["weight_decay"]) + 0.25)
    src = driver.wait_for_run(settings, src)
    driver.type_into_readout("weight-decay", "0.01")
    settings["weight_decay"] = 0.01
    src = driver.wait_for_run(settings, src)
    if shot:
        shot("after-weight-decay", driver)

    # a scenario sets every slider at once
    scenario = "overfitting a small subset"
    driver.choose_scenario(scenario)
    # a scenario is plain SGD; other settings (the optimizer) go back to their defaults
    settings = {**start, **preset_settings(scenario)}
    src = driver.wait_for_run(settings, src)
    assert driver.readout("epochs") == "100"
    assert driver.readout("batch-size") == "25"
    assert driver.readout("train-size") == "100"
    assert driver.readout("learning-rate") == "0.1"
    assert not driver.panel.locator(".tinynet-weight-decay input[type=checkbox]").is_checked()
    assert scenario in driver.panel.locator(".tinynet-lesson").inner_text()
    if shot:
        shot("after-scenario", driver)
    return settings
