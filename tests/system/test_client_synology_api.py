"""synology-api (N4S4, PyPI), unchanged, with its default DSM 7 login against the mock DSM.

Its DSM 7 login is what DSM's own login page does: fetch SYNO.API.Auth.UIConfig (path-style URL
`entry.cgi/SYNO.API.Auth.UIConfig`), read the server's X25519 key from the `_SSID` cookie, send the
first Noise IK message as `ik_message` with the login, finish the handshake with the `ik_message`
DSM answers, then sign every request with an `X-SYNO-HASH` header. The mock is the responder of that
handshake (same `noiseprotocol` library) and checks each hash it receives.

The library keeps one login per process in `BaseApi.shared_session`; each test starts and ends
without one, so no session leaks between tests (or into the DSM 6 test in test_public_clients.py).
"""

from __future__ import annotations

import json

import pyotp
import pytest
from synology_api import base_api, core_certificate, core_security, core_service_apps, core_user
from synology_api.exceptions import LoginError

from tests.lab import pki
from tests.lab.mock_dsm.seed import LAB_PASSWORD, OTP_SECRET


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return pki.write(str(tmp_path_factory.mktemp("pki")))


@pytest.fixture
def connect(dsm_lab):
    """connect(Class, account) -> a logged-in client of that class (DSM 7 defaults, HTTPS, lab CA)."""
    base_api.BaseApi.shared_session = None
    clients = []

    def make(cls, account="ansible", **kwargs):
        client = cls(
            dsm_lab.host,
            str(dsm_lab.https_port),
            account,
            LAB_PASSWORD,
            secure=True,
            cert_verify=dsm_lab.ca_path,
            debug=False,
            **kwargs,
        )
        clients.append(client)
        return client

    yield make
    for client in clients[:1]:  # every client shares the one login: logging out once ends it (client side)
        client.logout()
    base_api.BaseApi.shared_session = None


def test_dsm7_login_completes_the_noise_handshake_and_signs_requests(dsm_lab, connect):
    client = connect(core_certificate.Certificate)
    assert client.list_cert()["data"]["certificates"][0]["id"] == "sYnDef"
    noise = dsm_lab.state()["noise"]
    assert noise["handshakes"] == 1
    assert noise["hash_ok"] >= 1 and noise["hash_bad"] == 0
    ui_config = dsm_lab.calls(api="SYNO.API.Auth.UIConfig")
    assert [(c["method"], c["path"]) for c in ui_config] == [("get", "/webapi/entry.cgi/SYNO.API.Auth.UIConfig")]
    (login,) = dsm_lab.calls(api="SYNO.API.Auth", method="login")
    assert (login["path"], login["version"]) == ("/webapi/auth.cgi", "7")


def test_dsm7_logout_answers_but_names_no_session(dsm_lab, connect):
    # synology-api 0.9.4 logs out with GET auth.cgi?api=SYNO.API.Auth&method=logout&session=webui and neither
    # `_sid` nor the `id` cookie, so DSM cannot tell which session to end: it answers success (the library raises
    # LogoutError otherwise) and the session stays until it expires. The mock shows that rather than hide it.
    client = connect(core_certificate.Certificate)
    assert dsm_lab.state()["active_sessions"] == 1
    client.logout()  # raises LogoutError unless DSM answered success
    (logout,) = dsm_lab.calls(api="SYNO.API.Auth", method="logout")
    assert logout["http"] == "GET"
    assert dsm_lab.state()["active_sessions"] == 1


def test_dsm7_wrong_password_is_a_login_error(dsm_lab):
    base_api.BaseApi.shared_session = None
    with pytest.raises(LoginError) as caught:
        core_certificate.Certificate(
            dsm_lab.host,
            str(dsm_lab.https_port),
            "ansible",
            "wrong",
            secure=True,
            cert_verify=dsm_lab.ca_path,
            debug=False,
        )
    assert caught.value.error_code == 400
    assert base_api.BaseApi.shared_session is None


def test_dsm7_certificate_import_and_binding(dsm_lab, connect, certs):
    client = connect(core_certificate.Certificate)
    status, reply = client.upload_cert(
        certs["leaf.key"], certs["leaf.pem"], certs["chain.pem"], set_as_default=False, desc="from-synology-api-7"
    )
    assert status == 200 and reply["success"] is True
    new_id = reply["data"]["id"]
    assert dsm_lab.state()["certificates"][new_id]["desc"] == "from-synology-api-7"
    # Bound to a reverse-proxy host, not to "DSM Desktop Service": the mock's HTTPS listener serves what that
    # service is bound to, and this test certificate is not one the lab CA (our cert_verify) vouches for.
    (rp_uuid,) = [u for u, e in dsm_lab.state()["reverse_proxy"].items() if e["frontend"]["fqdn"] == "nas.example.test"]
    status, reply = client.set_certificate_for_service(new_id, service_name="nas.example.test")
    assert reply["success"] is True
    bindings = dsm_lab.state()["bindings"]
    assert bindings[rp_uuid] == new_id and bindings["default"] == "sYnDef"

    status, reply = client.upload_cert(certs["leaf.key"], certs["leaf.pem"], set_as_default=False, desc="spare")
    spare = reply["data"]["id"]
    assert client.delete_certificate(spare)["success"] is True
    assert spare not in dsm_lab.state()["certificates"] and new_id in dsm_lab.state()["certificates"]


