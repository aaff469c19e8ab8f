"""The mock Cloudflare API answers as docs/lab-fidelity.md says Cloudflare does (raw HTTPS, no client library)."""

from __future__ import annotations

import pytest
import requests
from cryptography import x509

from tests.lab.mock_cloudflare import dns_types
from tests.lab.mock_cloudflare.seed import LAB_EMAIL, LAB_GLOBAL_KEY, LAB_TOKEN, ZONE_ID

RECORDS = "/zones/%s/dns_records" % ZONE_ID
VALID = {
    "A": {"content": "100.128.77.2"},
    "AAAA": {"content": "2a01:4f8::2"},
    "CNAME": {"content": "nas.example.test"},
    "MX": {"content": "mail.example.test", "priority": 10},
    "NS": {"content": "ns1.example.test"},
    "PTR": {"content": "host.example.test"},
    "TXT": {"content": "v=spf1 -all"},
    "OPENPGPKEY": {"content": "mQINBGN0"},
    "CAA": {"data": {"flags": 0, "tag": "issue", "value": "letsencrypt.org"}},
    "CERT": {"data": {"type": 1, "key_tag": 2, "algorithm": 8, "certificate": "MIIB"}},
    "DNSKEY": {"data": {"flags": 257, "protocol": 3, "algorithm": 13, "public_key": "mdsswUyr3DPW"}},
    "DS": {"data": {"key_tag": 2371, "algorithm": 13, "digest_type": 2, "digest": "1F987CC6"}},
    "HTTPS": {"data": {"priority": 1, "target": ".", "value": 'alpn="h3,h2"'}},
    "LOC": {
        "data": {
            "lat_degrees": 37,
            "lat_minutes": 46,
            "lat_seconds": 46,
            "lat_direction": "N",
            "long_degrees": 122,
            "long_minutes": 23,
            "long_seconds": 35,
            "long_direction": "W",
            "altitude": 0,
            "size": 100,
            "precision_horz": 0,
            "precision_vert": 0,
        }
    },
    "NAPTR": {
        "data": {
            "order": 100,
            "preference": 10,
            "flags": "S",
            "service": "SIP+D2U",
            "regex": "",
            "replacement": "_sip._udp.example.test",
        }
    },
    "SMIMEA": {"data": {"usage": 3, "selector": 1, "matching_type": 1, "certificate": "0A1B"}},
    "SRV": {"data": {"priority": 10, "weight": 5, "port": 5060, "target": "sip.example.test"}},
    "SSHFP": {"data": {"algorithm": 4, "type": 2, "fingerprint": "123456789abcdef"}},
    "SVCB": {"data": {"priority": 1, "target": ".", "value": 'alpn="h2"'}},
    "TLSA": {"data": {"usage": 3, "selector": 1, "matching_type": 1, "certificate": "0A1B"}},
    "URI": {"data": {"weight": 1, "target": "https://example.test/"}, "priority": 10},
}


@pytest.fixture
def api(cloudflare_lab):
    http = requests.Session()
    http.verify = cloudflare_lab.ca_path
    http.trust_env = False
    http.headers["Authorization"] = "Bearer " + LAB_TOKEN

    def call(method, path, headers=None, **kwargs):
        reply = http.request(method, cloudflare_lab.api_base_url + path, headers=headers, **kwargs)
        return reply.status_code, reply.json()

    return call


def create(api, kind, name="rec", **extra):
    body = dict(VALID[kind], type=kind, name=name, ttl=300)
    body.update(extra)
    return api("POST", RECORDS, json=body)


def code(reply):
    return reply[1]["errors"][0]["code"]


# -- record types ------------------------------------------------------------------------------------


def test_every_documented_type_is_served():
    assert set(VALID) == set(dns_types.TYPES) and len(dns_types.TYPES) == 21


@pytest.mark.parametrize("kind", sorted(VALID))
def test_each_type_is_stored_with_its_content_or_data(api, kind):
    status, body = create(api, kind)
    assert status == 200, body
    record = body["result"]
    assert record["type"] == kind and record["name"] == "rec.example.test" and record["content"]
    assert ("data" in record) == (kind in dns_types.DATA_FIELDS)
    assert ("priority" in record) == (kind in ("MX", "URI"))
    assert record["proxiable"] == (kind in ("A", "AAAA", "CNAME"))


