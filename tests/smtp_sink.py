"""A real SMTP server on loopback for the tests (aiosmtpd, in this process): it keeps every
message it accepts, parsed back with the email package, and can be stopped and started
again on the same port (the relay down, then back)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from cli.embedded import free_port


@dataclass(frozen=True)
class Received:
    sender: str
    recipients: list[str]
    raw: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    @property
    def subject(self) -> str:
        """The Subject as a mail client shows it: unfolded and trimmed. Python's folder
        moves a subject of 70 to 77 characters whole onto a continuation line
        ("Subject:" CRLF SP "Cancelled: ..."), which parses with a leading space; whether
        a subject is that long depends on its booking's dates."""
        return " ".join(str(self.message["Subject"]).split())

    @property
    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    def calendar(self) -> tuple[str, str] | None:
        """(the METHOD parameter of the text/calendar part, its text), if it has one."""
        for part in self.message.walk():
            if part.get_content_type() == "text/calendar":
                return str(part.get_param("method")), str(part.get_content())
        return None

    def attachment(self, name: str) -> bytes | None:
        for part in self.message.iter_attachments():
            if part.get_filename() == name:
                return bytes(part.get_content())
        return None


@dataclass
class Sink:
    port: int = field(default_factory=free_port)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    answers: list[str] = field(default_factory=list)  # the next DATA answers, then 250
    _controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # aiosmtpd
        with self.lock:
            if self.answers:
                return self.answers.pop(0)
            self.received.append(
                Received(envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content)
            )
        return "250 OK"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [r for r in self.received if address in r.recipients]

    def clear(self) -> None:
        with self.lock:
            self.received.clear()
            self.answers.clear()
