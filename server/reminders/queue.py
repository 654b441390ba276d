"""The delivery queue: claiming due rows with a lease, and recording each send's outcome.

A worker claims due rows in one short transaction (``FOR UPDATE SKIP LOCKED`` on
PostgreSQL; an IMMEDIATE transaction on SQLite), commits the claim, sends, and records the
outcome. A claim whose process died is taken again once its lease has run out: at most
one repeat of a send that had gone out, with the same Topic so the push service replaces
rather than duplicates it.
"""

from __future__ import annotations

import logging
import random
from datetime import datetime, timedelta

from piccolo.engine.postgres import PostgresEngine

from server.core.clock import now as current_time
from server.db import write_transaction
from server.reminders.sender import Outcome
from server.tables import DeliveryState, PushSubscription, ReminderDelivery, RoleAssignment

log = logging.getLogger("ibasho.reminders")

MAX_RETRIES = 5
MAX_AUTH_FAILURES = 3  # consecutive 400/401/403 before a subscription is removed
LEASE = timedelta(minutes=2)
BACKOFF_BASE = 30.0  # seconds; doubles each retry, plus up to 50 % jitter


def _db():
    return ReminderDelivery._meta.db


async def claim(limit: int = 100, now: datetime | None = None, lease: timedelta = LEASE) -> list[dict]:
    """Take up to ``limit`` due deliveries (or ones whose lease ran out) and commit the claim."""
    now = now or current_time()
    due = (
        ((ReminderDelivery.state == DeliveryState.pending.value) & (ReminderDelivery.due_at <= now))
        | ((ReminderDelivery.state == DeliveryState.claimed.value) & (ReminderDelivery.lease_until < now))
    ) & (ReminderDelivery.expires_at > now)
    async with write_transaction():
        await ReminderDelivery.update(
            {  # too late to be of use: never sent past the start
                ReminderDelivery.state: DeliveryState.failed.value,
                ReminderDelivery.lease_until: None,
                ReminderDelivery.last_error: "expired before sending",
            }
        ).where(
            ReminderDelivery.state.is_in([DeliveryState.pending.value, DeliveryState.claimed.value])
            & (ReminderDelivery.expires_at <= now)
        )
        query = ReminderDelivery.select(ReminderDelivery.id).where(due).order_by(ReminderDelivery.due_at).limit(limit)
        if isinstance(_db(), PostgresEngine):
            query = query.lock_rows("UPDATE", skip_locked=True)
        ids = [row["id"] for row in await query]
        if not ids:
            return []
        await ReminderDelivery.update(
            {
                ReminderDelivery.state: DeliveryState.claimed.value,
                ReminderDelivery.lease_until: now + lease,
                ReminderDelivery.attempts: ReminderDelivery.attempts + 1,
            }
        ).where(ReminderDelivery.id.is_in(ids))
    rows = await ReminderDelivery.select(
        ReminderDelivery.all_columns(),
        ReminderDelivery.subscription.endpoint.as_alias("endpoint"),
        ReminderDelivery.subscription.p256dh.as_alias("p256dh"),
        ReminderDelivery.subscription.auth.as_alias("auth"),
        ReminderDelivery.subscription.channel.as_alias("channel"),
        ReminderDelivery.subscription.address.as_alias("address"),
        ReminderDelivery.subscription.account.as_alias("account_id"),
        ReminderDelivery.subscription.person.as_alias("person_id"),
        ReminderDelivery.session.title.as_alias("title"),
        ReminderDelivery.session.date.as_alias("date"),
        ReminderDelivery.session.start_time.as_alias("start_time"),
        ReminderDelivery.session.venue.as_alias("venue"),
        ReminderDelivery.session.ibasho.as_alias("ibasho_id"),
        ReminderDelivery.session.ibasho.timezone.as_alias("timezone"),
    ).where(ReminderDelivery.id.is_in(ids))
    await _add_duties(rows)
    return rows


