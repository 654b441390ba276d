"""Staff set up LINE公式アカウント channels for reminders (server/reminders/line.py): the
council's own (admins) or one group's (staff of its area). The token and secret are taken,
never shown again; the page shows the webhook URL to enter in the LINE Developers console.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from litestar import Request, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Template

from server.auth.guards import principal_of
from server.auth.principal import Principal
from server.config import get_settings
from server.core.audit import audit
from server.core.clock import now
from server.core.groups import ordinary_groups
from server.core.i18n import gettext as _
from server.council.render import page
from server.tables import Group, LineChannel
from server.web.forms import Checker
from server.web.pages import see_other

COUNCIL = "council"  # the group choice that means the council's own account


@dataclass
class LineChannelForm:
    name: str = ""
    group: str = ""
    access_token: str = ""
    channel_secret: str = ""
    friend_url: str = ""


async def _groups(principal: Principal) -> list[dict]:
    rows = await Group.select(Group.id, Group.name, Group.area).where(ordinary_groups(Group.id)).order_by(Group.name)
    return [row for row in rows if principal.may_see_group(row["id"], row["area"])]


async def _page(request: Request, form: LineChannelForm, errors=()) -> Template:
    principal = principal_of(request)
    groups = await _groups(principal)
    names = {row["id"]: row["name"] for row in groups}
    channels = [
        {
            **row,
            "group_name": names.get(row["group"]),
            "webhook": f"{get_settings().public_url}/line/webhook/{row['id']}",
        }
        for row in await LineChannel.select(
            LineChannel.id, LineChannel.name, LineChannel.group, LineChannel.friend_url, LineChannel.enabled
        ).order_by(LineChannel.name)
        if _may_manage(principal, row, names)
    ]
    return page("line_channels.html", errors, form=form, groups=groups, channels=channels, council=principal.is_admin)


def _may_manage(principal: Principal, row: dict, groups: dict) -> bool:
    """The council's channel: admins; a group's: whoever may see the group."""
    return (row["group"] is None and principal.is_admin) or row["group"] in groups


@get("/line")
async def line_channels(request: Request) -> Template:
    return await _page(request, LineChannelForm())


@post("/line")
async def line_channel_save(request: Request, data: URLEncodedBody[LineChannelForm]) -> Response | Template:
    """Add a channel, or replace the one of the same group (a new token after a reissue)."""
    principal = principal_of(request)
    check = Checker()
    name = check.text(data.name, _("Account name"), 100, required=True)
    token = check.text(data.access_token, _("Channel access token"), 1000, required=True)
    secret = check.text(data.channel_secret, _("Channel secret"), 64, required=True)
    friend_url = check.text(data.friend_url, _("Friend-add link"), 500)
    if friend_url and not friend_url.startswith("https://"):
        check.fail(_("The friend-add link must start with https://"))
    group: UUID | None = None
    if data.group == COUNCIL and principal.is_admin:
        group = None
    else:
        group = check.parse(data.group, UUID, _("Group"))
        if group not in {row["id"] for row in await _groups(principal)}:
            check.fail(_("Choose a group from the list."))
    if check.errors:
        return await _page(
            request, LineChannelForm(name=data.name, group=data.group, friend_url=data.friend_url), check.errors
        )
    values = {"name": name, "access_token": token, "channel_secret": secret, "friend_url": friend_url}
    existing = (
        await LineChannel.select(LineChannel.id)
        .where(LineChannel.group.is_null() if group is None else LineChannel.group == group)
        .first()
    )
    if existing:
        await LineChannel.update({getattr(LineChannel, k): v for k, v in values.items()}).where(
            LineChannel.id == existing["id"]
        )
        channel_id = existing["id"]
    else:
        channel_id = uuid4()
        await LineChannel.insert(LineChannel(id=channel_id, group=group, created_at=now(), **values))
    await audit(principal.account_id, "line_channel.save", f"line_channel:{channel_id}", name)
    return see_other("/staff/line")


@dataclass
class EnabledForm:
    enabled: bool = False  # the button posts 1 to start the channel again, nothing to stop it


@post("/line/{channel_id:uuid}/enabled")
async def line_channel_enabled(
    request: Request, channel_id: FromPath[UUID], data: URLEncodedBody[EnabledForm]
) -> Response:
    """Stop a channel (nothing is sent through it, no code is handed out; its subscribers
    stay, for when it is started again) or start it again."""
    principal = principal_of(request)
    row = (
        await LineChannel.select(LineChannel.id, LineChannel.group, LineChannel.name)
        .where(LineChannel.id == channel_id)
        .first()
    )
    if row is None or not _may_manage(principal, row, {g["id"] for g in await _groups(principal)}):
        raise NotFoundException("no such LINE channel")
    await LineChannel.update({LineChannel.enabled: data.enabled}).where(LineChannel.id == channel_id)
    action = "line_channel.start" if data.enabled else "line_channel.stop"
    await audit(principal.account_id, action, f"line_channel:{channel_id}", row["name"])
    return see_other("/staff/line")


HANDLERS = [line_channels, line_channel_save, line_channel_enabled]
