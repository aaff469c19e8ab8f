"""Authenticated Origin Pulls switched in one run, in Cloudflare's documented order, with no outage: while
site.yml moves them on or off, a client polling through the lab's Cloudflare edge never gets an error, and
once they are on a client straight to the origin without Cloudflare's certificate never gets an answer."""

from __future__ import annotations

import time

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes

from tests.lab.dsm_nginx import tree
from tests.lab.mock_cloudflare.seed import ZONE_ID
from tests.utils.edge_poller import HOSTS, Poller, through_edge

STEP_TASKS = ("SYNO.Core.TaskScheduler.Root", "SYNO.Core.EventScheduler.Root")


def cloudflare_aop(cloudflare_lab):
    return cloudflare_lab.state()["settings"][ZONE_ID]["tls_client_auth"]["value"]


def verify_client(lab_origin):
    with open(tree.server_file(lab_origin), encoding="utf-8") as handle:
        patched = "include" in handle.read()
    with open("%s/etc/nginx/homelab-nas/server.conf" % lab_origin, encoding="utf-8") as handle:
        return patched and next(line.split()[1].rstrip(";") for line in handle if "ssl_verify_client" in line)


@pytest.fixture
def poll(cloudflare_lab, lab_origin):
    pollers = []

    def _start():
        poller = Poller(cloudflare_lab.info, lab_origin)
        poller.start()
        pollers.append(poller)
        return poller

    yield _start
    for poller in pollers:
        poller.done.set()


def test_on_then_off_each_in_one_run_without_an_error_then_a_wrong_ca_caught(
    site, dsm_lab, cloudflare_lab, lab_origin, poll, tmp_path
):
    first = site(tls_authenticated_origin_pulls=False)
    assert first.returncode == 0, first.stdout[-3000:]
    assert cloudflare_aop(cloudflare_lab) == "off" and verify_client(lab_origin) == "off"

    poller = poll()
    on = site()
    assert on.returncode == 0, on.stdout[-3000:]
    turned_on = time.monotonic()
    time.sleep(0.5)
    assert cloudflare_aop(cloudflare_lab) == "on" and verify_client(lab_origin) == "on"
    # The steps ran in order, each checked. (A rerun runs only the last one: test_site's second run is
    # changed=0 with them on, so nginx's tasks are not rewritten to "optional" and back.)
    steps = (
        "TASK [homelab.nas.nginx_patches : Step 1 - nginx",
        "Step 1 checked",
        "Step 2 - Cloudflare",
        "Step 2 checked",
    )
    order = [
        on.stdout.index(step) for step in steps + ("Step 3, or the only one when Cloudflare's side stays - nginx on",)
    ]
    assert order == sorted(order)

    before_off = time.monotonic()
    off = site(tls_authenticated_origin_pulls=False)
    assert off.returncode == 0, off.stdout[-3000:]
    poller.stop()
    assert cloudflare_aop(cloudflare_lab) == "off" and verify_client(lab_origin) == "off"
    order = [
        off.stdout.index(step) for step in steps + ("Step 3, or the only one when Cloudflare's side stays - nginx off",)
    ]
    assert order == sorted(order)
    assert len(poller.visitor) > 100 and not [seen for seen in poller.visitor if seen[2] not in range(200, 400)]
    while_on = [seen for seen in poller.attacker if turned_on < seen[0] < before_off]
    assert while_on and not [seen for seen in while_on if seen[2] == 200]

    # A CA that did not issue Cloudflare's client certificate is refused by its fingerprint before anything
    # changes (site.yml's pre_tasks; the lab's inventory pins the lab's origin-pull CA).
    wrong = tmp_path / "wrong-ca.pem"
    with open("%s/server-ca.pem" % lab_origin, encoding="utf-8") as handle:
        wrong.write_text(handle.read())
    tasks_before = dsm_lab.state()["tasks"]
    refused = site(nginx_patches_client_ca=str(wrong))
    assert refused.returncode != 0
    assert "is not in nginx_patches_client_ca_sha256" in refused.stdout, refused.stdout[-3000:]
    assert refused.stdout.index("pinned fingerprints") < refused.stdout.index("PLAY RECAP")
    assert "homelab.nas.hardening" not in refused.stdout
    assert dsm_lab.state()["tasks"] == tasks_before and cloudflare_aop(cloudflare_lab) == "off"

    # Pinned as one's own CA, it gets as far as nginx: nginx refuses Cloudflare once it presents its certificate,
    # which the check after step 2 sees; Cloudflare's side goes back and nginx only asks, so visitors get through.
    pin = x509.load_pem_x509_certificate(wrong.read_bytes()).fingerprint(hashes.SHA256()).hex(":")
    run = site(
        nginx_patches_client_ca=str(wrong),
        nginx_patches_client_ca_sha256=[pin],
        nginx_patches_probe_retries=1,
        nginx_patches_probe_delay=1,
    )
    assert run.returncode != 0
    assert "Cloudflare's setting was put back" in run.stdout and "HTTP 400" in run.stdout, run.stdout[-3000:]
    assert cloudflare_aop(cloudflare_lab) == "off" and verify_client(lab_origin) == "optional"
    assert {through_edge(cloudflare_lab.info, host) for host in HOSTS} == {200}
