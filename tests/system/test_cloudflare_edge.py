"""The mock Cloudflare's edge in front of Debian's real nginx (the DSM-shaped tree), for each SSL mode and
Authenticated Origin Pulls on and off. The visitor is a plain TLS client written here, not the collection."""

from __future__ import annotations

import http.client
import http.server
import json
import os
import re
import socket
import ssl
import threading
import time
import urllib.request
import warnings

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.asymmetric import ec

from tests.lab import edge_origin
from tests.lab.dsm_nginx import tree
from tests.lab.mock_cloudflare.seed import LAB_TOKEN, ZONE_ID

WAN = "100.128.77.2"

tree.require_nginx()


def api(lab, verb, path, body=None):
    request = urllib.request.Request(
        lab.api_base_url + path,
        method=verb,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": "Bearer " + LAB_TOKEN, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=lab.ca_path)) as reply:
        return json.load(reply)["result"]


def setting(lab, name, value):
    api(lab, "PATCH", "/zones/%s/settings/%s" % (ZONE_ID, name), {"value": value})


def visit(lab, host, path="/", https=True, headers=None, max_version=None):
    """(status, headers, body) of one request to the edge as a browser sends it (SNI and Host = host)."""
    sock = socket.create_connection(
        ("127.0.0.1", lab.info["edge_https_port" if https else "edge_http_port"]), timeout=10
    )
    if https:
        context = ssl.create_default_context(cafile=lab.info["edge_ca_path"])
        if max_version:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                context.minimum_version = ssl.TLSVersion.TLSv1
                context.maximum_version = max_version
            context.set_ciphers("DEFAULT:@SECLEVEL=0")
        sock = context.wrap_socket(sock, server_hostname=host)
    connection = http.client.HTTPConnection(host)
    connection.sock = sock
    connection.request("GET", path, headers=headers or {})
    reply = connection.getresponse()
    body = reply.read().decode().strip()
    connection.close()
    answered = {}
    for name, value in reply.getheaders():  # a header sent twice shows as one comma-joined value (RFC 9110 5.3)
        answered[name.lower()] = answered[name.lower()] + ", " + value if name.lower() in answered else value
    return reply.status, answered, body


class Echo(http.server.BaseHTTPRequestHandler):
    """A plain-HTTP origin that answers with the request headers it got."""

    def do_GET(self):
        body = json.dumps({k.lower(): v for k, v in self.headers.items()}).encode()
        self.send_response(200)
        if self.headers.get("X-Lab-Answer-HSTS"):  # an origin that sends its own HSTS header
            self.send_header("Strict-Transport-Security", self.headers["X-Lab-Answer-HSTS"])
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def echo():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Echo)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield "127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def origin(tmp_path, cloudflare_lab, echo):
    """The nginx tree with an Origin CA certificate, a proxied record for photos, the WAN address mapped:
    443 to nginx, 80 to the echo server."""
    root = tree.build(str(tmp_path / "nas"))
    edge_origin.install_origin_certificate(cloudflare_lab.info, root)
    started = tree.nginx(root)
    assert started.returncode == 0, started.stderr
    api(
        cloudflare_lab,
        "POST",
        "/zones/%s/dns_records" % ZONE_ID,
        {"type": "A", "name": "photos", "content": WAN, "proxied": True},
    )
    api(
        cloudflare_lab,
        "POST",
        "/zones/%s/dns_records" % ZONE_ID,
        {"type": "A", "name": "direct", "content": WAN, "proxied": False},
    )
    edge_origin.map_origin(cloudflare_lab.info, root, WAN, 443, extra={"%s:80" % WAN: echo})
    yield root
    edge_origin.stop(root)


def workers(root):
    """Process ids of the tree's nginx workers (children of its master)."""
    with open(os.path.join(root, "run/nginx.pid"), encoding="utf-8") as handle:
        master = handle.read().strip()
    found = set()
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open("/proc/%s/stat" % pid, encoding="utf-8") as handle:
                if handle.read().rsplit(")", 1)[1].split()[1] == master:
                    found.add(pid)
        except OSError:
            continue
    return found


