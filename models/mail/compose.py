"""One mail as MIME, with the standard library's email package: a plain-text part and,
for an invitation, the iMIP parts (RFC 6047).

An invitation is multipart/mixed: a multipart/alternative of the text and the
`text/calendar; method=REQUEST|CANCEL` part a calendar application acts on, and the same
calendar attached as `invite.ics` (application/ics, so a client does not take it twice).

Header injection cannot happen: every header value is made one line here (control
characters, CR and LF become spaces) before the email package sees it, and the package
refuses a header value with a line break in any case. Addresses go in as Address
objects, so a name is quoted, never parsed. Pure: data in, bytes out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, make_msgid

from models.mail.itip import Method

# C0 and C1 controls, DEL, and the Unicode line and paragraph separators.
_CONTROLS = {c: " " for c in [*range(0x00, 0x20), *range(0x7F, 0xA0), 0x2028, 0x2029]}
SUBJECT_LENGTH = 200


def one_line(value: str) -> str:
    """The text as one header-safe line: control characters and line breaks are spaces."""
    return " ".join(value.translate(_CONTROLS).split())


def body_text(value: str) -> str:
    """Text for a mail's body: line breaks kept, other control characters dropped."""
    kept = value.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(ch for ch in kept if ch in "\n\t" or ch.isprintable() or ch == " ")


@dataclass(frozen=True)
class Letter:
    """What one mail says: to whom, its subject and text, and an invitation's calendar."""

    to: str
    to_name: str | None
    subject: str
    text: str
    calendar: bytes | None = None
    method: Method | None = None


def address(email: str, name: str | None = None) -> Address:
    user, _, domain = email.rpartition("@")
    return Address(
        display_name=one_line(name or ""), username=one_line(user), domain=one_line(domain)
    )


def message(letter: Letter, *, sender: str, sender_name: str, now: datetime) -> EmailMessage:
    """The whole mail, headers and parts."""
    mail = EmailMessage(policy=SMTP)
    mail["From"] = address(sender, sender_name)
    mail["To"] = address(letter.to, letter.to_name)
    mail["Subject"] = one_line(letter.subject)[:SUBJECT_LENGTH]
    mail["Date"] = format_datetime(now)
    mail["Message-ID"] = make_msgid(domain=sender.rpartition("@")[2])
    mail["Auto-Submitted"] = "auto-generated"  # RFC 3834: no auto-replies to it
    mail.set_content(body_text(letter.text))
    if letter.calendar is None or letter.method is None:
        return mail
    calendar = letter.calendar.decode()
    mail.add_alternative(calendar, subtype="calendar", params={"method": letter.method.value})
    mail.add_attachment(
        letter.calendar, maintype="application", subtype="ics", filename="invite.ics"
    )
    return mail
