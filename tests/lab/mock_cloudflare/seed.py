"""A fresh Cloudflare account as the API shows it: one zone on the Free plan, tokens, IP ranges.

Tokens (lab only): LAB_TOKEN may do everything; READ_ONLY_TOKEN may only read (writes get 10000).
"""

from __future__ import annotations

LAB_TOKEN = "lab-cloudflare-token-0123456789abcdefghij"
READ_ONLY_TOKEN = "lab-cloudflare-readonly-0123456789abcdef"
ZONE_NAME = "example.test"
ZONE_ID = "023e105f4ecef8ad9ca31a8372d0c353"
EPOCH = "2026-01-01T00:00:00.000000Z"

# Defaults of a new zone on the Free plan (the settings the collection cares about, and a few it does not).
SETTINGS = {
    "ssl": ("full", True),
    "min_tls_version": ("1.0", True),
    "tls_1_3": ("on", True),
    "opportunistic_encryption": ("on", True),
    "automatic_https_rewrites": ("off", True),
    "always_use_https": ("off", True),
    "tls_client_auth": ("off", True),
    "security_header": ({"strict_transport_security": {"enabled": False, "max_age": 0, "include_subdomains": False,
                                                       "preload": False, "nosniff": False}}, True),
    "http3": ("on", True),
    "0rtt": ("off", True),
    "ipv6": ("on", True),
    "websockets": ("on", True),
    "brotli": ("on", True),
    "polish": ("off", False),      # Pro plan and up
    "waf": ("off", False),         # Pro plan and up
    "mirage": ("off", False),      # Pro plan and up
}

# Shaped like Cloudflare's published list (loopback lab data, not the real ranges); the 103.21.244.0/23
# pair tests that adjacent networks are collapsed.
IPS = {
    "ipv4_cidrs": ["173.245.48.0/20", "103.21.244.0/23", "103.21.246.0/23", "103.22.200.0/22",
                   "141.101.64.0/18", "108.162.192.0/18"],
    "ipv6_cidrs": ["2400:cb00::/32", "2606:4700::/32", "2803:f800::/32"],
    "etag": "38f79d050aa027e3be3865e495dcc9bc",
}


def initial_state():
    return {
        "tokens": {LAB_TOKEN: {"id": "ed17574386854bf78a67040be0a770b0", "write": True},
                   READ_ONLY_TOKEN: {"id": "9a7806061c88ada191ed06f989cc3dac", "write": False}},
        "zones": {ZONE_ID: {"id": ZONE_ID, "name": ZONE_NAME, "status": "active", "paused": False, "type": "full",
                            "plan": {"id": "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee", "name": "Free Website"},
                            "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"]}},
        "settings": {ZONE_ID: {sid: {"id": sid, "value": value, "editable": editable, "modified_on": EPOCH}
                               for sid, (value, editable) in SETTINGS.items()}},
        "dns_records": {},
        "certificates": {},
        "ips": dict(IPS),
    }
