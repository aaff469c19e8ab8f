# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""The Cloudflare DDNS task's variables (the exposure role, exposure_ddns: cloudflare): every mistake named
before anything is written, and the values the script carries, parsed and re-rendered (never the text as given).

The script (roles/exposure/templates/ddns_cloudflare.sh.j2) runs as root on the NAS, so each value reaching it
has a grammar: hostnames (dsm_validate.hostname, in the zone), paths (absolute, no shell syntax), URLs (http or
https, no space, quote or control character), the token (Cloudflare's token alphabet; it never reaches the
scheduled script, only its SHA-256 does).
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import urlsplit

from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate
from ansible_collections.homelab.nas.plugins.module_utils.nginx_patch import CONTROL, EVERY_MINUTES, PATH

MODES = ("cloudflare", "synology", "none")
# Cloudflare API tokens are 40 characters of letters, digits, '_' and '-'; a little room either way.
TOKEN = re.compile(r"[A-Za-z0-9_-]{20,200}")
ZONE_ID = re.compile(r"[0-9a-f]{32}")
URL_CHARS = re.compile(r"[A-Za-z0-9._~:/?#\[\]@!$&()*+,;=%-]+")


def _url_error(name, value, schemes, required):
    if value in (None, ""):
        return None if not required else "%s: give the URL" % name
    text = value if isinstance(value, str) else ""
    parts = urlsplit(text) if URL_CHARS.fullmatch(text) else None
    if parts is None or parts.scheme not in schemes or not parts.hostname:
        return "%s: %r is not a %s URL without spaces or quotes, for example %s" % (
            name,
            value,
            " or ".join(schemes),
            "https://api.cloudflare.com/client/v4" if "http" not in schemes else "http://192.168.1.1:5000/rootDesc.xml",
        )
    return None


def _path_error(name, value):
    if not isinstance(value, str) or not PATH.fullmatch(value) or "/../" in value + "/":
        return "%s: %r is not an absolute path of letters, digits and . _ - / + @ : = , only" % (name, value)
    return None


def _removal_errors(declared):
    errors = []
    for name in ("exposure_ddns_token_file", "exposure_ddns_log_file"):
        problem = _path_error(name, declared.get(name, "/x"))
        if problem:
            errors.append(problem)
    value = declared.get("exposure_ddns_task_name", "x")
    if not isinstance(value, str) or not value.strip() or CONTROL.search(value):
        errors.append("exposure_ddns_task_name: give it as one non-empty line")
    return errors


