"""The ibasho server (Litestar app, Piccolo tables, staff pages, CLI)."""

import os

# Piccolo finds its engine through this module; set it before any table is used.
os.environ.setdefault("PICCOLO_CONF", "server.piccolo_conf")
