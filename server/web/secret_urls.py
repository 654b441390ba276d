"""URLs that carry a secret, and how the logs show them.

A management, invitation or absence-reply token in a URL is the whole authority over what
it names (the database keeps only hashes of the stored ones), and so is the personal QR
code's token: a log line holding one is as good as the link. Logs show these URLs with the
secret replaced, keeping the rest (which route, which ibasho) for whoever reads them.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any
from urllib.parse import unquote_plus

REDACTED = "[redacted]"

# The path segment that follows each of these is a secret token.
SECRET_PATHS = (
    "/push/manage/",  # a participant's management link
    "/api/push/subscriptions/",  # stopping reminders with that link's token
    "/push/reply/",  # a notification's absence reply
    "/api/push/absences/",
    "/invite/",  # an organiser's invitation
    "/reset/",  # a link to choose a new password (server/auth/credentials.py)
    "/apply/status/",  # an applicant's view of their registration (server/registration)
    "/events/mine/",  # an event applicant's page: cancel, certificate (server/events)
    "/committee/",  # a committee member's page of minutes (server/committees)
    "/push/email/confirm/",  # confirming reminders by email (server/reminders/email.py)
    "/push/stop/",  # stopping them from a mail
)
# The value of these query parameters is a secret token.
SECRET_PARAMETERS = ("person",)  # the personal QR code, on /i/<id> and its manifest


def _path_pattern(prefix: str) -> str:
    # also percent-encoded, as inside a query value (/login?next=%2Finvite%2F…)
    return re.escape(prefix).replace("/", "(?:/|%2[Ff])")


# in any case: a request for /PUSH/MANAGE/<token> is not honoured, but its token is real
_SECRET_PATH = re.compile("(" + "|".join(map(_path_pattern, SECRET_PATHS)) + r")[^/?#&\s]+", re.IGNORECASE)
# any parameter: its name is compared once decoded, as the app reads it ("%70erson" is "person")
_PARAMETER = re.compile(r"([?&;])([^=&#;\s]+)=([^&#;\s]*)")


def _parameter(match: re.Match) -> str:
    secret = unquote_plus(match.group(2)).strip().lower() in SECRET_PARAMETERS
    return f"{match.group(1)}{match.group(2)}={REDACTED}" if secret else match.group(0)


def redact(text: str) -> str:
    """``text`` (a path, a URL, a log message) with every secret token replaced."""
    return _PARAMETER.sub(_parameter, _SECRET_PATH.sub(lambda match: match.group(1) + REDACTED, text))


class RedactSecrets(logging.Filter):
    """Redacts a record's message and its string arguments: uvicorn's access log passes the
    requested path and query as one of them."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True


def uvicorn_log_config() -> dict[str, Any]:
    """uvicorn's own logging configuration with the filter on its handlers. A plain dict,
    so every worker process of ``--workers N`` applies it as it starts."""
    from uvicorn.config import LOGGING_CONFIG

    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["secrets"] = {"()": f"{__name__}.RedactSecrets"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("secrets")
    # ibasho's own loggers through the same filtered handler (at the root's level, as before)
    config["loggers"]["ibasho"] = {"handlers": ["default"], "propagate": False}
    return config
