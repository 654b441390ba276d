"""The printed 出席表 (attendance sheet), as Chromium prints it on A4 (tests/printing.py):
the reflection notes are in their boxes, the label column is narrow, and no heading is
left at the foot of a page without its table, whatever the length of the roster."""

from __future__ import annotations

import os
from pathlib import Path

from server.review.data import today
from tests.browser import staff_page
from tests.factories import make_person, make_session
from tests.printing import print_page

# Where the printed pages go (IBASHO_SCREENSHOTS=docs/screenshots keeps them to look at).
SHOTS = os.environ.get("IBASHO_SCREENSHOTS")


def heading_kept_with_its_table(texts: list[str], heading: str, first_cell: str) -> bool:
    for text in texts:
        if heading in text:
            after = text[text.index(heading) + len(heading) :]
            return first_cell in after
    return False


async def test_the_printed_sheet_shows_the_notes_in_narrow_labelled_boxes(chromium, live_server, world, tmp_path):
    session = await make_session(world.group_a, today())  # its notes: 楽しかった, 配膳を早く, 米を買う
    out = Path(SHOTS) if SHOTS else tmp_path
    context, page = await staff_page(chromium, live_server, world.staff_a)
    try:
        added = 0
        for roster in (0, *range(20, 32)):  # the headings fall at every place near a page break
            while added < roster:
                await make_person(world.group_a, f"参加者{added:02d}")
                added += 1
            await page.goto(f"{live_server.url}/review/sessions/{session}/sheet")
            printed = await print_page(page, out, f"staff-sheet-print-{roster}")
            whole = "\n".join(printed.texts)
            assert "楽しかった" in whole and "配膳を早く" in whole and "米を買う" in whole, roster
            assert heading_kept_with_its_table(printed.texts, "人数", "子ども"), (roster, printed.texts)
            assert heading_kept_with_its_table(printed.texts, "反省会", "よかったこと"), roster
            assert heading_kept_with_its_table(printed.texts, "役割", "役割"), roster
            label, box = await page.evaluate(
                """() => {
                  const row = document.querySelector('.sheet-table.notes tr');
                  return [row.cells[0].getBoundingClientRect().width, row.getBoundingClientRect().width];
                }"""
            )
            assert label / box < 0.25, (roster, label, box)  # was ~60 %
            assert len(printed.pages) <= 3
    finally:
        await context.close()
