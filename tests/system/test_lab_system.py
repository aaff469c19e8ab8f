"""The lab as the whole system: what a real NAS does to a run, seen through the mock DSM's listeners.

- the HTTPS listener presents the certificate bound to DSM Desktop Service, so an import or a binding
  changes what the controller has to trust;
- every reverse-proxy edit regenerates the DSM-shaped nginx tree (and wipes a patch in it);
- the applied firewall decides whether the controller's next request is answered;
- enforced 2FA answers 406 to a password-only login of an account without 2FA;
- SYNO.Core.Terminal opens and closes the SSH stand-in.
Tests marked "issue 11" show a workflow bug of the collection that the truthful lab now exposes.
"""

from __future__ import annotations

import hashlib
import os
import socket
import ssl

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization

from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError
from ansible_collections.homelab.nas.plugins.modules import dsm_certificate, dsm_info, dsm_security
from tests.lab import pki
from tests.lab.dsm_nginx import tree
from tests.lab.mock_dsm import firewall_eval
from tests.system.test_nginx_patches import Nas, wait_for
from tests.unit.plugins.modules.runner import run_module
from tests.utils.dsm_client import lab_client, lab_session

FACTORY_ID = "sYnDef"
FW = "SYNO.Core.Security.Firewall"


# -- helpers -------------------------------------------------------------------------------
def handshake(dsm_lab, cafile=None):
    """SHA-256 of the leaf DSM presents on a fresh connection; with `cafile`, verification must pass."""
    context = ssl.create_default_context(cafile=cafile) if cafile else ssl._create_unverified_context()
    context.check_hostname = False
    with socket.create_connection((dsm_lab.host, dsm_lab.https_port), timeout=5) as raw:
        with context.wrap_socket(raw) as tls:
            return hashlib.sha256(tls.getpeercert(binary_form=True)).hexdigest()


def fingerprint(pem_bytes):
    cert = x509.load_pem_x509_certificate(pem_bytes)
    return hashlib.sha256(cert.public_bytes(serialization.Encoding.DER)).hexdigest()


def import_cert(api, certs, cert_id="", as_default=True, desc="lab-system"):
    files = {
        "key": ("privkey.pem", open(certs["leaf.key"], "rb").read(), "application/x-x509-ca-cert"),
        "cert": ("cert.pem", open(certs["leaf.pem"], "rb").read(), "application/x-x509-ca-cert"),
        "inter_cert": ("chain.pem", open(certs["chain.pem"], "rb").read(), "application/x-x509-ca-cert"),
    }
    return api.write(
        "SYNO.Core.Certificate",
        "import",
        1,
        files=files,
        id=cert_id,
        desc=desc,
        as_default="true" if as_default else None,
    )["id"]


def desktop_service(api):
    """DSM Desktop Service's object as CRT.list shows it, and the id of the certificate it is bound to."""
    for cert in api.read("SYNO.Core.Certificate.CRT", "list", 1)["certificates"]:
        for service in cert["services"]:
            if service["service"] == "default":
                return service, cert["id"]
    raise AssertionError("DSM Desktop Service is bound to no certificate")


def answered(call):
    """Whether a call got an answer; a connection reset or closed without one counts as not."""
    try:
        call()
    except DsmError as exc:
        if exc.code is None and "cannot reach DSM" in str(exc):
            return False
        raise
    return True


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return pki.write(str(tmp_path_factory.mktemp("system-pki")))


# -- certificate switching -------------------------------------------------------------------
def test_the_listener_starts_with_the_factory_certificate_the_lab_ca_signed(dsm_lab):
    factory = dsm_lab.state()["certificates"][FACTORY_ID]
    assert handshake(dsm_lab, cafile=dsm_lab.ca_path) == fingerprint(factory["cert_pem"].encode())


