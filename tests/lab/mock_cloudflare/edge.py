"""The mock Cloudflare as an edge: visitors' HTTP(S) requests for proxied records, passed to the origin
the way the zone's current settings say (docs/lab-fidelity.md, `behaviour: edge ...` rows).

Two loopback listeners, HTTPS and HTTP. A request is served when its Host is the name of a proxied
A/AAAA/CNAME record of a zone; the record's content is the origin address, which the lab maps to a
loopback listener with `/_lab/config {"edge_origins": {"100.128.77.2:443": "127.0.0.1:PORT"}}` (what the
router's port forward does for the real edge). Per request, the zone's settings are read again:
`ssl` (how the edge reaches the origin and checks its certificate), `tls_client_auth` (the origin-pull
client certificate), `always_use_https`, `security_header` (HSTS), `min_tls_version` and `tls_1_3` (the
visitor-facing TLS versions). Failures answer Cloudflare's 52x statuses.
"""

from __future__ import annotations

import http.client
import os
import secrets
import socket
import ssl
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler

from tests.lab.common.http import LabServer
from tests.lab.mock_cloudflare.edge_tls import EdgeCertificates, peek_server_name

# Cloudflare's 5xx pages: status -> title (developers.cloudflare.com/support/troubleshooting/http-status-codes/
# cloudflare-5xx-errors/), and 530 carrying a 1xxx error for a hostname the edge does not serve.
ERRORS = {
    520: "Web server is returning an unknown error",
    521: "Web server is down",
    522: "Connection timed out",
    523: "Origin is unreachable",
    524: "A timeout occurred",
    525: "SSL handshake failed",
    526: "Invalid SSL certificate",
    530: "DNS resolution error (1001)",
}
HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-connection",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
}
# Request headers the edge sets itself; a visitor's own values are dropped (X-Forwarded-For is extended).
EDGE_SET = {"cf-connecting-ip", "cf-ray", "cf-visitor", "x-forwarded-proto", "host", "content-length"}
# Cloudflare keeps connections to the origin open and reuses them up to its Proxy Idle Timeout, 900 s after the
# last request (developers.cloudflare.com/fundamentals/reference/connection-limits/, "Keep-Alives").
ORIGIN_IDLE = 900.0
ORIGIN_IDLE_PER_KEY = 4  # connections kept idle per origin, hostname and TLS set-up (the lab's own bound)
VERSIONS = {"1.0": "TLSv1", "1.1": "TLSv1_1", "1.2": "TLSv1_2", "1.3": "TLSv1_3"}


def tls_version(name):
    with warnings.catch_warnings():  # TLS 1.0/1.1 are deprecated in Python; the edge still offers them when told to
        warnings.simplefilter("ignore", DeprecationWarning)
        return getattr(ssl.TLSVersion, VERSIONS[name])


