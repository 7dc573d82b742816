"""Layout checks for a panel in a page: no text broken inside a word, everything on screen.

Measured in the browser, not guessed from CSS: each word of a panel's text
is a DOM Range whose client rectangles show on how many lines it is drawn
(a word split across two lines has rectangles on two lines), and bounding
boxes say whether the panel fits the viewport.
"""

# Text an instructor reads: the printed numbers, the line of Python, the
# lesson, the controls' labels and readouts, the menus.
TEXT_SELECTORS = [".tinynet-numbers pre", ".tinynet-code pre", ".tinynet-lesson",
                  ".widget-label", ".widget-readout", ".widget-checkbox label",
                  ".widget-dropdown select"]

# Returns one entry per word drawn on more than one line, and per label or
# readout whose text is cut off (wider than its box).
_BROKEN_WORDS_JS = """(panel, selectors) => {
  const problems = [];
  const lines = rects => new Set(Array.from(rects).filter(r => r.width > 0)
                                     .map(r => Math.round(r.top))).size;
  for (const selector of selectors) {
    for (const element of panel.querySelectorAll(selector)) {
      if (element.offsetParent === null) continue;  // not displayed
      const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
      for (let node = walker.nextNode(); node; node = walker.nextNode()) {
        const re = /\\S+/g;
        let match;
        while ((match = re.exec(node.data)) !== null) {
          const range = document.createRange();
          range.setStart(node, match.index);
          range.setEnd(node, match.index + match[0].length);
          if (lines(range.getClientRects()) > 1)
            problems.push(`${selector}: "${match[0]}" is broken across lines`);
        }
      }
      if ((selector === ".widget-label" || selector === ".widget-readout")
          && element.scrollWidth > element.clientWidth + 1)
        problems.push(`${selector}: "${element.innerText}" is cut off ` +
                      `(${element.scrollWidth} px of text in ${element.clientWidth} px)`);
    }
  }
  return problems;
}"""


def broken_words(panel):
    """Words of ``panel`` (a Locator) drawn across two lines, and labels cut off."""
    return panel.evaluate(_BROKEN_WORDS_JS, TEXT_SELECTORS)


def box(locator):
    found = locator.bounding_box()
    assert found is not None, f"{locator} is not displayed"
    return found


def off_screen(page, panel):
    """Parts of ``panel`` (a Locator) outside the viewport once its top is scrolled to the top."""
    panel.evaluate("element => element.scrollIntoView({block: 'start'})")
    viewport = page.viewport_size
    problems = []
    parts = {"panel": panel, "plot": panel.locator(".tinynet-plot img").first,
             "numbers": panel.locator(".tinynet-numbers pre").first}
    code = panel.locator(".tinynet-code pre")
    if code.count():
        parts["line of Python"] = code.first
    for name, locator in parts.items():
        b = box(locator)
        if b["x"] < 0 or b["y"] < -1 or b["x"] + b["width"] > viewport["width"] + 1 \
                or b["y"] + b["height"] > viewport["height"] + 1:
            problems.append(f"{name} at {b} is not inside the {viewport} viewport")
    return problems


def numbers_beside_plot(panel):
    """True if the printed numbers start to the right of the figure and above its bottom."""
    plot, numbers = box(panel.locator(".tinynet-plot img").first), \
        box(panel.locator(".tinynet-numbers pre").first)
    return (numbers["x"] >= plot["x"] + plot["width"] - 1
            and numbers["y"] < plot["y"] + plot["height"])
