"""dsm_certificate end to end against the mock DSM (in-process module, real HTTP)."""

from __future__ import annotations

import datetime
import json
import stat

import pytest

from ansible_collections.homelab.nas.plugins.module_utils import dsm_client
from ansible_collections.homelab.nas.plugins.modules import dsm_certificate
from tests.lab import pki
from tests.unit.plugins.modules.runner import run_module

WRITES = ("import", "set", "delete")


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return pki.write(str(tmp_path_factory.mktemp("pki")))


@pytest.fixture
def run(dsm_lab, capsys, tmp_path):
    def _run(check_mode=False, diff=True, **args):
        base = dsm_lab.client_args(session_cache_dir=str(tmp_path / "cache"))
        base.update(args)
        return run_module(dsm_certificate, base, capsys, check_mode=check_mode, diff=diff)

    return _run


def lab_cert(certs, leaf="leaf", **extra):
    args = dict(
        description="lab-cert",
        certificate=certs[leaf + ".pem"],
        private_key=certs[leaf + ".key"],
        chain=certs["chain.pem"],
    )
    args.update(extra)
    return args


def config_of(dsm_lab):
    state = dsm_lab.state()
    return {k: state[k] for k in ("certificates", "bindings")}


def write_calls(dsm_lab):
    return [c for c in dsm_lab.calls() if c["method"] in WRITES or c["api"] == "SYNO.Core.Certificate.Service"]


def by_desc(dsm_lab, desc):
    return [c for c in dsm_lab.state()["certificates"].values() if c["desc"] == desc]


def test_import_default_and_bind_then_idempotent(run, dsm_lab, certs):
    # DSM Desktop Service: the mock's HTTPS listener now presents this certificate (not from the lab CA, not
    # for 127.0.0.1); the task pinned it first, so this task, the next one and the next run still verify DSM.
    args = lab_cert(certs, default=True, services=["DSM Desktop Service", "FTPS", "nas.example.test"])
    first = run(**args)
    assert first.get("changed") is True, first["msg"] if "msg" in first else first
    (stored,) = by_desc(dsm_lab, "lab-cert")
    assert stored["is_default"] is True
    state = dsm_lab.state()
    rp_uuid = next(k for k, s in state["services"].items() if s["display_name"] == "nas.example.test")
    assert state["bindings"]["ftpd"] == stored["id"] == state["bindings"][rp_uuid] == state["bindings"]["default"]
    assert first["certificate"]["id"] == stored["id"]
    assert first["certificate"]["services"] == ["DSM Desktop Service", "FTPS", "nas.example.test"]
    assert presented(dsm_lab) == first["certificate"]["fingerprint_sha256"]

    logins = len(dsm_lab.calls("SYNO.API.Auth", "login"))
    second = run(**args)
    assert second["changed"] is False, second
    assert second["diff"]["before"] == second["diff"]["after"]
    assert len(dsm_lab.calls("SYNO.Core.Certificate", "import")) == 1
    # The cached session outlives the certificate change: no new login.
    assert len(dsm_lab.calls("SYNO.API.Auth", "login")) == logins


def presented(dsm_lab):
    return dsm_client.presented_fingerprint(dsm_lab.host, dsm_lab.https_port)


def test_a_renewal_of_dsms_own_certificate_keeps_the_controller_trusting_it(run, dsm_lab, certs):
    run(**lab_cert(certs, default=True, services=["DSM Desktop Service"]))
    renewed = run(**lab_cert(certs, leaf="leaf2"))
    assert renewed["changed"] is True, renewed
    assert presented(dsm_lab) == renewed["certificate"]["fingerprint_sha256"]
    assert run(**lab_cert(certs, leaf="leaf2"))["changed"] is False


