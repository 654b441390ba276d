"""Settings, read once from the environment.

Every knob an operator may turn lives here, so the docs have one place to point at.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path


def _env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    return raw.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    secret: str
    secure_cookies: bool
    login_days: int
    invitation_days: int
    login_max_failures: int
    login_window_seconds: int
    login_max_failures_per_address: int = 20
    subscriptions_per_address_per_hour: int = 60
    default_timezone: str = "Asia/Tokyo"
    default_language: str = "ja"
    languages: tuple[str, ...] = field(default=("ja", "en"))
    vapid_key_path: Path | None = None  # IBASHO_VAPID_KEY; default <data_dir>/vapid_private.pem
    vapid_subject: str = "mailto:admin@ibasho.invalid"  # IBASHO_VAPID_SUBJECT
    smtp_url: str = ""  # IBASHO_SMTP_URL: where mail goes (server/core/mail.py); empty: it waits
    mail_from: str = "noreply@ibasho.invalid"  # IBASHO_MAIL_FROM
    mail_from_name: str = "いばしょ"  # IBASHO_MAIL_FROM_NAME
    public_url: str = "http://127.0.0.1:8000"  # IBASHO_PUBLIC_URL: where links in reminder mails lead
    line_api_url: str = "https://api.line.me"  # IBASHO_LINE_API_URL: the Messaging API (a fake one in tests)
    # IBASHO_PUSH_HOSTS: comma-separated push-service hosts ("*.example" = subdomains);
    # "127.0.0.1:PORT" entries (loopback only) also allow plain http, for tests.
    push_hosts: tuple[str, ...] = (
        "fcm.googleapis.com",
        "updates.push.services.mozilla.com",
        "*.push.apple.com",
        "*.notify.windows.com",
    )

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> Path:
        """The database file of a ``sqlite:///relative`` or ``sqlite:////absolute`` URL."""
        return Path(self.database_url.removeprefix("sqlite:///"))


def _load_or_create_secret(data_dir: Path) -> str:
    """A random secret kept beside the data, so restarts keep CSRF tokens valid."""
    path = data_dir / "secret.key"
    if path.exists():
        return path.read_text().strip()
    data_dir.mkdir(parents=True, exist_ok=True)
    value = secrets.token_urlsafe(48)
    path.write_text(value)
    path.chmod(0o600)
    return value


def load_settings() -> Settings:
    data_dir = Path(os.environ.get("IBASHO_DATA_DIR", "data")).resolve()
    database_url = os.environ.get("DATABASE_URL") or f"sqlite:///{data_dir / 'ibasho.sqlite'}"
    secret = os.environ.get("IBASHO_SECRET") or _load_or_create_secret(data_dir)
    return Settings(
        data_dir=data_dir,
        database_url=database_url,
        secret=secret,
        secure_cookies=_env_bool("IBASHO_SECURE_COOKIES", False),
        login_days=int(os.environ.get("IBASHO_SESSION_DAYS", "180")),
        invitation_days=int(os.environ.get("IBASHO_INVITATION_DAYS", "7")),
        login_max_failures=int(os.environ.get("IBASHO_LOGIN_MAX_FAILURES", "5")),
        login_window_seconds=int(os.environ.get("IBASHO_LOGIN_WINDOW_SECONDS", "900")),
        login_max_failures_per_address=int(
            os.environ.get("IBASHO_LOGIN_MAX_FAILURES_PER_ADDRESS")
            or 4 * int(os.environ.get("IBASHO_LOGIN_MAX_FAILURES", "5"))
        ),
        subscriptions_per_address_per_hour=int(os.environ.get("IBASHO_SUBSCRIPTIONS_PER_ADDRESS_PER_HOUR", "60")),
        vapid_key_path=Path(os.environ["IBASHO_VAPID_KEY"]).resolve() if os.environ.get("IBASHO_VAPID_KEY") else None,
        vapid_subject=os.environ.get("IBASHO_VAPID_SUBJECT") or "mailto:admin@ibasho.invalid",
        smtp_url=os.environ.get("IBASHO_SMTP_URL", ""),
        mail_from=os.environ.get("IBASHO_MAIL_FROM") or "noreply@ibasho.invalid",
        mail_from_name=os.environ.get("IBASHO_MAIL_FROM_NAME") or "いばしょ",
        public_url=(os.environ.get("IBASHO_PUBLIC_URL") or "http://127.0.0.1:8000").rstrip("/"),
        line_api_url=(os.environ.get("IBASHO_LINE_API_URL") or "https://api.line.me").rstrip("/"),
        **(
            {"push_hosts": tuple(h.strip().lower() for h in os.environ["IBASHO_PUSH_HOSTS"].split(",") if h.strip())}
            if os.environ.get("IBASHO_PUSH_HOSTS")
            else {}
        ),
    )


_settings: Settings | None = None


def get_settings() -> Settings:
    global _settings
    if _settings is None:
        _settings = load_settings()
    return _settings
