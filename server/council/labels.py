"""Words for the codes stored in the tables (kind, audience, status, role, invitation state).

The values are msgids: templates show them with ``_()``, so they follow the reader's language.
"""

from __future__ import annotations

from server.i18n import gettext as _
from server.tables import Audience, IbashoKind, IbashoStatus, Role


def N_(message: str) -> str:
    """Marks a msgid for extraction; it is translated where it is shown."""
    return message


KINDS = {
    IbashoKind.kodomo_shokudo.value: N_("Children's cafeteria"),
    IbashoKind.salon.value: N_("Salon for older people"),
    IbashoKind.cafe.value: N_("Community or dementia café"),
    IbashoKind.chanoma.value: N_("Community living room"),
    IbashoKind.study.value: N_("Study support"),
    IbashoKind.parenting.value: N_("Parenting salon"),
    IbashoKind.other.value: N_("Other"),
}
AUDIENCES = {
    Audience.anyone.value: N_("Anyone"),
    Audience.seniors.value: N_("Mainly older people"),
    Audience.children.value: N_("Children"),
    Audience.parents.value: N_("Parents and children"),
}
STATUSES = {
    IbashoStatus.active.value: N_("Active"),
    IbashoStatus.paused.value: N_("Paused"),
    IbashoStatus.ended.value: N_("Ended"),
    IbashoStatus.graduated.value: N_("Graduated"),
}
ROLES = {
    Role.admin.value: N_("Council admin"),
    Role.staff.value: N_("Area staff"),
    Role.organiser.value: N_("Organiser"),
}
INVITATION_STATES = {"unused": N_("Unused"), "used": N_("Used"), "expired": N_("Expired")}


def choices(labels: dict) -> list[tuple[str, str]]:
    """(value, translated label) pairs for a <select>."""
    return [(value, _(label)) for value, label in labels.items()]