def test_an_import_in_place_switches_the_served_certificate_and_its_chain(dsm_lab, certs):
    with lab_session(dsm_lab) as api:
        assert import_cert(api, certs, cert_id=FACTORY_ID) == FACTORY_ID
    served = handshake(dsm_lab)
    assert served == fingerprint(open(certs["leaf.pem"], "rb").read())
    # A controller that trusts only the lab CA no longer gets through ...
    with pytest.raises(ssl.SSLCertVerificationError):
        handshake(dsm_lab, cafile=dsm_lab.ca_path)
    # ... one that trusts the new root does, because DSM also sends the intermediate.
    assert handshake(dsm_lab, cafile=certs["root.pem"]) == served


def test_a_new_default_leaves_an_explicit_binding_until_the_binding_moves(dsm_lab, certs):
    factory = handshake(dsm_lab, cafile=dsm_lab.ca_path)
    with lab_session(dsm_lab) as api:
        new_id = import_cert(api, certs, as_default=True)
        assert dsm_lab.state()["certificates"][new_id]["is_default"] is True
        # DSM Desktop Service stays on the certificate it was bound to.
        assert handshake(dsm_lab, cafile=dsm_lab.ca_path) == factory
        service, old_id = desktop_service(api)
        api.write(
            "SYNO.Core.Certificate.Service", "set", 1, settings=[{"service": service, "old_id": old_id, "id": new_id}]
        )
    assert handshake(dsm_lab) == fingerprint(open(certs["leaf.pem"], "rb").read())
    dsm_lab.reset()
    assert handshake(dsm_lab, cafile=dsm_lab.ca_path) == factory


def test_with_implicit_bindings_a_new_default_switches_the_served_certificate(dsm_lab, certs):
    """A DSM whose services follow the default certificate (lab config service_bindings: implicit): making a new
    default is what changes the certificate a fresh connection sees, and CRT.list shows DSM Desktop Service
    under whichever certificate is the default."""
    dsm_lab.configure(service_bindings="implicit")
    factory = handshake(dsm_lab, cafile=dsm_lab.ca_path)
    with lab_session(dsm_lab) as api:
        assert desktop_service(api)[1] == "sYnDef" and "default" not in dsm_lab.state()["bindings"]
        new_id = import_cert(api, certs, as_default=True)
        assert handshake(dsm_lab) == fingerprint(open(certs["leaf.pem"], "rb").read()) != factory
        service, old_id = desktop_service(api)
        assert old_id == new_id
        # Binding it by name is still possible, with the certificate it follows now as old_id.
        api.write(
            "SYNO.Core.Certificate.Service", "set", 1, settings=[{"service": service, "old_id": old_id, "id": "sYnDef"}]
        )
    assert handshake(dsm_lab, cafile=dsm_lab.ca_path) == factory
    dsm_lab.reset()
    assert dsm_lab.state()["bindings"]["default"] == "sYnDef"


def test_binding_dsm_desktop_service_keeps_the_controller_verifying_dsm(dsm_lab, certs, capsys, tmp_path):
    """What the tls role does (tls_dsm_services: [DSM Desktop Service]): DSM presents a certificate the lab CA
    did not sign; the binding task pinned it, so the next module still verifies DSM, and a controller that
    never saw the binding is refused with the fingerprint to pin."""
    args = dsm_lab.client_args(session_cache_dir=str(tmp_path / "cache"))
    bound = run_module(
        dsm_certificate,
        dict(
            args,
            description="origin",
            certificate=certs["leaf.pem"],
            private_key=certs["leaf.key"],
            chain=certs["chain.pem"],
            default=True,
            services=["DSM Desktop Service"],
        ),
        capsys,
    )
    assert bound["changed"] is True, bound
    fingerprint = bound["certificate"]["fingerprint_sha256"]
    assert handshake(dsm_lab) == fingerprint.replace(":", "").lower()
    after = run_module(dsm_info, args, capsys)
    assert after.get("failed") is not True, after
    stranger = run_module(dsm_info, dsm_lab.client_args(session_cache_dir=str(tmp_path / "other")), capsys)
    assert stranger.get("failed") is True and "TLS verification" in stranger["msg"], stranger
    assert fingerprint in stranger["msg"]


