"""Grant programme pages. Admins create a programme (or add a preset), edit a year's rules,
copy them to the next fiscal year and retire a programme, previewing the amount of a
chosen group and year before saving. Staff read the programmes, and the amount page of a
group of their areas: every line of the computation, and each session counted or why not.

A version's rules apply from its fiscal year until the next version. Editing a version
that past fiscal years use needs a tick that says so: next year's changes go into a copy.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from litestar import Request, Response, Router, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Template

from server.auth.guards import admin_only, group_in_scope, principal_of, staff_only
from server.core.dates import fiscal_year, wareki_fiscal_year
from server.core.groups import ordinary_groups
from server.core.i18n import gettext as _
from server.core.labels import CATEGORIES
from server.grants import forms
from server.grants.data import Version, evaluate_for, group_grants, rules_in_force, today
from server.grants.model import COMPONENTS, ROUNDING_MODES, ROUNDING_UNITS, Rules
from server.grants.presets import PRESETS
from server.grants.programmes import (
    FIRST_YEAR,
    LAST_YEAR,
    NAME_LENGTH,
    TEXT_LENGTH,
    ProgrammeSpec,
    name_taken,
    programme_row,
    retire,
    save_programme,
    save_version,
    spec_from_preset,
    update_fields,
    versions_of,
)
from server.tables import GrantProgramme, GrantRuleVersion, Group, GroupGrant
from server.web.forms import Checker
from server.web.pages import page, see_other

KIND_NAMES = {kind: cls.TITLE for kind, cls in COMPONENTS.items()}


def this_year() -> int:
    return fiscal_year(today())


@dataclass
class ProgrammeFields:
    name: str = ""
    council: str = ""
    source: str = ""
    notes: str = ""


def read_fields(posted: forms.Posted, check: Checker) -> ProgrammeFields:
    return ProgrammeFields(
        name=check.text(posted.text("name"), _("Name"), NAME_LENGTH, required=True),
        council=check.text(posted.text("council"), _("Council"), NAME_LENGTH),
        source=check.text(posted.text("source"), _("Source"), TEXT_LENGTH),
        notes=check.text(posted.text("notes"), _("Notes on the rules"), TEXT_LENGTH),
    )


def read_year(posted: forms.Posted, check: Checker, name: str, label: str) -> int | None:
    return check.number_between(posted.text(name), label, range(FIRST_YEAR, LAST_YEAR + 1))


async def programme_or_404(programme_id: UUID) -> dict:
    row = await programme_row(programme_id)
    if row is None:
        raise NotFoundException(f"no grant programme {programme_id}")
    return row


async def preview_groups() -> list[dict]:
    return await Group.select(Group.id, Group.name).where(ordinary_groups(Group.id)).order_by(Group.name)


@dataclass
class Preview:
    group_name: str
    year: int
    first_fiscal_year: int
    enrolled: bool
    result: object


async def preview(posted: forms.Posted, rules: Rules, programme_id: UUID | None, check: Checker) -> Preview | None:
    """The chosen group's amount in the chosen year under ``rules``, not saved."""
    group_text, year = posted.text("preview_group"), read_year(posted, check, "preview_year", _("Fiscal year"))
    if not group_text or year is None:
        return None
    try:
        group = (
            await Group.select(Group.id, Group.name)
            .where((Group.id == UUID(group_text)) & ordinary_groups(Group.id))
            .first()
        )
    except ValueError:
        group = None
    if group is None:
        check.fail(_("Choose a group from the list."))
        return None
    enrolment = None
    if programme_id:
        enrolment = (
            await GroupGrant.select(GroupGrant.first_fiscal_year)
            .where((GroupGrant.group == group["id"]) & (GroupGrant.programme == programme_id))
            .first()
        )
    first = enrolment["first_fiscal_year"] if enrolment else year
    result = await evaluate_for(group["id"], year, rules, first)
    return Preview(group["name"], year, first, enrolment is not None, result)


