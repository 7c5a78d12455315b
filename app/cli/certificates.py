"""flask certificates keygen|public-key|verify|print: signing keys, offline checks, printing.

`verify` needs nothing but public keys: it never opens the database, so it works on a
laptop at a checkpoint with a copy of the published keys and revocation list.

Its exit status: 0 genuine and valid, revocation checked against a recent list;
1 not valid (forged, altered, expired or revoked); 2 nothing could be checked (a key
or list file that cannot be read or whose signature does not hold); 3 genuine and not
expired, but revocation was not checked (no list, or one older than --max-age).

`print` renders the training records of a whole unit, as the commander's batch print does.
"""

from __future__ import annotations

import io
import json
import os
import re
import time
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import click
import sqlalchemy as sa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from flask import current_app
from flask.cli import AppGroup
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from pypdf import PdfReader
from pypdf.errors import PyPdfError

from app import worker
from app.cli.common import EXISTING_FILE, fail
from app.extensions import db
from app.models import Unit
from app.services import organisation, printing, readiness, signing

certificates_cli = AppGroup("certificates", help="Sign, verify and print certificates.")

CREDENTIAL_FILENAME = "credential.json"
EXIT_NOT_VALID = 1
EXIT_CANNOT_CHECK = 2
EXIT_REVOCATION_NOT_CHECKED = 3
_SIGNED_URL = re.compile(r"[?&]s=([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)")

PROBLEMS = {
    signing.Problem.MALFORMED: _l(
        "the payload is damaged, truncated or not a Blue Beret signature"
    ),
    signing.Problem.UNKNOWN_KEY: _l("it was signed with a key that is not among the public keys"),
    signing.Problem.BAD_SIGNATURE: _l(
        "the signature does not match the contents: they were altered"
    ),
}


class CannotCheck(click.ClickException):
    """A file verification needs cannot be used: nothing was checked."""

    exit_code = EXIT_CANNOT_CHECK


@dataclass(frozen=True)
class RevocationList:
    """A downloaded revocation list whose signature holds: code -> time, and its age."""

    revoked: dict[str, str]
    generated_at: datetime | None


