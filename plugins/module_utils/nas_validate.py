# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""The planning step: every mistake in the declared state of the site play, found before anything is written.

Pure functions, no I/O. `plan_errors(declared, router=None)` returns one message per mistake, each naming the
variable and the fix, so a user sees all of them at once instead of one per run (and not after port 443 is
already forwarded). The field-level rules are the ones the modules apply (dsm_validate, cloudflare_settings,
dsm_firewall_rules), reused here so the plan and the modules cannot disagree.
"""

from __future__ import annotations

import ipaddress
import re

from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate, dsm_web
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_ports import HTTPS_PORTS, describe_https_ports
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_settings import SettingError, desired_settings
from ansible_collections.homelab.nas.plugins.module_utils.dsm_firewall_rules import _ports as firewall_ports
from ansible_collections.homelab.nas.plugins.module_utils.nginx_patch import nginx_patch_errors

TIME_OF_DAY = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
CGNAT = ipaddress.ip_network("100.64.0.0/10")  # RFC 6598 shared address space
TUNNEL_FIX = (
    "the internet cannot reach it; use a tunnel instead of port forwarding (exposure_mode: tunnel, a Cloudflare "
    "Tunnel: docs/real-nas.md), or ask the provider for a public address"
)
EXPOSURE_MODES = ("port_forward", "tunnel")


normalise_hostname = dsm_validate.name_key  # lower case, no trailing dot: how DNS compares names (RFC 4343)


def covers(pattern, name):
    """A certificate name covers `name`: equal, or `*.parent` and `name` is one label under parent
    (a wildcard stands for exactly one label, RFC 6125 6.4.3)."""
    pattern, name = normalise_hostname(pattern), normalise_hostname(name)
    if pattern.startswith("*."):
        head, _dot, parent = name.partition(".")
        return bool(head) and parent == pattern[2:]
    return pattern == name


def in_zone(name, zone):
    return name == zone or name.endswith("." + zone)


def certificate_names(declared):
    """The names the tls role's Origin CA or ACME certificate is requested for (default: the zone and its wildcard)."""
    zone = normalise_hostname(declared.get("nas_zone"))
    names = declared.get("tls_hostnames")
    return [normalise_hostname(n) for n in names] if names else [zone, "*." + zone]


def _check(errors, func, *args):
    try:
        return func(*args)
    except (dsm_validate.InputError, SettingError) as exc:
        errors.append(str(exc))
    return None


def zone_errors(declared):
    zone = declared.get("nas_zone")
    if not zone:
        return ["nas_zone: not set; give the Cloudflare zone the hostnames are in, for example example.com"]
    errors = []
    name = _check(errors, dsm_validate.hostname, "nas_zone", zone)
    if name and "." not in name:
        errors.append("nas_zone: '%s' is a single label; give the registered domain, for example example.com" % zone)
    return errors


