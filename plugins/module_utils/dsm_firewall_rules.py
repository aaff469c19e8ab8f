# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""DSM's firewall (SYNO.Core.Security.Firewall, .Profile, .Profile.Apply): rules in the user's form <-> DSM's
profile form, first-match evaluation for lockout protection, and the read/save/apply calls."""

from __future__ import annotations

import hashlib
import json
import os
import time

from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate as v
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError
from ansible_collections.homelab.nas.plugins.module_utils.dsm_session_cache import DEFAULT_CACHE_DIR
from ansible_collections.homelab.nas.plugins.module_utils.keyed_cache import read_json, write_json

FIREWALL_API = "SYNO.Core.Security.Firewall"
PROFILE_API = "SYNO.Core.Security.Firewall.Profile"
APPLY_API = "SYNO.Core.Security.Firewall.Profile.Apply"

# Names users know for the ports of common DSM services.
SERVICES = {
    "dsm": "5000,5001",
    "dsm_http": "5000",
    "dsm_https": "5001",
    "http": "80",
    "https": "443",
    "ssh": "22",
    "webdav": "5005,5006",
    "smb": "139,445",
    "afp": "548",
    "ftp": "21",
    "rsync": "873",
    "synology_drive": "6690",
}
ACTIONS = ("allow", "deny")
PROTOCOLS = ("tcp", "udp", "tcp_udp", "all")
OFF = "off"  # AppliedRecord's value while the firewall, or this profile, is not in force


def _ports(field, value):
    """'all' or a canonical, sorted, de-duplicated list of ports and ranges ('443,5000-5001')."""
    items = value if isinstance(value, list) else [value]
    spans = set()
    for item in items:
        for part in str(item).replace(" ", "").lower().split(","):
            if part in ("all", "any", "*"):
                return "all"
            if part in SERVICES:
                spans.update(_ports(field, SERVICES[part]).split(","))
                continue
            low, sep, high = part.partition("-")
            first = v.port(field, low)
            last = v.port(field, high) if sep else first
            if last < first:
                raise v.InputError("%s: range %s runs backwards; write it low-high" % (field, part))
            spans.add("%d-%d" % (first, last) if last != first else "%d" % first)
    if not spans:
        raise v.InputError(
            "%s: no ports given; list ports, ranges (5000-5001), service names (%s) or 'all'"
            % (field, ", ".join(sorted(SERVICES)))
        )
    return ",".join(sorted(spans, key=lambda s: tuple(int(x) for x in s.split("-"))))


def normalise_rule(index, rule):
    """A user rule -> DSM's rule object. Raises InputError naming rules[index].<field>."""
    where = "rules[%d]" % index
    action = str(rule.get("action", "allow")).lower()
    if action not in ACTIONS:
        raise v.InputError("%s.action: '%s' is not allow or deny" % (where, rule.get("action")))
    protocol = str(rule.get("protocol", "tcp")).lower()
    if protocol not in PROTOCOLS:
        raise v.InputError("%s.protocol: '%s' is not one of %s" % (where, rule.get("protocol"), ", ".join(PROTOCOLS)))
    ports = _ports("%s.ports" % where, rule.get("ports", "all"))
    group, source = v.source("%s.source" % where, rule.get("source", "all"))
    return {
        "enable": bool(rule.get("enabled", True)),
        "name": str(rule.get("name") or "rule %d" % (index + 1)),
        "policy": action,
        "protocol": protocol,
        "port_direction": "destination",
        "port_group": "all" if ports == "all" else "custom",
        "ports": "" if ports == "all" else ports,
        "source_ip_group": group,
        "source_ip": source,
        "log": False,
    }


def rule_from_dsm(dsm_rule):
    """DSM's rule object -> the user form (what diffs show)."""
    return {
        "name": dsm_rule.get("name"),
        "action": dsm_rule.get("policy"),
        "protocol": dsm_rule.get("protocol"),
        "ports": "all" if dsm_rule.get("port_group") == "all" else dsm_rule.get("ports"),
        "source": dsm_rule.get("source_ip") if dsm_rule.get("source_ip_group") != "all" else "all",
        "enabled": bool(dsm_rule.get("enable")),
    }


