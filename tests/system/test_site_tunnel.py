"""site.yml with `exposure_mode: tunnel` (issue 14 item 4): the NAS published through a Cloudflare Tunnel instead of
port forwarding. The run switches a NAS that port_forward mode had published (our forward, our A record) to the
tunnel: no forward left, each hostname a proxied CNAME to the tunnel, no A record, the published port closed to
all but the LAN; the rerun changes nothing.

The lab cannot run the connector (docs/lab-fidelity.md, "tunnel connector"), so nothing reaches the origin through
the tunnel and the edge answers 1033: the verify role (a visitor through Cloudflare) and the nginx play (its
checks go through Cloudflare) are left out of these runs."""

from __future__ import annotations

import base64
import json
import os
import stat

import requests

from ansible_collections.homelab.nas.plugins.module_utils.igd_client import IgdClient
from tests.lab.mock_cloudflare.seed import IPS, ZONE_ID

TUNNEL = {
    "exposure_mode": "tunnel",
    # Cloudflare's origin-pull certificate never reaches the origin through a tunnel (the plan refuses it).
    "tls_authenticated_origin_pulls": False,
    # No address to follow: the lab inventory's DDNS task is taken down (the plan refuses DDNS with a tunnel).
    "exposure_ddns": "none",
}


def published_by_port_forward_mode(cloudflare_lab, router_lab):
    """What an earlier port_forward run left: our forward of 443 and our proxied A record for photos."""
    args = cloudflare_lab.module_args()
    answer = requests.post(
        "%s/zones/%s/dns_records" % (args["api_base_url"], ZONE_ID),
        json={
            "type": "A",
            "name": "photos.example.test",
            "content": "100.128.77.2",
            "proxied": True,
            "comment": "homelab.nas: photos",
        },
        headers={"Authorization": "Bearer %s" % args["api_token"]},
        verify=args["ca_path"],
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    IgdClient(router_lab.igd_url).add_mapping(
        dict(
            external_port=443,
            protocol="tcp",
            internal_port=443,
            internal_client="127.0.0.1",
            description="homelab.nas: https 443",
            lease_duration=0,
        )
    )


def test_tunnel_mode_converges_without_forwards_or_a_records_then_changes_nothing(
    site, dsm_lab, router_lab, cloudflare_lab, tmp_path
):
    published_by_port_forward_mode(cloudflare_lab, router_lab)
    token_path = tmp_path / "tunnel.token"
    variables = dict(TUNNEL, exposure_tunnel_token_path=str(token_path))
    first = site("--skip-tags", "verify,nginx_patches", **variables)
    assert first.returncode == 0 and "failed=0" in first.stdout, first.stdout[-4000:]

    assert router_lab.state()["mappings"] == []
    (tunnel,) = cloudflare_lab.state()["tunnels"].values()
    target = tunnel["id"] + ".cfargotunnel.com"
    records = sorted(
        (r["type"], r["name"], r["content"], r["proxied"])
        for r in cloudflare_lab.state()["dns_records"][ZONE_ID].values()
    )
    assert records == [
        ("CNAME", "media.example.test", target, True),
        ("CNAME", "photos.example.test", target, True),
    ]
    ingress = tunnel["configuration"]["config"]["ingress"]
    assert [(r.get("hostname"), r["service"]) for r in ingress] == [
        ("photos.example.test", "https://localhost:443"),
        ("media.example.test", "https://localhost:443"),
        (None, "http_status:404"),
    ]
    # The firewall: 443 from the LAN, no Cloudflare range anywhere (the connector dials out from the NAS).
    rules = dsm_lab.state()["firewall"]["profiles"]["default"]["global"]["rules"]
    sources = json.dumps(rules)
    assert dsm_lab.state()["firewall"]["enable_firewall"] and "127.0.0.0" in sources
    assert not any(network in sources for network in IPS["ipv4_cidrs"] + IPS["ipv6_cidrs"]), rules
    # The connector's token, 0600, for this tunnel.
    assert stat.S_IMODE(os.stat(token_path).st_mode) == 0o600
    assert json.loads(base64.b64decode(token_path.read_text()))["t"] == tunnel["id"]
    assert token_path.read_text().strip() not in first.stdout
    # The edge sends the name to the tunnel, whose connector is not running here: Cloudflare's 1033.
    info = cloudflare_lab.info
    edge = requests.get(
        "http://%s:%d/" % (info["host"], info["edge_http_port"]), headers={"Host": "photos.example.test"}, timeout=10
    )
    assert edge.status_code == 530 and "1033" in edge.text

    second = site("--skip-tags", "verify,nginx_patches", **variables)
    assert second.returncode == 0 and " changed=0 " in second.stdout, second.stdout[-4000:]


def test_the_role_alone_behind_cgnat_stops_before_any_write_naming_the_tunnel(
    site, dsm_lab, router_lab, cloudflare_lab
):
    """Outside site.yml (no planning step) the exposure role probes the router itself, before its first write."""
    router_lab.configure(external_ip="100.64.77.2")
    rules = dsm_lab.state()["reverse_proxy"]
    run = site(playbook="tests/system/playbooks/exposure_alone.yml")
    assert run.returncode != 0 and "set exposure_mode: tunnel" in run.stdout, run.stdout[-3000:]
    assert dsm_lab.state()["reverse_proxy"] == rules and router_lab.state()["mappings"] == []
    assert cloudflare_lab.state()["dns_records"] == {}