def test_another_controller_is_told_the_fingerprint_and_can_pin_it(run, dsm_lab, certs, tmp_path):
    first = run(**lab_cert(certs, default=True, services=["DSM Desktop Service"]))
    fingerprint = first["certificate"]["fingerprint_sha256"]
    elsewhere = str(tmp_path / "other-controller")
    refused = run(session_cache_dir=elsewhere, **lab_cert(certs))
    assert refused.get("failed") and "TLS verification" in refused["msg"] and fingerprint in refused["msg"], refused
    assert "tls_fingerprints" in refused["msg"]
    plain = fingerprint.replace(":", "").lower()
    pinned = run(session_cache_dir=elsewhere, tls_fingerprints=[plain], **lab_cert(certs))
    assert pinned["changed"] is False, pinned


def test_a_wrong_pin_is_refused_with_what_dsm_presented(run, dsm_lab, certs):
    result = run(tls_fingerprints=["AB" * 32], **lab_cert(certs))
    assert result.get("failed") and presented(dsm_lab) in result["msg"], result
    assert dsm_lab.state()["certificates"] == config_of(dsm_lab)["certificates"]
    assert by_desc(dsm_lab, "lab-cert") == []


def test_a_malformed_pin_is_refused_naming_the_field(run, dsm_lab, certs):
    result = run(tls_fingerprints=["not-a-digest"], **lab_cert(certs))
    assert result.get("failed") and result["msg"].startswith("tls_fingerprints[0]: "), result
    assert dsm_lab.calls() == []


def test_check_mode_reports_and_changes_nothing(run, dsm_lab, certs):
    before = config_of(dsm_lab)
    result = run(check_mode=True, **lab_cert(certs, default=True, services=["default"]))
    assert result["changed"] is True
    assert result["diff"]["before"] == {}
    assert result["diff"]["after"]["default"] is True
    assert result["diff"]["after"]["services"] == ["DSM Desktop Service"]
    assert config_of(dsm_lab) == before
    assert write_calls(dsm_lab) == []


def test_output_never_contains_key_material(run, certs):
    result = run(**lab_cert(certs, default=True))
    key_body = open(certs["leaf.key"]).read().splitlines()[1]
    text = json.dumps(result)
    assert "PRIVATE KEY" not in text and key_body not in text
    assert "lab-password" not in text


def test_new_certificate_replaces_in_place_keeping_id_and_bindings(run, dsm_lab, certs):
    first = run(**lab_cert(certs, services=["WebDAV Server"]))
    renewed = run(**lab_cert(certs, leaf="leaf2"))
    assert renewed["changed"] is True
    assert renewed["certificate"]["id"] == first["certificate"]["id"]
    assert renewed["diff"]["before"]["fingerprint_sha256"] != renewed["diff"]["after"]["fingerprint_sha256"]
    assert renewed["certificate"]["services"] == ["WebDAV Server"]
    assert len(by_desc(dsm_lab, "lab-cert")) == 1


def test_keeps_default_flag_when_replacing_the_default(run, dsm_lab, certs):
    run(**lab_cert(certs, default=True))
    run(**lab_cert(certs, leaf="leaf2"))
    assert by_desc(dsm_lab, "lab-cert")[0]["is_default"] is True


def test_services_and_default_on_an_existing_certificate_without_pem(run, dsm_lab, certs):
    run(**lab_cert(certs))
    result = run(description="lab-cert", default=True, services=["FTPS"])
    assert result["changed"] is True
    (stored,) = by_desc(dsm_lab, "lab-cert")
    assert stored["is_default"] and dsm_lab.state()["bindings"]["ftpd"] == stored["id"]
    assert len(dsm_lab.calls("SYNO.Core.Certificate", "import")) == 1


def test_absent_deletes_and_is_idempotent(run, dsm_lab, certs):
    run(**lab_cert(certs, services=["FTPS"]))
    result = run(description="lab-cert", state="absent")
    assert result["changed"] is True
    assert by_desc(dsm_lab, "lab-cert") == []
    assert dsm_lab.state()["bindings"]["ftpd"] == "sYnDef"
    assert run(description="lab-cert", state="absent")["changed"] is False


