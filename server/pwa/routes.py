"""Serves the organiser PWA (``pwa/``) with the right caching.

Assets live under a versioned path (``/app/v/<version>/…``, the version a hash of every
file), so they cache for a year; the shell (``/app/``), ``/sw.js`` and the manifest are
revalidated on each load. ``sw.js`` gets the version and the asset list prepended, so any
change to the app changes its bytes and the browser installs the new version.
"""

from __future__ import annotations

import hashlib
import json
import mimetypes
import os
from functools import lru_cache
from pathlib import Path

from litestar import Response, Router, get
from litestar.exceptions import NotFoundException
from litestar.params import FromPath

# IBASHO_PWA_DIR lets an operator (or a test) serve another copy of the app.
PWA_DIR = Path(os.environ.get("IBASHO_PWA_DIR") or Path(__file__).resolve().parent.parent.parent / "pwa")
SHELL_FILES = ("index.html", "sw.js", "manifest.webmanifest")
NO_CACHE = {"Cache-Control": "no-cache"}
LONG_CACHE = {"Cache-Control": "public, max-age=31536000, immutable"}
mimetypes.add_type("text/javascript", ".js")
mimetypes.add_type("application/manifest+json", ".webmanifest")


def assets() -> tuple[str, tuple[str, ...]]:
    """(version, asset paths relative to pwa/). Hashed again only when a file changes,
    so a deployment that replaces files is picked up without a restart."""
    files = sorted(p for p in PWA_DIR.rglob("*") if p.is_file())
    return _hash_assets(tuple((p, p.stat().st_mtime_ns, p.stat().st_size) for p in files))


@lru_cache(maxsize=4)
def _hash_assets(signature: tuple) -> tuple[str, tuple[str, ...]]:
    digest = hashlib.sha256()
    paths = []
    for path, _, _ in signature:
        relative = path.relative_to(PWA_DIR).as_posix()
        digest.update(relative.encode() + b"\0" + path.read_bytes())
        if relative not in SHELL_FILES:
            paths.append(relative)
    return digest.hexdigest()[:12], tuple(paths)


def asset_url(relative: str) -> str:
    return f"/app/v/{assets()[0]}/{relative}"


@get("/app/", include_in_schema=False)
async def shell() -> Response:
    version, _ = assets()
    html = (PWA_DIR / "index.html").read_text().replace("{{VERSION}}", version)
    return Response(html, media_type="text/html; charset=utf-8", headers=NO_CACHE)


@get("/app", include_in_schema=False)
async def shell_without_slash() -> Response:
    return await shell.fn()


@get("/app/v/{version:str}/{path:path}", include_in_schema=False)
async def asset(version: FromPath[str], path: FromPath[str]) -> Response:
    current, paths = assets()
    relative = path.lstrip("/")
    if relative not in paths:  # only files listed at start-up: no path traversal
        raise NotFoundException("no such asset")
    headers = LONG_CACHE if version == current else NO_CACHE
    media_type = mimetypes.guess_type(relative)[0] or "application/octet-stream"
    return Response((PWA_DIR / relative).read_bytes(), media_type=media_type, headers=headers)


@get("/sw.js", include_in_schema=False)
async def service_worker() -> Response:
    version, paths = assets()
    preamble = f"const VERSION = {json.dumps(version)};\nconst ASSETS = {json.dumps([asset_url(p) for p in paths])};\n"
    body = preamble + (PWA_DIR / "sw.js").read_text()
    return Response(body, media_type="text/javascript", headers=NO_CACHE)


def app_manifest() -> dict:
    """The app's manifest with its icons at their versioned URLs."""
    data = json.loads((PWA_DIR / "manifest.webmanifest").read_text())
    for icon in data["icons"]:
        icon["src"] = asset_url(icon["src"])
    return data


def manifest_response(data: dict) -> Response:
    return Response(json.dumps(data, ensure_ascii=False), media_type="application/manifest+json", headers=NO_CACHE)


@get("/manifest.webmanifest", include_in_schema=False)
async def manifest() -> Response:
    return manifest_response(app_manifest())


pwa_router = Router(path="/", route_handlers=[shell, shell_without_slash, asset, service_worker, manifest])
