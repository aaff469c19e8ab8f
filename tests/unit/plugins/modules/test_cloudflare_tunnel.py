"""cloudflare_tunnel in-process against the mock's tunnel API (tests/lab/mock_cloudflare/tunnels.py)."""

from __future__ import annotations

import base64
import json
import os
import stat

import pytest
import requests

from ansible_collections.homelab.nas.plugins.modules import cloudflare_tunnel
from tests.lab.mock_cloudflare.seed import ACCOUNT, DNS_ONLY_TOKEN, LAB_TOKEN, ZONE_ID
from tests.unit.plugins.modules.runner import run_module

ACCOUNT_ID = ACCOUNT["id"]
INGRESS = [
    {"hostname": "photos.example.test", "service": "https://localhost:443", "no_tls_verify": True},
    {"hostname": "media", "service": "http://192.168.1.20:8096", "comment": "media"},
]


@pytest.fixture
def run(cloudflare_lab, capsys):
    def _run(check_mode=False, diff=True, no_log=False, **args):
        args = dict(dict(account_id=ACCOUNT_ID, name="nas", ingress=INGRESS), **args)
        if no_log:
            args["_ansible_no_log"] = True
        return run_module(
            cloudflare_tunnel, cloudflare_lab.module_args(**args), capsys, check_mode=check_mode, diff=diff
        )

    return _run


def tunnels(lab):
    return [t for t in lab.state()["tunnels"].values() if t["deleted_at"] is None]


def records(lab):
    return sorted(
        (r["type"], r["name"], r["content"], r["proxied"], r["comment"])
        for r in lab.state()["dns_records"].get(ZONE_ID, {}).values()
    )


def api(lab, verb, path, token=LAB_TOKEN, **kwargs):
    response = requests.request(
        verb,
        lab.api_base_url + path,
        headers={"Authorization": "Bearer " + token},
        verify=lab.ca_path,
        timeout=10,
        **kwargs,
    )
    return response.status_code, response.json()


def test_creates_configures_points_the_names_then_changes_nothing(run, cloudflare_lab, tmp_path):
    token_path = str(tmp_path / "tunnel.token")
    checked = run(check_mode=True, token_path=token_path)
    assert checked["changed"] and checked["tunnel_id"] is None
    assert "CNAME photos.example.test -> (the new tunnel's id).cfargotunnel.com" in checked["diff"]["after"]["dns"]
    assert tunnels(cloudflare_lab) == [] and not os.path.exists(token_path)

    first = run(token_path=token_path)
    assert first["changed"] and first["token_written"]
    (tunnel,) = tunnels(cloudflare_lab)
    assert first["tunnel_id"] == tunnel["id"] and tunnel["remote_config"] is True
    target = tunnel["id"] + ".cfargotunnel.com"
    assert first["cname_target"] == target
    assert records(cloudflare_lab) == [
        ("CNAME", "media.example.test", target, True, "homelab.nas: media"),
        ("CNAME", "photos.example.test", target, True, "homelab.nas: photos.example.test"),
    ]
    config = tunnel["configuration"]["config"]
    assert config["ingress"] == [
        {"hostname": "photos.example.test", "service": "https://localhost:443", "originRequest": {"noTLSVerify": True}},
        {"hostname": "media.example.test", "service": "http://192.168.1.20:8096"},
        {"service": "http_status:404"},
    ]
    # The token file: 0600, the tunnel's token (a, t, s), and the token never in the result or the diff.
    assert stat.S_IMODE(os.stat(token_path).st_mode) == 0o600
    with open(token_path, encoding="utf-8") as handle:
        token = handle.read().strip()
    assert json.loads(base64.b64decode(token))["t"] == tunnel["id"]
    assert token not in json.dumps(first)

    second = run(token_path=token_path)
    assert not second["changed"] and not second["token_written"], second.get("diff")
    assert second["tunnel_id"] == tunnel["id"] and second["dns"] == []