def service_errors(declared):
    """Each service's fields, unique names and hostnames, inside the zone and covered by the certificate."""
    errors = []
    zone = normalise_hostname(declared.get("nas_zone"))
    source = declared.get("tls_certificate_source", "cloudflare_origin")
    # letsencrypt_dsm's default names are the zone and every published hostname: only given names can miss one.
    given = source == "letsencrypt_dsm" and declared.get("tls_hostnames")
    cert = certificate_names(declared) if source in ("cloudflare_origin", "letsencrypt_dns") or given else None
    seen_names, seen_hosts = {}, {}
    for index, service in enumerate(declared.get("nas_services") or []):
        where = "nas_services[%d]" % index
        if not isinstance(service, dict):
            errors.append("%s: give a mapping with name, hostname and backend_port" % where)
            continue
        name = str(service.get("name") or "").strip()
        if not name:
            errors.append("%s.name: not set; give each service a short unique name" % where)
        elif name.lower() in seen_names:
            errors.append(
                "%s.name: '%s' is already the name of nas_services[%d]; give each service its own name"
                % (where, name, seen_names[name.lower()])
            )
        else:
            seen_names[name.lower()] = index
        state = str(service.get("state") or "present")
        if state not in ("present", "absent"):
            errors.append("%s.state: '%s' is neither present nor absent" % (where, service.get("state")))
        if state == "absent":
            # Nothing of it is published: what carries our mark and is not declared goes. Only the name counts.
            continue
        host = None
        if not service.get("hostname"):
            errors.append("%s.hostname: not set; give the public hostname, for example photos.%s" % (where, zone))
        else:
            host = _check(errors, dsm_validate.hostname, where + ".hostname", service["hostname"])
        if host:
            if host in seen_hosts:
                errors.append(
                    "%s.hostname: %s is already the hostname of nas_services[%d]; one hostname has one "
                    "DNS record and one reverse proxy rule, so give each service its own"
                    % (where, host, seen_hosts[host])
                )
            seen_hosts.setdefault(host, index)
            if zone and not in_zone(host, zone):
                errors.append(
                    "%s.hostname: %s is not in nas_zone %s, so its DNS record cannot be made there; use a "
                    "name ending in .%s" % (where, host, zone, zone)
                )
            elif cert is not None and zone and not any(covers(c, host) for c in cert):
                errors.append(
                    "%s.hostname: %s is not covered by the certificate's names (%s; a wildcard covers one "
                    "label only); add it to tls_hostnames or use a name one label under %s"
                    % (where, host, ", ".join(cert), zone)
                )
        if service.get("backend_port") in (None, ""):
            errors.append("%s.backend_port: not set; give the port the service listens on, 1-65535" % where)
        else:
            _check(errors, dsm_validate.port, where + ".backend_port", service["backend_port"])
        external = service.get("external_port")
        if external not in (None, ""):
            port = _check(errors, dsm_validate.port, where + ".external_port", external)
            if port is not None and port not in HTTPS_PORTS:
                errors.append(
                    "%s.external_port: Cloudflare's proxy does not pass %s over HTTPS, so visitors could not "
                    "reach it; use %s" % (where, port, describe_https_ports())
                )
        protocol = service.get("backend_protocol")
        if protocol not in (None, "", "http", "https"):
            errors.append("%s.backend_protocol: '%s' is neither http nor https" % (where, protocol))
        backend = service.get("backend_host")
        if backend not in (None, ""):
            if not _is_address(backend):
                _check(errors, dsm_validate.hostname, where + ".backend_host", backend)
    return errors


def tls_errors(declared):
    errors = []
    zone = normalise_hostname(declared.get("nas_zone"))
    source = declared.get("tls_certificate_source", "cloudflare_origin")
    if source == "pem" and not (declared.get("tls_certificate") and declared.get("tls_private_key")):
        errors.append(
            "tls_certificate_source: pem needs tls_certificate and tls_private_key; give both (PEM text or "
            "paths) or use cloudflare_origin"
        )
    for index, name in enumerate(declared.get("tls_hostnames") or []):
        where = "tls_hostnames[%d]" % index
        host = _check(errors, dsm_validate.hostname, where, name, True)
        if host and host.startswith("*.") and source == "letsencrypt_dsm":
            errors.append(
                "%s: %s is a wildcard; DSM's Let's Encrypt client (letsencrypt_dsm) validates by HTTP-01, which "
                "cannot prove one: list each name, or use tls_certificate_source: letsencrypt_dns" % (where, host)
            )
        if host and zone and not in_zone(host.lstrip("*."), zone):
            errors.append(
                "%s: %s is not in nas_zone %s; an Origin CA certificate only covers names in the zone"
                % (where, host, zone)
            )
    hsts = declared.get("tls_hsts")
    try:
        desired_settings(declared.get("tls_zone_settings") or {}, hsts if hsts is not None else None)
    except SettingError as exc:
        text = str(exc)
        errors.append(("tls_" + text) if text.startswith("hsts") else "tls_zone_settings." + text)
    return errors


