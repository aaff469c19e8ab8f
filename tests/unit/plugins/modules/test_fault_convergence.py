"""One injected fault at each write step of every multi-step write (issue 12 item 1), in-process against the lab.

Each scenario declares a `before` state (set up by a clean run) and an `after` one, and its write phase: every call a
clean run from `before` to `after` makes from its first write to its last (reads in between, such as the firewall's
apply status, included), in order. A reference run checks that declaration against the lab's request log, so no step
goes untested when a module changes. For each step in turn, and each fault kind (an API error, an HTTP 502), the
lab's fault rule lets the earlier calls of that api and method through (`skip`) and fails that one: the run fails
with a message naming the failed call, and what the mock holds then (the state between two steps) is checked
against `before` and `after`: it must expose no more than one of them (`exposes`), never a declared service without
what serves it. Then the rerun, without the fault, must converge: the mock holds what the reference run left, and a
third run changes nothing.
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
    dsm_services,
    router_port_forward,
)
from tests.lab import pki
from tests.lab.mock_cloudflare.seed import ZONE_ID
from tests.unit.plugins.modules.runner import run_module

FW_APPLY = "SYNO.Core.Security.Firewall.Profile.Apply"
FW_PROFILE = "SYNO.Core.Security.Firewall.Profile"
RP = "SYNO.Core.AppPortal.ReverseProxy"
PREFIX = "homelab.nas"
IGD = "WANIPConnection"


@dataclasses.dataclass
class Scenario:
    lab: str  # dsm_lab, cloudflare_lab, router_lab
    module: typing.Any
    before: typing.Callable  # (lab, fixtures) -> module args of the state before
    after: typing.Callable  # (lab, fixtures) -> module args of the declared state
    view: typing.Callable  # lab -> what the mock holds that matters (comparable)
    exposes: typing.Callable  # (mid, before, after) -> None, or what the state between two steps exposes too much
    steps: tuple  # the write phase of a clean run from before to after: ((api, method), ...) in order
    config: dict = dataclasses.field(default_factory=dict)  # lab settings (/_lab/config), after every reset


# Calls that change nothing on the lab's APIs: DSM's reads (Entry.Request only batches reads here), Cloudflare's
# GETs, the router's Get* actions and its description.
DSM_READS = ("list", "get", "export", "status", "query", "info", "request", "login", "logout", "get_misc_config")


def is_write(call):
    api, method = call
    if api in ("GET", "description") or (method or "").startswith("Get"):
        return False
    return method not in DSM_READS


def from_first_write(calls):
    """[(api, method)] from the first write on."""
    pairs = [(c["api"], c["method"]) for c in calls]
    writes = [i for i, pair in enumerate(pairs) if is_write(pair)]
    return pairs[writes[0] :] if writes else []


def write_phase(calls):
    """[(api, method)] from the first write to the last one."""
    pairs = from_first_write(calls)
    while pairs and not is_write(pairs[-1]):
        pairs.pop()
    return pairs


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
    (FW_PROFILE, "set"),
    (FW_APPLY, "start"),
    (FW_APPLY, "status"),
    (FW_APPLY, "stop"),
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
    # By name: a name whose record changes type (an A replaced by a CNAME) is one service all along.
    return {
        r["name"]: (r["type"], r["content"], r["proxied"]) for r in lab.state()["dns_records"].get(ZONE_ID, {}).values()
    }


def dns_exposes(mid, before, after):
    problem = served_exposes(mid, before, after)
    if problem:
        return problem
    # An unproxied record would publish the origin's address: never, while every declared one is proxied.
    if any(not proxied for _type, _content, proxied in mid.values()):
        return "an unproxied record"
    return None


DNS_POST, DNS_ONE = "/zones/:id/dns_records", "/zones/:id/dns_records/:id"
SETTINGS = "/zones/:id/settings"
CERT, CERT_SERVICE = "SYNO.Core.Certificate", "SYNO.Core.Certificate.Service"
ZONE_BEFORE = {"ssl_mode": "Full", "minimum_tls_version": "1.0", "always_use_https": False}
ZONE_AFTER = {"ssl_mode": "Full (strict)", "minimum_tls_version": "1.2", "always_use_https": True}


def dns_records(content, *names, extra=()):
    return dict(records=[dict(name=name, content=content) for name in names] + list(extra), exclusive=True)


# -- services: Terminal set, then QuickConnect off (read back), then its relay off (issue 14) -----------------------
TERMINAL = "SYNO.Core.Terminal"
QC = "SYNO.Core.QuickConnect"


def services_args(on):
    return dict(ssh={"enabled": on}, quickconnect={"enabled": on, "relay": on})


def services_view(lab):
    state = lab.state()
    return {
        "ssh": state["terminal"]["enable_ssh"],
        "telnet": state["terminal"]["enable_telnet"],
        "quickconnect": state["quickconnect"]["enabled"],
        "relay": state["quickconnect"]["relay_enabled"],
    }


def services_exposes(mid, before, after):
    # Each switch is before's or after's; Telnet is never on.
    odd = [k for k in mid if mid[k] not in (before[k], after[k])] + (["telnet"] if mid["telnet"] else [])
    return "%s: %s" % (", ".join(odd), mid) if odd else None


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
    "services_off": Scenario(
        "dsm_lab",
        dsm_services,
        lambda lab, fx: services_args(True),
        lambda lab, fx: services_args(False),
        services_view,
        services_exposes,
        ((TERMINAL, "set"), (QC, "set"), (QC, "get"), (QC, "get_misc_config"), (QC, "set_misc_config")),
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
    # Two creates, an update, then one delete call for both undeclared rules: each can be the failing call.
    "reverse_proxy_exclusive": Scenario(
        "dsm_lab",
        dsm_reverse_proxy,
        lambda lab, fx: dict(
            rules=[rp_rule("photos", 8080), rp_rule("old", 8081), rp_rule("old2", 8083)], exclusive=True
        ),
        lambda lab, fx: dict(
            rules=[rp_rule("photos", 8090), rp_rule("new", 8082), rp_rule("new2", 8084)], exclusive=True
        ),
        rp_view,
        served_exposes,
        ((RP, "create"), (RP, "create"), (RP, "update"), (RP, "delete")),
    ),
    "certificate_import_default_binding": Scenario(
        "dsm_lab",
        dsm_certificate,
        lambda lab, fx: cert_args(fx, "leaf", services=["FTPS"]),
        lambda lab, fx: cert_args(fx, "leaf2", default=True, services=["FTPS", "nas.example.test"]),
        cert_view,
        cert_exposes,
        ((CERT, "import"), (CERT_SERVICE, "set")),
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
        ((CERT, "import"), (CERT_SERVICE, "set")),
    ),
    "certificate_default_then_binding": Scenario(
        "dsm_lab",
        dsm_certificate,
        lambda lab, fx: cert_args(fx, "leaf"),
        lambda lab, fx: dict(description="lab-cert", default=True, services=["nas.example.test"]),
        cert_view,
        cert_exposes,
        (("SYNO.Core.Certificate.CRT", "set"), (CERT_SERVICE, "set")),
    ),
    "zone_settings": Scenario(
        "cloudflare_lab",
        cloudflare_zone_settings,
        lambda lab, fx: dict(settings=ZONE_BEFORE),
        lambda lab, fx: dict(settings=ZONE_AFTER, hsts={"max_age": 15552000}),
        zone_view,
        zone_exposes,
        (("PATCH", SETTINGS),),
    ),
    # Where Cloudflare refuses the bulk edit: one PATCH per setting, four writes in a row.
    "zone_settings_one_by_one": Scenario(
        "cloudflare_lab",
        cloudflare_zone_settings,
        lambda lab, fx: dict(settings=ZONE_BEFORE),
        lambda lab, fx: dict(settings=ZONE_AFTER, hsts={"max_age": 15552000}),
        zone_view,
        zone_exposes,
        (("PATCH", SETTINGS),)
        + tuple(
            ("PATCH", SETTINGS + "/" + sid) for sid in ("always_use_https", "min_tls_version", "security_header", "ssl")
        ),
        config={"bulk_settings": False},
    ),
    # Three adds (one replaces a mapping in place) and two deletes.
    "port_forwards_exclusive": Scenario(
        "router_lab",
        router_port_forward,
        lambda lab, fx: dict(mappings=[fwd(443, 5001), fwd(8443, 5001), fwd(8444, 5001)], exclusive=True),
        lambda lab, fx: dict(mappings=[fwd(443, 5443), fwd(9443, 5001), fwd(9444, 5001)], exclusive=True),
        fwd_view,
        served_exposes,
        (
            (IGD, "AddPortMapping"),
            (IGD, "AddPortMapping"),
            (IGD, "AddPortMapping"),
            (IGD, "DeletePortMapping"),
            (IGD, "DeletePortMapping"),
        ),
    ),
    # A new description only: miniupnpd keeps a re-added mapping's old one, so the module deletes and adds it again
    # (the one moment the port is not forwarded).
    "port_forward_new_description": Scenario(
        "router_lab",
        router_port_forward,
        lambda lab, fx: dict(mappings=[fwd(8443, 5001)]),
        lambda lab, fx: dict(mappings=[dict(fwd(8443, 5001), description="web")]),
        fwd_view,
        served_exposes,
        (
            (IGD, "AddPortMapping"),
            (IGD, "GetSpecificPortMappingEntry"),
            (IGD, "DeletePortMapping"),
            (IGD, "AddPortMapping"),
        ),
    ),
    # An overwrite, two creates, an A replaced by a CNAME (one PUT: Cloudflare refuses a CNAME beside an A) and
    # two deletes.
    "dns_records_exclusive": Scenario(
        "cloudflare_lab",
        cloudflare_dns_records,
        lambda lab, fx: dns_records("100.128.77.2", "photos", "old", "old2", "web"),
        lambda lab, fx: dns_records(
            "100.128.77.3",
            "photos",
            "new",
            "new2",
            extra=[dict(name="web", type="CNAME", content="photos.example.test")],
        ),
        dns_view,
        dns_exposes,
        (
            ("PUT", DNS_ONE),
            ("POST", DNS_POST),
            ("POST", DNS_POST),
            ("PUT", DNS_ONE),
            ("DELETE", DNS_ONE),
            ("DELETE", DNS_ONE),
        ),
    ),
}


def label(step):
    """A step in a test id: the DSM or router method, or Cloudflare's verb and the route's last part."""
    api, method = step
    return "%s-%s" % (api, method.rsplit("/", 1)[-1]) if api in ("PATCH", "PUT", "POST", "DELETE") else method


KINDS = ("error", "502")
CASES = [
    pytest.param(name, index, kind, id="%s-%d-%s-%s" % (name, index, label(step), kind))
    for name, scenario in SCENARIOS.items()
    for index, step in enumerate(scenario.steps)
    for kind in KINDS
]


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return pki.write(str(tmp_path_factory.mktemp("pki")))


def module_args(lab_name, lab, cache_dir, args):
    if lab_name == "dsm_lab":
        return dict(lab.client_args(session_cache_dir=str(cache_dir)), **args)
    if lab_name == "cloudflare_lab":
        return lab.module_args(**args)
    return dict(args, igd_url=lab.igd_url, description_prefix=PREFIX)


# A read is retried on an HTTP 5xx by the DSM client (read_retries, 3 by default) and the Cloudflare one (retries,
# 5), not by the router's: a 502 at a read step is one that lasts past the retries. A write is never retried.
READ_RETRIES = {"dsm_lab": 3, "cloudflare_lab": 5, "router_lab": 0}


def fault_count(lab_name, step, kind):
    return READ_RETRIES[lab_name] + 1 if kind == "502" and not is_write(step) else 1


def inject(lab, api, method, kind, skip, count):
    where = dict(api=api, method=method, skip=skip, count=count)
    if kind == "502":
        lab.fault(http_error_next=dict(where, status=502))
    else:
        lab.fault(fail_next=where)


class Runs:
    """Module runs of one scenario against its lab, and the reference: what a clean run from before to after
    calls and leaves (one per scenario and test session, made on a reset lab with its own session cache)."""

    references = {}

    def __init__(self, name, request, tmp_path, capsys, certs):
        self.name = name
        self.scenario = SCENARIOS[name]
        self.lab = request.getfixturevalue(self.scenario.lab)
        self.tmp_path = tmp_path
        self.capsys = capsys
        self.certs = certs
        self.configure()

    def configure(self):
        if self.scenario.config:
            self.lab.configure(**self.scenario.config)

    def run(self, args, cache="cache"):
        args = module_args(self.scenario.lab, self.lab, self.tmp_path / cache, args)
        return run_module(self.scenario.module, args, self.capsys)

    def before(self, cache="cache"):
        first = self.run(self.scenario.before(self.lab, self.certs), cache)
        assert not first.get("failed"), first
        return self.scenario.view(self.lab)

    def declared(self, cache="cache"):
        return self.run(self.scenario.after(self.lab, self.certs), cache)

    def reference(self):
        """(write phase, the state a clean run reached, the calls before the phase); leaves the lab reset."""
        if self.name not in self.references:
            self.before(cache="reference")
            self.lab.clear_log()
            clean = self.declared(cache="reference")
            assert not clean.get("failed") and clean["changed"] is True, clean
            calls = self.lab.calls()
            phase = write_phase(calls)
            earlier = [(c["api"], c["method"]) for c in calls][: len(calls) - len(from_first_write(calls))]
            self.references[self.name] = (phase, self.scenario.view(self.lab), earlier)
            self.lab.reset()
            self.configure()
        return self.references[self.name]


def named_in(message, api, method, kind):
    """Whether a failure message names the failed call: its API (DSM), its method or route (Cloudflare, the
    router), or the HTTP status."""
    words = [api, method.rsplit("/", 1)[-1]] if api not in ("PATCH", "PUT", "POST", "DELETE") else [api]
    return any(word and word in message for word in words) or (kind == "502" and "502" in message)


@pytest.mark.parametrize("name", list(SCENARIOS))
def test_the_declared_steps_are_the_write_phase_of_a_clean_run(name, request, tmp_path, capsys, certs):
    steps, reached, _earlier = Runs(name, request, tmp_path, capsys, certs).reference()
    assert steps == list(SCENARIOS[name].steps)
    assert reached


@pytest.mark.parametrize("name, index, kind", CASES)
def test_one_fault_at_each_write_step_then_the_rerun_converges(name, index, kind, request, tmp_path, capsys, certs):
    runs = Runs(name, request, tmp_path, capsys, certs)
    steps, reference, earlier = runs.reference()
    assert steps == list(runs.scenario.steps), "the declared steps are not what a clean run makes"
    before = runs.before()

    api, method = steps[index]
    runs.lab.clear_log()
    count = fault_count(runs.scenario.lab, (api, method), kind)
    # Let through the calls of this api and method before the step, in the phase and before it (the plan's reads).
    skip = (earlier + steps[:index]).count((api, method))
    inject(runs.lab, api, method, kind, skip=skip, count=count)
    failed = runs.declared()
    calls = runs.lab.calls()
    hit = [i for i, c in enumerate(calls) if c.get("fault")]
    assert len(hit) == count, [(c["api"], c["method"], c["fault"]) for c in calls]
    assert from_first_write(calls[: hit[0] + 1]) == steps[: index + 1], "the fault missed step %d" % index
    assert failed.get("failed"), failed
    assert named_in(failed["msg"], api, method, kind), failed["msg"]
    mid = runs.scenario.view(runs.lab)

    rerun = runs.declared()
    assert not rerun.get("failed") and rerun["changed"] is True, rerun
    after = runs.scenario.view(runs.lab)
    assert runs.declared()["changed"] is False
    # The state the rerun reached is the one a clean run reaches.
    assert after == reference, "the rerun did not converge to the declared state"
    assert runs.scenario.exposes(mid, before, after) is None, (mid, before, after)
