"""Outgoing e-mail through the SMTP server named in the configuration."""

from __future__ import annotations

import html
import re
import smtplib
from email import policy
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import formataddr, formatdate, make_msgid, parseaddr

from babel import Locale
from flask import current_app

from app import i18n

# Address headers are written as mailbox() encodes them: the standard library's own
# folding drops the quotes around an encoded name that contains a comma, and
# "Diop, Aïssatou" then reads as two recipients.
POLICY = policy.default.clone(refold_source="none")
URL_RE = re.compile(r"https?://[^\s<>\"]+")
LINE_BREAKS = re.compile(r"[\r\n]+")


class MailError(RuntimeError):
    """The message could not be handed to the mail server."""


def is_configured() -> bool:
    """Return whether an SMTP server is configured."""
    return bool(current_app.config["MAIL_SERVER"])


def send(to: str, subject: str, body: str, name: str | None = None, language: str = "en") -> None:
    """Send a message as text and HTML to an address; raise MailError if the server refuses it.

    `name` is the recipient's display name; a non-ASCII one is encoded (RFC 2047).
    `language` is the one the message is written in, for its HTML part and headers.
    """
    config = current_app.config
    sender = config["MAIL_FROM"]
    sender_name, sender_address = parseaddr(sender)
    message = EmailMessage(policy=POLICY)
    if "@" in sender_address:
        message.set_raw("From", mailbox(sender_address, sender_name))
    else:
        # Not a mailbox parseaddr understands (say, a comma outside quotes): as configured.
        message["From"] = sender
    message.set_raw("To", mailbox(to, name))
    message["Subject"] = LINE_BREAKS.sub(" ", subject)
    # RFC 5322 requires Date; Message-ID lets mail programs thread and deduplicate.
    message["Date"] = formatdate(usegmt=True)
    message["Message-ID"] = make_msgid(domain=_domain(sender))
    message.set_content(body)
    message.add_alternative(to_html(body, language), subtype="html")
    # After the content: setting it clears every Content- header.
    message["Content-Language"] = language
    try:
        with smtplib.SMTP(config["MAIL_SERVER"], config["MAIL_PORT"], timeout=30) as smtp:
            if config["MAIL_USE_TLS"]:
                smtp.starttls()
            if config["MAIL_USERNAME"]:
                smtp.login(config["MAIL_USERNAME"], config["MAIL_PASSWORD"])
            smtp.send_message(message)
    except (OSError, smtplib.SMTPException) as error:
        raise MailError(f"could not send e-mail to {to}: {error}") from error


def mailbox(address: str, name: str | None = None) -> str:
    """Return an address header value, its display name quoted or RFC 2047-encoded as needed."""
    name = LINE_BREAKS.sub(" ", name or "").strip()
    address = address.strip()
    if not name:
        return address
    # formataddr quotes specials, encodes non-ASCII names in folded encoded words, and
    # never rewrites the address itself.
    return formataddr((name, address), charset="utf-8")


def to_html(body: str, language: str = "en") -> str:
    """Return the HTML form of a plain-text message: paragraphs, lists and links."""
    blocks = []
    for paragraph in re.split(r"\n\s*\n", body.strip()):
        lines = paragraph.splitlines()
        if lines and all(line.startswith("- ") for line in lines):
            items = "".join(f"<li>{_inline(line[2:])}</li>" for line in lines)
            blocks.append(f"<ul>{items}</ul>")
        else:
            blocks.append("<p>" + "<br>\n".join(_inline(line) for line in lines) + "</p>")
    direction = i18n.direction(Locale.parse(language))
    return (
        f'<!DOCTYPE html>\n<html lang="{language}" dir="{direction}">'
        '<head><meta charset="utf-8"></head><body>\n' + "\n".join(blocks) + "\n</body></html>\n"
    )


def _inline(text: str) -> str:
    """Return one line of text as HTML, with its addresses as links."""
    parts, last = [], 0
    for match in URL_RE.finditer(text):
        url = html.escape(match.group(0))
        parts += [html.escape(text[last : match.start()]), f'<a href="{url}">{url}</a>']
        last = match.end()
    parts.append(html.escape(text[last:]))
    return "".join(parts)


def _domain(sender: str) -> str:
    """Return the sender's domain for Message-ID, so building it never asks DNS."""
    address = parseaddr(sender)[1]
    try:
        domain = Address(addr_spec=address).domain
    except (ValueError, IndexError):
        domain = ""
    return domain or "localhost"