# -- nginx regeneration ----------------------------------------------------------------------
@pytest.fixture
def nginx_tree(tmp_path):
    tree.require_nginx()
    roots = []

    def _build(layout):
        root = tree.build(str(tmp_path / ("nas-" + layout)), layout=layout)
        started = tree.nginx(root)
        assert started.returncode == 0, started.stderr
        roots.append(root)
        return root

    yield _build
    for root in roots:
        tree.nginx(root, "-s", "quit")


def rp_entry(description, hostname, port=8080):
    return {
        "description": description,
        "proxy_connect_timeout": 60,
        "proxy_read_timeout": 60,
        "proxy_send_timeout": 60,
        "proxy_http_version": 1,
        "proxy_intercept_errors": False,
        "frontend": {"fqdn": hostname, "port": 443, "protocol": 1, "acl": None, "https": {"hsts": False}},
        "backend": {"fqdn": "localhost", "port": port, "protocol": 0},
        "customize_headers": [],
    }


def rp_uuid(api, hostname):
    entries = api.read("SYNO.Core.AppPortal.ReverseProxy", "list", 1)["entries"]
    return next(e for e in entries if e["frontend"]["fqdn"] == hostname)


def test_a_reverse_proxy_edit_regenerates_the_dsm7_tree(dsm_lab, nginx_tree):
    root = nginx_tree("dsm7")
    dsm_lab.configure(nginx_root=root)  # DSM 7's layout is the default
    server_file = os.path.join(root, tree.SERVER_FILES["dsm7"])
    # Attaching renders the mock's own entries, not the tree's factory list.
    assert "server_name nas.example.test;" in open(server_file).read()
    assert "media.example.test" not in open(server_file).read()
    with lab_session(dsm_lab) as api:
        api.write("SYNO.Core.AppPortal.ReverseProxy", "create", 1, entry=rp_entry("blog", "blog.example.test"))
        assert "server_name blog.example.test;" in open(server_file).read()
        assert wait_for(lambda: tree.probe(root, "blog.example.test") == (200, "blog client=127.0.0.1"))
        api.write("SYNO.Core.AppPortal.ReverseProxy", "delete", 1, uuids=[rp_uuid(api, "blog.example.test")["UUID"]])
    assert "blog.example.test" not in open(server_file).read()
    assert not os.path.exists(os.path.join(root, tree.SERVER_FILES["dsm6"]))


def test_a_reverse_proxy_edit_wipes_the_nginx_patch(dsm_lab, nginx_tree, tmp_path):
    root = nginx_tree("dsm7")
    dsm_lab.configure(nginx_root=root, task_root=root)
    nas = Nas(root, dsm_lab, str(tmp_path / "cache"))
    assert nas.role().returncode == 0
    assert wait_for(lambda: nas.get("photos.example.test", False)[0] == 400), "the patch did not apply"
    with lab_session(dsm_lab) as api:
        entry = rp_uuid(api, "photos.example.test")
        entry["backend"]["port"] = 8081
        api.write("SYNO.Core.AppPortal.ReverseProxy", "update", 1, entry=entry)
    # DSM rewrote the file from its entries and reloaded nginx: the patch is gone.
    assert wait_for(lambda: nas.get("photos.example.test", False)[0] == 200), "the edit kept the patch"


# -- firewall enforcement --------------------------------------------------------------------
def apply_profile(api, profile):
    """What the dsm_firewall module does, without its lockout guard: save, apply, enable. Once the
    profile is in force a controller it shuts out gets no answer to the rest, which is the point."""
    api.write(FW + ".Profile", "set", 1, profile=profile, profile_applying=False)
    task = api.write(FW + ".Profile.Apply", "start", 1, name=profile["name"], profile_applying=False)
    answered(lambda: api.read(FW + ".Profile.Apply", "status", 1, task_id=task.get("task_id")))
    answered(lambda: api.write(FW, "set", 1, enable_firewall=True, profile_name=profile["name"]))


