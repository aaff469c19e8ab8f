"""One injected fault at each write step of every multi-step write (issue 12 item 1), in-process against the lab.

Each scenario declares a `before` state (set up by a clean run) and an `after` one. For each of its write steps in
turn: the step fails once (an API error or an HTTP 502), the run fails, and what the mock holds then (the state the
failure left, which is the state between two steps) is checked against `before` and `after`: it must expose no more
than one of them (`exposes`), never a declared service without what serves it. Then the rerun, without the fault,
must converge: the mock holds `after` (`holds`), and a third run changes nothing.
"""

from __future__ import annotations

import dataclasses
import typing

import pytest

from ansible_collections.homelab.nas.plugins.modules import (
    cloudflare_dns_records,
    cloudflare_zone_settings,
    dsm_certificate,
    dsm_firewall,
    dsm_reverse_proxy,
    router_port_forward,
)
from tests.lab import pki
from tests.lab.mock_cloudflare.seed import ZONE_ID
from tests.unit.plugins.modules.runner import run_module

FW_APPLY = "SYNO.Core.Security.Firewall.Profile.Apply"
FW_PROFILE = "SYNO.Core.Security.Firewall.Profile"
RP = "SYNO.Core.AppPortal.ReverseProxy"
PREFIX = "homelab.nas"


@dataclasses.dataclass
class Scenario:
    lab: str  # dsm_lab, cloudflare_lab, router_lab
    module: typing.Any
    before: typing.Callable  # (lab, fixtures) -> module args of the state before
    after: typing.Callable  # (lab, fixtures) -> module args of the declared state
    view: typing.Callable  # lab -> what the mock holds that matters (comparable)
    exposes: typing.Callable  # (mid, before, after) -> None, or what the state between two steps exposes too much
    steps: tuple  # ((api, method, fault kind), ...), every one reached by a clean run


# -- firewall: set -> apply (start, status, stop) -> enable ------------------------------------------------------


def lan(lab):
    return {"name": "lan", "ports": ["dsm", "https", str(lab.https_port)], "source": "127.0.0.0/8"}


def fw_args(lab, ranges, enabled=True):
    rules = [lan(lab)] + [{"name": "cf %d" % i, "ports": ["https"], "source": r} for i, r in enumerate(ranges)]
    return dict(enabled=enabled, rules=rules)


def fw_view(lab):
    fw = lab.state()["firewall"]
    applied = fw.get("applied") if fw["enable_firewall"] else None
    return {
        "saved": fw["profiles"]["default"].get("global"),
        "in_force": applied.get("global") if applied else None,
    }


def fw_exposes(mid, before, after):
    # A profile is applied whole: what is in force is before's or after's, never a mix and never the firewall off
    # once it was on.
    if mid["in_force"] not in (before["in_force"], after["in_force"]):
        return "in force: %s" % mid["in_force"]
    return None


FW_STEPS = (
    (FW_PROFILE, "set", "error"),
    (FW_APPLY, "start", "502"),
    (FW_APPLY, "start", "error"),
    (FW_APPLY, "status", "error"),
    (FW_APPLY, "stop", "error"),
)

# -- reverse proxy, exclusive: create, update, delete ------------------------------------------------------------


def rp_rule(name, port):
    return {"description": name, "frontend": {"hostname": "%s.example.test" % name}, "backend": {"port": port}}


def rp_view(lab):
    return {e["frontend"]["fqdn"]: e["backend"]["port"] for e in lab.state()["reverse_proxy"].values()}


def served_exposes(mid, before, after):
    """Every name declared before and after is served all along, by before's or after's backend; nothing else."""
    for name in set(before) & set(after):
        if mid.get(name) not in (before[name], after[name]):
            return "%s served by %s" % (name, mid.get(name))
    extra = set(mid) - set(before) - set(after)
    return "extra: %s" % sorted(extra) if extra else None


# -- certificate: import -> default -> binding ---------------------------------------------------------------------


def cert_args(certs, leaf, **extra):
    return dict(
        description="lab-cert",
        certificate=certs[leaf + ".pem"],
        private_key=certs[leaf + ".key"],
        chain=certs["chain.pem"],
        **extra,
    )


def cert_view(lab):
    state = lab.state()
    by_id = state["certificates"]
    ours = [c for c in by_id.values() if c["desc"] == "lab-cert"]
    return {
        "ours": len(ours),
        "default": next((c["desc"] for c in by_id.values() if c["is_default"]), None),
        # Every binding names a certificate DSM holds (a dangling one would serve nothing).
        "bindings": {k: (by_id[v]["desc"] if v in by_id else "MISSING") for k, v in state["bindings"].items()},
    }


