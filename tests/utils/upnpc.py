"""Debian's `upnpc` (miniupnpc 2.2.4) as an outside client of a router, and the conversation every router
of the lab must answer alike.

The same `conversation()` runs against the mock router (tests/system/test_router_upnpc_mock.py) and
against the real miniupnpd in network namespaces (tests/system/test_router_miniupnpd.py), so the
mock cannot drift from what miniupnpd answers without one of them failing. The parsers read the lines
upnpc's own source prints (miniupnpc/src/upnpc.c at tag miniupnpc_2_2_4).
"""

from __future__ import annotations

import re
import subprocess

# "%2d %s %5s->%s:%-5s '%s' '%s' %s" in ListRedirections (-l) and NewListRedirections (-L).
LISTING = re.compile(r"^\s*(\d+) (\S+) +(\d+)->([^:]+):(\d+) *'(.*)' '(.*)' (\d+)$")
REDIRECTED = re.compile(r"^external (\S*):(\d+) (\S+) is redirected to internal ([^:]+):(\d+) \(duration=(\d+)\)$")
FOUND = re.compile(r"^Found (valid IGD|a \(not connected\?\) IGD) : (\S+)$")
STATUS = re.compile(r"^Status : (\S+), uptime=(\d+)s, LastConnectionError : (\S+)$")
BITRATES = re.compile(r"^MaxBitRateDown : (\d+) bps.*MaxBitRateUp (\d+) bps")
COUNTERS = re.compile(r"^(Bytes|Packets): +Sent: +(\d+)\tRecv: +(\d+)$")
FAILED_CODE = re.compile(r"failed with code :? ?(\d+)")


class Result:
    """One upnpc run: exit code, output, and what the output says."""

    def __init__(self, returncode, stdout):
        self.returncode = returncode
        self.stdout = stdout
        self.lines = [line.rstrip("\n") for line in stdout.splitlines()]

    def value(self, prefix):
        """The text after `prefix` on the first line that starts with it, or None."""
        for line in self.lines:
            if line.startswith(prefix):
                return line[len(prefix) :].strip()
        return None

    def match(self, pattern):
        for line in self.lines:
            found = pattern.match(line)
            if found:
                return found
        return None

    @property
    def mappings(self):
        """(protocol, external port, internal client, internal port, description, remote host, lease), as listed."""
        return [
            (m[2], int(m[3]), m[4], int(m[5]), m[6], m[7], int(m[8]))
            for m in (LISTING.match(line) for line in self.lines)
            if m
        ]

    @property
    def redirected(self):
        """(external address, external port, protocol, internal client, internal port, lease) after -a / -n."""
        found = self.match(REDIRECTED)
        return found and (found[1], int(found[2]), found[3], found[4], int(found[5]), int(found[6]))

    @property
    def error_code(self):
        for line in self.lines:
            found = FAILED_CODE.search(line)
            if found:
                return int(found[1])
        return None


