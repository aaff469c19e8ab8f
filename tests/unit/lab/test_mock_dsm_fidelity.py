"""The mock DSM answers as the public sources show DSM answering (docs/lab-fidelity.md, ## DSM).

Raw HTTP, not the collection's client, so these tests pin the mock itself: each asserts a shape that the
old, module-shaped mock got wrong (issue 9, D1-D23).
"""

from __future__ import annotations

import json

import pytest
import requests

from tests.lab.mock_dsm.seed import LAB_PASSWORD


class Raw:
    """A bare DSM conversation: login options and where _sid/SynoToken travel are the caller's."""

    def __init__(self, lab):
        self.base = "https://%s:%s/webapi/" % (lab.host, lab.https_port)
        self.verify = lab.ca_path
        self.sid = self.token = None

    def login(self, syno_token=True, account="ansible"):
        params = {
            "api": "SYNO.API.Auth",
            "version": "7",
            "method": "login",
            "account": account,
            "passwd": LAB_PASSWORD,
            "format": "sid",
        }
        if syno_token:
            params["enable_syno_token"] = "yes"
        data = self.post("entry.cgi", params, session=False)["data"]
        self.sid, self.token = data["sid"], data.get("synotoken")
        return self

    def _prepare(self, params, session, token):
        params = dict(params)
        if session and self.sid:
            params["_sid"] = self.sid
        headers = {"X-SYNO-TOKEN": self.token} if token and self.token else {}
        return params, headers

    def get(self, path, params, session=True, token=True):
        params, headers = self._prepare(params, session, token)
        reply = requests.get(self.base + path, params=params, headers=headers, verify=self.verify, timeout=10)
        return reply.json()

    def post(self, path, params, session=True, token=True, query=None):
        params, headers = self._prepare(params, session, token)
        reply = requests.post(
            self.base + path, data=params, params=query, headers=headers, verify=self.verify, timeout=10
        )
        return reply.json()

    def call(self, api, method, version=1, token=True, **params):
        return self.get("entry.cgi", dict(params, api=api, method=method, version=str(version)), token=token)


@pytest.fixture
def dsm(dsm_lab):
    return Raw(dsm_lab).login()


def error(reply):
    assert reply["success"] is False, reply
    return reply["error"]


# -- discovery, URLs, envelope (D7, D8, D20, D23) ----------------------------------------------------------


def test_api_info_is_listed_on_entry_cgi_and_answered_on_both_paths(dsm_lab):
    raw = Raw(dsm_lab)
    for cgi in ("query.cgi", "entry.cgi"):
        data = raw.get(cgi, {"api": "SYNO.API.Info", "version": "1", "method": "query", "query": "ALL"}, session=False)[
            "data"
        ]
        assert data["SYNO.API.Info"] == {"maxVersion": 1, "minVersion": 1, "path": "entry.cgi", "requestFormat": "JSON"}
        assert data["SYNO.DSM.Info"]["minVersion"] == 2 and data["SYNO.DSM.Info"]["maxVersion"] == 2
        assert data["SYNO.Core.Upgrade.Setting"]["maxVersion"] == 4
        assert "requestFormat" not in data["SYNO.API.Auth"]
        assert "SYNO.Core.Security.DSM.Proxy" in data and "SYNO.Core.Security.TrustedProxy" not in data


def test_json_answers_carry_dsms_content_type(dsm_lab):
    reply = requests.get(
        "https://%s:%s/webapi/query.cgi" % (dsm_lab.host, dsm_lab.https_port),
        params={"api": "SYNO.API.Info", "version": "1", "method": "query"},
        verify=dsm_lab.ca_path,
        timeout=10,
    )
    assert reply.headers["Content-Type"] == 'application/json; charset="UTF-8"'


def test_path_style_url_names_the_api(dsm):
    reply = dsm.post("entry.cgi/SYNO.Core.Certificate.CRT", {"method": "list", "version": "1"})
    assert reply["success"] is True and reply["data"]["certificates"]


def test_missing_api_method_or_version_is_101(dsm):
    assert error(dsm.get("entry.cgi", {"api": "SYNO.Core.Certificate.CRT", "method": "list"}))["code"] == 101


