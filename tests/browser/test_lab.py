"""The training notebook in JupyterLab: run all cells, then drive its panel like an instructor.

Every wait is bounded; a failure leaves a screenshot in tests/browser/screenshots/.
"""

import time
import uuid

from drive_panel import SCREENSHOTS, PanelDriver, drive
from layout import broken_words

NOTEBOOK = "07_training_sgd.ipynb"
# Notebook 07 shows its panel with the settings its own cell passes (a later
# cell demonstrates panel.set on a second panel that is not displayed).
AFTER_RUN_ALL = {"learning_rate": 0.1, "weight_decay": 0.0, "epochs": 10, "batch_size": 32,
                 "train_size": None, "seed": 0}
RUN_ALL_TIMEOUT = 240  # seconds for the whole notebook, on a busy 2-core machine


def wait_for_idle_kernel(page, timeout=90):
    page.locator('.jp-Notebook-ExecutionIndicator[data-status="idle"]').wait_for(
        state="attached", timeout=timeout * 1000)


def prompts(page):
    return page.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()


def run_all_cells(page, attempts=3):
    """Run > Run All Cells, and make sure it started (it can silently do nothing).

    JupyterLab ignores "Run All Cells" clicked before the kernel is ready, so:
    wait for the idle kernel, click, and check that a prompt turned into [*]
    or a number; retry if not.
    """
    for attempt in range(attempts):
        wait_for_idle_kernel(page)
        page.locator(".jp-Notebook").first.click(position={"x": 5, "y": 5})
        page.locator(".lm-MenuBar-item", has_text="Run").first.click()
        page.locator(".lm-Menu-item:visible", has_text="Run All Cells").first.click()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if any("*" in p or any(ch.isdigit() for ch in p) for p in prompts(page)):
                return attempt + 1
            time.sleep(0.2)
    raise AssertionError(f"Run All Cells did not start in {attempts} attempts; "
                         f"prompts: {prompts(page)[:5]}")


def wait_until_all_ran(page, timeout=RUN_ALL_TIMEOUT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        shown = prompts(page)
        if shown and all(any(ch.isdigit() for ch in p) and "*" not in p for p in shown):
            return shown
        time.sleep(0.5)
    raise AssertionError(f"not every cell ran within {timeout} s: {prompts(page)}")


def test_training_notebook_panel_in_jupyterlab(lab, page):
    url, token = lab
    workspace = f"test-{uuid.uuid4().hex[:8]}"  # fresh: no cell state from earlier runs
    page.goto(f"{url}/lab/workspaces/{workspace}/tree/{NOTEBOOK}?token={token}")
    page.locator(".jp-Notebook .jp-CodeCell").first.wait_for(timeout=90_000)
    run_all_cells(page)
    shown = wait_until_all_ran(page)
    assert len(shown) > 20
    tracebacks = page.locator('.jp-RenderedText[data-mime-type="application/vnd.jupyter.error"]')
    assert tracebacks.count() == 0, tracebacks.first.inner_text()

    def shot(name, driver):
        SCREENSHOTS.mkdir(exist_ok=True)
        driver.panel.screenshot(path=str(SCREENSHOTS / f"lab-{name}.png"))

    # JupyterLab's own styles break printed text anywhere; the panel's must win
    page.set_viewport_size({"width": 1280, "height": 720})
    PanelDriver(page).wait_until_shown()
    assert broken_words(PanelDriver(page).panel) == []
    page.set_viewport_size({"width": 1400, "height": 1000})
    drive(page, AFTER_RUN_ALL, shot)
    assert broken_words(PanelDriver(page).panel) == []