def expect_refused(result, dsm_lab, before, *fragments):
    assert result.get("failed") is True, result
    for fragment in fragments:
        assert fragment in result["msg"]
    assert config_of(dsm_lab) == before
    assert write_calls(dsm_lab) == []


def test_mismatched_key_is_refused_before_contacting_dsm(run, dsm_lab, certs):
    before = config_of(dsm_lab)
    result = run(**lab_cert(certs, private_key=certs["leaf2.key"]))
    expect_refused(result, dsm_lab, before, "private_key", "does not match")
    assert dsm_lab.calls() == []


def test_expired_certificate_is_refused(run, dsm_lab, tmp_path):
    test_pki = pki.TestPki()
    start = datetime.datetime.now(datetime.UTC) - datetime.timedelta(days=400)
    cert, key = test_pki.leaf("old.test", not_before=start, days=90)
    before = config_of(dsm_lab)
    result = run(description="old", certificate=pki.pem(cert).decode(), private_key=pki.pem(key).decode())
    expect_refused(result, dsm_lab, before, "certificate: expired")


def test_not_yet_valid_certificate_is_refused(run, dsm_lab):
    test_pki = pki.TestPki()
    start = datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=2)
    cert, key = test_pki.leaf("later.test", not_before=start, days=90)
    before = config_of(dsm_lab)
    result = run(description="later", certificate=pki.pem(cert).decode(), private_key=pki.pem(key).decode())
    expect_refused(result, dsm_lab, before, "certificate: not valid before")


@pytest.mark.parametrize("option", ["certificate", "chain"])
def test_a_private_key_given_as_a_certificate_is_refused_and_never_shown(run, dsm_lab, certs, option):
    with open(certs["leaf.key"]) as handle:
        key_text = handle.read()
    args = lab_cert(certs)
    with open(args[option]) as handle:
        args[option] = handle.read() + key_text  # a combined PEM file, pasted into the wrong option
    before = config_of(dsm_lab)
    result = run(**args)
    expect_refused(result, dsm_lab, before, "%s: holds a private key" % option)
    key_body = "".join(key_text.splitlines()[1:-1])
    shown = json.dumps(result)
    assert key_body[:40] not in shown and key_text.splitlines()[1] not in shown
    assert "invocation" in result  # the masked copy of the options is still there


def test_garbage_pem_is_refused(run, dsm_lab, certs):
    before = config_of(dsm_lab)
    result = run(
        description="junk",
        certificate="-----BEGIN CERTIFICATE-----\nxx\n-----END CERTIFICATE-----",
        private_key=certs["leaf.key"],
    )
    expect_refused(result, dsm_lab, before, "certificate: no PEM certificate")


def test_wrong_password_is_refused(run, dsm_lab, certs):
    before = config_of(dsm_lab)
    result = run(password="not-it", **lab_cert(certs))
    expect_refused(result, dsm_lab, before, "400", "password is incorrect")
    assert result["error_code"] == 400


def test_2fa_account_without_code_is_refused(run, dsm_lab, certs):
    before = config_of(dsm_lab)
    result = run(username="otp-admin", **lab_cert(certs))
    expect_refused(result, dsm_lab, before, "otp_code", "device_id")


def test_non_admin_is_refused_with_105(run, dsm_lab, certs):
    before = config_of(dsm_lab)
    result = run(username="alice", **lab_cert(certs))
    expect_refused(result, dsm_lab, before, "105", "administrators")


def test_unknown_service_lists_the_known_ones(run, dsm_lab, certs):
    before = config_of(dsm_lab)
    result = run(services=["Nope"], **lab_cert(certs))
    expect_refused(result, dsm_lab, before, "services: 'Nope'", "DSM Desktop Service", "nas.example.test")


