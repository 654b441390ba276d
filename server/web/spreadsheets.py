"""Tables as the spreadsheets councils work in: CSV (UTF-8 with a BOM, so Excel reads the
Japanese) and XLSX (XlsxWriter), text kept as text whatever someone typed."""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date
from urllib.parse import quote

import xlsxwriter
from litestar import Response

CSV_TYPE = "text/csv; charset=utf-8"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass
class Table:
    title: str
    header: list[str]
    rows: list[list]


# A cell starting with one of these is a formula to Excel, even in a CSV file: a group
# named "=HYPERLINK(…)" must stay a name (OWASP's advice: prefix an apostrophe).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def csv_bytes(table: Table) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(table.header)
    writer.writerows([[csv_cell(v) for v in row] for row in table.rows])
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(table: Table | list[Table]) -> bytes:
    """One sheet per table (a report's summary and its breakdowns)."""
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(
        buffer,
        {
            "in_memory": True,
            "default_date_format": "yyyy-mm-dd",
            # Text stays text: never a formula, a number or a link, whatever someone typed.
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
        },
    )
    for each in table if isinstance(table, list) else [table]:
        sheet = book.add_worksheet(re.sub(r"[\[\]:*?/\\]", "", each.title)[:31] or None)
        sheet.freeze_panes(1, 0)
        sheet.write_row(0, 0, each.header)
        for number, row in enumerate(each.rows, start=1):
            sheet.write_row(number, 0, row)
    book.close()
    return buffer.getvalue()


def download(table: Table | list[Table], name: str, kind: str) -> Response:
    """``table`` as CSV or XLSX; several tables only as XLSX (a sheet each)."""
    body, media = (csv_bytes(table), CSV_TYPE) if kind == "csv" else (xlsx_bytes(table), XLSX_TYPE)
    filename = f"{name}.{kind}"
    return Response(
        content=body,
        media_type=media,
        headers={
            "Content-Disposition": f"attachment; filename=\"export.{kind}\"; filename*=UTF-8''{quote(filename)}",
            "Cache-Control": "no-store",
        },
    )
