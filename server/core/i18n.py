"""Message catalogues (gettext .po files under ``server/locale``), Japanese by default.

Msgids are English; ``locale/ja`` translates them. The .po files are compiled in memory
at start-up with Babel, so there is no build step and no binary file in the repo.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).resolve().parent.parent / "locale"
LANGUAGES = ("ja", "en")
DEFAULT_LANGUAGE = "ja"
LANGUAGE_COOKIE = "lang"

current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


@cache
def translations(language: str) -> NullTranslations:
    po_path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    if not po_path.exists():
        return NullTranslations()
    with po_path.open("rb") as po_file:
        catalog = read_po(po_file, locale=language)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer)


def gettext(message: str) -> str:
    return translations(current_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language.get()).ngettext(singular, plural, n)


def pick_language(cookie_value: str | None, accept_language: str | None = None) -> str:
    """The cookie wins; otherwise Japanese, unless the browser asks for English only."""
    if cookie_value in LANGUAGES:
        return cookie_value
    if accept_language and accept_language.strip().lower().startswith("en") and "ja" not in accept_language.lower():
        return "en"
    return DEFAULT_LANGUAGE
