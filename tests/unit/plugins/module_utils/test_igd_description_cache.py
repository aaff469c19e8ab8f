"""router_port_forward keeps the router's device description between tasks (igd_description_cache.py): a task
with the description cached asks the router nothing for it, and a cached control URL that no longer answers (404,
no connection, UPnP 401 Invalid Action) is noticed on the first call, before any write, and the description read
again."""

from __future__ import annotations

import os
import socket
import stat

import pytest

from ansible_collections.homelab.nas.plugins.module_utils import igd_client
from ansible_collections.homelab.nas.plugins.module_utils.igd_client import IgdClient
from ansible_collections.homelab.nas.plugins.module_utils.igd_description_cache import ENV_DIR, Descriptions
from ansible_collections.homelab.nas.plugins.modules import router_port_forward
from tests.unit.plugins.modules.runner import run_module

HTTPS = {"external_port": 443, "internal_port": 5001, "description": "nas-https"}
DESCRIPTION = "GET /rootDesc.xml"


@pytest.fixture
def cache_dir(tmp_path, monkeypatch):
    directory = tmp_path / "router-cache"
    monkeypatch.setenv(ENV_DIR, str(directory))
    return directory


@pytest.fixture
def run(router_lab, capsys, cache_dir):
    def _run(check_mode=False, **args):
        args.setdefault("igd_url", router_lab.igd_url)
        result = run_module(router_port_forward, args, capsys, check_mode=check_mode)
        assert result.get("failed") is not True, result
        return result

    return _run


def requests(router_lab):
    return [c["method"] for c in router_lab.calls()]


def closed_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def lab_entry(router_lab, **changes):
    client = IgdClient(router_lab.igd_url)
    return dict(dict(service=client.service, control_url=client.control_url, listing=True), **changes)


def test_the_second_task_does_not_fetch_the_description_and_the_file_is_private(run, router_lab, cache_dir):
    run(mappings=[HTTPS])
    assert requests(router_lab)[0] == DESCRIPTION
    router_lab.clear_log()
    assert run(mappings=[HTTPS])["changed"] is False
    assert DESCRIPTION not in requests(router_lab) and requests(router_lab)
    (entry,) = os.listdir(cache_dir)
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(cache_dir / entry).st_mode) == 0o600
    assert Descriptions().get("%s|" % router_lab.igd_url) == lab_entry(router_lab)


def test_a_fault_from_the_cached_control_url_proves_it_is_the_routers(run, router_lab):
    run(mappings=[], state="absent")  # the description, then the WAN address: no mapping to read
    assert requests(router_lab) == [DESCRIPTION, "GetExternalIPAddress"]
    router_lab.clear_log()
    assert run(mappings=[HTTPS], check_mode=True)["changed"] is True  # 714: no such mapping, yet an answer
    assert requests(router_lab) == ["GetExternalIPAddress", "GetSpecificPortMappingEntry"]


@pytest.mark.parametrize(
    "stale",
    [
        "refused",  # miniupnpd rebooted onto another HTTP port (it picks one unless http_port is set)
        "404",  # another router, or firmware, under the same address: the control path is gone
        "401",  # Invalid Action: the service behind the URL is not the one cached
    ],
)
def test_a_stale_entry_is_read_again_before_any_write(run, router_lab, stale):
    entry = lab_entry(router_lab)
    if stale == "refused":
        entry["control_url"] = "http://127.0.0.1:%d/ctl/IPConn" % closed_port()
    Descriptions().put("%s|" % router_lab.igd_url, entry)
    if stale == "404":
        router_lab.fault(http_error_next={"api": "WANIPConnection", "status": 404})
    if stale == "401":
        router_lab.fault(fail_next={"api": "WANIPConnection", "code": 401})
    router_lab.clear_log()
    result = run(mappings=[HTTPS])
    assert result["changed"] is True and result["external_address"] == "100.128.77.2"
    seen = requests(router_lab)
    assert DESCRIPTION in seen and seen.index(DESCRIPTION) < seen.index("AddPortMapping"), seen
    assert Descriptions().get("%s|" % router_lab.igd_url) == lab_entry(router_lab)
    router_lab.clear_log()
    assert run(mappings=[HTTPS], read_external_address=False)["changed"] is False
    assert requests(router_lab) == ["GetSpecificPortMappingEntry"]


