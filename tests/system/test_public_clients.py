"""Public DSM clients must talk to the mock DSM unchanged.

- synology-api (PyPI), as published: its DSM 6 login path over HTTPS (its default DSM 7 path, with
  the login page's Noise handshake, is in test_client_synology_api.py).
- acme.sh's Synology deploy hook is a shell script not packaged for Debian 12 or PyPI, so it
  cannot be installed here; its wire contract is checked instead: GET login, values pulled out of
  DSM's compact sorted JSON with the same regular expressions its sed commands use, and a
  hand-built multipart import with the SynoToken in the query string.
"""

from __future__ import annotations

import re
import uuid

import pytest
import requests

from tests.lab import pki


@pytest.fixture(scope="module")
def certs(tmp_path_factory):
    return pki.write(str(tmp_path_factory.mktemp("pki")))


def test_synology_api_lists_imports_and_binds(dsm_lab, certs):
    from synology_api import base_api, core_certificate

    # The library reuses one login per process (BaseApi.shared_session): start and end without one.
    base_api.BaseApi.shared_session = None
    client = core_certificate.Certificate(
        "127.0.0.1",
        str(dsm_lab.https_port),
        "ansible",
        "lab-password",
        secure=True,
        cert_verify=dsm_lab.ca_path,
        dsm_version=6,
        debug=False,
    )
    assert client.list_cert()["data"]["certificates"][0]["id"] == "sYnDef"
    status, reply = client.upload_cert(
        certs["leaf.key"], certs["leaf.pem"], certs["chain.pem"], set_as_default=True, desc="from-synology-api"
    )
    assert status == 200 and reply["success"] is True
    new_id = reply["data"]["id"]
    state = dsm_lab.state()
    assert state["certificates"][new_id]["is_default"] is True
    status, reply = client.set_certificate_for_service(new_id)
    assert reply["success"] is True
    assert dsm_lab.state()["bindings"]["default"] == new_id
    base_api.BaseApi.shared_session = None


def _sed_value(pattern, text):
    match = re.search(pattern, text)
    return match.group(1) if match else ""


def test_acme_sh_deploy_hook_wire_contract(dsm_lab, certs):
    base = "https://127.0.0.1:%s/webapi/" % dsm_lab.https_port
    http = requests.Session()
    http.verify = dsm_lab.ca_path
    http.trust_env = False

    query = http.get(base + "query.cgi?api=SYNO.API.Info&version=1&method=query&query=SYNO.API.Auth").text
    api_version = _sed_value(r'"maxVersion" *: *([0-9]*)', query)
    assert api_version == "7"

    login = http.get(
        base + "entry.cgi",
        params={
            "api": "SYNO.API.Auth",
            "version": api_version,
            "method": "login",
            "format": "sid",
            "account": "ansible",
            "passwd": "lab-password",
            "enable_syno_token": "yes",
        },
    ).text
    sid = _sed_value(r'"sid" *: *"([^"]*)', login)
    token = _sed_value(r'"synotoken" *: *"([^"]*)', login)
    assert sid and token

    http.headers["X-SYNO-TOKEN"] = token
    listing = http.post(
        base + "entry.cgi",
        data="api=SYNO.Core.Certificate.CRT&method=list&version=1&_sid=" + sid,
        headers={"Content-Type": "application/x-www-form-urlencoded"},
    ).text
    # The hook finds a certificate by description: "desc":"<desc>","id":"<id>" must be adjacent.
    assert _sed_value(r'"desc":"","id":"([^"]*)', listing) == "sYnDef"
    assert 'is_default":true' in _sed_value(r'"desc":"",([^{]*)', listing)

    delim = "--------------------------" + uuid.uuid4().hex
    parts = []
    for field, path in (("key", certs["leaf.key"]), ("cert", certs["leaf.pem"]), ("inter_cert", certs["chain.pem"])):
        content = open(path).read()
        parts.append(
            '--%s\r\nContent-Disposition: form-data; name="%s"; filename="%s"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n%s\n"
            % (delim, field, path.rsplit("/", 1)[-1], content.rstrip("\n"))
        )
    for field, value in (("id", "sYnDef"), ("desc", ""), ("as_default", "true")):
        parts.append('--%s\r\nContent-Disposition: form-data; name="%s"\r\n\r\n%s' % (delim, field, value))
    body = "\r\n".join(parts) + "\r\n--%s--\r\n" % delim
    reply = http.post(
        base + "entry.cgi?api=SYNO.Core.Certificate&method=import&version=1&SynoToken=%s&_sid=%s" % (token, sid),
        data=body.encode(),
        headers={"Content-Type": "multipart/form-data; boundary=" + delim},
    ).text
    assert '"error":' not in reply and '"restart_httpd":true' in reply
    stored = dsm_lab.state()["certificates"]["sYnDef"]
    assert stored["cert_pem"].strip() == open(certs["leaf.pem"]).read().strip()

    # The hook logs out without a session id; DSM answers success.
    logout = http.get(base + "entry.cgi?api=SYNO.API.Auth&version=%s&method=logout" % api_version).json()
    assert logout["success"] is True
