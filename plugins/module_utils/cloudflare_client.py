# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""Cloudflare API v4 client shared by the Cloudflare modules."""

from __future__ import annotations

from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabError
from ansible_collections.homelab.nas.plugins.module_utils.http_deps import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    Retry,
    requests,
    session_with_retries,
)

DEFAULT_BASE_URL = "https://api.cloudflare.com/client/v4"
# Longest Retry-After we honour; a longer wait fails the task with the server's answer instead.
MAX_RETRY_AFTER = 60
# Codes Cloudflare answers for missing, malformed, unknown or under-privileged credentials: 6003 (with a
# 6102/6103/6111 chain), 9103 unknown key or email, 9106 no credentials, 9109 invalid token, 10000, 1000.
AUTH_ERROR_CODES = (6003, 9103, 9106, 9109, 10000, 1000)


class CloudflareError(HomelabError):
    """A failed API call; `status` is the HTTP status, `codes` Cloudflare's error codes (`code` the first),
    `api` the path and `method` the HTTP verb when known."""

    def __init__(self, message, status=None, codes=(), api=None, method=None):
        codes = list(codes)
        super().__init__(message, code=codes[0] if codes else None, api=api, method=method, status=status)
        self.codes = codes

    def extra_fail_kwargs(self):
        return dict(error_codes=self.codes)


class RateLimitRetry(Retry):
    """Retry reads on 5xx, and any request on 429: a rate-limited request was refused, not applied."""

    def is_retry(self, method, status_code, has_retry_after=False):
        if status_code == 429:
            return bool(self.total)
        return super().is_retry(method, status_code, has_retry_after)

    def get_retry_after(self, response):
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, MAX_RETRY_AFTER)


def describe_errors(errors):
    """'9109 Invalid access token (6111 Invalid format...)' for every error and its chain."""
    parts = []
    for error in errors or []:
        text = "%s %s" % (error.get("code"), error.get("message"))
        chain = describe_errors(error.get("error_chain"))
        parts.append("%s (%s)" % (text, chain) if chain else text)
    return "; ".join(parts)


class CloudflareClient:
    def __init__(
        self,
        api_token,
        base_url=DEFAULT_BASE_URL,
        validate_certs=True,
        ca_path=None,
        timeout=30,
        retries=5,
        backoff_factor=1.0,
        zone_cache=None,
    ):
        if not HAS_REQUESTS:
            raise CloudflareError("the python 'requests' library is required: %s" % REQUESTS_IMPORT_ERROR)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.verify = (ca_path or True) if validate_certs else False
        # other=0: an SSL error while reading an answer is neither a connect nor a read error to urllib3, which
        # would resend even a POST (a record created twice).
        retry = RateLimitRetry(
            total=retries,
            connect=retries,
            read=retries,
            status=retries,
            other=0,
            backoff_factor=backoff_factor,
            status_forcelist=(429, 500, 502, 503, 504),
            allowed_methods=frozenset(["GET"]),
            raise_on_status=False,
        )
        self.http = session_with_retries(retry)
        self.http.headers.update({"Authorization": "Bearer %s" % api_token, "Content-Type": "application/json"})
        self._zones = {}
        self._zone_cache = zone_cache  # cloudflare_zone_cache.ZoneIds, or None
        self._cached_zones = set()  # the names whose id came from zone_cache in this task
        self.writes = 0  # requests that may have changed something

    def close(self):
        self.http.close()

    def request(self, method, path, params=None, body=None):
        """The envelope of one call; raises CloudflareError unless `success` is true."""
        url = self.base_url + path
        if method != "GET":
            self.writes += 1
        try:
            # verify per request: a Session-level verify loses to REQUESTS_CA_BUNDLE.
            response = self.http.request(
                method, url, params=params, json=body, timeout=self.timeout, verify=self.verify
            )
        except requests.exceptions.SSLError as exc:
            raise CloudflareError(
                "TLS verification of %s failed (%s); set ca_path or validate_certs" % (self.base_url, exc),
                api=path,
                method=method,
            )
        except requests.exceptions.RequestException as exc:
            raise CloudflareError(
                "%s %s: cannot reach the Cloudflare API: %s" % (method, path, exc), api=path, method=method
            )
        try:
            envelope = response.json()
        except ValueError:
            envelope = None
        if not isinstance(envelope, dict) or not envelope.get("success"):
            errors = (envelope or {}).get("errors") if isinstance(envelope, dict) else None
            detail = describe_errors(errors) or "HTTP %s" % response.status_code
            hint = ""
            if response.status_code == 429:
                hint = " (rate limited: still refused after the retries, waiting as Cloudflare asked)"
            elif response.status_code in (400, 401, 403) and any(
                e.get("code") in AUTH_ERROR_CODES for e in errors or []
            ):
                hint = " (check api_token and that it has the permissions this task needs)"
            raise CloudflareError(
                "%s %s failed: %s%s" % (method, path, detail, hint),
                status=response.status_code,
                codes=[e.get("code") for e in errors or []],
                api=path,
                method=method,
            )
        return envelope

    def ip_ranges(self):
        """Cloudflare's published edge ranges (GET /ips, needs no zone)."""
        return self.get("/ips")

    def get(self, path, **params):
        return self.request("GET", path, params=params or None)["result"]

    def paginate(self, path, per_page=100, **params):
        """Every item of a paginated list."""
        items, page = [], 1
        while True:
            envelope = self.request("GET", path, params=dict(params, page=page, per_page=per_page))
            items.extend(envelope.get("result") or [])
            info = envelope.get("result_info") or {}
            if page >= int(info.get("total_pages") or 1):
                return items
            page += 1

    def zone_id(self, name):
        """The id of a zone by its name: kept for the task, and in zone_cache for later tasks and runs."""
        if name not in self._zones:
            cached = self._zone_cache.get(name) if self._zone_cache else None
            if cached:
                self._zones[name] = cached
                self._cached_zones.add(name)
                return cached
            zones = self.get("/zones", name=name)
            if not zones:
                raise CloudflareError(
                    "zone '%s' not found: check the name, and that api_token may read it (Zone: Read)" % name
                )
            self._zones[name] = zones[0]["id"]
            if self._zone_cache:
                self._zone_cache.put(name, self._zones[name])
        return self._zones[name]

    def forget_stale_zone(self, error):
        """After `error`: when it says a zone id taken from zone_cache is unknown (Cloudflare's 7003 "Could not route
        to /zones/<id>", or an invalid zone identifier) and nothing was written yet, forget that id so the next
        zone_id() looks it up again, and say so. A zone deleted and made again under its name gets a new id."""
        unknown = set(getattr(error, "codes", None) or []) & {7003, 1001}
        if not (unknown and self._cached_zones and self.writes == 0):
            return False
        for name in self._cached_zones:
            self._zone_cache.drop(name)
            self._zones.pop(name, None)
        self._cached_zones.clear()
        return True

    def zone_account_id(self, zone_id):
        """The id of the account that holds the zone (GET /zones/{zone_id}: the zone's `account`)."""
        return self.get("/zones/%s" % zone_id)["account"]["id"]
