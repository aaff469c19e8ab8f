"""The Cloudflare client against the mock API: auth errors, pagination, 429 and 5xx handling."""

from __future__ import annotations

import time

import pytest

from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_client import CloudflareClient, CloudflareError
from tests.lab.mock_cloudflare.seed import ACCOUNT, LAB_TOKEN, READ_ONLY_TOKEN, ZONE_ID


def client(lab, token=LAB_TOKEN, **kwargs):
    return CloudflareClient(token, base_url=lab.api_base_url, ca_path=lab.ca_path, **kwargs)


def test_zone_lookup_and_token_verification(cloudflare_lab):
    api = client(cloudflare_lab)
    assert api.get("/user/tokens/verify")["status"] == "active"
    assert api.zone_id("example.test") == ZONE_ID
    with pytest.raises(CloudflareError, match="zone 'nope.test' not found"):
        api.zone_id("nope.test")


def test_zone_account_is_the_account_holding_the_zone(cloudflare_lab):
    api = client(cloudflare_lab)
    assert api.zone_account_id(ZONE_ID) == ACCOUNT["id"]
    with pytest.raises(CloudflareError) as err:
        api.zone_account_id("0" * 32)
    assert err.value.status == 404 and 7003 in err.value.codes and err.value.api == "/zones/%s" % ("0" * 32)


@pytest.mark.parametrize(
    "token,status,code,fragment",
    [
        ("bad token!", 400, 6003, "6111 Invalid format for Authorization header"),
        ("x" * 40, 400, 9109, "9109 Invalid access token"),
    ],
)
def test_bad_tokens_are_explained(cloudflare_lab, token, status, code, fragment):
    with pytest.raises(CloudflareError) as err:
        client(cloudflare_lab, token=token).get("/zones")
    assert err.value.status == status and code in err.value.codes
    assert fragment in str(err.value) and "check api_token" in str(err.value)
    assert token not in str(err.value)


def test_read_only_token_cannot_write(cloudflare_lab):
    with pytest.raises(CloudflareError) as err:
        client(cloudflare_lab, token=READ_ONLY_TOKEN).request(
            "PATCH", "/zones/%s/settings/ssl" % ZONE_ID, body={"value": "strict"}
        )
    assert err.value.status == 403 and 10000 in err.value.codes
    assert cloudflare_lab.state()["settings"][ZONE_ID]["ssl"]["value"] == "full"


def test_pagination_reads_every_page(cloudflare_lab):
    api = client(cloudflare_lab)
    for i in range(7):
        api.request(
            "POST",
            "/zones/%s/dns_records" % ZONE_ID,
            body={"type": "A", "name": "h%d" % i, "content": "100.128.77.%d" % i},
        )
    names = [r["name"] for r in api.paginate("/zones/%s/dns_records" % ZONE_ID, per_page=3)]
    assert len(names) == 7 and len(set(names)) == 7
    assert len(cloudflare_lab.calls("GET", "/zones/:id/dns_records")) == 3


def test_429_is_retried_after_the_time_cloudflare_asks_for(cloudflare_lab):
    api = client(cloudflare_lab)
    cloudflare_lab.fault(http_error_next={"count": 2, "status": 429, "retry_after": 1})
    started = time.monotonic()
    api.request("PATCH", "/zones/%s/settings/ssl" % ZONE_ID, body={"value": "strict"})
    assert time.monotonic() - started >= 1.9, "Retry-After: 1 twice means at least two seconds of waiting"
    assert [c["status"] for c in cloudflare_lab.calls("PATCH")] == [429, 429, 200]
    assert cloudflare_lab.state()["settings"][ZONE_ID]["ssl"]["value"] == "strict"


def test_429_past_the_retry_budget_fails_clearly_and_applies_nothing(cloudflare_lab):
    api = client(cloudflare_lab, retries=2)
    cloudflare_lab.fault(http_error_next={"count": 10, "status": 429, "retry_after": 1})
    with pytest.raises(CloudflareError) as err:
        api.request("PATCH", "/zones/%s/settings" % ZONE_ID, body={"items": [{"id": "ssl", "value": "strict"}]})
    assert err.value.status == 429 and "rate limited" in str(err.value)
    assert len(cloudflare_lab.calls("PATCH")) == 3
    assert cloudflare_lab.state()["settings"][ZONE_ID]["ssl"]["value"] == "full"


def test_5xx_is_retried_for_reads_but_not_for_writes(cloudflare_lab):
    api = client(cloudflare_lab, backoff_factor=0)
    # The Cloudflare mock logs calls as (api=HTTP verb, method=path shape).
    cloudflare_lab.fault(http_error_next={"count": 2, "status": 502, "api": "GET"})
    assert api.get("/zones/%s/settings" % ZONE_ID)
    assert [c["status"] for c in cloudflare_lab.calls("GET", "/zones/:id/settings")] == [502, 502, 200]
    cloudflare_lab.fault(http_error_next={"count": 1, "status": 502, "api": "PATCH"})
    with pytest.raises(CloudflareError, match="HTTP 502"):
        api.request("PATCH", "/zones/%s/settings/ssl" % ZONE_ID, body={"value": "strict"})
    assert len(cloudflare_lab.calls("PATCH")) == 1
    # An SSL error while reading an answer is an "other" error to urllib3, retried even for a POST unless zero.
    assert api.http.get_adapter(api.base_url).max_retries.other == 0


def test_the_mock_rate_limit_answers_429(cloudflare_lab):
    cloudflare_lab.configure(rate_limit=2, rate_window=60)
    api = client(cloudflare_lab, retries=0)
    api.get("/ips")
    api.get("/zones")
    with pytest.raises(CloudflareError) as err:
        api.get("/zones")
    assert err.value.status == 429 and 971 in err.value.codes
