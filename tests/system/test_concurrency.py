"""Concurrent runs against one lab (issue 12 item 4): two site.yml runs at once, and one run with 20 forks over 20
inventory hosts, end converged, with no duplicate DNS record and no broken controller file."""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from tests.lab.dsm_nginx import tree
from tests.lab.mock_cloudflare.seed import ZONE_ID

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, "tests", "output", "collections")


def start(log, *args, env=None):
    """ansible-playbook in the background (runs must overlap), its output to the file `log`: a pipe nobody reads
    while waiting for the other run would stall this one, possibly holding a lock the other waits for."""
    environment = dict(
        os.environ,
        ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_LOCALHOST_WARNING="false",
        ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
    )
    environment.update(env or {})
    with open(log, "w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), *args],
            stdout=out,
            stderr=subprocess.STDOUT,
            text=True,
            cwd=ROOT,
            env=environment,
        )
    return proc, log


def finish(started):
    proc, log = started
    proc.wait(timeout=900)
    with open(log, encoding="utf-8") as handle:
        return proc.returncode, handle.read()


def whole_json_files(directory):
    """Every file the session cache holds parses as the JSON object it was written as (no torn write)."""
    files = glob.glob(os.path.join(directory, "*.json"))
    for path in files:
        with open(path, encoding="utf-8") as handle:
            assert isinstance(json.load(handle), dict), path
        assert os.stat(path).st_mode & 0o077 == 0, path
    assert not glob.glob(os.path.join(directory, ".tmp-*")), "a temporary file was left behind"
    return files


def records_by_name(cloudflare_lab):
    names = {}
    for record in cloudflare_lab.state()["dns_records"].get(ZONE_ID, {}).values():
        names.setdefault((record["type"], record["name"]), []).append(record)
    return names


def test_two_site_runs_at_once_end_converged(dsm_lab, router_lab, cloudflare_lab, lab_origin, tmp_path):
    dsm_lab.configure(task_root=lab_origin, nginx_root=lab_origin)
    with open(tmp_path / "lab.json", "w", encoding="utf-8") as out:
        json.dump({"dsm": dsm_lab.info, "router": router_lab.info, "cloudflare": cloudflare_lab.info}, out)
    variables = json.dumps(
        {
            "lab_dir": str(tmp_path),
            "hardening_lan_networks": ["127.0.0.0/8"],
            "hardening_lan_ports": [str(dsm_lab.https_port)],
        }
    )
    args = ("-i", "playbooks/inventory/lab", "playbooks/site.yml", "-e", variables)
    env = {"HOMELAB_NAS_LOCK_DIR": str(tmp_path / "locks")}
    both = [start(tmp_path / "first.log", *args, env=env), start(tmp_path / "second.log", *args, env=env)]
    runs = [finish(started) for started in both]
    for code, out in runs:
        assert code == 0, out[-4000:]

    # One record per name, as declared.
    names = records_by_name(cloudflare_lab)
    assert sorted(names) == [("A", "media.example.test"), ("A", "photos.example.test")], names
    assert all(len(found) == 1 for found in names.values()), names
    # One certificate of that description on DSM, one reverse proxy rule per hostname.
    assert [c["desc"] for c in dsm_lab.state()["certificates"].values()].count("homelab.nas") == 1
    hostnames = sorted(e["frontend"]["fqdn"] for e in dsm_lab.state()["reverse_proxy"].values())
    assert len(hostnames) == len(set(hostnames)), hostnames
    # The controller's files are whole: the session cache, and the Origin key is the one DSM's certificate holds.
    whole_json_files(str(tmp_path / "session-cache"))
    assert not glob.glob(str(tmp_path / ".tmp-*")), "a temporary file was left beside the key"
    with open(tmp_path / "origin.key", "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    origin = next(c for c in dsm_lab.state()["certificates"].values() if c["desc"] == "homelab.nas")
    cert = x509.load_pem_x509_certificate(origin["cert_pem"].encode())
    assert cert.public_key().public_numbers() == key.public_key().public_numbers()
    # DSM's nginx, patched by both runs' Task Scheduler tasks, passes nginx -t.
    checked = tree.nginx(lab_origin, "-t")
    assert checked.returncode == 0, checked.stderr

    # The zone's lock was taken where HOMELAB_NAS_LOCK_DIR says.
    assert glob.glob(str(tmp_path / "locks" / "*.lock"))

    # Converged: a third run changes nothing.
    code, out = finish(start(tmp_path / "third.log", *args, env=env))
    assert code == 0 and " changed=0 " in out, out[-4000:]


def test_twenty_forks_over_twenty_hosts_share_the_controller_files(dsm_lab, cloudflare_lab, tmp_path):
    """20 hosts at once on one DSM account, one Origin key file and one DNS record: every task succeeds, every host
    got the certificate of the one key on disk, and the zone holds the record once."""
    with open(tmp_path / "lab.json", "w", encoding="utf-8") as out:
        json.dump({"dsm": dsm_lab.info, "cloudflare": cloudflare_lab.info}, out)
    hosts = {"nas%02d" % number: {"ansible_connection": "local"} for number in range(1, 21)}
    inventory = tmp_path / "inventory.json"
    inventory.write_text(json.dumps({"all": {"children": {"nas": {"hosts": hosts}}}}))
    (tmp_path / "issued").mkdir()
    variables = json.dumps({"lab_dir": str(tmp_path), "lab": {"dsm": dsm_lab.info, "cloudflare": cloudflare_lab.info}})
    code, out = finish(
        start(
            tmp_path / "run.log",
            "-i",
            str(inventory),
            "--forks",
            "20",
            "tests/system/playbooks/concurrency.yml",
            "-e",
            variables,
            env={"HOMELAB_NAS_LOCK_DIR": str(tmp_path / "locks")},
        )
    )
    assert code == 0, out[-4000:]
    assert out.count(" failed=0 ") == 20, out[-4000:]

    names = records_by_name(cloudflare_lab)
    assert [len(found) for found in names.values()] == [1], names
    with open(tmp_path / "origin.key", "rb") as handle:
        key = serialization.load_pem_private_key(handle.read(), password=None)
    issued = sorted(glob.glob(str(tmp_path / "issued" / "*.pem")))
    assert len(issued) == 20
    for path in issued:
        with open(path, "rb") as handle:
            cert = x509.load_pem_x509_certificate(handle.read())
        assert cert.public_key().public_numbers() == key.public_key().public_numbers(), path
    # One certificate issued, the other 19 hosts reused it.
    live = [c for c in cloudflare_lab.state()["certificates"].values() if not c.get("revoked_at")]
    assert len(live) == 1, live
    # Every host logged out: the cache holds no session, and what it holds is whole.
    files = whole_json_files(str(tmp_path / "session-cache"))
    assert not [f for f in files if f.endswith(".session.json")], files
