"""Cloudflare's official Python SDK, unchanged, against the mock API: the mock follows the API, not our modules."""

from __future__ import annotations

import ssl

import cloudflare
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from tests.lab.mock_cloudflare.seed import LAB_TOKEN, ZONE_ID


def sdk(lab, token=LAB_TOKEN):
    return cloudflare.Cloudflare(
        api_token=token,
        base_url=lab.api_base_url,
        max_retries=0,
        http_client=cloudflare.DefaultHttpxClient(verify=ssl.create_default_context(cafile=lab.ca_path)),
    )


def test_sdk_zones_settings_dns_ips(cloudflare_lab):
    client = sdk(cloudflare_lab)
    assert client.user.tokens.verify().status == "active"
    (zone,) = list(client.zones.list(name="example.test"))
    assert zone.id == ZONE_ID
    assert client.zones.settings.get(setting_id="ssl", zone_id=ZONE_ID).value == "full"
    assert client.zones.settings.edit(setting_id="ssl", zone_id=ZONE_ID, value="strict").value == "strict"
    assert cloudflare_lab.state()["settings"][ZONE_ID]["ssl"]["value"] == "strict"
    record = client.dns.records.create(
        zone_id=ZONE_ID, type="A", name="nas", content="100.128.77.2", proxied=True, ttl=1
    )
    assert record.name == "nas.example.test" and record.proxied is True
    assert [r.id for r in client.dns.records.list(zone_id=ZONE_ID)] == [record.id]
    client.dns.records.delete(record.id, zone_id=ZONE_ID)
    assert cloudflare_lab.state()["dns_records"][ZONE_ID] == {}
    assert "2400:cb00::/32" in client.ips.list().ipv6_cidrs


def test_sdk_origin_ca(cloudflare_lab):
    client = sdk(cloudflare_lab)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([])).sign(key, hashes.SHA256())
    issued = client.origin_ca_certificates.create(
        csr=csr.public_bytes(serialization.Encoding.PEM).decode(),
        hostnames=["example.test"],
        request_type="origin-rsa",
        requested_validity=7,
    )
    cert = x509.load_pem_x509_certificate(issued.certificate.encode())
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    assert [c.id for c in client.origin_ca_certificates.list(zone_id=ZONE_ID)] == [issued.id]
    assert client.origin_ca_certificates.delete(issued.id).revoked_at is not None
    assert list(client.origin_ca_certificates.list(zone_id=ZONE_ID)) == []


def test_sdk_sees_cloudflare_errors(cloudflare_lab):
    with pytest.raises(cloudflare.BadRequestError) as err:
        list(sdk(cloudflare_lab, token="x" * 40).zones.list())
    assert err.value.status_code == 400 and "9109" in str(err.value)