# -- sessions and SynoToken (D3, D4) ------------------------------------------------------------------------


def test_a_token_session_needs_the_token_on_reads_too(dsm):
    assert error(dsm.call("SYNO.Core.Certificate.CRT", "list", token=False))["code"] == 103
    dsm.token = "not-the-token"
    assert error(dsm.call("SYNO.Core.Certificate.CRT", "list"))["code"] == 119


def test_the_token_may_travel_in_the_query_string(dsm):
    reply = dsm.get(
        "entry.cgi",
        {"api": "SYNO.Core.Certificate.CRT", "method": "list", "version": "1", "SynoToken": dsm.token},
        token=False,
    )
    assert reply["success"] is True


def test_a_session_without_token_is_answered_as_before(dsm_lab):
    raw = Raw(dsm_lab).login(syno_token=False)
    assert raw.token is None
    assert raw.call("SYNO.DSM.Info", "getinfo", 2)["success"] is True
    assert raw.call("SYNO.Core.Certificate.CRT", "list")["success"] is True


def test_sid_in_post_body_and_in_the_id_cookie(dsm):
    body = dsm.post("entry.cgi", {"api": "SYNO.Core.Certificate.CRT", "method": "list", "version": "1"})
    assert body["success"] is True
    reply = requests.get(
        dsm.base + "entry.cgi",
        params={"api": "SYNO.Core.Certificate.CRT", "method": "list", "version": "1"},
        headers={"Cookie": "id=%s" % dsm.sid, "X-SYNO-TOKEN": dsm.token},
        verify=dsm.verify,
        timeout=10,
    )
    assert reply.json()["success"] is True


# -- bad parameters (D13) -------------------------------------------------------------------------------------


def test_missing_parameter_is_114_and_invalid_one_is_120_naming_it(dsm):
    assert error(dsm.call("SYNO.Core.Security.DoS", "get", 2)) == {"code": 114}
    assert error(dsm.call("SYNO.Core.Security.Firewall.Profile.Apply", "status")) == {"code": 114}
    assert error(dsm.call("SYNO.Core.Security.Firewall.Profile", "get")) == {
        "code": 120,
        "errors": {"name": "name", "reason": "required"},
    }
    bad = error(dsm.call("SYNO.Core.OTP.EnforcePolicy", "set", otp_enforce_option='"sometimes"'))
    assert bad == {"code": 120, "errors": {"name": "otp_enforce_option", "reason": "type"}}


# -- certificates (D1, D17, D18, D19) ------------------------------------------------------------------------


def test_list_dates_are_space_padded_and_the_factory_cert_is_marked(dsm):
    certs = dsm.call("SYNO.Core.Certificate.CRT", "list")["data"]["certificates"]
    factory = next(c for c in certs if c["id"] == "sYnDef")
    assert factory["self_signed_cacrt_info"]["issuer"]["common_name"] == "Synology Inc. CA"
    assert factory["issuer"]["common_name"] == "Synology Inc. CA"
    for field in ("valid_from", "valid_till"):
        month, day = factory[field][:3], factory[field][4:6]
        assert month.isalpha() and (day[0] == " " or day[0] != "0"), factory[field]


def _import(dsm, cert, key, chain=b""):
    files = {"key": ("privkey.pem", key), "cert": ("cert.pem", cert)}
    if chain:
        files["inter_cert"] = ("chain.pem", chain)
    query = {"api": "SYNO.Core.Certificate", "method": "import", "version": "1", "_sid": dsm.sid}
    reply = requests.post(
        dsm.base + "entry.cgi",
        params=query,
        headers={"X-SYNO-TOKEN": dsm.token},
        files=files,
        data={"desc": "t"},
        verify=dsm.verify,
        timeout=10,
    )
    return reply.json()