def hardening_errors(declared):
    errors = []
    if declared.get("hardening_disable_builtin_accounts", True) and declared.get("dsm_username") == "admin":
        errors.append(
            "dsm_username: admin is the account hardening_disable_builtin_accounts disables; create another "
            "administrator and log in with it, or set hardening_disable_builtin_accounts: false"
        )
    for name in ("dsm_port", "dsm_nas_port"):
        if declared.get(name) not in (None, ""):
            _check(errors, dsm_validate.port, name, declared[name])
    errors += _dsm_web_port_errors(declared)
    controller = declared.get("hardening_controller_address")
    if controller not in (None, ""):
        try:
            group = dsm_validate.source("hardening_controller_address", controller)[0]
        except dsm_validate.InputError as exc:
            errors.append(str(exc))
        else:
            if group != "ip":
                errors.append(
                    "hardening_controller_address: '%s' is not one address; give the address DSM sees this "
                    "controller come from, for example 192.168.1.5 or fd00::5" % controller
                )
    time_of_day = str(declared.get("hardening_update_time", "03:30")).strip()
    if not TIME_OF_DAY.match(time_of_day):
        errors.append(
            "hardening_update_time: '%s' is not a time of day; use HH:MM from 00:00 to 23:59, for example "
            "03:30" % time_of_day
        )
    days = declared.get("hardening_update_days", ["sun"])
    bad = [d for d in days or [] if str(d).strip().lower() != "daily" and dsm_validate.weekday(d) is None]
    if bad or not days:
        errors.append(
            "hardening_update_days: %s; use sun, mon, tue, wed, thu, fri, sat or daily"
            % ("'%s' is not a day" % "', '".join(str(d) for d in bad) if bad else "no day given")
        )
    interfaces = declared.get("hardening_dos_interfaces", ["eth0"]) or []
    bad = [i for i in interfaces if not dsm_validate.INTERFACE.fullmatch(str(i))]
    if bad:
        errors.append(
            "hardening_dos_interfaces: %s not an interface name DSM uses; use eth0, eth1, bond0, ovs_eth0 or "
            "pppoe (Control Panel > Network > Network Interface)" % ", ".join("'%s' is" % i for i in bad)
        )
    if len(set(interfaces)) != len(interfaces):
        errors.append("hardening_dos_interfaces: an interface is listed twice; list each once")
    errors += _network_errors(declared)
    for index, value in enumerate(declared.get("hardening_lan_ports") or []):
        _check(errors, firewall_ports, "hardening_lan_ports[%d]" % index, value)
    block = declared.get("hardening_auto_block") or {}
    for field, low in (("attempts", 1), ("within_minutes", 1), ("expire_days", 0)):
        if field in block and not (_is_int(block[field]) and int(block[field]) >= low):
            errors.append(
                "hardening_auto_block.%s: %s is not a whole number of at least %d" % (field, block[field], low)
            )
    return errors


def _dsm_web_port_errors(declared):
    """hardening_dsm_http_port / hardening_dsm_https_port by dsm_web's own rule (1-65535, not 80/443, not equal)."""
    ports = {}
    errors = []
    for name in ("hardening_dsm_http_port", "hardening_dsm_https_port"):
        value = declared.get(name)
        if value in (None, ""):
            continue
        if not _is_int(value):
            errors.append("%s: '%s' is not a port; give a number from 1 to 65535" % (name, value))
            continue
        ports[name] = int(value)
    try:
        dsm_web.check_ports(ports.get("hardening_dsm_http_port"), ports.get("hardening_dsm_https_port"))
    except dsm_validate.InputError as exc:
        errors.append("hardening_dsm_" + str(exc))
    return errors


def _network_errors(declared):
    errors = []
    networks = declared.get("hardening_lan_networks", None)
    if declared.get("hardening_firewall", True) and not networks:
        errors.append(
            "hardening_lan_networks: empty with hardening_firewall on, so the firewall would shut the LAN "
            "(and this play) out of DSM; list the LAN's networks, for example 192.168.1.0/24"
        )
    for index, value in enumerate(networks or []):
        where = "hardening_lan_networks[%d]" % index
        try:
            network = ipaddress.ip_network(str(value).strip(), strict=True)
        except ValueError as exc:
            hint = " (host bits are set: use the network address)" if "host bits" in str(exc) else ""
            errors.append(
                "%s: '%s' is not a network%s; write it as a CIDR, for example 192.168.1.0/24" % (where, value, hint)
            )
            continue
        if dsm_validate.too_wide(network):
            errors.append(
                "%s: %s is %s, so the firewall would admit a large part of the internet to DSM; list the "
                "LAN's networks only" % (where, network, "every address" if not network.prefixlen else "that wide")
            )
    return errors


