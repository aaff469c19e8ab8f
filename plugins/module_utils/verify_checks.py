# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""What the verify role's probes saw, as lines a person reads, and what each of its checks found wrong (the
verify_findings filter). One pass over every hostname's probes: the role asserts each check once, instead of one
loop item per hostname, each costing a task's overhead."""

from __future__ import annotations

import re

REDIRECTS = (301, 302, 307, 308)
MODERN_TLS = ("TLSv1.2", "TLSv1.3")
CHECKS = ("tls", "old_tls", "hsts", "redirect", "certificates", "origin_pulls")


def probes_by_name(probes):
    """The probes of a tls_probe_info task with server_names, by name ({} when the task was skipped)."""
    return {
        p["server_name"]: p for p in probes or () if isinstance(p, dict) and "server_name" in p and not p.get("skipped")
    }


def _answer(probe):
    return "HTTP %s" % probe["status"] if probe.get("status") is not None else probe.get("error")


def _cert_line(probe):
    cert = (probe or {}).get("certificate")
    if not cert:
        return None
    return "%s, until %s (%d days)" % (" ".join(cert["sans"]), cert["not_after"], cert["days_left"])


def _hsts_wanted(hsts):
    wanted = ["max-age=%d" % int(hsts.get("max_age", 15552000))]
    wanted += ["includesubdomains"] if hsts.get("include_subdomains") else []
    wanted += ["preload"] if hsts.get("preload") else []
    return sorted(wanted)


def _hsts_seen(header):
    return sorted(part.strip().lower() for part in (header or "").split(";") if part.strip())


def _error_meaning(errors, status):
    meaning = (errors or {}).get(status, (errors or {}).get(str(status)))
    return meaning or "an error answer"


def _seen(name, visitor, plain, attacker, origin_pulls):
    if visitor.get("status") is not None:
        seen = "HTTP %s over %s" % (visitor["status"], visitor.get("tls_version"))
    else:
        seen = visitor.get("error")
    hsts = (visitor.get("headers") or {}).get("strict-transport-security")
    if plain is None:
        plain_seen = "not checked"
    elif plain.get("status") is None:
        plain_seen = plain.get("error")
    else:
        plain_seen = "HTTP %s %s" % (plain["status"], (plain.get("headers") or {}).get("location", ""))
    if attacker is None:
        direct = "not checked (verify_origin_address unset)"
    elif attacker.get("status") is None or attacker["status"] >= 400:
        direct = "refused (%s)" % (attacker.get("error") or "HTTP %s" % attacker.get("status"))
    else:
        direct = "HTTP %s" % attacker["status"]
        direct += "" if origin_pulls else " (allowed: Authenticated Origin Pulls are not expected)"
    return [
        "%s through Cloudflare: %s, %s" % (name, seen, ("HSTS " + hsts) if hsts else "no HSTS"),
        "http://%s: %s" % (name, plain_seen),
        "edge certificate: %s" % (_cert_line(visitor) or "none"),
        "straight to the origin without Cloudflare's certificate: %s" % direct,
        "origin certificate: %s" % (_cert_line(attacker) or "not seen"),
    ]


def _tls(name, visitor, spec):
    status, version = visitor.get("status"), visitor.get("tls_version")
    if visitor.get("tls_established") and status is not None and status < 400 and version in MODERN_TLS:
        return None
    if status is None:
        why = visitor.get("error") or "not probed"
    elif status >= 400:
        why = "HTTP %s: %s" % (status, _error_meaning(spec.get("cloudflare_errors"), status))
    else:
        why = "negotiated %s" % version
    return "%s through Cloudflare: %s" % (name, why)


def _old_tls(name, old_client, spec):
    if not old_client.get("tls_established"):
        return None
    return "%s accepted a client offering at most TLS %s (%s): Cloudflare's min_tls_version is below %s" % (
        name,
        spec.get("older_tls"),
        old_client.get("tls_version"),
        spec.get("min_tls_version"),
    )


