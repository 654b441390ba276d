"""Reminder deliveries: one row per (occurrence, subscription), claimed with a lease, sent, recorded.

A delivery's id is derived from (occurrence, subscription), so creating it twice (two
processes reconciling at once) leaves one row. A worker claims due rows in one short
transaction (``FOR UPDATE SKIP LOCKED`` on PostgreSQL; an IMMEDIATE transaction on SQLite),
commits the claim, sends, and records the outcome. A claim whose process died is taken
again once its lease has run out: at most one repeat of a send that had gone out, with
the same Topic so the push service replaces rather than duplicates it.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import random
import ssl
from base64 import urlsafe_b64encode
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from uuid import NAMESPACE_URL, UUID, uuid5
from zoneinfo import ZoneInfo

import httpx
from piccolo.engine.postgres import PostgresEngine
from webpush import WebPush
from webpush.types import WebPushKeys, WebPushSubscription

from server.config import get_settings
from server.core.clock import now as current_time
from server.db import write_transaction
from server.reminders import tokens
from server.reminders.audience import is_public
from server.reminders.rules import Due, Rule, chosen_kinds, due_times, layered
from server.reminders.vapid import Vapid, load_vapid
from server.sync.store import decoded_json
from server.tables import (
    DeliveryState,
    GroupMembership,
    Ibasho,
    PushSubscription,
    ReminderDelivery,
    RoleAssignment,
    Session,
    SessionStatus,
)

log = logging.getLogger("ibasho.reminders")
_NAMESPACE = uuid5(NAMESPACE_URL, "https://ibasho.invalid/reminder-delivery")

MAX_PLAINTEXT = 3993  # bytes: one aes128gcm record of 4096 with the padding delimiter and tag
MAX_RETRIES = 5
MAX_AUTH_FAILURES = 3  # consecutive 400/401/403 before a subscription is removed
MAX_TTL = 28 * 24 * 3600
LEASE = timedelta(minutes=2)
BACKOFF_BASE = 30.0  # seconds; doubles each retry, plus up to 50 % jitter
CONCURRENCY = 50  # requests in flight: push services are remote, a send is mostly waiting (bench_fanout)
BATCH = 500  # deliveries claimed per transaction
LANES = 2  # batches in flight at once: one is claimed or recorded while another is being sent
RECONCILE_DAYS_AHEAD = 8


def delivery_id(occurrence: str, subscription_id: UUID) -> UUID:
    return uuid5(_NAMESPACE, f"{occurrence}|{subscription_id}")


def occurrence_key(session: dict, kind: str) -> str:
    """Includes the date and time: a moved session gets new reminders, the old ones are withdrawn."""
    start = session["start_time"].strftime("%H%M") if session["start_time"] else "----"
    return f"{session['id']}:{session['date'].isoformat()}T{start}:{kind}"


def topic_of(occurrence: str) -> str:
    """≤ 32 base64url characters, the same for every send of an occurrence."""
    return urlsafe_b64encode(hashlib.sha256(occurrence.encode()).digest()).decode()[:32]


def _db():
    return ReminderDelivery._meta.db


# --- which deliveries a session should have ------------------------------------------


async def _subscriptions_for(session: dict) -> list[dict]:
    """Participants subscribed to the session's ibasho (unless it is a members-only
    meeting), and the organisers of its group, with the reminder kinds each chose."""
    subs: dict[UUID, dict] = {}
    columns = (PushSubscription.id, PushSubscription.offsets)
    if session["ibasho"] is not None and is_public(session):
        for row in await PushSubscription.select(*columns).where(PushSubscription.ibasho == session["ibasho"]):
            subs[row["id"]] = row
    members = [
        r["account"]
        for r in await GroupMembership.select(GroupMembership.account).where(GroupMembership.group == session["group"])
    ]
    if members:
        for row in await PushSubscription.select(*columns).where(
            PushSubscription.account.is_in(members) & PushSubscription.ibasho.is_null()
        ):
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


# --- claiming -------------------------------------------------------------------------


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


# --- sending ----------------------------------------------------------------------------


ABSENT_ACTION = {"action": "absent", "title": "欠席します"}


def day_word(day, now: datetime, tz_name: str | None) -> str:
    """本日 / 明日 / 6月9日, as seen in the ibasho's zone when the reminder goes out (a
    deferred or retried reminder may go out on another day than planned)."""
    local = now.astimezone(ZoneInfo(tz_name or get_settings().default_timezone)).date()
    if day == local:
        return "本日"
    if day == local + timedelta(days=1):
        return "明日"
    return f"{day.month}月{day.day}日"


def payload_for(row: dict, now: datetime | None = None) -> bytes:
    """The notification the service worker shows, in Japanese; tag = occurrence.

    Organisers open the session in their app; participants the ibasho's public page; a
    participant linked to their roster entry gets the 「欠席します」 action, and the page
    the notification opens has the same button (iOS shows no actions)."""
    when = day_word(row["date"], now or current_time(), row.get("timezone"))
    start = row["start_time"].strftime("%H:%M") if row.get("start_time") else ""
    title = row.get("title") or "居場所"
    body = f"{when} {start} から" + (f"（{row['venue']}）" if row.get("venue") else "")
    message: dict = {"title": f"{title}のお知らせ", "body": body, "tag": row["occurrence"]}
    if row.get("duties"):  # e.g. 明日はあなたが調理担当です
        message |= {"title": f"{when}はあなたが{'・'.join(row['duties'])}担当です", "body": f"{title} {body}"}
    if row.get("session") and row.get("account_id", True):
        message["url"] = f"/app/#/session/{row['session']}"
    elif row.get("person_id"):
        token = tokens.absence(row["id"])
        message |= {
            "url": f"/push/reply/{token}",
            "actions": [ABSENT_ACTION],
            "absent_url": f"/api/push/absences/{token}",
        }
    else:
        message["url"] = f"/i/{row['ibasho_id']}" if row.get("ibasho_id") else "/"
    data = json.dumps(message, ensure_ascii=False).encode()
    if len(data) > MAX_PLAINTEXT:
        raise ValueError(f"payload of {len(data)} bytes is over {MAX_PLAINTEXT}")
    return data


@dataclass
class Outcome:
    status: int | None  # None: no answer (timeout, connection error)
    retry_after: float | None = None
    error: str = ""
    unusable: bool = False  # the subscription can never be sent to (e.g. its endpoint is no URL)


def retry_after_seconds(value: str | None, now: datetime) -> float | None:
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        return max(0.0, (parsedate_to_datetime(value) - now).total_seconds())
    except (TypeError, ValueError):
        return None


def push_client(verify: ssl.SSLContext | bool = True) -> httpx.AsyncClient:
    """The one client the scheduler shares. HTTP/2 where the push service offers it (they
    all do): one connection per service carries every request in flight, where HTTP/1.1
    needs a connection each, and httpx's pool costs CPU per connection on every request."""
    return httpx.AsyncClient(
        http2=True,
        verify=verify,
        timeout=httpx.Timeout(10.0),
        follow_redirects=False,
        limits=httpx.Limits(max_connections=CONCURRENCY),
    )


