"""What DSM's own listeners do with a connection: which certificate they present, whether the firewall
lets the controller through, and whether a password-only login must set up 2FA first.

Certificate: DSM's web server presents the certificate bound to "DSM Desktop Service" (service key
`default`); a service without an explicit binding uses the default certificate (batonogov's provider
docs, `set_as_default`: "used by every service without an explicit assignment"). Making another
certificate the default does not move a service bound explicitly (a DSM 7 guide tells users to
re-assign each service after setting the new default), so the seed's explicit binding of `default`
keeps the factory certificate until an import replaces it in place or Certificate.Service moves it.
"""

from __future__ import annotations

from tests.lab.mock_dsm import firewall_eval

DESKTOP = "default"  # the service key of "DSM Desktop Service"


def served_certificate(data):
    """(chain PEM: leaf then intermediates, key PEM) that DSM's HTTPS listener presents now."""
    certificates = data["certificates"]
    entry = certificates.get(data["bindings"].get(DESKTOP))
    if entry is None:
        entry = next(c for c in certificates.values() if c["is_default"])
    chain = entry["cert_pem"].rstrip("\n") + "\n" + (entry.get("chain_pem") or "")
    return chain.encode(), entry["key_pem"].encode()


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