def cert_exposes(mid, before, after):
    if "MISSING" in mid["bindings"].values():
        return "a service bound to a certificate DSM does not hold"
    for service, owner in mid["bindings"].items():
        if owner not in (before["bindings"].get(service), after["bindings"].get(service)):
            return "%s bound to %s" % (service, owner)
    if mid["ours"] > 1:
        return "two certificates under one description"
    return None


# -- zone settings ---------------------------------------------------------------------------------------------


def zone_view(lab):
    return {k: v["value"] for k, v in lab.state()["settings"][ZONE_ID].items()}


def zone_exposes(mid, before, after):
    for key, value in mid.items():
        if value not in (before.get(key), after.get(key)):
            return "%s = %s" % (key, value)
    return None


# -- port forwards, exclusive ----------------------------------------------------------------------------------


def fwd(port, internal):
    return {"external_port": port, "internal_port": internal, "description": "p%d" % port}


def fwd_view(lab):
    return {"%s/%s" % (m["NewProtocol"], m["NewExternalPort"]): m["NewInternalPort"] for m in lab.state()["mappings"]}


# -- DNS records, exclusive --------------------------------------------------------------------------------------


def dns_view(lab):
    return {
        "%s %s" % (r["type"], r["name"]): (r["content"], r["proxied"])
        for r in lab.state()["dns_records"].get(ZONE_ID, {}).values()
    }


def dns_exposes(mid, before, after):
    problem = served_exposes(mid, before, after)
    if problem:
        return problem
    # An unproxied record would publish the origin's address: never, while every declared one is proxied.
    if any(not proxied for _content, proxied in mid.values()):
        return "an unproxied record"
    return None


SCENARIOS = {
    "firewall_new_rules": Scenario(
        "dsm_lab",
        dsm_firewall,
        lambda lab, fx: fw_args(lab, ["173.245.48.0/20"]),
        lambda lab, fx: fw_args(lab, ["103.21.244.0/22", "173.245.48.0/20"]),
        fw_view,
        fw_exposes,
        FW_STEPS,
    ),
    "firewall_enable": Scenario(
        "dsm_lab",
        dsm_firewall,
        lambda lab, fx: fw_args(lab, ["173.245.48.0/20"], enabled=False),
        lambda lab, fx: fw_args(lab, ["173.245.48.0/20"]),
        fw_view,
        fw_exposes,
        FW_STEPS[1:],
    ),
    "reverse_proxy_exclusive": Scenario(
        "dsm_lab",
        dsm_reverse_proxy,
        lambda lab, fx: dict(rules=[rp_rule("photos", 8080), rp_rule("old", 8081)], exclusive=True),
        lambda lab, fx: dict(rules=[rp_rule("photos", 8090), rp_rule("new", 8082)], exclusive=True),
        rp_view,
        served_exposes,
        ((RP, "create", "error"), (RP, "create", "502"), (RP, "update", "error"), (RP, "delete", "502")),
    ),
    "certificate_import_default_binding": Scenario(
        "dsm_lab",
        dsm_certificate,
        lambda lab, fx: cert_args(fx, "leaf", services=["FTPS"]),
        lambda lab, fx: cert_args(fx, "leaf2", default=True, services=["FTPS", "nas.example.test"]),
        cert_view,
        cert_exposes,
        (
            ("SYNO.Core.Certificate", "import", "error"),
            ("SYNO.Core.Certificate", "import", "502"),
            ("SYNO.Core.Certificate.Service", "set", "error"),
        ),
    ),
    # Bound to DSM Desktop Service: the client pins the new certificate before the import; a failure must leave
    # the certificate DSM still presents trusted, or the rerun could not reach DSM.
    "certificate_bound_to_dsm": Scenario(
        "dsm_lab",
        dsm_certificate,
        lambda lab, fx: cert_args(fx, "leaf", services=["FTPS"]),
        lambda lab, fx: cert_args(fx, "leaf2", default=True, services=["DSM Desktop Service", "FTPS"]),
        cert_view,
        cert_exposes,
        (("SYNO.Core.Certificate", "import", "error"), ("SYNO.Core.Certificate.Service", "set", "error")),
    ),
    "certificate_default_then_binding": Scenario(
        "dsm_lab",
        dsm_certificate,
        lambda lab, fx: cert_args(fx, "leaf"),
        lambda lab, fx: dict(description="lab-cert", default=True, services=["nas.example.test"]),
        cert_view,
        cert_exposes,
        (("SYNO.Core.Certificate.CRT", "set", "error"), ("SYNO.Core.Certificate.Service", "set", "502")),
    ),
    "zone_settings": Scenario(
        "cloudflare_lab",
        cloudflare_zone_settings,
        lambda lab, fx: dict(settings={"ssl_mode": "Full", "minimum_tls_version": "1.0", "always_use_https": False}),
        lambda lab, fx: dict(
            settings={"ssl_mode": "Full (strict)", "minimum_tls_version": "1.2", "always_use_https": True},
            hsts={"max_age": 15552000},
        ),
        zone_view,
        zone_exposes,
        (("PATCH", None, "error"), ("PATCH", None, "502")),
    ),
    "port_forwards_exclusive": Scenario(
        "router_lab",
        router_port_forward,
        lambda lab, fx: dict(mappings=[fwd(443, 5001), fwd(8443, 5001)], exclusive=True),
        lambda lab, fx: dict(mappings=[fwd(443, 5443), fwd(9443, 5001)], exclusive=True),
        fwd_view,
        served_exposes,
        ((None, "AddPortMapping", "error"), (None, "DeletePortMapping", "error"), (None, "AddPortMapping", "502")),
    ),
    "dns_records_exclusive": Scenario(
        "cloudflare_lab",
        cloudflare_dns_records,
        lambda lab, fx: dict(
            records=[dict(name="photos", content="100.128.77.2"), dict(name="old", content="100.128.77.2")],
            exclusive=True,
        ),
        lambda lab, fx: dict(
            records=[dict(name="photos", content="100.128.77.3"), dict(name="new", content="100.128.77.3")],
            exclusive=True,
        ),
        dns_view,
        dns_exposes,
        (("POST", None, "error"), ("PUT", None, "502"), ("DELETE", None, "error"), ("DELETE", None, "502")),
    ),
}

