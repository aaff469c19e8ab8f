"""What DSM's own listeners do with a connection: which certificate they present, whether the firewall
lets the controller through, and whether a password-only login must set up 2FA first.

Certificate: DSM's web server presents the certificate bound to "DSM Desktop Service" (service key
`default`); a service without an explicit binding uses the default certificate (batonogov's provider
docs, `set_as_default`: "used by every service without an explicit assignment"). Making another
certificate the default does not move a service bound explicitly (a DSM 7 guide tells users to
re-assign each service after setting the new default), so the seed's explicit binding of `default`
keeps the factory certificate until an import replaces it in place or Certificate.Service moves it.
Which of the two a fresh DSM does is not known, so the lab offers both (config `service_bindings`).
"""

from __future__ import annotations

from tests.lab.mock_dsm import firewall_eval
from tests.lab.mock_dsm.params import invalid

DESKTOP = "default"  # the service key of "DSM Desktop Service"


def served_certificate(data):
    """(chain PEM: leaf then intermediates, key PEM) that DSM's HTTPS listener presents now."""
    entry = data["certificates"][certificate_of(data, DESKTOP)]
    chain = entry["cert_pem"].rstrip("\n") + "\n" + (entry.get("chain_pem") or "")
    return chain.encode(), entry["key_pem"].encode()


def certificate_of(data, service):
    """The id of the certificate a service uses: its binding, else the default certificate."""
    return data["bindings"].get(service) or default_certificate(data)


def default_certificate(data):
    return next(c["id"] for c in data["certificates"].values() if c["is_default"])


def unbind_default_users(data):
    """Services bound to the default certificate follow it from now on instead (`service_bindings: implicit`)."""
    default_id = default_certificate(data)
    for service in [key for key, owner in data["bindings"].items() if owner == default_id]:
        del data["bindings"][service]


def firewall_verdict(data, config, port, services):
    """("allow"|"deny", why) for the controller (lab config `controller_address`, arriving on
    `controller_adapter`) reaching `port`."""
    profile = firewall_eval.applied_profile(data["firewall"])
    return firewall_eval.decide(
        profile, config["controller_adapter"], config["controller_address"], port, services=services
    )


def two_factor_setup_required(data, user):
    """DSM answers 406 to a password login of an account that SYNO.Core.OTP.EnforcePolicy covers
    and that has no 2FA set up (N4S4 error_codes.py, from Synology's Login Web API guide: "Enforce to
    authenticate with 2-factor authentication code"; acme.sh's deploy hook reports 406 as "Enforce auth
    with 2FA-OTP enabled, please configure the user to enable 2FA-OTP")."""
    if user.get("otp_secret"):
        return False
    option = data["security"].get("otp_enforce_option", "none")
    return option == "user" or (option == "admin" and bool(user.get("admin")))


class WebListeners:
    """DSM's web server: one HTTP and one HTTPS listener on the ports SYNO.Core.Web.DSM holds.

    The lab starts them on free loopback ports and records those as DSM's ports. A set that moves a port opens
    the new listener before the answer and stops the old one: it no longer accepts connections, and a kept-alive
    connection to it is cut at its next request (MockDsm.admits). The start ports' own sockets stay bound while
    DSM is elsewhere (refusing every connection), so a lab reset can always move DSM back to them."""

    def __init__(self, lab, host, tls, http_port, https_port):
        self.lab = lab
        self.host = host
        self.tls = tls
        self.home = {"http": lab.serve(host, http_port), "https": lab.serve(host, https_port, tls=tls)}
        self.current = dict(self.home)

    def ports(self):
        """{"http": port, "https": port} DSM serves on now."""
        return {scheme: server.server_address[1] for scheme, server in self.current.items()}

    def scheme_of(self, port):
        """ "http"/"https" for a port DSM serves on now, None for any other (a listener DSM left)."""
        return next((scheme for scheme, p in self.ports().items() if p == port), None)

    def prepare(self, http_port, https_port):
        """Listeners for the wanted ports, bound now ({scheme: server} of those that move); raises ApiError 120
        naming the port when it cannot be bound (another program holds it)."""
        moved = {}
        for scheme, port in (("http", http_port), ("https", https_port)):
            if self.current[scheme].server_address[1] == port:
                continue
            if self.home[scheme].server_address[1] == port:
                moved[scheme] = self.home[scheme]
                continue
            try:
                moved[scheme] = self.lab.serve(self.host, port, tls=self.tls if scheme == "https" else None)
            except OSError:
                for scheme_done, server in moved.items():
                    if server is not self.home[scheme_done]:
                        self.lab.stop(server)
                raise invalid("%s_port" % scheme, "in use") from None
        return moved

    def commit(self, moved):
        """Serve on the prepared listeners; the ones left stop (the start ports' sockets stay bound)."""
        for scheme, server in moved.items():
            old, self.current[scheme] = self.current[scheme], server
            if old is not self.home[scheme]:
                self.lab.stop(old)

    def go_home(self):
        """Back on the start ports (a lab reset)."""
        self.commit({scheme: server for scheme, server in self.home.items() if self.current[scheme] is not server})


def front_response(web, https_port, host_header, target):
    """DSM's HTTP-to-HTTPS redirect: with `enable_https_redirect` an HTTP request is sent to the HTTPS port (DSM
    3.0 user's guide: "you will be redirected to port 5001 while trying to access the web management UI through
    port 5000"). The status (301) is the lab's choice."""
    if not web.get("enable_https_redirect"):
        return None
    host = host_header or "127.0.0.1"
    host = host[: host.index("]") + 1] if host.startswith("[") else host.split(":")[0]
    return "https://%s:%d%s" % (host, https_port, target)


# What DSM's web server sends with HSTS on: one year (lab's choice of max-age; the header is what counts).
HSTS_HEADER = "max-age=31536000"
