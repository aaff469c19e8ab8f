"""The NAS's Cloudflare DDNS script (roles/exposure/templates/ddns_cloudflare.sh.j2), its Python part in-process.

The lab runs the whole script through the mock DSM's task runner (tests/system/test_ddns_task_on_nas.py); here each
decision is checked alone and fast: which addresses are refused, which source wins, the token file's checks,
DSM's ExtIP answer, and that a write sends `content` only. The Python must stay DSM 7's Python 3.8.
"""

from __future__ import annotations

import ast
import hashlib
import json
import os
import stat

import jinja2
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATE = os.path.join(ROOT, "roles", "exposure", "templates", "ddns_cloudflare.sh.j2")
TOKEN = "nas-ddns-token-0123456789abcdefghijklmn"


def source(config):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["to_json"] = json.dumps
    with open(TEMPLATE, encoding="utf-8") as text:
        script = env.from_string(text.read()).render(
            exposure_ddns_python="/usr/bin/python3", exposure_ddns_config=config
        )
    return script.split("<<'HOMELAB_NAS_DDNS'\n", 1)[1].rsplit("\nHOMELAB_NAS_DDNS", 1)[0]


@pytest.fixture
def script(tmp_path):
    config = {
        "zone": "example.test",
        "zone_id": "023e105f4ecef8ad9ca31a8372d0c353",
        "hostnames": ["photos.example.test", "media.example.test"],
        "api_url": "https://api.cloudflare.test/client/v4",
        "ca_path": "",
        "router_url": "http://192.168.1.1:5000/rootDesc.xml",
        "dsm_fallback": True,
        "ipv6": False,
        "token_file": str(tmp_path / "etc" / "token"),
        "token_sha256": hashlib.sha256(TOKEN.encode()).hexdigest(),
        "log_file": str(tmp_path / "log" / "ddns.log"),
        "timeout": 5,
    }
    text = source(config)
    assert text.rstrip().endswith("\nmain()")
    namespace = {"__name__": "ddns_script"}
    exec(compile(text.rstrip()[: -len("main()")], TEMPLATE, "exec"), namespace)  # noqa: S102 - our own template
    return namespace


def test_the_script_is_python_3_8(script):
    ast.parse(source({"x": 1}), feature_version=(3, 8))
    assert script["CONFIG"]["zone"] == "example.test"


@pytest.mark.parametrize(
    "address, kind",
    [
        ("100.64.0.1", "carrier-grade NAT"),
        ("100.127.255.254", "carrier-grade NAT"),
        ("192.168.1.20", "private"),
        ("10.1.2.3", "private"),
        ("127.0.0.1", "loopback"),
        ("169.254.1.1", "private"),
        ("203.0.113.9", "private"),
        ("224.0.0.1", "not global"),
        ("0.0.0.0", "private"),
    ],
)
def test_a_non_global_address_is_refused_naming_why(script, address, kind):
    with pytest.raises(script["Stop"]) as refused:
        script["global_address"](address, "the router", 4)
    assert refused.value.status == "refused" and refused.value.code == 2
    assert address in refused.value.message and kind in refused.value.message


def test_a_global_address_passes_and_junk_is_an_error(script):
    assert script["global_address"]("100.128.77.2", "the router", 4) == "100.128.77.2"
    with pytest.raises(script["Stop"]) as junk:
        script["global_address"]("<html>", "the router", 4)
    assert junk.value.status == "error"
    with pytest.raises(script["Stop"]):
        script["global_address"]("2606:4700::1", "the router", 4)


