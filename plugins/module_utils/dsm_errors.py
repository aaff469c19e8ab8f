# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""DSM Web API error codes and the exception every DSM call raises."""

from __future__ import annotations

from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabError

# Codes every DSM API can answer (Synology developer guides).
COMMON_ERRORS = {
    100: "unknown error",
    101: "the request lacks the api, method or version parameter",
    102: "the requested API does not exist",
    103: "the requested method does not exist (DSM also answers 103 when a session that has a SynoToken "
    "sends a request without it)",
    104: "the requested API version is not supported",
    105: "the logged-in user has no permission for this API (use an account in the administrators group)",
    106: "the session timed out",
    107: "the session was interrupted by a duplicate login",
    108: "failed to upload the file",
    109: "the network connection is unstable or the system is busy",
    110: "the network connection is unstable or the system is busy",
    111: "the network connection is unstable or the system is busy",
    112: "preserve for other purpose",
    113: "preserve for other purpose",
    114: "lost parameters for this API",
    115: "not allowed to upload a file",
    116: "not allowed to perform this request in demo mode",
    117: "the network connection is unstable or the system is busy",
    118: "the network connection is unstable or the system is busy",
    119: "the session id is invalid or expired, or the SynoToken was rejected",
    120: "a parameter is invalid or missing",
}

# SYNO.API.Auth (DSM login guide; acme.sh's deploy hook interprets them the same way).
AUTH_ERRORS = {
    400: "no such account or the password is incorrect",
    401: "the account is disabled",
    402: "permission denied",
    403: "a 2-step verification code is required: set otp_code, or device_id from an earlier login",
    404: "the 2-step verification code is wrong or expired",
    406: "2-step verification is enforced for this account but not set up yet: enrol it in DSM first",
    407: "this IP address is blocked by DSM's auto-block",
    408: "the password has expired and must be changed",
    409: "the password has expired and must be changed",
    410: "the password must be changed at next login",
}

# SYNO.Core.Certificate* import errors, with the meanings of DSM's own message table (as the public
# clients N4S4/synology-api error_codes.py and batonogov/terraform-provider-synology-dsm errors.go give it).
CERTIFICATE_ERRORS = {
    5510: "DSM rejected the certificate file (not a valid certificate)",
    5511: "DSM rejected the private key file (not a valid private key)",
    5512: "DSM rejected the intermediate certificate file",
    5513: "DSM does not support the certificate's cipher type",
    5514: "the private key does not match the certificate",
    5515: "DSM wants a certificate issued by a trusted authority",
    5516: "the uploaded files must be UTF-8 encoded",
    5517: "the certificate does not verify against the intermediate certificates",
    5518: "DSM does not support DSA certificates",
    5519: "the certificate signing request is invalid",
    5534: "the key is too short: DSM wants more than 1024 bits",
}

# SYNO.Core.Certificate.LetsEncrypt: DSM's message table (batonogov/terraform-provider-synology-dsm errors.go,
# go-synology, N4S4/synology-api error_codes.py for 5528), each with what to do. Never retried by this collection:
# every request DSM sends to Let's Encrypt spends one of its rate-limit slots.
LETSENCRYPT_ERRORS = {
    5520: "DSM got no response from Let's Encrypt: check that the NAS reaches the internet (DNS, gateway, proxy) "
    "and try again later",
    5521: "Let's Encrypt could not validate the domain over HTTP-01: TCP port 80 from the internet must reach the "
    "NAS (forward port 80 on the router to the NAS, allow it in DSM's firewall, and check your ISP does not block "
    "it); wait before retrying, each failed validation counts against Let's Encrypt's limits",
    5522: "Let's Encrypt could not validate the issuer/domain: check that every name resolves publicly to this "
    "NAS's public address and that nothing else answers port 80 for it",
    5523: "too many Let's Encrypt accounts were registered from this IP address: wait (hours) before trying again",
    5524: "Let's Encrypt's rate limit was reached (certificates per registered domain or duplicate certificates "
    "per week): wait for the limit's window to pass (up to a week); do not retry now",
    5525: "Let's Encrypt refused the e-mail address: give a valid address of a domain that accepts mail",
    5526: "DSM refused a parameter of the request: check the names (no empty, duplicate or invalid name)",
    5527: "Let's Encrypt is busy or under maintenance: try again later",
    5528: "DSM's Let's Encrypt client issues wildcard certificates only for Synology DDNS domains (synology.me and "
    "its sisters): drop the wildcard, or use acme_certificate (DNS-01) for it",
    5529: "a name is not publicly resolvable: publish an A/AAAA record for each name pointing at the NAS's public "
    "address (for example with cloudflare_dns_records or DDNS) and wait for it to propagate",
    5530: "Let's Encrypt could not connect to the domain: check the public IP the names resolve to, the router's "
    "port 80 forward, DSM's firewall and any proxy in front (a Cloudflare-proxied name must reach the NAS's port "
    "80 through Cloudflare)",
}
LETSENCRYPT_API = "SYNO.Core.Certificate.LetsEncrypt"

SESSION_ERRORS = frozenset((106, 107, 119))


def describe(code, api=None, details=None):
    """Return a human message for a DSM error code, naming the API family (and the parameter DSM named)."""
    if code == 120 and isinstance(details, dict) and details.get("name"):
        return "parameter '%s' is invalid (%s)" % (details["name"], details.get("reason") or "rejected")
    if api == "SYNO.API.Auth" and code in AUTH_ERRORS:
        return AUTH_ERRORS[code]
    if api and api.startswith(LETSENCRYPT_API) and code in LETSENCRYPT_ERRORS:
        return LETSENCRYPT_ERRORS[code]
    if api and api.startswith("SYNO.Core.Certificate") and code in CERTIFICATE_ERRORS:
        return CERTIFICATE_ERRORS[code]
    return COMMON_ERRORS.get(code, "DSM error code %s" % code)


class DsmError(HomelabError):
    """Any failure talking to DSM. `code` is DSM's error code when DSM answered one."""

    def __init__(self, message, code=None, api=None, method=None, status=None):
        super().__init__(message, code=code, api=api, method=method, status=status)
        self.details = None

    @classmethod
    def from_code(cls, code, api, method, details=None):
        """details: DSM's `error.errors`, which names the offending parameter for 120."""
        error = cls(
            "%s.%s failed with DSM error %s: %s" % (api, method, code, describe(code, api, details)),
            code=code,
            api=api,
            method=method,
        )
        error.details = details
        return error
