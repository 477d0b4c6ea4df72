"""SMTP_URL and MAIL_FROM are checked at start, and the relay's password is never shown."""

from __future__ import annotations

import pytest

from models.mail.smtp import Relay
from models.settings import mail_settings_problem

PUBLIC = "https://rooms.example.com"


@pytest.mark.parametrize(
    ("url", "sender", "public", "why"),
    [
        ("http://mail.example.com", "a@example.com", PUBLIC, "must be smtp://"),
        ("smtp://", "a@example.com", PUBLIC, "must be smtp://"),
        ("smtp://mail.example.com/x", "a@example.com", PUBLIC, "no path"),
        ("smtp://mail.example.com", "", PUBLIC, "MAIL_FROM is not"),
        ("smtp://mail.example.com", "Rooms <a@example.com>", PUBLIC, "bare address"),
        ("smtp://mail.example.com", "a@example.com\r\nBcc: b@x.org", PUBLIC, "bare address"),
        ("smtp://mail.example.com", "a@example.com", "", "PUBLIC_URL is not"),
    ],
)
def test_a_mail_setting_that_cannot_work_is_refused(
    url: str, sender: str, public: str, why: str
) -> None:
    problem = mail_settings_problem(url, sender, public)
    assert problem is not None and why in problem


def test_mail_is_off_without_smtp_url_and_on_with_a_good_one() -> None:
    assert mail_settings_problem("", "", "") is None
    for url in ("smtp://h:25", "smtp+starttls://u:p@h:587", "smtps://u:p%40ss@h"):
        assert mail_settings_problem(url, "rooms@example.com", PUBLIC) is None


def test_the_relay_is_read_whole_and_shown_without_its_password() -> None:
    relay = Relay.parse("smtps://bookings:p%40ss%3Aword@smtp.example.com")
    assert (relay.host, relay.port, relay.user, relay.password) == (
        "smtp.example.com",
        465,
        "bookings",
        "p@ss:word",
    )
    assert relay.shown() == "smtps://bookings@smtp.example.com:465"
    assert Relay.parse("smtp+starttls://h").port == 587
