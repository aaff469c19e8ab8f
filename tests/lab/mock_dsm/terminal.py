"""SYNO.Core.Terminal (v1-3, get/set): DSM's SSH and Telnet switches, which the SSH stand-in follows.

Versions and methods: go-synology `pkg/api/api_info.json` (1-3) and mikespub's method dump (get/set at
every version). Fields: pmilano1's probe of a live DSM 7.4 (`docs/api-reference/dsm-core/terminal.md`)
for get; dsmctl's live round trip on DSM 7.3 and the RR loader's `synowebapi` call for set
`{enable_ssh, enable_telnet, ssh_port, forbid_console}`. A set without some of the four keeps the others
(a provisioning script sends three; another sends enable_ssh alone, at v1).
"""

from __future__ import annotations

from tests.lab.mock_dsm.api import Api
from tests.lab.mock_dsm.errors import ApiError
from tests.lab.mock_dsm.params import maybe_json

API = "SYNO.Core.Terminal"
# DSM 7 ships with SSH and Telnet off, on port 22.
DEFAULTS = {"enable_ssh": False, "enable_telnet": False, "forbid_console": False, "ssh_port": 22}
# What DSM 7.4 lists (pmilano1's probe); a few entries are enough for clients that read them.
ALGORITHMS = {
    "ssh_cipher": [
        {"name": "aes256-ctr", "in_use": True, "security_level": 2, "hardware_support": False},
        {"name": "3des-cbc", "in_use": True, "security_level": 0, "hardware_support": False},
    ],
    "ssh_kex": [
        {"name": "curve25519-sha256", "in_use": True, "security_level": 2},
        {"name": "diffie-hellman-group1-sha1", "in_use": True, "security_level": 0},
    ],
    "ssh_mac": [
        {"name": "hmac-sha2-512-etm@openssh.com", "in_use": True, "security_level": 2},
        {"name": "hmac-md5", "in_use": True, "security_level": 0},
    ],
}


def apis(dsm):
    terminal = Terminal(dsm.state)
    return {API: Api("entry.cgi", 1, 3, {"get": (terminal.get, False), "set": (terminal.set, True)})}


def settings(data):
    """The Terminal settings in a state document (older state files have none yet)."""
    return data.setdefault("terminal", dict(DEFAULTS))


class Terminal:
    def __init__(self, state):
        self.state = state

    def get(self, request):
        return dict(settings(self.state.data), **ALGORITHMS)

    def set(self, request):
        current = settings(self.state.data)
        update = {}
        for key in ("enable_ssh", "enable_telnet", "forbid_console"):
            raw = request.param(key)
            if raw is None:
                continue
            value = maybe_json(raw)
            if not isinstance(value, bool):
                raise ApiError(120)
            update[key] = value
        raw = request.param("ssh_port")
        if raw is not None:
            port = maybe_json(raw)
            if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
                raise ApiError(120)
            update["ssh_port"] = port
        if not update:
            raise ApiError(114)  # nothing to set: DSM's "lost parameters"
        current.update(update)
        self.state.save()
        return {}
