from __future__ import annotations

import contextlib
import datetime
import socket
import ssl
import tempfile
import threading

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from rightbrain.outbound import BlockedURL, checked_url, client, is_public_address

# A public address the rebinding name answers first; nothing of ours listens
# there, so a connection to it fails (or reaches a stranger), never loopback.
PUBLIC = "93.184.216.34"


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
        # IPv6 forms that carry a private IPv4 address:
        "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
        "64:ff9b::a9fe:a9fe",  # NAT64 of 169.254.169.254
        "2002:7f00:1::1",  # 6to4 of 127.0.0.1
        "2002:c0a8:101::1",  # 6to4 of 192.168.1.1
        "::127.0.0.1",  # IPv4-compatible
        "::8.8.8.8",  # IPv4-compatible: deprecated, never public
        "::ffff:a00:1",  # IPv4-mapped 10.0.0.1
        "::ffff:0:7f00:1",  # SIIT-translated 127.0.0.1
        "64:ff9b:1::808:808",  # local-use NAT64
        "ff02::1",
    ],
)
def test_private_and_loopback_addresses_are_not_public(address):
    assert not is_public_address(address)


@pytest.mark.parametrize(
    "address",
    [
        "93.184.216.34",
        "2606:2800:220:1:248:1893:25c8:1946",
        "::ffff:93.184.216.34",
        "64:ff9b::808:808",  # NAT64 of 8.8.8.8
        "2002:808:808::1",  # 6to4 of 8.8.8.8
    ],
)
def test_public_addresses_are_public(address):
    assert is_public_address(address)


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8000/",
        "http://localhost/admin",
        "http://10.0.0.5/",
        "http://[::1]/",
        "http://169.254.169.254/latest/meta-data/",
        "http://[64:ff9b::7f00:1]/",
        "http://[::ffff:7f00:1]/",
        "http://2130706433/",  # 127.0.0.1 as one number
    ],
)
def test_urls_to_private_hosts_are_refused(settings, url):
    settings.RB_ALLOW_PRIVATE_URLS = False
    with pytest.raises(BlockedURL, match="is not allowed"):
        checked_url(url)


def test_a_refusal_does_not_say_what_a_name_resolved_to(settings, fake_dns):
    settings.RB_ALLOW_PRIVATE_URLS = False
    fake_dns.answer("intranet.test", ["10.20.30.40"])
    with pytest.raises(BlockedURL) as refused:
        checked_url("https://intranet.test/wiki")
    assert str(refused.value) == (
        "The address of intranet.test is not allowed: only public internet "
        "addresses can be reached."
    )
    with client(timeout=2) as http, pytest.raises(httpx.ConnectError) as failed:
        http.get("https://intranet.test/wiki")
    assert "10.20.30.40" not in str(failed.value)


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://example.com/", "gopher://x"]
)
def test_only_http_and_https_are_fetched(settings, url):
    settings.RB_ALLOW_PRIVATE_URLS = True
    with pytest.raises(BlockedURL, match="http and https"):
        checked_url(url)
    with client(timeout=2) as http, pytest.raises(httpx.ConnectError, match="http"):
        http.get(url)


def test_private_urls_pass_when_the_setting_allows_them(settings):
    settings.RB_ALLOW_PRIVATE_URLS = True
    assert checked_url("http://127.0.0.1:9/") == "http://127.0.0.1:9/"


def test_the_client_refuses_a_private_address_before_connecting(settings):
    settings.RB_ALLOW_PRIVATE_URLS = False
    with (
        client(timeout=2) as http,
        pytest.raises(httpx.ConnectError, match="not allowed"),
    ):
        http.get("http://127.0.0.1:9/")


def test_a_name_that_rebinds_to_loopback_is_never_connected_to(
    settings, fake_web, fake_dns
):
    """The name answers a public address to the first lookup and loopback to
    every later one: the request goes to the address that was vetted."""
    settings.RB_ALLOW_PRIVATE_URLS = False
    fake_web.serve("/secret", "internal page")
    fake_dns.answer("rebind.test", [PUBLIC], ["127.0.0.1"])
    # The fake DNS refuses connections off this machine, as an unreachable
    # network would: the attempt is recorded, nothing is sent.
    with client(timeout=2) as http, contextlib.suppress(httpx.HTTPError):
        http.get(f"http://rebind.test:{fake_web.port}/secret")
    assert fake_web.requests == []
    assert fake_dns.lookups == ["rebind.test"]
    assert fake_dns.connects == [PUBLIC]


