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

SESSION_ERRORS = frozenset((106, 107, 119))


def describe(code, api=None, details=None):
    """Return a human message for a DSM error code, naming the API family (and the parameter DSM named)."""
    if code == 120 and isinstance(details, dict) and details.get("name"):
        return "parameter '%s' is invalid (%s)" % (details["name"], details.get("reason") or "rejected")
    if api == "SYNO.API.Auth" and code in AUTH_ERRORS:
        return AUTH_ERRORS[code]
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
