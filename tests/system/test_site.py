"""playbooks/site.yml against the in-process lab: bad variables fail before anything is touched."""

from __future__ import annotations

import pyotp
import pytest

from tests.lab.mock_cloudflare.seed import ZONE_ID
from tests.lab.mock_dsm.seed import OTP_SECRET


def untouched(dsm_lab, router_lab, cloudflare_lab):
    return (
        len(dsm_lab.state()["reverse_proxy"]) == 2
        and router_lab.state()["mappings"] == []
        and cloudflare_lab.state()["dns_records"] == {}
        and cloudflare_lab.state()["settings"][ZONE_ID]["ssl"]["value"] == "full"
    )


def test_site_converges_then_changes_nothing(site, dsm_lab, router_lab, cloudflare_lab):
    """Also issue 11's lockout by TLS: the tls role's default binds the Origin certificate to DSM Desktop Service,
    which DSM then presents; the later DSM tasks of the run and the next run verify it by its pin."""
    first = site()
    assert first.returncode == 0, first.stdout[-3000:]
    assert "failed=0" in first.stdout
    state = dsm_lab.state()
    origin = next(c for c in state["certificates"].values() if c["desc"] == "homelab.nas")
    assert state["bindings"]["default"] == origin["id"]
    assert {m["NewExternalPort"] for m in router_lab.state()["mappings"]} == {443}
    assert len(cloudflare_lab.state()["dns_records"][ZONE_ID]) == 2
    assert dsm_lab.state()["firewall"]["enable_firewall"] is True
    # Issue 14: Telnet and SSH off (the lab's play uses a local connection), QuickConnect off (the seed has it on).
    assert state["terminal"]["enable_ssh"] is False and state["terminal"]["enable_telnet"] is False
    assert state["quickconnect"]["enabled"] is False
    second = site()
    assert second.returncode == 0 and " changed=0 " in second.stdout, second.stdout[-3000:]
    # The WAN address read once, by the probe: the records point at it and the summary names it.
    assert {r["content"] for r in cloudflare_lab.state()["dns_records"][ZONE_ID].values()} == {"100.128.77.2"}
    assert "Router 100.128.77.2: tcp/443 -> " in second.stdout, second.stdout[-3000:]
    # Issue 12: no DSM request of either run put the session, the token or the password in its URL (nginx logs it).
    calls = dsm_lab.calls()
    leaky = [c for c in calls if {"_sid", "SynoToken", "passwd", "otp_code", "device_id"} & set(c["query_keys"])]
    assert calls and not leaky, leaky[:3]
    assert all(c["session_from"] for c in calls if c["method"] not in ("login", "query")), "a request lost its session"


def test_roles_run_twice_for_one_host_build_the_same_lists(site, dsm_lab, router_lab, cloudflare_lab):
    run = site(playbook="tests/system/playbooks/site_twice.yml")
    assert run.returncode == 0, run.stdout[-3000:]
    hostnames = sorted(e["frontend"]["fqdn"] for e in dsm_lab.state()["reverse_proxy"].values())
    assert hostnames == ["media.example.test", "nas.example.test", "photos.example.test"]  # each service once
    assert len(router_lab.state()["mappings"]) == 1
    # The second pass found everything in place: up to its logout, no task changed anything.
    second = run.stdout.split("PLAY [Put the NAS on the internet, safely]")[2]
    assert "changed: [lab-nas]" not in second.split("TASK [Log out of DSM]")[0]


@pytest.mark.parametrize(
    "overrides,message",
    [
        ({"nas_services": [{"name": "x", "hostname": "x.example.test"}]}, "backend_port"),
        ({"hardening_two_factor": "everyone"}, "hardening_two_factor"),
        (
            {
                "nas_services": [
                    {"name": "ssh", "hostname": "ssh.example.test", "backend_port": 22, "external_port": 22}
                ]
            },
            "Cloudflare's proxy does not pass",
        ),
        # Issue 14: a play that reaches the NAS over SSH keeps SSH on, or stops before the firewall's write.
        ({"hardening_controller_uses_ssh": True}, "this play reaches the NAS over SSH"),
        ({"hardening_ssh": True, "hardening_ssh_port": 70000}, "hardening_ssh_port: 70000 is not a port"),
    ],
)
def test_bad_variables_fail_at_the_start(site, dsm_lab, router_lab, cloudflare_lab, overrides, message):
    run = site(**overrides)
    assert run.returncode != 0 and message in run.stdout, run.stdout[-3000:]
    assert untouched(dsm_lab, router_lab, cloudflare_lab)


def test_hardening_refuses_to_disable_the_admin_it_logs_in_with(site, dsm_lab, router_lab, cloudflare_lab):
    run = site("--tags", "hardening", dsm_username="admin")
    # The planning step refuses it before the role (or anything else) runs.
    assert run.returncode != 0 and "dsm_username: admin is the account" in run.stdout
    assert dsm_lab.state()["users"]["admin"]["disabled"] is True and not dsm_lab.state()["firewall"]["enable_firewall"]


def test_check_mode_changes_nothing(site, dsm_lab, router_lab, cloudflare_lab):
    before = (dsm_lab.state(), router_lab.state(), cloudflare_lab.state())
    run = site("--check", "--diff")
    assert run.returncode == 0, run.stdout[-3000:]
    assert "changed=" in run.stdout and " changed=0 " not in run.stdout
    after = (dsm_lab.state(), router_lab.state(), cloudflare_lab.state())
    assert before[1] == after[1] and before[2] == after[2]
    assert {k: v for k, v in before[0].items() if k != "active_sessions"} == {
        k: v for k, v in after[0].items() if k != "active_sessions"
    }


def test_two_factor_for_an_account_without_it_is_refused_before_anything_changes(
    site, dsm_lab, router_lab, cloudflare_lab
):
    run = site(hardening_two_factor="administrators")
    assert run.returncode != 0, run.stdout[-3000:]
    assert "two_factor_enforcement: administrators would enforce" in run.stdout and "406" in run.stdout
    assert "dsm_login.yml" in run.stdout
    assert untouched(dsm_lab, router_lab, cloudflare_lab)
    assert dsm_lab.state()["security"]["otp_enforce_option"] == "none"


def test_two_factor_for_administrators_with_a_device_token_keeps_the_next_run_in(site, dsm_lab):
    """otp-admin has 2FA: one login with a code saves a device token, then site.yml enforces 2FA for
    administrators and the next run logs in with the token alone (no code anywhere)."""
    account = {"dsm_username": "otp-admin"}
    once = site(playbook="playbooks/dsm_login.yml", otp=pyotp.TOTP(OTP_SECRET).now(), **account)
    assert once.returncode == 0, once.stdout[-3000:]
    assert [t["name"] for t in dsm_lab.state()["users"]["otp-admin"]["device_tokens"]] == ["homelab.nas"]
    first = site(hardening_two_factor="administrators", **account)
    assert first.returncode == 0, first.stdout[-3000:]
    assert dsm_lab.state()["security"]["otp_enforce_option"] == "admin"
    second = site(hardening_two_factor="administrators", **account)
    assert second.returncode == 0 and " changed=0 " in second.stdout, second.stdout[-3000:]
