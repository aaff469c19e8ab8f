"""homelab.nas.dsm_web against the mock DSM: DSM's web settings and TLS profile, idempotent, check mode and diff,
the v1/v2 merge and whole-object write, every refusal before a write, and a port move the session survives (the
mock's web server moves its listeners as DSM's does)."""

from __future__ import annotations

import socket
import ssl
import urllib.error
import urllib.request

import pytest

from ansible_collections.homelab.nas.plugins.module_utils import dsm_web as w
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError
from ansible_collections.homelab.nas.plugins.modules import dsm_firewall, dsm_info, dsm_web
from tests.unit.plugins.modules.runner import run_module
from tests.unit.plugins.modules.test_dsm_firewall_lockout import forward  # noqa: F401  pylint: disable=unused-import

WRITES = ("set", "start", "create", "delete", "update")


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def run(dsm_lab, capsys, tmp_path):
    def _run(module=dsm_web, check_mode=False, diff=False, **args):
        base = dsm_lab.client_args(session_cache_dir=str(tmp_path / "cache"))
        base.update(args)
        return run_module(module, base, capsys, check_mode=check_mode, diff=diff)

    return _run


def web_state(lab):
    state = lab.state()
    return state["web"], state["tls_profile"]["default-level"], state["web_external"]["hostname"]


def writes(lab):
    return [c for c in lab.calls() if c["method"] in WRITES]


def test_settings_check_mode_diff_then_applied_then_idempotent(run, dsm_lab):
    wanted = dict(https_redirect=True, hsts=True, http2=True, tls_profile="modern")
    wanted["external_hostname"] = "nas.example.test"
    dsm_lab.clear_log()
    planned = run(check_mode=True, diff=True, **wanted)
    assert planned["changed"] is True, planned
    assert planned["diff"]["before"]["hsts"] is False and planned["diff"]["after"]["hsts"] is True
    assert planned["diff"]["before"]["tls_profile"] == "intermediate"
    assert planned["diff"]["after"]["tls_profile"] == "modern"
    assert writes(dsm_lab) == []
    applied = run(**wanted)
    assert applied["changed"] is True and applied["moved"] is False, applied
    assert applied["port"] == dsm_lab.https_port
    web, level, hostname = web_state(dsm_lab)
    assert (web["enable_https_redirect"], web["enable_hsts"], web["enable_spdy"]) == (True, True, True)
    assert (level, hostname) == (0, "nas.example.test")
    assert web["https_port"] == dsm_lab.https_port  # the ports were kept as they were
    dsm_lab.clear_log()
    again = run(**wanted)
    assert again["changed"] is False and writes(dsm_lab) == [], again


def test_the_web_server_serves_the_redirect_and_hsts_as_set(run, dsm_lab):
    tls = ssl.create_default_context(cafile=dsm_lab.ca_path)
    plain = "http://127.0.0.1:%d/webapi/query.cgi" % dsm_lab.http_port

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args, **kwargs):
            return None

    opener = urllib.request.build_opener(NoRedirect)
    with opener.open(plain) as reply:  # off: HTTP answers itself
        assert reply.status == 200
    with urllib.request.urlopen("https://127.0.0.1:%d/webapi/query.cgi" % dsm_lab.https_port, context=tls) as reply:
        assert reply.headers.get("Strict-Transport-Security") is None
    assert run(https_redirect=True, hsts=True)["changed"] is True
    with pytest.raises(urllib.error.HTTPError) as redirect:
        opener.open(plain + "?a=1")
    assert redirect.value.code == 301
    assert redirect.value.headers["Location"] == "https://127.0.0.1:%d/webapi/query.cgi?a=1" % dsm_lab.https_port
    with urllib.request.urlopen("https://127.0.0.1:%d/webapi/query.cgi" % dsm_lab.https_port, context=tls) as reply:
        assert reply.headers.get("Strict-Transport-Security", "").startswith("max-age=")


def test_v1_and_v2_are_read_and_merged():
    # A DSM 7.3 left HSTS out of v2; only v2 has the newer fields; a None in one answer does not hide the other's.
    v1 = {"http_port": 5000, "https_port": 5001, "enable_hsts": True, "enable_https": True, "fqdn": "nas.example"}
    v2 = {"http_port": 5000, "https_port": 5001, "enable_avahi": False, "fqdn": None}
    merged = w.merge([v1, v2])
    assert merged["enable_hsts"] is True and merged["enable_avahi"] is False and merged["fqdn"] == "nas.example"


def test_hsts_only_v1_answers_is_seen(run, dsm_lab):
    # The mock answers enable_hsts at v1 only (DSM 7.3): a module reading v2 alone would call this a change.
    assert run(hsts=True)["changed"] is True
    dsm_lab.clear_log()
    assert run(hsts=True)["changed"] is False and writes(dsm_lab) == []


def test_the_write_is_the_whole_v1_object_with_unchanged_fields_as_read():
    sent = []

    class Client:
        def write(self, api, method, version, **params):
            sent.append((api, method, version, params))

    merged = {field: False for field in w.V1_FIELDS}
    merged.update(http_port=5000, https_port=5001, enable_custom_domain=True, fqdn="nas.example.test", enable_hsts=True)
    merged["enable_avahi"] = True  # a v2 field: not part of the v1 write
    w.DsmWeb(Client()).write(merged)
    api, method, version, params = sent[0]
    assert (api, method, version) == ("SYNO.Core.Web.DSM", "set", 1)
    assert sorted(params) == sorted(w.V1_FIELDS)
    assert params["fqdn"] == "nas.example.test" and params["enable_hsts"] is True


