"""The whole sequence a user lives through, on the lab: a fresh DSM with its own self-signed certificate,
site.yml twice, a DSM update and a boot, an edit in DSM's UI. Throughout, a visitor polling through the lab's
Cloudflare edge never gets an error; once Authenticated Origin Pulls are on, a client straight to the NAS
without Cloudflare's certificate gets no answer, except between a DSM rewrite of its nginx files and the task
run that puts the patch back (the boot-up task, or the scheduled one within nginx_patches_every_minutes)."""

from __future__ import annotations

import hashlib
import os
import shutil
import ssl
import time
from contextlib import closing

from ansible_collections.homelab.nas.plugins.modules import dsm_certificate
from tests.lab.dsm_nginx import tree
from tests.lab.mock_dsm.seed import self_signed_default
from tests.unit.plugins.modules.runner import run_module
from tests.utils.dsm_client import lab_client
from tests.utils.edge_poller import Poller, straight_to_origin

RP = "SYNO.Core.AppPortal.ReverseProxy"


def served_fingerprint(dsm_lab):
    pem = ssl.get_server_certificate((dsm_lab.host, dsm_lab.https_port))
    return hashlib.sha256(ssl.PEM_cert_to_DER_cert(pem)).hexdigest()


def patched(root):
    with open(os.path.join(root, tree.SERVER_FILES["dsm7"]), encoding="utf-8") as handle:
        return "# homelab.nas" in handle.read()


def refused_directly(root, host="photos.example.test", within=10):
    """nginx reloads asynchronously: whether a direct client gets HTTP 400 within `within` seconds."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        if straight_to_origin(root, host) == 400:
            return True
        time.sleep(0.1)
    return False


def ui_client(dsm_lab):
    """DSM's UI, as a browser that accepted DSM's certificate."""
    return lab_client(dsm_lab, ca_path=None, tls_fingerprints=[served_fingerprint(dsm_lab)])


def test_a_fresh_nas_published_then_kept_through_an_update_and_a_ui_edit(
    site, dsm_lab, cloudflare_lab, lab_origin, tmp_path, capsys
):
    # A fresh DSM: its factory certificate ("synology", from its own self-signed CA) on DSM Desktop Service.
    cert, key, ca = self_signed_default()
    factory = dict(
        dsm_lab.client_args(session_cache_dir=str(tmp_path / "factory-cache")),
        description="synology",
        certificate=cert,
        private_key=key,
        chain=ca,
        default=True,
        services=["DSM Desktop Service"],
    )
    assert run_module(dsm_certificate, factory, capsys)["changed"] is True
    first_contact = served_fingerprint(dsm_lab)

    # Run 1: the first contact pins that certificate (docs/real-nas.md); nothing else about TLS is turned off.
    first = site(dsm_tls_fingerprints=[first_contact])
    assert first.returncode == 0, first.stdout[-4000:]
    assert served_fingerprint(dsm_lab) != first_contact  # DSM now presents the Origin CA certificate
    poller = Poller(cloudflare_lab.info, lab_origin)
    poller.start()
    origin_pulls_on = time.monotonic()

    # Run 2: certificates verified (the pin the tls role recorded), nothing to change.
    second = site(dsm_validate_certs=True)
    assert second.returncode == 0 and " changed=0 " in second.stdout, second.stdout[-4000:]

    # A DSM update: nginx's files regenerated and /usr/local emptied, then the boot-up task runs.
    update_started = time.monotonic()
    tree.regenerate(lab_origin)
    shutil.rmtree(os.path.join(lab_origin, "usr/local"), ignore_errors=True)
    assert tree.nginx(lab_origin, "-s", "reload").returncode == 0
    assert not patched(lab_origin)
    dsm_lab.configure(boot=True)
    assert patched(lab_origin) and refused_directly(lab_origin)
    update_done = time.monotonic()

    # An edit in DSM's UI: DSM rewrites its reverse-proxy file (the patch is gone) until the scheduled task runs.
    edit_started = time.monotonic()
    with closing(ui_client(dsm_lab)) as ui:
        entry = next(e for e in ui.read(RP, "list", 1)["entries"] if e["frontend"]["fqdn"] == "photos.example.test")
        entry["proxy_read_timeout"] = 120
        ui.write(RP, "update", 1, entry=entry)
    assert not patched(lab_origin)
    dsm_lab.configure(tick=True)
    assert patched(lab_origin) and refused_directly(lab_origin)
    edit_done = time.monotonic()
    time.sleep(1)
    poller.stop()

    assert len(poller.visitor) > 50
    assert not [seen for seen in poller.visitor if seen[2] not in range(200, 400)]
    rewritten = [(update_started, update_done), (edit_started, edit_done)]
    direct = [
        seen
        for seen in poller.attacker
        if seen[0] > origin_pulls_on and not any(start - 1 <= seen[0] <= end + 1 for start, end in rewritten)
    ]
    assert direct and not [seen for seen in direct if seen[2] == 200]
