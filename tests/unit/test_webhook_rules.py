"""Webhook rules without a server: where webhooks may go (SSRF, with a resolver of our
own) and how retries back off."""

from __future__ import annotations

import pytest

from models.webhooks.urls import UnsafeUrl, check_url, is_public


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
        "64:ff9b::a00:1",  # NAT64 of 10.0.0.1
        "2002:a00:1::1",  # 6to4 of 10.0.0.1
        "::127.0.0.1",  # IPv4-compatible loopback
        "::ffff:0:7f00:1",  # SIIT of 127.0.0.1
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
    from models.webhooks.service import retry_delay

    delays = [retry_delay(n, 30).total_seconds() for n in range(1, 8)]  # before attempts 2..8
    for n, delay in enumerate(delays, start=1):
        assert 30 * 2 ** (n - 1) <= delay <= 1.25 * 30 * 2 ** (n - 1)
    assert sum(delays) >= 3600
    assert retry_delay(40, 30).total_seconds() <= 6 * 3600 * 1.25  # capped


def test_a_name_that_does_not_resolve_is_retryable_and_a_malformed_one_is_not() -> None:
    from models.webhooks.urls import Unresolved, system_resolver

    with pytest.raises(Unresolved):
        system_resolver("no-such-host.invalid", 443)
    with pytest.raises(UnsafeUrl, match="not a valid host name") as bad:
        check_url("https://x..example.com/", allow_private=False)
    assert not isinstance(bad.value, Unresolved)


def test_a_receiver_that_drips_its_answer_is_cut_off_at_the_deadline() -> None:
    """One byte every 0.2 s never trips a per-read timeout; the deadline still holds."""
    import socket
    import threading
    import time

    from models.webhooks.sender import send
    from models.webhooks.urls import Target

    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    stop = threading.Event()

    def drip() -> None:
        conn, _ = server.accept()
        conn.recv(65536)
        with conn:
            for byte in b"HTTP/1.1 200 OK\r\nX-Slow: " + b"y" * 1000:
                if stop.is_set():
                    return
                try:
                    conn.sendall(bytes([byte]))
                except OSError:
                    return
                time.sleep(0.2)

    thread = threading.Thread(target=drip, daemon=True)
    thread.start()
    target = Target("http", "127.0.0.1", server.getsockname()[1], "/", "127.0.0.1")
    try:
        sent = send(target, {}, "{}", deadline=1.0)
    finally:
        stop.set()
        server.close()
    assert sent.status_code is None
    assert sent.error == "no complete answer within 1 s"  # the watchdog cut it, not a read
