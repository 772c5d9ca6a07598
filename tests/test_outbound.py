from __future__ import annotations

import pytest

from rightbrain.outbound import BlockedURL, checked_url, client, is_public_address


@pytest.mark.parametrize(
    "address",
    [
        "127.0.0.1",
        "10.1.2.3",
        "192.168.0.1",
        "172.16.0.1",
        "169.254.169.254",
        "::1",
        "::ffff:127.0.0.1",
        "0.0.0.0",
        "fd00::1",
        "100.64.0.1",
    ],
)
def test_private_and_loopback_addresses_are_not_public(address):
    assert not is_public_address(address)


def test_public_addresses_are_public():
    assert is_public_address("93.184.216.34")
    assert is_public_address("2606:2800:220:1:248:1893:25c8:1946")


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/",
        "http://localhost/admin",
        "http://10.0.0.5/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
    ],
)
def test_urls_to_private_hosts_are_refused(settings, url):
    settings.RB_ALLOW_PRIVATE_URLS = False
    with pytest.raises(BlockedURL, match="private or loopback"):
        checked_url(url)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/", "gopher://x"]
)
def test_only_http_and_https_are_fetched(settings, url):
    settings.RB_ALLOW_PRIVATE_URLS = True
    with pytest.raises(BlockedURL, match="http and https"):
        checked_url(url)


def test_private_urls_pass_when_the_setting_allows_them(settings):
    settings.RB_ALLOW_PRIVATE_URLS = True
    assert checked_url("http://127.0.0.1:9/") == "http://127.0.0.1:9/"


def test_the_client_refuses_a_private_address_before_connecting(settings):
    settings.RB_ALLOW_PRIVATE_URLS = False
    import httpx

    with client(timeout=2) as http, pytest.raises(httpx.ConnectError, match="private"):
        http.get("http://127.0.0.1:9/")