def reload(root):
    """Reload nginx and wait until only new workers are left (an old one still answers for a moment)."""
    old = workers(root)
    assert tree.nginx(root, "-s", "reload").returncode == 0
    for _attempt in range(100):
        now = workers(root)
        if now and not now & old:
            return
        time.sleep(0.05)
    raise AssertionError("nginx kept its old workers")


def direct(root, host):
    """The status nginx gives a client without a client certificate that skips verification (an attacker)."""
    with open(os.path.join(root, "lab.json"), encoding="utf-8") as handle:
        lab = json.load(handle)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    connection = http.client.HTTPConnection(host)
    connection.sock = context.wrap_socket(
        socket.create_connection((lab["address"], lab["port"]), timeout=5), server_hostname=host
    )
    connection.request("GET", "/")
    status = connection.getresponse().status
    connection.close()
    return status


def require_client_certificate(root, ca_path, mode="on"):
    """The AOP part of the nginx patch, written straight into the generated server file (the role's own
    tests cover the role); reloaded and waited for."""
    path = tree.server_file(root)
    with open(path, encoding="utf-8") as handle:
        text = re.sub(r"\n    ssl_(verify_client|client_certificate) [^\n]*;", "", handle.read())
    text = text.replace(
        "server_name photos.example.test;",
        "server_name photos.example.test;\n    ssl_verify_client %s;\n    ssl_client_certificate %s;" % (mode, ca_path),
    )
    with open(path, "w", encoding="utf-8") as out:
        out.write(text)
    reload(root)
    assert direct(root, "photos.example.test") == (400 if mode == "on" else 200)


@pytest.mark.parametrize("mode", ["full", "strict", "origin_pull"])
def test_tls_modes_reach_nginx_with_an_origin_ca_certificate(cloudflare_lab, origin, mode):
    setting(cloudflare_lab, "ssl", mode)
    status, headers, body = visit(cloudflare_lab, "photos.example.test")
    assert (status, body) == (200, "photos client=127.0.0.1")
    assert headers["server"] == "cloudflare" and headers["cf-ray"]


def test_flexible_speaks_http_to_the_origin_and_sends_the_visitor_address(cloudflare_lab, origin):
    setting(cloudflare_lab, "ssl", "flexible")
    status, _headers, body = visit(
        cloudflare_lab, "photos.example.test", headers={"X-Forwarded-For": "203.0.113.9", "CF-Connecting-IP": "6.6.6.6"}
    )
    seen = json.loads(body)
    assert status == 200 and seen["host"] == "photos.example.test"
    assert seen["cf-connecting-ip"] == "127.0.0.1"  # the visitor's own value is replaced
    assert seen["x-forwarded-for"] == "203.0.113.9, 127.0.0.1"  # appended to
    assert seen["x-forwarded-proto"] == "https" and json.loads(seen["cf-visitor"]) == {"scheme": "https"}


def test_strict_refuses_a_certificate_no_trusted_ca_signed(cloudflare_lab, origin):
    # DSM's own default certificate (the tree's test CA) instead of the Origin CA one.
    test_pki = tree.pki.TestPki()
    cert, key = test_pki.leaf("example.test")
    certs = os.path.join(origin, "usr/syno/etc/certificate/system/default")
    with open(os.path.join(certs, "fullchain.pem"), "wb") as out:
        out.write(tree.pki.pem(cert) + tree.pki.pem(test_pki.inter))
    with open(os.path.join(certs, "privkey.pem"), "wb") as out:
        out.write(tree.pki.pem(key))
    reload(origin)
    setting(cloudflare_lab, "ssl", "full")
    assert visit(cloudflare_lab, "photos.example.test")[0] == 200  # Full checks nothing
    setting(cloudflare_lab, "ssl", "strict")
    status, _headers, body = visit(cloudflare_lab, "photos.example.test")
    assert status == 526 and "Invalid SSL certificate" in body
    # A publicly trusted CA (the lab's stand-in: a root given in edge_public_roots) is accepted too.
    cloudflare_lab.configure(edge_public_roots=[tree.pki.pem(test_pki.root).decode()])
    assert visit(cloudflare_lab, "photos.example.test")[0] == 200


