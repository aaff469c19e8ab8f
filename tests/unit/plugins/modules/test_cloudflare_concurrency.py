"""Cloudflare modules run at once (issue 12 item 4): the zone's lock around list and create, duplicates made by
another controller merged when they carry our mark and never deleted when they do not, and the Origin key's lock."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.nas.plugins.module_utils import file_lock
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_client import CloudflareClient
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_dns import CloudflareDns
from ansible_collections.homelab.nas.plugins.modules import (
    cloudflare_dns_record,
    cloudflare_dns_records,
    cloudflare_origin_certificate,
)
from tests.lab.mock_cloudflare.seed import LAB_TOKEN, ZONE_ID
from tests.unit.plugins.modules.runner import run_module


@pytest.fixture
def run(cloudflare_lab, capsys):
    def _run(module, check_mode=False, diff=True, **args):
        return run_module(module, cloudflare_lab.module_args(**args), capsys, check_mode=check_mode, diff=diff)

    return _run


@pytest.fixture
def make(cloudflare_lab):
    """A record made straight through the API, as another controller (or a person) would."""
    client = CloudflareClient(LAB_TOKEN, base_url=cloudflare_lab.api_base_url, ca_path=cloudflare_lab.ca_path)

    def _make(name, content, comment=None):
        body = dict(type="A", name=name, content=content, proxied=True, ttl=1, comment=comment)
        return client.request("POST", "/zones/%s/dns_records" % ZONE_ID, body=body)["result"]["id"]

    yield _make
    client.close()


def zone(lab):
    return sorted(
        (r["name"], r["content"], r.get("comment")) for r in lab.state()["dns_records"].get(ZONE_ID, {}).values()
    )


def writes(lab):
    return [c["api"] for c in lab.calls() if c["api"] in ("POST", "PUT", "PATCH", "DELETE")]


PHOTOS = dict(name="photos", content="100.128.77.2", port=443)


def test_marked_duplicates_from_two_controllers_become_one_record(run, make, cloudflare_lab):
    # Two first runs at once on two controllers, one of them with an older address: two records of one name.
    kept = make("photos.example.test", "100.128.77.2", "homelab.nas: photos")
    extra = make("photos.example.test", "100.128.77.9", "homelab.nas: photos")
    planned = run(cloudflare_dns_records, check_mode=True, records=[PHOTOS], exclusive=True)
    assert planned["changed"] is True and planned["duplicates"] == ["A photos.example.test %s" % extra]
    assert len(zone(cloudflare_lab)) == 2
    cloudflare_lab.clear_log()
    done = run(cloudflare_dns_records, records=[PHOTOS], exclusive=True)
    assert done["changed"] is True and done["duplicates"] == ["A photos.example.test %s" % extra]
    assert done["records"][0]["id"] == kept  # the one already as declared
    assert writes(cloudflare_lab) == ["DELETE"]
    assert zone(cloudflare_lab) == [("photos.example.test", "100.128.77.2", "homelab.nas: photos")]
    again = run(cloudflare_dns_records, records=[PHOTOS], exclusive=True)
    assert again["changed"] is False and again["duplicates"] == []


def test_a_duplicate_without_our_mark_is_never_deleted(run, make, cloudflare_lab):
    make("photos.example.test", "100.128.77.2", "homelab.nas: photos")
    make("photos.example.test", "100.128.77.9", "made by hand")
    before = cloudflare_lab.state()
    failed = run(cloudflare_dns_records, records=[PHOTOS], exclusive=True)
    assert failed.get("failed") is True
    assert (
        "2 A records are named photos.example.test and 1 of them do not carry the mark 'homelab.nas:'"
        in (failed["msg"])
    )
    assert "delete the extra records in Cloudflare" in failed["msg"]
    assert cloudflare_lab.state() == before


def test_one_record_module_merges_its_marked_duplicates_and_refuses_unmarked_ones(run, make, cloudflare_lab):
    args = dict(name="nas", content="100.128.77.2", comment_prefix="homelab.nas")
    first = make("nas.example.test", "100.128.77.9", "homelab.nas: nas")
    second = make("nas.example.test", "100.128.77.8", "homelab.nas: nas")
    done = run(cloudflare_dns_record, **args)
    # None as declared: the lower id is kept (overwritten), whatever the list's order, so that two controllers
    # merging at once keep the same one.
    kept, extra = sorted([first, second])
    assert done["changed"] is True and done["duplicates"] == ["A nas.example.test %s" % extra]
    assert done["record"]["id"] == kept
    assert zone(cloudflare_lab) == [("nas.example.test", "100.128.77.2", "homelab.nas: nas")]
    assert run(cloudflare_dns_record, **args)["changed"] is False
    # Without comment_prefix nothing is ours: several records stop the task, as before.
    make("nas.example.test", "100.128.77.7")
    before = cloudflare_lab.state()
    failed = run(cloudflare_dns_record, name="nas", content="100.128.77.2")
    assert failed.get("failed") is True and "set comment_prefix" in failed["msg"]
    assert cloudflare_lab.state() == before


def test_a_create_refused_as_identical_takes_over_the_record_made_meanwhile(run, make, cloudflare_lab, monkeypatch):
    # Another controller creates the record between this task's list and its create: Cloudflare answers 81058.
    other = make("photos.example.test", "100.128.77.2", "homelab.nas: photos")
    monkeypatch.setattr(CloudflareDns, "records", lambda self, types=(): [])
    done = run(cloudflare_dns_records, records=[PHOTOS])
    assert done["changed"] is True and "failed" not in done, done
    assert done["records"][0]["id"] == other
    assert writes(cloudflare_lab) == ["POST", "POST"]  # the other controller's, then this task's refused one
    assert len(zone(cloudflare_lab)) == 1


def test_the_zone_lock_makes_a_second_task_wait(run, cloudflare_lab, monkeypatch):
    monkeypatch.setattr(file_lock, "LOCK_TIMEOUT", 0.3)
    lock = file_lock.named_lock("cloudflare-zone", cloudflare_lab.api_base_url, ZONE_ID)
    with file_lock.locked(lock):  # another task of this controller is between its list and its create
        for module, args in [
            (cloudflare_dns_records, dict(records=[PHOTOS])),
            (cloudflare_dns_record, dict(name="nas", content="100.128.77.2")),
        ]:
            failed = run(module, **args)
            assert failed.get("failed") is True and lock in failed["msg"], failed
            assert "Cloudflare zone example.test" in failed["msg"]
        # Check mode writes nothing and takes no lock.
        assert run(cloudflare_dns_records, check_mode=True, records=[PHOTOS])["changed"] is True
    assert zone(cloudflare_lab) == []
    assert run(cloudflare_dns_records, records=[PHOTOS])["changed"] is True


def test_the_origin_key_lock_makes_a_second_task_wait(run, cloudflare_lab, tmp_path, monkeypatch):
    monkeypatch.setattr(file_lock, "LOCK_TIMEOUT", 0.3)
    key_path = str(tmp_path / "origin.key")
    args = dict(
        hostnames=["example.test"], private_key_path=key_path, origin_ca_root_url=cloudflare_lab.origin_ca_root_url
    )
    with file_lock.locked(file_lock.sibling_lock(key_path)):
        failed = run(cloudflare_origin_certificate, **args)
        assert failed.get("failed") is True and ".origin.key.lock" in failed["msg"], failed
        assert not (tmp_path / "origin.key").exists()
        assert cloudflare_lab.state()["certificates"] == {}
    issued = run(cloudflare_origin_certificate, **args)
    assert issued["changed"] is True and (tmp_path / "origin.key").exists()
