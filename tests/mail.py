"""A real SMTP server on localhost for the tests that send e-mail."""

from __future__ import annotations

import email
import email.policy
import socket
from email.message import EmailMessage
from typing import Any


class Inbox:
    """An SMTP handler that keeps every message it accepts, and refuses nobody@ addresses."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        # As received, to check how headers are encoded on the wire.
        self.raw: list[bytes] = []

    async def handle_RCPT(self, server: Any, session: Any, envelope: Any, address: str,
                          rcpt_options: Any) -> str:  # fmt: skip
        if address.startswith("nobody@"):
            return "550 No such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        self.raw.append(envelope.original_content or envelope.content)
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        return "250 Message accepted for delivery"

    def recipients(self) -> list[str]:
        """Return the address each message went to, in order."""
        return [message["To"].addresses[0].addr_spec for message in self.messages]

    def to(self, address: str) -> list[EmailMessage]:
        """Return the messages addressed to someone."""
        return [
            message
            for message in self.messages
            if any(mailbox.addr_spec == address for mailbox in message["To"].addresses)
        ]


def free_port() -> int:
    """Return a local port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
