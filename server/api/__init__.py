"""The JSON API beside sync: read-only views of what the caller may see."""

from litestar import Router

from server.api.groups import group_routes

api_router = Router(path="/api", route_handlers=group_routes, tags=["groups"])
