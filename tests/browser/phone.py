"""The one check that a page fits a screen's width (issue 14 item 9), shared by every browser test that looks."""

from __future__ import annotations

from typing import Any

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 800}

_TOO_WIDE = """() => {
    const width = document.documentElement.clientWidth;
    const extra = document.documentElement.scrollWidth - width;
    if (extra <= 0) return [];
    const wide = [...document.querySelectorAll('body *')].filter(e => e.getBoundingClientRect().right > width + 0.5
        && !e.closest('.table-wrap, .tabs')).slice(0, 6)
        .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className ? '.' + e.className : '')
             + ' ' + Math.round(e.getBoundingClientRect().right) + 'px');
    return [extra + 'px wider than the screen', ...wide];
}"""


def too_wide(page: Any) -> list[str]:
    """Nothing when the page fits its viewport's width; else how much wider it is and the first elements past the
    edge (a wide table scrolling inside its ``.table-wrap`` box, and the tab strip, are not the page scrolling)."""
    return list(page.evaluate(_TOO_WIDE))
