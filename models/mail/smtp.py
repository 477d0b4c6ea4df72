"""The mail relay (SMTP_URL) and one session with it, by smtplib.

`smtp://host:port` is plain SMTP (a local relay), `smtp+starttls://user:pass@host:587`
upgrades the connection with STARTTLS before it logs in, `smtps://user:pass@host:465`
speaks TLS from the first byte; TLS checks the relay's certificate and name. One session
sends many mails in turn (the sender's loop), and is opened again after a fault.

What an answer means (RFC 5321): 2xx sent; 4xx, a refused or dropped connection, a
timeout, a failed login or TLS handshake: try again later (the relay, not the mail, is
at fault); 5xx to the sender, a recipient or the data: this mail will never go (FAILED at
once). The relay's own words are kept (at most ERROR_EXCERPT characters).
"""

from __future__ import annotations

import contextlib
import smtplib
import ssl
from dataclasses import dataclass
from types import TracebackType
from urllib.parse import unquote, urlsplit

TIMEOUT_SECONDS = 20.0  # each read or write of the session
ERROR_EXCERPT = 200
DEFAULT_PORTS = {"smtp": 25, "smtp+starttls": 587, "smtps": 465}


@dataclass(frozen=True)
class Relay:
    scheme: str
    host: str
    port: int
    user: str | None
    password: str | None

    @classmethod
    def parse(cls, url: str) -> Relay:
        """SMTP_URL, as models/settings.py checked it."""
        parts = urlsplit(url)
        return cls(
            parts.scheme,
            parts.hostname or "",
            parts.port or DEFAULT_PORTS[parts.scheme],
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
        )

    def shown(self) -> str:
        """Where mail goes, for people: never the password."""
        login = f"{self.user}@" if self.user else ""
        return f"{self.scheme}://{login}{self.host}:{self.port}"


@dataclass(frozen=True)
class Outcome:
    sent: bool
    retry: bool  # not sent, and worth trying again later
    answer: str | None  # the relay's words (or what went wrong), for the mail's log


SENT = Outcome(True, False, None)


def _answer(code: int, text: bytes | str) -> str:
    words = text.decode("utf-8", "replace") if isinstance(text, bytes) else text
    return f"{code} {' '.join(words.split())}"[:ERROR_EXCERPT]


class RelaySession:
    """One SMTP session: `send` mails in turn; a fault closes it and the next `send`
    opens a new one."""

    def __init__(self, relay: Relay, *, timeout: float = TIMEOUT_SECONDS) -> None:
        self.relay = relay
        self.timeout = timeout
        self._smtp: smtplib.SMTP | None = None

    def __enter__(self) -> RelaySession:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def close(self) -> None:
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                smtp.quit()
            with contextlib.suppress(OSError):
                smtp.close()

    def _open(self) -> smtplib.SMTP:
        relay, context = self.relay, ssl.create_default_context()
        smtp: smtplib.SMTP
        if relay.scheme == "smtps":
            smtp = smtplib.SMTP_SSL(relay.host, relay.port, timeout=self.timeout, context=context)
        else:
            smtp = smtplib.SMTP(relay.host, relay.port, timeout=self.timeout)
        try:
            smtp.ehlo()
            if relay.scheme == "smtp+starttls":
                smtp.starttls(context=context)
                smtp.ehlo()
            if relay.user is not None:
                smtp.login(relay.user, relay.password or "")
        except BaseException:
            with contextlib.suppress(OSError):
                smtp.close()
            raise
        return smtp

    def send(self, sender: str, recipient: str, message: bytes) -> Outcome:
        """Hand one mail to the relay, for one recipient."""
        try:
            if self._smtp is None:
                self._smtp = self._open()
            self._smtp.sendmail(sender, [recipient], message)
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = exc.recipients.get(recipient, (550, b"refused"))
            return self._refused(code, text)
        except (smtplib.SMTPSenderRefused, smtplib.SMTPDataError) as exc:
            return self._refused(exc.smtp_code, exc.smtp_error)
        except smtplib.SMTPResponseException as exc:  # login refused, STARTTLS refused, …
            self.close()
            return Outcome(False, True, _answer(exc.smtp_code, exc.smtp_error))
        except (smtplib.SMTPException, OSError) as exc:  # refused, dropped, timed out, TLS
            self.close()
            return Outcome(False, True, f"{type(exc).__name__}: {exc}"[:ERROR_EXCERPT])
        return SENT

    def _refused(self, code: int, text: bytes | str) -> Outcome:
        """An answer to this mail: 4xx later, 5xx never. The session stays usable after a
        refusal (RSET), unless the relay has gone."""
        try:
            if self._smtp is not None:
                self._smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.close()
        return Outcome(False, not 500 <= code < 600, _answer(code, text))