def test_the_router_first_dsm_only_when_no_router_answers(script):
    calls = []
    script["dsm_address"] = lambda: calls.append("dsm") or "100.128.77.9"
    script["router_address"] = lambda: "100.128.77.2"
    assert script["public_ipv4"]() == ("100.128.77.2", "the router") and calls == []

    def unreachable():
        raise OSError("connection refused")

    script["router_address"] = unreachable
    assert script["public_ipv4"]() == ("100.128.77.9", "DSM's ExtIP") and calls == ["dsm"]
    # A router that answers without an address (miniupnpd behind CGNAT) is not overruled by DSM.
    script["router_address"] = lambda: ""
    with pytest.raises(script["Stop"]) as withheld:
        script["public_ipv4"]()
    assert withheld.value.status == "refused" and calls == ["dsm"]
    # DSM's answer is checked the same way.
    script["router_address"] = unreachable
    script["dsm_address"] = lambda: "100.64.9.9"
    with pytest.raises(script["Stop"]) as cgnat:
        script["public_ipv4"]()
    assert cgnat.value.status == "refused" and "carrier-grade NAT" in cgnat.value.message

    def absent():
        raise LookupError("/usr/syno/bin/synowebapi is not here")

    script["dsm_address"] = absent
    with pytest.raises(script["Stop"]) as none:
        script["public_ipv4"]()
    assert none.value.status == "error" and "connection refused" in none.value.message
    assert "synowebapi is not here" in none.value.message


def test_dsm_extip_through_synowebapi(script, tmp_path):
    fake = tmp_path / "synowebapi"
    answer = {"data": [{"ip": "100.128.77.9", "ipv6": "0:0:0:0:0:0:0:0", "type": "WAN"}], "success": True}
    fake.write_text("#!/bin/sh\necho 'some banner'\necho '%s'\n" % json.dumps(answer))
    fake.chmod(0o755)
    script["SYNOWEBAPI"] = str(fake)
    assert script["dsm_address"]() == "100.128.77.9"
    fake.write_text("#!/bin/sh\necho '%s'\n" % json.dumps({"error": {"code": 103}, "success": False}))
    with pytest.raises(ValueError, match="103"):
        script["dsm_address"]()


def test_the_token_file_missing_loose_or_another_token(script):
    path = script["CONFIG"]["token_file"]
    with pytest.raises(script["Stop"]) as missing:
        script["read_token"]()
    assert missing.value.status == "token" and missing.value.code == 3
    os.makedirs(os.path.dirname(path), mode=0o700)
    with open(path, "w", encoding="ascii") as out:
        out.write(TOKEN + "\n")
    os.chmod(path, 0o644)
    with pytest.raises(script["Stop"]) as loose:
        script["read_token"]()
    assert loose.value.status == "refused" and "chmod 600" in loose.value.message
    os.chmod(path, stat.S_IRUSR | stat.S_IWUSR)
    assert script["read_token"]() == TOKEN
    with open(path, "w", encoding="ascii") as out:
        out.write("another-token-0123456789abcdefghijklmn")
    with pytest.raises(script["Stop"]) as other:
        script["read_token"]()
    assert other.value.status == "token"
    assert all(TOKEN not in stop.value.message for stop in (missing, loose, other))


def test_only_content_is_sent_and_only_where_it_differs(script):
    records = {
        "photos.example.test": [{"id": "a" * 32, "type": "A", "name": "photos.example.test", "content": "1.1.1.1"}],
        "media.example.test": [{"id": "b" * 32, "type": "A", "name": "media.example.test", "content": "100.128.77.2"}],
    }
    sent = []

    def cloudflare(token, method, path, body=None, query=None):
        assert token == TOKEN
        if method == "GET":
            return {"result": records[query["name"]]}
        sent.append((method, path, body))
        return {"result": {}}

    script["cloudflare"] = cloudflare
    script["public_ipv4"] = lambda: ("100.128.77.2", "the router")
    result = script["update"](TOKEN)
    assert sent == [
        (
            "PATCH",
            "/zones/%s/dns_records/%s" % ("023e105f4ecef8ad9ca31a8372d0c353", "a" * 32),
            {"content": "100.128.77.2"},
        )
    ]
    assert result.status == "changed" and "A photos.example.test 100.128.77.2 (was 1.1.1.1)" in result.message
    records["photos.example.test"][0]["content"] = "100.128.77.2"
    del sent[:]
    assert script["update"](TOKEN).status == "unchanged" and sent == []
    # Two records of a type for one name: left alone, named.
    records["media.example.test"].append(dict(records["media.example.test"][0], id="c" * 32, content="1.1.1.2"))
    result = script["update"](TOKEN)
    assert sent == [] and "A media.example.test (several records)" in result.message
