"""Admin pages for grant programmes: the rules as data, with Musashino's and Aomori's
rules (docs/domain.md) as presets to start from."""

from __future__ import annotations

from dataclasses import dataclass, fields
from uuid import UUID, uuid4

from litestar import Response, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Template

from server.auth.guards import admin_only
from server.core.i18n import gettext as _
from server.core.labels import N_
from server.grants.rules import PRESETS
from server.tables import GrantProgramme, GroupGrant
from server.web.forms import Checker, Cleaned, Values
from server.web.pages import page, see_other

NUMBER_FIELDS = {
    "min_sessions_every_months": N_("At least one session every (months)"),
    "min_session_minutes": N_("Minimum session length (minutes)"),
    "activity_amount_per_session": N_("Activity amount per session (yen)"),
    "venue_cap_per_session": N_("Venue cost cap per session (yen)"),
    "fixed_yearly_amount": N_("Fixed yearly amount (yen)"),
    "yearly_cap": N_("Yearly cap (yen)"),
    "eligible_years": N_("Years of eligibility"),
    "min_age": N_("Minimum age"),
}
MAX_NUMBER = 100_000_000
OPTIONAL = {"min_sessions_every_months", "min_session_minutes", "yearly_cap", "eligible_years", "min_age"}


@dataclass
class ProgrammeForm:
    name: str = ""
    council: str = ""
    min_sessions_every_months: str = ""
    min_session_minutes: str = ""
    activity_amount_per_session: str = "0"
    venue_cap_per_session: str = "0"
    fixed_yearly_amount: str = "0"
    yearly_cap: str = ""
    eligible_years: str = ""
    min_age: str = ""
    requires_registration: str = ""
    notes: str = ""

    @classmethod
    def from_row(cls, row: dict) -> ProgrammeForm:
        values = {}
        for f in fields(cls):
            value = row.get(f.name)
            if f.name == "requires_registration":
                values[f.name] = "on" if value else ""
            else:
                values[f.name] = "" if value is None else str(value)
        return cls(**values)

    def clean(self) -> Cleaned:
        check = Checker()
        values: Values = {
            "name": check.text(self.name, _("Name"), 200, required=True),
            "council": check.text(self.council, _("Council"), 200),
            "notes": check.text(self.notes, _("Notes"), 20_000),
            "requires_registration": bool(self.requires_registration),
        }
        for key, label in NUMBER_FIELDS.items():
            number = check.whole_number(getattr(self, key), _(label), MAX_NUMBER)
            values[key] = number if number is not None else (None if key in OPTIONAL else 0)
        return values, check.errors


async def programme_or_404(programme_id: UUID) -> dict:
    row = await GrantProgramme.select().where(GrantProgramme.id == programme_id).first()
    if row is None:
        raise NotFoundException(f"no grant programme {programme_id}")
    return row


def form_page(form: ProgrammeForm, errors=(), programme: dict | None = None) -> Template:
    return page("grants/programme_form.html", errors, form=form, programme=programme, number_fields=NUMBER_FIELDS)


async def name_taken(name: str, except_id: UUID | None = None) -> bool:
    query = GrantProgramme.count().where(GrantProgramme.name == name)
    if except_id:
        query = query.where(GrantProgramme.id != except_id)
    return await query > 0


@get("/grants", guards=[admin_only])
async def programme_list() -> Template:
    rows = await GrantProgramme.select().order_by(GrantProgramme.name)
    enrolled = {row["programme"] for row in await GroupGrant.select(GroupGrant.programme)}
    return page(
        "grants/programmes.html", programmes=rows, enrolled=enrolled, presets=PRESETS, number_fields=NUMBER_FIELDS
    )


@get("/grants/new", guards=[admin_only])
async def programme_new() -> Template:
    return form_page(ProgrammeForm())


@post("/grants/new", guards=[admin_only])
async def programme_create(data: URLEncodedBody[ProgrammeForm]) -> Response:
    values, errors = data.clean()
    if not errors and await name_taken(values["name"]):
        errors.append(_("A grant programme with this name exists already."))
    if errors:
        return form_page(data, errors)
    await GrantProgramme.insert(GrantProgramme(id=uuid4(), **values))
    return see_other("/review/grants")


@post("/grants/presets/{key:str}", guards=[admin_only])
async def programme_preset(key: FromPath[str]) -> Response:
    """Add a preset (Musashino, Aomori) unless a programme of that name exists."""
    if key not in PRESETS:
        raise NotFoundException(f"no preset {key}")
    programme, council = PRESETS[key]
    if not await name_taken(programme.name):
        values = {f.name: getattr(programme, f.name) for f in fields(programme)}
        await GrantProgramme.insert(GrantProgramme(id=uuid4(), council=council, **values))
    return see_other("/review/grants")


@get("/grants/{programme_id:uuid}/edit", guards=[admin_only])
async def programme_edit(programme_id: FromPath[UUID]) -> Template:
    programme = await programme_or_404(programme_id)
    return form_page(ProgrammeForm.from_row(programme), programme=programme)


@post("/grants/{programme_id:uuid}/edit", guards=[admin_only])
async def programme_update(programme_id: FromPath[UUID], data: URLEncodedBody[ProgrammeForm]) -> Response:
    programme = await programme_or_404(programme_id)
    values, errors = data.clean()
    if not errors and await name_taken(values["name"], programme_id):
        errors.append(_("A grant programme with this name exists already."))
    if errors:
        return form_page(data, errors, programme)
    await GrantProgramme.update(values).where(GrantProgramme.id == programme_id)
    return see_other("/review/grants")


# Under /review beside the review pages staff use them from; each route is for admins.
grants_router = Router(
    path="/review",
    include_in_schema=False,
    route_handlers=[
        programme_list,
        programme_new,
        programme_create,
        programme_preset,
        programme_edit,
        programme_update,
    ],
)