def test_default_false_on_the_default_and_deleting_the_default_are_refused(run, dsm_lab, certs):
    run(**lab_cert(certs, default=True))
    before = config_of(dsm_lab)
    dsm_lab.clear_log()
    result = run(**lab_cert(certs, default=False))
    expect_refused(result, dsm_lab, before, "default: false", "default: true")
    result = run(description="lab-cert", state="absent")
    expect_refused(result, dsm_lab, before, "default certificate", "cannot be deleted")


def test_failed_import_leaves_previous_certificate_intact(run, dsm_lab, certs):
    run(**lab_cert(certs, services=["FTPS"]))
    before = config_of(dsm_lab)
    dsm_lab.fault(fail_next={"count": 1, "code": 5510, "api": "SYNO.Core.Certificate", "method": "import"})
    result = run(**lab_cert(certs, leaf="leaf2"))
    assert result["failed"] is True and "5510" in result["msg"]
    assert config_of(dsm_lab) == before


def test_ambiguous_description_asks_for_id(run, dsm_lab, certs, capsys):
    first = run(**lab_cert(certs))
    run(description="other", certificate=certs["leaf2.pem"], private_key=certs["leaf2.key"])
    other_id = by_desc(dsm_lab, "other")[0]["id"]
    # Rename "other" to "lab-cert" by id: now two certificates share the description.
    renamed = run(description="lab-cert", id=other_id)
    assert renamed["changed"] is True
    result = run(**lab_cert(certs))
    assert result["failed"] is True and "set id" in result["msg"]
    assert first["certificate"]["id"] in result["msg"]


def test_without_session_cache_a_failing_task_still_logs_out(run, dsm_lab, certs):
    result = run(session_cache=False, services=["Nope"], **lab_cert(certs))
    assert result["failed"] is True
    assert dsm_lab.state()["active_sessions"] == 0
    assert len(dsm_lab.calls("SYNO.API.Auth", "logout")) == 1


@pytest.mark.parametrize("bindings", ["explicit", "implicit"])
def test_a_new_default_keeps_the_controller_trusting_dsm_whether_desktop_follows_it_or_not(
    run, dsm_lab, certs, bindings
):
    """DSM Desktop Service bound by name stays on the factory certificate; one bound implicitly follows the new
    default, and DSM presents a certificate the lab CA did not sign. Either way the next task verifies DSM."""
    dsm_lab.configure(service_bindings=bindings)
    factory = presented(dsm_lab)
    made = run(**lab_cert(certs, default=True))
    assert made["changed"] is True, made
    moved = presented(dsm_lab) == made["certificate"]["fingerprint_sha256"]
    assert moved is (bindings == "implicit") and (presented(dsm_lab) == factory) is not moved
    again = run(**lab_cert(certs, default=True))
    assert again.get("failed") is not True and again["changed"] is False, again


# -- one request per no-op: what an export showed is remembered with what DSM lists ----------------------------------


def requests_of(dsm_lab):
    return [(c["api"], c["method"]) for c in dsm_lab.calls()]


LIST_ONLY = [("SYNO.Core.Certificate.CRT", "list")]


def exports(dsm_lab):
    return dsm_lab.calls("SYNO.Core.Certificate", "export")


def verified_file(tmp_path, cache="cache"):
    (entry,) = (tmp_path / cache).glob("*.crt.json")
    return entry


def other_renewal(tmp_path, days):
    """A certificate for the same names that DSM lists otherwise (another validity), with its own chain."""
    ca = pki.TestPki()
    leaf, key = ca.leaf("example.test", days=days)
    paths = {}
    for name, data in (
        ("other.pem", pki.pem(leaf)),
        ("other.key", pki.pem(key)),
        ("other-chain.pem", pki.pem(ca.inter)),
    ):
        paths[name] = str(tmp_path / name)
        (tmp_path / name).write_bytes(data)
    return dict(
        description="lab-cert",
        certificate=paths["other.pem"],
        private_key=paths["other.key"],
        chain=paths["other-chain.pem"],
    )