CASES = [
    pytest.param(name, step, id="%s-%s-%s-%s" % (name, step[0] or "", step[1] or "", step[2]))
    for name, scenario in SCENARIOS.items()
    for step in scenario.steps
]


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return pki.write(str(tmp_path_factory.mktemp("pki")))


def module_args(lab_name, lab, tmp_path, args):
    if lab_name == "dsm_lab":
        return dict(lab.client_args(session_cache_dir=str(tmp_path / "cache")), **args)
    if lab_name == "cloudflare_lab":
        return lab.module_args(**args)
    return dict(args, igd_url=lab.igd_url, description_prefix=PREFIX)


def inject(lab, api, method, kind):
    where = {k: val for k, val in (("api", api), ("method", method)) if val is not None}
    if kind == "502":
        lab.fault(http_error_next=dict(where, status=502, count=1))
    else:
        lab.fault(fail_next=dict(where, count=1))


@pytest.mark.parametrize("name, step", CASES)
def test_one_fault_at_each_write_step_then_the_rerun_converges(name, step, request, tmp_path, capsys, certs):
    scenario = SCENARIOS[name]
    lab = request.getfixturevalue(scenario.lab)

    def run(args):
        return run_module(scenario.module, module_args(scenario.lab, lab, tmp_path, args), capsys)

    first = run(scenario.before(lab, certs))
    assert not first.get("failed"), first
    before = scenario.view(lab)
    declared = scenario.after(lab, certs)

    api, method, kind = step
    lab.clear_log()
    inject(lab, api, method, kind)
    failed = run(declared)
    hit = [c for c in lab.calls() if c.get("fault")]
    assert hit, "the step %s %s was never reached: %s" % (api, method, [(c["api"], c["method"]) for c in lab.calls()])
    assert failed.get("failed"), failed
    mid = scenario.view(lab)

    rerun = run(declared)
    assert not rerun.get("failed") and rerun["changed"] is True, rerun
    after = scenario.view(lab)
    assert run(declared)["changed"] is False
    # The same declaration on a lab that never saw a fault: the state the rerun reached is that one.
    lab.reset()
    assert not run(scenario.before(lab, certs)).get("failed")
    assert not run(declared).get("failed")
    assert after == scenario.view(lab), "the rerun did not converge to the declared state"
    assert scenario.exposes(mid, before, after) is None, (mid, before, after)
