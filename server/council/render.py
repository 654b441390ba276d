"""The council pages' templates (templates/council)."""

from __future__ import annotations

from collections.abc import Sequence

from litestar.response import Template

from server.web import pages


def page(template: str, errors: Sequence[str] = (), **context) -> Template:
    return pages.page(f"council/{template}", errors, **context)
