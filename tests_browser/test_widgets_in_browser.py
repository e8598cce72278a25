"""The course's widgets in a real browser: the drawing canvas and the two explorers, in the real chapters.

The canvas runs in the three front ends of conftest.py (JupyterLab rooted at the repository, JupyterLab rooted at
notebooks/, classic Notebook 6.5 with ipywidgets 7), the explorers in the two JupyterLab ones (conftest.FRONT_ENDS
says why). Every check waits for a condition of the page (Playwright's ``expect`` and ``wait_for_function``) with
a generous timeout; nothing sleeps.
"""
from __future__ import annotations

import re

import pytest
from conftest import ALL, LAB, UI_MS, Chapter, chapter_calling
from playwright.sync_api import Locator, expect

EMPTY_MESSAGE = "Draw a digit in the white box"
SAYS_A_DIGIT = re.compile(r"^The [A-Za-z ]+ says \d \(\d+(\.\d+)?%\)\.$")  # "The network", "The CNN"

# What the canvas shows, read from the page: ink on the pad, lit pixels of the 28x28 preview, the ten bars.
CANVAS_STATE = """root => {
  const read = c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  const pad = read(root.querySelector('.dc-pad')), seen = read(root.querySelector('.dc-seen'));
  let ink = 0, lit = 0;
  for (let i = 0; i < pad.length; i += 4) if (pad[i] < 128) ink++;
  for (let i = 0; i < seen.length; i += 4) if (seen[i] > 0) lit++;
  return {ink, lit, message: root.querySelector('.dc-message').textContent,
          widths: Array.from(root.querySelectorAll('.dc-fill'), e => parseFloat(e.style.width) || 0),
          values: Array.from(root.querySelectorAll('.dc-value'), e => e.textContent)};
}"""


def wait_for(locator: Locator, predicate: str) -> dict:
    """Wait until the JavaScript ``predicate`` of the element holds; return the canvas state then."""
    handle = locator.element_handle(timeout=UI_MS)
    locator.page.wait_for_function(f"root => {{ const s = ({CANVAS_STATE})(root); return {predicate}; }}",
                                   arg=handle, timeout=UI_MS)
    return locator.evaluate(CANVAS_STATE)


def blank(state_js: str = "s") -> str:
    return (f"{state_js}.ink === 0 && {state_js}.lit === 0 && {state_js}.values.every(v => v === '')"
            f" && {state_js}.widths.every(w => w === 0) && {state_js}.message.startsWith('{EMPTY_MESSAGE}')")


def only_plot(chapter: Chapter, cell: Locator) -> Locator:
    """The explorer's one plot: exactly one picture in the cell's outputs (the figure the controls redraw)."""
    pictures = chapter.outputs(cell).locator("img")
    expect(pictures).to_have_count(1, timeout=UI_MS)
    return pictures


