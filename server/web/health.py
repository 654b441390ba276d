"""Liveness and readiness: the process answers and the database answers."""

from litestar import get

from server.tables import Area


@get("/healthz", tags=["meta"])
async def healthz() -> dict:
    await Area.count()
    return {"status": "ok"}
