"""flask modules check|sync|translations: validate the training modules, load, translate them."""

from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext

from app.cli.common import EXISTING_FILE, fail
from app.extensions import db
from app.services import content, content_lint
from app.services.frontmatter import display_path
from app.services.translations import catalogs, importing, workflow

modules_cli = AppGroup("modules", help="Check and load the training modules.")
translations_cli = AppGroup(
    "translations", help="Keep the catalogs that translate the modules up to date."
)
modules_cli.add_command(translations_cli)


@modules_cli.command("check")
@click.option(
    "--strict",
    is_flag=True,
    help="Count warnings about guessable quizzes, and translations that are not complete, "
    "as errors.",
)
def modules_check(strict: bool) -> None:
    """Validate every module file and list each problem as path:line: message.

    Then give, per module and language, how much of it the catalog translates, and list
    each stale or mismatched string.
    """
    directory = current_app.config["MODULES_DIR"]
    problems = content.check_modules(directory)
    warnings = content_lint.lint_modules(directory) if not problems else []
    for problem in sorted(problems + warnings, key=lambda p: (p.path, p.line)):
        click.echo(str(problem), err=True)
    if problems:
        raise click.exceptions.Exit(1)
    incomplete = translation_report(directory)
    if strict and (warnings or incomplete):
        raise click.exceptions.Exit(1)
    click.echo(gettext("All modules are valid."))
    if warnings:
        click.echo(
            gettext(
                "%(count)s warnings: quizzes a learner could pass by guessing "
                "(listed above); --strict counts them as errors.",
                count=len(warnings),
            )
        )


def translation_report(directory: Path) -> int:
    """Print each catalog's coverage and the strings that stop it being served.

    Returns how many translations are not served.
    """
    found = workflow.statuses(directory)
    if not found:
        return 0
    for status in found:
        for problem in status.problems:
            click.echo(str(problem), err=True)
    for problem in workflow.stray_catalogs(directory):
        click.echo(str(problem), err=True)
    click.echo(gettext("Translations (strings translated of the source's, stale, mismatched):"))
    width = max(len(status.name) for status in found)
    for status in found:
        served = gettext("served") if status.complete else gettext("not served")
        click.echo(
            f"  {status.name:<{width}}  {status.language:<5} "
            f"{status.translated:>4}/{status.total:<4} "
            + gettext(
                "%(stale)s stale, %(mismatched)s mismatched, %(missing)s missing: %(served)s",
                stale=len(status.stale),
                mismatched=len(status.mismatched),
                missing=status.missing,
                served=served,
            )
        )
    return sum(not status.complete for status in found)


@modules_cli.command("sync")
def modules_sync() -> None:
    """Load the modules into the database; changed content becomes a new version."""
    try:
        results = content.sync_modules(current_app.config["MODULES_DIR"])
    except content.ModuleError as error:
        db.session.rollback()
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise click.exceptions.Exit(1) from None
    db.session.commit()
    for result in results:
        if result.version:
            line = gettext(
                "%(slug)s: %(action)s (version %(version)s)",
                slug=result.slug,
                action=result.action,
                version=result.version,
            )
        else:
            line = gettext("%(slug)s: %(action)s", slug=result.slug, action=result.action)
        click.echo(line)


@translations_cli.command("update")
def translations_update() -> None:
    """Update every module catalog from its source, keeping translations (make messages)."""
    directory = current_app.config["MODULES_DIR"]
    for path in workflow.update_catalogs(directory):
        click.echo(gettext("updated %(path)s", path=path))


@translations_cli.command("init")
@click.argument("language")
def translations_init(language: str) -> None:
    """Start a language: an empty catalog of every module and mission annex lacking one."""
    if not catalogs.is_language(language):
        fail(gettext('"%(language)s" is not a language code such as es, ru or zh.',
                     language=language))  # fmt: skip
    for path in workflow.start_language(current_app.config["MODULES_DIR"], language):
        click.echo(gettext("created %(path)s", path=path))


@translations_cli.command("import")
@click.argument("language")
@click.argument("source", type=EXISTING_FILE)
@click.argument("translation", type=EXISTING_FILE)
def translations_import(language: str, source: Path, translation: Path) -> None:
    """Build a module's catalog from a translation written as a parallel Markdown file.

    Its segments are paired with the source's by position; where the structure differs,
    each difference is listed as path:line: message and nothing is written.
    """
    if not catalogs.is_language(language):
        fail(gettext('"%(language)s" is not a language code such as fr or ar.',
                     language=language))  # fmt: skip
    imported = importing.import_translation(language, source, translation)
    for problem in imported.problems + imported.notes:
        click.echo(str(problem), err=True)
    if imported.catalog is None:
        fail(gettext("Nothing written: make the translation follow the source's structure."))
    directory = current_app.config["MODULES_DIR"]
    path = catalogs.catalog_path(directory, language, imported.name)
    catalogs.write_catalog(path, imported.catalog)
    shown = display_path(path)
    click.echo(
        gettext("wrote %(path)s: %(count)s strings", path=shown, count=len(imported.catalog))
    )