def _hsts(name, visitor, spec):
    if not spec.get("hsts") or visitor.get("status") is None:
        return None
    header = (visitor.get("headers") or {}).get("strict-transport-security")
    wanted = _hsts_wanted(spec["hsts"])
    if _hsts_seen(header) == wanted:
        return None
    return "%s: Strict-Transport-Security is %s, expected %s (Cloudflare's security_header setting)" % (
        name,
        header or "missing",
        "; ".join(wanted),
    )


def _redirect(name, plain):
    location = (plain.get("headers") or {}).get("location", "")
    if plain.get("status") in REDIRECTS and re.match("https://%s(/|$)" % re.escape(name), location):
        return None
    answer = plain.get("error") or "HTTP %s %s" % (plain.get("status"), location)
    return "http://%s answered %s instead of a redirect to https:// (Cloudflare's always_use_https)" % (name, answer)


def _certificate(name, probe, kind, min_days):
    cert = probe.get("certificate")
    if not cert or (probe.get("covers") and cert["days_left"] >= min_days):
        return None
    if not probe.get("covers"):
        why = "does not cover it"
    else:
        why = "expires in %d days (less than %d)" % (cert["days_left"], min_days)
    return "%s: the %s certificate (%s, until %s) %s" % (name, kind, ", ".join(cert["sans"]), cert["not_after"], why)


def _origin_refuses(name, attacker, spec):
    status = attacker.get("status")
    if status is None or status >= 400:
        return None
    return (
        "%s: the origin at %s answered HTTP %s to a client without Cloudflare's origin-pull certificate, so "
        "Authenticated Origin Pulls are not enforced there (is the nginx patch in place with ssl_verify_client on?) "
        "and anyone who finds the address bypasses Cloudflare" % (name, spec.get("origin"), status)
    )


def verify_findings(spec):
    """spec: hostnames; visitors, old_clients, plain, attackers (the probes of the verify role's four
    tls_probe_info tasks; plain and attackers none or empty when not probed); min_tls_version and older_tls;
    hsts (the expected header as tls_hsts, or none: not checked); https_redirect, origin_pulls (bools); origin
    ("address:port"); certificate_min_days; cloudflare_errors (status -> meaning).
    Returns {"seen": lines, "failures": {check: [message, ...]}} with every check of CHECKS as a key."""
    visitors, old_clients = probes_by_name(spec.get("visitors")), probes_by_name(spec.get("old_clients"))
    plains = probes_by_name(spec.get("plain")) if spec.get("https_redirect") else {}
    attackers = probes_by_name(spec.get("attackers"))
    min_days = int(spec.get("certificate_min_days") or 0)
    failures = {check: [] for check in CHECKS}
    seen = []
    for name in spec.get("hostnames") or ():
        visitor, plain, attacker = visitors.get(name, {}), plains.get(name), attackers.get(name)
        seen.extend(_seen(name, visitor, plain, attacker, spec.get("origin_pulls")))
        found = (
            ("tls", _tls(name, visitor, spec)),
            ("old_tls", _old_tls(name, old_clients.get(name, {}), spec)),
            ("hsts", _hsts(name, visitor, spec)),
            ("redirect", _redirect(name, plain) if plain is not None else None),
            ("certificates", _certificate(name, visitor, "edge", min_days)),
            ("certificates", _certificate(name, attacker or {}, "origin", min_days)),
            ("origin_pulls", _origin_refuses(name, attacker, spec) if attacker and spec.get("origin_pulls") else None),
        )
        for check, message in found:
            if message:
                failures[check].append(message)
    return {"seen": seen, "failures": failures}


def failed_probes(probes):
    """Each probe (of a tls_probe_info task with server_names) that got no answer or an error answer, in words:
    "photos.example.com answered HTTP 400", "photos.example.com: connection refused: ..."."""
    return [
        "%s answered HTTP %s" % (p["server_name"], p["status"])
        if p.get("status") is not None
        else "%s: %s" % (p["server_name"], p.get("error"))
        for p in probes or ()
        if p.get("status") is None or p["status"] >= 400
    ]
