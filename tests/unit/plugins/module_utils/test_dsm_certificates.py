"""dsm_certificates against the mock DSM: the one certificate record, with and without the PEM identity."""

from __future__ import annotations

from ansible_collections.homelab.nas.plugins.module_utils.dsm_certificates import (
    DsmCertificates,
    all_services,
    certificate_record,
)


def test_record_without_pem_is_dsms_list_fields(dsm_client, dsm_lab):
    api = DsmCertificates(dsm_client)
    factory = api.find(api.list(), cert_id="sYnDef")
    dsm_lab.clear_log()
    record = api.record(factory, with_pem=False)
    assert dsm_lab.calls() == [], "no export without with_pem"
    assert record["id"] == "sYnDef" and record["default"] is True and record["subject"] == "synology"
    assert record["issuer"] == "Synology Inc. CA" and record["sans"][0] == "synology"
    assert "DSM Desktop Service" in record["services"] and "fingerprint_sha256" not in record


def test_record_with_pem_adds_fingerprints_and_exact_validity(dsm_client):
    api = DsmCertificates(dsm_client)
    factory = api.find(api.list(), cert_id="sYnDef")
    record = api.record(factory)
    assert len(record["fingerprint_sha256"].split(":")) == 32 and len(record["chain_fingerprints_sha256"]) == 1
    assert record["not_after"].endswith("Z") and record["services"] == api.record(factory, False)["services"]


def test_identity_wins_over_the_list_fields():
    cert = {"id": "x", "desc": "d", "subject": {"common_name": "listed"}, "services": [{"service": "ftpd"}]}
    record = certificate_record(cert, {"subject": "from pem"})
    assert record["subject"] == "from pem" and record["services"] == ["ftpd"] and record["default"] is False


def test_all_services_knows_the_certificate_each_uses(dsm_client):
    services = all_services(DsmCertificates(dsm_client).list())
    assert services["DSM Desktop Service"][1] == "sYnDef" and services["photos.example.test"][1] == "sYnDef"
