"""The review pages' templates (templates/review)."""

from __future__ import annotations

from litestar.response import Template

from server.web import pages


def review_page(template: str, errors=(), **context) -> Template:
    return pages.page(f"review/{template}", errors, **context)
