"""tls_probe_info against the mock Cloudflare edge (in-process module, real TLS), with a plain-HTTP origin
behind it (Flexible) so no nginx is needed; tests/system/test_verify_role.py runs it against nginx."""

from __future__ import annotations

import http.server
import json
import socket
import ssl
import threading
import urllib.request

import pytest

from ansible_collections.homelab.nas.plugins.module_utils.tls_probe import covers
from ansible_collections.homelab.nas.plugins.modules import tls_probe_info
from tests.lab.mock_cloudflare.seed import LAB_TOKEN, ZONE_ID
from tests.unit.plugins.modules.runner import run_module

WAN = "100.128.77.2"


class Hello(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.send_header("Content-Length", "5")
        self.end_headers()
        self.wfile.write(b"hello")

    def log_message(self, *args):
        pass


def api(lab, verb, path, body):
    request = urllib.request.Request(
        lab.api_base_url + path,
        method=verb,
        data=json.dumps(body).encode(),
        headers={"Authorization": "Bearer " + LAB_TOKEN, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=lab.ca_path)) as reply:
        return json.load(reply)["result"]


@pytest.fixture
def edge(cloudflare_lab):
    origin = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hello)
    threading.Thread(target=origin.serve_forever, daemon=True).start()
    api(
        cloudflare_lab,
        "POST",
        "/zones/%s/dns_records" % ZONE_ID,
        {"type": "A", "name": "photos", "content": WAN, "proxied": True},
    )
    for name, value in (("ssl", "flexible"), ("min_tls_version", "1.2"), ("always_use_https", "on")):
        api(cloudflare_lab, "PATCH", "/zones/%s/settings/%s" % (ZONE_ID, name), {"value": value})
    cloudflare_lab.configure(edge_origins={"%s:80" % WAN: "127.0.0.1:%d" % origin.server_address[1]})
    yield cloudflare_lab
    origin.shutdown()
    origin.server_close()


@pytest.fixture
def probe(edge, capsys):
    def _probe(check_mode=False, **args):
        args = dict(
            {
                "host": "127.0.0.1",
                "port": edge.info["edge_https_port"],
                "server_name": "photos.example.test",
                "ca_path": edge.info["edge_ca_path"],
            },
            **args,
        )
        # None is an option left unset, as Ansible's omit leaves it
        return run_module(
            tls_probe_info, {k: v for k, v in args.items() if v is not None}, capsys, check_mode=check_mode
        )

    return _probe


def test_a_visitor_through_the_edge(probe):
    result = probe(check_mode=True)  # read-only: check mode runs it
    assert result["changed"] is False and result["status"] == 200 and result["body"] == "hello"
    assert result["tls_version"] in ("TLSv1.2", "TLSv1.3") and result["covers"] is True
    assert {"example.test", "*.example.test"} <= set(result["certificate"]["sans"])
    assert 0 < result["certificate"]["days_left"] <= 90 and len(result["certificate"]["sha256"]) == 64
    assert result["headers"]["server"] == "cloudflare"


def test_an_old_client_is_refused_under_min_tls_1_2(probe):
    result = probe(max_tls_version="1.1")
    assert result["reachable"] is True and result["tls_established"] is False and result["error_kind"] == "tls"


def test_certificates_are_verified_by_default(probe):
    result = probe(ca_path=None)  # the lab edge CA is not in the system's trust store
    assert result["tls_established"] is False and result["error_kind"] == "certificate"
    unverified = probe(ca_path=None, validate_certs=False)
    assert unverified["status"] == 200 and unverified["covers"] is True


def test_plain_http_shows_the_redirect(probe, edge):
    result = probe(tls=False, port=edge.info["edge_http_port"], path="/a")
    assert result["status"] == 301 and result["headers"]["location"] == "https://photos.example.test/a"
    assert result["tls_established"] is False and result["error"] is None


def test_a_closed_port_is_a_result_not_a_failure(probe):
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = probe(port=port)
    assert result.get("failed") is not True and result["reachable"] is False and result["error_kind"] == "refused"


def test_min_above_max_is_refused(probe):
    result = probe(min_tls_version="1.3", max_tls_version="1.2")
    assert result["failed"] is True and "above max_tls_version" in result["msg"]


def test_several_names_in_one_call_each_in_order(probe):
    names = ["photos.example.test", "nothing.example.test", "photos.example.test"]
    result = probe(server_name=None, server_names=names, parallel=2)
    assert [p["server_name"] for p in result["probes"]] == names and "status" not in result
    photos, nothing, again = result["probes"]
    assert photos["status"] == 200 and photos["covers"] is True and again["status"] == 200
    assert nothing["status"] != 200  # the edge serves no record by that name
    assert photos["body"] == "hello"
    lean = probe(server_name=None, server_names=names[:1], body=False)["probes"][0]
    assert lean["status"] == 200 and "body" not in lean
    assert len(photos["headers"]) > 2 and "cf-ray" in photos["headers"]
    named = probe(server_name=None, server_names=names[:1], return_headers=["CF-Ray", "Server", "X-None"])
    assert sorted(named["probes"][0]["headers"]) == ["cf-ray", "server"]
    assert probe(server_name=None, server_names=names[:1], return_headers=[])["probes"][0]["headers"] == {}


def test_without_host_each_name_is_where_it_connects(probe, edge):
    result = probe(host=None, server_name=None, server_names=["127.0.0.1"], tls=False, port=edge.info["edge_http_port"])
    assert result["probes"][0]["reachable"] is True and result["probes"][0]["status"] is not None


@pytest.mark.parametrize(
    "args,message",
    [
        ({"server_names": ["a.example.test"]}, "mutually exclusive"),
        ({"server_name": None, "server_names": ["a.example.test", " "]}, "server_names has an empty name"),
        ({"server_name": None, "server_names": ["a.example.test"], "parallel": 0}, "parallel is 0"),
        ({"host": None, "server_name": None}, "one of the following is required"),
    ],
)
def test_bad_lists_are_refused(probe, args, message):
    result = probe(**args)
    assert result["failed"] is True and message in result["msg"]


@pytest.mark.parametrize(
    "sans,hostname,expected",
    [
        (["*.example.test"], "photos.example.test", True),
        (["*.example.test"], "a.b.example.test", False),
        (["*.example.test"], "example.test", False),
        (["example.test"], "EXAMPLE.test.", True),
    ],
)
def test_covers(sans, hostname, expected):
    assert covers(sans, hostname) is expected
