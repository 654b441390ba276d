"""Rendering of the review pages (``templates/review``)."""

from __future__ import annotations

from litestar.response import Template

from server.council import labels as council_labels
from server.dates import format_date_ja, wareki_fiscal_year
from server.review import labels


def review_page(template: str, errors=(), **context) -> Template:
    return Template(
        template_name=f"review/{template}",
        context={
            "errors": list(errors), "labels": council_labels, "rlabels": labels,
            "wareki": wareki_fiscal_year, "day": format_date_ja, **context,
        },
        status_code=422 if errors else 200,
    )
