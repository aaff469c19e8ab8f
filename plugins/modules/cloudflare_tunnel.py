#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_tunnel
short_description: A remotely managed Cloudflare Tunnel, its ingress rules and the proxied CNAMEs of its hostnames
version_added: 1.0.0
description:
  - Makes sure the account has a remotely managed Cloudflare Tunnel named O(name) (C(config_src=cloudflare)), whose
    ingress rules send each hostname of O(ingress) to its service, followed by the catch-all rule O(catch_all).
  - Each hostname gets a proxied CNAME to C(<tunnel id>.cfargotunnel.com) in O(zone), its comment carrying the mark
    O(comment_prefix). One of our A, AAAA or CNAME records on the name is overwritten in place (Cloudflare refuses a
    CNAME beside them); a record without the mark stops the task before any write. Our CNAMEs to this tunnel whose
    hostname is no longer in O(ingress) are deleted.
  - The tunnel carries the traffic only while a connector (C(cloudflared tunnel run --token ...)) runs near the
    origin, for example in DSM's Container Manager (docs/real-nas.md). The connector token can be written to
    O(token_path) (mode 0600) or returned (O(return_token), only on a task with C(no_log)).
  - Every value is checked before the first request; hostnames must be in O(zone), services one of the forms
    cloudflared takes. Only the ingress rules are managed; other keys of the tunnel's configuration are kept.
  - O(state=absent) deletes our CNAMEs to the tunnel, then the tunnel, and the token file when it holds the
    tunnel's token. Cloudflare refuses to delete a tunnel while a connector is connected; stop it first.
  - The API token needs Account > Cloudflare Tunnel > Edit and Zone > DNS > Edit (Cloudflare's guide).
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.cloudflare
  - homelab.nas.cloudflare.zone
  - homelab.nas.attributes
  - homelab.nas.attributes.full
options:
  account_id:
    description:
      - The Cloudflare account the tunnel belongs to (32 hexadecimal characters).
      - Unset, the account that holds O(zone) (read from the zone, which needs Zone > Zone > Read).
    type: str
  name:
    description: The tunnel's name, unique in the account.
    type: str
    required: true
  ingress:
    description: The rules, in order; the first whose hostname (and path) matches a request is used.
    type: list
    elements: dict
    default: []
    suboptions:
      hostname:
        description: The public hostname, in O(zone).
        type: str
        required: true
      service:
        description:
          - Where the connector sends the request, as seen from the connector, for example V(https://localhost:443).
          - V(http://host[:port]), V(https://host[:port]), V(tcp://host:port), V(ssh://host[:port]) or
            V(http_status:NNN). No path.
        type: str
        required: true
      path:
        description: A regular expression the request's path must match too.
        type: str
      no_tls_verify:
        description: Accept any certificate from an V(https://) service (DSM's own one, for example).
        type: bool
      origin_server_name:
        description: The name the connector expects in the service's certificate (and sends as SNI).
        type: str
      comment:
        description: "Stored with the CNAME as C(<comment_prefix>: <comment>). Defaults to the hostname."
        type: str
  catch_all:
    description: The service of the last rule, which matches every other request.
    type: str
    default: http_status:404
  manage_dns:
    description: Make the proxied CNAMEs of the hostnames (and delete ours that are no longer declared).
    type: bool
    default: true
  comment_prefix:
    description: The mark on the CNAMEs' comments; only records carrying it are ever overwritten or deleted.
    type: str
    default: homelab.nas
  token_path:
    description:
      - Where to write the connector token (mode 0600; the directory must exist). A file there that is not a
        connector token, or is the token of another tunnel that still exists, is never overwritten.
    type: path
  return_token:
    description: Return the connector token as RV(token). The task must have C(no_log) set, or it fails.
    type: bool
    default: false
  state:
    description: V(present) or V(absent).
    type: str
    choices: [present, absent]
    default: present
"""

EXAMPLES = r"""
- name: The NAS behind a tunnel instead of port forwarding
  homelab.nas.cloudflare_tunnel:
    zone: example.com
    account_id: 0123456789abcdef0123456789abcdef
    name: nas
    ingress:
      - hostname: photos.example.com
        service: https://localhost:443
        no_tls_verify: true
        origin_server_name: photos.example.com
    token_path: /etc/homelab/tunnel.token
  register: tunnel

- name: Without it
  homelab.nas.cloudflare_tunnel:
    zone: example.com
    name: nas
    state: absent
"""

RETURN = r"""
tunnel_id:
  description: The tunnel's id (null in check mode before it is created, and after O(state=absent)).
  returned: always
  type: str
cname_target:
  description: Where the hostnames' CNAMEs point, C(<tunnel id>.cfargotunnel.com) (null while tunnel_id is).
  returned: always
  type: str
ingress:
  description: The ingress rules as sent to Cloudflare, the catch-all last.
  returned: when state=present
  type: list
  elements: dict
dns:
  description: What was done to the records, C(<action> <name>) (create, overwrite, delete).
  returned: always
  type: list
  elements: str
token_written:
  description: Whether O(token_path) was (or, in check mode, would be) written.
  returned: when token_path is set and state=present
  type: bool
token:
  description: The connector token (C(cloudflared tunnel run --token <token>)). Keep it secret.
  returned: when return_token is true and the tunnel exists
  type: str
"""

import contextlib
import os

from ansible_collections.homelab.nas.plugins.module_utils import cloudflare_tunnel as ct, dsm_validate as v, file_lock
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_dns import CloudflareDns, fqdn
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_module import CloudflareModule
from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabInputError
from ansible_collections.homelab.nas.plugins.module_utils.ownership import is_ours, mark

NEW_TARGET = "(the new tunnel's id)" + ct.TARGET_SUFFIX
DNS_TYPES = ("A", "AAAA", "CNAME")


def read_token_file(path):
    """(exists, the token's {a, t, s} or None)."""
    if not path or not os.path.exists(path):
        return False, None
    try:
        with open(path, encoding="utf-8") as handle:
            return True, ct.parse_token(handle.read())
    except (OSError, UnicodeDecodeError):
        return True, None


def validate(p):
    account = ct.account_id(p["account_id"]) if p["account_id"] else None
    name = str(p["name"] or "").strip()
    if not name or any(ord(c) < 32 for c in name):
        raise HomelabInputError("name: give the tunnel a name (printable characters)")
    zone = v.hostname("zone", p["zone"])
    rules, hostnames, seen = [], [], set()
    for index, item in enumerate(p["ingress"] or []):
        where = "ingress[%d]." % index
        hostname = fqdn(item["hostname"], zone, where)
        if hostname.startswith("*"):
            raise HomelabInputError(
                "%shostname: '%s' is a wildcard; give each hostname (a wildcard CNAME would send every name of the "
                "zone without a record of its own through the tunnel)" % (where, item["hostname"])
            )
        rule_path = ct.path(where + "path", item.get("path"))
        if (hostname, rule_path) in seen:
            raise HomelabInputError(
                "%shostname: %s%s is listed twice; the second rule would never be used"
                % (where, hostname, " with path %s" % rule_path if rule_path else "")
            )
        seen.add((hostname, rule_path))
        rule = {"hostname": hostname, "service": ct.service(where + "service", item["service"])}
        if rule_path:
            rule["path"] = rule_path
        origin = {}
        if item.get("no_tls_verify") is not None:
            origin["noTLSVerify"] = item["no_tls_verify"]
        if item.get("origin_server_name"):
            origin["originServerName"] = v.hostname(where + "origin_server_name", item["origin_server_name"])
        if origin:
            rule["originRequest"] = origin
        rules.append(rule)
        if hostname not in [h for h, _c in hostnames]:
            hostnames.append((hostname, mark(p["comment_prefix"], item.get("comment") or hostname)))
    catch_all = ct.service("catch_all", p["catch_all"])
    rules.append({"service": catch_all})
    exists, token = read_token_file(p["token_path"])
    if p["token_path"] and p["state"] == "present":
        directory = os.path.dirname(os.path.abspath(p["token_path"]))
        if not os.path.isdir(directory):
            raise HomelabInputError("token_path: directory %s does not exist; create it (mode 0700) first" % directory)
        if exists and token is None:
            raise HomelabInputError(
                "token_path: %s exists and is not a Cloudflare Tunnel connector token, so it is not ours to "
                "overwrite; point token_path at a new file" % p["token_path"]
            )
    if p["manage_dns"] and not p["comment_prefix"]:
        raise HomelabInputError("comment_prefix: give the mark (homelab.nas) that tells our records from others")
    return dict(account=account, name=name, zone=zone, rules=rules, hostnames=hostnames)


def dns_plan(records, wanted_target, hostnames, prefix, tunnel_target):
    """(siblings, writes [(existing or None, record)], stale) for the hostnames' CNAMEs, or HomelabInputError naming
    a record on a hostname that does not carry our mark. `siblings` are our other records on a hostname, deleted
    before its CNAME is written (Cloudflare refuses a CNAME beside an A or AAAA, 81053; the record overwritten in
    place keeps the name served meanwhile); `stale` our CNAMEs to the tunnel on names no longer declared."""
    siblings, writes = [], []
    declared = {h for h, _c in hostnames}
    for hostname, comment in hostnames:
        record = dict(type="CNAME", name=hostname, content=wanted_target, proxied=True, ttl=1, comment=comment)
        on_name = sorted((r for r in records if v.name_key(r.get("name")) == hostname), key=lambda r: str(r["id"]))
        foreign = [
            r
            for r in on_name
            if not is_ours(r.get("comment"), prefix) and not (r["type"] == "CNAME" and r["content"] == tunnel_target)
        ]
        if foreign:
            raise HomelabInputError(
                "ingress: %s already has %s record(s) without the mark '%s:' (made by hand or by another program), "
                "which this module never overwrites; delete them in Cloudflare, or start their comment with '%s:' "
                "to have them replaced by the tunnel's CNAME"
                % (hostname, "/".join(r["type"] for r in foreign), prefix, prefix)
            )
        cname = [r for r in on_name if r["type"] == "CNAME"]
        keep = cname[0] if cname else (on_name[0] if on_name else None)
        if keep is None or {k: keep.get(k) for k in record} != record:
            writes.append((keep, record))
        siblings += [r for r in on_name if r is not keep]
    stale = []
    if tunnel_target:
        stale = [
            r
            for r in records
            if r["type"] == "CNAME"
            and r["content"] == tunnel_target
            and v.name_key(r.get("name")) not in declared
            and is_ours(r.get("comment"), prefix)
        ]
    return siblings, writes, stale


def dns_view(records, hostnames, tunnel_target):
    """The records the task manages, as the diff shows them: `<type> <name> -> <content>`."""
    names = {h for h, _c in hostnames}
    return sorted(
        "%s %s -> %s%s" % (r["type"], v.name_key(r["name"]), r["content"], "" if r.get("proxied") else " (DNS only)")
        for r in records
        if v.name_key(r.get("name")) in names
        or (tunnel_target and r["type"] == "CNAME" and r["content"] == tunnel_target)
    )


def present(mod, wanted, tunnels, dns):
    p = mod.params
    tunnel = tunnels.find(wanted["name"])
    if tunnel is not None and tunnel.get("remote_config") is False:
        raise HomelabInputError(
            "name: the tunnel %s is locally managed (its ingress rules live in a cloudflared config file), so "
            "Cloudflare will not serve it a configuration; give another name for a remotely managed tunnel, or "
            "delete that one" % wanted["name"]
        )
    tunnel_id = tunnel["id"] if tunnel else None
    config = tunnels.configuration(tunnel_id) if tunnel_id else {}
    current_rules = [ct.rule_view(r) for r in config.get("ingress") or [] if isinstance(r, dict)]
    wanted_rules = [ct.rule_view(r) for r in wanted["rules"]]
    tunnel_target = ct.target(tunnel_id) if tunnel_id else None
    records = dns.records() if dns else []
    siblings, writes, stale = (
        dns_plan(records, tunnel_target or NEW_TARGET, wanted["hostnames"], p["comment_prefix"], tunnel_target)
        if dns
        else ([], [], [])
    )
    deletes = siblings + stale
    exists, held = read_token_file(p["token_path"])
    if p["token_path"] and held is not None and held.get("t") != tunnel_id and tunnels.exists(held["t"]):
        raise HomelabInputError(
            "token_path: %s holds the connector token of another tunnel (%s) that still exists; point token_path at "
            "a file of its own" % (p["token_path"], held.get("t"))
        )
    token_current = bool(tunnel_id and held and held.get("t") == tunnel_id)
    before = dict(
        tunnel=wanted["name"] if tunnel_id else None,
        ingress=current_rules,
        dns=dns_view(records, wanted["hostnames"], tunnel_target),
    )
    replaced = [id(e) for e, _r in writes if e is not None] + [id(r) for r in deletes]
    records_after = [r for r in records if id(r) not in replaced] + [r for _e, r in writes]
    after = dict(
        tunnel=wanted["name"],
        ingress=wanted_rules,
        dns=dns_view(records_after, wanted["hostnames"], tunnel_target or NEW_TARGET),
    )
    if p["token_path"]:
        before["token_file"] = "current" if token_current else ("other" if exists else "absent")
        after["token_file"] = "current"
    state = dict(tunnel_id=tunnel_id, token=None)
    actions = ["create %s" % r["name"] if e is None else "overwrite %s" % r["name"] for e, r in writes]
    actions += ["delete %s" % r["name"] for r in deletes]

    def apply():
        if state["tunnel_id"] is None:
            created = tunnels.create(wanted["name"])
            state.update(tunnel_id=created["id"], token=created.get("token"))
            mod.partial.update(tunnel_id=created["id"], changed=True)
        if current_rules != wanted_rules:
            tunnels.put_configuration(state["tunnel_id"], dict(config, ingress=wanted["rules"]))
            mod.partial.update(changed=True)  # a DNS failure after this still reports the change
        if dns:
            new_target = ct.target(state["tunnel_id"])
            for record in siblings:
                dns.delete(record["id"])
            for existing, record in writes:
                record = dict(record, content=new_target)
                if existing is None:
                    dns.create(record)
                else:
                    dns.overwrite(existing["id"], record)
            for record in stale:
                dns.delete(record["id"])
        if p["token_path"] and not token_current:
            token = state["token"] or tunnels.token(state["tunnel_id"])
            state["token"] = token
            with file_lock.locked(file_lock.sibling_lock(p["token_path"]), what="tunnel token file"):
                file_lock.write_atomic(p["token_path"], token + "\n", 0o600)

    result = mod.converge(before, after, apply, dict(dns=actions))
    tunnel_id = state["tunnel_id"]
    result.update(
        tunnel_id=tunnel_id, cname_target=ct.target(tunnel_id) if tunnel_id else None, ingress=wanted["rules"]
    )
    if p["token_path"]:
        result["token_written"] = not token_current
    if p["return_token"] and tunnel_id:
        result["token"] = state["token"] or tunnels.token(tunnel_id)
    return result


def absent(mod, wanted, tunnels, dns):
    p = mod.params
    tunnel = tunnels.find(wanted["name"])
    tunnel_id = tunnel["id"] if tunnel else None
    tunnel_target = ct.target(tunnel_id) if tunnel_id else None
    records = dns.records() if dns and tunnel_target else []
    ours = [
        r
        for r in records
        if r["type"] == "CNAME" and r["content"] == tunnel_target and is_ours(r.get("comment"), p["comment_prefix"])
    ]
    exists, held = read_token_file(p["token_path"])
    remove_file = bool(tunnel_id and held and held.get("t") == tunnel_id)
    before = dict(tunnel=wanted["name"] if tunnel_id else None, dns=dns_view(ours, [], tunnel_target))
    after = dict(tunnel=None, dns=[])
    if remove_file:
        before["token_file"], after["token_file"] = "current", "absent"

    def apply():
        for record in ours:
            dns.delete(record["id"])
        if tunnel_id:
            tunnels.delete(tunnel_id)
        if remove_file:
            os.unlink(p["token_path"])

    result = mod.converge(before, after, apply, dict(dns=["delete %s" % r["name"] for r in ours]))
    result.update(tunnel_id=None, cname_target=None)
    return result


def run(mod, wanted):
    if mod.params["return_token"] and not mod.no_log:
        raise HomelabInputError(
            "return_token: the connector token would be shown in the task's output and logs; set no_log: true on "
            "the task, or use token_path"
        )
    account = wanted["account"] or mod.client.zone_account_id(mod.zone_id)
    tunnels = ct.CloudflareTunnels(mod.client, account)
    dns = CloudflareDns(mod.client, mod.zone_id) if mod.params["manage_dns"] else None
    # The zone's records are listed and written under its lock (tasks of this controller take turns).
    with mod.zone_locked() if dns else contextlib.nullcontext():
        if mod.params["state"] == "absent":
            return absent(mod, wanted, tunnels, dns)
        return present(mod, wanted, tunnels, dns)


def main():
    module = CloudflareModule(
        argument_spec=dict(
            account_id=dict(type="str"),
            name=dict(type="str", required=True),
            ingress=dict(
                type="list",
                elements="dict",
                default=[],
                options=dict(
                    hostname=dict(type="str", required=True),
                    service=dict(type="str", required=True),
                    path=dict(type="str"),
                    no_tls_verify=dict(type="bool"),
                    origin_server_name=dict(type="str"),
                    comment=dict(type="str"),
                ),
            ),
            catch_all=dict(type="str", default="http_status:404"),
            manage_dns=dict(type="bool", default=True),
            comment_prefix=dict(type="str", default="homelab.nas"),
            token_path=dict(type="path", no_log=False),
            return_token=dict(type="bool", default=False, no_log=False),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        ),
        supports_check_mode=True,
    )
    module.run(run, validate=validate)


if __name__ == "__main__":
    main()