def lan_only(dsm_lab, network="192.168.1.0/24"):
    rule = {
        "enable": True,
        "name": "lan",
        "policy": "allow",
        "protocol": "tcp",
        "port_direction": "destination",
        "port_group": "custom",
        "ports": "%d,%d" % (dsm_lab.http_port, dsm_lab.https_port),
        "source_ip_group": "subnet",
        "source_ip": network,
        "log": False,
    }
    return {"name": "default", "global": {"policy": "deny", "rules": [rule]}}


def test_a_firewall_without_a_rule_for_the_controller_drops_the_next_request(dsm_lab):
    api = lab_client(dsm_lab)  # no logout at the end: the firewall cuts this session too
    apply_profile(api, lan_only(dsm_lab))
    assert not answered(lambda: api.read("SYNO.DSM.Info", "getinfo", 2))
    fresh = lab_client(dsm_lab)
    assert not answered(fresh.login)
    # Plain HTTP (DSM's port 5000) gets no answer either.
    plain = lab_client(dsm_lab, port=dsm_lab.http_port, use_https=False)
    assert not answered(plain.login)
    # The lab's own control API still answers (it is not the NAS).
    assert dsm_lab.state()["firewall"]["enable_firewall"] is True
    # The same rules let a controller on the LAN through.
    dsm_lab.configure(controller_address="192.168.1.50")
    with lab_session(dsm_lab) as api:
        assert api.read("SYNO.DSM.Info", "getinfo", 2)["model"]


def test_an_allowed_controller_keeps_working_and_firewall_off_answers_everyone(dsm_lab):
    with lab_session(dsm_lab) as api:
        apply_profile(api, lan_only(dsm_lab, "127.0.0.0/8"))
        assert api.read("SYNO.DSM.Info", "getinfo", 2)["model"]
        api.write(FW, "set", 1, enable_firewall=False)
    dsm_lab.configure(controller_address="203.0.113.9")
    with lab_session(dsm_lab) as api:
        assert api.read("SYNO.DSM.Info", "getinfo", 2)["model"]


def envelope_rule(policy, source, ports="all"):
    group = "all" if source == "all" else "subnet"
    return {
        "enable": True,
        "name": "%s %s" % (policy, source),
        "policy": policy,
        "protocol": "tcp",
        "port_group": "all" if ports == "all" else "custom",
        "ports": "" if ports == "all" else ports,
        "source_ip_group": group,
        "source_ip": "" if source == "all" else source,
    }


def fwdb_rule(policy, source):
    return {
        "enable": True,
        "name": "%s %s" % (policy, source),
        "policy": 0 if policy == "allow" else 1,
        "protocol": 1,
        "portGroup": 3,
        "portList": [],
        "ipGroup": 5 if source == "all" else 1,
        "ipList": [] if source == "all" else source.split("/"),
    }


@pytest.mark.parametrize("shape", ["envelope", "fwdb"])
def test_global_rules_decide_before_the_interfaces_and_the_interface_default_last(shape):
    if shape == "envelope":
        profile = {
            "name": "p",
            "global": {"policy": "allow", "rules": [envelope_rule("allow", "10.0.0.0/8")]},
            "eth0": {
                "policy": "deny",
                "rules": [envelope_rule("deny", "10.1.0.0/16"), envelope_rule("allow", "172.16.0.0/12")],
            },
        }
    else:
        profile = {
            "name": "p",
            "rules": {
                "global": [fwdb_rule("allow", "10.0.0.0/255.0.0.0")],
                "eth0": [fwdb_rule("deny", "10.1.0.0/255.255.0.0"), fwdb_rule("allow", "172.16.0.0/255.240.0.0")],
            },
            "adapterPolicyMap": {"global": 2, "eth0": 1},
        }

    def decide(address):
        return firewall_eval.decide(profile, "eth0", address, 5001)[0]

    assert decide("10.1.2.3") == "allow"  # the global allow wins over eth0's deny
    assert decide("172.16.5.5") == "allow"  # eth0's own rule
    assert decide("192.0.2.1") == "deny"  # eth0's default action
    # Disabled rules are skipped; a profile with no default anywhere drops.
    bare = {"name": "q", "global": {"rules": [dict(envelope_rule("allow", "all"), enable=False)]}}
    assert firewall_eval.decide(bare, "eth0", "192.0.2.1", 5001)[0] == "deny"


