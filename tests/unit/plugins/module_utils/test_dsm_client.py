"""The DSM client against the mock DSM: discovery, login flows, session reuse, errors, retries."""

from __future__ import annotations

import json
import os
import ssl
import stat
import threading
import time
from contextlib import closing

import pyotp
import pytest

from ansible_collections.homelab.nas.plugins.module_utils.dsm_certificates import (
    CERT_API,
    CRT_API,
    LETSENCRYPT_API,
    LETSENCRYPT_ERRORS,
)
from ansible_collections.homelab.nas.plugins.module_utils.dsm_client import (
    AUTH_API,
    AUTH_ERRORS,
    DsmClient,
    presented_fingerprint,
)
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import COMMON_ERRORS, DsmError, describe
from tests.lab.mock_dsm.seed import OTP_SECRET


def make_client(dsm_lab, tmp_path, **overrides):
    args = dsm_lab.client_args(session_cache_dir=str(tmp_path / "cache"), backoff_factor=0)
    args.update(overrides)
    return DsmClient(**args)


def test_discovery_reads_paths_and_versions_from_api_info(dsm_lab, tmp_path):
    client = make_client(dsm_lab, tmp_path)
    assert client.api_info("SYNO.API.Auth")["path"] == "entry.cgi"
    assert client.pick_version("SYNO.API.Auth", 7) == 7
    assert client.pick_version("SYNO.DSM.Info", 9) == 2
    with pytest.raises(DsmError) as err:
        client.api_info("SYNO.Not.There")
    assert err.value.code == 102
    assert len(dsm_lab.calls("SYNO.API.Info", "query")) == 1


def test_login_sends_synotoken_on_writes_and_password_never_in_url(dsm_lab, tmp_path):
    client = make_client(dsm_lab, tmp_path)
    client.login()
    assert client.sid and client.synotoken
    # A request without the token is refused by DSM (103); the client always sends it.
    client.write("SYNO.Core.Certificate.CRT", "set", 1, id='"sYnDef"', desc='"renamed"')
    assert dsm_lab.state()["certificates"]["sYnDef"]["desc"] == "renamed"
    login = dsm_lab.calls("SYNO.API.Auth", "login")
    assert login[0]["http"] == "POST"
    log_text = open(dsm_lab.info["log_path"]).read()
    assert "lab-password" not in log_text


@pytest.mark.parametrize("write", [True, False])
def test_request_without_synotoken_is_rejected_by_the_mock(dsm_lab, tmp_path, write):
    """DSM wants the token of a token session on every request, reads included (103 without it)."""
    client = make_client(dsm_lab, tmp_path, session_cache=False)
    client.login()
    client.synotoken = None
    with pytest.raises(DsmError) as err:
        if write:
            client._call_once(
                "SYNO.Core.Certificate.CRT", "set", 1, True, None, False, {"id": '"sYnDef"', "desc": '"x"'}
            )
        else:
            client._call_once("SYNO.Core.Certificate.CRT", "list", 1, False, None, False, {})
    assert err.value.code == 103 and "SynoToken" in str(err.value)
    assert dsm_lab.state()["certificates"]["sYnDef"]["desc"] == ""


def test_every_request_of_the_client_carries_the_token(dsm_lab, tmp_path):
    client = make_client(dsm_lab, tmp_path)
    client.read("SYNO.Core.Certificate.CRT", "list", 1)
    client.batch([("SYNO.DSM.Info", "getinfo", 2, {}), ("SYNO.Core.Certificate.CRT", "list", 1, {})])
    client.write("SYNO.Core.Certificate.CRT", "set", 1, id='"sYnDef"', desc='"renamed"')
    assert dsm_lab.state()["certificates"]["sYnDef"]["desc"] == "renamed"


def test_invalid_parameter_error_names_the_parameter(dsm_lab, tmp_path):
    client = make_client(dsm_lab, tmp_path)
    with pytest.raises(DsmError) as err:
        client.read("SYNO.Core.Security.Firewall.Profile", "get", 1)
    assert err.value.code == 120 and err.value.details == {"name": "name", "reason": "required"}
    assert "parameter 'name' is invalid (required)" in str(err.value)


