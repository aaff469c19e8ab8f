# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""DSM's terminal and remote-access services: SYNO.Core.Terminal (SSH, Telnet, console) and SYNO.Core.QuickConnect
(on/off and its relay, a package API), in the modules' terms. The only place these API names live.

Sources (docs/lab-fidelity.md): Terminal get/set at v3 with {enable_ssh, enable_telnet, ssh_port, forbid_console},
a round trip live on DSM 7.3 (dsmctl); QuickConnect get/set at v2 (`enabled`, `server_alias`, `region`: dsmctl
from DSM's WebAPI conf, not live; `enable` in N4S4's client), the relay at v3 get_misc_config/set_misc_config
{relay_enabled} (live on DSM 7.3, dsmctl).
"""

from __future__ import annotations

from ansible_collections.homelab.nas.plugins.module_utils import dsm_firewall_rules as fw
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError

TERMINAL_API = "SYNO.Core.Terminal"
QUICKCONNECT_API = "SYNO.Core.QuickConnect"
TERMINAL_FIELDS = ("enable_ssh", "enable_telnet", "ssh_port", "forbid_console")
# The names QuickConnect's own hostnames end in when none is in DSM's answer.
QUICKCONNECT_DOMAINS = ("quickconnect.to", "quickconnect.cn")
# DSM's refusals of a set's parameters: lost (114), invalid (120), partial object (2001, one client's report).
REFUSED_PARAMETERS = (114, 120, 2001)


def flag(value):
    """A boolean DSM answered as true/false, "true"/"false", "yes"/"no" or 1/0; None when it is none of them."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str) and value.strip().lower() in ("true", "yes", "1", "false", "no", "0"):
        return value.strip().lower() in ("true", "yes", "1")
    return None


def terminal_view(raw):
    """Terminal's answer -> {ssh: {enabled, port}, telnet, forbid_console}; a field DSM left out raises."""
    missing = [k for k in TERMINAL_FIELDS if k not in raw]
    if missing:
        raise DsmError(
            "%s get answered without %s; this module writes all four of %s and will not guess the others"
            % (TERMINAL_API, ", ".join(missing), ", ".join(TERMINAL_FIELDS)),
            api=TERMINAL_API,
            method="get",
        )
    try:
        port = int(raw["ssh_port"])
    except (TypeError, ValueError):
        port = None
    values = dict(ssh=flag(raw["enable_ssh"]), telnet=flag(raw["enable_telnet"]), console=flag(raw["forbid_console"]))
    odd = [k for k, v in values.items() if v is None] + (["ssh_port"] if port is None else [])
    if odd:
        raise DsmError(
            "%s get answered values this module does not understand (%s): %s"
            % (TERMINAL_API, ", ".join(odd), {k: raw[k] for k in TERMINAL_FIELDS}),
            api=TERMINAL_API,
            method="get",
        )
    return {
        "ssh": {"enabled": values["ssh"], "port": port},
        "telnet": values["telnet"],
        "forbid_console": values["console"],
    }


def terminal_wire(view):
    """The module's view -> Terminal's v3 set, all four fields."""
    return {
        "enable_ssh": view["ssh"]["enabled"],
        "enable_telnet": view["telnet"],
        "ssh_port": view["ssh"]["port"],
        "forbid_console": view["forbid_console"],
    }


NOT_INSTALLED = {"installed": False, "enabled": None, "relay": None, "relay_readable": False}


def _missing(error):
    """DSM's answer for an API it does not have (102): QuickConnect's package is not installed."""
    return error is not None and error.code == 102