def exposure_errors(declared, router=None):
    """Where the DNS records point: a public address, given or the router's; or a tunnel, which needs none."""
    errors = []
    mode = declared.get("exposure_mode", "port_forward")
    if mode not in EXPOSURE_MODES:
        return ["exposure_mode: '%s' is not one of %s" % (mode, ", ".join(EXPOSURE_MODES))]
    lan = declared.get("nas_lan_address")
    if lan:
        _check(errors, dsm_validate.lan_address, "nas_lan_address", lan)
    if mode == "tunnel":
        # Cloudflare's origin-pull certificate reaches the origin only over a connection from its edge; through a
        # tunnel nginx sees the connector, which has none, so nginx requiring it would refuse every visitor.
        if declared.get("tls_authenticated_origin_pulls"):
            errors.append(
                "tls_authenticated_origin_pulls: true cannot work with exposure_mode: tunnel (the connector, not "
                "Cloudflare's edge, connects to DSM, without Cloudflare's client certificate, so nginx would refuse "
                "every visitor); set it to false: the firewall closes the published ports to all but the LAN instead"
            )
        if declared.get("exposure_ddns", "none") != "none":
            errors.append(
                "exposure_ddns: %s keeps A records at the router's address, and exposure_mode: tunnel publishes "
                "CNAMEs to the tunnel instead (no address to follow); set exposure_ddns: none"
                % declared["exposure_ddns"]
            )
        return errors
    manage_router = declared.get("exposure_manage_router", True)
    public = declared.get("exposure_public_address")
    if not manage_router and not public:
        errors.append(
            "exposure_manage_router: false leaves no address for the DNS records; set "
            "exposure_public_address to the public address the ports are forwarded on, or use "
            "exposure_mode: tunnel"
        )
    if public:
        try:
            address = ipaddress.ip_address(str(public).strip())
        except ValueError:
            errors.append(
                "exposure_public_address: '%s' is not an IP address; give the public IPv4 or IPv6 address" % public
            )
        else:
            if address.version == 4 and address in CGNAT:
                errors.append(
                    "exposure_public_address: %s is a carrier-grade NAT address (100.64.0.0/10): %s"
                    % (address, TUNNEL_FIX)
                )
            elif not address.is_global:
                errors.append(
                    "exposure_public_address: %s is a private or reserved address: %s" % (address, TUNNEL_FIX)
                )
    if manage_router and router and router.get("behind_cgnat"):
        errors.append(
            "exposure_manage_router: the router's WAN address %s is not public (carrier-grade or double "
            "NAT), so forwarded ports are unreachable: %s"
            % (router.get("external_address") or "(withheld by the router)", TUNNEL_FIX)
        )
    return errors


def plan_errors(declared, router=None):
    """Every mistake in the declared state; `router` is what a read-only router probe found (or None)."""
    # An unset optional variable arrives as None (site.yml passes `| default(none)`): the role default applies.
    declared = {k: v for k, v in (declared or {}).items() if v is not None}
    errors = zone_errors(declared)
    errors += service_errors(declared)
    errors += tls_errors(declared)
    errors += hardening_errors(declared)
    errors += exposure_errors(declared, router)
    if any(k.startswith("nginx_patches_") for k in declared):  # the nginx patch's own rules (nginx_patch.py)
        errors += nginx_patch_errors(declared)
    return errors


def _is_int(value):
    return not isinstance(value, bool) and isinstance(value, int) or (isinstance(value, str) and value.isdigit())


def _is_address(value):
    try:
        ipaddress.ip_address(str(value).strip())
        return True
    except ValueError:
        return False
