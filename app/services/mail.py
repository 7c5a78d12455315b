"""Outgoing e-mail through the SMTP server named in the configuration."""

from __future__ import annotations

import smtplib
from email.message import EmailMessage

from flask import current_app


class MailError(RuntimeError):
    """The message could not be handed to the mail server."""


def is_configured() -> bool:
    """Return whether an SMTP server is configured."""
    return bool(current_app.config["MAIL_SERVER"])


def send(to: str, subject: str, body: str) -> None:
    """Send a plain-text message; raise MailError if the server refuses it."""
    config = current_app.config
    message = EmailMessage()
    message["From"] = config["MAIL_FROM"]
    message["To"] = to
    message["Subject"] = subject
    message.set_content(body)
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(f"could not send e-mail to {to}: {error}") from error