@certificates_cli.command("keygen")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the private key to this file (created with mode 600; never overwritten).",
)
def keygen(output: Path | None) -> None:
    """Create a new Ed25519 signing key; print its id and public key."""
    pem = signing.generate_private_pem()
    key = signing.private_key_from_pem(pem, "the new key")
    if output is None:
        click.echo(pem.decode("ascii"), nl=False)
    else:
        try:
            descriptor = os.open(output, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            raise click.ClickException(
                gettext(
                    "%(path)s already exists. Choose another path: replacing a key in place "
                    "would leave the certificates signed with it unverifiable.",
                    path=output,
                )
            ) from None
        except OSError as error:
            raise click.ClickException(
                gettext("Cannot write %(path)s: %(reason)s.", path=output, reason=error.strerror)
            ) from None
        with os.fdopen(descriptor, "wb") as file:
            file.write(pem)
        click.echo(gettext("Wrote the private key %(kid)s to %(path)s.", kid=key.kid, path=output))
    click.echo(gettext("Key id: %(kid)s", kid=key.kid), err=output is None)
    click.echo(signing.public_pem(key.public), nl=False, err=output is None)


@certificates_cli.command("public-key")
@click.option(
    "--key",
    "key_path",
    type=EXISTING_FILE,
    help="A private key file (default: the configured signing key).",
)
def public_key(key_path: Path | None) -> None:
    """Print the public key of the signing key, as PEM, to keep after a rotation."""
    try:
        key = signing.load_private_key(str(key_path)) if key_path else signing.signing_key()
    except signing.SigningKeyError as error:
        raise click.ClickException(str(error)) from None
    click.echo(signing.public_pem(key.public), nl=False)


def payload_from_pdf(data: bytes) -> str | None:
    """Find the signed payload in a certificate PDF: its credential, its links, its text."""
    try:
        reader = PdfReader(io.BytesIO(data))
        for content in reader.attachments.get(CREDENTIAL_FILENAME, []):
            try:
                credential = json.loads(content)
                return str(credential["blueBeretSignature"]["payload"])
            except (ValueError, KeyError, TypeError):
                continue
        places: list[str] = []
        for page in reader.pages:
            for annotation in page.get("/Annots") or []:
                action = annotation.get_object().get("/A") or {}
                places.append(str(action.get("/URI", "")))
            places.append(page.extract_text())
    except (PyPdfError, ValueError, KeyError):
        return None
    for place in places:
        found = _SIGNED_URL.search(place)
        if found:
            return found.group(1)
    return None


def read_payload(argument: str) -> str:
    """Return the signed payload given as itself, inside a verify URL, or inside a PDF."""
    path = Path(argument).expanduser()
    if len(argument) < 1024 and path.is_file():
        data = path.read_bytes()
        if data.startswith(b"%PDF"):
            payload = payload_from_pdf(data)
            if payload is None:
                raise CannotCheck(gettext("%(path)s holds no Blue Beret signature.", path=argument))
            return payload
        argument = data.decode("utf-8", "replace")
    argument = argument.strip()
    if "s=" in argument:
        values = parse_qs(urlsplit(argument).query).get("s")
        if values:
            return values[0]
    return argument


def keys_for_verification(
    public_key_files: tuple[Path, ...], jwks_files: tuple[Path, ...]
) -> dict[str, Ed25519PublicKey]:
    """Return the keys given on the command line, else those of the configuration."""
    keys: dict[str, Ed25519PublicKey] = {}
    try:
        for path in (*public_key_files, *jwks_files):
            keys.update(signing.load_public_keys(path))
        if not keys:
            keys = signing.public_keys(create=False)
    except signing.SigningKeyError as error:
        raise CannotCheck(str(error)) from None
    if not keys:
        raise CannotCheck(
            gettext(
                "No public key to check against. Pass --keys with the file downloaded from "
                "/.well-known/blue-beret-keys.json, or --public-key with a PEM file."
            )
        )
    return keys


def read_revocation_list(path: Path, keys: signing.PublicKeys) -> RevocationList:
    """Read a downloaded revocation list whose signature holds, with when it was made."""
    try:
        document: Any = json.loads(path.read_bytes())
    except (OSError, ValueError) as error:
        raise CannotCheck(
            gettext("Cannot read the revocation list %(path)s: %(error)s", path=path, error=error)
        ) from None
    if not signing.verify_document(document, keys):
        raise CannotCheck(
            gettext(
                "The revocation list %(path)s is not signed by any of the public keys: "
                "download it again from /certificates/revoked.json.",
                path=path,
            )
        )
    try:
        generated_at: datetime | None = datetime.strptime(
            str(document.get("generated_at")), "%Y-%m-%dT%H:%M:%SZ"
        ).replace(tzinfo=UTC)
    except ValueError:
        generated_at = None
    revoked = {str(item["code"]): str(item["revoked_at"]) for item in document.get("revoked", [])}
    return RevocationList(revoked, generated_at)


def stale_reason(listed: RevocationList, max_age_days: int, now: datetime) -> str | None:
    """Say why a revocation list is too old to trust, or None if it is recent enough."""
    if listed.generated_at is None:
        return str(gettext("the list does not say when it was made"))
    age = now - listed.generated_at
    if age > timedelta(days=max_age_days):
        return str(
            gettext(
                "the list was made on %(made)s UTC, %(days)s days ago, more than --max-age "
                "%(max_age)s",
                made=f"{listed.generated_at:%Y-%m-%d %H:%M}",
                days=age.days,
                max_age=max_age_days,
            )
        )
    return None


@certificates_cli.command("verify")
@click.argument("argument", metavar="PAYLOAD|URL|PDF")
@click.option(
    "--public-key",
    "public_key_files",
    multiple=True,
    type=EXISTING_FILE,
    help="A PEM public key to trust (repeatable). Default: the configured keys.",
)
@click.option(
    "--keys",
    "jwks_files",
    multiple=True,
    type=EXISTING_FILE,
    help="A JWKS file downloaded from /.well-known/blue-beret-keys.json (repeatable).",
)
@click.option(
    "--revoked",
    "revoked_file",
    type=EXISTING_FILE,
    help="A revocation list downloaded from /certificates/revoked.json.",
)
@click.option(
    "--max-age",
    "max_age_days",
    type=click.IntRange(min=0),
    default=7,
    show_default=True,
    metavar="DAYS",
    help="A revocation list older than this does not count as checking revocation.",
)
def verify(
    argument: str,
    public_key_files: tuple[Path, ...],
    jwks_files: tuple[Path, ...],
    revoked_file: Path | None,
    max_age_days: int,
) -> None:
    """Check a certificate's signature offline.

    Exit 0 if genuine and valid with revocation checked, 1 if not valid, 2 if nothing
    could be checked, 3 if genuine and unexpired but revocation was not checked.
    """
    keys = keys_for_verification(public_key_files, jwks_files)
    listed = read_revocation_list(revoked_file, keys) if revoked_file else None
    # A stale list still shows what it lists as revoked, but cannot vouch for the rest.
    revoked = listed.revoked if listed is not None else None
    stale = stale_reason(listed, max_age_days, datetime.now(UTC)) if listed else None
    verification = signing.verify(read_payload(argument), keys)
    if verification.claim is None:
        assert verification.problem is not None
        click.echo(gettext("INVALID: %(problem)s.", problem=PROBLEMS[verification.problem]))
        raise click.exceptions.Exit(EXIT_NOT_VALID)
    lines, lapsed = describe_entries(verification.claim, revoked, date.today())
    if lapsed:
        verdict = gettext("VALID SIGNATURE, BUT NOT EVERY CERTIFICATE IS VALID")
    else:
        verdict = gettext("VALID")
    click.echo(
        gettext("%(verdict)s (signed with key %(kid)s)", verdict=verdict, kid=verification.kid)
    )
    click.echo("\n".join(lines))
    if revoked is None:
        click.echo(gettext("  revocations: NOT CHECKED (pass --revoked with a recent list)"))
    elif stale is not None:
        click.echo(
            gettext(
                "  revocations: NOT CHECKED: %(reason)s; download /certificates/revoked.json again",
                reason=stale,
            )
        )
    if lapsed:
        raise click.exceptions.Exit(EXIT_NOT_VALID)
    if revoked is None or stale is not None:
        raise click.exceptions.Exit(EXIT_REVOCATION_NOT_CHECKED)


def describe_entries(
    claim: signing.Claim, revoked: dict[str, str] | None, today: date
) -> tuple[list[str], bool]:
    """Describe each certificate a claim holds; and whether any is revoked or expired."""
    lapsed = False
    lines = [gettext("  name: %(name)s", name=claim.name)]
    for entry in claim.entries:
        state = gettext("valid")
        if revoked is not None and entry.code in revoked:
            state = gettext("REVOKED at %(at)s", at=revoked[entry.code])
            lapsed = True
        elif entry.expires < today:
            state = gettext("EXPIRED")
            lapsed = True
        lines += [
            gettext("  code: %(code)s", code=entry.code),
            gettext(
                "    module: %(title)s (version %(version)s)",
                title=entry.title,
                version=entry.version,
            ),
            gettext("    completed: %(date)s", date=entry.completed.isoformat()),
            gettext("    expires: %(date)s", date=entry.expires.isoformat()),
            gettext("    status: %(state)s", state=state),
        ]
    return lines, lapsed


@certificates_cli.command("print")
@click.option("--unit", "unit_code", required=True, help="The unit's code; its sub-units too.")
@click.option("--zip", "as_zip", is_flag=True, help="One PDF per person in a ZIP file.")
@click.option("--ready-only", is_flag=True, help="Only the people who are Ready to deploy.")
@click.option(
    "--output",
    type=click.Path(dir_okay=False, writable=True, path_type=Path),
    help="Where to write the file (default: its own name, in this folder).",
)
def print_unit(unit_code: str, as_zip: bool, ready_only: bool, output: Path | None) -> None:
    """Print the training records of a unit's people: one PDF, or a ZIP of one PDF each."""
    config = current_app.config
    if not config["PUBLIC_BASE_URL"]:
        fail(
            gettext(
                "Records carry a QR code that links to the platform: set PUBLIC_BASE_URL "
                "to its address, for example https://training.example.org."
            )
        )
    # The command line acts as an administrator: every unit is in scope.
    units = list(db.session.scalars(sa.select(Unit)))
    unit = next((u for u in units if u.code.lower() == unit_code.strip().lower()), None)
    if unit is None:
        fail(
            gettext(
                "There is no unit with the code %(code)s. Codes: %(codes)s.",
                code=unit_code,
                codes=", ".join(sorted(u.code for u in units)) or "-",
            )
        )
    people = readiness.board(organisation.subtree_ids(units, unit.id))
    ids = printing.ready_ids(people) if ready_only else [p.user_id for p in people]
    if not ids:
        fail(gettext("No one to print in %(unit)s.", unit=unit.name))
    ids = printing.print_order(ids)
    kind = printing.PrintOutput.ZIP if as_zip else printing.PrintOutput.PDF
    path = output or Path.cwd() / printing.batch_filename(unit, kind)
    started = time.perf_counter()
    label = gettext("Printing %(unit)s", unit=unit.name)
    # Written beside the file, renamed when done: a failed print leaves nothing behind.
    partial = path.with_name(f".{path.name}.partial")
    try:
        file = partial.open("wb")
    except OSError as error:
        fail(gettext("Cannot write %(path)s: %(reason)s.", path=path, reason=error.strerror))
    try:
        with file, click.progressbar(length=len(ids), label=label, show_pos=True) as bar:

            def advance(done: int) -> None:
                bar.update(done - bar.pos)

            batch = worker.render_batch(
                ids, kind, str(config["PUBLIC_BASE_URL"]), file, unit, advance
            )
        os.replace(partial, path)
    except (printing.PrintError, BrokenProcessPool) as error:
        fail(printing.failure_message(error))
    finally:
        partial.unlink(missing_ok=True)
    click.echo(
        gettext(
            "Wrote %(path)s: %(people)s people, %(pages)s pages in %(seconds).1f s.",
            path=path,
            people=batch.people,
            pages=batch.pages,
            seconds=time.perf_counter() - started,
        )
    )