def test_strict_checks_the_hostname(cloudflare_lab, origin, tmp_path):
    edge_origin.install_origin_certificate(cloudflare_lab.info, origin, hostnames=("other.example.test",))
    reload(origin)
    setting(cloudflare_lab, "ssl", "strict")
    assert visit(cloudflare_lab, "photos.example.test")[0] == 526
    setting(cloudflare_lab, "ssl", "full")
    assert visit(cloudflare_lab, "photos.example.test")[0] == 200


@pytest.mark.parametrize("mode", ["full", "strict"])
def test_authenticated_origin_pulls(cloudflare_lab, origin, mode):
    setting(cloudflare_lab, "ssl", mode)
    require_client_certificate(origin, cloudflare_lab.info["origin_pull_ca_path"], "optional")
    assert visit(cloudflare_lab, "photos.example.test")[0] == 200  # optional: with or without
    require_client_certificate(origin, cloudflare_lab.info["origin_pull_ca_path"], "on")
    status, _headers, body = visit(cloudflare_lab, "photos.example.test")
    assert status == 400 and "No required SSL certificate was sent" in body  # AOP off: nginx refuses the edge
    setting(cloudflare_lab, "tls_client_auth", "on")
    assert visit(cloudflare_lab, "photos.example.test")[:3:2] == (200, "photos client=127.0.0.1")


def test_origin_pulls_with_another_ca_are_refused(cloudflare_lab, origin):
    setting(cloudflare_lab, "tls_client_auth", "on")
    require_client_certificate(origin, os.path.join(origin, "test-client/origin-pull-ca.pem"), "on")
    assert visit(cloudflare_lab, "photos.example.test")[0] == 400


def test_always_use_https_and_hsts(cloudflare_lab, origin):
    status, headers, _body = visit(cloudflare_lab, "photos.example.test", "/a?b=1", https=False)
    assert status == 200 and "strict-transport-security" not in headers  # off: served over HTTP (port 80)
    setting(cloudflare_lab, "always_use_https", "on")
    status, headers, _body = visit(cloudflare_lab, "photos.example.test", "/a?b=1", https=False)
    assert status == 301 and headers["location"] == "https://photos.example.test/a?b=1"
    assert "strict-transport-security" not in visit(cloudflare_lab, "photos.example.test")[1]
    setting(
        cloudflare_lab,
        "security_header",
        {
            "strict_transport_security": {
                "enabled": True,
                "max_age": 15552000,
                "include_subdomains": True,
                "preload": False,
                "nosniff": True,
            }
        },
    )
    headers = visit(cloudflare_lab, "photos.example.test")[1]
    assert headers["strict-transport-security"] == "max-age=15552000; includeSubDomains"
    assert headers["x-content-type-options"] == "nosniff"


def test_the_zones_hsts_replaces_the_origins(cloudflare_lab, origin):
    """With the zone's HSTS on, visitors get the zone's header only, not the origin's beside it (an origin sending
    two years got the zone's one year at the edge: jikig-ai/soleur#2527). With it off, the origin's passes."""
    setting(cloudflare_lab, "ssl", "flexible")  # the echo origin on port 80
    own = {"X-Lab-Answer-HSTS": "max-age=63072000; includeSubDomains; preload"}
    headers = visit(cloudflare_lab, "photos.example.test", headers=own)[1]
    assert headers["strict-transport-security"] == "max-age=63072000; includeSubDomains; preload"
    hsts = {"enabled": True, "max_age": 31536000, "include_subdomains": True, "preload": True, "nosniff": False}
    setting(cloudflare_lab, "security_header", {"strict_transport_security": hsts})
    headers = visit(cloudflare_lab, "photos.example.test", headers=own)[1]
    assert headers["strict-transport-security"] == "max-age=31536000; includeSubDomains; preload"
    assert "x-content-type-options" not in headers


