"""Finding English on a Japanese page without a browser: the text people read in server-
rendered HTML (not scripts or styles), and the attributes screen readers and tooltips show."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from tests.browser import ALLOWED_LATIN

LATIN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.:-]*[A-Za-z0-9]|[A-Za-z]")  # then only runs with a letter
# Written as is in Japanese too: names of things, file kinds, and the literal syntax of the
# advanced repeat rule (its example on the ibasho form).
TERMS = {
    "Excel",
    "iPad",
    "A4",
    "URL",
    "JSON",
    "zip",
    "NUL",
    "RRULE",
    "FREQ",
    "MONTHLY",
    "BYDAY",
    "SU",
    "Webhook",
    "Developers",
}  # LINE Developers, Webhook: LINE's own words
# Not words: addresses and mail addresses shown to be copied, codes with digits in them.
NOT_WORDS = re.compile(r"https?://\S+|[\w.+-]+@[\w.-]+")
HEX_CODE = re.compile(r"[0-9a-f]{8,}")  # no English word is eight letters of a to f
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
SHOWN_ATTRIBUTES = ("placeholder", "title", "aria-label", "alt")


class _Text(HTMLParser):
    """Text outside scripts and styles, and outside elements marked translate="no" (recorded
    data shown as written, such as an audit entry's detail)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden = 0
        self._kept: list[str] = []  # open tags, the first of them marked translate="no"

    def handle_starttag(self, tag, attrs):
        if tag not in VOID and (self._kept or dict(attrs).get("translate") == "no"):
            self._kept.append(tag)
        if tag in ("script", "style", "template"):
            self._hidden += 1
        self.parts += [value or "" for name, value in attrs if name in SHOWN_ATTRIBUTES]
        if tag == "input" and dict(attrs).get("type") in ("submit", "button"):
            self.parts.append(dict(attrs).get("value") or "")

    def handle_endtag(self, tag):
        if tag in ("script", "style", "template") and self._hidden:
            self._hidden -= 1
        if self._kept and self._kept[-1] == tag:
            self._kept.pop()

    def handle_data(self, data):
        if not self._hidden and not self._kept:
            self.parts.append(data)


def shown_text(html: str) -> str:
    parser = _Text()
    parser.feed(html)
    return " ".join(parser.parts)


def english_in(html: str, names: set[str] = frozenset()) -> list[str]:
    """Runs of Latin letters a reader sees, beyond the allowed terms and ``names`` (the
    test data's own names and logins, which may be Latin)."""
    runs = LATIN.findall(NOT_WORDS.sub(" ", shown_text(html)))
    allowed = ALLOWED_LATIN | TERMS | names
    # 44395bcb, 2026/12/1, afebffce: codes and numbers (a test's unique hex suffix may have no digit)
    words = [run for run in runs if not any(c.isdigit() for c in run) and not HEX_CODE.fullmatch(run)]
    return [run for run in words if run not in allowed]


def latin_words(*texts: str) -> set[str]:
    """The Latin runs of some data (names, logins), to allow them on a page."""
    return {run for text in texts if text for run in LATIN.findall(text)}
