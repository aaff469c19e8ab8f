"""dsm_services against the mock DSM: SSH, Telnet and the console through SYNO.Core.Terminal, QuickConnect and its
relay through SYNO.Core.QuickConnect (a package API), and the SSH lockout refusals, each before any write."""

from __future__ import annotations

import socket
from contextlib import closing

import pytest

from ansible_collections.homelab.nas.plugins.module_utils.dsm_client import DsmClient
from ansible_collections.homelab.nas.plugins.modules import dsm_firewall, dsm_services
from tests.unit.plugins.modules.runner import run_module

TERMINAL = "SYNO.Core.Terminal"
QUICKCONNECT = "SYNO.Core.QuickConnect"


@pytest.fixture
def run(dsm_lab, capsys, tmp_path):
    def _run(module=dsm_services, check_mode=False, diff=True, **args):
        base = dsm_lab.client_args(session_cache_dir=str(tmp_path / "cache"))
        base.update(args)
        return run_module(module, base, capsys, check_mode=check_mode, diff=diff)

    return _run


def terminal(lab):
    return lab.state()["terminal"]


def quickconnect(lab):
    return lab.state()["quickconnect"]


def writes(lab):
    return [(c["api"], c["method"]) for c in lab.calls() if c["method"] in ("set", "set_misc_config")]


def ssh_answers(lab):
    try:
        with socket.create_connection((lab.host, lab.info["ssh_port"]), timeout=3) as conn:
            return conn.recv(64).startswith(b"SSH-2.0-")
    except OSError:
        return False


OFF = dict(ssh={"enabled": False}, quickconnect={"enabled": False, "relay": False})


def test_services_converge_then_a_rerun_writes_nothing(run, dsm_lab):
    assert quickconnect(dsm_lab)["enabled"] is True and quickconnect(dsm_lab)["relay_enabled"] is True  # the seed
    first = run(ssh={"enabled": True}, forbid_console=True, quickconnect={"enabled": False, "relay": False})
    assert first["changed"] is True, first
    assert terminal(dsm_lab) == {"enable_ssh": True, "enable_telnet": False, "forbid_console": True, "ssh_port": 22}
    assert quickconnect(dsm_lab)["enabled"] is False and quickconnect(dsm_lab)["relay_enabled"] is False
    assert quickconnect(dsm_lab)["server_alias"] == "labnas-example"  # the QuickConnect ID is kept
    assert first["services"] == {
        "ssh": {"enabled": True, "port": 22},
        "telnet": False,
        "forbid_console": True,
        "quickconnect": {"installed": True, "enabled": False, "relay": False},
    }
    assert first["diff"]["before"]["quickconnect"] == {"installed": True, "enabled": True, "relay": True}
    assert ssh_answers(dsm_lab)  # the stand-in follows Terminal
    dsm_lab.clear_log()
    # forbid_console left out: kept as DSM has it (Terminal is written whole, with the value read).
    again = run(ssh={"enabled": True}, quickconnect={"enabled": False, "relay": False})
    assert again["changed"] is False and again["diff"]["before"] == again["diff"]["after"], again
    assert writes(dsm_lab) == []
    assert terminal(dsm_lab)["forbid_console"] is True
    # Terminal, QuickConnect and its relay in one compound read (issue 15: one request per no-op task).
    assert [(c["api"], c["method"]) for c in dsm_lab.calls()] == [("SYNO.Entry.Request", "request")]


def test_check_mode_writes_nothing_and_plans_the_change(run, dsm_lab):
    before = dsm_lab.state()
    result = run(check_mode=True, ssh={"enabled": True, "port": 2222}, **{"quickconnect": {"enabled": False}})
    assert result["changed"] is True and result["services"]["ssh"] == {"enabled": True, "port": 2222}
    assert result["diff"]["before"]["ssh"] == {"enabled": False, "port": 22}
    assert writes(dsm_lab) == []
    assert dsm_lab.state()["terminal"] == before["terminal"]
    assert dsm_lab.state()["quickconnect"] == before["quickconnect"]


def test_telnet_is_turned_off_and_turning_it_on_needs_allow_telnet(run, dsm_lab):
    assert run(ssh={"enabled": True}, telnet=True, allow_telnet=True)["changed"] is True
    assert terminal(dsm_lab)["enable_telnet"] is True
    dsm_lab.clear_log()
    refused = run(telnet=True)
    assert refused.get("failed") is True and refused["msg"].startswith("telnet: "), refused
    assert "allow_telnet: true" in refused["msg"] and dsm_lab.calls() == []  # refused before any request
    # Any run without telnet turns it off, and keeps SSH as it is.
    assert run()["changed"] is True
    assert terminal(dsm_lab) == {"enable_ssh": True, "enable_telnet": False, "forbid_console": False, "ssh_port": 22}


