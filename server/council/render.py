"""What every council page handler shares: rendering with form errors, and redirects after a POST."""

from __future__ import annotations

from collections.abc import Sequence

from litestar.response import Redirect, Template

from server import labels


def page(template: str, errors: Sequence[str] = (), **context) -> Template:
    """A page of ``templates/council``. A form shown again with errors answers 422: nothing was changed."""
    return Template(
        template_name=f"council/{template}",
        context={"errors": list(errors), "labels": labels, **context},
        status_code=422 if errors else 200,
    )


def see_other(path: str) -> Redirect:
    """POST-redirect-GET: a reload of the next page does not post the form again."""
    return Redirect(path=path, status_code=303)