def test_a_name_that_answers_loopback_when_the_request_resolves_it_is_refused(
    settings, fake_web, fake_dns
):
    settings.RB_ALLOW_PRIVATE_URLS = False
    fake_web.serve("/secret", "internal page")
    fake_dns.answer("rebind.test", [PUBLIC], ["127.0.0.1"])
    url = f"http://rebind.test:{fake_web.port}/secret"
    assert checked_url(url) == url  # the name looked public when it was saved
    with client(timeout=2) as http, pytest.raises(httpx.ConnectError) as refused:
        http.get(url)
    assert str(refused.value) == (
        "The address of rebind.test is not allowed: only public internet "
        "addresses can be reached."
    )
    assert fake_web.requests == []


def test_a_pinned_request_keeps_the_name_in_its_host_header(fake_web, fake_dns):
    fake_web.serve("/page", "hello")
    fake_dns.answer("shop.test", ["127.0.0.1"])
    with client(timeout=2) as http:
        reply = http.get(f"http://shop.test:{fake_web.port}/page")
    assert reply.text == "hello"
    assert str(reply.url) == f"http://shop.test:{fake_web.port}/page"
    assert fake_web.requests == [
        {"method": "GET", "path": "/page", "host": f"shop.test:{fake_web.port}"}
    ]


def test_each_redirect_hop_is_resolved_once_and_connected_to_by_address(
    fake_web, fake_dns
):
    page = f"http://moved.test:{fake_web.port}/page"
    fake_web.serve("/page", "moved here")
    old = fake_web.redirect("/old", to=page)
    # A second lookup would answer an address nothing listens on.
    fake_dns.answer("moved.test", ["127.0.0.1"], ["127.0.0.9"])
    with client(timeout=2) as http:
        reply = http.get(old)
    assert reply.text == "moved here"
    assert str(reply.url) == page
    assert [request["host"] for request in fake_web.requests] == [
        f"127.0.0.1:{fake_web.port}",
        f"moved.test:{fake_web.port}",
    ]
    assert fake_dns.lookups == ["moved.test"]


def test_an_address_that_refuses_is_followed_by_the_next_vetted_one(fake_web, fake_dns):
    fake_web.serve("/page", "second address")
    # Nothing listens on 127.0.0.9 (fake_web is bound to 127.0.0.1).
    fake_dns.answer("two.test", ["127.0.0.9", "127.0.0.1"])
    with client(timeout=2) as http:
        assert http.get(f"http://two.test:{fake_web.port}/page").text == (
            "second address"
        )


@pytest.fixture
def tls_server():
    """A TLS server on loopback with a self-signed certificate for
    secure.test; it records the server name (SNI) each client asks for."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "secure.test")])
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.DNSName("secure.test")]), critical=False
        )
        .sign(key, hashes.SHA256())
    )
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server_names: list[str | None] = []
    context.sni_callback = lambda _sock, server_name, _ctx: server_names.append(
        server_name
    )

    with tempfile.NamedTemporaryFile("wb", suffix=".pem") as pem:
        pem.write(certificate.public_bytes(serialization.Encoding.PEM))
        pem.write(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        pem.flush()
        context.load_cert_chain(pem.name)
    listener = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                connection, _ = listener.accept()
            except OSError:
                return
            try:
                with context.wrap_socket(connection, server_side=True):
                    pass
            except (ssl.SSLError, OSError):
                pass  # the client refused our certificate, as it should

    threading.Thread(target=serve, daemon=True).start()
    yield listener.getsockname()[1], server_names
    listener.close()


def test_a_pinned_tls_connection_sends_and_checks_the_host_name(
    settings, fake_dns, tls_server
):
    settings.RB_ALLOW_PRIVATE_URLS = True
    port, server_names = tls_server
    fake_dns.answer("secure.test", ["127.0.0.1"])
    with client(timeout=2) as http, pytest.raises(httpx.ConnectError) as failed:
        http.get(f"https://secure.test:{port}/")
    # The certificate (self-signed) was checked and refused, for the name asked.
    assert "CERTIFICATE_VERIFY_FAILED" in str(failed.value)
    assert server_names == ["secure.test"]
