# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""dsm_letsencrypt's plan: a certificate from DSM's own Let's Encrypt client, reused while one with the same names
is on DSM, and HTTP-01's preconditions checked before DSM is asked (every request spends a rate-limit slot).

The API calls are in dsm_certificates.py (DsmCertificates.request_letsencrypt); the facts and their sources in
docs/lab-fidelity.md (rows SYNO.Core.Certificate.LetsEncrypt). Names are resolved by `resolve` (injectable).
"""

from __future__ import annotations

import datetime
import ipaddress
import re
import socket

from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate as v
from ansible_collections.homelab.nas.plugins.module_utils.dsm_certificates import LETSENCRYPT_ERRORS, DsmCertificates
from ansible_collections.homelab.nas.plugins.module_utils.dsm_ddns import DsmDdns
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError

# Synology's DDNS domains, the only ones DSM's client issues a wildcard for (DSM error 5528 elsewhere).
SYNOLOGY_DDNS_DOMAINS = ("synology.me", "diskstation.me", "i234.me", "myds.me", "dscloud.biz", "dscloud.me")
MAX_NAMES = 100  # Let's Encrypt's limit of names per certificate
EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s.]+$")
NOT_RETRIED = (
    "The request was not sent again: each request spends one of Let's Encrypt's rate-limit slots. Fix the cause, "
    "then run the task again"
)


PRIVATE = tuple(
    ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7", "fe80::/10")
)
CGNAT = ipaddress.ip_network("100.64.0.0/10")


def not_global(address):
    """Why the internet cannot reach `address` (carrier-grade NAT, private, loopback...), or None. Documentation
    ranges (203.0.113.0/24 and its kin) pass: the lab and examples use them for a WAN address."""
    parsed = ipaddress.ip_address(address)
    if parsed.version == 4 and parsed in CGNAT:
        return "carrier-grade NAT (100.64.0.0/10)"
    if any(parsed.version == n.version and parsed in n for n in PRIVATE):
        return "a private address"
    if parsed.is_loopback or parsed.is_unspecified or parsed.is_multicast or parsed.is_link_local:
        return "not an address the internet can reach"
    return None


def resolve(name):
    """The addresses `name` resolves to through the controller's resolver (empty when it does not resolve)."""
    try:
        infos = socket.getaddrinfo(name, None, proto=socket.IPPROTO_TCP)
    except (socket.gaierror, UnicodeError):
        return []
    return sorted({str(ipaddress.ip_address(info[4][0].split("%")[0])) for info in infos})


def _synology_ddns(name):
    return name.endswith(tuple("." + domain for domain in SYNOLOGY_DDNS_DOMAINS))