# The connection broke before an answer came: a push service closing a busy connection
# (HTTP/2 GOAWAY) fails the requests in flight on it. Sent again at once on a fresh
# connection; the same Topic makes the service replace rather than add a copy if the
# first did arrive. A timeout is not among them: that service is slow, so it waits for
# the backoff.
_CONNECTION_LOST = (httpx.NetworkError, httpx.RemoteProtocolError)


class Sender:
    """One shared httpx client, bounded concurrency, the cached VAPID header per origin."""

    def __init__(self, client: httpx.AsyncClient, vapid: Vapid | None = None, concurrency: int = CONCURRENCY) -> None:
        self.client = client
        self.vapid = vapid or load_vapid()
        self._webpush = WebPush(
            private_key=self.vapid.private_pem, public_key=self.vapid.public_pem, subscriber="admin@ibasho.invalid"
        )
        self.limit = asyncio.Semaphore(concurrency)

    def encrypt(self, data: bytes, row: dict) -> bytes:
        subscription = WebPushSubscription(
            endpoint=row["endpoint"], keys=WebPushKeys(p256dh=row["p256dh"], auth=row["auth"])
        )
        return self._webpush._encrypt(data, subscription)  # encryption only: our own VAPID header and TTL

    async def send(self, row: dict, now: datetime) -> Outcome:
        ttl = int(min((row["expires_at"] - now).total_seconds(), MAX_TTL))
        if ttl <= 0:
            return Outcome(status=0, error="expired before sending")
        try:
            body = self.encrypt(payload_for(row, now), row)
        except ValueError as error:
            return Outcome(status=413, error=str(error))
        headers = {
            "Authorization": self.vapid.authorization(row["endpoint"]),
            "TTL": str(ttl),
            "Urgency": "high" if row["occurrence"].endswith(":2h") else "normal",
            "Topic": topic_of(row["occurrence"]),
            "Content-Type": "application/octet-stream",
            "Content-Encoding": "aes128gcm",
        }
        async with self.limit:
            try:
                try:
                    response = await self.client.post(row["endpoint"], content=body, headers=headers)
                except _CONNECTION_LOST:
                    response = await self.client.post(row["endpoint"], content=body, headers=headers)
            except (httpx.InvalidURL, httpx.UnsupportedProtocol) as error:
                return Outcome(status=None, error=f"{type(error).__name__}: {error}", unusable=True)
            except httpx.HTTPError as error:
                return Outcome(status=None, error=f"{type(error).__name__}: {error}")
        return Outcome(
            status=response.status_code,
            retry_after=retry_after_seconds(response.headers.get("retry-after"), now),
            error=response.text[:500] if response.status_code >= 300 else "",
        )


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
    retryable = status is None or status == 429 or status >= 500
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
        if status in (400, 401, 403):
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


