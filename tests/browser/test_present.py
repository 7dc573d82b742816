"""`make present`: the instructor notebook served by Voila, as a class would see it."""

import time

import pytest
from drive_panel import RETRAIN_TIMEOUT, SCREENSHOTS, PanelDriver, drive, expected_network_run
from layout import broken_words, numbers_beside_plot, off_screen

from conftest import TEST_CULL_IDLE_TIMEOUT, TEST_CULL_INTERVAL, kernel_processes
from tinynet import presets
from tinynet.presets import TRAINING_DEFAULTS as SCENARIO_DEFAULTS
from tinynet.widgets import NETWORK_DEFAULTS

# the instructor's training panel has the optimizer menu
TRAINING_DEFAULTS = {**SCENARIO_DEFAULTS, "optimizer": "sgd"}
PANEL_COUNT = 3  # the training, network and polynomial panels
# the projector sizes of issue 9
SCREENS = [(1280, 720), (1024, 768)]


def wait_for_panels(page, count=PANEL_COUNT, timeout=RETRAIN_TIMEOUT * 2):
    """Wait until every panel of the page shows its figure."""
    plots = page.locator(".tinynet-panel .tinynet-plot img")
    deadline = time.monotonic() + timeout
    while plots.count() < count:
        assert time.monotonic() < deadline, (
            f"after {timeout} s only {plots.count()} of {count} panels show a figure")
        time.sleep(0.25)
    for index in range(count):
        plots.nth(index).wait_for(state="visible")
    assert page.locator(".tinynet-panel").count() == count
    return page.locator(".tinynet-panel")


def test_present_serves_the_panels_without_code(present_server, page):
    page.goto(present_server.url)
    wait_for_panels(page)
    # a clean app: the Markdown and the panels, no code cells
    assert page.locator(".jp-InputArea-editor, .CodeMirror, .cm-editor").count() == 0
    assert page.get_by_text("TinyNet, live").first.is_visible()
    assert page.locator(".tinynet-training-panel").count() == 1
    assert page.locator(".widget-slider .widget-label", has_text="degree").count() == 1
    # make present names its address and culls the kernels of closed pages
    log = present_server.log()
    assert f"open {present_server.url}/ in a browser" in log
    assert "Culling kernels with idle durations > 120 seconds at 30 second intervals" in log

    def shot(name, driver):
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"present-{name}.png"))

    drive(page, dict(TRAINING_DEFAULTS), shot)


@pytest.mark.parametrize("width, height", SCREENS, ids=[f"{w}x{h}" for w, h in SCREENS])
def test_present_panels_fit_the_screen_and_break_no_word(present, page, width, height):
    page.set_viewport_size({"width": width, "height": height})
    page.goto(present)
    panels = wait_for_panels(page)
    for index in range(panels.count()):
        panel = panels.nth(index)
        assert broken_words(panel) == [], f"panel {index + 1} at {width}x{height}"
        assert off_screen(page, panel) == [], f"panel {index + 1} at {width}x{height}"
        assert numbers_beside_plot(panel), f"panel {index + 1}: numbers below the figure"
    training = page.locator(".tinynet-training-panel")
    training.evaluate("element => element.scrollIntoView({block: 'start'})")
    SCREENSHOTS.mkdir(exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"present-{width}x{height}.png"))

    # a diverged run prints a long message: still no broken word, still on screen
    driver = PanelDriver(page)
    before = driver.plot_src()
    driver.choose_scenario("learning rate far too large: diverges")
    deadline = time.monotonic() + RETRAIN_TIMEOUT
    while driver.plot_src() == before or not driver.numbers().startswith("Diverged"):
        assert time.monotonic() < deadline, "the diverged scenario never showed"
        time.sleep(0.2)
    assert broken_words(training) == []
    assert off_screen(page, training) == []

    # the scenario with the longest lesson still fits
    longest = max(presets.TRAINING_PRESETS, key=lambda n: len(presets.TRAINING_PRESETS[n].lesson))
    before = driver.plot_src()
    driver.choose_scenario(longest)
    driver.wait_for_run({**TRAINING_DEFAULTS, **presets.preset_settings(longest)}, before)
    assert broken_words(training) == []
    assert off_screen(page, training) == [], f"with the lesson of {longest!r}"


