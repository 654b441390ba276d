"""Piccolo's configuration: which database, and which apps own migrations.

Piccolo finds this module through ``PICCOLO_CONF=server.piccolo_conf`` (set by
``server.db`` before any table is used).
"""

from piccolo.conf.apps import AppRegistry

from server.db import make_engine

DB = make_engine()

APP_REGISTRY = AppRegistry(apps=["server.piccolo_app"])