def test_a_stale_entry_on_an_unreachable_router_fails_on_the_description(run, router_lab, capsys):
    gone = "http://127.0.0.1:%d/rootDesc.xml" % closed_port()
    Descriptions().put(
        "%s|" % gone, lab_entry(router_lab, control_url="http://127.0.0.1:%d/ctl/IPConn" % closed_port())
    )
    result = run_module(router_port_forward, dict(igd_url=gone, mappings=[HTTPS]), capsys)
    assert result["failed"] is True and "cannot read the router's device description at %s" % gone in result["msg"]
    assert Descriptions().get("%s|" % gone) is None


def test_nothing_is_written_through_a_cached_control_url_that_has_not_answered(router_lab, cache_dir):
    cache = Descriptions()
    cache.put("%s|" % router_lab.igd_url, lab_entry(router_lab))
    router_lab.clear_log()
    client = IgdClient(router_lab.igd_url, cache=cache)
    assert client.from_cache and requests(router_lab) == []
    client.delete_mapping(443, "tcp")
    assert requests(router_lab) == [DESCRIPTION, "DeletePortMapping"]


def test_another_boot_of_a_discovered_router_is_another_entry(router_lab, cache_dir):
    """Discovered, the key carries the SSDP reply's USN, BOOTID.UPNP.ORG and CONFIGID.UPNP.ORG: a reboot (new
    BOOTID) or a changed description (new CONFIGID) fetches the description again."""
    cache = Descriptions()
    IgdClient(router_lab.igd_url, cache=cache, identity="uuid:gw::urn:igd|1|1")
    router_lab.clear_log()
    assert IgdClient(router_lab.igd_url, cache=cache, identity="uuid:gw::urn:igd|1|1").from_cache
    assert not IgdClient(router_lab.igd_url, cache=cache, identity="uuid:gw::urn:igd|2|1").from_cache
    assert requests(router_lab) == [DESCRIPTION]


def test_an_unwritable_cache_directory_only_costs_the_description(run, router_lab, tmp_path, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("")
    monkeypatch.setenv(ENV_DIR, str(blocker / "router"))
    run(mappings=[HTTPS])
    router_lab.clear_log()
    assert run(mappings=[HTTPS], read_external_address=False)["changed"] is False
    assert requests(router_lab) == [DESCRIPTION, "GetSpecificPortMappingEntry"]


def test_ssdp_identity_names_the_device_and_its_boot():
    headers = igd_client.parse_ssdp_response(
        b"HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:2\r\n"
        b"USN: uuid:abc::urn:schemas-upnp-org:device:InternetGatewayDevice:2\r\n"
        b"LOCATION: http://10.0.0.1:5000/rootDesc.xml\r\n"
        b"BOOTID.UPNP.ORG: 7\r\nCONFIGID.UPNP.ORG: 1337\r\n\r\n"
    )
    assert igd_client.ssdp_identity(headers) == "uuid:abc::urn:schemas-upnp-org:device:InternetGatewayDevice:2|7|1337"


def test_a_router_that_is_gone_is_no_router_without_the_listing(router_lab, cache_dir):
    """No answer to GetListOfPortMappings is the router gone, not a router that cannot list: the task fails
    saying so, and nothing is remembered of it."""
    gone = "http://127.0.0.1:%d/rootDesc.xml" % closed_port()
    cache = Descriptions()
    cache.put("%s|" % gone, lab_entry(router_lab, control_url="http://127.0.0.1:%d/ctl/IPConn" % closed_port()))
    client = IgdClient(gone, cache=cache)
    with pytest.raises(igd_client.NoAnswer, match="cannot read the router's device description"):
        client.list_range("tcp")
    assert cache.get("%s|" % gone) is None
