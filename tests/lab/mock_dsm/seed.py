"""What a freshly installed DSM 7.2 looks like to the API, plus the lab's test accounts.

Accounts (all passwords are lab-only):
- ansible / lab-password: administrator, no 2FA (the demo's account)
- otp-admin / lab-password: administrator with 2FA (TOTP secret below)
- alice / lab-password: ordinary user (DSM answers 105 on admin APIs)
- admin, guest: disabled, as DSM 7 ships them
"""

from __future__ import annotations

import datetime
import uuid

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID

from tests.lab.mock_dsm import ddns, quickconnect, tasks
from tests.lab.mock_dsm.reverse_proxy import certificate_service
from tests.lab.mock_dsm.terminal import DEFAULTS as TERMINAL_DEFAULTS

LAB_PASSWORD = "lab-password"
OTP_SECRET = "JBSWY3DPEHPK3PXPHOMELABNAS2FA234"

DSM_INFO = {
    "codepage": "enu",
    "model": "DS920+",
    "ram": 4096,
    "serial": "LAB0000001",
    "temperature": 40,
    "temperature_warn": False,
    "uptime": 86400,
    "version": "72806",
    "version_string": "DSM 7.2.2-72806 Update 3",
}

# Services as DSM 7 lists them under a certificate (SYNO.Core.Certificate.CRT list).
SYSTEM_SERVICES = [
    {
        "display_name": "DSM Desktop Service",
        "display_name_i18n": "common:web_desktop",
        "isPkg": False,
        "multiple_cert": True,
        "owner": "root",
        "service": "default",
        "subscriber": "system",
        "user_setable": True,
    },
    {
        "display_name": "FTPS",
        "display_name_i18n": "ftp:ftp_title",
        "isPkg": False,
        "multiple_cert": False,
        "owner": "root",
        "service": "ftpd",
        "subscriber": "smbftpd",
        "user_setable": True,
    },
    {
        "display_name": "WebDAV Server",
        "isPkg": True,
        "multiple_cert": False,
        "owner": "WebDAVServer",
        "service": "webdav",
        "subscriber": "WebDAVServer",
        "user_setable": True,
    },
]


def reverse_proxy_entry(hostname, backend_port):
    entry_uuid = str(uuid.uuid5(uuid.NAMESPACE_DNS, hostname))
    return {
        "UUID": entry_uuid,
        "_key": entry_uuid,
        "description": hostname.split(".")[0],
        "frontend": {"fqdn": hostname, "port": 443, "protocol": 1, "acl": None, "https": {"hsts": False}},
        "backend": {"fqdn": "localhost", "port": backend_port, "protocol": 0},
        "customize_headers": [],
        "proxy_connect_timeout": 60,
        "proxy_read_timeout": 60,
        "proxy_send_timeout": 60,
        "proxy_http_version": 1,
        "proxy_intercept_errors": False,
    }


def _synology_name(common_name):
    return x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "TW"),
            x509.NameAttribute(NameOID.LOCALITY_NAME, "Taipei"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Synology Inc."),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def self_signed_default():
    """DSM's factory certificate: CN 'synology', issued by DSM's own self-signed "Synology Inc. CA"
    (as CRT.list replies quoted by public clients show it). -> (cert PEM, key PEM, CA PEM)."""
    now = datetime.datetime.now(datetime.UTC)
    ca_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    ca_name = _synology_name("Synology Inc. CA")
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=3650))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_synology_name("synology"))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName("synology")]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    pem = serialization.Encoding.PEM
    return (
        cert.public_bytes(pem).decode(),
        key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()).decode(),
        ca.public_bytes(pem).decode(),
    )


def _user(password, uid, admin=False, expired="normal"):
    groups = ["administrators", "users"] if admin else ["users"]
    return {
        "password": password,
        "uid": uid,
        "admin": admin,
        "groups": groups,
        "expired": expired,
        "disabled": expired == "now",
    }


