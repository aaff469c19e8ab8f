# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""DSM's web settings (SYNO.Core.Web.DSM, SYNO.Core.Web.DSM.External, SYNO.Core.Web.Security.TLSProfile) in the
modules' terms, and the firewall's verdict on a port DSM is about to move to.

SYNO.Core.Web.DSM is read at v1 and v2 and merged: a live DSM 7.3 left `enable_https` and `enable_hsts` out of its
v2 answer, a DSM 7.4 answered HSTS at v2, and only v2 carries the newer fields. It is written at v1, the version
whose set was verified live, as a whole object: every v1 field, the unchanged ones as read."""

from __future__ import annotations

from ansible_collections.homelab.nas.plugins.module_utils import dsm_firewall_rules as fw, dsm_validate as v
from ansible_collections.homelab.nas.plugins.module_utils.dsm_errors import DsmError

WEB_API = "SYNO.Core.Web.DSM"
EXTERNAL_API = "SYNO.Core.Web.DSM.External"
TLS_API = "SYNO.Core.Web.Security.TLSProfile"

# The fields DSM's v1 set takes (the whole object this module writes).
V1_FIELDS = (
    "http_port",
    "https_port",
    "enable_https",
    "enable_https_redirect",
    "enable_hsts",
    "enable_spdy",
    "enable_custom_domain",
    "fqdn",
)
# The module's names for DSM's fields.
FIELDS = {
    "http_port": "http_port",
    "https_port": "https_port",
    "https_redirect": "enable_https_redirect",
    "hsts": "enable_hsts",
    "http2": "enable_spdy",
}
# DSM's TLS profile levels: 0 the strongest.
TLS_LEVELS = {"modern": 0, "intermediate": 1, "old": 2}
# Ports DSM's own ports cannot take: its web server already serves 80 and 443 (Web Station, the reverse proxy and
# the Login Portal's aliases; DSM's user's guide gives Web Station 80/443), so DSM's settings refuse them.
RESERVED_PORTS = {80: "DSM's web server serves HTTP on 80", 443: "DSM's web server serves HTTPS on 443"}


def check_ports(http_port, https_port):
    """The ports given, before anything is read: 1-65535, not DSM's reserved ones, not one port twice."""
    for name, value in (("http_port", http_port), ("https_port", https_port)):
        if value is None:
            continue
        v.port(name, value)
        if value in RESERVED_PORTS:
            example = "8443 (a port Cloudflare proxies)" if name == "https_port" else "8080"
            raise v.InputError(
                "%s: %d is reserved (%s, Web Station and reverse proxy rules); pick another port, for example %s"
                % (name, value, RESERVED_PORTS[value], example)
            )
    if http_port is not None and http_port == https_port:
        raise v.InputError(
            "https_port: %d is also http_port; DSM serves HTTP and HTTPS on two different ports" % https_port
        )


def check_merged(wanted, given):
    """The ports as they would be once written (the ones `given`, the others DSM's): not one port twice."""
    if wanted["http_port"] != wanted["https_port"]:
        return
    name = given[0] if given else "https_port"
    other = "http_port" if name == "https_port" else "https_port"
    raise v.InputError(
        "%s: %d is DSM's %s already; DSM serves HTTP and HTTPS on two different ports, so give %s too or pick "
        "another port" % (name, wanted[name], other, other)
    )


def merge(answers):
    """SYNO.Core.Web.DSM's answers at each version, as one object: a field one version leaves out (or answers
    null) is taken from the other; where both answer it, the later version's value."""
    merged = {}
    for answer in answers:
        merged.update({k: val for k, val in answer.items() if val is not None or k not in merged})
    return merged


def level_name(level):
    if level is None:
        return None
    return next((name for name, number in TLS_LEVELS.items() if number == level), "level %s" % level)


class DsmWeb:
    def __init__(self, client):
        self.client = client

    def offers(self, api):
        """Whether this DSM has `api` (an older DSM may lack External or TLSProfile)."""
        try:
            self.client.api_info(api)
        except DsmError as exc:
            if exc.code == 102:
                return False
            raise
        return True

    def read(self):
        """(DSM's merged web settings, its External hostname, its TLS profile default level), in one request; the
        hostname and level are None when DSM lacks their API."""
        self.client.login()  # first: a cached session brings the cached API list
        versions = [1]
        if int(self.client.api_info(WEB_API).get("maxVersion", 1)) >= 2:
            versions.append(2)
        calls = [(WEB_API, "get", version, {}) for version in versions]
        extras = [api for api in (EXTERNAL_API, TLS_API) if self.offers(api)]
        calls += [(api, "get", 1, {}) for api in extras]
        answers = self.client.batch(calls)
        found = dict(zip(extras, answers[len(versions) :]))
        hostname = found[EXTERNAL_API].get("hostname") or "" if EXTERNAL_API in found else None
        level = found[TLS_API].get("default-level") if TLS_API in found else None
        return merge(answers[: len(versions)]), hostname, level

    def write(self, merged):
        """The whole v1 object: the fields DSM answered, as `merged` has them now."""
        body = {k: merged[k] for k in V1_FIELDS if k in merged and merged[k] is not None}
        self.client.write(WEB_API, "set", 1, **body)

    def confirm(self):
        """SYNO.Core.Web.DSM read again at v1 (the first call on a new port, and proof the session went along)."""
        return self.client.read(WEB_API, "get", 1)

    def set_external_hostname(self, hostname):
        self.client.write(EXTERNAL_API, "set", 1, hostname=hostname)

    def set_tls_level(self, level):
        self.client.write(TLS_API, "set", 1, **{"default-level": level})


def firewall_verdict(client, address, port):
    """(admitted?, why) for a connection from `address` to `port` under the firewall DSM enforces now."""
    state = client.read(fw.FIREWALL_API, "get", 1)
    if not state.get("enable_firewall"):
        return True, "the firewall is off"
    name = state.get("profile_name")
    _enabled, _active, profile = fw.DsmFirewall(client).read(name)
    action, rule, table = fw.verdict(profile, address, port)
    where = ("rule '%s'" % rule if rule else "the default action") + (
        "" if table in (None, "global") else " of interface %s" % table
    )
    return action == "allow", "%s of profile '%s' says %s" % (where, name, action)
