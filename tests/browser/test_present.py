"""`make present`: the instructor notebook served by Voila, as a class would see it."""

from drive_panel import SCREENSHOTS, drive
from tinynet.presets import TRAINING_DEFAULTS


def test_present_serves_the_panels_without_code(present, page):
    page.goto(present)
    page.locator(".tinynet-training-panel .tinynet-plot img").wait_for(timeout=120_000)
    # a clean app: the Markdown and the panels, no code cells
    assert page.locator(".jp-InputArea-editor, .CodeMirror, .cm-editor").count() == 0
    assert page.get_by_text("TinyNet, live").first.is_visible()
    assert page.locator(".tinynet-training-panel").count() == 1
    assert page.locator(".widget-slider .widget-label", has_text="degree").count() == 1

    def shot(name, driver):
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=str(SCREENSHOTS / f"present-{name}.png"))

    drive(page, dict(TRAINING_DEFAULTS), shot)