def form_page(
    *,
    fields: ProgrammeFields,
    values: dict,
    errors=(),
    programme: dict | None = None,
    from_year: int | str = "",
    past_years: bool = False,
    groups=(),
    chosen_group: str = "",
    chosen_year: int | str = "",
    shown: Preview | None = None,
) -> Template:
    return page(
        "grants/programme_form.html",
        errors,
        fields=fields,
        values=values,
        rows=forms.with_blank_rows(values),
        programme=programme,
        from_year=from_year,
        year_label=wareki_fiscal_year(int(from_year))
        if str(from_year).isdigit() and FIRST_YEAR <= int(from_year) <= LAST_YEAR
        else "",
        past_years=past_years,
        this_year=this_year(),
        groups=groups,
        chosen_group=chosen_group,
        chosen_year=chosen_year or this_year(),
        preview=shown,
        number_labels=forms.labels(),
        kinds=KIND_NAMES,
        categories=CATEGORIES,
        units=ROUNDING_UNITS,
        modes=ROUNDING_MODES,
    )


# --- reading ----------------------------------------------------------------------------------------


async def list_page(request: Request, errors=()) -> Template:
    rows = await GrantProgramme.select().order_by(GrantProgramme.name)
    years: dict[UUID, list[int]] = {}
    versions = GrantRuleVersion.select(GrantRuleVersion.programme, GrantRuleVersion.from_year)
    for row in await versions.order_by(GrantRuleVersion.from_year):
        years.setdefault(row["programme"], []).append(row["from_year"])
    enrolled: dict[UUID, int] = {}
    for row in await GroupGrant.select(GroupGrant.programme):
        enrolled[row["programme"]] = enrolled.get(row["programme"], 0) + 1
    return page(
        "grants/programmes.html",
        errors,
        programmes=rows,
        years=years,
        enrolled=enrolled,
        presets=PRESETS,
        added={row["name"]: row["id"] for row in rows},
        this_year=this_year(),
        is_admin=principal_of(request).is_admin,
    )


@get("/grants", guards=[staff_only])
async def programme_list(request: Request) -> Template:
    return await list_page(request)


def spans(versions: list[tuple[int, Rules]]) -> list[tuple[int, int | None, Rules]]:
    """(first year, last year or None, rules) of each version, newest first."""
    ends = [next_year - 1 for next_year, _rules in versions[1:]] + [None]
    return [(year, end, rules) for (year, rules), end in zip(versions, ends, strict=True)][::-1]


async def view_page(request: Request, programme_id: UUID, errors=()) -> Template:
    programme = await programme_or_404(programme_id)
    versions = await versions_of(programme_id)
    principal = principal_of(request)
    enrolments = (
        await GroupGrant.select(
            GroupGrant.group,
            GroupGrant.group.name.as_alias("name"),
            GroupGrant.group.area.as_alias("area"),
            GroupGrant.first_fiscal_year,
        )
        .where(GroupGrant.programme == programme_id)
        .order_by(GroupGrant.group.name)
    )
    year = this_year()
    in_force = rules_in_force([Version(programme_id, y, r) for y, r in versions], year, programme["retired_after"])
    return page(
        "grants/programme.html",
        errors,
        programme=programme,
        versions=versions,
        spans=spans(versions),
        enrolments=[e for e in enrolments if principal.may_see_group(e["group"], e["area"])],
        this_year=year,
        in_force=in_force.from_year if isinstance(in_force, Version) else None,
        is_admin=principal.is_admin,
        kinds=KIND_NAMES,
    )


@get("/grants/{programme_id:uuid}", guards=[staff_only])
async def programme_view(request: Request, programme_id: FromPath[UUID]) -> Template:
    return await view_page(request, programme_id)


