"""Admin and staff pages (Jinja2, plain HTML forms): areas, accounts, groups, ibasho, invitations."""

from litestar import Router

from server.council.admin import admin_router
from server.council.pages import staff_router

council_router = Router(path="/", route_handlers=[admin_router, staff_router])
