"""Pages that show a one-time secret link with its QR code: an organiser invitation, a
link to choose a new password. Only the token's hash is stored, so the page that answers
the POST is the one moment the link can be shown; it is never cached."""

from __future__ import annotations

from uuid import UUID

import segno
from litestar import Request
from litestar.response import Template

from server.auth.credentials import void_password
from server.council.render import page
from server.tables import Account


def secret_link_page(request: Request, path: str, template: str, **context) -> Template:
    """``template`` showing the link to ``path`` (e.g. "/invite/<token>") and its QR code."""
    link = f"{str(request.base_url).rstrip('/')}{path}"
    response = page(template, link=link, qr=segno.make(link, error="m").svg_inline(scale=6), **context)
    response.headers["Cache-Control"] = "no-store"
    return response


async def new_password_page(request: Request, account_id: UUID, actor: UUID, back: str) -> Template:
    """Void the account's password (its logins end) and show the link to choose another."""
    token = await void_password(account_id, actor)
    account = await Account.select(Account.display_name, Account.login).where(Account.id == account_id).first()
    return secret_link_page(request, f"/reset/{token}", "password_link.html", account=account, back=back)