def _covers_port(dsm_rule, port):
    if dsm_rule.get("port_group") == "all":
        return True
    for span in str(dsm_rule.get("ports") or "").split(","):
        low, _sep, high = span.partition("-")
        if low and int(low) <= port <= int(high or low):
            return True
    return False


def first_match(dsm_rules, default_action, address, port, protocol="tcp"):
    """(action, rule name) the firewall applies to a connection; rules are evaluated top-down."""
    for dsm_rule in dsm_rules:
        if not dsm_rule.get("enable"):
            continue
        if dsm_rule.get("protocol") not in ("all", "tcp_udp", protocol):
            continue
        if _covers_port(dsm_rule, port) and v.source_contains(
            dsm_rule.get("source_ip_group"), dsm_rule.get("source_ip"), address
        ):
            return dsm_rule["policy"], dsm_rule.get("name")
    return default_action, None


def verdict(profile, address, port, interface=None):
    """(action, rule name or None, table) DSM applies to a TCP connection from `address` to `port` under a whole
    profile, in DSM's order: the rules of All interfaces (`global`) first, then those of the interface the
    connection arrives on, first match; nothing matching, that interface's default action, else global's.

    `interface` None (unknown): the connection must get through on every interface the profile has rules for
    and on one it has none for; the first that does not let it through is the answer."""
    tables = {k: t for k, t in profile.items() if k != "name" and isinstance(t, dict)}
    everywhere = tables.get("global") or {}
    action, rule = first_match(everywhere.get("rules") or [], None, address, port)
    if action is not None:
        return action, rule, "global"
    candidates = [interface] if interface else sorted(k for k in tables if k != "global") + [None]
    answer = None
    for adapter in candidates:
        table = tables.get(adapter) or {}
        action, rule = first_match(table.get("rules") or [], None, address, port)
        if action is None:
            action = table.get("policy") or everywhere.get("policy") or "deny"
        answer = (action, rule, adapter if adapter in tables else "global")
        if action == "deny":
            return answer
    return answer


def table(policy, rules):
    """One interface's table in DSM's profile form: its default action and its rules (DSM's rule objects)."""
    return {"policy": policy, "rules": rules}


def table_of(profile, interface):
    """The table a profile as read holds for `interface`: DSM's default (allow, no rules) when it has none."""
    return profile.get(interface) or table("allow", [])


def with_table(profile, name, interface, new_table):
    """The whole profile `name` as Profile.set takes it: what was read, with `interface`'s table replaced."""
    whole = dict(profile, name=name)
    whole[interface] = new_table
    return whole


def table_view(dsm_table):
    """A table in the user form (what results and diffs show): default_action and the rules."""
    return {
        "default_action": dsm_table.get("policy"),
        "rules": [rule_from_dsm(r) for r in dsm_table.get("rules") or []],
    }


def family(address):
    """4 or 6."""
    return 6 if ":" in str(address) else 4


def _profile_body(raw, name):
    """The profile from Profile.get: bare as dsmctl saw it live on DSM 7.3, or nested under `profile`."""
    profile = raw.get("profile") if isinstance(raw.get("profile"), dict) else raw
    if isinstance(profile.get("rules"), dict) and "adapterPolicyMap" in profile:
        # The fwDB form batonogov's provider describes (not observed over HTTP); this module writes the other.
        raise DsmError(
            "DSM answered firewall profile '%s' as {rules: {<interface>: [...]}, adapterPolicyMap}; "
            "this module only knows the {<interface>: {policy, rules}} form DSM 7.3 answers" % name,
            api=PROFILE_API,
            method="get",
        )
    return profile