def desired(params):
    """The module's input, checked before any request."""
    raw = params.get("names") or []
    if not raw:
        raise v.InputError("names: empty; give the certificate's names, the common name first (nas.example.com)")
    names = []
    for index, value in enumerate(raw):
        field = "names[%d]" % index
        name = v.hostname(field, value, wildcard=True)
        if name.startswith("*.") and not _synology_ddns(name):
            raise v.InputError(
                "%s: '%s' is a wildcard; DSM's Let's Encrypt client proves names by HTTP-01 only, and Let's Encrypt "
                "issues wildcards by DNS-01 only (DSM makes an exception for Synology DDNS domains only). Use "
                "homelab.nas.acme_certificate for it (the tls role: tls_certificate_source: letsencrypt_dns), or list "
                "each name" % (field, name)
            )
        if name in names:
            raise v.InputError("%s: '%s' is listed twice; list each name once" % (field, name))
        names.append(name)
    if len(names) > MAX_NAMES:
        raise v.InputError("names: %d names; Let's Encrypt allows at most %d per certificate" % (len(names), MAX_NAMES))
    want = dict(
        names=names,
        state=params.get("state") or "present",
        description=params.get("description") if params.get("description") is not None else names[0],
        as_default=bool(params.get("as_default")),
        renew_before_days=params.get("renew_before_days"),
        request_timeout=params.get("request_timeout"),
        port_80_forwarded=bool(params.get("port_80_forwarded")),
        router=params.get("router"),
        check_dns=params.get("check_dns", True) is not False,
        email=None,
        public_address=None,
    )
    if want["state"] == "absent":
        return want
    email = str(params.get("email") or "").strip()
    if not EMAIL.match(email):
        raise v.InputError(
            "email: '%s' is not an e-mail address; Let's Encrypt registers DSM's account with it and sends expiry "
            "notices there (admin@example.com)" % email
        )
    want["email"] = email
    if want["renew_before_days"] is not None and want["renew_before_days"] < 0:
        raise v.InputError("renew_before_days: %s; give 0 or more days" % want["renew_before_days"])
    if want["request_timeout"] is not None and want["request_timeout"] <= 0:
        raise v.InputError(
            "request_timeout: %s seconds; DSM answers only once Let's Encrypt has validated every name, which takes "
            "minutes at worst: give a number of seconds above 0 (the default 600)" % want["request_timeout"]
        )
    address = params.get("public_address")
    if address:
        try:
            address = str(ipaddress.ip_address(str(address).strip()))
        except ValueError:
            raise v.InputError(
                "public_address: '%s' is not an IP address; give the router's WAN address (203.0.113.7)" % address
            )
        why = not_global(address)
        if why:
            raise v.InputError(
                "public_address: %s is %s; Let's Encrypt connects from the internet and cannot reach it. Give the "
                "router's WAN address (behind carrier-grade NAT, HTTP-01 cannot work: use acme_certificate)"
                % (address, why)
            )
        want["public_address"] = address
    router = want["router"]
    if router is not None and not isinstance(router, dict):
        raise v.InputError("router: give the registered result of homelab.nas.router_port_forward (a dict)")
    return want


def names_of(cert):
    """A listed certificate's names, the subject common name first, then the other SANs in DSM's order."""
    subject = cert.get("subject") or {}
    common = str(subject.get("common_name") or "").lower()
    rest = [str(n).lower() for n in subject.get("sub_alt_name") or [] if str(n).lower() != common]
    return [common] + rest


def same_names(cert, names):
    listed = names_of(cert)
    return listed[0] == names[0] and set(listed) == set(names)


def from_dsm_letsencrypt(cert):
    """Whether DSM's own client issued (and renews) it: `renewable` where DSM lists it, else the issuer."""
    if "renewable" in cert:
        return cert.get("renewable") is True or str(cert.get("renewable")).lower() == "true"
    return (cert.get("issuer") or {}).get("organization") == "Let's Encrypt"


def matching(certificates, names):
    """DSM's own Let's Encrypt certificates with these names, the longest-valid first."""
    found = [c for c in certificates if same_names(c, names) and from_dsm_letsencrypt(c)]
    return sorted(found, key=lambda c: _dsm_time(c.get("valid_till")) or datetime.datetime.min, reverse=True)


def _dsm_time(text):
    try:
        return datetime.datetime.strptime(" ".join(str(text).split()), "%b %d %H:%M:%S %Y GMT")
    except ValueError:
        return None


