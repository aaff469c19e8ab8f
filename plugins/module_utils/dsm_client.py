# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""DSM Web API client shared by every DSM module.

Discovery through SYNO.API.Info, login through SYNO.API.Auth with SynoToken and 2FA
(OTP code or device token), one transparent re-login on session errors, bounded
retries for reads only, and an optional per-controller session cache.
"""

from __future__ import annotations

import json
import os
import re
import socket
import ssl
from urllib.parse import quote, quote_plus

from ansible_collections.homelab.nas.plugins.module_utils import dsm_errors
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import SESSION_ERRORS, DsmError
from ansible_collections.homelab.nas.plugins.module_utils.dsm_session_cache import (
    DEFAULT_CACHE_DIR,
    SessionCache,
    TrustedCertificates,
)
from ansible_collections.homelab.nas.plugins.module_utils.errors import HomelabInputError
from ansible_collections.homelab.nas.plugins.module_utils.http_deps import (
    HAS_REQUESTS,
    REQUESTS_IMPORT_ERROR,
    PinMismatch,
    Retry,
    colon_hex,
    requests,
    session_with_retries,
    sha256_fingerprint,
)

AUTH_API = "SYNO.API.Auth"
# AUTH_API (DSM login guide; acme.sh's deploy hook interprets them the same way).
AUTH_ERRORS = {
    400: "no such account or the password is incorrect",
    401: "the account is disabled",
    402: "permission denied",
    403: "a 2-step verification code is required: set otp_code, or device_id from an earlier login",
    404: "the 2-step verification code is wrong or expired",
    406: "2-step verification is enforced for this account but not set up yet: enrol it in DSM first",
    407: "this IP address is blocked by DSM's auto-block",
    408: "the password has expired and must be changed",
    409: "the password has expired and must be changed",
    410: "the password must be changed at next login",
}
dsm_errors.register(AUTH_API, AUTH_ERRORS)
PROBE_SESSION = "homelab.nas.check"  # a session name of its own: logging the probe out leaves the main one alone
# Status codes worth retrying for a read: DSM's nginx answers 502/503/504 while
# synoscgi restarts (for example right after a certificate import).
RETRY_STATUS = (500, 502, 503, 504)
HEX64 = re.compile(r"^[0-9A-F]{64}$")
READ_FINGERPRINT = "openssl s_client -connect NAS:5001 </dev/null | openssl x509 -noout -fingerprint -sha256"
# Parameters whose value is a secret, wherever a URL or message might still carry one (a third party's text, a
# version of this client that put them there): their values are masked in every error this client raises.
SECRET_PARAMS = re.compile(r"\b(_sid|SynoToken|passwd|otp_code|device_id)=[^&\s'\"()<>;,]+")
MASK = "********"


def normalise_fingerprint(field, value):
    """A SHA-256 certificate fingerprint, `AB:CD:...` or plain hex -> 64 upper-case hex digits."""
    digest = re.sub(r"[\s:]", "", str(value or "")).upper()
    if not HEX64.match(digest):
        raise HomelabInputError(
            "%s: '%s' is not a SHA-256 certificate fingerprint (64 hex digits, colons allowed); read DSM's with "
            "`%s` on the LAN" % (field, value, READ_FINGERPRINT)
        )
    return digest


def verified_fingerprint(host, port, ca_path=None, timeout=10):
    """SHA-256 (hex) of the certificate a TLS server presents, if it passes the CA and host name check."""
    context = ssl.create_default_context(cafile=ca_path)
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                return sha256_fingerprint(tls.getpeercert(binary_form=True) or b"")
    except (OSError, ValueError):
        return None


def presented_fingerprint(host, port, timeout=10):
    """SHA-256 of the certificate a TLS server presents, read without trusting it (for error messages only)."""
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    try:
        with socket.create_connection((host, port), timeout=timeout) as raw:
            with context.wrap_socket(raw, server_hostname=host) as tls:
                return colon_hex(sha256_fingerprint(tls.getpeercert(binary_form=True) or b""))
    except (OSError, ValueError):
        return None


class DsmClient:
    """A logged-in conversation with one DSM. Use as a context manager or call close()."""

    def __init__(
        self,
        host,
        username,
        password,
        port=None,
        use_https=True,
        validate_certs=True,
        ca_path=None,
        tls_fingerprints=None,
        timeout=30,
        otp_code=None,
        device_id=None,
        device_name="homelab.nas",
        enable_device_token=False,
        session_cache=True,
        session_cache_dir=None,
        read_retries=3,
        backoff_factor=0.5,
    ):
        if not HAS_REQUESTS:
            raise DsmError("the python 'requests' library is required: %s" % REQUESTS_IMPORT_ERROR)
        # What follow() needs to make the same client for another port.
        self._options = dict(
            username=username,
            password=password,
            use_https=use_https,
            validate_certs=validate_certs,
            ca_path=ca_path,
            tls_fingerprints=tls_fingerprints,
            timeout=timeout,
            device_id=device_id,
            device_name=device_name,
            enable_device_token=enable_device_token,
            session_cache=session_cache,
            session_cache_dir=session_cache_dir,
            read_retries=read_retries,
            backoff_factor=backoff_factor,
        )
        scheme = "https" if use_https else "http"
        port = port or (5001 if use_https else 5000)
        host_part = "[%s]" % host if ":" in host and not host.startswith("[") else host
        self.base_url = "%s://%s:%s/webapi/" % (scheme, host_part, port)
        self.host = host
        self.port = port
        self.username = username
        self._password = password
        self._otp_code = otp_code
        self._device_id = device_id
        self._device_name = device_name
        self._enable_device_token = enable_device_token
        self.timeout = timeout
        self.cache = SessionCache(session_cache_dir, self.base_url, username) if session_cache else None
        # Where the modules keep what spares a read in later tasks (task ids, verified certificates): the session
        # cache's directory, used whether or not sessions are cached (keyed_cache.py; never a secret).
        self.cache_dir = os.path.expanduser(session_cache_dir or DEFAULT_CACHE_DIR)
        self.sid = None
        self.synotoken = None
        self.logins = 0
        self.device_token_saved = False
        self._apis = None
        self._apis_cached = False  # the list came from the cache, not from this DSM in this task
        self._apis_refreshed = False  # this task asked DSM for it: never the cache again
        self.validate_certs = validate_certs
        self._ca_path = ca_path
        # Pinned certificates: the ones given, and the ones this collection made DSM present (dsm_certificate
        # records them here when it binds a certificate to DSM Desktop Service). Any pin replaces the CA and
        # hostname checks: DSM's certificate must then be one of them.
        self.trusted = TrustedCertificates(session_cache_dir, self.base_url) if use_https else None
        given = [normalise_fingerprint("tls_fingerprints[%d]" % i, f) for i, f in enumerate(tls_fingerprints or [])]
        self.pins = set()
        if use_https and validate_certs:
            self.pins.update(given)
            self.pins.update(self.trusted.load())
        # Reads: retried on connection errors and 5xx with backoff. Writes (POST) are
        # never retried once sent; urllib3 only retries them when the connection
        # could not be made at all, when nothing reached DSM. other=0: urllib3 counts an
        # SSL error while reading an answer (a connection dropped mid-reply) as neither a
        # connect nor a read error, and would resend even a POST.
        retry = Retry(
            total=read_retries,
            connect=read_retries,
            read=read_retries,
            status=read_retries,
            other=0,
            backoff_factor=backoff_factor,
            status_forcelist=RETRY_STATUS,
            allowed_methods=frozenset(["GET"]),
            raise_on_status=False,
        )
        self.http = session_with_retries(retry, pins=self.pins if use_https and validate_certs else None)

    def follow(self, port):
        """This client for the same DSM on another port (DSM's web server moved there), with this conversation's
        session: DSM keeps its sessions across the move, so the session, the API list, the session cache entry and
        the certificate pins recorded for this base URL go to the new one, and later tasks that connect to the
        new port reuse them. This client is closed without logging out."""
        moved = DsmClient(self.host, port=port, **self._options)
        moved.sid, moved.synotoken = self.sid, self.synotoken
        moved._apis, moved._apis_cached = self._apis, self._apis_cached  # pylint: disable=protected-access
        if moved.cache and self._apis:
            moved.cache.save_apis(self._apis)
        if self.trusted and moved.trusted:
            for pin in self.trusted.load():
                moved.trusted.add(pin)
            if self.validate_certs:
                moved.pins.update(self.pins)
        if self.cache and self.sid:
            moved.cache.save_session(self.sid, self.synotoken)
            self.cache.drop_session()
        self.sid = self.synotoken = None  # nothing left for close() to log out
        self.http.close()
        return moved

    @property
    def verify(self):
        """requests' verify, passed on every request (a Session-level verify loses to REQUESTS_CA_BUNDLE): the
        CA check, unless the certificate is pinned (the pool checks the pin) or verification is off."""
        if not self.validate_certs or self.pins:
            return False
        return self._ca_path or True

    def expect_certificate(self, fingerprint):
        """DSM is about to present the certificate with this SHA-256 (a binding this connection is making):
        trust it from now on, in this process and, recorded next to the session cache, in later tasks and runs.
        Does nothing when verification is off: nothing verified is worth pinning then."""
        if not (self.validate_certs and self.trusted):
            return
        digest = normalise_fingerprint("fingerprint", fingerprint)
        if not self.pins:
            # Switching from the CA check to pins: until DSM's web server restarts with the new certificate, it
            # presents the one the CA check accepts; pin that one too, once it passes, and record it: a binding
            # that fails (issue 12) leaves DSM presenting it, and later tasks and runs must still reach DSM.
            current = verified_fingerprint(self.host, self.port, self._ca_path, self.timeout)
            if current:
                self.pins.add(current)
                self.trusted.add(current)
        self.trusted.add(digest)
        self.pins.add(digest)

    # -- discovery ---------------------------------------------------------
    def api_info(self, name):
        """Path and version range of an API, from SYNO.API.Info (queried once for all)."""
        if self._apis is None:
            self._discover()
        if name not in self._apis:
            raise DsmError(
                "this DSM does not offer %s (DSM version too old, or the package is not installed)" % name,
                code=102,
                api=name,
            )
        return self._apis[name]

    def _discover(self):
        """DSM's API list: the one an earlier task or run kept (the session cache), else SYNO.API.Info's, kept for
        the next. A kept list that no longer matches DSM (a DSM update) is refreshed on the first answer that says
        so (_stale_api)."""
        if self.cache and not self._apis_refreshed:
            kept = self.cache.load_apis()
            if kept:
                self._apis, self._apis_cached = kept, True
                return
        self._apis = self._send(
            "GET",
            "query.cgi",
            {"api": "SYNO.API.Info", "version": "1", "method": "query", "query": "ALL"},
            api="SYNO.API.Info",
            method="query",
        )
        self._apis_cached, self._apis_refreshed = False, True
        if self.cache:
            self.cache.save_apis(self._apis)

    def _stale_api(self, exc):
        """Whether `exc` may come from a kept API list DSM no longer matches (102 no such API, 103 no such method,
        104 no such version, HTTP 404 no such path); if so, the next api_info asks DSM again."""
        if not self._apis_cached or not (exc.code in (102, 103, 104) or exc.status == 404):
            return False
        self._forget_apis()
        return True

    def _forget_apis(self):
        """Drop the kept API list: the next api_info asks DSM (and keeps its answer)."""
        self._apis, self._apis_cached, self._apis_refreshed = None, False, True

    def pick_version(self, name, wanted):
        """The highest version we speak (`wanted`) that DSM also offers."""
        info = self.api_info(name)
        version = min(int(wanted), int(info["maxVersion"]))
        if version < int(info["minVersion"]):
            raise DsmError(
                "%s: DSM offers versions %s-%s, this collection needs %s"
                % (name, info["minVersion"], info["maxVersion"], wanted),
                code=104,
                api=name,
            )
        return version

    # -- authentication ----------------------------------------------------
    def login(self):
        """Reuse a cached session when there is one, else log in."""
        if self.sid or self._reuse_cached():
            return
        if not self.cache:
            self._fresh_login()
            return
        with self.cache.logging_in():
            if not self._reuse_cached():  # another task may have logged in while this one waited
                self._fresh_login()

    def _login_again(self, refused):
        """DSM refused the session `refused`: reuse a newer one another task saved meanwhile, else log in."""
        self.sid = None
        if not self.cache:
            self._fresh_login()
            return
        with self.cache.logging_in():
            if self._reuse_cached(unless=refused):
                return
            self.cache.drop_session()
            self._fresh_login()

    def _reuse_cached(self, unless=None):
        cached = self.cache.load_session() if self.cache else None
        if cached and cached.get("sid") and cached["sid"] != unless:
            self.sid, self.synotoken = cached["sid"], cached.get("synotoken")
            return True
        return False

    def _fresh_login(self):
        try:
            self._login_once()
        except DsmError as exc:
            if not self._stale_api(exc):
                raise
            self._login_once()

    def _login_once(self):
        version = self.pick_version(AUTH_API, 7)
        params = {
            "api": AUTH_API,
            "version": str(version),
            "method": "login",
            "account": self.username,
            "passwd": self._password,
            "format": "sid",
            "enable_syno_token": "yes",
            "session": "homelab.nas",
        }
        device_id = self._device_id or (self.cache.load_device_id() if self.cache else None)
        if self._otp_code:
            params["otp_code"] = self._otp_code
            if self._enable_device_token:
                params.update(enable_device_token="yes", device_name=self._device_name)
        elif device_id:
            params.update(device_id=device_id, device_name=self._device_name)
        path = self.api_info(AUTH_API)["path"]
        data = self._send("POST", path, params, api=AUTH_API, method="login")
        self.logins += 1
        self.sid, self.synotoken = data["sid"], data.get("synotoken")
        # DSM answers the new device token as `device_id` (Auth v7+) or `did` (v6 and older).
        new_device = data.get("device_id") or data.get("did")
        if new_device and self.cache and self._enable_device_token:
            self.cache.save_device_id(new_device)
            self.device_token_saved = True
        # A one-time code cannot be used twice: later re-logins rely on the device token.
        self._otp_code = None
        if self.cache:
            self.cache.save_session(self.sid, self.synotoken)

    def device_token(self):
        """The device token a login would send: the one given, else the one saved in the session cache."""
        return self._device_id or (self.cache.load_device_id() if self.cache else None)

    def device_login_works(self):
        """Whether a login with the password and the device token, and no one-time code, succeeds now (a separate
        session, logged out at once). Proves the token is one DSM remembers; says nothing for an account
        without 2FA, which DSM lets in on its password alone until 2FA is enforced for it."""
        token = self.device_token()
        if not token:
            return False
        version = self.pick_version(AUTH_API, 7)
        path = self.api_info(AUTH_API)["path"]
        params = {
            "api": AUTH_API,
            "version": str(version),
            "method": "login",
            "account": self.username,
            "passwd": self._password,
            "format": "sid",
            "session": PROBE_SESSION,
            "device_id": token,
            "device_name": self._device_name,
        }
        try:
            data = self._send("POST", path, params, api=AUTH_API, method="login")
        except DsmError as exc:
            if exc.code in (403, 404, 406):
                return False
            raise
        self.logins += 1
        logout = {"api": AUTH_API, "version": str(version), "method": "logout", "session": PROBE_SESSION}
        try:
            self._send("GET", path, logout, api=AUTH_API, method="logout", sid=data.get("sid"))
        except DsmError:
            pass  # the probe's session expires on its own; the answer stands
        return True

    def logout(self):
        """End the DSM session and forget it locally."""
        if not self.sid and self.cache:
            cached = self.cache.load_session()
            if cached:
                self.sid = cached.get("sid")
        if self.sid:
            path = self.api_info(AUTH_API)["path"]
            version = self.pick_version(AUTH_API, 7)
            try:
                self._send(
                    "GET",
                    path,
                    {
                        "api": AUTH_API,
                        "version": str(version),
                        "method": "logout",
                        "session": "homelab.nas",
                    },
                    api=AUTH_API,
                    method="logout",
                )
            except DsmError as exc:
                if exc.code not in SESSION_ERRORS:
                    raise
        self.sid = self.synotoken = None
        if self.cache:
            self.cache.drop_session()

    def close(self):
        """Log out unless the session is meant to be reused by later tasks."""
        if self.cache is None and self.sid:
            self.logout()
        self.http.close()

    # -- calls -------------------------------------------------------------
    def read(self, api, method, version, **params):
        """A call that changes nothing: GET, retried on connection errors and 5xx."""
        return self.call(api, method, version, write=False, **params)

    def write(self, api, method, version, files=None, request_timeout=None, **params):
        """A call that changes DSM: POST with the SynoToken, never retried blindly (a POST that timed out is not
        sent again: DSM may still be acting on it). request_timeout: seconds for this call instead of `timeout`
        (a call DSM answers only when done, such as a Let's Encrypt request)."""
        return self.call(api, method, version, write=True, files=files, request_timeout=request_timeout, **params)

    def batch(self, calls):
        """Several reads in one HTTP request (DSM's SYNO.Entry.Request compound call).

        calls: [(api, method, version, {params})]; returns each call's data in order and raises the
        first call's error, named after that call.
        """
        out = []
        for data, error in self.batch_results(calls):
            if error is not None:
                raise error
            out.append(data)
        return out

    def batch_results(self, calls):
        """As batch(), but each call's (data, None) or (None, DsmError), for reads whose errors are answers."""
        self.login()
        compound = []
        for api, method, version, params in calls:
            entry = {k: _encode(v) for k, v in params.items()}
            entry.update(api=api, method=method, version=self.pick_version(api, version))
            compound.append(entry)
        data = self.read(
            "SYNO.Entry.Request", "request", 1, stop_when_error=False, mode="sequential", compound=compound
        )
        results = data.get("result") or []
        if len(results) != len(calls):
            raise DsmError("SYNO.Entry.Request answered %d results for %d calls" % (len(results), len(calls)))
        out = []
        for (api, method, _version, _params), entry in zip(calls, results):
            if entry.get("success"):
                out.append((entry.get("data") or {}, None))
            else:
                error = entry.get("error") or {}
                out.append((None, DsmError.from_code(error.get("code", 100), api, method, error.get("errors"))))
        return out

    def offers(self, name):
        """Whether DSM offers an API (a package's API is missing while the package is not installed)."""
        self.login()
        if self._apis is None:
            self._discover()
        if name not in self._apis and self._apis_cached:
            self._forget_apis()  # missing from a kept list: the package may have been installed since; ask DSM, once
            self._discover()
        return name in self._apis

    def call(self, api, method, version, write=False, files=None, raw=False, request_timeout=None, **params):
        self.login()
        try:
            return self._call_once(api, method, version, write, files, raw, params, request_timeout)
        except DsmError as exc:
            if self._stale_api(exc):  # the kept API list may predate a DSM update: discover again, once
                return self.call(
                    api, method, version, write=write, files=files, raw=raw, request_timeout=request_timeout, **params
                )
            if exc.code not in SESSION_ERRORS:
                raise
        # The session expired or was replaced: DSM rejected the request before acting
        # on it, so one re-login and one retry are safe even for a write.
        self._login_again(self.sid)
        return self._call_once(api, method, version, write, files, raw, params, request_timeout)

    def _call_once(self, api, method, version, write, files, raw, params, request_timeout=None):
        info = self.api_info(api)
        query = {"api": api, "version": str(self.pick_version(api, version)), "method": method}
        body = {k: _encode(v) for k, v in params.items() if v is not None}
        if write:
            # Form fields travel in the body, the API triple in the URL (DSM dispatches on it, as DSM's own UI and
            # acme.sh send multipart uploads); the session never in the URL (see _send).
            return self._send(
                "POST",
                info["path"],
                query,
                api=api,
                method=method,
                body=body,
                files=files,
                raw=raw,
                timeout=request_timeout,
            )
        query.update(body)
        return self._send("GET", info["path"], query, api=api, method=method, raw=raw, timeout=request_timeout)

    def _send(self, verb, path, query, api, method, body=None, files=None, raw=False, sid=None, timeout=None):
        """One request; every error it raises has the session id, SynoToken and password masked (the one place
        messages leave the client: requests' own texts quote URLs, and a message ends up in Ansible's output)."""
        if api == AUTH_API and method == "login":
            sid = None  # a login carries no session, the probe's included
        else:
            sid = sid or self.sid
        try:
            return self._exchange(verb, path, query, api, method, body, files, raw, sid, timeout or self.timeout)
        except DsmError as exc:
            exc.args = (self.redact(str(exc), sid),) + exc.args[1:]
            exc.__cause__ = None
            exc.__suppress_context__ = True  # a traceback (-vvv) would print requests' own text
            raise

    def redact(self, text, *more):
        """`text` with this conversation's secrets (and `more`) masked, raw and URL-encoded, and with any secret
        parameter's value masked."""
        try:
            device_token = self.device_token()
        except (OSError, ValueError):
            device_token = None
        for secret in (self.sid, self.synotoken, self._password, self._otp_code, device_token) + more:
            if secret:
                for form in (str(secret), quote(str(secret), safe=""), quote_plus(str(secret))):
                    text = text.replace(form, MASK)
        return SECRET_PARAMS.sub(lambda m: "%s=%s" % (m.group(1), MASK), text)

    def _exchange(self, verb, path, query, api, method, body, files, raw, sid, timeout):
        # Every request of a session that has a SynoToken carries it, reads included: DSM refuses
        # token-less requests of such a session (103 per batonogov's provider and a DSM 7.3.2 capture).
        headers = {"X-SYNO-TOKEN": self.synotoken} if self.synotoken else {}
        # The session travels in the `id` cookie, where DSM's own web UI keeps it (Synology's Web API guides:
        # the cookie replaces `_sid`, GET or POST), never in the URL, which DSM's nginx, proxies and requests'
        # error texts record. A url-encoded POST also carries `_sid` as a form field, as acme.sh, N4S4's
        # synology-api and go-synology send it (docs/architecture.md, "Where the DSM session travels").
        cookies = {"id": sid} if sid else None
        url = self.base_url + path
        try:
            if verb == "GET":
                response = self.http.get(
                    url, params=query, headers=headers, cookies=cookies, timeout=timeout, verify=self.verify
                )
            elif body is None and files is None:
                # Login: credentials go in the form body, never in the URL.
                response = self.http.post(
                    url, data=query, headers=headers, cookies=cookies, timeout=timeout, verify=self.verify
                )
            else:
                if files is None and sid:
                    body = dict(body, _sid=sid)
                response = self.http.post(
                    url,
                    params=query,
                    data=body,
                    files=files,
                    headers=headers,
                    cookies=cookies,
                    timeout=timeout,
                    verify=self.verify,
                )
        except PinMismatch as exc:
            raise DsmError(
                "TLS verification of %s failed: DSM presented a certificate with SHA-256 %s, which is not one "
                "this controller trusts (tls_fingerprints, and those recorded in %s when this collection made DSM "
                "present a certificate). If that is your NAS's certificate (check it on the LAN: `%s`), add its "
                "fingerprint to tls_fingerprints (dsm_tls_fingerprints in the playbooks)"
                % (self.base_url, exc.fingerprint, self.trusted.path, READ_FINGERPRINT),
                api=api,
                method=method,
            )
        except requests.exceptions.SSLError as exc:
            seen = presented_fingerprint(self.host, self.port)
            raise DsmError(
                "TLS verification of %s failed (%s). DSM presented a certificate with SHA-256 %s. If that is your "
                "NAS's certificate (a fresh DSM's is self-signed; check it on the LAN: `%s`), pin it with "
                "tls_fingerprints (dsm_tls_fingerprints in the playbooks), or set ca_path to the CA that signed it"
                % (self.base_url, exc, seen or "(unreadable)", READ_FINGERPRINT),
                api=api,
                method=method,
            )
        except requests.exceptions.RequestException as exc:
            raise DsmError("cannot reach DSM at %s: %s" % (self.base_url, exc), api=api, method=method)
        if response.status_code >= 400:
            raise DsmError(
                "%s.%s: DSM answered HTTP %s" % (api, method, response.status_code),
                api=api,
                method=method,
                status=response.status_code,
            )
        content_type = response.headers.get("Content-Type", "")
        if raw and "json" not in content_type:
            return response.content
        try:
            payload = response.json()
        except ValueError:
            raise DsmError(
                "%s.%s: DSM answered something that is not JSON (HTTP %s, %s)"
                % (api, method, response.status_code, content_type),
                api=api,
                method=method,
            )
        if not payload.get("success"):
            error = payload.get("error") or {}
            raise DsmError.from_code(error.get("code", 100), api, method, error.get("errors"))
        return payload.get("data") or {}


def _encode(value):
    """DSM wants booleans as true/false and structured values as compact JSON."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return json.dumps(value, separators=(",", ":"))
    return value
