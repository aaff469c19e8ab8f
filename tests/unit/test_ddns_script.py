"""The NAS's Cloudflare DDNS script (roles/exposure/templates/ddns_cloudflare.sh.j2), its Python part in-process.

The lab runs the whole script through the mock DSM's task runner (tests/system/test_ddns_task_on_nas.py); here each
decision is checked alone and fast: which addresses are refused, which source wins, the token file's checks,
DSM's ExtIP answer, and that a write sends `content` only. The Python must stay DSM 7's Python 3.8.
"""

from __future__ import annotations

import ast
import hashlib
import ipaddress
import json
import os
import shlex
import stat
import subprocess

import jinja2
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TEMPLATE = os.path.join(ROOT, "roles", "exposure", "templates", "ddns_cloudflare.sh.j2")
OFF_TEMPLATE = os.path.join(ROOT, "roles", "exposure", "templates", "ddns_off.sh.j2")
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
        ("169.254.1.1", "link-local"),
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


def listing(zone, query, max_per_page=5000000):
    """Cloudflare's answer to GET dns_records: the zone's records of query's type (and name, if given), one page."""
    found = [r for r in zone if r["type"] == query["type"] and query.get("name", r["name"]) == r["name"]]
    per_page = min(max_per_page, int(query.get("per_page", 100)))
    page = int(query.get("page", 1))
    pages = max(1, -(-len(found) // per_page))
    return {
        "result": found[(page - 1) * per_page : page * per_page],
        "result_info": {"page": page, "total_pages": pages},
    }


def test_only_content_is_sent_and_only_where_it_differs(script):
    zone = [
        {"id": "a" * 32, "type": "A", "name": "photos.example.test", "content": "1.1.1.1"},
        {"id": "b" * 32, "type": "A", "name": "media.example.test", "content": "100.128.77.2"},
        {"id": "d" * 32, "type": "CNAME", "name": "www.example.test", "content": "photos.example.test"},
    ]
    sent = []

    def cloudflare(token, method, path, body=None, query=None):
        assert token == TOKEN
        if method == "GET":
            return listing(zone, query)
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
    zone[0]["content"] = "100.128.77.2"
    del sent[:]
    assert script["update"](TOKEN).status == "unchanged" and sent == []
    # Two records of a type for one name: left alone, named.
    zone.append(dict(zone[1], id="c" * 32, content="1.1.1.2"))
    result = script["update"](TOKEN)
    assert sent == [] and "A media.example.test (several records)" in result.message


def test_one_listing_per_record_type_whatever_the_number_of_names(script):
    names = ["svc%d.example.test" % n for n in range(250)]
    script["CONFIG"]["hostnames"] = names
    zone = [{"id": "%032x" % n, "type": "A", "name": name, "content": "100.128.77.2"} for n, name in enumerate(names)]
    reads = []

    def cloudflare(token, method, path, body=None, query=None):
        assert method == "GET" and "name" not in query
        reads.append(int(query["page"]))
        return listing(zone, query, max_per_page=100)  # a Cloudflare giving fewer a page than asked: every page read

    script["cloudflare"] = cloudflare
    script["public_ipv4"] = lambda: ("100.128.77.2", "the router")
    result = script["update"](TOKEN)
    assert result.status == "unchanged" and reads == [1, 2, 3]
    assert "A svc249.example.test" in result.message and "left alone" not in result.message


def by_type(records, script):
    """The zone's records: one of each type in records (type -> fields) for every name the script keeps."""
    return [
        dict(fields, type=kind, name=name) for kind, fields in records.items() for name in script["CONFIG"]["hostnames"]
    ]


def if_inet6(tmp_path, *rows):
    """A /proc/net/if_inet6 of the given (address, scope, flags) rows, as the kernel writes it."""
    lines = []
    for index, (address, scope, flags) in enumerate(rows, 1):
        hexed = ipaddress.ip_address(address).exploded.replace(":", "")
        lines.append("%s %02x 40 %s %s eth0\n" % (hexed, index, scope, flags))
    path = tmp_path / "if_inet6"
    path.write_text("".join(lines))
    return str(path)


def test_the_nas_s_own_stable_global_ipv6_address_is_the_one_published(script, tmp_path):
    script["IF_INET6"] = if_inet6(
        tmp_path,
        ("::1", "10", "80"),
        ("fe80::211:32ff:fe12:3456", "20", "80"),
        ("2001:470:1f0b:1::99", "00", "01"),  # temporary (privacy): changes every day
        ("2001:470:1f0b:1::98", "00", "20"),  # deprecated
        ("fd12:3456:789a::5", "00", "80"),
        ("2001:470:1f0b:1::5", "00", "80"),
    )
    assert script["nas_ipv6"]() == ("2001:470:1f0b:1::5", None)


@pytest.mark.parametrize(
    "rows, says",
    [
        ([("fd12:3456:789a::5", "00", "80")], "fd12:3456:789a::5 is unique local (fc00::/7)"),
        ([("fe80::211:32ff:fe12:3456", "20", "80")], "fe80::211:32ff:fe12:3456 is link-local"),
        ([("::1", "10", "80")], "the NAS has no global IPv6 address"),
    ],
)
def test_a_non_global_ipv6_address_is_refused_and_logged(script, tmp_path, rows, says):
    script["IF_INET6"] = if_inet6(tmp_path, *rows)
    path = script["CONFIG"]["token_file"]
    os.makedirs(os.path.dirname(path), mode=0o700)
    with open(path, "w", encoding="ascii") as out:
        out.write(TOKEN)
    os.chmod(path, 0o600)
    script["CONFIG"]["ipv6"] = True
    records = {"A": {"id": "a" * 32, "content": "100.128.77.2"}, "AAAA": {"id": "b" * 32, "content": "2001:470::1"}}
    sent = []

    def cloudflare(token, method, path, body=None, query=None):
        if method == "GET":
            return listing(by_type(records, script), query)
        sent.append((method, path, body))
        return {"result": {}}

    script["cloudflare"] = cloudflare
    script["public_ipv4"] = lambda: ("100.128.77.2", "the router")
    with pytest.raises(SystemExit) as ended:
        script["main"]()
    assert ended.value.code == 0 and sent == []  # the A records are current; no AAAA written
    with open(script["CONFIG"]["log_file"], encoding="utf-8") as log:
        (line,) = log.read().splitlines()
    assert line.split(" ", 1)[1].startswith("unchanged: A photos.example.test, A media.example.test at 100.128.77.2")
    assert "AAAA refused: the NAS has no global IPv6 address" in line and says in line
    assert "exposure_ddns_ipv6: false" in line


def test_an_aaaa_record_follows_the_nas_s_ipv6_address_and_only_when_it_changed(script, tmp_path):
    script["IF_INET6"] = if_inet6(tmp_path, ("2001:470:1f0b:1::5", "00", "80"))
    script["CONFIG"]["ipv6"] = True
    script["CONFIG"]["hostnames"] = ["photos.example.test"]
    records = {
        "A": {"id": "a" * 32, "content": "100.128.77.2", "proxied": True},
        # Cloudflare may give the address in another spelling: compared as addresses, not text.
        "AAAA": {"id": "b" * 32, "content": "2001:470:1f0b:1:0:0:0:4", "proxied": True},
    }
    sent = []

    def cloudflare(token, method, path, body=None, query=None):
        if method == "GET":
            return listing(by_type(records, script), query)
        sent.append((method, path, body))
        records["AAAA"]["content"] = body["content"]
        return {"result": {}}

    script["cloudflare"] = cloudflare
    script["public_ipv4"] = lambda: ("100.128.77.2", "the router")
    result = script["update"](TOKEN)
    assert sent == [
        ("PATCH", "/zones/023e105f4ecef8ad9ca31a8372d0c353/dns_records/" + "b" * 32, {"content": "2001:470:1f0b:1::5"})
    ]
    assert result.status == "changed" and "AAAA photos.example.test 2001:470:1f0b:1::5 (was 2001:470:1f0b:1::4)" in (
        result.message
    )
    del sent[:]
    records["AAAA"]["content"] = "2001:470:1F0B:1:0:0:0:5"
    again = script["update"](TOKEN)
    assert again.status == "unchanged" and sent == [] and "AAAA photos.example.test" in again.message
    # exposure_ddns_ipv6: false: no AAAA read or written at all.
    script["CONFIG"]["ipv6"] = False
    reads = []
    script["cloudflare"] = lambda token, method, path, body=None, query=None: (
        reads.append(query["type"]) or listing(by_type(records, script), query)
    )
    assert script["update"](TOKEN).status == "unchanged" and reads == ["A"]


def off_script(token_file, log_file):
    env = jinja2.Environment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True)
    env.filters["quote"] = shlex.quote
    with open(OFF_TEMPLATE, encoding="utf-8") as text:
        return env.from_string(text.read()).render(exposure_ddns_token_file=token_file, exposure_ddns_log_file=log_file)


def test_the_clean_up_script_removes_the_token_file_once_and_keeps_what_is_not_ours(tmp_path):
    ours = tmp_path / "etc" / "homelab-nas"
    ours.mkdir(parents=True, mode=0o700)
    ours.chmod(0o700)
    token = ours / "cloudflare-ddns.token"
    for path in (token, ours / "ddns.lock", ours / "cloudflare-ddns.token.new.123"):
        path.write_text(TOKEN)
    log = tmp_path / "ddns.log"
    log.write_text("2026-01-01T00:00:00+0000 unchanged: A photos.example.test at 100.128.77.2\n")
    script = off_script(str(token), str(log))
    linted = subprocess.run(
        ["shellcheck", "-s", "bash", "-"], input=script, capture_output=True, text=True, check=False
    )
    assert linted.returncode == 0, linted.stdout
    first = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
    assert first.returncode == 0 and first.stdout.startswith("removed: %s " % token), first
    assert not ours.exists() and (tmp_path / "etc").exists()
    assert log.read_text().splitlines()[-1].split(" ", 1)[1] == first.stdout.strip()
    second = subprocess.run(["bash", "-c", script], capture_output=True, text=True, check=False)
    assert second.returncode == 0 and second.stdout.startswith("absent: "), second
    # A directory that is not ours (not 0700, or holding something else) stays; no log is created.
    shared = tmp_path / "shared"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    (shared / "token").write_text(TOKEN)
    third = subprocess.run(
        ["bash", "-c", off_script(str(shared / "token"), str(tmp_path / "no" / "log"))],
        capture_output=True,
        text=True,
        check=False,
    )
    assert third.returncode == 0 and not (shared / "token").exists() and shared.is_dir()
    assert not (tmp_path / "no").exists()
    # Values reach the script quoted: a path with a quote stays one word.
    odd = tmp_path / "it's"
    odd.mkdir()
    (odd / "t").write_text(TOKEN)
    fourth = subprocess.run(
        ["bash", "-c", off_script(str(odd / "t"), str(tmp_path / "log2"))], capture_output=True, text=True, check=False
    )
    assert fourth.returncode == 0 and not (odd / "t").exists(), fourth