class Upnpc:
    """Runs upnpc against one description URL; `prefix` runs it elsewhere (e.g. `ip netns exec NS`)."""

    def __init__(self, url, prefix=()):
        self.url = url
        self.prefix = list(prefix)

    def __call__(self, *args):
        run = subprocess.run(
            [*self.prefix, "upnpc", "-u", self.url, *[str(a) for a in args]],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        return Result(run.returncode, run.stdout)


def ours(mappings, low, high):
    """The listed mappings whose external port is in [low, high], lease left out (it ticks)."""
    return [m[:6] for m in mappings if low <= m[1] <= high]


def conversation(upnpc, external_ip, presentation_url, base=19000):
    """-s, -a, -n, -l, -L, -d, -N, -P as upnpc prints them; asserts what miniupnpd 2.3.1 answers.

    Uses external ports base..base+9 only and leaves none of them mapped. Returns the LAN address upnpc used.
    """
    high = base + 9
    status = upnpc("-s")
    assert status.returncode == 0, status.stdout
    found = status.match(FOUND)
    assert found and found[1] == "valid IGD", status.stdout
    lan = status.value("Local LAN ip address :")
    assert status.value("Connection Type :") == "IP_Routed", status.stdout
    state = status.match(STATUS)
    assert state and state[1] == "Connected" and state[3] == "ERROR_NONE", status.stdout  # uptime: any
    assert status.match(BITRATES), status.stdout  # GetCommonLinkProperties on WANCommonInterfaceConfig:1
    assert status.value("ExternalIPAddress =") == external_ip, status.stdout
    counters = {m[1] for m in (COUNTERS.match(line) for line in status.lines) if m}
    assert counters == {"Bytes", "Packets"}, status.stdout  # GetTotal{Bytes,Packets}{Sent,Received}
    assert ours(upnpc("-L").mappings, base, high) == [], "ports %d-%d must be free" % (base, high)

    added = upnpc("-e", "upnpc-a", "-a", lan, 5000, base, "TCP", 600)
    assert added.returncode == 0, added.stdout
    assert added.redirected[:5] == (external_ip, base, "TCP", lan, 5000), added.stdout
    assert 599 <= added.redirected[5] <= 600, added.stdout  # one second may tick between add and read
    any_port = upnpc("-e", "upnpc-n", "-n", lan, 5001, base + 1, "TCP", 600)  # AddAnyPortMapping, port free
    assert any_port.returncode == 0 and any_port.redirected[1] == base + 1, any_port.stdout
    udp = upnpc("-e", "upnpc-udp", "-a", lan, 5002, base + 2, "UDP", 0)
    assert udp.redirected and udp.redirected[5] >= 604799, udp.stdout  # IGD:2: lease 0 means the maximum

    generic = upnpc("-l")  # GetGenericPortMappingEntry until 713, newest first
    assert ours(generic.mappings, base, high) == [
        ("UDP", base + 2, lan, 5002, "upnpc-udp", ""),
        ("TCP", base + 1, lan, 5001, "upnpc-n", ""),
        ("TCP", base, lan, 5000, "upnpc-a", ""),
    ], generic.stdout
    assert generic.lines[-1] == "GetGenericPortMappingEntry() returned 713 (SpecifiedArrayIndexInvalid)"
    listed = upnpc("-L")  # GetListOfPortMappings, TCP then UDP, each by port
    assert ours(listed.mappings, base, high) == [
        ("TCP", base, lan, 5000, "upnpc-a", ""),
        ("TCP", base + 1, lan, 5001, "upnpc-n", ""),
        ("UDP", base + 2, lan, 5002, "upnpc-udp", ""),
    ], listed.stdout

    for attempt in range(2):  # the second delete finds nothing: miniupnpd (nftables) still answers success
        deleted = upnpc("-d", base, "TCP")
        assert deleted.returncode == 0, (attempt, deleted.stdout)
        assert deleted.value("UPNP_DeletePortMapping() returned :") == "0", (attempt, deleted.stdout)
    ranged = upnpc("-N", base, high, "TCP")
    assert ranged.returncode == 0 and ranged.value("UPNP_DeletePortMappingRange() returned :") == "0", ranged.stdout
    nothing = upnpc("-N", base, high, "TCP")
    assert nothing.returncode == 2 and nothing.error_code == 730, nothing.stdout  # PortMappingNotFound
    assert upnpc("-N", base, high, "UDP").returncode == 0
    assert ours(upnpc("-L").mappings, base, high) == []

    presentation = upnpc("-P")
    assert "Presentation URL found:" in presentation.lines, presentation.stdout
    assert presentation.lines[presentation.lines.index("Presentation URL found:") + 1].strip() == presentation_url
    return lan


def cgnat_conversation(upnpc, lan):
    """A router whose WAN address is reserved (CGNAT, private): no external address, and no mapping (501)."""
    status = upnpc("-s")
    # with -u upnpc skips its own validity check, so it says so here instead of "not connected?"
    assert "GetExternalIPAddress failed. (empty string)" in status.lines, status.stdout
    added = upnpc("-a", lan, 5000, 19100, "TCP")
    assert added.returncode == 2 and added.error_code == 501, added.stdout  # ActionFailed