@pytest.mark.parametrize(
    "username,password,code",
    [
        ("ansible", "wrong", 400),
        ("nobody", "lab-password", 400),
        ("admin", "lab-password", 401),
        ("otp-admin", "lab-password", 403),
    ],
)
def test_login_errors_are_mapped_to_clear_messages(dsm_lab, tmp_path, username, password, code):
    client = make_client(dsm_lab, tmp_path, username=username, password=password)
    with pytest.raises(DsmError) as err:
        client.login()
    assert err.value.code == code
    assert describe(code, AUTH_API) in str(err.value)
    assert password not in str(err.value)


def test_non_admin_gets_105_with_the_fix_in_the_message(dsm_lab, tmp_path):
    client = make_client(dsm_lab, tmp_path, username="alice")
    with pytest.raises(DsmError) as err:
        client.read("SYNO.Core.Certificate.CRT", "list", 1)
    assert err.value.code == 105
    assert "administrators" in str(err.value)


def test_otp_login_then_device_token_replaces_the_code(dsm_lab, tmp_path):
    code = pyotp.TOTP(OTP_SECRET).now()
    client = make_client(dsm_lab, tmp_path, username="otp-admin", otp_code=code, enable_device_token=True)
    client.login()
    assert client.device_token_saved
    tokens = dsm_lab.state()["users"]["otp-admin"]["device_tokens"]
    assert len(tokens) == 1 and tokens[0]["name"] == "homelab.nas"
    # Next login: no code, the saved device token is sent instead.
    client.logout()
    again = make_client(dsm_lab, tmp_path, username="otp-admin")
    again.login()
    assert again.logins == 1 and again.sid
    # A token given explicitly works without the cache too.
    explicit = make_client(dsm_lab, tmp_path / "other", username="otp-admin", device_id=tokens[0]["id"])
    explicit.login()
    assert explicit.sid


def test_wrong_and_replayed_otp_codes_fail(dsm_lab, tmp_path):
    totp = pyotp.TOTP(OTP_SECRET)
    wrong = "000000" if totp.now() != "000000" else "111111"
    client = make_client(dsm_lab, tmp_path, username="otp-admin", otp_code=wrong, session_cache=False)
    with pytest.raises(DsmError) as err:
        client.login()
    assert err.value.code == 404
    code = totp.now()
    make_client(dsm_lab, tmp_path, username="otp-admin", otp_code=code, session_cache=False).login()
    with pytest.raises(DsmError) as err:
        make_client(dsm_lab, tmp_path, username="otp-admin", otp_code=code, session_cache=False).login()
    assert err.value.code == 404


def test_session_cache_reuses_one_login_and_is_private(dsm_lab, tmp_path):
    for _task in range(3):  # three tasks of one play
        client = make_client(dsm_lab, tmp_path)
        client.read("SYNO.Core.Certificate.CRT", "list", 1)
        client.close()
    assert len(dsm_lab.calls("SYNO.API.Auth", "login")) == 1
    cache_dir = tmp_path / "cache"
    assert stat.S_IMODE(os.stat(cache_dir).st_mode) == 0o700
    for entry in cache_dir.iterdir():
        assert stat.S_IMODE(entry.stat().st_mode) == 0o600


def test_expired_session_triggers_exactly_one_relogin(dsm_lab, tmp_path):
    client = make_client(dsm_lab, tmp_path)
    client.read("SYNO.Core.Certificate.CRT", "list", 1)
    dsm_lab.fault(expire_sessions=True)
    client.read("SYNO.Core.Certificate.CRT", "list", 1)
    assert len(dsm_lab.calls("SYNO.API.Auth", "login")) == 2
    # A second 119 right after the re-login is reported, not looped on.
    dsm_lab.fault(fail_next={"count": 2, "code": 119, "api": "SYNO.Core.Certificate.CRT"})
    with pytest.raises(DsmError) as err:
        client.read("SYNO.Core.Certificate.CRT", "list", 1)
    assert err.value.code == 119
    assert len(dsm_lab.calls("SYNO.API.Auth", "login")) == 3