@get("/grants/{programme_id:uuid}/groups/{group_id:uuid}", guards=[staff_only])
async def amount_page(
    request: Request, programme_id: FromPath[UUID], group_id: FromPath[UUID], year: FromQuery[int | None] = None
) -> Template:
    """What the group is due under the programme in the year, line by line."""
    programme = await programme_or_404(programme_id)
    group = await group_in_scope(principal_of(request), group_id)
    year = year if year and FIRST_YEAR <= year <= LAST_YEAR else this_year()
    enrolment = next(
        (e for e in (await group_grants([group_id], year)).get(group_id, []) if e.programme_id == programme_id), None
    )
    if enrolment is None:
        raise NotFoundException(f"group {group_id} is not enrolled in grant programme {programme_id}")
    return page("grants/amount.html", programme=programme, group=group, year=year, enrolment=enrolment)


# --- changing (admins) ----------------------------------------------------------------------------------


@get("/grants/new", guards=[admin_only])
async def programme_new() -> Template:
    return form_page(
        fields=ProgrammeFields(),
        values=forms.form_values(None),
        from_year=this_year(),
        groups=await preview_groups(),
    )


async def _posted(request: Request) -> forms.Posted:
    return forms.Posted(await request.form())


@dataclass
class Submission:
    """A posted programme form, read: what to show again, and the rules if they are good."""

    posted: forms.Posted
    check: Checker
    fields: ProgrammeFields
    from_year: int | None
    values: dict
    rules: Rules | None
    rule_errors: list[str]

    @property
    def preview(self) -> bool:
        return self.posted.text("action") == "preview"


async def read_submission(request: Request, programme_id: UUID | None = None) -> Submission:
    posted = await _posted(request)
    check = Checker()
    fields = read_fields(posted, check)
    from_year = read_year(posted, check, "from_year", _("From fiscal year"))
    values, rules, rule_errors = forms.parse(posted.form)
    if fields.name and await name_taken(fields.name, programme_id):
        check.fail(_("A grant programme with this name exists already."))
    return Submission(posted, check, fields, from_year, values, rules, rule_errors)


async def shown_again(sub: Submission, programme: dict | None = None, past: bool = False) -> Template | None:
    """The form again, with the preview asked for or the problems found; None: save it."""
    shown = None
    if sub.rules is not None and sub.preview:
        shown = await preview(sub.posted, sub.rules, programme["id"] if programme else None, sub.check)
    errors = sub.check.errors + sub.rule_errors
    if not errors and not sub.preview:
        return None
    return form_page(
        fields=sub.fields,
        values=sub.values,
        errors=errors,
        programme=programme,
        from_year=sub.posted.text("from_year"),
        past_years=past,
        groups=await preview_groups(),
        chosen_group=sub.posted.text("preview_group"),
        chosen_year=sub.posted.text("preview_year"),
        shown=shown,
    )


@post("/grants/new", guards=[admin_only])
async def programme_create(request: Request) -> Response:
    sub = await read_submission(request)
    if again := await shown_again(sub):
        return again
    spec = ProgrammeSpec(**vars(sub.fields), versions=((sub.from_year, sub.rules),))
    programme_id = await save_programme(spec, principal_of(request).account_id)
    return see_other(f"/review/grants/{programme_id}")


@post("/grants/presets/{key:str}", guards=[admin_only])
async def programme_preset(request: Request, key: FromPath[str]) -> Response:
    """Add a preset from a chosen fiscal year, unless a programme of that name exists."""
    if key not in PRESETS:
        raise NotFoundException(f"no preset {key}")
    preset = PRESETS[key]
    posted = await _posted(request)
    check = Checker()
    from_year = read_year(posted, check, "from_year", _("From fiscal year"))
    existing = await GrantProgramme.select(GrantProgramme.id).where(GrantProgramme.name == preset["name"]).first()
    if existing:
        return see_other(f"/review/grants/{existing['id']}")
    if check.errors:
        return await list_page(request, check.errors)
    programme_id = await save_programme(spec_from_preset(preset, from_year), principal_of(request).account_id)
    return see_other(f"/review/grants/{programme_id}")