def test_present_optimizer_menu_and_network_panel(present, page):
    page.goto(present)
    wait_for_panels(page)
    training = PanelDriver(page)
    before = training.plot_src()
    training.choose_optimizer("adam")
    training.wait_for_run({**TRAINING_DEFAULTS, "optimizer": "adam"}, before)
    assert training.code_line().endswith("optimizer='adam')")

    network = PanelDriver(page, ".tinynet-network-panel")
    network.wait_until_shown()
    settings = dict(NETWORK_DEFAULTS)
    src = network.wait_for_run(settings, None, expected=expected_network_run(settings))
    # the dropout ratio by keyboard: one step of 0.1
    network.press_on_handle("dropout", "ArrowRight")
    settings["dropout"] = 0.1
    src = network.wait_for_run(settings, src, expected=expected_network_run(settings))
    assert network.readout("dropout") == "0.1"
    network.tick("batchnorm")
    settings["batchnorm"] = True
    src = network.wait_for_run(settings, src, expected=expected_network_run(settings))
    network.choose_optimizer("momentum")
    settings["optimizer"] = "momentum"
    src = network.wait_for_run(settings, src, expected=expected_network_run(settings))
    network.type_into_readout("learning-rate", "0.01")
    settings["learning_rate"] = 0.01
    src = network.wait_for_run(settings, src, expected=expected_network_run(settings))
    for name, preset in getattr(presets, "NETWORK_PRESETS", {}).items():
        if "hidden_sizes" in preset.settings:  # one scenario that sets a fixed setting
            network.choose_scenario(name)
            settings = {**NETWORK_DEFAULTS, **preset.settings}
            network.wait_for_run(settings, src, expected=expected_network_run(settings))
            assert name in network.panel.locator(".tinynet-lesson").inner_text()
            break
    assert broken_words(network.panel) == []
    SCREENSHOTS.mkdir(exist_ok=True)
    network.panel.screenshot(path=str(SCREENSHOTS / "present-network-panel.png"))


def test_present_culls_the_kernels_of_closed_pages(present_culling, browser):
    """Reloaded and closed pages lose their kernels; an open page keeps its own."""
    server = present_culling
    cull_wait = TEST_CULL_IDLE_TIMEOUT + 3 * TEST_CULL_INTERVAL + 30  # generous on 2 cores

    def kernels():
        return len(kernel_processes(server.process.pid))

    def wait_for_kernels(count, timeout):
        deadline = time.monotonic() + timeout
        while kernels() != count:
            assert time.monotonic() < deadline, (
                f"{kernels()} kernels still run after {timeout} s, expected {count}; "
                f"server log:\n{server.log()}")
            time.sleep(0.5)

    staying, leaving = browser.new_page(), browser.new_page()
    try:
        staying.goto(server.url)
        wait_for_panels(staying)
        assert kernels() == 1
        staying.reload()  # leaves the first kernel without a page
        wait_for_panels(staying)
        leaving.goto(server.url)
        wait_for_panels(leaving)
        leaving.close()
        assert kernels() >= 2  # the culler may already have taken the first
        wait_for_kernels(1, cull_wait)
        assert "Culling 'idle' kernel" in server.log()

        # the open page keeps its kernel well past the idle timeout, and it still trains
        time.sleep(TEST_CULL_IDLE_TIMEOUT + 2 * TEST_CULL_INTERVAL)
        assert kernels() == 1
        driver = PanelDriver(staying)
        before = driver.plot_src()
        driver.press_on_handle("epochs", "ArrowRight")
        driver.wait_for_run({**TRAINING_DEFAULTS, "epochs": TRAINING_DEFAULTS["epochs"] + 1},
                            before)

        staying.close()
        wait_for_kernels(0, cull_wait)
    finally:
        for tab in (staying, leaving):
            if not tab.is_closed():
                tab.close()