def test_ingress_change_shows_in_the_diff_and_keeps_other_config(run, cloudflare_lab):
    first = run()
    tunnel_id = first["tunnel_id"]
    # Something else (the dashboard) set a top-level originRequest: kept by the module's PUT.
    put = {"config": {"originRequest": {"connectTimeout": 10}, "ingress": [{"service": "http_status:404"}]}}
    assert (
        api(cloudflare_lab, "PUT", "/accounts/%s/cfd_tunnel/%s/configurations" % (ACCOUNT_ID, tunnel_id), json=put)[0]
        == 200
    )
    changed = run(ingress=INGRESS[:1], catch_all="http_status:503")
    assert changed["changed"]
    assert changed["diff"]["before"]["ingress"] == [{"service": "http_status:404"}]
    assert changed["diff"]["after"]["ingress"][-1] == {"service": "http_status:503"}
    config = cloudflare_lab.state()["tunnels"][tunnel_id]["configuration"]["config"]
    assert config["originRequest"] == {"connectTimeout": 10} and len(config["ingress"]) == 2
    # media is no longer a hostname of the tunnel: its CNAME (ours, to this tunnel) went.
    assert [r[1] for r in records(cloudflare_lab)] == ["photos.example.test"]
    assert changed["dns"] == ["delete media.example.test"]


def test_our_a_record_becomes_the_cname_and_a_foreign_one_stops_the_task(run, cloudflare_lab):
    path = "/zones/%s/dns_records" % ZONE_ID
    ours = {"type": "A", "name": "photos", "content": "100.128.77.2", "proxied": True, "comment": "homelab.nas: photos"}
    assert api(cloudflare_lab, "POST", path, json=ours)[0] == 200
    aaaa = dict(ours, type="AAAA", content="2606:4700::6812:1")
    assert api(cloudflare_lab, "POST", path, json=aaaa)[0] == 200
    result = run(ingress=INGRESS[:1])
    # The AAAA goes first (Cloudflare refuses a CNAME beside it), then the A becomes the CNAME in place.
    assert result["changed"] and sorted(result["dns"]) == [
        "delete photos.example.test",
        "overwrite photos.example.test",
    ]
    assert [r[:2] for r in records(cloudflare_lab)] == [("CNAME", "photos.example.test")]

    foreign = {"type": "A", "name": "media", "content": "100.128.77.2", "proxied": True, "comment": "by hand"}
    assert api(cloudflare_lab, "POST", path, json=foreign)[0] == 200
    before = cloudflare_lab.state()
    refused = run()
    assert refused["failed"] and "media.example.test already has A record(s) without the mark" in refused["msg"]
    assert cloudflare_lab.state()["tunnels"] == before["tunnels"]  # nothing written, not even the ingress


@pytest.mark.parametrize(
    "args,message",
    [
        (dict(account_id="nope"), "account_id: 'nope' is not a Cloudflare account id"),
        (dict(ingress=[{"hostname": "photos.other.test", "service": "http://localhost"}]), "ingress[0].name"),
        (dict(ingress=[{"hostname": "photos", "service": "localhost:443"}]), "ingress[0].service"),
        (dict(ingress=[{"hostname": "photos", "service": "http://localhost:8080/app"}]), "no path"),
        (dict(ingress=[{"hostname": "photos", "service": "tcp://localhost"}]), "needs a port"),
        (dict(ingress=[{"hostname": "*", "service": "http://localhost"}]), "wildcard"),
        (dict(catch_all="http_status:99"), "catch_all"),
        (dict(ingress=INGRESS + INGRESS[:1]), "listed twice"),
        (dict(return_token=True), "set no_log: true"),
    ],
)
def test_refused_before_any_request(run, cloudflare_lab, args, message):
    result = run(**args)
    assert result["failed"] and message in result["msg"], result["msg"]
    assert cloudflare_lab.calls() == []


