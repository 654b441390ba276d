"""Planning reminder deliveries: which (occurrence, subscription) rows a session should have.

A delivery's id is derived from (occurrence, subscription), so creating it twice (two
processes reconciling at once) leaves one row. Refreshing a session brings its pending
rows in line with the session, its rule and each subscriber's choice; the periodic
reconcile does the same for every upcoming session.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import datetime, timedelta
from uuid import NAMESPACE_URL, UUID, uuid5

from server.config import get_settings
from server.core.clock import now as current_time
from server.db import write_transaction
from server.reminders.audience import is_public
from server.reminders.line_channels import channel_of, serving_channel
from server.reminders.rules import Due, Rule, chosen_kinds, due_times, layered
from server.sync.store import decoded_json
from server.tables import (
    DeliveryState,
    GroupMembership,
    Ibasho,
    PushSubscription,
    ReminderDelivery,
    Session,
    SessionStatus,
    SubscriptionChannel,
)

log = logging.getLogger("ibasho.reminders")
_NAMESPACE = uuid5(NAMESPACE_URL, "https://ibasho.invalid/reminder-delivery")

RECONCILE_DAYS_AHEAD = 8


def delivery_id(occurrence: str, subscription_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"{occurrence}|{subscription_id}")


def occurrence_key(session: dict, kind: str) -> str:
    """Includes the date and time: a moved session gets new reminders, the old ones are withdrawn."""
    start = session["start_time"].strftime("%H%M") if session["start_time"] else "----"
    return f"{session['id']}:{session['date'].isoformat()}T{start}:{kind}"


async def _subscriptions_for(session: dict) -> list[dict]:
    """Participants subscribed to the session's ibasho (unless it is a members-only
    meeting), and the organisers of its group, with the reminder kinds each chose."""
    subs: dict[UUID, dict] = {}
    columns = (PushSubscription.id, PushSubscription.offsets)
    # a browser at once; an address once confirmed; a phone never (it is on the call list)
    sendable = (PushSubscription.channel == SubscriptionChannel.webpush.value) | (
        PushSubscription.channel.is_in([SubscriptionChannel.email.value, SubscriptionChannel.line.value])
        & PushSubscription.confirmed_at.is_not_null()
    )
    if session["ibasho"] is not None and is_public(session):
        for row in await PushSubscription.select(*columns).where(
            (PushSubscription.ibasho == session["ibasho"]) & sendable
        ):
            subs[row["id"]] = row
    members = [
        r["account"]
        for r in await GroupMembership.select(GroupMembership.account).where(GroupMembership.group == session["group"])
    ]
    if members:
        serving: list[dict | None] = []  # looked up once, if an organiser has LINE
        for row in await PushSubscription.select(*columns, PushSubscription.channel, PushSubscription.endpoint).where(
            PushSubscription.account.is_in(members) & PushSubscription.ibasho.is_null() & sendable
        ):
            if row["channel"] == SubscriptionChannel.line.value:
                # LINE only through the channel serving this group: linked on another group's,
                # the organiser is not sent this group's meetings there
                serving = serving or [await serving_channel(session["group"])]
                if serving[0] is None or channel_of(row["endpoint"]) != serving[0]["id"]:
                    continue
            subs[row["id"]] = row
    return list(subs.values())


async def rule_for(session: dict) -> tuple[str, Rule]:
    """The zone and reminder rule of a session: the built-in rule, its ibasho's over it,
    and its own over that (a meeting without an ibasho: the built-in rule and its own)."""
    tz, ibasho_rule = get_settings().default_timezone, None
    if session["ibasho"] is not None:
        ibasho = (
            await Ibasho.select(Ibasho.timezone, Ibasho.reminder_rule).where(Ibasho.id == session["ibasho"]).first()
            or {}
        )
        tz, ibasho_rule = ibasho.get("timezone") or tz, ibasho.get("reminder_rule")
    return tz, layered(ibasho_rule, session.get("reminder_rule"))


async def refresh_deliveries(session_id: UUID, now: datetime | None = None) -> int:
    """Bring the pending deliveries of one session in line with it, its rule and each
    subscriber's choice: create the missing ones, move the due time of unsent ones whose
    rule changed, withdraw those no longer wanted (a cancelled, deleted or moved session,
    a kind the rule or the subscriber turned off). Sent, failed and in-flight deliveries
    are never touched, nor the backoff of one being retried. Returns how many deliveries
    it created (or revived). Callable from any code that changes a session."""
    now = now or current_time()
    session = await Session.select().where(Session.id == session_id).first()
    wanted: dict[UUID, tuple[str, UUID, Due]] = {}  # delivery id → (occurrence, subscription, due)
    if (
        session is not None
        and not session["deleted"]
        and session["status"] == SessionStatus.scheduled.value
        and session["start_time"] is not None
    ):
        tz, rule = await rule_for(session)
        dues = {
            due.kind: due for due in due_times(session["date"], session["start_time"], tz, rule) if due.expires_at > now
        }
        for sub in await _subscriptions_for(session):
            for kind in chosen_kinds(decoded_json(sub["offsets"]), dues):
                occurrence = occurrence_key(session, kind)
                wanted[delivery_id(occurrence, sub["id"])] = (occurrence, sub["id"], dues[kind])
    async with write_transaction():
        # every delivery of the session, in one read: pending ones to withdraw or move,
        # withdrawn ones to revive, any to leave be (wanted ids all belong to this session)
        known = {
            row["id"]: row
            for row in await ReminderDelivery.select(
                ReminderDelivery.id,
                ReminderDelivery.state,
                ReminderDelivery.due_at,
                ReminderDelivery.expires_at,
                ReminderDelivery.attempts,
            ).where(ReminderDelivery.session == session_id)
        }
        pending = [row for row in known.values() if row["state"] == DeliveryState.pending.value]
        stale = [row["id"] for row in pending if row["id"] not in wanted]
        if stale:
            await ReminderDelivery.update(
                {
                    ReminderDelivery.state: DeliveryState.withdrawn.value,
                    ReminderDelivery.last_error: "session or reminder rule changed",
                }
            ).where(ReminderDelivery.id.is_in(stale) & (ReminderDelivery.state == DeliveryState.pending.value))
        # a changed rule or zone: the same occurrence at a new time (a retry keeps its backoff)
        moved = _by_times(
            (row["id"], wanted[row["id"]][2])
            for row in pending
            if row["id"] in wanted
            and row["attempts"] == 0
            and (row["due_at"], row["expires_at"]) != _times(wanted[row["id"]][2])
        )
        for (due_at, expires_at), ids in moved.items():
            await ReminderDelivery.update(
                {
                    ReminderDelivery.due_at: due_at,
                    ReminderDelivery.expires_at: expires_at,
                }
            ).where(ReminderDelivery.id.is_in(ids) & (ReminderDelivery.state == DeliveryState.pending.value))
        # withdrawn, then wanted again (a kind chosen again, a session moved back): never sent, so it goes
        revived = _by_times(
            (i, wanted[i][2])
            for i, row in known.items()
            if i in wanted and row["state"] == DeliveryState.withdrawn.value
        )
        for (due_at, expires_at), ids in revived.items():
            await ReminderDelivery.update(
                {
                    ReminderDelivery.state: DeliveryState.pending.value,
                    ReminderDelivery.due_at: due_at,
                    ReminderDelivery.expires_at: expires_at,
                    ReminderDelivery.attempts: 0,
                    ReminderDelivery.last_error: "",
                }
            ).where(ReminderDelivery.id.is_in(ids) & (ReminderDelivery.state == DeliveryState.withdrawn.value))
        new = [
            ReminderDelivery(
                id=i,
                occurrence=occurrence,
                subscription=sub_id,
                session=session_id,
                due_at=due.due_at,
                expires_at=due.expires_at,
                state=DeliveryState.pending.value,
                attempts=0,
                last_error="",
            )
            for i, (occurrence, sub_id, due) in wanted.items()
            if i not in known
        ]
        if new:
            await ReminderDelivery.insert(*new).on_conflict(action="DO NOTHING")
    return len(new) + sum(len(ids) for ids in revived.values())


def _times(due: Due) -> tuple[datetime, datetime]:
    return due.due_at, due.expires_at


def _by_times(deliveries: Iterable[tuple[UUID, Due]]) -> dict[tuple[datetime, datetime], list[UUID]]:
    """Delivery ids grouped by their (due, expires) times: one UPDATE per group, not per row."""
    groups: dict[tuple[datetime, datetime], list[UUID]] = {}
    for delivery, due in deliveries:
        groups.setdefault(_times(due), []).append(delivery)
    return groups


async def refresh_ibasho(ibasho_id: UUID, now: datetime | None = None) -> None:
    """Refresh the reminders of an ibasho's upcoming sessions after its rule, zone or
    schedule changed, or one of its subscribers changed their choice."""
    now = now or current_time()
    ids = [
        row["id"]
        for row in await Session.select(Session.id).where(
            (Session.ibasho == ibasho_id) & (Session.date >= now.date() - timedelta(days=1))
        )
    ]
    await refresh_sessions(ids, now)


async def refresh_account(account_id: UUID, now: datetime | None = None) -> None:
    """Refresh the reminders of the upcoming sessions of an account's groups (its own
    subscription changed): not every group's, as the periodic reconcile does."""
    now = now or current_time()
    groups = [
        row["group"]
        for row in await GroupMembership.select(GroupMembership.group).where(GroupMembership.account == account_id)
    ]
    if groups:
        ids = await Session.select(Session.id).where(
            Session.group.is_in(groups) & (Session.date >= now.date() - timedelta(days=1))
        )
        await refresh_sessions([row["id"] for row in ids], now)