@pytest.mark.parametrize(
    "args,field",
    [
        (dict(https_port=443), "https_port: 443 is reserved"),
        (dict(http_port=80), "http_port: 80 is reserved"),
        (dict(https_port=0), "https_port"),
        (dict(http_port=70000), "http_port"),
        (dict(http_port=8080, https_port=8080), "https_port: 8080 is also http_port"),
        (dict(custom_domain="not a name"), "custom_domain"),
        (dict(wait_timeout=0), "wait_timeout"),
    ],
)
def test_bad_input_is_refused_before_any_write(run, dsm_lab, args, field):
    before = dsm_lab.state()
    dsm_lab.clear_log()
    refused = run(**args)
    assert refused.get("failed") and field in refused["msg"], refused
    assert writes(dsm_lab) == [] and dsm_lab.state() == before


def test_a_port_that_is_dsms_other_port_already_is_refused_before_any_write(run, dsm_lab):
    dsm_lab.clear_log()
    refused = run(https_port=dsm_lab.http_port)
    assert refused.get("failed") and "https_port: %d is DSM's http_port" % dsm_lab.http_port in refused["msg"]
    assert writes(dsm_lab) == []


def lan_rule(*ports):
    return [{"name": "lan", "ports": [str(p) for p in ports], "source": "127.0.0.0/8"}]


def test_a_move_the_firewall_would_not_admit_is_refused_naming_the_fix(run, dsm_lab):
    new = free_port()
    assert run(dsm_firewall, enabled=True, default_action="deny", rules=lan_rule(dsm_lab.https_port))["changed"]
    before = dsm_lab.state()
    dsm_lab.clear_log()
    refused = run(https_port=new)
    assert refused.get("failed"), refused
    assert "refusing to move DSM's https port from %d to %d" % (dsm_lab.https_port, new) in refused["msg"]
    assert "default action" in refused["msg"] and "dsm_firewall" in refused["msg"]
    assert refused["lockout_check"]["admitted"] is False
    assert writes(dsm_lab) == [] and dsm_lab.state() == before


def test_a_move_behind_a_port_translation_is_refused(run, dsm_lab, forward):  # noqa: F811
    # pylint: disable=redefined-outer-name
    dsm_lab.clear_log()
    refused = run(port=forward, https_port=free_port())
    assert refused.get("failed") and "a port translation" in refused["msg"], refused
    assert "port: %d" % dsm_lab.https_port in refused["msg"]
    assert writes(dsm_lab) == [] and dsm_lab.state()["web"]["https_port"] == dsm_lab.https_port
    # Settings other than that port still go through the translation.
    assert run(port=forward, hsts=True)["changed"] is True


@pytest.mark.parametrize("answer", ["answer", "drop"])
def test_a_port_move_is_followed_with_the_session(run, dsm_lab, answer):
    """DSM moves its web server (answering the set first, or cutting the connection while it restarts): the
    module follows, the old port no longer answers, and a later task on the new port keeps the session."""
    dsm_lab.configure(web_set_answer=answer)
    old, new = dsm_lab.https_port, free_port()
    assert run(dsm_firewall, enabled=True, default_action="deny", rules=lan_rule(old, new))["changed"]
    logins = len(dsm_lab.calls("SYNO.API.Auth", "login"))
    moved = run(https_port=new, hsts=True)
    assert moved["changed"] is True and moved["moved"] is True, moved
    assert moved["port"] == new and moved["url"] == "https://127.0.0.1:%d/" % new
    assert moved["lockout_check"]["admitted"] is True
    assert dsm_lab.state()["web"]["https_port"] == new
    sets = dsm_lab.calls("SYNO.Core.Web.DSM", "set")
    assert [c["outcome"] for c in sets] == (["ok"] if answer == "answer" else ["dropped"])
    assert run(dsm_info, port=old, session_cache=False, timeout=3).get("failed") is True  # nothing answers there
    later = run(dsm_info, port=new)
    assert not later.get("failed"), later
    assert len(dsm_lab.calls("SYNO.API.Auth", "login")) == logins  # the cached session followed DSM
    again = run(port=new, https_port=new, hsts=True)
    assert again["changed"] is False and again["port"] == new, again


def test_check_mode_plans_a_move_without_making_it(run, dsm_lab):
    new = free_port()
    dsm_lab.clear_log()
    planned = run(check_mode=True, https_port=new)
    assert planned["changed"] is True and planned["moved"] is False and planned["port"] == dsm_lab.https_port
    assert planned["web"]["https_port"] == new and planned["lockout_check"]["why"] == "the firewall is off"
    assert writes(dsm_lab) == [] and dsm_lab.state()["web"]["https_port"] == dsm_lab.https_port


def test_a_dsm_without_the_tls_profile_or_external_api_is_read_without_them():
    asked = []

    class Client:
        def login(self):
            pass

        def api_info(self, api):
            if api != "SYNO.Core.Web.DSM":
                raise DsmError("absent", code=102, api=api)
            return {"maxVersion": 1}

        def batch(self, calls):
            asked.extend(calls)
            return [{"http_port": 5000, "https_port": 5001}]

    merged, hostname, level = w.DsmWeb(Client()).read()
    assert [c[:3] for c in asked] == [("SYNO.Core.Web.DSM", "get", 1)]
    assert merged["https_port"] == 5001 and hostname is None and level is None
