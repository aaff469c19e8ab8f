# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""The nginx_patches role's variables, checked to their grammar before the script is rendered.

Everything here reaches a bash script (as a quoted word or inside a quoted here-document) or DSM's nginx
(as a directive), so each value is refused unless it has the shape nginx and the script expect. Pure
functions, no I/O: the role reads (or downloads) the origin-pull CA itself and passes its text, which is checked
against the pinned fingerprints here.
`nginx_patch_errors(declared)` returns one message per mistake, each naming the variable and the fix;
a variable missing from `declared` is not checked (the role default applies).
"""

from __future__ import annotations

import datetime
import re

from ansible_collections.homelab.nas.plugins.module_utils import dsm_validate

VERIFY_CLIENT = ("on", "optional", "off")
LAYOUTS = ("dsm7", "dsm6")
# The repeats DSM's Task Scheduler offers within a day (Control Panel > Task Scheduler > Schedule).
EVERY_MINUTES = (1, 5, 10, 15, 20, 30)
# One simple nginx directive: a name, arguments, one closing ';'. No block, no comment, no second directive.
DIRECTIVE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*(?:[ \t]+[^;{}#\x00-\x1f\x7f]+?)?[ \t]*;$")
PEM_LINE = re.compile(r"^(-----BEGIN CERTIFICATE-----|-----END CERTIFICATE-----|[A-Za-z0-9+/=]{1,76})$")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Paths go into nginx's include line unquoted: no space, quote, ';', '{', '}' or '#'.
PATH = re.compile(r"^/[A-Za-z0-9._/+@:=,-]*$")


def _quotes_balanced(text):
    """nginx's quoting: '...' or "..." with backslash escapes; an unclosed quote swallows the ';'."""
    quote, escaped = None, False
    for char in text:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif quote:
            quote = None if char == quote else quote
        elif char in "'\"":
            quote = char
    return quote is None and not escaped


def directive_error(where, value):
    text = value.strip() if isinstance(value, str) else None
    if not text or CONTROL.search(text) or not DIRECTIVE.match(text) or not _quotes_balanced(text):
        return (
            "%s: %r is not one nginx directive on one line; write the name, its arguments and one closing ';', "
            "for example 'ssl_verify_depth 2;' (no newline, block, comment or second directive)" % (where, value)
        )
    return None


def ca_errors(text):
    """The origin-pull CA: PEM certificates only (no key, no other text inside the markers)."""
    where = "nginx_patches_client_ca"
    if not isinstance(text, str) or "-----BEGIN CERTIFICATE-----" not in text:
        return [
            "%s: no PEM certificate found; give Cloudflare's origin-pull CA as PEM text or the path of "
            "authenticated_origin_pull_ca.pem on the controller" % where
        ]
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    if not all(PEM_LINE.match(line) for line in lines) or lines[-1] != "-----END CERTIFICATE-----":
        return [
            "%s: holds something besides PEM certificates (a private key, a comment or a broken line); "
            "give only the '-----BEGIN CERTIFICATE-----' blocks of Cloudflare's origin-pull CA" % where
        ]
    return []


# Cloudflare's origin-pull CA (the zone-level Authenticated Origin Pulls certificate): where Cloudflare publishes it
# and its SHA-256, the certificate shown in Cloudflare's docs (origin-pull.cloudflare.net, 2019-10-10 to 2029-11-01).
CLOUDFLARE_ORIGIN_PULL_CA_URL = "https://developers.cloudflare.com/ssl/static/authenticated_origin_pull_ca.pem"
CLOUDFLARE_ORIGIN_PULL_CA_SHA256 = (
    "9A:1A:C2:B4:BE:15:F9:F2:7E:EE:20:A7:34:CB:A4:E9:89:8F:61:00:1B:3B:D7:C8:4B:69:B5:6A:3E:25:A2:B9"
)
SHA256_HEX = re.compile(r"^[0-9A-F]{64}$")


def _pin(value):
    return value.replace(":", "").strip().upper() if isinstance(value, str) else ""