def pick_version(versions: list[tuple[int, Rules]], year: int | None) -> tuple[int, Rules] | None:
    if not versions:
        return None
    if year is None:
        return versions[-1]
    return next((v for v in versions if v[0] == year), None)


@get("/grants/{programme_id:uuid}/edit", guards=[admin_only])
async def programme_edit(programme_id: FromPath[UUID], year: FromQuery[int | None] = None) -> Template:
    programme = await programme_or_404(programme_id)
    versions = await versions_of(programme_id)
    version = pick_version(versions, year)
    if version is None and versions:
        raise NotFoundException(f"grant programme {programme_id} has no version from {year}")
    from_year, rules = version if version else (this_year(), None)
    return form_page(
        fields=ProgrammeFields(programme["name"], programme["council"], programme["source"], programme["notes"]),
        values=forms.form_values(rules),
        programme=programme,
        from_year=from_year,
        past_years=from_year < this_year(),
        groups=await preview_groups(),
    )


@post("/grants/{programme_id:uuid}/edit", guards=[admin_only])
async def programme_update(request: Request, programme_id: FromPath[UUID]) -> Response:
    programme = await programme_or_404(programme_id)
    sub = await read_submission(request, programme_id)
    past = sub.from_year is not None and sub.from_year < this_year()
    if past and not sub.preview and not sub.posted.text("past_ok"):
        sub.check.fail(
            _(
                "These rules are used for fiscal years from %(year)s on, before this one: saving changes their "
                "amounts too. Tick the box to correct them, or copy the rules to a new year instead."
            )
            % {"year": wareki_fiscal_year(sub.from_year)}
        )
    if again := await shown_again(sub, programme, past):
        return again
    actor = principal_of(request).account_id
    await update_fields(programme_id, vars(sub.fields), actor)
    await save_version(programme_id, sub.from_year, sub.rules, actor)
    return see_other(f"/review/grants/{programme_id}")


@post("/grants/{programme_id:uuid}/copy", guards=[admin_only])
async def programme_copy(request: Request, programme_id: FromPath[UUID]) -> Response:
    """A new version from ``to_year`` with the rules of the version before it (by default
    the latest version's rules, for the year after it)."""
    await programme_or_404(programme_id)
    versions = await versions_of(programme_id)
    posted = await _posted(request)
    check = Checker()
    to_year = read_year(posted, check, "to_year", _("To fiscal year")) if posted.text("to_year") else None
    if not versions:
        check.fail(_("The programme has no rules to copy yet."))
    elif to_year is None and not check.errors:
        to_year = versions[-1][0] + 1
    if to_year is not None and any(year == to_year for year, _rules in versions):
        check.fail(_("Rules from %(year)s exist already: edit them.") % {"year": wareki_fiscal_year(to_year)})
    if check.errors:
        return await view_page(request, programme_id, check.errors)
    before = [v for v in versions if v[0] < to_year] or versions[:1]
    await save_version(programme_id, to_year, before[-1][1], principal_of(request).account_id)
    return see_other(f"/review/grants/{programme_id}/edit?year={to_year}")


@post("/grants/{programme_id:uuid}/retire", guards=[admin_only])
async def programme_retire(request: Request, programme_id: FromPath[UUID]) -> Response:
    """The last fiscal year the programme pays (blank: in force again)."""
    await programme_or_404(programme_id)
    posted = await _posted(request)
    check = Checker()
    last_year = read_year(posted, check, "last_year", _("Last fiscal year")) if posted.text("last_year") else None
    if check.errors:
        return await view_page(request, programme_id, check.errors)
    await retire(programme_id, last_year, principal_of(request).account_id)
    return see_other(f"/review/grants/{programme_id}")


# Under /review beside the review pages staff use them from; each route states who may use it.
grants_router = Router(
    path="/review",
    include_in_schema=False,
    route_handlers=[
        programme_list,
        programme_new,
        programme_create,
        programme_preset,
        programme_view,
        programme_edit,
        programme_update,
        programme_copy,
        programme_retire,
        amount_page,
    ],
)
