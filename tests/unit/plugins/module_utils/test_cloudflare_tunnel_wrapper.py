"""cloudflare_tunnel (CloudflareTunnels) against the mock API: find, create (and a name another controller took),
the remote configuration, the connector token, delete, and Cloudflare's refusals."""

from __future__ import annotations

import pytest

from ansible_collections.homelab.nas.plugins.module_utils import cloudflare_tunnel as ct
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_client import CloudflareClient, CloudflareError
from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabInputError
from tests.lab.mock_cloudflare.seed import ACCOUNT, DNS_ONLY_TOKEN, ZONE_ID

CONFIG = {
    "ingress": [
        {"hostname": "photos.example.test", "service": "https://192.168.1.10:5001"},
        {"service": "http_status:404"},
    ]
}


@pytest.fixture
def tunnels(cf_client):
    return ct.CloudflareTunnels(cf_client, cf_client.zone_account_id(ZONE_ID))


def stored(lab):
    return lab.state()["tunnels"]


def test_a_tunnel_is_created_found_configured_and_deleted(tunnels, cloudflare_lab):
    assert tunnels.find("homelab") is None
    created = tunnels.create("homelab")
    held = stored(cloudflare_lab)[created["id"]]
    assert held["name"] == "homelab" and held["remote_config"] is True and held["account_tag"] == ACCOUNT["id"]
    assert tunnels.find("homelab")["id"] == created["id"] and tunnels.exists(created["id"]) is True

    assert tunnels.configuration(created["id"]) == {}
    tunnels.put_configuration(created["id"], CONFIG)
    assert stored(cloudflare_lab)[created["id"]]["configuration"]["config"] == CONFIG
    assert tunnels.configuration(created["id"]) == CONFIG

    token = ct.parse_token(tunnels.token(created["id"]))
    assert (token["a"], token["t"], token["s"]) == (ACCOUNT["id"], created["id"], held["secret"])

    tunnels.delete(created["id"])
    assert stored(cloudflare_lab)[created["id"]]["deleted_at"] is not None
    assert tunnels.exists(created["id"]) is False and tunnels.find("homelab") is None
    again = tunnels.create("homelab")
    assert again["id"] != created["id"], "a deleted tunnel's name is free again"


def test_a_name_taken_since_the_list_is_that_tunnel_not_a_second(tunnels, cloudflare_lab):
    first = tunnels.create("homelab")
    assert tunnels.create("homelab")["id"] == first["id"]
    assert [t["name"] for t in stored(cloudflare_lab).values()] == ["homelab"]


def test_cloudflare_refuses_a_configuration_without_a_catch_all_and_nothing_changes(tunnels, cloudflare_lab):
    tunnel_id = tunnels.create("homelab")["id"]
    tunnels.put_configuration(tunnel_id, CONFIG)
    with pytest.raises(CloudflareError) as err:
        tunnels.put_configuration(tunnel_id, {"ingress": CONFIG["ingress"][:1]})
    assert err.value.status == 400 and 1055 in err.value.codes and "last ingress rule" in str(err.value)
    assert err.value.method == "PUT" and err.value.api.endswith("/%s/configurations" % tunnel_id)
    assert stored(cloudflare_lab)[tunnel_id]["configuration"]["config"] == CONFIG
    assert tunnels.exists("00000000-0000-4000-8000-000000000000") is False, "an unknown id is a 404, not a failure"


def test_a_token_without_the_tunnel_permission_is_refused(cloudflare_lab):
    client = CloudflareClient(
        DNS_ONLY_TOKEN, base_url=cloudflare_lab.api_base_url, ca_path=cloudflare_lab.ca_path, backoff_factor=0
    )
    try:
        with pytest.raises(CloudflareError) as err:
            ct.CloudflareTunnels(client, ACCOUNT["id"]).create("homelab")
        assert err.value.status == 403 and 10000 in err.value.codes and "check api_token" in str(err.value)
    finally:
        client.close()
    assert stored(cloudflare_lab) == {}


@pytest.mark.parametrize(
    "value, message",
    [
        ("http://nas.lan:70000", "ingress[0].service: 70000 is not a port; use 1-65535"),
        ("tcp://192.168.1.10:0", "ingress[0].service: 0 is not a port; use 1-65535"),
        ("tcp://192.168.1.10", "ingress[0].service: 'tcp://192.168.1.10' needs a port (tcp://host:port)"),
    ],
)
def test_a_service_port_is_checked_by_the_shared_port_rule(value, message):
    with pytest.raises(HomelabInputError) as err:
        ct.service("ingress[0].service", value)
    assert str(err.value) == message
    assert ct.service("ingress[0].service", "https://192.168.1.10:5001/") == "https://192.168.1.10:5001"
