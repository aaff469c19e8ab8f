"""Whether DSM's applied firewall lets a connection through, for either documented profile shape.

Order, as DSM's own help page states it (Control Panel > Security > Firewall, "Firewall rule priority")
and batonogov's provider replays it (`internal/client/firewall.go` evaluateAccess): the rules of "All
interfaces" (`global`) first, then the rules of the interface the connection arrives on, first match wins,
disabled rules are skipped; when nothing matches, that interface's default action applies.

The two shapes (issue 9, D12) are read into one small normalised form first:
- envelope (dsmctl, live DSM 7.3): {"name", "<adapter>": {"policy": "allow"|"deny", "rules": [{enable,
  policy, protocol, port_group, ports, source_ip_group, source_ip, ...}]}}
- fwDB (batonogov, from Synology's fwDB.hpp): {"name", "rules": {"<adapter>": [{enable, policy 0|1,
  protocol 1-4, portGroup, portList, ipGroup, ipList, ...}]}, "adapterPolicyMap": {"<adapter>": 0|1|2}}
"""

from __future__ import annotations

import ipaddress

GLOBAL = "global"
# fwDB enumerations (batonogov firewall.go, "CONFIRMED against fwDB.hpp").
FWDB_POLICY = {0: "allow", 1: "deny"}  # 2 = none: no default of its own
FWDB_PROTOCOLS = {1: {"tcp"}, 2: {"udp"}, 3: {"tcp", "udp"}, 4: {"icmp"}}
ENVELOPE_PROTOCOLS = {
    "tcp": {"tcp"},
    "udp": {"udp"},
    "tcp_udp": {"tcp", "udp"},
    "all": {"tcp", "udp", "icmp"},
    "icmp": {"icmp"},
}
NEVER = "never"  # a selector the lab cannot evaluate (GeoIP: loopback and private addresses have no country)


class Rule:
    """enabled, allow, protocols; ports/sources None = any, else a list of specs; NEVER = matches nothing."""

    def __init__(self, enabled, allow, protocols, ports, sources, name=""):
        self.enabled, self.allow, self.protocols = enabled, allow, protocols
        self.ports, self.sources, self.name = ports, sources, name


def _bool(value):
    return value is True or str(value).lower() in ("true", "1", "yes")


def _from_envelope(rule):
    group = rule.get("port_group", "all")
    ports = None if group == "all" else [p for p in str(rule.get("ports") or "").split(",") if p.strip()]
    source_group = rule.get("source_ip_group", "all")
    sources = None if source_group == "all" else [str(rule.get("source_ip") or "")]
    if source_group == "geoip":
        sources = NEVER
    return Rule(
        _bool(rule.get("enable", True)),
        rule.get("policy") == "allow",
        ENVELOPE_PROTOCOLS.get(rule.get("protocol", "all"), set()),
        ports,
        sources,
        rule.get("name", ""),
    )


def _from_fwdb(rule):
    ports = None if rule.get("portGroup") == 3 else [str(p) for p in rule.get("portList") or []]
    group, ips = rule.get("ipGroup", 5), [str(ip) for ip in rule.get("ipList") or []]
    if group == 5:
        sources = None
    elif group == 1 and len(ips) == 2:  # network and netmask
        sources = ["%s/%s" % (ips[0], ips[1])]
    elif group == 4 and len(ips) == 2:  # begin and end of a range
        sources = ["%s-%s" % (ips[0], ips[1])]
    elif group in (0, 2):  # one address, or a set of them
        sources = ips
    else:
        sources = NEVER
    return Rule(
        _bool(rule.get("enable", True)),
        FWDB_POLICY.get(rule.get("policy")) == "allow",
        FWDB_PROTOCOLS.get(rule.get("protocol"), set()),
        ports,
        sources,
        rule.get("name", ""),
    )


def normalise(profile):
    """-> {"rules": {adapter: [Rule]}, "policy": {adapter: "allow"|"deny"}} for either shape."""
    rules, policy = {}, {}
    if isinstance(profile.get("rules"), dict):
        for adapter, items in profile["rules"].items():
            rules[adapter] = [_from_fwdb(r) for r in items or [] if isinstance(r, dict)]
        for adapter, value in (profile.get("adapterPolicyMap") or {}).items():
            if value in FWDB_POLICY:
                policy[adapter] = FWDB_POLICY[value]
        return {"rules": rules, "policy": policy}
    for adapter, body in profile.items():
        if adapter == "name" or not isinstance(body, dict):
            continue
        rules[adapter] = [_from_envelope(r) for r in body.get("rules") or [] if isinstance(r, dict)]
        if body.get("policy") in ("allow", "deny"):
            policy[adapter] = body["policy"]
    return {"rules": rules, "policy": policy}


def applied_profile(firewall):
    """The profile in force, or None when the firewall is off (everything is answered)."""
    if not firewall.get("enable_firewall"):
        return None
    return firewall.get("applied") or firewall.get("profiles", {}).get(firewall.get("profile_name"))


def _port_matches(specs, port, services):
    for spec in specs:
        spec = spec.strip().lower()
        if spec in services:
            if port in services[spec]:
                return True
            continue
        low, sep, high = spec.replace(":", "-").partition("-")
        try:
            if int(low) <= port <= int(high if sep else low):
                return True
        except ValueError:
            continue
    return False


def _source_matches(specs, address):
    for spec in specs:
        try:
            if "-" in spec:
                first, last = (ipaddress.ip_address(s.strip()) for s in spec.split("-", 1))
                if first.version == address.version and first <= address <= last:
                    return True
            elif address in ipaddress.ip_network(spec.strip(), strict=False):
                return True
        except (TypeError, ValueError):
            continue
    return False


def _matches(rule, address, port, protocol, services):
    if protocol not in rule.protocols or rule.ports is NEVER or rule.sources is NEVER:
        return False
    if rule.ports is not None and not _port_matches(rule.ports, port, services):
        return False
    return rule.sources is None or _source_matches(rule.sources, address)


def decide(profile, adapter, address, port, protocol="tcp", services=None):
    """("allow"|"deny", why) for a connection from `address` to `port` arriving on `adapter`."""
    if profile is None:
        return "allow", "firewall off"
    form = normalise(profile)
    address = ipaddress.ip_address(address)
    for table in (GLOBAL, adapter):
        for index, rule in enumerate(form["rules"].get(table, [])):
            if rule.enabled and _matches(rule, address, port, protocol, services or {}):
                return ("allow" if rule.allow else "deny"), "%s rule %d (%s)" % (table, index, rule.name)
    # The interface's own default; a profile that keeps it only under "global" (the envelope as the
    # collection writes it) falls back to that, and with none at all DSM's posture is to drop.
    policy = form["policy"].get(adapter) or form["policy"].get(GLOBAL) or "deny"
    return policy, "default action of %s" % (adapter if adapter in form["policy"] else GLOBAL)
