#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: router_port_forward
short_description: Forward router ports to the NAS over UPnP IGD, and detect carrier-grade NAT
version_added: 1.0.0
description:
  - Creates, updates or removes port mappings on the router with UPnP Internet Gateway Device (IGD v1 and v2,
    WANIPConnection or WANPPPConnection), the protocol most consumer routers share.
  - Reports the router's external address and whether it is behind carrier-grade or double NAT, where
    port forwarding cannot work.
  - Only mappings whose description starts with O(description_prefix) are ever removed by O(exclusive); mappings
    made by other programs or people are never touched.
  - Mappings are added before undeclared ones are removed. A router that keeps a re-added mapping's old
    description (miniupnpd) has that mapping deleted and added again; should that add fail, the mapping the router
    held is put back before the task fails, so the port stays forwarded (RV(applied) says so).
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.attributes
  - homelab.nas.attributes.router_group
  - homelab.nas.attributes.full
options:
  mappings:
    description:
      - The port mappings to manage.
    type: list
    elements: dict
    required: true
    suboptions:
      external_port:
        description: Port on the router's WAN side, 1-65535.
        type: int
        required: true
      internal_port:
        description: Port on the internal client. Defaults to O(mappings[].external_port).
        type: int
      protocol:
        description: V(tcp) or V(udp).
        type: str
        default: tcp
      internal_client:
        description:
          - IPv4 address the router forwards to, on the LAN (private address space); a public or carrier-grade NAT
            address such as V(8.8.8.8) is refused.
          - Defaults to the address of the host running the task on the router's network. Routers in
            secure mode (miniupnpd's default, FRITZ!Box) only accept the host asking for itself, so run the
            task on the NAS or give the NAS's address on a router that allows it.
        type: str
      description:
        description: "What the mapping is for; stored as C(<description_prefix>: <description>)."
        type: str
      lease_duration:
        description:
          - Seconds the router keeps the mapping; V(0) asks for a permanent mapping.
          - Routers that refuse permanent leases (IGD v2 routers, miniupnpd among them) turn V(0) into their
            longest lease, 604800 seconds (7 days); some force less (86400). The mapping then lives that long after
            the run that added or refreshed it.
          - A run refreshes (adds again) a mapping whose remaining lease is under half the one asked for (604800 for
            V(0)) and reports it as changed, with the remaining time in the diff. A mapping the router holds as
            permanent is left as it is. Run the task (or site.yml) on a schedule, at least every 3 days, to keep
            such mappings; see docs/real-nas.md.
        type: int
        default: 0
  state:
    description: Whether the mappings should exist.
    type: str
    choices: [present, absent]
    default: present
  exclusive:
    description:
      - With O(state=present), also remove mappings carrying O(description_prefix) that are not declared.
      - Declared mappings are added before undeclared ones are removed.
    type: bool
    default: false
  description_prefix:
    description: Marks the mappings this collection owns.
    type: str
    default: homelab.nas
  igd_url:
    description:
      - URL of the router's UPnP device description (for example V(http://192.168.1.1:5000/rootDesc.xml)).
        When unset the router is found by SSDP discovery on the local network.
    type: str
  discovery_timeout:
    description: Seconds to wait for SSDP answers.
    type: float
    default: 3
  timeout:
    description: Seconds to wait for each router response.
    type: int
    default: 10
  description_cache:
    description:
      - Keep what the router's device description says (the WAN connection service and its control URL) once
        read, so later tasks and runs do not fetch it again. The entry is keyed by the description URL (O(igd_url)
        or the one discovered, with the SSDP reply's USN, BOOTID and CONFIGID, which change when the router
        reboots or changes its description), on the host the module runs on (the controller, or the NAS when the
        task is delegated there), in E(HOMELAB_NAS_ROUTER_CACHE_DIR) or else C(~/.cache/homelab.nas/router) of
        the user it runs as (created mode 0700, files 0600; nothing secret is kept). Where that cannot be written
        the task runs without it.
      - A cached control URL that no longer answers (HTTP 404 or another error without a UPnP fault, no
        connection, UPnP error 401 Invalid Action) on the task's first call is dropped and the description fetched
        again, and nothing is written through a cached control URL before it answered in the task.
    type: bool
    default: true
  read_external_address:
    description:
      - Ask the router for its WAN address and report RV(external_address) and RV(behind_cgnat).
      - V(false) saves that request where the address is known already (a check-mode probe earlier in the run
        read it) or not needed (removing mappings).
    type: bool
    default: true
requirements:
  - python >= 3.8 (DSM 7's, when the task runs on the NAS; ansible-core 2.20 and later need 3.9 on targets,
    so run it on the NAS with ansible-core 2.19 or older)
notes:
  - Needs only the Python standard library, so it can run on the NAS itself (DSM 7 ships Python 3.8).
  - UPnP has no authentication; routers limit it by policy. Errors 606, 718 and 729 explain which policy refused.
"""

EXAMPLES = r"""
- name: Forward HTTPS to the NAS, and only that
  homelab.nas.router_port_forward:
    mappings:
      - external_port: 443
        internal_port: 443
        description: nas-https
    exclusive: true
  register: router

- name: Stop when the NAS cannot be reached from the internet
  ansible.builtin.assert:
    that: not router.behind_cgnat
    # cgnat_explanation is only returned behind CGNAT, and fail_msg is templated either way.
    fail_msg: "{{ router.cgnat_explanation | default('') }}"

# One WAN address read a run: a check-mode probe first, then the forward without asking again.
- name: Read the WAN address and the forwards, writing nothing
  homelab.nas.router_port_forward:
    mappings:
      - external_port: 443
        description: nas-https
  check_mode: true
  register: probe

- name: Forward HTTPS, the address already known
  homelab.nas.router_port_forward:
    mappings:
      - external_port: 443
        description: nas-https
    read_external_address: false

- name: Close a port again, on a router found by URL
  homelab.nas.router_port_forward:
    igd_url: http://192.168.1.1:5000/rootDesc.xml
    mappings:
      - external_port: 5001
    state: absent
"""

RETURN = r"""
external_address:
  description: The router's WAN address as it reports it (empty when it will not say).
  returned: when O(read_external_address) is true
  type: str
  sample: 203.0.113.7
behind_cgnat:
  description:
    - True when the WAN address is in 100.64.0.0/10 (carrier-grade NAT), private, or withheld by the router
      (miniupnpd does that for such addresses). Port forwards then do not make the NAS reachable.
  returned: when O(read_external_address) is true
  type: bool
cgnat_explanation:
  description: What RV(behind_cgnat) means for the user, when it is true.
  returned: when behind_cgnat is true
  type: str
igd_url:
  description: The device description used.
  returned: always
  type: str
service:
  description: The WAN connection service used.
  returned: always
  type: str
  sample: urn:schemas-upnp-org:service:WANIPConnection:2
mappings:
  description: The declared mappings as the router holds them after the task (absent ones omitted).
  returned: always
  type: list
  elements: dict
  sample:
    - {external_port: 443, protocol: tcp, internal_port: 443, internal_client: 192.168.1.10, enabled: true,
       description: "homelab.nas: nas-https", lease_duration: 604800}
removed:
  description:
    - "Mappings removed (or to be removed in check mode), as C(<protocol>/<external port>)."
    - When the task fails while writing, only the mappings the router had already deleted.
  returned: always
  type: list
  elements: str
applied:
  description:
    - When the task fails while writing, the writes the router acknowledged before the failure, in order, as
      C(add <protocol>/<external port>) or C(delete <protocol>/<external port>); after a failed re-add,
      C(put back <protocol>/<external port> as it was) or C(deleted <protocol>/<external port>, not put back).
  returned: on failure after a write
  type: list
  elements: str
"""


from ansible_collections.homelab.nas.plugins.module_utils import igd_client
from ansible_collections.homelab.nas.plugins.module_utils.dsm_validate import lan_address, port as check_port
from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabInputError
from ansible_collections.homelab.nas.plugins.module_utils.igd_client import MAX_LEASE
from ansible_collections.homelab.nas.plugins.module_utils.net import local_address_towards
from ansible_collections.homelab.nas.plugins.module_utils.ownership import is_ours, undeclared_ours
from ansible_collections.homelab.nas.plugins.module_utils.router_module import RouterModule

COMPARED = ("internal_port", "internal_client", "enabled", "description")
CGNAT_EXPLANATION = (
    "The router's WAN address %s is not a public address: the provider (carrier-grade NAT, 100.64.0.0/10) or "
    "another router in front (double NAT) sits between it and the internet, so ports forwarded here cannot be "
    "reached from outside. Ask the provider for a public IPv4 address, put the upstream router in bridge mode, "
    "or use a tunnel instead of port forwarding (Cloudflare Tunnel: homelab.nas.cloudflare_tunnel, or the exposure "
    "role's exposure_mode: tunnel)."
)


def key(mapping):
    return "%s/%s" % (mapping["protocol"], mapping["external_port"])


def validate(p):
    """Normalise declared mappings; every error names the field and the fix. No network yet."""
    declared = []
    for index, item in enumerate(p["mappings"]):
        where = "mappings[%d]" % index
        protocol = (item["protocol"] or "").lower()
        if protocol not in ("tcp", "udp"):
            raise HomelabInputError(
                "%s.protocol: '%s' is not a protocol port forwarding knows; use tcp or udp" % (where, item["protocol"])
            )
        internal_port = item["internal_port"] or item["external_port"]
        for name, port in (("external_port", item["external_port"]), ("internal_port", internal_port)):
            check_port("%s.%s" % (where, name), port)
        client = item["internal_client"]
        if client is not None:  # a LAN address only: a forward to a public one would relay to the internet
            client = lan_address("%s.internal_client" % where, client)
        if not 0 <= item["lease_duration"] <= MAX_LEASE:
            raise HomelabInputError(
                "%s.lease_duration: %s is out of range; use 0 (permanent) to %d seconds"
                % (where, item["lease_duration"], MAX_LEASE)
            )
        mapping = dict(
            external_port=item["external_port"],
            protocol=protocol,
            internal_port=internal_port,
            internal_client=client,
            enabled=True,
            lease_duration=item["lease_duration"],
            description="%s: %s"
            % (p["description_prefix"], item["description"] or "%s %s" % (protocol, item["external_port"])),
        )
        if any(key(m) == key(mapping) for m in declared):
            raise HomelabInputError(
                "%s: %s is declared twice; one external port and protocol can only be forwarded "
                "to one place" % (where, key(mapping))
            )
        declared.append(mapping)
    return declared


def differs(current, wanted):
    return current is None or any(current[k] != wanted[k] for k in COMPARED)


def requested_lease(wanted):
    """The lease a mapping was asked for, as the router sees it: 0 (permanent) becomes the longest lease on the
    routers that grant one instead (IGD v2's rule, miniupnpd)."""
    return wanted["lease_duration"] or MAX_LEASE


def refresh_due(held, wanted):
    """Whether a held mapping's lease needs refreshing: under half the requested one left. GetSpecificPortMapping-
    Entry answers the remaining time (miniupnpd `upnp_get_redirection_infos`: expiry minus now, 0 when the
    mapping has no expiry), so 0 is a permanent mapping, never refreshed."""
    left = held["lease_duration"] if held else 0
    return bool(left) and left < requested_lease(wanted) / 2


def report_cgnat(mod, client):
    """WAN address and CGNAT, kept in `partial` so that a failure still reports them."""
    external = client.external_address()
    kind = igd_client.address_kind(external) if external else "unknown"
    mod.partial.update(external_address=external, behind_cgnat=kind != "public")
    if mod.partial["behind_cgnat"]:
        mod.partial["cgnat_explanation"] = CGNAT_EXPLANATION % (external or "(withheld by the router)")
        mod.warn(mod.partial["cgnat_explanation"])


def plan(mod, client, declared):
    """(current, mappings to add, mappings to delete, {key: lease left} of the adds that only refresh a lease);
    every read first, so a conflict stops before any write."""
    p = mod.params
    listed = None
    if p["state"] == "present" and p["exclusive"]:
        # The whole list holds the declared mappings too: no GetSpecificPortMappingEntry each.
        listed = {key(m): m for m in client.all_mappings()}
        current = {key(m): listed.get(key(m)) for m in declared}
    else:
        current = read(client, declared)
    to_add, to_delete, refresh = [], [], {}
    for mapping in declared:
        held = current[key(mapping)]
        if p["state"] == "present":
            if held and held["internal_client"] != mapping["internal_client"]:
                mod.fail(
                    "%s is already forwarded to %s (%s), not to %s. Remove that mapping on the router first, "
                    "or choose another external port"
                    % (
                        key(mapping),
                        held["internal_client"],
                        held["description"] or "no description",
                        mapping["internal_client"],
                    )
                )
            if differs(held, mapping):
                to_add.append(mapping)
            elif refresh_due(held, mapping):
                # Re-adding renews the lease (the spec: AddPortMapping overwrites; miniupnpd renews in place).
                refresh[key(mapping)] = held["lease_duration"]
                to_add.append(mapping)
        elif held:
            if held["internal_client"] == mapping["internal_client"] or is_ours(
                held["description"], p["description_prefix"]
            ):
                to_delete.append(held)
            else:
                mod.warn("%s is forwarded to %s by someone else; left in place" % (key(held), held["internal_client"]))
    if listed is not None:
        declared_keys = {key(m) for m in declared}
        to_delete += undeclared_ours(
            list(listed.values()), declared_keys, key, lambda m: m["description"], p["description_prefix"]
        )
    return current, to_add, to_delete, refresh


def read(client, declared):
    """{key: mapping or None} of the declared mappings as the router holds them."""
    held = client.get_mappings([(m["protocol"], m["external_port"]) for m in declared])
    return {key(m): held[(m["protocol"], m["external_port"])] for m in declared}


def add_or_put_back(client, mapping, held, applied):
    """Add a mapping just deleted to be added afresh. Should the add fail, the port would stay unforwarded until
    a later run: what the router held goes back first (with the lease it had left), then the task fails."""
    try:
        client.add_mapping_any_lease(mapping)
    except igd_client.UpnpError:
        try:
            client.add_mapping_any_lease(held)
            applied.append("put back %s as it was" % key(held))
        except igd_client.UpnpError:
            applied.append("deleted %s, not put back" % key(held))
        raise


def write(mod, client, declared, to_add, to_delete):
    """Add, delete, then read back: routers silently adjust leases (and worse), so report what they hold."""
    applied = mod.partial.setdefault("applied", [])

    def done(what, mapping):
        applied.append("%s %s" % (what, key(mapping)))
        mod.partial["changed"] = True
        if what == "delete":
            mod.partial["removed"].append(key(mapping))

    # Adds first: a failure in between leaves an extra mapping of ours, never a declared one missing.
    for mapping in to_add:
        client.add_mapping_any_lease(mapping)
        done("add", mapping)
    for mapping in to_delete:
        client.delete_mapping(mapping["external_port"], mapping["protocol"])
        done("delete", mapping)
    # A delete's answer proves nothing either (miniupnpd answers success for a mapping it does not have).
    after = read(client, declared)
    for mapping in to_delete:
        still = (
            after[key(mapping)]
            if key(mapping) in after
            else client.get_mapping(mapping["external_port"], mapping["protocol"])
        )
        if still is not None:
            mod.fail("the router acknowledged deleting %s but still holds it" % key(mapping))
    for mapping in to_add:
        held = after[key(mapping)]
        if held and held["internal_client"] == mapping["internal_client"] and differs(held, mapping):
            # miniupnpd 2.3.1 (nftables) keeps the old description when a mapping is re-added with the
            # same internal port; a fresh mapping takes the new one.
            client.delete_mapping(mapping["external_port"], mapping["protocol"])
            add_or_put_back(client, mapping, held, applied)
            after[key(mapping)] = client.get_mapping(mapping["external_port"], mapping["protocol"])
        if after[key(mapping)] is None or differs(after[key(mapping)], mapping):
            mod.fail(
                "the router accepted %s but holds %s; it does not support this mapping"
                % (key(mapping), after[key(mapping)])
            )
        if refresh_due(after[key(mapping)], mapping):
            mod.warn(
                "the router gave %s a lease of %s seconds, under half the %s asked for: it caps leases, so every run "
                "refreshes this mapping; run the task more often than every %s seconds to keep it"
                % (
                    key(mapping),
                    after[key(mapping)]["lease_duration"],
                    requested_lease(mapping),
                    after[key(mapping)]["lease_duration"],
                )
            )
    del mod.partial["applied"]  # only reported when a write fails
    return dict(mappings=[after[key(m)] for m in declared if after.get(key(m))])


def run(mod, declared):
    client = mod.client  # discovery and the device description: igd_url and service land in `partial`
    if mod.params["read_external_address"]:
        report_cgnat(mod, client)
    own_address = None
    for mapping in declared:
        if mapping["internal_client"] is None:
            own_address = own_address or local_address_towards(client.router_host)
            mapping["internal_client"] = own_address
    current, to_add, to_delete, refresh = plan(mod, client, declared)
    before = {k: v for k, v in current.items() if v}
    before.update({key(m): m for m in to_delete})
    after = {k: v for k, v in before.items() if v not in to_delete}
    after.update({key(m): m for m in to_add})
    result = dict(
        removed=sorted(key(m) for m in to_delete), mappings=[after[key(m)] for m in declared if after.get(key(m))]
    )
    shown_before, shown_after = lease_free(before), lease_free(after)
    for name, left in refresh.items():
        # The one lease line a diff shows: why an otherwise unchanged mapping is written.
        asked = requested_lease(after[name])
        shown_before[name]["lease"] = "%d s left of %d, under half: refresh due" % (left, asked)
        shown_after[name]["lease"] = "refreshed: %d s" % asked
    return mod.converge(shown_before, shown_after, lambda: write(mod, client, declared, to_add, to_delete), result)


def lease_free(mappings):
    # Remaining lease time ticks on its own; it is not a change (a refresh below half is, see run()).
    return {k: {f: v for f, v in m.items() if f != "lease_duration"} for k, m in sorted(mappings.items())}


def main():
    module = RouterModule(
        argument_spec=dict(
            mappings=dict(
                type="list",
                elements="dict",
                required=True,
                options=dict(
                    external_port=dict(type="int", required=True),
                    internal_port=dict(type="int"),
                    protocol=dict(type="str", default="tcp"),
                    internal_client=dict(type="str"),
                    description=dict(type="str"),
                    lease_duration=dict(type="int", default=0),
                ),
            ),
            state=dict(type="str", default="present", choices=["present", "absent"]),
            exclusive=dict(type="bool", default=False),
            description_prefix=dict(type="str", default="homelab.nas"),
            igd_url=dict(type="str"),
            discovery_timeout=dict(type="float", default=3),
            timeout=dict(type="int", default=10),
            description_cache=dict(type="bool", default=True),
            read_external_address=dict(type="bool", default=True),
        ),
        supports_check_mode=True,
    )
    module.partial.update(changed=False, removed=[], mappings=[])
    module.run(run, validate=validate)


if __name__ == "__main__":
    main()
