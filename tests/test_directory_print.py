"""The public directory as a printer gets it (tests/printing.py): A4 portrait pages that
name every listed place, nothing running off the right edge, and no site navigation."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.browser import PHONE
from tests.printing import print_page
from tests.test_directory import place
from tests.test_events_browser import pgm

# IBASHO_SCREENSHOTS=1 keeps the first printed page as docs/screenshots/directory-print.png.
SHOTS = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
A4_PORTRAIT = 210 / 297


def gray_pages(pdf: Path, out: Path) -> list[Path]:
    subprocess.run(["pdftoppm", "-r", "40", "-gray", str(pdf), str(out / "gray")], check=True, timeout=60)
    return sorted(out.glob("gray-*.pgm"))


def right_margin_blank(width: int, pixels: bytes) -> bool:
    """The rightmost 2 % of the page is white: nothing printed was cut at the edge."""
    strip = max(2, width // 50)
    rows = range(0, len(pixels) - width + 1, width)
    return min(min(pixels[row + width - strip : row + width]) for row in rows) > 245


async def test_the_printed_directory_names_the_places_on_a4_portrait(chromium, live_server, world, tmp_path):
    names = [(await place(world.area_a))[1] for _ in range(3)]
    context = await chromium.new_context(**PHONE)
    try:
        page = await context.new_page()
        await page.goto(f"{live_server.url}/directory")
        printed = await print_page(page, tmp_path, "directory-print")
        whole = "\n".join(printed.texts)
        assert all(name in whole for name in names), whole[:2000]
        hidden = await page.evaluate(
            "() => [...document.querySelectorAll('.site-header, .no-print')]"
            ".filter((e) => getComputedStyle(e).display !== 'none').length"
        )
        assert hidden == 0  # the header's navigation and language switch are not printed
        assert printed.pages
        for gray in gray_pages(printed.pdf, tmp_path):
            width, height, pixels = pgm(gray)
            assert abs(width / height - A4_PORTRAIT) < 0.01, gray
            assert right_margin_blank(width, pixels), gray
        if os.environ.get("IBASHO_SCREENSHOTS"):
            (SHOTS / "directory-print.png").write_bytes(printed.pages[0].read_bytes())
    finally:
        await context.close()