def test_dsm7_compound_request_is_signed_once(dsm_lab, connect):
    client = connect(core_certificate.Certificate)
    reply = client.batch_request(
        [
            {"api": "SYNO.Core.Certificate.CRT", "method": "list", "version": 1},
            {"api": "SYNO.Core.AppPortal.ReverseProxy", "method": "list", "version": 1},
        ]
    )
    assert reply["success"] is True and reply["data"]["has_fail"] is False
    called = [r["api"] for r in reply["data"]["result"]]
    assert called == ["SYNO.Core.Certificate.CRT", "SYNO.Core.AppPortal.ReverseProxy"]
    assert dsm_lab.state()["noise"]["hash_bad"] == 0


def test_dsm7_reverse_proxy_create_update_delete(dsm_lab, connect):
    client = connect(core_service_apps.CoreServiceApps)
    before = {e["UUID"] for e in client.app_portal_reverse_proxy_list()["data"]["entries"]}
    entry = {
        "description": "wiki",
        "proxy_connect_timeout": 60,
        "proxy_read_timeout": 60,
        "proxy_send_timeout": 60,
        "proxy_http_version": 1,
        "proxy_intercept_errors": False,
        "customize_headers": [],
        "frontend": {"fqdn": "wiki.example.test", "port": 443, "protocol": 1, "acl": None, "https": {"hsts": True}},
        "backend": {"fqdn": "localhost", "port": 8090, "protocol": 0},
    }
    assert client.app_portal_reverse_proxy_create(entry)["success"] is True
    stored = {u: e for u, e in dsm_lab.state()["reverse_proxy"].items() if u not in before}
    ((new_uuid, created),) = stored.items()
    assert created["frontend"]["fqdn"] == "wiki.example.test" and created["backend"]["port"] == 8090

    changed = dict(created, backend={"fqdn": "localhost", "port": 8091, "protocol": 0})
    assert client.app_portal_reverse_proxy_update(changed)["success"] is True
    assert dsm_lab.state()["reverse_proxy"][new_uuid]["backend"]["port"] == 8091

    assert client.app_portal_reverse_proxy_delete(new_uuid)["success"] is True
    assert new_uuid not in dsm_lab.state()["reverse_proxy"]


def test_dsm7_trusted_proxies_read_and_write(dsm_lab, connect):
    client = connect(core_security.CoreSecurity)
    reply = client.security_dsm_proxy_get()
    assert reply["success"] is True
    assert reply["data"]["proxylist"] == dsm_lab.state()["security"]["trusted_proxies"]
    # The write parameter is not documented; synology-api passes what it is given (see lab-fidelity.md).
    assert client.security_dsm_proxy_set(proxylist=json.dumps(["173.245.48.0/20"]))["success"] is True
    assert client.security_dsm_proxy_get()["data"]["proxylist"] == ["173.245.48.0/20"]
    assert dsm_lab.state()["security"]["trusted_proxies"] == ["173.245.48.0/20"]


def test_dsm7_users_list_and_get(dsm_lab, connect):
    client = connect(core_user.User)
    listed = client.user_list(additional=["expired"])["data"]
    names = {u["name"]: u for u in listed["users"]}
    assert set(dsm_lab.state()["users"]) <= set(names)
    assert names["admin"]["expired"] == "now" and names["alice"]["expired"] == "normal"
    (alice,) = client.user_get("alice")["data"]["users"]
    assert alice["name"] == "alice" and isinstance(alice["uid"], int)


def test_dsm7_non_admin_is_refused_admin_apis(dsm_lab, connect):
    from synology_api.exceptions import CoreError

    client = connect(core_user.User, account="alice")
    with pytest.raises(CoreError) as caught:
        client.user_list()
    assert caught.value.error_code == 105


def test_every_api_these_clients_look_up_is_listed(dsm_lab, connect):
    client = connect(core_security.CoreSecurity)
    listed = client.gen_list
    for name in (
        "SYNO.API.Auth",
        "SYNO.API.Auth.UIConfig",
        "SYNO.Core.Certificate",
        "SYNO.Core.Certificate.CRT",
        "SYNO.Core.Certificate.Service",
        "SYNO.Core.AppPortal.ReverseProxy",
        "SYNO.Core.Security.DSM.Proxy",
        "SYNO.Core.User",
        "SYNO.Entry.Request",
    ):
        assert name in listed, name


def test_dsm7_otp_login_then_device_token(dsm_lab, connect):
    first = connect(core_certificate.Certificate, account="otp-admin", otp_code=pyotp.TOTP(OTP_SECRET).now())
    token = first.session.device_id
    assert token and [t["id"] for t in dsm_lab.state()["users"]["otp-admin"]["device_tokens"]] == [token]
    base_api.BaseApi.shared_session = None  # a new process, as a script run the next day would be
    again = connect(core_user.User, account="otp-admin", device_id=token, device_name="lab-script")
    assert again.user_get("alice")["data"]["users"][0]["name"] == "alice"
    base_api.BaseApi.shared_session = None
    with pytest.raises(LoginError) as caught:
        core_user.User(
            dsm_lab.host,
            str(dsm_lab.https_port),
            "otp-admin",
            LAB_PASSWORD,
            secure=True,
            cert_verify=dsm_lab.ca_path,
            debug=False,
        )
    assert caught.value.error_code == 403
