"""A fresh Cloudflare account as the API shows it: one zone on the Free plan, tokens, IP ranges.

Tokens (lab only): LAB_TOKEN may do everything; READ_ONLY_TOKEN may only read (writes get 10000);
DNS_ONLY_TOKEN may write the zone but holds no Account > Cloudflare Tunnel permission (tunnels.py answers 10000).
The account's email and Global API key (LAB_EMAIL, LAB_GLOBAL_KEY) may do everything too.
"""

from __future__ import annotations

LAB_TOKEN = "lab-cloudflare-token-0123456789abcdefghij"
READ_ONLY_TOKEN = "lab-cloudflare-readonly-0123456789abcdef"
DNS_ONLY_TOKEN = "lab-cloudflare-dnsonly-0123456789abcdefg"
ZONE_NAME = "example.test"
LAB_EMAIL = "lab@example.test"
LAB_GLOBAL_KEY = "0123456789abcdef0123456789abcdef01234"  # 37 hex characters, like a real Global API key
ACCOUNT = {"id": "01a7362d577a6c3019a474fd6f485823", "name": "homelab.nas lab account"}
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
    "security_header": (
        {
            "strict_transport_security": {
                "enabled": False,
                "max_age": 0,
                "include_subdomains": False,
                "preload": False,
                "nosniff": False,
            }
        },
        True,
    ),
    "http3": ("on", True),
    "0rtt": ("off", True),
    "ipv6": ("on", True),
    "websockets": ("on", True),
    "brotli": ("on", True),
    "polish": ("off", False),  # Pro plan and up
    "waf": ("off", False),  # Pro plan and up
    "mirage": ("off", False),  # Pro plan and up
}

# Shaped like Cloudflare's published list (loopback lab data, not the real ranges); the 103.21.244.0/23
# pair tests that adjacent networks are collapsed.
IPS = {
    "ipv4_cidrs": [
        "173.245.48.0/20",
        "103.21.244.0/23",
        "103.21.246.0/23",
        "103.22.200.0/22",
        "141.101.64.0/18",
        "108.162.192.0/18",
    ],
    "ipv6_cidrs": ["2400:cb00::/32", "2606:4700::/32", "2803:f800::/32"],
    "etag": "38f79d050aa027e3be3865e495dcc9bc",
}


def zone():
    """The zone object with the fields of cloudflare-python 5.9 types/zones/zone.py (Zone)."""
    return {
        "id": ZONE_ID,
        "name": ZONE_NAME,
        "status": "active",
        "paused": False,
        "type": "full",
        "development_mode": 0,
        "account": dict(ACCOUNT),
        "owner": {"id": None, "name": ACCOUNT["name"], "type": "organization"},
        "plan": {
            "id": "0feeeeeeeeeeeeeeeeeeeeeeeeeeeeee",
            "name": "Free Website",
            "price": 0,
            "currency": "USD",
            "frequency": "",
            "is_subscribed": False,
            "can_subscribe": False,
            "legacy_id": "free",
            "legacy_discount": False,
            "externally_managed": False,
        },
        "meta": {
            "step": 2,
            "custom_certificate_quota": 0,
            "page_rule_quota": 3,
            "phishing_detected": False,
            "cdn_only": False,
            "dns_only": False,
            "foundation_dns": False,
        },
        "name_servers": ["ada.ns.cloudflare.com", "bob.ns.cloudflare.com"],
        "original_name_servers": None,
        "original_registrar": None,
        "original_dnshost": None,
        "vanity_name_servers": [],
        "permissions": [
            "#zone:read",
            "#zone:edit",
            "#dns_records:read",
            "#dns_records:edit",
            "#zone_settings:read",
            "#zone_settings:edit",
            "#ssl:read",
            "#ssl:edit",
        ],
        "created_on": EPOCH,
        "modified_on": EPOCH,
        "activated_on": EPOCH,
    }


def initial_state():
    return {
        "tokens": {
            LAB_TOKEN: {"id": "ed17574386854bf78a67040be0a770b0", "write": True},
            READ_ONLY_TOKEN: {"id": "9a7806061c88ada191ed06f989cc3dac", "write": False},
            # A token that lists its permissions gets only those (tunnels.py checks `cloudflare_tunnel`).
            DNS_ONLY_TOKEN: {"id": "5c0d1e2f3a4b5c6d7e8f9a0b1c2d3e4f", "write": True, "permissions": ["dns"]},
        },
        "account": dict(ACCOUNT, email=LAB_EMAIL, global_api_key=LAB_GLOBAL_KEY),
        "zones": {ZONE_ID: zone()},
        "settings": {
            ZONE_ID: {
                sid: {"id": sid, "value": value, "editable": editable, "modified_on": EPOCH}
                for sid, (value, editable) in SETTINGS.items()
            }
        },
        "dns_records": {},
        "certificates": {},
        "tunnels": {},
        "ips": dict(IPS),
    }