def test_data_types_get_a_formatted_content(api):
    assert create(api, "CAA")[1]["result"]["content"] == '0 issue "letsencrypt.org"'
    assert create(api, "SRV", name="_sip._udp")[1]["result"]["content"] == "10 5 5060 sip.example.test"


@pytest.mark.parametrize(
    "kind,extra,expected",
    [
        ("A", {"content": "100.128.77"}, 9005),
        ("AAAA", {"content": "100.128.77.2"}, 9006),
        ("CNAME", {"content": "not a host"}, 1004),
        ("TXT", {"content": ""}, 1004),
        ("MX", {"priority": None}, 1004),
        ("NS", {"content": "-bad-.example.test"}, 1004),
        ("CAA", {"data": {"flags": 0, "tag": "color", "value": "x"}}, 1004),
        ("CAA", {"data": None, "content": '0 issue "letsencrypt.org"'}, 1004),
        ("SRV", {"data": {"priority": 10, "weight": 5, "target": "sip.example.test"}}, 1004),
        ("SRV", {"data": {"priority": 10, "weight": 5, "port": 70000, "target": "sip.example.test"}}, 1004),
        ("TXT", {"proxied": True}, 1004),
        ("A", {"proxied": True, "content": "192.168.1.10"}, 1004),
        ("A", {"ttl": 30}, 9021),
        ("A", {"tags": ["no-colon"]}, 1004),
    ],
)
def test_invalid_records_are_refused(api, cloudflare_lab, kind, extra, expected):
    reply = create(api, kind, **extra)
    assert reply[0] == 400 and code(reply) == expected
    assert cloudflare_lab.state()["dns_records"] == {}


def test_record_object_fields(api):
    record = create(api, "A", comment="nas", tags=["owner:lab"])[1]["result"]
    assert {
        "id",
        "name",
        "type",
        "content",
        "proxiable",
        "proxied",
        "ttl",
        "comment",
        "tags",
        "settings",
        "meta",
        "created_on",
        "modified_on",
        "comment_modified_on",
        "tags_modified_on",
    } <= set(record)
    assert "zone_id" not in record and "zone_name" not in record
    plain = create(api, "TXT")[1]["result"]
    assert plain["comment"] is None and plain["tags"] == [] and "comment_modified_on" not in plain


def test_proxied_records_have_automatic_ttl(api):
    assert create(api, "A", proxied=True)[1]["result"]["ttl"] == 1


@pytest.mark.parametrize(
    "kind,extra,chained",
    [
        ("TXT", {"proxied": True}, 9004),
        ("MX", {"proxied": True}, 9004),
        ("A", {"proxied": True, "content": "192.168.1.10"}, 9003),
        ("AAAA", {"proxied": True, "content": "fd00::1"}, 9003),
    ],
)
def test_unproxiable_records_are_dns_validation_errors_with_the_rule_chained(api, kind, extra, chained):
    status, body = create(api, kind, **extra)
    assert status == 400 and body["errors"][0]["code"] == 1004
    assert [c["code"] for c in body["errors"][0]["error_chain"]] == [chained]


def test_a_private_address_is_not_proxiable(api):
    assert create(api, "A", content="192.168.1.10")[1]["result"]["proxiable"] is False
    assert create(api, "A", name="public")[1]["result"]["proxiable"] is True


# -- duplicates and conflicts -------------------------------------------------------------------------


def test_an_identical_record_is_81058_a_different_value_is_fine(api, cloudflare_lab):
    assert create(api, "TXT", name="_acme-challenge")[0] == 200
    again = create(api, "TXT", name="_acme-challenge.example.test.")
    assert again[0] == 400 and code(again) == 81058
    assert create(api, "TXT", name="_acme-challenge", content="other")[0] == 200
    assert len(cloudflare_lab.state()["dns_records"][ZONE_ID]) == 2


def test_cname_conflicts(api):
    assert create(api, "A", name="www")[0] == 200
    assert code(create(api, "CNAME", name="www")) == 81053
    assert create(api, "CNAME", name="alias")[0] == 200
    assert code(create(api, "AAAA", name="alias")) == 81054
    assert create(api, "TXT", name="alias")[0] == 200, "only A, AAAA and CNAME conflict with a CNAME"


# -- list filters ----------------------------------------------------------------------------------------