async def refresh_sessions(session_ids: Iterable[object], now: datetime | None = None) -> None:
    """Bring the reminders of changed sessions in line right after the change committed
    (a phone's push, a staff edit), so a cancelled session's reminders go at once rather
    than at the next reconcile. Only sessions the reconcile would look at: upcoming ones
    and those with pending deliveries. Best effort: the periodic reconcile repairs a failure."""
    now = now or current_time()
    ids = set()
    for value in session_ids:
        try:
            ids.add(value if isinstance(value, UUID) else UUID(str(value)))
        except ValueError:
            continue
    if not ids:
        return
    today = now.date()
    due = {
        row["id"]
        for row in await Session.select(Session.id).where(
            Session.id.is_in(list(ids))
            & (Session.date >= today - timedelta(days=1))
            & (Session.date <= today + timedelta(days=RECONCILE_DAYS_AHEAD))
        )
    }
    due |= {
        row["session"]
        for row in await ReminderDelivery.select(ReminderDelivery.session).where(
            ReminderDelivery.session.is_in(list(ids)) & (ReminderDelivery.state == DeliveryState.pending.value)
        )
    }
    for session_id in due:
        try:
            await refresh_deliveries(session_id, now)
        except Exception:
            log.exception("refreshing the reminders of session %s failed; the reconcile will retry", session_id)


async def reconcile(now: datetime | None = None) -> int:
    """(Re)create the deliveries of upcoming sessions; withdraw those of changed ones."""
    now = now or current_time()
    today = now.date()
    ids = {
        row["id"]
        for row in await Session.select(Session.id).where(
            (Session.date >= today - timedelta(days=1)) & (Session.date <= today + timedelta(days=RECONCILE_DAYS_AHEAD))
        )
    }
    ids |= {
        row["session"]
        for row in await ReminderDelivery.select(ReminderDelivery.session).where(
            (ReminderDelivery.state == DeliveryState.pending.value) & ReminderDelivery.session.is_not_null()
        )
    }
    created = 0
    for session_id in ids:
        created += await refresh_deliveries(session_id, now)
    return created
