"""The tls role with tls_certificate_source letsencrypt_dsm: DSM's own Let's Encrypt client asked once for the zone
and the published hostnames, the certificate made default and bound; the rerun asks nothing and changes nothing."""

from __future__ import annotations

import json

from ansible_collections.homelab.nas.plugins.module_utils.dsm_certificates import LETSENCRYPT_API
from tests.lab.mock_cloudflare.seed import LAB_TOKEN
from tests.lab.mock_dsm.seed import LAB_PASSWORD
from tests.system.test_playbook_runs import ansible


def test_the_tls_role_gets_a_certificate_from_dsms_own_client_once(tmp_path, dsm_lab, cloudflare_lab):
    lab = dict(
        dir=str(tmp_path),
        dsm_port=dsm_lab.https_port,
        dsm_password=LAB_PASSWORD,
        dsm_ca_path=dsm_lab.ca_path,
        cloudflare_token=LAB_TOKEN,
        cloudflare_url=cloudflare_lab.api_base_url,
        cloudflare_ca_path=cloudflare_lab.ca_path,
    )

    def play():
        run = ansible(
            "ansible-playbook", "-e", json.dumps({"lab": lab}), "tests/system/playbooks/tls_letsencrypt_dsm.yml"
        )
        assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
        return json.loads((tmp_path / "result.json").read_text())

    first = play()
    assert first["letsencrypt"]["requested"] is True and first["letsencrypt"]["changed"] is True, first
    assert first["letsencrypt"]["preconditions"]["public_address_from"] == "router"
    cert = first["dsm"]["certificate"]
    assert cert["description"] == "letsencrypt-dsm" and cert["default"] is True
    assert sorted(cert["sans"]) == ["example.test", "photos.example.test"] and cert["subject"] == "example.test"
    assert "DSM Desktop Service" in cert["services"] and "photos.example.test" in cert["services"]
    [entry] = [c for c in dsm_lab.state()["certificates"].values() if c.get("letsencrypt")]
    assert entry["letsencrypt"]["domains"] == ["example.test", "photos.example.test"] and entry["is_default"]

    again = play()
    assert again["letsencrypt"]["changed"] is False and again["letsencrypt"]["requested"] is False
    assert again["dsm"]["changed"] is False and again["dsm"]["certificate"]["id"] == cert["id"]
    assert len([c for c in dsm_lab.calls(api=LETSENCRYPT_API) if c["method"] == "create"]) == 1