def test_min_tls_version(cloudflare_lab, origin):
    old = ssl.TLSVersion.TLSv1_1
    assert visit(cloudflare_lab, "photos.example.test", max_version=old)[0] == 200  # the zone's default is 1.0
    setting(cloudflare_lab, "min_tls_version", "1.2")
    with pytest.raises(ssl.SSLError):
        visit(cloudflare_lab, "photos.example.test", max_version=old)
    assert visit(cloudflare_lab, "photos.example.test", max_version=ssl.TLSVersion.TLSv1_2)[0] == 200
    setting(cloudflare_lab, "min_tls_version", "1.3")
    with pytest.raises(ssl.SSLError):
        visit(cloudflare_lab, "photos.example.test", max_version=ssl.TLSVersion.TLSv1_2)


def test_origin_failures_answer_cloudflare_5xx(cloudflare_lab, origin, echo):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    port = closed.getsockname()[1]
    closed.close()
    cloudflare_lab.configure(edge_origins={"%s:443" % WAN: "127.0.0.1:%d" % port})
    assert visit(cloudflare_lab, "photos.example.test")[0] == 521
    cloudflare_lab.configure(edge_origins={"%s:443" % WAN: echo})  # plain HTTP where TLS is expected
    assert visit(cloudflare_lab, "photos.example.test")[0] == 525
    cloudflare_lab.configure(edge_origins={})
    assert visit(cloudflare_lab, "photos.example.test")[0] == 523
    assert visit(cloudflare_lab, "direct.example.test")[0] == 530  # not proxied: not the edge's to serve
    with pytest.raises(OSError):  # an alert or a reset, as the client's timing has it
        visit(cloudflare_lab, "nas.other.test")  # not a zone on Cloudflare: no certificate for it


def test_ssl_off_sends_https_visitors_to_http(cloudflare_lab, origin):
    setting(cloudflare_lab, "ssl", "off")
    status, headers, _body = visit(cloudflare_lab, "photos.example.test", "/x")
    assert status == 301 and headers["location"] == "http://photos.example.test/x"
    assert visit(cloudflare_lab, "photos.example.test", https=False)[0] == 200


class KeptAlive(Echo):
    """An HTTP/1.1 origin that keeps connections open, counting them; `close_idle` ends the open ones, as an
    origin's own keep-alive timeout or a reload does."""

    protocol_version = "HTTP/1.1"
    opened = []

    def setup(self):
        super().setup()
        self.opened.append(self.connection)


def test_the_edge_reuses_origin_connections_and_replaces_closed_ones(cloudflare_lab, origin):
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), KeptAlive)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    KeptAlive.opened = []
    try:
        cloudflare_lab.configure(edge_origins={"%s:80" % WAN: "127.0.0.1:%d" % server.server_address[1]})
        setting(cloudflare_lab, "ssl", "flexible")
        assert [visit(cloudflare_lab, "photos.example.test")[0] for _visit in range(3)] == [200, 200, 200]
        assert len(KeptAlive.opened) == 1, "one kept-alive connection for one origin and hostname"
        for connection in KeptAlive.opened:  # the origin closes its idle connections
            connection.shutdown(socket.SHUT_RDWR)
        assert visit(cloudflare_lab, "photos.example.test")[0] == 200, "a closed one is replaced, not a 520"
        assert len(KeptAlive.opened) == 2
    finally:
        server.shutdown()
        server.server_close()


def test_a_reload_of_nginx_between_requests_costs_a_visitor_nothing(cloudflare_lab, origin):
    setting(cloudflare_lab, "ssl", "strict")
    assert visit(cloudflare_lab, "photos.example.test")[0] == 200
    reload(origin)  # nginx closes the edge's idle connection with its old workers
    assert visit(cloudflare_lab, "photos.example.test")[0] == 200


def test_the_edge_presents_an_ecdsa_certificate(cloudflare_lab, origin):
    context = ssl.create_default_context(cafile=cloudflare_lab.info["edge_ca_path"])
    with context.wrap_socket(
        socket.create_connection(("127.0.0.1", cloudflare_lab.info["edge_https_port"]), timeout=10),
        server_hostname="photos.example.test",
    ) as sock:
        cert = x509.load_der_x509_certificate(sock.getpeercert(binary_form=True))
    assert isinstance(cert.public_key(), ec.EllipticCurvePublicKey) and cert.public_key().curve.name == "secp256r1"