class DsmFirewall:
    def __init__(self, client):
        self.client = client

    def read(self, name):
        """(enabled, active profile name, the named profile), in one compound request."""
        state, raw = self.client.batch([(FIREWALL_API, "get", 1, {}), (PROFILE_API, "get", 1, {"name": name})])
        return bool(state.get("enable_firewall")), state.get("profile_name"), _profile_body(raw, name)

    def save(self, profile):
        """Profile.set only saves the profile (dsmctl, live on DSM 7.3); apply() makes it live."""
        self.client.write(PROFILE_API, "set", 1, profile=profile, profile_applying=False)

    def apply(self, name, locks_us_out=False):
        """Make a saved profile live (and the firewall on): Apply start, poll status with its task_id, stop.

        With locks_us_out (rules that deny this controller, allowed by allow_lockout) DSM stops answering
        this controller as soon as the profile is live, so nothing after start can be awaited: returns
        False then (the apply task was not followed to its end), True otherwise."""
        if locks_us_out:
            try:
                self.client.write(APPLY_API, "start", 1, name=name, profile_applying=False)
            except DsmError as exc:
                if exc.code is not None:
                    raise
                # The connection was cut: the firewall is already enforcing the new profile.
            return False
        task = self.client.write(APPLY_API, "start", 1, name=name, profile_applying=False).get("task_id")
        if not task:
            return True  # some DSM builds apply synchronously and hand out no task (batonogov's provider)
        for attempt in range(60):
            if self.client.read(APPLY_API, "status", 1, task_id=task).get("finish"):
                break
            time.sleep(min(1.0, 0.1 * (attempt + 1)))
        else:
            raise DsmError(
                "DSM did not finish applying firewall profile '%s' within a minute" % name,
                api=APPLY_API,
                method="status",
            )
        self.client.write(APPLY_API, "stop", 1, task_id=task)
        return True

    def save_and_apply(
        self,
        name,
        policy,
        rules,
        profile,
        interface="global",
        record=None,
        in_force=OFF,
        live=True,
        reapply=False,
        locks_us_out=False,
    ):
        """Give profile `name` (`profile`, as read) the table {policy, rules} on `interface`, and with `live` make
        it the one in force, in the order that leaves a rerun something to compare with (AppliedRecord):

        1. when an apply follows, `record` gets `in_force` (the digest of what is in force until the apply
           finishes, or OFF): a failure anywhere from here on (the save, Apply start, its status) leaves it;
        2. Profile.set, when the table differs from the saved one;
        3. Apply (also how DSM turns the firewall on with the profile), when `live` and the table changed or
           `reapply` (the saved table not in force, the firewall off, another profile active);
        4. `record` gets the new table's digest.

        Returns None when nothing was applied, else whether the apply was followed to its end (apply())."""
        wanted = table(policy, rules)
        current = table_of(profile, interface)
        changed = (current.get("policy"), current.get("rules") or []) != (policy, rules)
        applying = live and (changed or reapply)
        if applying and record is not None:
            record.record(in_force)
        if changed:
            self.save(with_table(profile, name, interface, wanted))
        if not applying:
            return None
        finished = self.apply(name, locks_us_out=locks_us_out)
        if record is not None:
            record.record(table_digest(wanted))
        return finished

    def disable(self):
        # dsmctl's live-verified disable call.
        self.client.write(FIREWALL_API, "set", 1, set_type="disable")


def table_digest(table):
    """A digest of one interface's table (its default action and its rules in the user form, which is what DSM
    answers back), so a saved profile can be compared with the one last applied."""
    canonical = {
        "policy": (table or {}).get("policy"),
        "rules": [rule_from_dsm(r) for r in (table or {}).get("rules") or []],
    }
    return hashlib.sha256(json.dumps(canonical, sort_keys=True).encode("utf-8")).hexdigest()


class AppliedRecord:
    """What this collection last made live of one profile's interface table on one DSM, kept next to the session
    cache (like the TLS pins). DSM answers the saved profile (Profile.get) and whether the firewall is on with
    which profile (Firewall.get), but no public client or probe shows a read of the rules in force, nor whether
    an apply finished; a failed Profile.Apply leaves the new rules saved and the old ones live. So the module
    records the table's digest before it saves (the state in force until the apply finishes) and again once
    the apply finished; a saved table whose digest is not the recorded one is applied again.

    No record (another controller, or a run before this existed): the saved table is taken as the one in force."""

    def __init__(self, directory, base_url, profile, interface):
        self.directory = os.path.expanduser(directory or DEFAULT_CACHE_DIR)
        key = hashlib.sha256(("firewall|%s|%s|%s" % (base_url, profile, interface)).encode("utf-8")).hexdigest()
        self.path = os.path.join(self.directory, key[:32] + ".firewall.json")

    def load(self):
        """The digest of the table last known to be in force, or None."""
        data = read_json(self.path) or {}
        digest = data.get("applied")
        return digest if isinstance(digest, str) else None

    def record(self, digest):
        write_json(self.path, {"applied": digest})
