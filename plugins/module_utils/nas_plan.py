# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""From the roles' declared state (nas_services, the hardening inputs) to what each module is given.

Pure functions, no I/O: the filter plugins (plugins/filter/) expose them to the roles, so a role builds
each list in one expression instead of an item-by-item set_fact loop, and running a role twice for one
host gives the same lists.
"""

from __future__ import annotations

from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_ports import HTTPS_PORTS
from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabInputError

DEFAULT_EXTERNAL_PORT = 443


class PlanError(HomelabInputError):
    """Declared state that cannot be turned into module input; the message names the field."""


def _external_port(service):
    return int(service.get("external_port") or DEFAULT_EXTERNAL_PORT)


def _field(service, index, name):
    if service.get(name) in (None, ""):
        raise PlanError("nas_services[%d].%s is required" % (index, name))
    return service[name]


def is_absent(service):
    """A service declared with `state: absent`: to be removed, not published."""
    return isinstance(service, dict) and str(service.get("state") or "present").lower() == "absent"


def _present(services):
    """(index in nas_services, service) of the services to publish; indexes keep error messages exact."""
    return [(index, service) for index, service in enumerate(services or []) if not is_absent(service)]


def present_services(services):
    """The services to publish: every one not declared with `state: absent`."""
    return [service for service in services or [] if not is_absent(service)]


def reverse_proxy_rules(services):
    """One DSM reverse-proxy rule per service: its hostname on its external port to its backend."""
    rules = []
    for index, service in _present(services):
        rules.append(
            {
                "description": _field(service, index, "name"),
                "frontend": {"hostname": _field(service, index, "hostname"), "port": _external_port(service)},
                "backend": {
                    "host": service.get("backend_host") or "localhost",
                    "port": int(_field(service, index, "backend_port")),
                    "protocol": service.get("backend_protocol") or "http",
                },
                "websocket": bool(service.get("websocket", False)),
            }
        )
    return rules


def external_ports(services):
    """The distinct external ports of the services, in the order they are first declared."""
    ports = []
    for service in present_services(services):
        port = _external_port(service)
        if port not in ports:
            ports.append(port)
    return ports


def port_forwards(services, internal_client=None):
    """One router port forward per distinct external port, to the same port on the NAS."""
    forwards = []
    for port in external_ports(services):
        forward = {"external_port": port, "internal_port": port, "description": "https %d" % port}
        if internal_client:
            forward["internal_client"] = internal_client
        forwards.append(forward)
    return forwards


def dns_records(services, content):
    """One proxied Cloudflare record per service: its hostname pointing at `content` (the public address).
    The comment is the service's name; cloudflare_dns_records stores it behind its owner mark."""
    return [
        {
            "name": _field(service, index, "hostname"),
            "content": content,
            "proxied": True,
            "port": _external_port(service),
            "comment": _field(service, index, "name"),
        }
        for index, service in _present(services)
    ]


def tunnel_ingress(services, origin="localhost"):
    """One Cloudflare Tunnel ingress rule per service: its hostname to DSM's reverse proxy (`https://<origin>:<external
    port>`, where the connector reaches DSM's nginx), the hostname sent as SNI so nginx picks the service's server
    block, and DSM's certificate accepted as it is (the Origin CA's root is not one the connector trusts)."""
    return [
        {
            "hostname": _field(service, index, "hostname"),
            "service": "https://%s:%d" % (origin, _external_port(service)),
            "no_tls_verify": True,
            "origin_server_name": _field(service, index, "hostname"),
            "comment": _field(service, index, "name"),
        }
        for index, service in _present(services)
    ]


def unproxied_services(services):
    """The services whose external port Cloudflare's proxy does not pass over HTTPS."""
    return [s for s in present_services(services) if _external_port(s) not in HTTPS_PORTS]


def firewall_rules(
    lan_networks, services=(), dsm_port=None, lan_ports=(), cloudflare_ranges=(), nas_port=None, controller_address=None
):
    """The hardening firewall's allow rules: the LAN reaches DSM (its default ports, `dsm_port` the controller
    connects to and `nas_port` DSM receives it on behind a port translation), the extra LAN ports and the
    published ports; Cloudflare's ranges reach the published ports only. `controller_address` (the address DSM
    sees the controller come from, either family) reaches DSM's ports when no LAN network holds it."""
    if controller_address not in (None, ""):
        group = dsm_validate.source("hardening_controller_address", controller_address)[0]
        if group != "ip":
            raise PlanError(
                "hardening_controller_address: '%s' is not one address; give the address DSM sees this controller "
                "come from, for example 192.168.1.5 or fd00::5" % controller_address
            )
    # Both become allow rules' sources: nothing as wide as 0.0.0.0/0 (checked, kept as given).
    for where, networks in (("hardening_lan_networks", lan_networks), ("cloudflare_ranges", cloudflare_ranges)):
        for index, network in enumerate(networks or []):
            dsm_validate.trusted_network("%s[%d]" % (where, index), network)
    published = [str(p) for p in external_ports(services)]
    api = ["dsm", str(dsm_port or 5001)] + ([str(nas_port)] if nas_port not in (None, "") else [])
    lan = api + [str(p) for p in lan_ports or []] + published
    rules = [
        {"name": "lan %s" % network, "ports": lan, "protocol": "tcp_udp", "source": network}
        for network in lan_networks or []
    ]
    if controller_address not in (None, "") and not any(
        dsm_validate.source_contains(*dsm_validate.source("lan_networks", network), str(controller_address))
        for network in lan_networks or []
    ):
        rules.insert(0, {"name": "controller", "ports": api, "protocol": "tcp", "source": str(controller_address)})
    if published:
        rules += [{"name": "cloudflare", "ports": published, "source": network} for network in cloudflare_ranges or []]
    return rules
