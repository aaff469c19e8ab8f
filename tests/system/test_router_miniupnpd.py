"""router_port_forward against a real router: Debian's miniupnpd in network namespaces.

The module runs inside the NAS namespace, as it would on the NAS; upnpc (Debian's miniupnpc) reads
back what it did. Needs root (network namespaces, nftables): CI runs as root and installs the
packages; elsewhere the tests are skipped with that reason.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile

import pytest

from tests.utils.upnpc import Upnpc, cgnat_conversation, conversation

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCRIPT = os.path.join(ROOT, "tests", "lab", "router_netns.sh")
COLLECTIONS = os.path.join(ROOT, "tests", "output", "collections")
NAS_IP = "192.168.77.10"
ROUTER_IP = "192.168.77.1"

pytestmark = pytest.mark.netns


class NetnsRouter:
    def __init__(self, lab, url):
        self.lab = lab
        self.url = url

    def exec(self, namespace, *cmd, env=None):
        return subprocess.run(
            ["ip", "netns", "exec", "%s-%s" % (self.lab, namespace), *cmd],
            capture_output=True,
            text=True,
            timeout=120,
            env=env,
            check=False,
        )

    def upnpc(self, *args, namespace="nas"):
        return Upnpc(self.url, prefix=["ip", "netns", "exec", "%s-%s" % (self.lab, namespace)])(*args)

    def mappings(self):
        """(protocol, external port, internal client, internal port, description) as `upnpc -l` lists them;
        the remaining lease is left out because it ticks."""
        return sorted(tuple(str(v) for v in m[:5]) for m in self.upnpc("-l").mappings)

    def forward(self, args, check_mode=False):
        """Run the module in the NAS namespace; return its task result."""
        handle, result_file = tempfile.mkstemp(suffix=".json")
        os.close(handle)
        env = dict(
            os.environ,
            ANSIBLE_COLLECTIONS_PATH=COLLECTIONS,
            ANSIBLE_LOCALHOST_WARNING="false",
            ANSIBLE_INVENTORY_UNPARSED_WARNING="false",
        )
        cmd = [
            os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
            "-e",
            json.dumps({"args": args, "result_file": result_file}),
            os.path.join(ROOT, "tests", "system", "playbooks", "router.yml"),
        ]
        if check_mode:
            cmd += ["--check", "--diff"]
        try:
            run = self.exec("nas", *cmd, env=env)
            with open(result_file, encoding="utf-8") as handle:
                text = handle.read()
            if not text:
                raise AssertionError(run.stdout[-3000:] + run.stderr[-2000:])
            return json.loads(text)
        finally:
            os.unlink(result_file)


def _start(lab, **env):
    if os.geteuid() != 0:
        if os.environ.get("CI"):
            pytest.fail("CI must run as root: the router tests need network namespaces")
        pytest.skip("needs root for network namespaces and nftables (CI runs it as root)")
    full_env = dict(os.environ, LAB=lab, **env)
    subprocess.run(["bash", SCRIPT, "install"], check=True, env=full_env, timeout=600)
    setup = subprocess.run(
        ["bash", SCRIPT, "setup"], capture_output=True, text=True, env=full_env, timeout=120, check=False
    )
    assert setup.returncode == 0, setup.stderr
    return full_env, setup.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def router():
    env, url = _start("hnlab")
    yield NetnsRouter("hnlab", url)
    subprocess.run(["bash", SCRIPT, "teardown"], env=env, check=False)


@pytest.fixture(scope="module")
def cgnat_router():
    env, url = _start("hncgn", WAN_IP="100.64.77.2", WAN_GW="100.64.77.1")
    yield NetnsRouter("hncgn", url)
    subprocess.run(["bash", SCRIPT, "teardown"], env=env, check=False)


HTTPS = {"external_port": 18443, "internal_port": 5001, "description": "nas-https"}


def test_discovers_adds_and_is_idempotent(router):
    result = router.forward({"mappings": [HTTPS]})  # no igd_url: SSDP discovery
    assert result["changed"] is True, result
    assert result["igd_url"] == router.url
    assert result["service"] == "urn:schemas-upnp-org:service:WANIPConnection:2"
    assert result["external_address"] == "100.128.77.2" and result["behind_cgnat"] is False
    assert result["mappings"][0]["internal_client"] == NAS_IP
    assert ("TCP", "18443", NAS_IP, "5001", "homelab.nas: nas-https") in router.mappings()

    before = router.mappings()
    again = router.forward({"mappings": [HTTPS], "igd_url": router.url})
    assert again["changed"] is False
    assert router.mappings() == before


def test_check_mode_reports_without_writing(router):
    before = router.mappings()
    result = router.forward(
        {"mappings": [{"external_port": 18444, "internal_port": 5000}], "igd_url": router.url}, check_mode=True
    )
    assert result["changed"] is True
    assert "tcp/18444" in result["diff"]["after"]
    assert router.mappings() == before


def test_conflict_names_the_holder_and_changes_nothing(router):
    # The router itself (a host other than the NAS) holds 18080.
    router.upnpc("-e", "someone-else", "-a", ROUTER_IP, "8080", "18080", "TCP", namespace="router")
    before = router.mappings()
    result = router.forward({"mappings": [{"external_port": 18080, "internal_port": 8080}], "igd_url": router.url})
    assert result["failed"] is True
    assert ROUTER_IP in result["msg"] and "someone-else" in result["msg"]
    assert router.mappings() == before


def test_secure_mode_refusal_is_explained(router):
    result = router.forward(
        {"mappings": [{"external_port": 18445, "internal_client": "192.168.77.20"}], "igd_url": router.url}
    )
    assert result["failed"] is True and result["upnp_error"] == 718
    assert "secure mode" in result["msg"]


def test_exclusive_removes_only_our_undeclared_mappings_then_absent_deletes(router):
    router.forward({"mappings": [HTTPS, {"external_port": 18446, "protocol": "udp"}], "igd_url": router.url})
    result = router.forward({"mappings": [HTTPS], "exclusive": True, "igd_url": router.url})
    assert result["changed"] is True and result["removed"] == ["udp/18446"]
    held = router.mappings()
    assert not any(m[1] == "18446" for m in held)
    assert ("TCP", "18080", ROUTER_IP, "8080", "someone-else") in held, "someone else's mapping must stay"

    gone = router.forward({"mappings": [HTTPS], "state": "absent", "igd_url": router.url})
    assert gone["changed"] is True
    assert not any(m[1] == "18443" for m in router.mappings())
    assert router.forward({"mappings": [HTTPS], "state": "absent", "igd_url": router.url})["changed"] is False


def test_renamed_mapping_is_applied(router):
    # miniupnpd keeps the old description when a mapping is re-added with the same internal port
    mapping = {"external_port": 18447, "internal_port": 5003, "description": "before"}
    router.forward({"mappings": [mapping], "igd_url": router.url})
    result = router.forward({"mappings": [dict(mapping, description="after")], "igd_url": router.url})
    assert result["changed"] is True and not result.get("failed"), result
    assert ("TCP", "18447", NAS_IP, "5003", "homelab.nas: after") in router.mappings()
    router.forward({"mappings": [mapping], "state": "absent", "igd_url": router.url})


def test_upnpc_conversation(router):
    # The same conversation runs against the mock router (test_router_upnpc_mock.py).
    assert conversation(router.upnpc, "100.128.77.2", "http://%s/" % ROUTER_IP) == NAS_IP


def test_cgnat_router_is_reported(cgnat_router):
    result = cgnat_router.forward({"mappings": [], "igd_url": cgnat_router.url})
    assert result["behind_cgnat"] is True
    assert "carrier-grade NAT" in result["cgnat_explanation"]
    assert any("carrier-grade NAT" in w for w in result.get("warnings", []))
    cgnat_conversation(cgnat_router.upnpc, NAS_IP)  # the same answers as the mock's (test_router_upnpc_mock.py)


LISTING = """
import json, sys
from ansible_collections.homelab.nas.plugins.module_utils.igd_client import IgdClient
client = IgdClient(sys.argv[1])
generic = sorted(json.dumps(m, sort_keys=True) for m in client.list_mappings())
listed = {p: client.list_range(p) for p in ("tcp", "udp")}
print(json.dumps({"generic": generic, "listed": {p: sorted(json.dumps(m, sort_keys=True) for m in v.values())
                  if v is not None else None for p, v in listed.items()},
                  "span": sorted((client.list_range("tcp", 18080, 18443) or {}).keys())}))
"""


def test_the_v2_listing_answers_what_the_generic_list_does(router):
    """GetListOfPortMappings (one request per protocol) against miniupnpd itself: the same mappings, leases and
    all, as GetGenericPortMappingEntry one by one; a span lists only the ports inside it."""
    udp = {"external_port": 18449, "protocol": "udp", "description": "r&d <lab>"}
    router.forward({"mappings": [HTTPS, udp], "igd_url": router.url})
    env = dict(os.environ, PYTHONPATH=COLLECTIONS)
    run = router.exec("nas", sys.executable, "-c", LISTING, router.url, env=env)
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    listed = found["listed"]["tcp"] + found["listed"]["udp"]

    def lease_free(entries):
        return sorted(json.dumps(dict(json.loads(e), lease_duration=None), sort_keys=True) for e in entries)

    assert lease_free(listed) == lease_free(found["generic"]) and len(listed) >= 3
    # miniupnpd keeps the description as the module sent it (escaped), so the listing stays XML.
    assert any('"homelab.nas: r&d <lab>"' in e and "18449" in e for e in found["listed"]["udp"]), found["listed"]
    assert found["span"] == [18080, 18443]
    router.forward({"mappings": [udp], "state": "absent", "igd_url": router.url})
