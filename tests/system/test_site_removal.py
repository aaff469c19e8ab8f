"""Removing a service with site.yml: taken out of nas_services or given `state: absent`, it loses its DNS record,
its port forward (unless another service still uses the port) and its reverse proxy rule in one run; what was
made by hand (no `homelab.nas:` mark) is left alone, and the rerun changes nothing."""

from __future__ import annotations

import requests

from ansible_collections.homelab.nas.plugins.module_utils.igd_client import IgdClient
from tests.lab.mock_cloudflare.seed import ZONE_ID

PHOTOS = {"name": "photos", "hostname": "photos.example.test", "backend_port": 8080}
MEDIA = {"name": "media", "hostname": "media.example.test", "backend_port": 8096, "external_port": 8443}
DOCS = {"name": "docs", "hostname": "docs.example.test", "backend_port": 8000}


def dns(cloudflare_lab):
    return {r["name"]: r.get("comment") for r in cloudflare_lab.state()["dns_records"].get(ZONE_ID, {}).values()}


def rules(dsm_lab):
    return {e["frontend"]["fqdn"]: e["description"] for e in dsm_lab.state()["reverse_proxy"].values()}


def forwards(router_lab):
    return {m["NewExternalPort"]: m["NewPortMappingDescription"] for m in router_lab.state()["mappings"]}


def leaseless(router_lab):
    """The router's mappings without their remaining lease, which ticks on its own."""
    return [{k: v for k, v in m.items() if k != "NewLeaseDuration"} for m in router_lab.state()["mappings"]]


def made_by_hand(cloudflare_lab, router_lab):
    """What a person made in Cloudflare's dashboard and on the router (the DSM seed has the rule `nas`)."""
    args = cloudflare_lab.module_args()
    answer = requests.post(
        "%s/zones/%s/dns_records" % (args["api_base_url"], ZONE_ID),
        json={"type": "A", "name": "mail.example.test", "content": "100.128.77.9", "proxied": False, "ttl": 300},
        headers={"Authorization": "Bearer %s" % args["api_token"]},
        verify=args["ca_path"],
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    IgdClient(router_lab.igd_url).add_mapping(
        dict(
            external_port=8080,
            protocol="tcp",
            internal_port=80,
            internal_client="127.0.0.1",
            description="camera",
            lease_duration=0,
        )
    )


def test_removed_and_absent_services_lose_what_was_published_and_nothing_else(
    site, dsm_lab, router_lab, cloudflare_lab
):
    made_by_hand(cloudflare_lab, router_lab)
    first = site(nas_services=[PHOTOS, MEDIA, DOCS])
    assert first.returncode == 0, first.stdout[-3000:]
    assert dns(cloudflare_lab) == {
        "mail.example.test": None,
        "photos.example.test": "homelab.nas: photos",
        "media.example.test": "homelab.nas: media",
        "docs.example.test": "homelab.nas: docs",
    }
    assert forwards(router_lab) == {443: "homelab.nas: https 443", 8443: "homelab.nas: https 8443", 8080: "camera"}
    # The seeded photos rule was taken over (matched by its frontend); the seeded nas rule is someone else's.
    assert rules(dsm_lab) == {
        "nas.example.test": "nas",
        "photos.example.test": "homelab.nas: photos",
        "media.example.test": "homelab.nas: media",
        "docs.example.test": "homelab.nas: docs",
    }

    # media taken out of the list, docs declared absent (only its name).
    after = [PHOTOS, {"name": "docs", "state": "absent"}]
    before_check = (dsm_lab.state()["reverse_proxy"], leaseless(router_lab), cloudflare_lab.state())
    check = site("--check", "--diff", nas_services=after)
    assert check.returncode == 0, check.stdout[-3000:]
    assert '"A media.example.test"' in check.stdout and '"homelab.nas: docs"' in check.stdout
    assert (dsm_lab.state()["reverse_proxy"], leaseless(router_lab), cloudflare_lab.state()) == before_check

    second = site(nas_services=after)
    assert second.returncode == 0, second.stdout[-3000:]
    assert dns(cloudflare_lab) == {"mail.example.test": None, "photos.example.test": "homelab.nas: photos"}
    # 443 still serves photos; 8443 was media's only.
    assert forwards(router_lab) == {443: "homelab.nas: https 443", 8080: "camera"}
    assert rules(dsm_lab) == {"nas.example.test": "nas", "photos.example.test": "homelab.nas: photos"}
    # The order: the DNS record went before the port forward, and the forward before the reverse proxy rule.
    order = [second.stdout.index("TASK [homelab.nas.exposure : %s" % name) for name in ORDER]
    assert order == sorted(order)

    third = site(nas_services=after)
    assert third.returncode == 0 and " changed=0 " in third.stdout, third.stdout[-3000:]


ORDER = (
    "Proxied DNS records, and none left for removed services",
    "Remove the port forwards no published service needs",
    "Remove the reverse proxy rules of removed services",
)