def ca_pin_errors(text, pins, now=None):
    """The origin-pull CA against the fingerprints it must have (nginx_patches_client_ca_sha256): every certificate
    in the text pinned and not expired. An empty list of pins accepts any CA. Checked after ca_errors."""
    where = "nginx_patches_client_ca_sha256"
    if not isinstance(pins, list) or not all(SHA256_HEX.match(_pin(p)) for p in pins):
        return [
            "%s: give a list of SHA-256 fingerprints (64 hex digits, colons allowed), for example [%s]; [] accepts "
            "any CA" % (where, CLOUDFLARE_ORIGIN_PULL_CA_SHA256)
        ]
    if not pins or ca_errors(text):
        return []
    # Imported here: only this check needs cryptography, and the filter's other checks stay light.
    from cryptography import x509  # pylint: disable=import-outside-toplevel
    from cryptography.hazmat.primitives import hashes  # pylint: disable=import-outside-toplevel

    try:
        certs = x509.load_pem_x509_certificates(ca_text(text).encode("ascii"))
    except ValueError:
        return ["nginx_patches_client_ca: a PEM block is not a certificate; download the CA again"]
    wanted = {_pin(p) for p in pins}
    now = now or datetime.datetime.now(datetime.timezone.utc)
    errors = []
    for cert in certs:
        seen = cert.fingerprint(hashes.SHA256()).hex(":").upper()
        if _pin(seen) not in wanted:
            errors.append(
                "nginx_patches_client_ca: the certificate %s has SHA-256 %s, which is not in %s; this is not "
                "Cloudflare's origin-pull CA (%s, from %s). Download it again, or, for a CA of your own "
                "(zone-level customer certificates), add its fingerprint to %s"
                % (
                    cert.subject.rfc4514_string(),
                    seen,
                    where,
                    CLOUDFLARE_ORIGIN_PULL_CA_SHA256,
                    CLOUDFLARE_ORIGIN_PULL_CA_URL,
                    where,
                )
            )
        elif cert.not_valid_after_utc < now:
            errors.append(
                "nginx_patches_client_ca: the certificate %s expired on %s, so nginx would refuse Cloudflare; "
                "get the CA Cloudflare uses now (%s) and its fingerprint for %s"
                % (cert.subject.rfc4514_string(), cert.not_valid_after_utc.date(), CLOUDFLARE_ORIGIN_PULL_CA_URL, where)
            )
    return errors


def path_error(where, value, trailing_slash=False):
    text = value if isinstance(value, str) else ""
    if not PATH.fullmatch(text):
        return (
            "%s: %r is not an absolute path nginx can take unquoted; give one starting with / made of letters, "
            "digits and . _ - / + @ : = , only" % (where, value)
        )
    if trailing_slash and not text.endswith("/"):
        return "%s: %r must end with '/' (it is a prefix: paths are %setc/nginx/...)" % (where, value, text + "/")
    return None


def ca_text(value):
    """The CA as the script carries it: the PEM blocks, one line each, LF line ends."""
    return "\n".join(line.strip() for line in str(value or "").strip().splitlines() if line.strip()) + "\n"