def test_stale_cached_session_is_dropped_and_replaced(dsm_lab, tmp_path):
    make_client(dsm_lab, tmp_path).login()
    dsm_lab.fault(expire_sessions=True)
    client = make_client(dsm_lab, tmp_path)
    client.read("SYNO.Core.Certificate.CRT", "list", 1)
    assert client.logins == 1
    assert client.cache.load_session()["sid"] == client.sid


def test_reads_are_retried_on_502_within_budget(dsm_lab, tmp_path):
    client = make_client(dsm_lab, tmp_path)
    client.login()
    dsm_lab.fault(http_error_next={"count": 2, "status": 502, "api": "SYNO.Core.Certificate.CRT"})
    assert client.read("SYNO.Core.Certificate.CRT", "list", 1)["certificates"]
    assert len(dsm_lab.calls("SYNO.Core.Certificate.CRT", "list")) == 3


def test_reads_fail_clearly_past_the_retry_budget(dsm_lab, tmp_path):
    client = make_client(dsm_lab, tmp_path, read_retries=2)
    client.login()
    dsm_lab.fault(http_error_next={"count": 10, "status": 503, "api": "SYNO.Core.Certificate.CRT"})
    with pytest.raises(DsmError) as err:
        client.read("SYNO.Core.Certificate.CRT", "list", 1)
    assert "HTTP 503" in str(err.value)
    assert len(dsm_lab.calls("SYNO.Core.Certificate.CRT", "list")) == 3


def test_writes_are_never_retried_after_a_server_error(dsm_lab, tmp_path):
    client = make_client(dsm_lab, tmp_path)
    client.login()
    dsm_lab.fault(http_error_next={"count": 1, "status": 502, "api": "SYNO.Core.Certificate.CRT", "method": "set"})
    with pytest.raises(DsmError):
        client.write("SYNO.Core.Certificate.CRT", "set", 1, id='"sYnDef"', desc='"x"')
    assert len(dsm_lab.calls("SYNO.Core.Certificate.CRT", "set")) == 1
    # urllib3 counts an SSL error while reading an answer as an "other" error, retried even for a POST unless
    # that budget is zero: a write DSM may have carried out must not be sent again.
    assert client.http.get_adapter(client.base_url).max_retries.other == 0


def test_api_error_codes_name_the_api_and_meaning(dsm_lab, tmp_path):
    client = make_client(dsm_lab, tmp_path)
    dsm_lab.fault(fail_next={"count": 1, "code": 5514, "api": "SYNO.Core.Certificate.CRT"})
    with pytest.raises(DsmError) as err:
        client.read("SYNO.Core.Certificate.CRT", "list", 1)
    assert err.value.code == 5514
    assert "SYNO.Core.Certificate.CRT.list" in str(err.value)
    assert "does not match" in str(err.value)


def test_unreachable_dsm_and_bad_ca_fail_clearly(dsm_lab, tmp_path):
    client = make_client(dsm_lab, tmp_path, port=1, read_retries=0)
    with pytest.raises(DsmError) as err:
        client.login()
    assert "cannot reach DSM" in str(err.value)
    other_ca = tmp_path / "other-ca.pem"
    from tests.lab import pki

    other_ca.write_bytes(pki.pem(pki.TestPki().root))
    client = make_client(dsm_lab, tmp_path, ca_path=str(other_ca), read_retries=0)
    with pytest.raises(DsmError) as err:
        client.login()
    assert "TLS verification" in str(err.value) and "ca_path" in str(err.value)


def test_logout_ends_the_session_on_dsm_and_locally(dsm_lab, tmp_path):
    client = make_client(dsm_lab, tmp_path)
    client.login()
    assert dsm_lab.state()["active_sessions"] == 1
    client.logout()
    assert dsm_lab.state()["active_sessions"] == 0
    assert client.cache.load_session() is None


def test_a_later_tasks_logout_is_one_request_with_the_cached_api_list(dsm_lab, tmp_path):
    """The play's last task (dsm_session state=absent) finds the session and DSM's API list in the cache: it
    logs out without asking DSM for its APIs again."""
    make_client(dsm_lab, tmp_path).login()
    dsm_lab.clear_log()
    make_client(dsm_lab, tmp_path).logout()
    assert [(c["api"], c["method"]) for c in dsm_lab.calls()] == [("SYNO.API.Auth", "logout")]
    assert dsm_lab.state()["active_sessions"] == 0