async def _add_duties(rows: list[dict]) -> None:
    """An organiser's day-before reminder names their roles (役割分担) at that session, as
    assigned when it is sent: one query per batch."""
    wanted = [row for row in rows if row.get("account_id") and row["occurrence"].endswith(":day_before")]
    if not wanted:
        return
    duties: dict[tuple, list[str]] = {}
    for duty in await RoleAssignment.select(RoleAssignment.session, RoleAssignment.member, RoleAssignment.role).where(
        RoleAssignment.session.is_in(list({row["session"] for row in wanted}))
        & RoleAssignment.member.is_in(list({row["account_id"] for row in wanted}))
        & (RoleAssignment.assigned == True)
    ):
        duties.setdefault((duty["session"], duty["member"]), []).append(duty["role"])
    for row in wanted:
        row["duties"] = sorted(duties.get((row["session"], row["account_id"]), []))  # the same order on both engines


def backoff(attempt: int, retry_after: float | None) -> float:
    delay = BACKOFF_BASE * 2 ** (attempt - 1)
    delay += random.uniform(0, delay / 2)
    return max(delay, retry_after or 0.0)


async def record(row: dict, outcome: Outcome, now: datetime) -> str:
    """Store the outcome of one send; returns the delivery's new state."""
    status = outcome.status
    mine = (ReminderDelivery.id == row["id"]) & (ReminderDelivery.state == DeliveryState.claimed.value)
    sub = row["subscription"]
    if status in (201, 202):
        await record_sent([row], now)  # send_due records these a batch at a time
        return DeliveryState.sent.value
    if status in (404, 410) or outcome.unusable:
        log.info("push subscription %s is gone (%s): removed", sub, status or outcome.error)
        await PushSubscription.delete().where(PushSubscription.id == sub)  # its deliveries go with it
        return "removed"
    # LINE's 401 is the channel's token, perhaps replaced a moment ago: the retry looks it up again
    token_refused = status == 401 and row.get("channel") == "line"
    retryable = status is None or status == 429 or status >= 500 or token_refused
    if retryable:
        retries_done = row["attempts"] - 1
        if retries_done < MAX_RETRIES:
            next_at = now + timedelta(seconds=backoff(row["attempts"], outcome.retry_after))
            if next_at < row["expires_at"]:
                await ReminderDelivery.update(
                    {
                        ReminderDelivery.state: DeliveryState.pending.value,
                        ReminderDelivery.due_at: next_at,
                        ReminderDelivery.lease_until: None,
                        ReminderDelivery.last_error: f"{status}: {outcome.error}"[:1000],
                    }
                ).where(mine)
                return DeliveryState.pending.value
        reason = f"gave up after {row['attempts']} attempts: {status}: {outcome.error}"
    elif status == 413:
        log.error("push payload too large for delivery %s (our bug): %s", row["id"], outcome.error)
        reason = f"413: {outcome.error}"
    else:
        reason = f"{status}: {outcome.error}"
        if status in (400, 401, 403) and row.get("channel", "webpush") == "webpush":  # LINE's 401 is its token
            log.warning("push service refused delivery %s: %s", row["id"], reason)
            failures = (
                await PushSubscription.select(PushSubscription.consecutive_failures)
                .where(PushSubscription.id == sub)
                .first()
                or {}
            ).get("consecutive_failures", 0) + 1
            if failures >= MAX_AUTH_FAILURES:
                log.warning("push subscription %s removed after %d refusals", sub, failures)
                await PushSubscription.delete().where(PushSubscription.id == sub)
                return "removed"
            await PushSubscription.update({PushSubscription.consecutive_failures: failures}).where(
                PushSubscription.id == sub
            )
    await ReminderDelivery.update(
        {
            ReminderDelivery.state: DeliveryState.failed.value,
            ReminderDelivery.lease_until: None,
            ReminderDelivery.last_error: reason[:1000],
        }
    ).where(mine)
    return DeliveryState.failed.value


async def record_sent(rows: list[dict], now: datetime) -> None:
    """The common outcome, for a whole batch in one transaction: two statements, not two per row."""
    if not rows:
        return
    async with write_transaction():
        await ReminderDelivery.update(
            {
                ReminderDelivery.state: DeliveryState.sent.value,
                ReminderDelivery.sent_at: now,
                ReminderDelivery.lease_until: None,
                ReminderDelivery.last_error: "",
            }
        ).where(
            ReminderDelivery.id.is_in([row["id"] for row in rows])
            & (ReminderDelivery.state == DeliveryState.claimed.value)
        )
        await PushSubscription.update({PushSubscription.consecutive_failures: 0}).where(
            PushSubscription.id.is_in(list({row["subscription"] for row in rows}))
            & (PushSubscription.consecutive_failures != 0)
        )
