"""All routes of the reminders area in one router: the push API, the absence replies, and
the participants' public pages (page, calendar feed, manifest, poster, management link)."""

from litestar import Router

from server.reminders import absence, calls, email, line, poster, public, subscriptions

API = [*subscriptions.HANDLERS, *absence.API_HANDLERS, *calls.API_HANDLERS, *email.API_HANDLERS, *line.API_HANDLERS]

push_router = Router(
    path="/",
    route_handlers=[
        Router(
            path="/api/push",
            route_handlers=API,
        ),
        *public.HANDLERS,
        *email.HANDLERS,
        *line.HANDLERS,
        *poster.HANDLERS,
        *absence.PAGE_HANDLERS,
        *calls.PAGE_HANDLERS,
    ],
)
