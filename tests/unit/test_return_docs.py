"""What a module returns is what its RETURN documents: one real run of each module against the lab, then every
top-level key of the result is documented, and every key documented as returned `always` (or `when state=present`,
on a present run) is there. validate-modules cannot see this: it reads the docs, never a result.

It sits with the controller's unit tests, not under plugins/modules: it runs ansible-doc, and ansible-test runs
the tests under plugins/ with the controller's code out of reach."""

from __future__ import annotations

import importlib
import os

import pytest

from tests.lab import pki
from tests.unit.plugins.modules.runner import run_module
from tests.utils.module_docs import module_docs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = sorted(name[:-3] for name in os.listdir(os.path.join(ROOT, "plugins", "modules")) if name.endswith(".py"))
# Keys Ansible itself defines for every module result (not the module's to document).
COMMON = {"changed", "diff", "failed", "msg", "invocation", "warnings", "deprecations", "skipped"}


def _dsm(lab, tmp_path, **args):
    return dict(lab.client_args(session_cache_dir=str(tmp_path / "cache")), **args)


def _cloudflare(lab, tmp_path, **args):
    return lab.module_args(**args)


def _task(tmp_path, lab):
    lab.configure(task_root=str(tmp_path / "root"))  # where the mock runs the task's script
    return dict(name="return-docs", trigger="boot", script="echo hi")


# Per module: which lab it talks to and the smallest arguments of a successful run that changes something.
def _acme(t, lab):
    """A certificate and key already on disk, the fullchain missing: reused (no CA is asked), fullchain written."""
    ca = pki.TestPki()
    leaf, key = ca.leaf("example.test")
    (t / "acme.crt").write_bytes(pki.pem(leaf))
    (t / "acme.key").write_bytes(pki.pem(key))
    (t / "acme-chain.pem").write_bytes(pki.pem(ca.inter))
    return dict(
        hostnames=["example.test", "*.example.test"],
        acme_directory="https://127.0.0.1:9/dir",
        account_key_path=str(t / "account.key"),
        private_key_path=str(t / "acme.key"),
        certificate_path=str(t / "acme.crt"),
        chain_path=str(t / "acme-chain.pem"),
        fullchain_path=str(t / "acme-full.pem"),
    )


CASES = {
    "acme_certificate": ("cloudflare", _cloudflare, _acme),
    "cloudflare_dns_record": ("cloudflare", _cloudflare, lambda t, lab: dict(name="nas", content="100.128.77.2")),
    "cloudflare_dns_records": (
        "cloudflare",
        _cloudflare,
        lambda t, lab: dict(records=[dict(name="nas", content="100.128.77.2")], exclusive=True),
    ),
    "cloudflare_ips_info": ("cloudflare", _cloudflare, lambda t, lab: dict(zone=None)),
    "cloudflare_origin_certificate": (
        "cloudflare",
        _cloudflare,
        lambda t, lab: dict(
            hostnames=["example.test"],
            private_key_path=str(t / "origin.key"),
            certificate_path=str(t / "origin.pem"),
            origin_ca_root_url=lab.origin_ca_root_url,
        ),
    ),
    "cloudflare_tunnel": (
        "cloudflare",
        _cloudflare,
        lambda t, lab: dict(
            account_id="01a7362d577a6c3019a474fd6f485823",
            name="return-docs",
            ingress=[dict(hostname="nas", service="https://localhost:443")],
            token_path=str(t / "tunnel.token"),
        ),
    ),
    "cloudflare_zone_settings": ("cloudflare", _cloudflare, lambda t, lab: dict(settings={"ssl": "strict"})),
    "dsm_certificate": ("dsm", _dsm, lambda t, lab: dict(_certificate(t), description="return-docs")),
    "dsm_ddns": (
        "dsm",
        _dsm,
        lambda t, lab: dict(
            provider="DynDNS", hostname="nas.example.test", provider_username="u", provider_password="p"
        ),
    ),
    "dsm_firewall": (
        "dsm",
        _dsm,
        lambda t, lab: dict(
            enabled=True,
            rules=[{"name": "lan", "ports": ["dsm", "https", str(lab.https_port)], "source": "127.0.0.0/8"}],
        ),
    ),
    "dsm_info": ("dsm", _dsm, lambda t, lab: {}),
    "dsm_letsencrypt": (
        "dsm",
        _dsm,
        lambda t, lab: dict(
            names=["nas.example.test"],
            email="admin@example.test",
            public_address="203.0.113.7",
            port_80_forwarded=True,
            check_dns=False,
        ),
    ),
    "dsm_reverse_proxy": ("dsm", _dsm, lambda t, lab: dict(rules=[], exclusive=True)),
    "dsm_security": ("dsm", _dsm, lambda t, lab: dict(dos_protection={"eth0": True})),
    "dsm_services": (
        "dsm",
        _dsm,
        lambda t, lab: dict(ssh={"enabled": True, "port": 2222}, quickconnect={"enabled": False}),
    ),
    "dsm_session": ("dsm", _dsm, lambda t, lab: {}),
    "dsm_task": ("dsm", _dsm, _task),
    "dsm_update_policy": ("dsm", _dsm, lambda t, lab: dict(mode="security_only")),
    "dsm_user": ("dsm", _dsm, lambda t, lab: dict(name=["guest"], enabled=False)),
    "dsm_web": ("dsm", _dsm, lambda t, lab: dict(hsts=True, tls_profile="modern")),
    "tls_probe_info": (
        "dsm",
        lambda lab, t, **a: dict(a, host=lab.host, port=lab.https_port, ca_path=lab.ca_path),
        lambda t, lab: {},
    ),
    "router_port_forward": (
        "router",
        lambda lab, t, **a: dict(a, igd_url=lab.igd_url),
        lambda t, lab: dict(mappings=[{"external_port": 8443}]),
    ),
}


def _certificate(tmp_path):
    files = pki.write(str(tmp_path / "pki"))
    return dict(certificate=files["leaf.pem"], private_key=files["leaf.key"], chain=files["chain.pem"])


@pytest.fixture(scope="module")
def returns():
    return {name: entry.get("return") or {} for name, entry in module_docs().items()}


def test_every_module_has_a_case():
    assert sorted(CASES) == MODULES


def expected_keys(documented, args):
    present = args.get("state", "present") == "present"
    return {
        key
        for key, doc in documented.items()
        if doc.get("returned") == "always" or (present and doc.get("returned") == "when state=present")
    }


@pytest.mark.parametrize("name", MODULES)
def test_result_keys_are_the_documented_ones(name, returns, request, tmp_path, capsys):
    lab_name, connection, make_args = CASES[name]
    lab = request.getfixturevalue("%s_lab" % lab_name)
    args = connection(lab, tmp_path, **make_args(tmp_path, lab))
    module = importlib.import_module("ansible_collections.homelab.nas.plugins.modules.%s" % name)
    result = run_module(module, args, capsys)
    assert not result.get("failed"), result.get("msg")
    documented = returns[name]
    assert not set(result) - COMMON - set(documented), "returned but not in RETURN"
    assert not expected_keys(documented, args) - set(result), "in RETURN as always returned, but missing"


def test_expected_keys_follow_returned():
    documented = {"a": {"returned": "always"}, "b": {"returned": "when state=present"}, "c": {"returned": "changed"}}
    assert expected_keys(documented, {}) == {"a", "b"}
    assert expected_keys(documented, {"state": "absent"}) == {"a"}