class DsmServices:
    def __init__(self, client):
        self.client = client

    # -- SSH, Telnet, console --------------------------------------------------------------
    def set_terminal(self, view):
        """Terminal's set with all four fields (unchanged ones as read), at v3."""
        self.client.write(TERMINAL_API, "set", 3, **terminal_wire(view))

    def read(self, with_quickconnect=True):
        """(terminal, quickconnect or None) in one compound request: what dsm_services manages."""
        calls = [(TERMINAL_API, "get", 3, {})]
        installed = with_quickconnect and self.client.offers(QUICKCONNECT_API)
        if installed:
            calls.append((QUICKCONNECT_API, "get", 2, {}))
            if self._has_misc_config():
                calls.append((QUICKCONNECT_API, "get_misc_config", 3, {}))
        results = self.client.batch_results(calls)
        if results[0][1] is not None:
            raise results[0][1]
        terminal = terminal_view(results[0][0])
        if not with_quickconnect:
            return terminal, None
        if not installed or _missing(results[1][1]):
            return terminal, dict(NOT_INSTALLED)
        if results[1][1] is not None:
            raise results[1][1]
        return terminal, self._quickconnect_view(results[1][0], results[2] if len(results) > 2 else (None, None))

    # -- QuickConnect --------------------------------------------------------------------------
    def quickconnect(self):
        """{installed, enabled, relay, relay_readable, server_alias, region, domains}; installed False (the rest
        None) when DSM does not offer the API: the QuickConnect package is missing."""
        if not self.client.offers(QUICKCONNECT_API):
            return dict(NOT_INSTALLED)
        try:
            raw = self.client.read(QUICKCONNECT_API, "get", 2)
        except DsmError as exc:
            if _missing(exc):
                return dict(NOT_INSTALLED)
            raise
        misc = (None, None)
        if self._has_misc_config():
            try:
                misc = (self.client.read(QUICKCONNECT_API, "get_misc_config", 3), None)
            except DsmError as exc:
                misc = (None, exc)
        return self._quickconnect_view(raw, misc)

    def _has_misc_config(self):
        # The relay setting is a v3 method (get_misc_config); DSM builds whose QuickConnect stops at v2 have none.
        return int(self.client.api_info(QUICKCONNECT_API).get("maxVersion", 1)) >= 3

    @staticmethod
    def _quickconnect_view(raw, misc):
        """The view from QuickConnect's get and get_misc_config's (data, error); the relay is unreadable when DSM
        refuses that method (103/104)."""
        enabled = flag(raw.get("enabled"))
        if enabled is None:
            raise DsmError(
                "%s get answered enabled=%r, which is not a yes or no" % (QUICKCONNECT_API, raw.get("enabled")),
                api=QUICKCONNECT_API,
                method="get",
            )
        relay, readable = None, False
        data, error = misc
        if error is not None and error.code not in (103, 104):
            raise error
        if data is not None:
            relay = flag(data.get("relay_enabled"))
            readable = relay is not None
        domains = [str(raw[k]).lower() for k in ("domain", "ddns_domain") if raw.get(k)]
        return {
            "installed": True,
            "enabled": enabled,
            "relay": relay,
            "relay_readable": readable,
            "server_alias": str(raw.get("server_alias") or ""),
            "region": str(raw.get("region") or ""),
            "domains": sorted(set(domains) | set(QUICKCONNECT_DOMAINS)),
        }

    def set_quickconnect_enabled(self, enabled, current):
        """Turn QuickConnect on or off at v2, confirmed by reading it back. Sources name the switch `enabled`
        (dsmctl, a Swift client) or `enable` (N4S4), and one says DSM wants the whole object (2001 otherwise):
        each form is tried in turn until DSM reports the new state. Returns the form DSM took."""
        whole = {k: current[k] for k in ("server_alias", "region") if current.get(k)}
        forms = [("enabled", {}), ("enabled", whole), ("enable", whole)]
        tried = []
        for name, rest in forms:
            params = dict(rest, **{name: enabled})
            try:
                self.client.write(QUICKCONNECT_API, "set", 2, **params)
            except DsmError as exc:
                if exc.code not in REFUSED_PARAMETERS:
                    raise
                tried.append("%s (DSM error %s)" % (sorted(params), exc.code))
                continue
            if self.quickconnect()["enabled"] == enabled:
                return sorted(params)
            tried.append("%s (accepted, no effect)" % sorted(params))
        raise DsmError(
            "%s set did not turn QuickConnect %s; tried %s. Switch it in Control Panel > External Access > "
            "QuickConnect and report the DSM version"
            % (QUICKCONNECT_API, "on" if enabled else "off", "; ".join(tried)),
            api=QUICKCONNECT_API,
            method="set",
        )

    def set_relay(self, enabled):
        self.client.write(QUICKCONNECT_API, "set_misc_config", 3, relay_enabled=enabled)


def firewall_admits(client, address, port, interface=None):
    """(admitted?, lockout_check) for a TCP connection from `address` to `port` under the firewall DSM has on:
    everything is admitted while it is off. The profile is the one Firewall.get names (DSM's `default` first)."""
    api = fw.DsmFirewall(client)
    enabled, active, profile = api.read("default")
    if enabled and active and active != "default":
        enabled, active, profile = api.read(active)
    if not enabled:
        return True, dict(address=address, port=port, action="allow", rule=None, interface=None, firewall=False)
    action, rule, table = fw.verdict(profile, address, port, interface)
    check = dict(address=address, port=port, action=action, rule=rule, interface=table, firewall=True)
    return action == "allow", check
