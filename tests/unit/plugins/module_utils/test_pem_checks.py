"""Local validation of certificate, key and chain, before DSM is contacted."""

from __future__ import annotations

import datetime

import pytest
from cryptography.hazmat.primitives import serialization

from ansible_collections.homelab.nas.plugins.module_utils import pem_checks
from tests.lab import pki

NOW = datetime.datetime.now(datetime.UTC)


@pytest.fixture(scope="module")
def test_pki():
    return pki.TestPki()


@pytest.fixture(scope="module")
def good(test_pki):
    cert, key = test_pki.leaf("example.test")
    return pki.pem(cert), pki.pem(key), pki.pem(test_pki.inter)


def test_valid_bundle_summarises_identity_without_key_material(good, test_pki):
    bundle = pem_checks.validate_bundle(*good)
    summary = bundle.summary()
    assert summary["subject"] == "example.test"
    assert summary["sans"] == ["example.test", "*.example.test"]
    assert summary["chain_fingerprints_sha256"] == [pem_checks.fingerprint(test_pki.inter)]
    assert "PRIVATE" not in repr(summary)
    assert bundle.warnings == []


def test_full_chain_in_certificate_is_split(good):
    cert, key, chain = good
    bundle = pem_checks.validate_bundle(cert + chain, key)
    assert len(bundle.chain) == 1


def test_garbage_pem_names_the_option():
    with pytest.raises(pem_checks.PemError, match="^certificate: no PEM certificate"):
        pem_checks.validate_bundle(b"-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----\n", b"")


def test_mismatched_key(good):
    other = pki.pem(pki.rsa_key())
    with pytest.raises(pem_checks.PemError, match="^private_key: does not match certificate"):
        pem_checks.validate_bundle(good[0], other, good[2])


def test_expired_certificate(test_pki):
    cert, key = test_pki.leaf("old.test", not_before=NOW - datetime.timedelta(days=100), days=10)
    with pytest.raises(pem_checks.PemError, match="^certificate: expired on"):
        pem_checks.validate_bundle(pki.pem(cert), pki.pem(key))


def test_expiring_soon_warns(test_pki):
    cert, key = test_pki.leaf("soon.test", days=10)
    bundle = pem_checks.validate_bundle(pki.pem(cert), pki.pem(key), pki.pem(test_pki.inter))
    assert any("expires on" in w for w in bundle.warnings)


def test_chain_in_wrong_order(good, test_pki):
    cert, key, chain = good
    with pytest.raises(pem_checks.PemError, match="^chain: certificate 1"):
        pem_checks.validate_bundle(cert, key, pki.pem(test_pki.root) + chain)


def test_unrelated_chain(good):
    other = pki.TestPki()
    with pytest.raises(pem_checks.PemError, match="did not issue"):
        pem_checks.validate_bundle(good[0], good[1], pki.pem(other.inter))


def test_small_rsa_key_is_refused(test_pki):
    cert, key = test_pki.leaf("weak.test", key=pki.rsa_key(1024))
    with pytest.raises(pem_checks.PemError, match="at least 2048"):
        pem_checks.validate_bundle(pki.pem(cert), pki.pem(key))


def test_ecdsa_warns_about_dsm6(test_pki):
    cert, key = test_pki.leaf("ec.test", key=pki.ec_key())
    bundle = pem_checks.validate_bundle(pki.pem(cert), pki.pem(key), pki.pem(test_pki.inter))
    assert any("DSM 6 rejects ECDSA" in w for w in bundle.warnings)


def test_encrypted_key_needs_and_uses_the_passphrase(test_pki):
    cert, key = test_pki.leaf("enc.test")
    encrypted = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.BestAvailableEncryption(b"s3cret")
    )
    with pytest.raises(pem_checks.PemError, match="set private_key_passphrase"):
        pem_checks.validate_bundle(pki.pem(cert), encrypted)
    with pytest.raises(pem_checks.PemError, match="passphrase is wrong"):
        pem_checks.validate_bundle(pki.pem(cert), encrypted, passphrase="wrong")
    bundle = pem_checks.validate_bundle(pki.pem(cert), encrypted, passphrase="s3cret")
    # DSM cannot import encrypted keys: what is sent is the decrypted key.
    assert b"ENCRYPTED" not in bundle.key_pem


def test_read_pem_option_accepts_text_or_path(tmp_path, good):
    path = tmp_path / "c.pem"
    path.write_bytes(good[0])
    assert pem_checks.read_pem_option("certificate", str(path)) == good[0]
    assert pem_checks.read_pem_option("certificate", good[0].decode()) == good[0]
    with pytest.raises(pem_checks.PemError, match="^chain: neither PEM text"):
        pem_checks.read_pem_option("chain", str(tmp_path / "missing.pem"))
