"""Webhook rules without a server: where webhooks may go (SSRF, with a resolver of our
own) and how retries back off."""

from __future__ import annotations

import pytest

from models.domain.webhook_urls import UnsafeUrl, check_url, is_public


def resolving(*addresses: str):  # type: ignore[no-untyped-def]
    return lambda host, port: list(addresses)


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.0.0.7",
        "172.16.4.4",
        "192.168.1.1",
        "169.254.169.254",  # link-local: cloud metadata
        "::1",
        "fe80::1",
        "fc00::5",
        "::ffff:127.0.0.1",  # loopback dressed as IPv6
        "0.0.0.0",  # noqa: S104 - an address refused, not bound
        "224.0.0.1",
        "100.64.0.1",  # carrier-grade NAT
    ],
)
def test_non_public_addresses_are_refused(address: str) -> None:
    assert not is_public(address)
    with pytest.raises(UnsafeUrl, match="non-public"):
        check_url("https://hooks.example.com/x", allow_private=False, resolver=resolving(address))


def test_a_name_that_resolves_to_loopback_among_public_ones_is_refused() -> None:
    with pytest.raises(UnsafeUrl, match=r"127\.0\.0\.1"):
        check_url(
            "https://rebind.example.com/",
            allow_private=False,
            resolver=resolving("93.184.216.34", "127.0.0.1"),
        )


def test_a_public_https_url_gives_the_address_to_connect_to() -> None:
    target = check_url(
        "https://hooks.example.com:8443/in?k=v",
        allow_private=False,
        resolver=resolving("93.184.216.34"),
    )
    assert (target.scheme, target.host, target.port, target.path, target.address) == (
        "https",
        "hooks.example.com",
        8443,
        "/in?k=v",
        "93.184.216.34",
    )


@pytest.mark.parametrize(
    ("url", "why"),
    [
        ("http://hooks.example.com/", "https"),
        ("ftp://hooks.example.com/", "https"),
        ("https:///nohost", "no host"),
        ("https://user:pw@hooks.example.com/", "credentials"),
        ("https://hooks.example.com:99999/", "valid"),
        ("https://" + "a" * 2001, "2000"),
    ],
)
def test_malformed_or_plain_http_urls_are_refused(url: str, why: str) -> None:
    with pytest.raises(UnsafeUrl, match=why):
        check_url(url, allow_private=False, resolver=resolving("93.184.216.34"))


def test_allow_private_lets_loopback_and_http_through() -> None:
    target = check_url(
        "http://127.0.0.1:8080/h", allow_private=True, resolver=resolving("127.0.0.1")
    )
    assert (target.scheme, target.address, target.port) == ("http", "127.0.0.1", 8080)


def test_retries_back_off_exponentially_and_outlast_an_hour_with_the_defaults() -> None:
    from models.services.webhooks import retry_delay

    delays = [retry_delay(n, 30).total_seconds() for n in range(1, 8)]  # before attempts 2..8
    for n, delay in enumerate(delays, start=1):
        assert 30 * 2 ** (n - 1) <= delay <= 1.25 * 30 * 2 ** (n - 1)
    assert sum(delays) >= 3600
    assert retry_delay(40, 30).total_seconds() <= 6 * 3600 * 1.25  # capped