def test_a_play_that_uses_ssh_keeps_it_on_and_on_its_port(run, dsm_lab):
    run(ssh={"enabled": True})
    dsm_lab.clear_log()
    for ssh, field in (({"enabled": False}, "ssh.enabled: "), ({"port": 2222}, "ssh.port: ")):
        refused = run(ssh=ssh, controller_uses_ssh=True)
        assert refused.get("failed") is True and refused["msg"].startswith(field), refused
        assert "controller_uses_ssh" in refused["msg"] and "allow_lockout" in refused["msg"]
        assert writes(dsm_lab) == []
    assert terminal(dsm_lab)["enable_ssh"] is True and terminal(dsm_lab)["ssh_port"] == 22
    # A play that does not use SSH may turn it off.
    assert run(ssh={"enabled": False})["changed"] is True
    assert not ssh_answers(dsm_lab)


def test_a_new_ssh_port_needs_the_firewall_to_admit_it(run, dsm_lab):
    lan = {"name": "lan", "ports": ["dsm", str(dsm_lab.https_port), str(dsm_lab.http_port)], "source": "127.0.0.0/8"}
    assert run(dsm_firewall, enabled=True, rules=[lan]).get("failed") is not True
    dsm_lab.clear_log()
    refused = run(ssh={"enabled": True, "port": 2222})
    assert refused.get("failed") is True and refused["msg"].startswith("ssh.port: "), refused
    assert "port 2222" in refused["msg"] and "hardening_lan_ports" in refused["msg"]
    assert refused["lockout_check"]["action"] == "deny" and refused["lockout_check"]["port"] == 2222
    assert writes(dsm_lab) == [] and terminal(dsm_lab)["ssh_port"] == 22
    # Admitted once a rule lets this controller reach 2222.
    ssh_rule = {"name": "lan ssh", "ports": ["2222"], "source": "127.0.0.0/8"}
    assert run(dsm_firewall, enabled=True, rules=[lan, ssh_rule]).get("failed") is not True
    moved = run(ssh={"enabled": True, "port": 2222})
    assert moved["changed"] is True and moved["lockout_check"]["action"] == "allow", moved
    assert terminal(dsm_lab)["ssh_port"] == 2222 and terminal(dsm_lab)["enable_ssh"] is True
    assert ssh_answers(dsm_lab)  # the mock's firewall checks Terminal's port: admitted


def test_without_the_quickconnect_package_off_is_fine_and_on_is_refused(run, dsm_lab):
    dsm_lab.configure(quickconnect_installed=False)
    off = run(quickconnect={"enabled": False, "relay": False})
    assert off.get("failed") is not True and off["changed"] is False, off
    assert off["services"]["quickconnect"] == {"installed": False, "enabled": False, "relay": None}
    dsm_lab.clear_log()
    on = run(ssh={"enabled": True}, quickconnect={"enabled": True})
    assert on.get("failed") is True and on["msg"].startswith("quickconnect.enabled: "), on
    assert "QuickConnect package is not installed" in on["msg"]
    assert writes(dsm_lab) == [] and terminal(dsm_lab)["enable_ssh"] is False  # nothing written, SSH included


@pytest.mark.parametrize("field", ["enabled", "enable"])
def test_quickconnect_off_whichever_name_dsm_takes(run, dsm_lab, field):
    dsm_lab.configure(quickconnect_enable_field=field)
    result = run(quickconnect={"enabled": False})
    assert result["changed"] is True and result.get("failed") is not True, result
    assert quickconnect(dsm_lab)["enabled"] is False
    assert quickconnect(dsm_lab)["relay_enabled"] is True  # relay left out: kept
    assert run(quickconnect={"enabled": False})["changed"] is False


def test_quickconnect_without_an_id_is_not_turned_on(run, dsm_lab):
    with closing(DsmClient(session_cache=False, **dsm_lab.client_args())) as client:
        client.write(QUICKCONNECT, "set", 2, enabled=False, server_alias="")  # a DSM never given a QuickConnect ID
    dsm_lab.clear_log()
    refused = run(ssh={"enabled": True}, quickconnect={"enabled": True})
    assert refused.get("failed") is True and refused["msg"].startswith("quickconnect.enabled: "), refused
    assert "QuickConnect ID" in refused["msg"] and writes(dsm_lab) == []
    assert quickconnect(dsm_lab)["enabled"] is False and terminal(dsm_lab)["enable_ssh"] is False
