"""E-mail their set-password links to the people a roster import created."""

from __future__ import annotations

import smtplib
from collections.abc import Sequence
from dataclasses import dataclass

from flask import current_app

from app.services import accounts, mail
from app.services.roster.model import LinkedAccount


@dataclass(frozen=True)
class Delivery:
    """Which set-password links went out by e-mail."""

    configured: bool
    sent: frozenset[int] = frozenset()
    failed: tuple[str, ...] = ()


def email_links(people: Sequence[LinkedAccount]) -> Delivery:
    """E-mail their set-password link to the people who have an address; report failures."""
    if not mail.is_configured():
        return Delivery(configured=False)
    sent: set[int] = set()
    failed: list[str] = []
    reachable = True
    for person in people:
        if not person.email:
            continue
        if not reachable:
            failed.append(person.email)
            continue
        try:
            accounts.send_set_password_link(
                person.full_name, person.service_number, person.email, person.link
            )
        except mail.MailError as error:
            current_app.logger.warning("Set-password link not sent: %s", error)
            failed.append(person.email)
            # A refused address concerns one person; any other failure means the server
            # cannot take mail now, and waiting on it for everyone else would hang the page.
            reachable = isinstance(error.__cause__, smtplib.SMTPRecipientsRefused)
        else:
            sent.add(person.user_id)
    return Delivery(configured=True, sent=frozenset(sent), failed=tuple(failed))