def initial_state(factory_certificate=None):
    """factory_certificate: (cert PEM, key PEM, issuing CA PEM) of DSM's built-in certificate. The lab's
    server passes one its CA signed for 127.0.0.1, so that controllers can trust what the HTTPS listener
    presents with dsm/ca.pem; without it, one made here the way DSM makes its own."""
    cert_pem, key_pem, ca_pem = factory_certificate or self_signed_default()
    services = {s["service"]: s for s in SYSTEM_SERVICES}
    reverse_proxy = {}
    default_hosts = [("nas.example.test", 5000), ("photos.example.test", 8080)]
    for hostname, port in default_hosts:
        entry = reverse_proxy_entry(hostname, port)
        reverse_proxy[entry["UUID"]] = entry
        services[entry["UUID"]] = certificate_service(entry["UUID"], hostname)
    default_id = "sYnDef"
    return {
        "dsm_info": dict(DSM_INFO),
        # uid and groups as SYNO.Core.User answers them (N4S4's user_get example: uid 1027 for a user
        # made after install; administrators are members of "administrators"). `expired` is DSM's
        # account state: "normal", "now" (disabled) or a YYYY/M/D date.
        "users": {
            "admin": _user(LAB_PASSWORD, 1024, admin=True, expired="now"),
            "guest": _user("", 1025, expired="now"),
            "ansible": _user(LAB_PASSWORD, 1026, admin=True),
            "otp-admin": dict(_user(LAB_PASSWORD, 1027, admin=True), otp_secret=OTP_SECRET, device_tokens=[]),
            "alice": _user(LAB_PASSWORD, 1028),
        },
        "certificates": {
            default_id: {
                "id": default_id,
                "desc": "",
                "is_default": True,
                "cert_pem": cert_pem,
                "key_pem": key_pem,
                "chain_pem": ca_pem,
                "user_deletable": False,
                "factory": True,
            },
        },
        "services": services,
        "bindings": {key: default_id for key in services},
        "reverse_proxy": reverse_proxy,
        "access_control_profiles": [{"UUID": "6f1c2b8e-5d2a-4c55-9a1e-1c0ffee00001", "name": "LAN only"}],
        "firewall": {
            "enable_firewall": False,
            "profile_name": "default",
            "profiles": {"default": {"name": "default", "global": {"policy": "allow", "rules": []}}},
        },
        "security": {
            "trusted_proxies": [],  # SYNO.Core.Security.DSM.Proxy's proxylist
            "dos": {"eth0": False, "eth1": False},
            "autoblock": {"enable": False, "attempts": 10, "within_mins": 5, "expire_day": 0},
            "autoblock_lists": {"allow": [], "deny": []},
            "smartblock": {
                "enabled": False,
                "untrust_try": 5,
                "untrust_minute": 1,
                "untrust_lock": 30,
                "trust_try": 10,
                "trust_minute": 1,
                "trust_lock": 30,
            },
            "otp_enforce_option": "none",
        },
        "terminal": dict(TERMINAL_DEFAULTS),
        # QuickConnect on with its relay, as the setup wizard leaves it with a Synology Account (quickconnect.py).
        "quickconnect": quickconnect.initial_state(ddns.MYDS_ACCOUNT),
        # Keys of dsmctl's v2 fixture (policy_v2.json); N4S4 names autoupdate_type, schedule, smart_nano_enabled.
        "upgrade": {
            "autoupdate_enable": False,
            "autoupdate_type": "notify",
            "schedule": {"week_day": "0", "hour": 3, "minute": 0},
            "smart_nano_enabled": False,
            "upgrade_type": "hotfix",
        },
        # DDNS: the providers and one synology.me record registered through DSM's wizard (ddns.py).
        "ddns": ddns.initial_state(),
        # Task Scheduler: none on a fresh DSM (tasks.py).
        "tasks": tasks.initial_state(),
    }
