"""Printed pages as a printer gets them: Chromium's PDF of a page (A4, print styles), its
text page by page (pdftotext) and its pages as PNG images (pdftoppm) to look at.

Needs poppler-utils (``apt-get install -y poppler-utils fonts-noto-cjk``)."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest


@dataclass
class Printed:
    pdf: Path
    pages: list[Path]  # one PNG per A4 page
    texts: list[str]  # the text of each page, in reading order


def require_poppler() -> None:
    if not (shutil.which("pdftoppm") and shutil.which("pdftotext")):
        pytest.fail("printing tests need poppler-utils: apt-get install -y poppler-utils fonts-noto-cjk")


async def print_page(page, out_dir: Path, name: str, dpi: int = 60) -> Printed:
    """The page printed on A4 by the browser, as a PDF, PNG pages and page texts."""
    require_poppler()
    out_dir.mkdir(parents=True, exist_ok=True)
    pdf = out_dir / f"{name}.pdf"
    await page.emulate_media(media="print")
    pdf.write_bytes(await page.pdf(format="A4", print_background=True, prefer_css_page_size=True))
    for old in out_dir.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run(["pdftoppm", "-r", str(dpi), "-png", str(pdf), str(out_dir / name)], check=True, timeout=60)
    pages = sorted(out_dir.glob(f"{name}-*.png"))
    text = subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True, timeout=60
    ).stdout
    texts = text.split("\f")[: len(pages)]
    return Printed(pdf, pages, texts)


def pgm(path: Path) -> tuple[int, int, bytes]:
    """A binary PGM (P5) of pdftoppm -gray: width, height, pixels."""
    data = path.read_bytes()
    magic, width, height, _maximum, pixels = data.split(maxsplit=4)
    assert magic == b"P5"
    return int(width), int(height), pixels


def gray_pages(pdf: Path, out: Path) -> list[Path]:
    """The PDF's pages as greyscale PGM files (``pgm`` reads them), at 40 dpi."""
    subprocess.run(["pdftoppm", "-r", "40", "-gray", str(pdf), str(out / "gray")], check=True, timeout=60)
    return sorted(out.glob("gray-*.pgm"))
