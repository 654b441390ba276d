"""Rendering of the review pages (``templates/review``)."""

from __future__ import annotations

from litestar.response import Template

from server import labels
from server.dates import format_date_ja, wareki_fiscal_year


def review_page(template: str, errors=(), **context) -> Template:
    return Template(
        template_name=f"review/{template}",
        context={
            "errors": list(errors),
            "labels": labels,
            "wareki": wareki_fiscal_year,
            "day": format_date_ja,
            **context,
        },
        status_code=422 if errors else 200,
    )