def test_import_error_codes_follow_dsms_table(dsm, tmp_path):
    import datetime

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import dsa, rsa

    def pair(key):
        name = x509.Name([x509.NameAttribute(x509.NameOID.COMMON_NAME, "t.example.test")])
        now = datetime.datetime.now(datetime.UTC)
        cert = (
            x509.CertificateBuilder()
            .subject_name(name)
            .issuer_name(name)
            .public_key(key.public_key())
            .serial_number(1)
            .not_valid_before(now)
            .not_valid_after(now + datetime.timedelta(days=30))
            .sign(key, hashes.SHA256())
        )
        return (
            cert.public_bytes(serialization.Encoding.PEM),
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )

    cert, key = pair(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    other_cert, other_key = pair(rsa.generate_private_key(public_exponent=65537, key_size=2048))
    dsa_cert, dsa_key = pair(dsa.generate_private_key(key_size=2048))
    assert error(_import(dsm, b"not a certificate", key))["code"] == 5510
    assert error(_import(dsm, cert, b"not a key"))["code"] == 5511
    assert error(_import(dsm, cert, key, b"-----BEGIN CERTIFICATE-----\ngarbage\n"))["code"] == 5512
    assert error(_import(dsm, cert, other_key))["code"] == 5514
    assert error(_import(dsm, dsa_cert, dsa_key))["code"] == 5518
    assert _import(dsm, other_cert, other_key)["success"] is True


def test_service_binding_needs_the_current_old_id(dsm):
    certs = dsm.call("SYNO.Core.Certificate.CRT", "list")["data"]["certificates"]
    service = next(s for s in certs[0]["services"] if s["service"] == "ftpd")
    stale = [{"service": service, "old_id": "NoSuch", "id": "sYnDef"}]
    assert (
        error(
            dsm.post(
                "entry.cgi",
                {
                    "api": "SYNO.Core.Certificate.Service",
                    "method": "set",
                    "version": "1",
                    "settings": json.dumps(stale),
                },
            )
        )["code"]
        == 120
    )
    missing = [{"service": service, "id": "sYnDef"}]
    assert error(
        dsm.post(
            "entry.cgi",
            {"api": "SYNO.Core.Certificate.Service", "method": "set", "version": "1", "settings": json.dumps(missing)},
        )
    )["code"] in (114, 120)
    good = [{"service": service, "old_id": "sYnDef", "id": "sYnDef"}]
    assert (
        dsm.post(
            "entry.cgi",
            {"api": "SYNO.Core.Certificate.Service", "method": "set", "version": "1", "settings": json.dumps(good)},
        )["success"]
        is True
    )


# -- security (D2, D14, D15) ------------------------------------------------------------------------------------


def test_trusted_proxies_live_in_dsm_proxy(dsm):
    assert dsm.call("SYNO.Core.Security.DSM.Proxy", "get")["data"] == {"proxylist": []}
    assert (
        dsm.post(
            "entry.cgi",
            {
                "api": "SYNO.Core.Security.DSM.Proxy",
                "method": "set",
                "version": "1",
                "proxylist": json.dumps(["173.245.48.0/20"]),
            },
        )["success"]
        is True
    )
    assert dsm.call("SYNO.Core.Security.DSM.Proxy", "get")["data"] == {"proxylist": ["173.245.48.0/20"]}
    assert error(dsm.call("SYNO.Core.Security.TrustedProxy", "get"))["code"] == 102


def test_autoblock_rules_list_needs_a_type_and_both_write_shapes_work(dsm):
    assert error(dsm.call("SYNO.Core.Security.AutoBlock.Rules", "list"))["code"] == 5100
    assert error(dsm.call("SYNO.Core.Security.AutoBlock.Rules", "get"))["code"] == 5103
    rules = "SYNO.Core.Security.AutoBlock.Rules"
    assert (
        dsm.post("entry.cgi", {"api": rules, "method": "create", "version": "1", "type": "allow", "ip": "192.0.2.1"})[
            "success"
        ]
        is True
    )
    assert dsm.post(
        "entry.cgi",
        {
            "api": rules,
            "method": "set",
            "version": "1",
            "rules": json.dumps([{"type": "allow", "ip": "198.51.100.0/24"}]),
        },
    )["success"]
    listed = dsm.call(rules, "list", type="allow")["data"]
    assert sorted(e["ip"] for e in listed["ip_info"]) == ["192.0.2.1", "198.51.100.0/24"]
    assert listed["total"] == 2 and listed["offset"] == 0
    assert dsm.post(
        "entry.cgi",
        {"api": rules, "method": "delete", "version": "1", "rules": json.dumps([{"type": "allow", "ip": "192.0.2.1"}])},
    )["success"]
    assert [e["ip"] for e in dsm.call(rules, "list", type="allow")["data"]["ip_info"]] == ["198.51.100.0/24"]


# -- firewall (D10, D11, D12, D22) --------------------------------------------------------------------------------


def test_profile_list_get_and_apply_task(dsm):
    assert dsm.call("SYNO.Core.Security.Firewall.Profile", "list")["data"] == {"profile_names": ["default"]}
    profile = dsm.call("SYNO.Core.Security.Firewall.Profile", "get", name="default")["data"]
    assert profile["name"] == "default" and "global" in profile and "profile" not in profile
    apply = "SYNO.Core.Security.Firewall.Profile.Apply"
    task = dsm.post(
        "entry.cgi", {"api": apply, "method": "start", "version": "1", "name": "default", "profile_applying": "false"}
    )["data"]["task_id"]
    assert error(dsm.call(apply, "status", task_id="no-such-task"))["code"] == 120
    assert dsm.call(apply, "status", task_id=task)["data"]["finish"] is True
    assert dsm.post("entry.cgi", {"api": apply, "method": "stop", "version": "1", "task_id": task})["success"]
    assert dsm.call("SYNO.Core.Security.Firewall", "get")["data"]["enable_firewall"] is True


def test_firewall_disable_with_set_type(dsm, dsm_lab):
    dsm.post(
        "entry.cgi",
        {"api": "SYNO.Core.Security.Firewall.Profile.Apply", "method": "start", "version": "1", "name": "default"},
    )
    assert (
        dsm.post(
            "entry.cgi",
            {"api": "SYNO.Core.Security.Firewall", "method": "set", "version": "1", "set_type": '"disable"'},
        )["success"]
        is True
    )
    assert dsm.call("SYNO.Core.Security.Firewall", "get")["data"]["enable_firewall"] is False


def test_fwdb_shaped_profile_is_accepted_too(dsm, dsm_lab):
    profile = {
        "name": "bat",
        "rules": {
            "global": [
                {
                    "name": "lan",
                    "enable": True,
                    "policy": 0,
                    "protocol": 1,
                    "portGroup": 1,
                    "portList": ["5001"],
                    "ipGroup": 1,
                    "ipList": ["192.168.1.0", "255.255.255.0"],
                    "ipType": 0,
                }
            ]
        },
        "adapterPolicyMap": {"global": 1},
    }
    assert dsm.post(
        "entry.cgi",
        {
            "api": "SYNO.Core.Security.Firewall.Profile",
            "method": "set",
            "version": "1",
            "profile": json.dumps(profile),
            "profile_applying": "false",
        },
    )["success"]
    assert dsm.call("SYNO.Core.Security.Firewall.Profile", "get", name="bat")["data"] == profile
    bad = dict(profile, adapterPolicyMap={"global": 7})
    assert (
        error(
            dsm.post(
                "entry.cgi",
                {
                    "api": "SYNO.Core.Security.Firewall.Profile",
                    "method": "set",
                    "version": "1",
                    "profile": json.dumps(bad),
                },
            )
        )["code"]
        == 120
    )


# -- users and update settings (D9, D16) --------------------------------------------------------------------------


def test_user_get_list_and_expiry_dates(dsm):
    assert error(dsm.call("SYNO.Core.User", "get", name='"mallory"'))["code"] == 3106
    got = dsm.call("SYNO.Core.User", "get", name='"alice"', additional='["expired","groups"]')["data"]["users"]
    assert got[0]["name"] == "alice" and isinstance(got[0]["uid"], int) and got[0]["expired"] == "normal"
    assert "is_admin" not in got[0] and got[0]["groups"] == ["users"]
    listed = dsm.call("SYNO.Core.User", "list", offset=0, limit=-1)["data"]
    assert set(listed["users"][0]) == {"name", "uid"} and listed["total"] == len(listed["users"])
    assert (
        dsm.post(
            "entry.cgi",
            {"api": "SYNO.Core.User", "method": "set", "version": "1", "name": "alice", "expired": "2031/03/05"},
        )["success"]
        is True
    )
    expired = dsm.call("SYNO.Core.User", "get", name='"alice"', additional='["expired"]')["data"]["users"][0]
    assert expired["expired"] == "2031/3/5"
    assert (
        error(
            dsm.post(
                "entry.cgi",
                {"api": "SYNO.Core.User", "method": "set", "version": "1", "name": "alice", "expired": "2031-03-05"},
            )
        )["code"]
        == 3103
    )


def test_upgrade_setting_full_and_partial_writes(dsm):
    api = "SYNO.Core.Upgrade.Setting"
    before = dsm.call(api, "get", 4)["data"]
    assert {"autoupdate_type", "schedule", "smart_nano_enabled"} <= set(before)
    assert (
        dsm.post("entry.cgi", {"api": api, "method": "set", "version": "4", "smart_nano_enabled": "true"})["success"]
        is True
    )
    after = dsm.call(api, "get", 4)["data"]
    assert after["smart_nano_enabled"] is True and after["schedule"] == before["schedule"]
    half = dsm.post("entry.cgi", {"api": api, "method": "set", "version": "2", "autoupdate_type": "smart"})
    assert error(half)["code"] == 114


# -- QuickConnect, a package API ----------------------------------------------------------------------------------
def _set(dsm, api, method, version, **params):
    return dsm.post("entry.cgi", dict(params, api=api, method=method, version=str(version)))


def test_quickconnect_methods_follow_the_dumps_version_table(dsm):
    api = "SYNO.Core.QuickConnect"
    got = dsm.call(api, "get", 2)["data"]
    assert got["enabled"] is True and got["server_alias"] and "relay_enabled" not in got
    assert dsm.call(api, "get_misc_config", 3)["data"] == {"relay_enabled": True}
    assert error(dsm.call(api, "get_misc_config", 2))["code"] == 103  # v3 only
    assert error(dsm.call(api, "status", 2))["code"] == 103  # v1 only
    assert _set(dsm, api, "set", 2, enabled="false")["success"] is True
    assert dsm.call(api, "get", 1)["data"]["enabled"] is False
    assert dsm.call(api, "get", 2)["data"]["server_alias"] == got["server_alias"]  # left out, kept
    assert _set(dsm, api, "set_misc_config", 3, relay_enabled="false")["success"] is True
    assert dsm.call(api, "get_misc_config", 3)["data"] == {"relay_enabled": False}
    assert error(_set(dsm, api, "set", 2))["code"] == 114


def test_quickconnect_takes_the_configured_name_for_on_off(dsm, dsm_lab):
    api = "SYNO.Core.QuickConnect"
    dsm_lab.configure(quickconnect_enable_field="enable")
    assert error(_set(dsm, api, "set", 2, enabled="false"))["code"] == 114  # not this DSM's name
    assert dsm.call(api, "get", 2)["data"]["enabled"] is True
    assert _set(dsm, api, "set", 2, enable="false")["success"] is True
    assert dsm.call(api, "get", 2)["data"]["enabled"] is False


def test_without_the_quickconnect_package_the_api_is_neither_listed_nor_answered(dsm, dsm_lab):
    listed = dsm.get("query.cgi", {"api": "SYNO.API.Info", "version": "1", "method": "query", "query": "ALL"})
    assert "SYNO.Core.QuickConnect" in listed["data"]
    dsm_lab.configure(quickconnect_installed=False)
    listed = dsm.get("query.cgi", {"api": "SYNO.API.Info", "version": "1", "method": "query", "query": "ALL"})
    assert "SYNO.Core.QuickConnect" not in listed["data"] and "SYNO.Core.Terminal" in listed["data"]
    assert error(dsm.call("SYNO.Core.QuickConnect", "get", 2))["code"] == 102
