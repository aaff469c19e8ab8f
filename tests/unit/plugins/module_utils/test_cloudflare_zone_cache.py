"""The Cloudflare modules keep a zone's id between tasks (cloudflare_zone_cache.py): the second task asks Cloudflare
for the zone no more, the file holds no token, and an id Cloudflare no longer knows is looked up again before any
write."""

from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_zone_cache import ENV_DIR, ZoneIds
from ansible_collections.homelab.nas.plugins.modules import cloudflare_dns_records, cloudflare_zone_settings
from tests.lab.mock_cloudflare.seed import LAB_TOKEN, ZONE_ID
from tests.unit.plugins.modules.runner import run_module

RECORDS = [{"type": "A", "name": "photos", "content": "100.128.77.2", "proxied": True}]


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    directory = tmp_path / "cloudflare-cache"
    monkeypatch.setenv(ENV_DIR, str(directory))
    return directory


@pytest.fixture
def run(cloudflare_lab, capsys, cache_dir):
    def _run(module, **args):
        result = run_module(module, cloudflare_lab.module_args(**args), capsys)
        assert result.get("failed") is not True, result
        return result

    return _run


def zone_lookups(lab):
    return lab.calls("GET", "/zones")


def test_the_next_task_takes_the_zone_id_from_the_cache(run, cloudflare_lab, cache_dir):
    run(cloudflare_zone_settings, settings={"ssl": "strict"})
    assert len(zone_lookups(cloudflare_lab)) == 1
    cloudflare_lab.clear_log()
    run(cloudflare_dns_records, records=RECORDS)
    run(cloudflare_zone_settings, settings={"ssl": "strict"})
    assert zone_lookups(cloudflare_lab) == []
    (entry,) = list(cache_dir.iterdir())
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) == 0o700 and stat.S_IMODE(entry.stat().st_mode) == 0o600
    assert ZONE_ID in entry.read_text() and LAB_TOKEN not in entry.read_text()


def test_another_token_looks_the_zone_up_itself(cloudflare_lab, cache_dir):
    ZoneIds(cloudflare_lab.api_base_url, "another-token").put("example.test", "0" * 32)
    assert ZoneIds(cloudflare_lab.api_base_url, LAB_TOKEN).get("example.test") is None
    assert ZoneIds(cloudflare_lab.api_base_url, "another-token").get("EXAMPLE.test.") == "0" * 32


def test_an_id_cloudflare_no_longer_knows_is_looked_up_again_before_any_write(run, cloudflare_lab):
    ZoneIds(cloudflare_lab.api_base_url, LAB_TOKEN).put("example.test", "f" * 32)  # a zone deleted and made again
    done = run(cloudflare_dns_records, records=RECORDS)
    assert done["changed"] is True
    assert [r["name"] for r in cloudflare_lab.state()["dns_records"][ZONE_ID].values()] == ["photos.example.test"]
    assert len(zone_lookups(cloudflare_lab)) == 1
    assert ZoneIds(cloudflare_lab.api_base_url, LAB_TOKEN).get("example.test") == ZONE_ID


def test_without_the_cache_every_task_looks_the_zone_up(run, cloudflare_lab, cache_dir):
    run(cloudflare_zone_settings, settings={"ssl": "strict"}, zone_cache=False)
    run(cloudflare_zone_settings, settings={"ssl": "strict"}, zone_cache=False)
    assert len(zone_lookups(cloudflare_lab)) == 2 and not cache_dir.exists()
