"""The Jinja2 environment shared by every server-rendered page."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape
from litestar.plugins.jinja import JinjaTemplateEngine
from litestar.template.config import TemplateConfig

from server.core import dates, i18n

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"


def make_environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATE_DIR),
        autoescape=select_autoescape(default=True, default_for_string=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals.update(
        current_language=i18n.current_language.get,
        languages=i18n.LANGUAGES,
        format_date_ja=dates.format_date_ja,
        moment=dates.format_moment,  # every time shown on a page: moment(value, group.timezone)
        wareki_fiscal_year=dates.wareki_fiscal_year,
        fiscal_year=dates.fiscal_year,
    )
    return env


def template_config() -> TemplateConfig:
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(make_environment()))