@pytest.fixture
def listed(api):
    create(api, "A", name="nas", comment="Main NAS", tags=["role:storage"])
    create(api, "A", name="nas-backup", content="100.128.77.3")
    create(api, "AAAA", name="nas")
    create(api, "TXT", name="_acme-challenge.nas", content="token-abc", tags=["role:acme"])
    create(api, "MX", name="@", content="mail.example.test")

    def names(**query):
        status, body = api("GET", RECORDS, params=query)
        assert status == 200, body
        return [(r["type"], r["name"]) for r in body["result"]]

    return names


def test_name_filters(listed):
    assert listed(**{"name.exact": "NAS.example.test"}) == [("A", "nas.example.test"), ("AAAA", "nas.example.test")]
    assert listed(name="nas.example.test", type="A") == [("A", "nas.example.test")]
    assert listed(**{"name.contains": "backup"}) == [("A", "nas-backup.example.test")]
    assert listed(**{"name.startswith": "_acme"}) == [("TXT", "_acme-challenge.nas.example.test")]
    assert len(listed(**{"name.endswith": "example.test"})) == 5
    assert listed(**{"name[exact]": "nas-backup.example.test"}) == [("A", "nas-backup.example.test")]


def test_content_comment_and_tag_filters(listed):
    assert listed(**{"content.exact": "TOKEN-ABC"}) == [("TXT", "_acme-challenge.nas.example.test")]
    assert listed(content="100.128.77.3") == [("A", "nas-backup.example.test")]
    assert listed(**{"content.contains": "128.77"}) == [("A", "nas-backup.example.test"), ("A", "nas.example.test")]
    assert listed(**{"comment.contains": "main"}) == [("A", "nas.example.test")]
    assert len(listed(**{"comment.absent": ""})) == 4 and len(listed(**{"comment.present": ""})) == 1
    assert listed(**{"tag.exact": "role:ACME"}) == [("TXT", "_acme-challenge.nas.example.test")]
    assert len(listed(**{"tag.present": "role"})) == 2
    assert len(listed(**{"tag.present": "role", "tag.absent": "role", "tag_match": "any"})) == 5
    assert listed(**{"tag.present": "role", "tag.absent": "role"}) == []


def test_match_any_order_direction_and_paging(listed):
    both = listed(**{"match": "any", "type": "MX", "name.exact": "nas-backup.example.test"})
    assert sorted(both) == [("A", "nas-backup.example.test"), ("MX", "example.test")]
    assert listed(**{"match": "all", "type": "MX", "name.exact": "nas-backup.example.test"}) == []
    by_content = listed(order="content", direction="desc", type="A")
    assert by_content == [("A", "nas-backup.example.test"), ("A", "nas.example.test")]
    assert len(listed(per_page=2, page=3)) == 1


@pytest.mark.parametrize(
    "query", [{"order": "color"}, {"match": "some"}, {"direction": "up"}, {"type": "SPF1"}, {"name.like": "x"}]
)
def test_malformed_list_queries_are_refused(api, query):
    status, body = api("GET", RECORDS, params=query)
    assert status == 400 and body["success"] is False


# -- zones, auth, settings, Origin CA ----------------------------------------------------------------------


def test_zones_with_a_trailing_slash_and_the_zone_object(api):
    status, body = api("GET", "/zones/", params={"name": "example.test"})
    assert status == 200 and [z["id"] for z in body["result"]] == [ZONE_ID]
    zone = body["result"][0]
    assert {
        "account",
        "owner",
        "created_on",
        "modified_on",
        "activated_on",
        "meta",
        "permissions",
        "original_name_servers",
        "development_mode",
    } <= set(zone)
    assert api("GET", "/zones", params={"name": "starts_with:exam"})[1]["result"][0]["id"] == ZONE_ID
    assert api("GET", "/zones", params={"name": "not_equal:example.test"})[1]["result"] == []


def test_the_global_api_key_is_accepted_for_writes(api, cloudflare_lab):
    key = {"Authorization": None, "X-Auth-Email": LAB_EMAIL, "X-Auth-Key": LAB_GLOBAL_KEY}
    status, body = api("PATCH", "/zones/%s/settings/ssl" % ZONE_ID, headers=key, json={"value": "strict"})
    assert status == 200 and cloudflare_lab.state()["settings"][ZONE_ID]["ssl"]["value"] == "strict"


