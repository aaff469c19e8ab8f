"""A DSM port move the run survives (issue 14): one play moves DSM's HTTPS port with dsm_web and runs another DSM
task on the new port with the same session; run again from where DSM now is, it changes nothing."""

from __future__ import annotations

import json
import socket

from tests.system.test_playbook_runs import ansible


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def play(dsm_lab, tmp_path, start_port, new_port):
    extra = {
        "lab": {"https_port": dsm_lab.https_port, "ca_path": dsm_lab.ca_path},
        "lab_port": start_port,
        "new_port": new_port,
        "cache_dir": str(tmp_path / "cache"),
        "dsm_password": "lab-password",
    }
    return ansible("ansible-playbook", "-e", json.dumps(extra), "tests/system/playbooks/dsm_port_move.yml")


def test_a_dsm_port_move_the_run_survives(dsm_lab, tmp_path):
    old, new = dsm_lab.https_port, free_port()
    first = play(dsm_lab, tmp_path, old, new)
    assert first.returncode == 0, first.stdout[-3000:] + first.stderr[-2000:]
    assert "changed=3" in first.stdout, first.stdout[-2000:]  # firewall, web settings, update policy
    state = dsm_lab.state()
    assert state["web"]["https_port"] == new and state["web"]["enable_hsts"] is True
    assert state["tls_profile"]["default-level"] == 0
    # One login for the whole run: the update policy task used the session that followed DSM to the new port.
    assert len(dsm_lab.calls("SYNO.API.Auth", "login")) == 1
    policy_calls = dsm_lab.calls("SYNO.Core.Upgrade.Setting", "set")
    assert len(policy_calls) == 1
    # The rerun starts where DSM is now (the inventory's port updated, as docs/real-nas.md says).
    second = play(dsm_lab, tmp_path, new, new)
    assert second.returncode == 0, second.stdout[-3000:] + second.stderr[-2000:]
    assert "changed=0" in second.stdout and "failed=0" in second.stdout, second.stdout[-2000:]
    assert len(dsm_lab.calls("SYNO.API.Auth", "login")) == 1
