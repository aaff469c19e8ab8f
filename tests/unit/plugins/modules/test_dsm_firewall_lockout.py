"""The hardening firewall never shuts out the run itself (issue 11): the port DSM receives the controller on
behind a port translation, the controller's address family, and interface rules as well as global ones, each
checked against the mock DSM's own enforcement (it answers the controller only if its applied firewall does)."""

from __future__ import annotations

import socket
import socketserver
import threading

import pytest

from ansible_collections.homelab.nas.plugins.module_utils.nas_plan import firewall_rules
from ansible_collections.homelab.nas.plugins.modules import dsm_firewall, dsm_info
from tests.unit.plugins.modules.runner import run_module

CLOUDFLARE = {"name": "cloudflare", "ports": ["https"], "source": "173.245.48.0/20"}


@pytest.fixture
def run(dsm_lab, capsys, tmp_path):
    def _run(module=dsm_firewall, **args):
        base = dsm_lab.client_args(session_cache_dir=str(tmp_path / "cache"))
        base.update(args)
        return run_module(module, base, capsys)

    return _run


def firewall(lab):
    return lab.state()["firewall"]


def answers(run, **args):
    """Whether DSM still answers this controller (a fresh login, so no cached session hides a refusal)."""
    return run(dsm_info, session_cache=False, timeout=3, **args).get("failed") is not True


class Forward(socketserver.ThreadingTCPServer):
    """A port translation between controller and DSM: loopback port -> the mock's HTTPS port (TLS passes through)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, target):
        self.target = target
        super().__init__(("127.0.0.1", 0), _Pipe)


class _Pipe(socketserver.BaseRequestHandler):
    def handle(self):
        try:
            upstream = socket.create_connection(self.server.target, timeout=5)
        except OSError:
            return
        pump = threading.Thread(target=_copy, args=(upstream, self.request), daemon=True)
        pump.start()
        _copy(self.request, upstream)
        pump.join(5)
        upstream.close()


def _copy(source, sink):
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            sink.sendall(data)
    except OSError:
        pass
    finally:
        try:
            sink.shutdown(socket.SHUT_WR)
        except OSError:
            pass


@pytest.fixture
def forward(dsm_lab):
    server = Forward((dsm_lab.host, dsm_lab.https_port))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_behind_a_port_translation_the_nas_side_port_is_checked_and_admitted(run, dsm_lab, forward):
    # The controller reaches DSM on `forward`; DSM (and its firewall) sees the connection on its own port.
    only_outer = [{"name": "lan", "ports": [str(forward)], "source": "127.0.0.0/8"}]
    before = firewall(dsm_lab)
    refused = run(port=forward, controller_port=dsm_lab.https_port, enabled=True, rules=only_outer)
    assert refused.get("failed") and "port %d" % dsm_lab.https_port in refused["msg"], refused
    assert "dsm_nas_port" in refused["msg"]
    assert firewall(dsm_lab) == before
    # What the hardening role builds with dsm_port and dsm_nas_port: both admitted, DSM still answers.
    rules = firewall_rules(["127.0.0.0/8"], dsm_port=forward, nas_port=dsm_lab.https_port)
    applied = run(port=forward, controller_port=dsm_lab.https_port, enabled=True, rules=rules)
    assert applied["changed"] is True and applied["lockout_check"]["port"] == dsm_lab.https_port, applied
    assert answers(run, port=forward) and answers(run)


def test_an_ipv6_controller_is_not_covered_by_ipv4_lan_networks(run, dsm_lab):
    # DSM sees the controller come from an IPv6 address (the mock's firewall evaluates the configured one).
    dsm_lab.configure(controller_address="fd00::5")
    before = firewall(dsm_lab)
    ipv4_only = firewall_rules(["127.0.0.0/8"], dsm_port=dsm_lab.https_port)
    refused = run(enabled=True, rules=ipv4_only, controller_address="fd00::5")
    assert refused.get("failed") and "(fd00::5, IPv6)" in refused["msg"] and "an IPv6 source" in refused["msg"]
    assert firewall(dsm_lab) == before
    admitted = firewall_rules(["127.0.0.0/8"], dsm_port=dsm_lab.https_port, controller_address="fd00::5")
    assert admitted[0] == {
        "name": "controller",
        "ports": ["dsm", str(dsm_lab.https_port)],
        "protocol": "tcp",
        "source": "fd00::5",
    }
    applied = run(enabled=True, rules=admitted, controller_address="fd00::5")
    assert applied["changed"] is True and applied["lockout_check"]["rule"] == "controller", applied
    assert answers(run)


def test_the_controllers_own_address_needs_no_rule_of_its_own_inside_the_lan():
    rules = firewall_rules(["127.0.0.0/8"], dsm_port=5001, controller_address="127.0.0.1")
    assert [r["name"] for r in rules] == ["lan 127.0.0.0/8"]


def test_an_interface_default_deny_behind_global_rules_is_seen(run, dsm_lab):
    lan = {"name": "lan", "ports": [str(dsm_lab.https_port)], "source": "127.0.0.0/8"}
    # Saved, not applied (the firewall is off): eth0, the interface the controller arrives on, denies by default.
    assert run(enabled=False, interface="eth0", default_action="deny", rules=[CLOUDFLARE])["changed"] is True
    before = firewall(dsm_lab)
    # All interfaces: nothing for the controller, default allow. Alone that looks fine; DSM then applies eth0's.
    refused = run(enabled=True, interface="global", default_action="allow", rules=[CLOUDFLARE])
    assert refused.get("failed") and "default_action: deny of interface eth0" in refused["msg"], refused
    assert firewall(dsm_lab) == before
    applied = run(enabled=True, interface="global", default_action="allow", rules=[lan, CLOUDFLARE])
    assert applied["changed"] is True and applied["lockout_check"]["rule"] == "lan", applied
    assert answers(run)


def test_a_global_deny_before_the_interface_rules_is_seen(run, dsm_lab):
    lan = {"name": "lan", "ports": [str(dsm_lab.https_port)], "source": "127.0.0.0/8"}
    deny = {"name": "no-dsm", "action": "deny", "ports": [str(dsm_lab.https_port)]}
    assert run(enabled=False, interface="global", default_action="allow", rules=[deny])["changed"] is True
    before = firewall(dsm_lab)
    refused = run(enabled=True, interface="eth0", default_action="deny", rules=[lan])
    assert refused.get("failed") and "rule 'no-dsm' of All interfaces" in refused["msg"], refused
    assert firewall(dsm_lab) == before
    # Named, the interface the controller arrives on decides: an unknown one is assumed to use global's default.
    applied = run(enabled=True, interface="global", default_action="deny", rules=[lan], controller_interface="eth0")
    assert applied["changed"] is True and applied["lockout_check"]["action"] == "allow", applied
    assert answers(run)


def test_an_unknown_interface_must_admit_the_controller_everywhere(run, dsm_lab):
    lan = {"name": "lan", "ports": [str(dsm_lab.https_port)], "source": "127.0.0.0/8"}
    assert run(enabled=False, interface="eth1", default_action="deny", rules=[])["changed"] is True
    refused = run(enabled=True, interface="eth0", default_action="deny", rules=[lan])
    assert refused.get("failed") and "interface eth1" in refused["msg"], refused
    # Told that the controller arrives on eth0, eth1's default does not matter.
    applied = run(enabled=True, interface="eth0", default_action="deny", rules=[lan], controller_interface="eth0")
    assert applied["changed"] is True, applied
    assert answers(run)