@pytest.mark.parametrize("server", ALL, indirect=True)
def test_digit_canvas(open_chapter):
    chapter = open_chapter(chapter_calling("DigitCanvas"))
    cell = chapter.cell_with(".dc-root")
    root = cell.locator(".dc-root")
    expect(root).to_be_visible(timeout=UI_MS)
    expect(root.locator(".dc-message")).to_have_text(SAYS_A_DIGIT, timeout=UI_MS)  # the chapter's sample digit
    chapter.screenshot(cell, "canvas-1-sample")

    root.get_by_role("button", name="Clear").click()
    wait_for(root, blank())                      # pad white, bars empty, preview black, the drawing prompt back
    chapter.screenshot(cell, "canvas-2-cleared")

    pad = root.locator(".dc-pad").bounding_box()
    stroke = [(0.25, 0.2), (0.75, 0.2), (0.6, 0.5), (0.45, 0.85)]   # a 7: across the top, then down
    page = chapter.page
    page.mouse.move(pad["x"] + stroke[0][0] * pad["width"], pad["y"] + stroke[0][1] * pad["height"])
    page.mouse.down()
    for x, y in stroke[1:]:
        page.mouse.move(pad["x"] + x * pad["width"], pad["y"] + y * pad["height"], steps=15)
    page.mouse.up()
    state = wait_for(root, "s.ink > 0 && s.lit > 0 && s.values.every(v => v.endsWith('%'))"
                           " && /^The [A-Za-z ]+ says \\d/.test(s.message)")
    assert SAYS_A_DIGIT.match(state["message"]), state["message"]
    assert len(state["values"]) == len(state["widths"]) == 10 and 99 <= sum(state["widths"]) <= 101, state
    assert state["lit"] > 20, "the 28x28 preview shows the stroke"
    chapter.screenshot(cell, "canvas-3-drawn")

    buttons = root.locator(".dc-model")                  # the chapter offers two models, a button each
    expect(buttons).to_have_count(2, timeout=UI_MS)
    for name in reversed(buttons.all_inner_texts()):      # the second model first: the first is chosen already
        button = root.get_by_role("button", name=name, exact=True)
        button.click()
        expect(button).to_have_attribute("aria-pressed", "true", timeout=UI_MS)
        expect(root.locator(".dc-message")).to_have_text(re.compile(rf"^The {re.escape(name)} says \d"), timeout=UI_MS)
    chapter.screenshot(cell, "canvas-3b-switched")

    root.get_by_role("button", name="Clear").click()
    wait_for(root, blank())
    chapter.screenshot(cell, "canvas-4-cleared-again")


@pytest.mark.parametrize("server", LAB, indirect=True)
def test_neuron_explorer(open_chapter):
    chapter = open_chapter(chapter_calling("neuron_explorer"))
    slider = chapter.page.locator(".widget-slider", has_text="weight w")
    cell = chapter.cell_with(slider)
    expect(slider).to_be_visible(timeout=UI_MS)
    plot = only_plot(chapter, cell)
    before = plot.get_attribute("src")
    readout = slider.locator(".widget-readout")
    expect(readout).to_have_text(re.compile(r"^1\.0+$"), timeout=UI_MS)
    chapter.screenshot(cell, "neuron-1-start")

    handle = slider.locator(".noUi-handle, .ui-slider-handle").first
    track = slider.locator(".noUi-target, .ui-slider").first.bounding_box()
    start = handle.bounding_box()
    page = chapter.page
    page.mouse.move(start["x"] + start["width"] / 2, start["y"] + start["height"] / 2)
    page.mouse.down()
    page.mouse.move(track["x"] + 0.8 * track["width"], start["y"] + start["height"] / 2, steps=10)
    page.mouse.up()
    expect(readout).not_to_have_text(re.compile(r"^1\.0+$"), timeout=UI_MS)
    weight = float(readout.inner_text())
    assert 3 < weight <= 10, f"dragged to 80 % of -10..10, got {weight}"
    expect(plot).not_to_have_attribute("src", before, timeout=UI_MS)   # the plot redrew in place...
    only_plot(chapter, cell)                                              # ...and is still the only one
    chapter.screenshot(cell, "neuron-2-weight-moved")


@pytest.mark.parametrize("server", LAB, indirect=True)
def test_network_explorer(open_chapter):
    chapter = open_chapter(chapter_calling("network_explorer"))
    button = chapter.page.get_by_role("button", name="next mistake")
    cell = chapter.cell_with(button)
    expect(button).to_be_visible(timeout=UI_MS)
    plot = only_plot(chapter, cell)
    before = plot.get_attribute("src")
    readout = cell.locator(".widget-slider .widget-readout")
    expect(readout).to_have_text("0", timeout=UI_MS)
    chapter.screenshot(cell, "network-1-start")

    button.click()
    expect(readout).not_to_have_text("0", timeout=UI_MS)        # the slider jumped to the first mistake
    expect(plot).not_to_have_attribute("src", before, timeout=UI_MS)   # a new drawing, in place of the old
    assert plot.get_attribute("src").startswith("data:image/png;base64,")
    only_plot(chapter, cell)
    chapter.screenshot(cell, "network-2-next-mistake")