def test_a_noop_is_one_request_in_check_mode_too_and_after_an_import_needs_no_export(run, dsm_lab, certs, tmp_path):
    args = lab_cert(certs, default=True, services=["DSM Desktop Service", "FTPS"])
    first = run(**args)
    assert first["changed"] is True and exports(dsm_lab) == []
    text = verified_file(tmp_path).read_text()
    assert first["certificate"]["fingerprint_sha256"] in text and "PRIVATE" not in text
    assert stat.S_IMODE(verified_file(tmp_path).stat().st_mode) == 0o600
    for check_mode in (False, True):
        dsm_lab.clear_log()
        again = run(check_mode=check_mode, **args)
        assert again["changed"] is False and again["diff"]["before"] == again["diff"]["after"], again
        assert again["certificate"] == first["certificate"]
        assert requests_of(dsm_lab) == LIST_ONLY


def test_a_renewal_is_imported_without_an_export(run, dsm_lab, certs, tmp_path):
    first = run(**lab_cert(certs, services=["FTPS"]))
    dsm_lab.clear_log()
    renewed = run(**lab_cert(certs, leaf="leaf2"))
    assert renewed["changed"] is True and exports(dsm_lab) == []
    assert renewed["diff"]["before"]["fingerprint_sha256"] == first["certificate"]["fingerprint_sha256"]
    assert renewed["certificate"]["fingerprint_sha256"] != first["certificate"]["fingerprint_sha256"]
    dsm_lab.clear_log()
    assert run(**lab_cert(certs, leaf="leaf2"))["changed"] is False and requests_of(dsm_lab) == LIST_ONLY


def test_a_certificate_without_a_remembered_export_is_exported_once(run, dsm_lab, certs, tmp_path):
    run(**lab_cert(certs))
    verified_file(tmp_path).unlink()  # another controller's first run, or a cache removed
    dsm_lab.clear_log()
    assert run(**lab_cert(certs))["changed"] is False and len(exports(dsm_lab)) == 1
    dsm_lab.clear_log()
    assert run(**lab_cert(certs))["changed"] is False and requests_of(dsm_lab) == LIST_ONLY


def test_a_corrupt_entry_is_exported_again(run, dsm_lab, certs, tmp_path):
    run(**lab_cert(certs))
    verified_file(tmp_path).write_text('{"listed": ')
    dsm_lab.clear_log()
    assert run(**lab_cert(certs))["changed"] is False and len(exports(dsm_lab)) == 1


def test_a_certificate_dsm_lists_otherwise_is_exported_and_put_back(run, dsm_lab, certs, tmp_path):
    first = run(**lab_cert(certs))
    # Replaced in place from elsewhere (another controller: its own cache) with one DSM lists otherwise.
    elsewhere = run(session_cache_dir=str(tmp_path / "elsewhere"), **other_renewal(tmp_path, days=30))
    assert elsewhere["changed"] is True and elsewhere["certificate"]["id"] == first["certificate"]["id"]
    dsm_lab.clear_log()
    back = run(**lab_cert(certs))
    assert back["changed"] is True and len(exports(dsm_lab)) == 1, back
    assert back["diff"]["before"]["fingerprint_sha256"] == elsewhere["certificate"]["fingerprint_sha256"]
    assert back["certificate"]["fingerprint_sha256"] == first["certificate"]["fingerprint_sha256"]
    dsm_lab.clear_log()
    assert run(**lab_cert(certs))["changed"] is False and requests_of(dsm_lab) == LIST_ONLY


def test_a_deleted_certificate_is_forgotten(run, dsm_lab, certs, tmp_path):
    run(**lab_cert(certs))
    verified_file(tmp_path)
    assert run(description="lab-cert", state="absent")["changed"] is True
    assert list((tmp_path / "cache").glob("*.crt.json")) == []
