# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""What a run leaves exposed, as lines a person reads at the end of site.yml (the exposure_summary filter).

Pure function of what was declared and what the verify role saw: observed facts (a probe's status, TLS
version, HSTS header, certificate) are preferred over declared ones, and anything the run could not see
or did not manage is said so, together with what is left to do by hand.
"""

from __future__ import annotations

from ansible_collections.homelab.nas.plugins.module_utils.verify_checks import probes_by_name

SSL_MODES = {"off": "off", "flexible": "Flexible", "full": "Full", "strict": "Full (strict)"}
TWO_FACTOR = {"none": "not enforced", "administrators": "enforced for administrators", "all": "enforced for everyone"}


def _seen(probe):
    if probe is None:
        return "not checked"
    if probe.get("status") is None:
        return "no answer (%s)" % (probe.get("error") or "connection failed")
    hsts = (probe.get("headers") or {}).get("strict-transport-security")
    return "HTTP %s over %s, %s" % (probe["status"], probe.get("tls_version"), ("HSTS " + hsts) if hsts else "no HSTS")


def _certificate(probe):
    cert = (probe or {}).get("certificate")
    if not cert:
        return None
    return "%s, until %s (%s days)" % (" ".join(cert.get("sans") or ()), cert.get("not_after"), cert.get("days_left"))


def _backend(service):
    url = "%s://%s:%s" % (
        service.get("backend_protocol") or "http",
        service.get("backend_host") or "localhost",
        service.get("backend_port"),
    )
    return url + (" (WebSocket)" if service.get("websocket") else "")


def _published(services, visitors):
    lines = []
    for service in services:
        port = int(service.get("external_port") or 443)
        url = "https://%s%s" % (service["hostname"], "" if port == 443 else ":%d" % port)
        lines.append("  %s -> %s: %s" % (url, _backend(service), _seen(visitors.get(service["hostname"]))))
    return lines


def _cloudflare(settings, hsts):
    if settings is None:
        return "Cloudflare: zone settings not managed by this run"
    parts = ["SSL %s" % SSL_MODES.get(settings.get("ssl"), settings.get("ssl") or "unchanged")]
    if settings.get("min_tls_version"):
        parts.append("minimum TLS %s" % settings["min_tls_version"])
    if settings.get("always_use_https"):
        parts.append("Always Use HTTPS %s" % settings["always_use_https"])
    if hsts:
        flags = [
            name for name, key in (("includeSubDomains", "include_subdomains"), ("preload", "preload")) if hsts.get(key)
        ]
        parts.append("HSTS max-age=%s%s" % (hsts.get("max_age"), "".join("; " + flag for flag in flags)))
    else:
        parts.append("HSTS not managed")
    return "Cloudflare: " + ", ".join(parts)


def _origin_pulls(declared, attackers):
    probes = list(attackers.values())
    if not declared.get("origin_pulls"):
        address = declared.get("public_address") or "the public address"
        return "Authenticated Origin Pulls: off (anyone who finds %s reaches the origin without Cloudflare)" % address
    if not probes:
        return "Authenticated Origin Pulls: on (not checked: no origin address to probe)"
    open_to = [p["server_name"] for p in probes if p.get("status") is not None and p["status"] < 400]
    if open_to:
        return "Authenticated Origin Pulls: on at Cloudflare, but the origin answers without its certificate for %s" % (
            ", ".join(open_to)
        )
    return "Authenticated Origin Pulls: on (the origin refused a client without Cloudflare's certificate)"


def _router(declared, services):
    if declared.get("mode") == "tunnel":
        return "Router: no forwards (exposure_mode: tunnel; the tunnel's connector on the NAS connects out)"
    router = declared.get("router") or {}
    if not declared.get("manage_router") or router.get("skipped"):
        ports = sorted({int(s.get("external_port") or 443) for s in services})
        return "Router: not managed by this run; forward TCP %s to the NAS by hand" % ", ".join(map(str, ports))
    mappings = router.get("mappings") or []
    forwards = [
        "%s/%s -> %s:%s" % (m.get("protocol"), m.get("external_port"), m.get("internal_client"), m.get("internal_port"))
        for m in mappings
    ]
    return "Router %s: %s" % (
        router.get("external_address") or "(WAN address not reported)",
        ", ".join(forwards) or "no forwards",
    )


def _firewall(declared):
    if not declared.get("firewall"):
        return "DSM firewall: not managed by this run"
    lan = ", ".join(declared.get("lan_networks") or ()) or "no LAN networks"
    lan_ports = ["DSM %s" % (declared.get("dsm_port") or 5001)] + list(declared.get("lan_ports") or ())
    published = (
        "the published ports are open to the LAN only (tunnel)"
        if declared.get("mode") == "tunnel"
        else "Cloudflare's ranges may reach the published ports"
    )
    return "DSM firewall: default deny; %s may reach %s; %s" % (lan, ", ".join(str(p) for p in lan_ports), published)


def _failed(probe):
    return probe is not None and (probe.get("status") is None or probe["status"] >= 400)


def _by_hand(declared, services, visitors):
    todo = []
    settings = declared.get("zone_settings")
    if settings is not None and settings.get("ssl") != "strict":
        todo.append(
            "Cloudflare's SSL mode is %s, not Full (strict): set tls_zone_settings.ssl: strict" % settings.get("ssl")
        )
    if not declared.get("origin_pulls"):
        todo.append("turn on Authenticated Origin Pulls: tls_authenticated_origin_pulls: true")
    if declared.get("two_factor") == "none":
        todo.append(
            "2-step verification is not enforced for DSM accounts (hardening_two_factor; the automation account "
            "first needs 2FA and a device token: playbooks/dsm_login.yml)"
        )
    if declared.get("firewall") is False:
        todo.append("DSM's firewall is not limited to the LAN and Cloudflare (hardening_firewall)")
    failing = [s["hostname"] for s in services if _failed(visitors.get(s["hostname"]))]
    if failing:
        todo.append("not answering through Cloudflare: %s (see the checks above)" % ", ".join(failing))
    return todo


def exposure_summary(declared):
    """-> list of lines. `declared`: services, mode (exposure_mode), zone_settings, hsts, origin_pulls,
    public_address, router (router_port_forward's result), manage_router, firewall, lan_networks, lan_ports,
    dsm_port, two_factor, visitors and attackers (the verify role's tls_probe_info results)."""
    services = [s for s in declared.get("services") or () if s.get("state", "present") == "present"]
    visitors, attackers = probes_by_name(declared.get("visitors")), probes_by_name(declared.get("attackers"))
    lines = ["Published through Cloudflare:"] + (_published(services, visitors) or ["  nothing"])
    lines.append(_cloudflare(declared.get("zone_settings"), declared.get("hsts")))
    certificates = {_certificate(attackers.get(s["hostname"])) for s in services} - {None}
    edge = {_certificate(visitors.get(s["hostname"])) for s in services} - {None}
    lines.append("Origin certificate: %s" % ("; ".join(sorted(certificates)) or "not seen"))
    lines.append("Edge certificate: %s" % ("; ".join(sorted(edge)) or "not seen"))
    lines.append(_origin_pulls(declared, attackers))
    lines.append(_router(declared, services))
    lines.append(_firewall(declared))
    lines.append("2-step verification: %s" % TWO_FACTOR.get(declared.get("two_factor"), "not managed by this run"))
    todo = _by_hand(declared, services, visitors)
    lines.append("Left to do by hand:" + ("" if todo else " nothing"))
    lines.extend("  - " + item for item in todo)
    return lines
