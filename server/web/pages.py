"""Rendering the staff pages (Jinja2, templates/): form errors answer 422, and a POST that
changed something answers with a redirect."""

from __future__ import annotations

from collections.abc import Sequence

from litestar import Request
from litestar.datastructures import CacheControlHeader
from litestar.response import Redirect, Template

from server.core import labels
from server.core.dates import format_date_ja, wareki_fiscal_year


def page(template: str, errors: Sequence[str] = (), **context) -> Template:
    """``template`` under templates/ (e.g. "council/areas.html"), with the labels and date
    helpers every page uses. A form shown again with errors answers 422: nothing was changed."""
    return Template(
        template_name=template,
        context={
            "errors": list(errors),
            "labels": labels,
            "wareki": wareki_fiscal_year,
            "day": format_date_ja,
            **context,
        },
        status_code=422 if errors else 200,
    )


def base_url(request: Request) -> str:
    """Where this server is reached, for links in mails (no trailing slash)."""
    return str(request.base_url).rstrip("/")


# For a route whose every answer holds a secret link or personal data: ``cache_control=NO_STORE``.
NO_STORE = CacheControlHeader(no_store=True)


def no_store(response: Template) -> Template:
    """A page that holds a secret link or personal data: no cache keeps it."""
    response.headers["Cache-Control"] = "no-store"
    return response


def see_other(path: str) -> Redirect:
    """POST-redirect-GET: a reload of the next page does not post the form again."""
    return Redirect(path=path, status_code=303)
