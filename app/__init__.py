"""Blue Beret: conduct training for United Nations peacekeeping personnel."""

from __future__ import annotations

from typing import IO, Any

import click
from flask import Flask

from app.services.content import ModuleError
from config import Config, config_from_environment, engine_options


def create_app(config_class: type[Config] | None = None) -> Flask:
    """Create the application for a configuration (by default, the environment's)."""
    config_class = config_class or config_from_environment()
    config_class.check()
    app = Flask(__name__, instance_relative_config=True)
    app.config.from_object(config_class)
    # Derived from the URL actually in use, so a subclass changing the URL stays right.
    app.config["SQLALCHEMY_ENGINE_OPTIONS"] = engine_options(app.config["SQLALCHEMY_DATABASE_URI"])
    app.jinja_env.trim_blocks = app.jinja_env.lstrip_blocks = True
    app.jinja_env.add_extension("jinja2.ext.do")

    if app.config["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        proxies = app.config["TRUSTED_PROXIES"]
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies)  # type: ignore[method-assign]
    check_modules(app)
    register_extensions(app)
    register_blueprints(app)
    register_errorhandlers(app)
    register_cli(app)
    register_headers(app)
    register_jobs(app)
    return app


def check_modules(app: Flask) -> None:
    """Refuse to start while a training module is invalid, saying which and why."""
    from app.services.content import check_modules

    problems = check_modules(app.config["MODULES_DIR"])
    if problems:
        raise InvalidModules(problems)


class InvalidModules(ModuleError, click.ClickException):
    """The modules stop the application starting; commands print their problems and exit 1.

    The flask command builds the application before it runs any command, even
    `modules check`, so this error is what its author sees: one `path:line: message`
    line per problem, as `modules check` prints them, and no traceback.
    """

    def show(self, file: IO[Any] | None = None) -> None:
        """Print the problems alone, without click's "Error:" prefix."""
        click.echo(self.message, file=file, err=True)


def register_extensions(app: Flask) -> None:
    from app import assets, i18n, templating
    from app.extensions import babel, compress, csrf, db, limiter, login_manager, migrate

    db.init_app(app)
    compress.init_app(app)
    assets.register(app)
    migrate.init_app(app, db, directory=str(app.root_path + "/migrations"))
    csrf.init_app(app)
    limiter.init_app(app)
    babel.init_app(app, locale_selector=i18n.select_locale)
    templating.register(app)
    login_manager.init_app(app)
    i18n.register(app)

    from app.auth import load_user

    login_manager.user_loader(load_user)
    login_manager.login_view = "auth.login"
    login_manager.session_protection = "basic"


def register_blueprints(app: Flask) -> None:
    from app import admin, auth, classroom, commander, coordinator, headquarters, learner, public
    from app.params import IdConverter, TextConverter

    # Before any route is added: every `<int:...>` in an address is a bounded id, and no
    # text in an address may hold the NUL character the database refuses.
    app.url_map.converters["int"] = IdConverter
    app.url_map.converters["default"] = app.url_map.converters["string"] = TextConverter
    for module in (auth, learner, coordinator, classroom, commander, headquarters, admin, public):
        app.register_blueprint(module.bp)


def register_errorhandlers(app: Flask) -> None:
    from app.errors import register

    register(app)


def register_cli(app: Flask) -> None:
    from app.cli import register

    register(app)


def register_jobs(app: Flask) -> None:
    from app import worker

    worker.init_app(app)


def register_headers(app: Flask) -> None:
    from app.security import set_security_headers

    app.after_request(set_security_headers)