def days_left(not_after, now=None):
    """Whole days until `not_after` (ISO, as pem_checks.summary gives it); None when unknown."""
    if not not_after:
        return None
    end = datetime.datetime.strptime(not_after, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=datetime.timezone.utc)
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return int((end - now).total_seconds() // 86400)


def view(want, cert=None):
    """What the diff compares."""
    if cert is None:
        return dict(names=want["names"], description=want["description"], default=want["as_default"])
    return dict(names=names_of(cert), description=cert.get("desc", ""), default=bool(cert.get("is_default")))


def _router_facts(router):
    """(external address, port 80 forwarded?, CGNAT explanation) from a router_port_forward result."""
    address = str(router.get("external_address") or "") or None
    if router.get("behind_cgnat"):
        return address, False, router.get("cgnat_explanation") or "the router reports carrier-grade NAT"
    forwarded = any(
        str(m.get("protocol", "")).lower() == "tcp"
        and str(m.get("external_port")) == "80"
        and m.get("enabled", True) not in (False, "false", "0", 0)
        for m in router.get("mappings") or []
        if isinstance(m, dict)
    )
    return address, forwarded, None


def preconditions(want, client, resolver=resolve):
    """HTTP-01's preconditions, checked before DSM is asked; raise InputError naming the fix, or return what
    was found (public address and where it came from, port 80, each name's addresses)."""
    router = want["router"] or {}
    router_address, router_forwarded, cgnat = _router_facts(router) if router else (None, False, None)
    if cgnat:
        raise v.InputError(
            "router: %s. Let's Encrypt's HTTP-01 validation cannot reach the NAS from the internet; use "
            "homelab.nas.acme_certificate (DNS-01, tls_certificate_source: letsencrypt_dns) instead" % cgnat
        )
    found = {}
    address, source = want["public_address"], "public_address"
    if not address and router_address:
        address, source = router_address, "router"
    if not address:
        external = DsmDdns(client).external_address() or {}
        address, source = external.get("ipv4") or external.get("ipv6"), "DSM (SYNO.Core.DDNS.ExtIP)"
    if not address:
        raise v.InputError(
            "public_address: not given, and neither the router result nor DSM tells the public address; give "
            "public_address (the router's WAN address) or router (the registered result of router_port_forward)"
        )
    why = not_global(address)
    if why:
        raise v.InputError(
            "public_address: %s (from %s) is %s; Let's Encrypt cannot reach the NAS from the internet. Behind "
            "carrier-grade NAT use homelab.nas.acme_certificate (DNS-01)" % (address, source, why)
        )
    found["public_address"], found["public_address_from"] = address, source
    if want["port_80_forwarded"]:
        found["port_80"] = "forwarded (port_80_forwarded)"
    elif router_forwarded:
        found["port_80"] = "forwarded (router mapping tcp/80)"
    else:
        raise v.InputError(
            "port_80_forwarded: Let's Encrypt validates by connecting to TCP port 80 of every name, which must reach "
            "the NAS: forward it with homelab.nas.router_port_forward (external_port 80 to the NAS's port 80) and "
            "pass its registered result as router, or set port_80_forwarded: true when the router forwards it already"
        )
    if not want["check_dns"]:
        found["names"] = "not checked (check_dns: false)"
        return found
    resolved, wrong = {}, []
    for name in want["names"]:
        if name.startswith("*."):
            continue
        addresses = list(resolver(name))
        resolved[name] = addresses
        if address not in addresses:
            wrong.append("%s -> %s" % (name, ", ".join(addresses) or "does not resolve"))
    if wrong:
        raise v.InputError(
            "names: %s; every name must resolve to the public address %s (from %s) for Let's Encrypt's HTTP-01 "
            "validation. Publish A/AAAA records for them (homelab.nas.cloudflare_dns_records, unproxied, or DDNS) "
            "and wait for them to propagate; where the controller's DNS answers LAN addresses (split horizon), "
            "set check_dns: false" % ("; ".join(wrong), address, source)
        )
    found["names"] = resolved
    return found


def explain(exc, timeout):
    """A failed request, in the user's terms: what DSM said and what to do; never retried."""
    if exc.code in LETSENCRYPT_ERRORS:
        return "DSM's Let's Encrypt request failed with DSM error %s: %s. %s" % (
            exc.code,
            LETSENCRYPT_ERRORS[exc.code],
            NOT_RETRIED,
        )
    if exc.code is None and exc.status is None:
        return (
            "DSM did not answer the Let's Encrypt request within request_timeout (%s s): %s. DSM may still be "
            "working on it, and a certificate may appear in Control Panel > Security > Certificate; the request "
            "was not sent again (each one spends a Let's Encrypt rate-limit slot). Run the task again in a few "
            "minutes: a certificate with these names is then reused, not requested again; raise request_timeout "
            "if DSM is slow" % (timeout, exc)
        )
    return "%s. %s" % (exc, NOT_RETRIED)


class Plan:
    def __init__(self, before, after, apply, result, warnings=()):
        self.before, self.after, self.apply, self.result, self.warnings = before, after, apply, result, list(warnings)


def _report(certs, cert, renew_before_days):
    """certificate_record with the PEM's validity, days_left, and a warning inside the renewal window."""
    record = certs.record(cert)
    record["names"] = names_of(cert)
    record["days_left"] = days_left(record.get("not_after"))
    warnings = []
    if renew_before_days is not None and record["days_left"] is not None and record["days_left"] <= renew_before_days:
        warnings.append(
            "the Let's Encrypt certificate %s (%s) expires in %d days (renew_before_days %d). DSM renews the "
            "certificates it issued itself (its built-in task runs syno-letsencrypt renew-all); if it stays this "
            "close to expiry, DSM's renewals are failing: check port 80 and DNS as for the first request, and "
            "DSM's log (Log Center)" % (record["id"], record["names"][0], record["days_left"], renew_before_days)
        )
    return record, warnings


def plan(client, want, on_write=None, resolver=resolve):
    certs = DsmCertificates(client)
    listed = certs.list()
    found = matching(listed, want["names"])
    current = found[0] if found else None
    warnings = []
    if len(found) > 1:
        warnings.append(
            "%d of DSM's Let's Encrypt certificates have these names (ids %s); the one valid longest (%s) is used. "
            "Delete the others in Control Panel > Security > Certificate"
            % (len(found), ", ".join(c["id"] for c in found), current["id"])
        )
    result = dict(requested=False, certificate=None, preconditions=None)

    if want["state"] == "absent":
        before = [view(want, c) for c in found]
        defaults = [c["id"] for c in found if c.get("is_default")]
        if defaults:
            raise v.InputError(
                "state: the certificate %s with these names is DSM's default, which DSM cannot delete; make another "
                "certificate the default first (dsm_certificate default: true)" % defaults[0]
            )

        def remove():
            for cert in found:
                if on_write:
                    on_write()
                certs.delete(cert["id"])

        return Plan(before, [], remove, result, warnings)

    after = view(want)
    if current is not None:
        before = view(want, current)
        after = dict(after, names=before["names"], default=before["default"] or want["as_default"])
        record, more = _report(certs, current, want["renew_before_days"])
        result["certificate"] = record
        warnings += more

        def update():
            if on_write:
                on_write()
            certs.update(current["id"], want["description"], as_default=want["as_default"] and not before["default"])
            fresh = next((c for c in certs.list() if c["id"] == current["id"]), current)
            return dict(certificate=_report(certs, fresh, None)[0])

        return Plan(before, after, update, result, warnings)

    # None on DSM: a request, once HTTP-01's preconditions hold (checked in check mode too).
    result["preconditions"] = preconditions(want, client, resolver)
    result["requested"] = True

    def request():
        if on_write:
            on_write()
        try:
            certs.request_letsencrypt(
                want["names"],
                want["email"],
                want["description"],
                as_default=want["as_default"],
                timeout=want["request_timeout"],
            )
        except DsmError as exc:
            exc.args = (explain(exc, want["request_timeout"]),) + exc.args[1:]
            raise
        issued = matching(certs.list(), want["names"])
        mine = [c for c in issued if c.get("desc") == want["description"]] or issued
        if not mine:
            raise DsmError(
                "DSM answered the Let's Encrypt request with success but lists no certificate named %s; check "
                "Control Panel > Security > Certificate before running the task again (a second request spends "
                "another rate-limit slot)" % ", ".join(want["names"])
            )
        cert = mine[0]
        if want["as_default"] and not cert.get("is_default"):
            # Not every client sends as_default with the request: make it the default explicitly.
            certs.update(cert["id"], want["description"], as_default=True)
            cert = next((c for c in certs.list() if c["id"] == cert["id"]), cert)
        return dict(certificate=_report(certs, cert, None)[0])

    return Plan({}, after, request, result, warnings)