def test_token_file_that_is_not_a_token_is_never_overwritten(run, cloudflare_lab, tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("my notes\n")
    result = run(token_path=str(path))
    assert result["failed"] and "is not a Cloudflare Tunnel connector token" in result["msg"]
    assert path.read_text() == "my notes\n" and cloudflare_lab.calls() == []


def test_a_new_tunnel_never_takes_over_the_token_file_of_another_one(run, cloudflare_lab, tmp_path):
    token_path = tmp_path / "tunnel.token"
    run(token_path=str(token_path))
    held = token_path.read_text()
    other = run(name="nas2", token_path=str(token_path))
    assert other["failed"] and "holds the connector token of another tunnel" in other["msg"]
    assert token_path.read_text() == held and [t["name"] for t in tunnels(cloudflare_lab)] == ["nas"]


def test_return_token_on_a_no_log_task_and_the_account_read_from_the_zone(run, cloudflare_lab):
    result = run(return_token=True, no_log=True, account_id=None)
    assert json.loads(base64.b64decode(result["token"])) == {
        "a": ACCOUNT_ID,
        "t": result["tunnel_id"],
        "s": cloudflare_lab.state()["tunnels"][result["tunnel_id"]]["secret"],
    }


def test_absent_removes_the_cnames_the_tunnel_and_its_token_file(run, cloudflare_lab, tmp_path):
    token_path = tmp_path / "tunnel.token"
    created = run(token_path=str(token_path))
    hand = {"type": "CNAME", "name": "other", "content": created["cname_target"], "proxied": True, "comment": "mine"}
    assert api(cloudflare_lab, "POST", "/zones/%s/dns_records" % ZONE_ID, json=hand)[0] == 200
    checked = run(state="absent", check_mode=True, token_path=str(token_path))
    assert checked["changed"] and len(tunnels(cloudflare_lab)) == 1
    gone = run(state="absent", token_path=str(token_path))
    assert gone["changed"] and tunnels(cloudflare_lab) == [] and not token_path.exists()
    assert [r[1] for r in records(cloudflare_lab)] == ["other.example.test"]  # not ours: kept
    assert not run(state="absent")["changed"]


def test_mock_tunnel_api_answers(cloudflare_lab):
    """The mock's documented answers (docs/lab-fidelity.md): the permission, name uniqueness, deleted tunnels in
    the list unless is_deleted=false, and cloudflared's ingress validation."""
    base = "/accounts/%s/cfd_tunnel" % ACCOUNT_ID
    status, body = api(cloudflare_lab, "POST", base, token=DNS_ONLY_TOKEN, json={"name": "x"})
    assert status == 403 and body["errors"][0]["code"] == 10000
    status, body = api(cloudflare_lab, "POST", base, json={"name": "x", "config_src": "cloudflare"})
    assert status == 200 and body["result"]["status"] == "inactive"
    tunnel_id = body["result"]["id"]
    assert json.loads(base64.b64decode(body["result"]["token"])) == {
        "a": ACCOUNT_ID,
        "t": tunnel_id,
        "s": body["result"]["credentials_file"]["TunnelSecret"],
    }
    status, body = api(cloudflare_lab, "POST", base, json={"name": "x"})
    assert status == 400 and body["errors"][0]["code"] == 1013
    no_catch_all = {"config": {"ingress": [{"hostname": "a.example.test", "service": "http://localhost"}]}}
    status, body = api(cloudflare_lab, "PUT", "%s/%s/configurations" % (base, tunnel_id), json=no_catch_all)
    assert status == 400 and "The last ingress rule must match all URLs" in body["errors"][0]["message"]
    assert api(cloudflare_lab, "DELETE", "%s/%s" % (base, tunnel_id))[0] == 200
    assert len(api(cloudflare_lab, "GET", base, params={"name": "x"})[1]["result"]) == 1
    assert api(cloudflare_lab, "GET", base, params={"name": "x", "is_deleted": "false"})[1]["result"] == []
    assert api(cloudflare_lab, "POST", base, json={"name": "x"})[0] == 200  # the name is free again
