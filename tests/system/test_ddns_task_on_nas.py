"""Cloudflare DDNS on the NAS (exposure_ddns: cloudflare), run by the mock DSM's Task Scheduler for real.

The role installs the scheduled root task and runs it; the script asks the mock router (UPnP
GetExternalIPAddress) for the public address and the mock Cloudflare for the records, and PATCHes only what
differs. The token goes to a root-only file through a one-shot task deleted after its run; it must appear in no
playbook output (with --diff and -v), no task script or result DSM keeps, no log of the script or of the mocks.
Switching to synology (then none) takes the task and the token file down and leaves DSM's Synology record alone.
"""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys

import pytest
import requests

from ansible_collections.homelab.nas.plugins.module_utils.dsm_tasks import TaskStore
from tests.lab.mock_cloudflare.seed import LAB_TOKEN, ZONE_ID
from tests.lab.mock_dsm.seed import LAB_PASSWORD
from tests.utils.dsm_client import lab_session

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, "tests", "output", "collections")
RECORDS = "/zones/%s/dns_records" % ZONE_ID
TASK = "homelab.nas Cloudflare DDNS"


class Nas:
    def __init__(self, tmp_path, dsm_lab, router_lab, cloudflare_lab):
        self.root = str(tmp_path / "nas")
        self.dsm_lab, self.router_lab, self.cloudflare_lab = dsm_lab, router_lab, cloudflare_lab
        self.cache_dir = str(tmp_path / "cache")
        self.token_file = os.path.join(self.root, "usr/syno/etc/homelab-nas/cloudflare-ddns.token")
        self.log_file = os.path.join(self.root, "var/log/homelab-nas-ddns.log")
        self.http = requests.Session()
        self.http.verify = cloudflare_lab.ca_path
        self.http.trust_env = False
        self.http.headers["Authorization"] = "Bearer " + LAB_TOKEN
        dsm_lab.configure(task_root=self.root)

    def cloudflare(self, method, path, **kwargs):
        reply = self.http.request(method, self.cloudflare_lab.api_base_url + path, **kwargs)
        assert reply.ok, reply.text
        return reply.json()["result"]

    def record(self, name):
        (found,) = self.cloudflare("GET", RECORDS, params={"type": "A", "name": name})
        return found

    def role(self, *args, **overrides):
        variables = {
            "dsm": self.dsm_lab.client_args(session_cache_dir=self.cache_dir),
            "nas_zone": "example.test",
            "exposure_ddns": "cloudflare",
            "exposure_ddns_cloudflare_token": LAB_TOKEN,
            "exposure_ddns_hostnames": ["photos.example.test", "media.example.test"],
            "exposure_ddns_router_url": self.router_lab.igd_url,
            "exposure_ddns_cloudflare_api_url": self.cloudflare_lab.api_base_url,
            "exposure_ddns_cloudflare_ca_path": self.cloudflare_lab.ca_path,
            "exposure_ddns_token_file": self.token_file,
            "exposure_ddns_log_file": self.log_file,
            "exposure_ddns_python": sys.executable,
            "exposure_ddns_ipv6": False,  # the test machine's own IPv6 addresses are not the lab's
            "exposure_ddns_timeout": 5,
        }
        variables.update(overrides)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1")
        return subprocess.run(
            [
                os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                "tests/system/playbooks/nas_ddns.yml",
                "-e",
                json.dumps(variables),
                *args,
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=300,
            check=False,
        )

    def run_scheduled(self):
        """What DSM does every few minutes: the scheduled task runs, its result kept."""
        with lab_session(self.dsm_lab) as client:
            store = TaskStore(client, LAB_PASSWORD)
            return store.run(store.find("schedule", TASK, "root"), 60, poll=0.2)

    def synology_record(self):
        (found,) = [r for r in self.dsm_lab.state()["ddns"]["records"] if r["hostname"] == "labnas.synology.me"]
        return found

    def patches(self):
        return self.cloudflare_lab.calls(api="PATCH", method="/zones/:id/dns_records/:id")

    def log(self):
        with open(self.log_file, encoding="utf-8") as lines:
            return lines.read()


@pytest.fixture
def nas(tmp_path, dsm_lab, router_lab, cloudflare_lab):
    nas = Nas(tmp_path, dsm_lab, router_lab, cloudflare_lab)
    router_lab.configure(external_ip="100.128.77.2")
    for name, content in (("photos", "100.128.77.40"), ("media", "100.128.77.2")):
        nas.cloudflare(
            "POST",
            RECORDS,
            json={"type": "A", "name": name, "content": content, "proxied": True, "comment": "homelab.nas: " + name},
        )
    cloudflare_lab.clear_log()
    return nas


def recap(run):
    return run.stdout[-3000:] + run.stderr[-2000:]


def test_address_change_then_no_change_then_cgnat_refused_the_token_shown_nowhere_then_switched_off(nas):
    before = nas.record("photos.example.test")
    run = nas.role("--diff", "-v")
    assert run.returncode == 0 and "changed=0" not in run.stdout, recap(run)

    # One PATCH, for the record whose content differed; proxied, TTL and comment kept.
    assert len(nas.patches()) == 1
    after = nas.record("photos.example.test")
    assert after["content"] == "100.128.77.2"
    assert {k: after[k] for k in ("id", "proxied", "ttl", "comment")} == {
        k: before[k] for k in ("id", "proxied", "ttl", "comment")
    }
    assert nas.record("media.example.test")["content"] == "100.128.77.2"

    # The token: in its root-only file, and nowhere else.
    assert stat.S_IMODE(os.stat(nas.token_file).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(nas.token_file)).st_mode) == 0o700
    assert open(nas.token_file, encoding="ascii").read().strip() == LAB_TOKEN
    tasks = nas.dsm_lab.state()["tasks"]
    (scheduled,) = [t for t in tasks["scheduled"].values() if t["name"] == TASK]
    assert [t["name"] for t in tasks["scheduled"].values()] == [TASK]  # the one-shot token task is gone
    assert scheduled["owner"] == "root" and scheduled["schedule"]["repeat_min"] == 5
    last = tasks["results"]["scheduled:%d" % scheduled["id"]][0]
    assert last["exit_code"] == 0 and last["output"].startswith("changed: updated A photos.example.test 100.128.77.2")
    script = scheduled["extra"]["script"]
    linted = subprocess.run(
        ["shellcheck", "-s", "bash", "-"], input=script, capture_output=True, text=True, check=False
    )
    assert linted.returncode == 0, linted.stdout
    everywhere = [
        run.stdout,
        run.stderr,
        json.dumps(nas.dsm_lab.state()),
        json.dumps(nas.dsm_lab.calls()),
        json.dumps(nas.cloudflare_lab.calls()),
        nas.log(),
    ]
    assert all(LAB_TOKEN not in text for text in everywhere)

    # No change: no write, nothing reported changed.
    nas.cloudflare_lab.clear_log()
    again = nas.role()
    assert again.returncode == 0 and "changed=0" in again.stdout, recap(again)
    assert nas.patches() == []
    assert "unchanged: A photos.example.test, A media.example.test at 100.128.77.2" in nas.log()

    # The router's WAN address turns carrier-grade NAT: the scheduled run refuses, says why, writes nothing.
    nas.router_lab.configure(external_ip="100.64.12.34")
    outcome = nas.run_scheduled()
    assert outcome["exit_code"] == 2 and outcome["output"].startswith("refused: the router"), outcome
    assert nas.patches() == []
    assert nas.record("photos.example.test")["content"] == "100.128.77.2"
    assert nas.log().splitlines()[-1].split(" ", 1)[1] == outcome["output"].strip()

    # Switched to DSM's own DDNS: the task and the token file (its lock, its directory) go, the log stays and
    # says so, and the Synology record is enabled.
    tasks_before = [t["name"] for t in nas.dsm_lab.state()["tasks"]["scheduled"].values()]
    assert tasks_before == [TASK] and os.path.exists(nas.token_file)
    switched = nas.role(exposure_ddns="synology", exposure_ddns_synology_hostname="labnas.synology.me")
    assert switched.returncode == 0 and "changed=0" not in switched.stdout, recap(switched)
    state = nas.dsm_lab.state()
    assert state["tasks"]["scheduled"] == {}
    assert not os.path.exists(os.path.dirname(nas.token_file))
    assert nas.log().splitlines()[-1].split(" ", 1)[1].startswith("removed: " + nas.token_file)
    assert nas.synology_record()["enable"] is True

    # Then none: nothing left to remove, so no write to DSM at all, and the Synology record stays enabled.
    nas.dsm_lab.clear_log()
    off = nas.role(exposure_ddns="none")
    assert off.returncode == 0 and "changed=0" in off.stdout, recap(off)
    writes = [c for c in nas.dsm_lab.calls() if c["method"] not in ("list", "get", "query", "login", "logout", "info")]
    assert writes == [], writes
    assert nas.dsm_lab.state()["tasks"]["scheduled"] == {}
    assert nas.synology_record()["enable"] is True