@pytest.mark.parametrize(
    "headers,expected,chain",
    [
        ({"X-Auth-Email": LAB_EMAIL, "X-Auth-Key": LAB_TOKEN}, 6003, [6103]),
        ({"X-Auth-Email": "nobody", "X-Auth-Key": "short"}, 6003, [6102, 6103]),
        ({"X-Auth-Email": LAB_EMAIL, "X-Auth-Key": "f" * 37}, 9103, None),
        ({"X-Auth-Email": "other@example.test", "X-Auth-Key": LAB_GLOBAL_KEY}, 9103, None),
        ({}, 9106, None),
    ],
)
def test_bad_global_key_credentials(api, headers, expected, chain):
    status, body = api("GET", "/zones", headers=dict(headers, Authorization=None))
    error = body["errors"][0]
    assert status in (400, 403) and error["code"] == expected
    assert [c["code"] for c in error.get("error_chain", [])] == (chain or [])


@pytest.mark.parametrize(
    "value,status",
    [
        ({"enabled": True, "max_age": 30}, 200),
        ({"enabled": True, "max_age": 63072000, "include_subdomains": True, "preload": True}, 200),
        ({"max_age": -1}, 400),
        ({"max_age": 2**31}, 400),
        ({"max_age": True}, 400),
        ({"max_age": "60"}, 400),
    ],
)
def test_hsts_max_age_is_any_seconds_count(api, value, status):
    reply = api(
        "PATCH", "/zones/%s/settings/security_header" % ZONE_ID, json={"value": {"strict_transport_security": value}}
    )
    assert reply[0] == status
    if status == 400:
        assert code(reply) == 1007


def test_ssl_accepts_origin_pull(api):
    assert api("PATCH", "/zones/%s/settings/ssl" % ZONE_ID, json={"value": "origin_pull"})[0] == 200
    assert code(api("PATCH", "/zones/%s/settings/ssl" % ZONE_ID, json={"value": "full_strict"})) == 1007


def test_origin_ca_ids_are_the_certificate_serial(api):
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    csr = x509.CertificateSigningRequestBuilder().subject_name(x509.Name([])).sign(key, hashes.SHA256())
    status, body = api(
        "POST",
        "/certificates",
        json={
            "csr": csr.public_bytes(serialization.Encoding.PEM).decode(),
            "hostnames": ["example.test"],
            "request_type": "origin-rsa",
            "requested_validity": 7,
        },
    )
    assert status == 200
    cert = x509.load_pem_x509_certificate(body["result"]["certificate"].encode())
    assert body["result"]["id"] == str(cert.serial_number)
    assert api("GET", "/certificates/" + body["result"]["id"])[0] == 200


# -- DNS-01 forwarding ------------------------------------------------------------------------------------


def test_acme_challenge_txt_records_reach_challtestsrv(api, cloudflare_lab, acme_lab):
    name = "_acme-challenge.www.example.test"
    create(api, "TXT", name="_acme-challenge.www", content="before-config")
    assert acme_lab.txt(name) == [], "not forwarded until a test configures challtestsrv_url"
    cloudflare_lab.configure(challtestsrv_url=acme_lab.challtestsrv_url)
    one = create(api, "TXT", name="_acme-challenge.www", content="one")[1]["result"]
    two = create(api, "TXT", name="_acme-challenge.www", content='"two"')[1]["result"]
    create(api, "TXT", name="www", content="not-a-challenge")
    assert acme_lab.txt(name) == ["before-config", "one", "two"]
    assert acme_lab.txt("www.example.test") == []
    api("PATCH", "%s/%s" % (RECORDS, one["id"]), json={"content": "three"})
    api("DELETE", "%s/%s" % (RECORDS, two["id"]))
    assert acme_lab.txt(name) == ["before-config", "three"]
    api("PATCH", "%s/%s" % (RECORDS, one["id"]), json={"name": "_acme-challenge.other"})
    other = "_acme-challenge.other.example.test"
    assert acme_lab.txt(name) == ["before-config"] and acme_lab.txt(other) == ["three"]
    cloudflare_lab.reset()
    assert acme_lab.txt(name) == [] and acme_lab.txt(other) == []


def test_an_unreachable_challtestsrv_fails_the_write_loudly(api, cloudflare_lab):
    cloudflare_lab.configure(challtestsrv_url="http://127.0.0.1:9")
    reply = create(api, "TXT", name="_acme-challenge")
    assert reply[0] == 502 and "challtestsrv" in reply[1]["errors"][0]["message"]
    assert cloudflare_lab.state()["dns_records"].get(ZONE_ID, {}) == {}, "a failed write changes nothing"