def test_without_cache_each_client_logs_out_on_close(dsm_lab, tmp_path):
    with closing(make_client(dsm_lab, tmp_path, session_cache=False)) as client:
        client.read("SYNO.Core.Certificate.CRT", "list", 1)
    assert dsm_lab.state()["active_sessions"] == 0
    assert not (tmp_path / "cache").exists()


def test_slow_dsm_hits_the_timeout_with_a_clear_error(dsm_lab, tmp_path):
    client = make_client(dsm_lab, tmp_path, timeout=0.2, read_retries=0)
    client.login()
    dsm_lab.fault(latency_ms=600)
    try:
        with pytest.raises(DsmError) as err:
            client.read("SYNO.Core.Certificate.CRT", "list", 1)
        assert "cannot reach DSM" in str(err.value) and "timed out" in str(err.value).lower()
    finally:
        dsm_lab.fault(latency_ms=0)
        # The abandoned request is still being served; let it land in this test's log, not the next one's.
        deadline = time.monotonic() + 5
        while not dsm_lab.calls("SYNO.Core.Certificate.CRT", "list") and time.monotonic() < deadline:
            time.sleep(0.05)


def _kept_apis(client):
    return json.loads(open(client.cache._apis_path).read())["apis"]  # pylint: disable=protected-access


def _keep_apis(client, apis):
    client.cache.save_apis(apis)


def test_a_reused_session_needs_no_discovery_until_dsm_changes(dsm_lab, tmp_path):
    make_client(dsm_lab, tmp_path).read("SYNO.Core.Certificate.CRT", "list", 1)
    dsm_lab.clear_log()
    client = make_client(dsm_lab, tmp_path)
    client.read("SYNO.Core.Certificate.CRT", "list", 1)
    assert [(c["api"], c["method"]) for c in dsm_lab.calls()] == [("SYNO.Core.Certificate.CRT", "list")]
    # A kept API list that no longer matches DSM (102 after an update) is refreshed once.
    apis = _kept_apis(client)
    apis["SYNO.Core.Certificate.CRT"]["path"] = "auth.cgi"  # DSM answers 102 there
    _keep_apis(client, apis)
    dsm_lab.clear_log()
    assert make_client(dsm_lab, tmp_path).read("SYNO.Core.Certificate.CRT", "list", 1)["certificates"]
    assert [(c["method"], c["outcome"]) for c in dsm_lab.calls()] == [("list", 102), ("query", "ok"), ("list", "ok")]
    assert _kept_apis(client)["SYNO.Core.Certificate.CRT"]["path"] == "entry.cgi", "the refreshed list is kept"


def test_a_runs_first_login_needs_no_discovery_and_survives_a_moved_auth_api(dsm_lab, tmp_path):
    client = make_client(dsm_lab, tmp_path)
    client.login()
    client.logout()  # the end of a run: the session is gone, the API list is kept
    dsm_lab.clear_log()
    make_client(dsm_lab, tmp_path).login()
    assert [(c["api"], c["method"]) for c in dsm_lab.calls()] == [("SYNO.API.Auth", "login")]
    client = make_client(dsm_lab, tmp_path)
    client.logout()
    apis = _kept_apis(client)
    apis["SYNO.API.Auth"]["path"] = "not-there.cgi"  # a DSM update moved it: HTTP 404
    _keep_apis(client, apis)
    dsm_lab.clear_log()
    fresh = make_client(dsm_lab, tmp_path)
    fresh.login()
    assert fresh.sid
    calls = [(c["method"], c["outcome"]) for c in dsm_lab.calls()]
    assert [method for method, _outcome in calls] == ["login", "query", "login"], calls
    assert calls[0][1] != "ok" and calls[2][1] == "ok", calls
    assert fresh.logins == 1