async def send_due(sender: Sender, limit: int = BATCH, now: datetime | None = None) -> list[str]:
    """Claim, send and record one batch; returns the new states."""
    rows = await claim(limit, now)
    if not rows:
        return []
    when = now or current_time()

    async def send(row: dict) -> Outcome:
        try:
            return await sender.send(row, when)
        except Exception as error:  # one bad row must not hold back the batch, nor come back for ever:
            log.exception("delivery %s failed unexpectedly", row["id"])  # retried with backoff, then given up
            return Outcome(status=None, error=f"{type(error).__name__}: {error}"[:500])

    outcomes = await asyncio.gather(*(send(row) for row in rows))
    accepted = [row for row, outcome in zip(rows, outcomes, strict=True) if outcome.status in (201, 202)]
    await record_sent(accepted, when)
    states = []
    for row, outcome in zip(rows, outcomes, strict=True):
        if outcome.status in (201, 202):
            states.append(DeliveryState.sent.value)
        else:
            try:
                states.append(await record(row, outcome, when))
            except Exception:
                log.exception("recording delivery %s failed; its lease will run out and it is retried", row["id"])
                states.append("error")
    return states


async def send_all_due(
    sender: Sender, limit: int = BATCH, now: datetime | None = None, lanes: int = LANES
) -> list[str]:
    """Send everything that is due, a batch at a time in each of ``lanes``; returns the states.
    A lane's database work (claim, record) overlaps the other lanes' sending, so the
    push service always has requests in flight. Lanes never share a delivery: each claims
    its own batch under the same lease rule that keeps several processes apart."""
    states: list[str] = []

    async def lane() -> None:
        while batch := await send_due(sender, limit, now):
            states.extend(batch)
            if len(batch) < limit:
                return

    await asyncio.gather(*(lane() for _ in range(lanes)))
    return states


async def run_reminders(
    tick: timedelta = timedelta(seconds=15),
    reconcile_every: timedelta = timedelta(minutes=10),
    client: httpx.AsyncClient | None = None,
) -> None:
    """Runs in the server's lifespan: reconcile now and then, send what is due every tick."""
    own = client is None
    client = client or push_client()
    sender: Sender | None = None
    last_reconcile: datetime | None = None
    try:
        while True:
            try:
                sender = sender or Sender(client)
                if last_reconcile is None or current_time() - last_reconcile >= reconcile_every:
                    await reconcile()
                    last_reconcile = current_time()
                await send_all_due(sender)
            except Exception:
                log.exception("reminder round failed")
            await asyncio.sleep(tick.total_seconds())
    finally:
        if own:
            await client.aclose()
