"""The /review router: staff and admins only (the audit log: admins only)."""

from litestar import Router

from server.auth.guards import staff_only
from server.review import dashboard, exports, followups, pages, report, safety, sheet

review_router = Router(
    path="/review",
    guards=[staff_only],
    include_in_schema=False,
    route_handlers=[
        *dashboard.HANDLERS,
        *pages.HANDLERS,
        *exports.HANDLERS,
        *safety.HANDLERS,
        *sheet.HANDLERS,
        *followups.HANDLERS,
        *report.HANDLERS,
    ],
)