def test_an_api_missing_from_the_kept_list_is_asked_of_dsm_once(dsm_lab, tmp_path):
    client = make_client(dsm_lab, tmp_path)
    client.login()
    apis = _kept_apis(client)
    del apis["SYNO.Core.QuickConnect"]  # kept before the package was there
    _keep_apis(client, apis)
    dsm_lab.clear_log()
    later = make_client(dsm_lab, tmp_path)
    assert later.offers("SYNO.Core.QuickConnect")
    assert not later.offers("SYNO.Not.There")
    assert [c["method"] for c in dsm_lab.calls()] == ["query"], "one discovery, not one per missing API"
    assert "SYNO.Core.QuickConnect" in _kept_apis(client)


def test_forks_that_find_no_session_at_once_log_in_once(dsm_lab, tmp_path):
    make_client(dsm_lab, tmp_path).api_info(AUTH_API)  # the API list is kept; no session is
    dsm_lab.clear_log()
    clients = [make_client(dsm_lab, tmp_path) for _client in range(6)]
    start = threading.Barrier(len(clients))

    def task(client):
        start.wait()
        client.read("SYNO.Core.Certificate.CRT", "list", 1)

    threads = [threading.Thread(target=task, args=(c,)) for c in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(dsm_lab.calls("SYNO.API.Auth", "login")) == 1
    assert sum(c.logins for c in clients) == 1
    assert len({c.sid for c in clients}) == 1
    assert len(dsm_lab.calls("SYNO.Core.Certificate.CRT", "list")) == len(clients)


def test_batch_reads_in_one_request_and_names_the_failing_call(dsm_lab, tmp_path):
    client = make_client(dsm_lab, tmp_path)
    client.login()
    dsm_lab.clear_log()
    info, certs = client.batch([("SYNO.DSM.Info", "getinfo", 2, {}), ("SYNO.Core.Certificate.CRT", "list", 1, {})])
    assert info["model"] == "DS920+" and certs["certificates"][0]["id"] == "sYnDef"
    assert [c["api"] for c in dsm_lab.calls()] == ["SYNO.Entry.Request"]
    with pytest.raises(DsmError) as err:
        client.batch(
            [("SYNO.DSM.Info", "getinfo", 2, {}), ("SYNO.Core.Security.Firewall.Profile", "get", 1, {"name": "nope"})]
        )
    assert err.value.api == "SYNO.Core.Security.Firewall.Profile" and err.value.code == 120
    assert "parameter 'name'" in str(err.value)


@pytest.mark.parametrize(
    "code,fragment",
    [
        (5510, "not a valid certificate"),
        (5511, "not a valid private key"),
        (5512, "intermediate"),
        (5514, "does not match"),
        (5517, "intermediate certificates"),
        (5518, "DSA"),
    ],
)
def test_certificate_codes_carry_dsms_own_meanings(code, fragment):
    # DSM's message table (N4S4 error_codes.py, batonogov errors.go): the old table was one code off.
    assert fragment in describe(code, CERT_API)
    assert fragment in describe(code, CRT_API), "the family's sub-APIs share its table"


def test_each_family_gives_its_own_codes_and_the_rest_fall_back_to_the_common_table():
    # The table of the most specific family that knows the code: Let's Encrypt's, then the certificates'.
    assert describe(5521, LETSENCRYPT_API) == LETSENCRYPT_ERRORS[5521]
    assert "not a valid certificate" in describe(5510, LETSENCRYPT_API)
    assert describe(5521, CERT_API) == "DSM error code 5521", "Let's Encrypt's codes are not the certificates'"
    assert describe(400, AUTH_API) == AUTH_ERRORS[400]
    assert describe(400, "SYNO.Core.Share") == "DSM error code 400", "auth codes mean nothing for another API"
    assert describe(5510, "SYNO.Core.CertificateX") == "DSM error code 5510", "a family is a dotted prefix"
    assert describe(105, CERT_API) == describe(105) == COMMON_ERRORS[105]


# -- certificate pins (issue 11: DSM presenting a certificate no CA the controller has signed) ----------------
def test_a_pinned_certificate_is_trusted_without_a_ca_and_a_wrong_pin_fails_at_once(dsm_lab, tmp_path, monkeypatch):
    from ansible_collections.homelab.nas.plugins.module_utils.dsm_client import presented_fingerprint

    factory = presented_fingerprint(dsm_lab.host, dsm_lab.https_port)
    pinned = make_client(dsm_lab, tmp_path, ca_path=None, tls_fingerprints=[factory])
    loaded = []
    real = ssl.SSLContext.load_default_certs
    monkeypatch.setattr(ssl.SSLContext, "load_default_certs", lambda self, *a: loaded.append(1) or real(self, *a))
    assert pinned.read("SYNO.DSM.Info", "getinfo", 2)["model"]
    assert loaded == [], "a pinned connection loads no CA store: the pin decides"
    wrong = make_client(dsm_lab, tmp_path / "other", ca_path=None, tls_fingerprints=["00" * 32])
    dsm_lab.clear_log()
    started = time.monotonic()
    with pytest.raises(DsmError) as err:
        wrong.login()
    # Not retried: a certificate that is not the pinned one does not become it by asking again.
    assert time.monotonic() - started < 2
    assert factory in str(err.value) and "tls_fingerprints" in str(err.value)
    assert dsm_lab.calls("SYNO.API.Auth", "login") == []


def test_a_ca_failure_names_the_fingerprint_dsm_presented(dsm_lab, tmp_path):
    from ansible_collections.homelab.nas.plugins.module_utils.dsm_client import presented_fingerprint

    client = make_client(dsm_lab, tmp_path, ca_path=None, read_retries=0)
    with pytest.raises(DsmError) as err:
        client.login()
    assert presented_fingerprint(dsm_lab.host, dsm_lab.https_port) in str(err.value)


def test_an_expected_certificate_is_recorded_for_later_clients_and_needs_verification(dsm_lab, tmp_path):
    client = make_client(dsm_lab, tmp_path)
    client.login()
    client.expect_certificate("ab" * 32)
    # The certificate DSM presents now (checked by the CA before) stays trusted, in this process and in later ones:
    # a binding that fails leaves DSM presenting it (issue 12).
    assert client.read("SYNO.DSM.Info", "getinfo", 2)["model"]
    later = make_client(dsm_lab, tmp_path)
    current = presented_fingerprint(dsm_lab.host, dsm_lab.https_port).replace(":", "")
    assert later.pins == {"AB" * 32, current}
    assert later.read("SYNO.DSM.Info", "getinfo", 2)["model"]
    unverified = make_client(dsm_lab, tmp_path / "off", validate_certs=False)
    unverified.expect_certificate("cd" * 32)
    assert unverified.pins == set() and make_client(dsm_lab, tmp_path / "off").pins == set()


# -- the session id never in a URL or a message (issue 12, item 6) ----------------------------------------------
URL_SECRETS = {"_sid", "SynoToken", "passwd", "otp_code", "device_id"}


def test_no_secret_travels_in_any_url_of_any_request_kind(dsm_lab, tmp_path):
    """Login, discovery, GET read, batch, url-encoded write, multipart upload, export and logout: DSM's nginx
    (and any proxy) logs URLs, so none carries the session, the token or the password."""
    from tests.lab import pki

    client = make_client(dsm_lab, tmp_path)
    dsm_lab.clear_log()
    client.login()
    client.read("SYNO.Core.Certificate.CRT", "list", 1)
    client.batch([("SYNO.DSM.Info", "getinfo", 2, {})])
    client.write("SYNO.Core.Certificate.CRT", "set", 1, id='"sYnDef"', desc='"renamed"')
    lab_pki = pki.TestPki()
    leaf, key = lab_pki.leaf("nas.example.test")
    files = {
        "key": ("privkey.pem", pki.pem(key), "application/x-x509-ca-cert"),
        "cert": ("cert.pem", pki.pem(leaf), "application/x-x509-ca-cert"),
        "inter_cert": ("chain.pem", pki.pem(lab_pki.inter), "application/x-x509-ca-cert"),
    }
    imported = client.write("SYNO.Core.Certificate", "import", 1, files=files, id="", desc="uploaded")
    client.call("SYNO.Core.Certificate", "export", 1, raw=True, file='"archive"', id=imported["id"])
    client.logout()
    calls = dsm_lab.calls()
    kinds = {(c["http"], c["api"], c["method"]) for c in calls}
    assert {
        ("POST", "SYNO.API.Auth", "login"),
        ("GET", "SYNO.Core.Certificate.CRT", "list"),
        ("GET", "SYNO.Entry.Request", "request"),
        ("POST", "SYNO.Core.Certificate.CRT", "set"),
        ("POST", "SYNO.Core.Certificate", "import"),
        ("GET", "SYNO.Core.Certificate", "export"),
        ("GET", "SYNO.API.Auth", "logout"),
    } <= kinds
    for call in calls:
        assert not URL_SECRETS & set(call["query_keys"]), call
        # Each request after the login carried the session, outside the URL, and DSM took it.
        if call["method"] not in ("login", "query"):
            assert call["session_from"] in ("cookie", "form") and call["status"] == 200, call
            assert call["outcome"] in ("ok", None), call  # None: a binary answer (the export)
    assert dsm_lab.state()["active_sessions"] == 0, "the logout found its session in the cookie"
    log_text = open(dsm_lab.info["log_path"]).read()
    assert client.synotoken is None and "lab-password" not in log_text


def test_a_read_timeout_message_holds_no_secret(dsm_lab, tmp_path):
    client = make_client(dsm_lab, tmp_path, timeout=0.2, read_retries=0)
    client.login()
    sid, token = client.sid, client.synotoken
    dsm_lab.fault(latency_ms=600)
    try:
        with pytest.raises(DsmError) as err:
            client.read("SYNO.Core.Certificate.CRT", "list", 1)
    finally:
        dsm_lab.fault(latency_ms=0)
        deadline = time.monotonic() + 5
        while not dsm_lab.calls("SYNO.Core.Certificate.CRT", "list") and time.monotonic() < deadline:
            time.sleep(0.05)
    message = str(err.value)
    assert "timed out" in message.lower() and sid not in message and token not in message
    assert "_sid" not in message
    assert err.value.__cause__ is None and err.value.__suppress_context__, "a traceback would print requests' text"


def test_a_tls_failure_message_holds_no_secret(dsm_lab, tmp_path):
    """A cached session meets a certificate the CA check refuses: requests' SSLError quotes the URL."""
    from tests.lab import pki

    make_client(dsm_lab, tmp_path).login()
    other_ca = tmp_path / "other-ca.pem"
    other_ca.write_bytes(pki.pem(pki.TestPki().root))
    client = make_client(dsm_lab, tmp_path, ca_path=str(other_ca), read_retries=0)
    client.login()  # the cached session: no request yet
    sid = client.sid
    with pytest.raises(DsmError) as err:
        client.read("SYNO.Core.Certificate.CRT", "list", 1)
    message = str(err.value)
    assert "TLS verification" in message and sid not in message and "_sid" not in message


def test_every_client_error_masks_the_session_token_and_password(dsm_lab, tmp_path, monkeypatch):
    """Whatever text an error carries (a proxy's page, a library that quotes URLs and forms), the secrets this
    conversation holds are masked, raw and URL-encoded, in the one error path of the client."""
    import requests

    client = make_client(dsm_lab, tmp_path, password="p@ss word/1", session_cache=False)
    client.sid, client.synotoken = "Sid-123/+=", "Tok-456"

    def leaky(*args, **kwargs):
        raise requests.exceptions.ConnectionError(
            "GET /webapi/entry.cgi?_sid=Sid-123%2F%2B%3D&SynoToken=Tok-456 passwd=p%40ss+word%2F1 "
            "device_id=abc otp_code=123456 raw Sid-123/+= p@ss word/1"
        )

    monkeypatch.setattr(client.http, "get", leaky)
    client._apis = {"SYNO.Core.Certificate.CRT": {"path": "entry.cgi", "minVersion": 1, "maxVersion": 1}}
    with pytest.raises(DsmError) as err:
        client.read("SYNO.Core.Certificate.CRT", "list", 1)
    message = str(err.value)
    for secret in ("Sid-123", "Sid-123%2F", "Tok-456", "p@ss", "p%40ss", "word", "abc", "123456"):
        assert secret not in message, (secret, message)
    assert "cannot reach DSM" in message and "_sid=********" in message