def ddns_errors(declared):
    """Every mistake in the exposure_ddns* variables given (by name) in `declared`; [] when sound."""
    declared = {k: v for k, v in (declared or {}).items() if v is not None}
    errors = []
    mode = declared.get("exposure_ddns", "none")
    if mode not in MODES:
        return ["exposure_ddns: %r is not one of cloudflare, synology, none" % (mode,)]
    disable = declared.get("exposure_ddns_synology_disable", False)
    if not isinstance(disable, bool):
        errors.append("exposure_ddns_synology_disable: give true or false")
    elif mode == "synology" or disable:
        try:
            dsm_validate.hostname("exposure_ddns_synology_hostname", declared.get("exposure_ddns_synology_hostname"))
        except dsm_validate.InputError as exc:
            errors.append(
                "%s (%s needs the hostname DSM's DDNS wizard registered, such as mynas.synology.me)"
                % (exc, "exposure_ddns: synology" if mode == "synology" else "exposure_ddns_synology_disable")
            )
    if mode != "cloudflare":
        # The other modes take an earlier cloudflare run's task and token file down: those names reach its script.
        return errors + _removal_errors(declared)
    public = declared.get("exposure_public_address")
    if public:
        errors.append(
            "exposure_ddns: cloudflare keeps the DNS records at the router's WAN address, and "
            "exposure_public_address: %s pins them to that address: each DDNS run would undo the play's records; "
            "unset exposure_public_address (the router's address is followed), or set exposure_ddns: none" % public
        )
    token = declared.get("exposure_ddns_cloudflare_token")
    if not isinstance(token, str) or not TOKEN.fullmatch(token.strip()):
        # The value itself is never repeated: it is a secret.
        errors.append(
            "exposure_ddns_cloudflare_token: give the NAS's own Cloudflare API token (Zone > DNS > Edit for the "
            "zone, 20-200 letters, digits, '_' or '-'); keep it in a vault"
        )
    zone = declared.get("nas_zone")
    try:
        zone = dsm_validate.hostname("nas_zone", zone)
    except dsm_validate.InputError as exc:
        errors.append(str(exc))
        zone = None
    names = declared.get("exposure_ddns_hostnames")
    if not isinstance(names, list):
        errors.append("exposure_ddns_hostnames: give a list of hostnames (by default the published services')")
        names = []
    for index, name in enumerate(names):
        field = "exposure_ddns_hostnames[%d]" % index
        try:
            host = dsm_validate.hostname(field, name)
        except dsm_validate.InputError as exc:
            errors.append(str(exc))
            continue
        if zone and host != zone and not host.endswith("." + zone):
            errors.append("%s: '%s' is not in the zone %s" % (field, name, zone))
    zone_id = declared.get("exposure_ddns_zone_id")
    if zone_id not in (None, "") and not (isinstance(zone_id, str) and ZONE_ID.fullmatch(zone_id)):
        errors.append(
            "exposure_ddns_zone_id: %r is not a zone ID (32 hex digits, the dashboard's Overview > API)" % (zone_id,)
        )
    for name, schemes, required in (
        ("exposure_ddns_cloudflare_api_url", ("https",), True),
        ("exposure_ddns_router_url", ("http", "https"), False),
    ):
        problem = _url_error(name, declared.get(name), schemes, required)
        if problem:
            errors.append(problem)
    for name in ("exposure_ddns_token_file", "exposure_ddns_log_file", "exposure_ddns_python"):
        problem = _path_error(name, declared.get(name, "/x"))
        if problem:
            errors.append(problem)
    if declared.get("exposure_ddns_cloudflare_ca_path") not in (None, ""):
        problem = _path_error("exposure_ddns_cloudflare_ca_path", declared["exposure_ddns_cloudflare_ca_path"])
        if problem:
            errors.append(problem)
    every = declared.get("exposure_ddns_every_minutes", 5)
    if isinstance(every, bool) or str(every).strip() not in [str(m) for m in EVERY_MINUTES]:
        errors.append(
            "exposure_ddns_every_minutes: %r is not a repeat DSM's Task Scheduler offers; use %s"
            % (every, ", ".join(str(m) for m in EVERY_MINUTES))
        )
    timeout = declared.get("exposure_ddns_timeout", 10)
    if isinstance(timeout, bool) or not str(timeout).strip().isdigit() or not 1 <= int(timeout) <= 120:
        errors.append("exposure_ddns_timeout: %r is not 1-120 seconds" % (timeout,))
    for name in ("exposure_ddns_task_name",):
        value = declared.get(name, "x")
        if not isinstance(value, str) or not value.strip() or CONTROL.search(value):
            errors.append("%s: give it as one non-empty line" % name)
    for name in ("exposure_ddns_ipv6", "exposure_ddns_dsm_fallback"):
        if name in declared and not isinstance(declared[name], bool):
            errors.append("%s: give true or false" % name)
    return errors


def ddns_config(declared):
    """The values the script carries (a JSON object in it), from variables ddns_errors() found sound."""
    problems = ddns_errors(dict(declared, exposure_ddns="cloudflare"))
    if problems:
        raise dsm_validate.InputError("; ".join(problems))
    token = declared["exposure_ddns_cloudflare_token"].strip()
    names = []
    for index, name in enumerate(declared.get("exposure_ddns_hostnames") or []):
        host = dsm_validate.hostname("exposure_ddns_hostnames[%d]" % index, name)
        if host not in names:
            names.append(host)
    return {
        "zone": dsm_validate.hostname("nas_zone", declared["nas_zone"]),
        "zone_id": declared.get("exposure_ddns_zone_id") or "",
        "hostnames": names,
        "api_url": declared["exposure_ddns_cloudflare_api_url"].rstrip("/"),
        "ca_path": declared.get("exposure_ddns_cloudflare_ca_path") or "",
        "router_url": declared.get("exposure_ddns_router_url") or "",
        "dsm_fallback": bool(declared.get("exposure_ddns_dsm_fallback", True)),
        "ipv6": bool(declared.get("exposure_ddns_ipv6", True)),
        "token_file": declared["exposure_ddns_token_file"],
        "token_sha256": hashlib.sha256(token.encode("ascii")).hexdigest(),
        "log_file": declared["exposure_ddns_log_file"],
        "timeout": int(declared.get("exposure_ddns_timeout", 10)),
    }
