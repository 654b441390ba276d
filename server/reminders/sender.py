"""Sending one reminder by Web Push: the payload, its encryption, the VAPID header, the answer.

One shared HTTP client (aiohttp) with bounded concurrency; the outcome of each send is
returned, never stored here (server/reminders/queue.py records it).
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import ssl
from base64 import urlsafe_b64encode
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parsedate_to_datetime
from zoneinfo import ZoneInfo

import aiohttp
import yarl
from webpush import WebPush
from webpush.types import WebPushKeys, WebPushSubscription

from server.config import get_settings
from server.core.clock import now as current_time
from server.reminders import tokens
from server.reminders.vapid import Vapid, load_vapid

MAX_PLAINTEXT = 3993  # bytes: one aes128gcm record of 4096 with the padding delimiter and tag
MAX_TTL = 28 * 24 * 3600
CONCURRENCY = 50  # requests in flight: push services are remote, a send is mostly waiting (bench_fanout)


def topic_of(occurrence: str) -> str:
    """≤ 32 base64url characters, the same for every send of an occurrence."""
    return urlsafe_b64encode(hashlib.sha256(occurrence.encode()).digest()).decode()[:32]


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


def notice_for(row: dict, now: datetime | None = None) -> dict:
    """What a reminder says, in Japanese, whatever carries it; tag = occurrence.

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
    return message


def payload_for(row: dict, now: datetime | None = None) -> bytes:
    """The notification the service worker shows (``notice_for`` as JSON)."""
    data = json.dumps(notice_for(row, now), ensure_ascii=False).encode()
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


def push_client(verify: ssl.SSLContext | bool = True) -> aiohttp.ClientSession:
    """The one client the scheduler shares: HTTP/1.1 keep-alive connections in a pool, one
    per request in flight, parsed by aiohttp's C parser. bench_fanout measured it beside
    HTTP/2 (httpx, with a pure-Python protocol stack): a third of the CPU per message, and
    so ahead of pywebpush even with the database work. Make it inside the running loop."""
    context = verify if isinstance(verify, ssl.SSLContext) else (None if verify else False)
    return aiohttp.ClientSession(
        connector=aiohttp.TCPConnector(limit=CONCURRENCY, ssl=context),
        timeout=aiohttp.ClientTimeout(total=10),
        auto_decompress=False,  # push services answer a status and a short text
    )


def endpoint_url(endpoint: str) -> yarl.URL:
    """An endpoint as the sender reads it and sends to it: byte for byte as stored (yarl
    would otherwise turn an FCM token's "%3D" into "="). ValueError if it does not read
    back unchanged (a tab in it would be dropped, sending elsewhere) or is no URL at all."""
    url = yarl.URL(endpoint, encoded=True)
    if str(url) != endpoint:
        raise ValueError(f"the endpoint does not read back as it is: {endpoint[:100]!r}")
    return url


# The connection broke before an answer came: a push service closes an idle or busy
# keep-alive connection now and then, and the request on it fails. Sent again at once on a
# fresh connection; the same Topic makes the service replace rather than add a copy if the
# first did arrive. A timeout or a refused connection is not among them: that service is
# slow or down, so it waits for the backoff.
_CONNECTION_LOST = (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError)
_NOT_LOST = aiohttp.ClientConnectorError  # a ClientOSError, but the connection never was


class Sender:
    """One shared aiohttp session, bounded concurrency, the cached VAPID header per origin."""

    def __init__(
        self, client: aiohttp.ClientSession, vapid: Vapid | None = None, concurrency: int = CONCURRENCY
    ) -> None:
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

    async def _post(self, url: str, body: bytes, headers: dict[str, str]) -> tuple[int, str | None, str]:
        async with self.client.post(endpoint_url(url), data=body, headers=headers, allow_redirects=False) as response:
            text = await response.text(errors="replace")  # read whole, so the connection is reused
            return response.status, response.headers.get("retry-after"), text

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
                    status, retry_after, text = await self._post(row["endpoint"], body, headers)
                except _NOT_LOST:
                    raise
                except _CONNECTION_LOST:
                    status, retry_after, text = await self._post(row["endpoint"], body, headers)
            except (ValueError, aiohttp.InvalidURL, aiohttp.NonHttpUrlClientError) as error:
                return Outcome(status=None, error=f"{type(error).__name__}: {error}", unusable=True)
            except (aiohttp.ClientError, TimeoutError) as error:
                return Outcome(status=None, error=f"{type(error).__name__}: {error or 'timed out'}")
        return Outcome(
            status=status,
            retry_after=retry_after_seconds(retry_after, now),
            error=text[:500] if status >= 300 else "",
        )