# -- 2FA enforcement ---------------------------------------------------------------------------
def login_code(dsm_lab, account):
    try:
        lab_client(dsm_lab, username=account).login()
    except DsmError as exc:
        return exc.code
    return 0


def test_enforced_2fa_answers_406_to_password_only_logins_of_the_accounts_it_covers(dsm_lab):
    assert login_code(dsm_lab, "ansible") == 0
    with lab_session(dsm_lab) as api:
        api.write("SYNO.Core.OTP.EnforcePolicy", "set", 1, otp_enforce_option="admin")
    assert login_code(dsm_lab, "ansible") == 406  # an administrator without 2FA
    assert login_code(dsm_lab, "otp-admin") == 403  # has 2FA: asked for the code, as before
    assert login_code(dsm_lab, "alice") == 0  # not an administrator
    dsm_lab.reset()
    with lab_session(dsm_lab) as api:
        api.write("SYNO.Core.OTP.EnforcePolicy", "set", 1, otp_enforce_option="user")
    assert login_code(dsm_lab, "alice") == 406


def test_hardening_two_factor_does_not_lock_the_automation_account_out(dsm_lab, capsys, tmp_path):
    """hardening_two_factor: administrators for an account without 2FA is refused, so the next run's login works;
    forced past the module (the API itself), DSM answers that login 406."""
    args = dsm_lab.client_args(session_cache_dir=str(tmp_path / "cache"))
    result = run_module(dsm_security, dict(args, two_factor_enforcement="administrators"), capsys)
    assert result.get("failed") is True and "406" in result["msg"], result
    assert dsm_lab.state()["security"]["otp_enforce_option"] == "none"
    assert login_code(dsm_lab, "ansible") == 0
    with lab_session(dsm_lab) as api:
        api.write("SYNO.Core.OTP.EnforcePolicy", "set", 1, otp_enforce_option="admin")
    assert login_code(dsm_lab, "ansible") == 406


# -- SSH stand-in ------------------------------------------------------------------------------
def ssh_banner(dsm_lab):
    """The first line the SSH port sends, or the error connecting to it."""
    try:
        with socket.create_connection((dsm_lab.host, dsm_lab.info["ssh_port"]), timeout=5) as conn:
            return conn.recv(256)
    except OSError as exc:
        return exc


def test_terminal_opens_and_closes_the_ssh_stand_in(dsm_lab):
    assert isinstance(ssh_banner(dsm_lab), ConnectionRefusedError)  # DSM ships with SSH off
    with lab_session(dsm_lab) as api:
        assert api.read("SYNO.Core.Terminal", "get", 3)["enable_ssh"] is False
        api.write(
            "SYNO.Core.Terminal", "set", 3, enable_ssh=True, enable_telnet=False, ssh_port=22, forbid_console=False
        )
        assert ssh_banner(dsm_lab).startswith(b"SSH-2.0-")
        got = api.read("SYNO.Core.Terminal", "get", 3)
        assert got["enable_ssh"] is True and got["ssh_port"] == 22 and got["ssh_cipher"]
        # The firewall covers the SSH port too: no rule for 22 from the controller, no answer.
        apply_profile(api, lan_only(dsm_lab, "127.0.0.0/8"))
        assert isinstance(ssh_banner(dsm_lab), ConnectionResetError)
        api.write(FW, "set", 1, enable_firewall=False)
        api.write("SYNO.Core.Terminal", "set", 3, enable_ssh=False)
    assert isinstance(ssh_banner(dsm_lab), ConnectionRefusedError)


def test_a_reset_closes_the_ssh_stand_in_again(dsm_lab):
    with lab_session(dsm_lab) as api:
        api.write("SYNO.Core.Terminal", "set", 3, enable_ssh=True)
    assert ssh_banner(dsm_lab).startswith(b"SSH-2.0-")
    dsm_lab.reset()
    assert isinstance(ssh_banner(dsm_lab), ConnectionRefusedError)