class Edge:
    def __init__(self, app, directory, log=None):
        self.app = app
        self.log = log
        self.certs = EdgeCertificates(os.path.join(directory, "edge"), [z["name"] for z in app.data["zones"].values()])
        self._contexts = {}
        self._local = threading.local()
        self._idle = {}  # (origin, TLS context or None, hostname) -> [(connection, idle since)]
        self._idle_lock = threading.Lock()

    # -- listeners -----------------------------------------------------------
    def listen(self, host, https_port=0, http_port=0):
        servers = [_EdgeServer((host, https_port), self, tls=True), _EdgeServer((host, http_port), self, tls=False)]
        for server in servers:
            threading.Thread(target=server.serve_forever, daemon=True).start()
        return servers

    def visitor_context(self, minimum, tls_1_3):
        """The edge's server context for a zone's min_tls_version and tls_1_3 (one per combination)."""
        key = (minimum, tls_1_3)
        if key not in self._contexts:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                context.minimum_version = tls_version(minimum)
                if tls_1_3 == "off" and minimum != "1.3":
                    context.maximum_version = ssl.TLSVersion.TLSv1_2
            if minimum in ("1.0", "1.1"):
                # OpenSSL 3 refuses TLS 1.0/1.1 at its default security level; the zone allows them.
                context.set_ciphers("DEFAULT:@SECLEVEL=0")
            context.load_cert_chain(self.certs.cert_path, self.certs.key_path)
            self._contexts[key] = context
        return self._contexts[key]

    def handshake(self, sock):
        """The visitor's TLS connection, with the zone's TLS versions; None when refused."""
        try:
            name = peek_server_name(sock)
        except OSError:
            return None
        zone = self._zone(name or "")
        if zone is None:
            return None  # no certificate for that name: the edge ends the connection
        settings = self.app.data["settings"][zone[0]]
        context = self.visitor_context(settings["min_tls_version"]["value"], settings["tls_1_3"]["value"])
        try:
            return context.wrap_socket(sock, server_side=True)
        except (ssl.SSLError, OSError):
            return None

    # -- lookups -------------------------------------------------------------
    def _zone(self, host):
        for zone_id, zone in self.app.data["zones"].items():
            if host == zone["name"] or host.endswith("." + zone["name"]):
                return zone_id, zone
        return None

    def _record(self, zone_id, host):
        for record in self.app.data["dns_records"].get(zone_id, {}).values():
            if record["name"] == host and record.get("proxied") and record["type"] in ("A", "AAAA", "CNAME"):
                return record
        return None

    def _origin(self, content, port):
        """The loopback (host, port) the lab maps a public origin address to, or None."""
        origins = self.app.config.get("edge_origins") or {}
        target = origins.get("%s:%d" % (content, port)) or origins.get("[%s]:%d" % (content, port))
        if not target:
            return None
        address, _sep, number = target.rpartition(":")
        return address.strip("[]"), int(number)

    # -- one request -----------------------------------------------------------
    def serve(self, https, verb, path, headers, body, client):
        """(status, [(header, value)], body) for one visitor request, logged (never a header's value)."""
        status, answer_headers, answer = self._serve(https, verb, path, headers, body, client)
        if self.log:
            self.log.add(
                {
                    "api": "edge",
                    "method": "https" if https else "http",
                    "http": verb,
                    "path": path,
                    "host": (headers.get("Host") or "").lower(),
                    "status": status,
                    "outcome": getattr(self._local, "outcome", None),
                    "fault": None,
                }
            )
        return status, answer_headers, answer

    def _serve(self, https, verb, path, headers, body, client):
        self._local.outcome = None
        host = (headers.get("Host") or "").strip().lower()
        host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
        ray = secrets.token_hex(8)
        with self.app.state.lock:
            zone = self._zone(host)
            record = self._record(zone[0], host) if zone else None
            settings = {k: v["value"] for k, v in self.app.data["settings"][zone[0]].items()} if zone else {}
        if record is None:
            return self._error(530, host, ray, "no proxied record")
        if record["type"] == "CNAME" and record["content"].lower().endswith(".cfargotunnel.com"):
            # Cloudflare Tunnel: the edge would send this through the tunnel's connector, which the lab cannot
            # run (tunnels.py); a tunnel without a connected cloudflared answers 530 with error 1033.
            return self._error(530, host, ray, "no connector for the tunnel", "Cloudflare Tunnel error (1033)")
        mode = settings.get("ssl", "full")
        if not https and mode != "off" and settings.get("always_use_https") == "on":
            return 301, [("Location", "https://%s%s" % (host, path)), ("CF-Ray", ray)], b""
        if https and mode == "off":
            return 301, [("Location", "http://%s%s" % (host, path)), ("CF-Ray", ray)], b""
        origin_tls = https and mode in ("full", "strict", "origin_pull")
        origin = self._origin(record["content"], 443 if origin_tls else 80)
        if origin is None:
            return self._error(523, host, ray, "no route to %s" % record["content"])
        status, answer_headers, answer = self._forward(
            origin, origin_tls, mode, settings, host, verb, path, headers, body, client, ray, https
        )
        if status >= 520 and answer is None:
            return self._error(status, host, ray, answer_headers)
        answer_headers.append(("CF-Ray", ray))
        if https:
            # The zone's HSTS header replaces the origin's (seen live: jikig-ai/soleur#2527).
            added = self._security_headers(settings)
            replaced = {name.lower() for name, _value in added}
            answer_headers = [(k, v) for k, v in answer_headers if k.lower() not in replaced] + added
        return status, answer_headers, answer

    def _forward(self, origin, origin_tls, mode, settings, host, verb, path, headers, body, client, ray, https):
        """The origin's answer as (status, headers, body), or (52x, reason, None). A kept-alive connection for the
        same origin, hostname and TLS set-up is used first; one the origin closed meanwhile (a reload, its own
        keep-alive timeout) is replaced by a new connection before any answer, as a proxy does."""
        context = self._origin_context(mode, settings) if origin_tls else None
        key = (origin, id(context) if context else None, host)
        request = (verb, path, self._origin_headers(headers, host, client, ray, https), body)
        while True:
            connection = self._take_idle(key)
            kept = connection is not None
            if not kept:
                connection = self._connect(origin, context, host)
                if not isinstance(connection, http.client.HTTPConnection):
                    return connection
            try:
                reply, answer = self._exchange(connection, *request)
            except TimeoutError:
                connection.close()
                return 524, "origin did not answer in time", None
            except (http.client.HTTPException, ssl.SSLError, OSError) as exc:
                connection.close()
                if kept:
                    continue  # closed by the origin while idle: nothing reached it
                return 520, str(exc) or type(exc).__name__, None
            self._keep(key, connection, reply)
            passed = [
                (k, v)
                for k, v in reply.getheaders()
                if k.lower() not in HOP_BY_HOP | {"server", "date", "content-length"}
            ]
            return reply.status, passed, answer

    def _connect(self, origin, context, host):
        """A new connection to the origin (TLS with `context` when given), or (52x, reason, None)."""
        timeout = float(self.app.config.get("edge_connect_timeout", 3))
        try:
            sock = socket.create_connection(origin, timeout=timeout)
        except ConnectionRefusedError:
            return 521, "connection refused", None
        except TimeoutError:
            return 522, "connection timed out", None
        except OSError as exc:
            return 523, str(exc), None
        sock.settimeout(float(self.app.config.get("edge_read_timeout", 30)))
        if context is not None:
            try:
                sock = context.wrap_socket(sock, server_hostname=host)
            except ssl.SSLCertVerificationError as exc:
                sock.close()
                return 526, exc.verify_message, None
            except (ssl.SSLError, OSError) as exc:
                sock.close()
                return 525, str(exc), None
        connection = http.client.HTTPConnection(host, origin[1], timeout=sock.gettimeout())
        connection.sock = sock
        return connection

    def _exchange(self, connection, verb, path, headers, body):
        connection.sock.settimeout(float(self.app.config.get("edge_read_timeout", 30)))
        connection.putrequest(verb, path, skip_host=True, skip_accept_encoding=True)
        for name, value in headers:
            connection.putheader(name, value)
        connection.endheaders(body or None)
        reply = connection.getresponse()
        return reply, reply.read()

    def _keep(self, key, connection, reply):
        """Keep the connection for the next request, unless the origin said it closes it (Connection: close, HTTP/1.0)
        or enough are kept already."""
        if not reply.will_close:
            with self._idle_lock:
                idle = self._idle.setdefault(key, [])
                if len(idle) < ORIGIN_IDLE_PER_KEY:
                    idle.append((connection, time.monotonic()))
                    return
        connection.close()

    def _take_idle(self, key):
        with self._idle_lock:
            idle = self._idle.get(key) or []
            while idle:
                connection, since = idle.pop()
                if time.monotonic() - since < ORIGIN_IDLE:
                    return connection
                connection.close()
        return None

    def _origin_context(self, mode, settings):
        # One context per combination, as for visitors: parsing the roots for every request costs the lab more
        # than the handshake it is for.
        strict = mode in ("strict", "origin_pull")
        roots = self.app.origin_ca.root_pem.decode() + "".join(self.app.config.get("edge_public_roots") or [])
        key = ("origin", strict, roots if strict else None, settings.get("tls_client_auth") == "on")
        if key not in self._contexts:
            self._contexts[key] = self._new_origin_context(strict, roots, key[3])
        return self._contexts[key]

    def _new_origin_context(self, strict, roots, client_auth):
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        if strict:
            # Full (strict): a certificate from Cloudflare's Origin CA or a publicly trusted CA, unexpired,
            # for the request's hostname. The lab's "public" CAs are those given in edge_public_roots.
            context.load_verify_locations(cadata=roots)
        else:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        if client_auth:
            context.load_cert_chain(self.certs.client_cert_path, self.certs.client_key_path)
        return context

    @staticmethod
    def _origin_headers(headers, host, client, ray, visitor_https):
        scheme = "https" if visitor_https else "http"
        forwarded = [(k, v) for k, v in headers.items() if k.lower() not in HOP_BY_HOP | EDGE_SET]
        xff = [v for k, v in forwarded if k.lower() == "x-forwarded-for"]
        forwarded = [(k, v) for k, v in forwarded if k.lower() != "x-forwarded-for"]
        return (
            [("Host", host)]
            + forwarded
            + [
                ("CF-Connecting-IP", client),
                ("X-Forwarded-For", ", ".join(xff + [client])),
                ("X-Forwarded-Proto", scheme),
                ("CF-Visitor", '{"scheme":"%s"}' % scheme),
                ("CF-Ray", ray),
                ("Connection", "keep-alive"),
            ]
        )

    @staticmethod
    def _security_headers(settings):
        hsts = (settings.get("security_header") or {}).get("strict_transport_security") or {}
        if not hsts.get("enabled"):
            return []
        value = "max-age=%d" % hsts.get("max_age", 0)
        value += "; includeSubDomains" if hsts.get("include_subdomains") else ""
        value += "; preload" if hsts.get("preload") else ""
        added = [("Strict-Transport-Security", value)]
        return added + ([("X-Content-Type-Options", "nosniff")] if hsts.get("nosniff") else [])

    def _error(self, status, host, ray, reason, title=None):
        title = title or ERRORS[status]
        page = (
            "<!DOCTYPE html><html><head><title>%s | %d: %s</title></head><body><h1>Error %d</h1><p>%s</p>"
            "<p>Ray ID: %s</p></body></html>\n" % (host, status, title, status, title, ray)
        )
        self._local.outcome = reason  # per thread: each connection has its own
        return status, [("Content-Type", "text/html; charset=UTF-8"), ("CF-Ray", ray)], page.encode()


class _EdgeServer(LabServer):
    def __init__(self, address, edge, tls):
        self.edge, self.tls = edge, tls
        super().__init__(address, _EdgeHandler)

    def finish_request(self, request, client_address):
        # Runs in the connection's own thread: the TLS handshake must not hold up the accept loop.
        if self.tls:
            request = self.edge.handshake(request)
            if request is None:
                return
        try:
            self.RequestHandlerClass(request, client_address, self)
        finally:
            if self.tls:
                request.close()


class _EdgeHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def version_string(self):
        return "cloudflare"

    def _serve(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        status, headers, answer = self.server.edge.serve(
            self.server.tls, self.command, self.path, self.headers, body, self.client_address[0]
        )
        self.send_response(status)
        for name, value in headers:
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(answer)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = do_OPTIONS = _serve