def nginx_patch_errors(declared):
    """Every mistake in the nginx_patches variables given (by name) in `declared`."""
    declared = {k: v for k, v in (declared or {}).items() if v is not None}
    errors = []
    hosts = declared.get("nginx_patches_hostnames")
    if hosts is not None and not isinstance(hosts, list):
        errors.append("nginx_patches_hostnames: give a list of hostnames (an empty list removes the patch)")
        hosts = []
    if isinstance(declared.get("nginx_patches_real_ip_from"), (str, dict)):
        errors.append("nginx_patches_real_ip_from: give a list of networks, for example [173.245.48.0/20]")
        declared["nginx_patches_real_ip_from"] = []
    for index, host in enumerate(hosts or []):
        try:
            dsm_validate.hostname("nginx_patches_hostnames[%d]" % index, host, wildcard=True)
        except dsm_validate.InputError as exc:
            errors.append(str(exc))
    for index, network in enumerate(declared.get("nginx_patches_real_ip_from") or []):
        try:
            dsm_validate.trusted_network("nginx_patches_real_ip_from[%d]" % index, network)
        except dsm_validate.InputError as exc:
            errors.append(str(exc))
    for index, directive in enumerate(declared.get("nginx_patches_extra_directives") or []):
        problem = directive_error("nginx_patches_extra_directives[%d]" % index, directive)
        if problem:
            errors.append(problem)
    verify = declared.get("nginx_patches_verify_client", "on")
    if isinstance(verify, bool):
        errors.append(
            'nginx_patches_verify_client: %s is YAML\'s boolean; quote the word: "on", optional or "off"' % verify
        )
    elif verify not in VERIFY_CLIENT:
        errors.append('nginx_patches_verify_client: %r is not one of "on", optional, "off"' % verify)
    layout = declared.get("nginx_patches_dsm_layout", "dsm7")
    if layout not in LAYOUTS:
        errors.append(
            "nginx_patches_dsm_layout: %r is not dsm7 (sites-enabled/) or dsm6 (app.d/); pick the NAS's DSM" % layout
        )
    every = declared.get("nginx_patches_every_minutes", 5)
    if isinstance(every, bool) or str(every).strip() not in [str(m) for m in EVERY_MINUTES]:
        errors.append(
            "nginx_patches_every_minutes: %r is not a repeat DSM's Task Scheduler offers; use %s"
            % (every, ", ".join(str(m) for m in EVERY_MINUTES))
        )
    for name in ("nginx_patches_test_command", "nginx_patches_reload_command", "nginx_patches_task_name"):
        value = declared.get(name, "x")
        if not isinstance(value, str) or not value.strip() or CONTROL.search(value):
            errors.append("%s: give it as one non-empty line" % name)
    if "nginx_patches_root" in declared:
        problem = path_error("nginx_patches_root", declared["nginx_patches_root"], trailing_slash=True)
        if problem:
            errors.append(problem)
    for name in ("nginx_patches_conf_dir",):
        if name in declared:
            problem = path_error(name, declared[name])
            if problem:
                errors.append(problem)
    files = declared.get("nginx_patches_server_files")
    if files is not None:
        if not isinstance(files, list) or not files:
            errors.append("nginx_patches_server_files: give the list of DSM's generated server files")
        for index, path in enumerate(files if isinstance(files, list) else []):
            problem = path_error("nginx_patches_server_files[%d]" % index, path)
            if problem:
                errors.append(problem)
    if "nginx_patches_client_ca" in declared:
        errors += ca_errors(declared["nginx_patches_client_ca"])
        if "nginx_patches_client_ca_sha256" in declared:
            errors += ca_pin_errors(declared["nginx_patches_client_ca"], declared["nginx_patches_client_ca_sha256"])
    if verify == "on" and declared.get("tls_authenticated_origin_pulls") is False:
        errors.append(
            'nginx_patches_verify_client: "on" while tls_authenticated_origin_pulls is false: Cloudflare would '
            "present no client certificate and nginx would refuse every visitor; set "
            "tls_authenticated_origin_pulls: true, or nginx_patches_verify_client: optional until it is"
        )
    return errors


def script_values(hostnames, real_ip_from):
    """What the patch script carries, re-rendered from the parsed values (never the text as given): the
    hostnames normalised (name_key), unique, in order; the networks as canonical CIDRs. Raises InputError
    naming the variable, so the template cannot be rendered with a value the check would refuse."""
    hosts = []
    for index, host in enumerate(hostnames or []):
        name = dsm_validate.hostname("nginx_patches_hostnames[%d]" % index, host, wildcard=True)
        if name not in hosts:
            hosts.append(name)
    networks = [
        dsm_validate.trusted_network("nginx_patches_real_ip_from[%d]" % index, network)
        for index, network in enumerate(real_ip_from or [])
    ]
    return {"hostnames": hosts, "real_ip_from": networks}
