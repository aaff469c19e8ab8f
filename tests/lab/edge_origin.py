"""Put the lab's nginx tree behind the mock Cloudflare edge, as a real NAS is behind Cloudflare.

- The tree's default certificate becomes an Origin CA certificate for the zone and its wildcard, requested
  from the mock Cloudflare's Origin CA API with a fresh key (what DSM serves once the tls role has put the
  Origin CA certificate in; the lab's DSM mock does not write into the tree).
- The edge's origin map sends the router's WAN address, port 443, to the tree's listener (what the
  router's port forward does).

  python -m tests.lab.edge_origin LAB_DIR TREE_ROOT    (the lab started by `python -m tests.lab up LAB_DIR`)
"""

from __future__ import annotations

import json
import os
import signal
import ssl
import sys
import urllib.request

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509.oid import NameOID

from tests.lab import pki
from tests.lab.dsm_nginx import tree
from tests.lab.mock_cloudflare.seed import LAB_TOKEN, ZONE_NAME
from tests.lab.mock_router.igd import DEFAULT_CONFIG as ROUTER_DEFAULTS


def _call(info, url, payload):
    request = urllib.request.Request(
        url,
        data=json.dumps(payload).encode(),
        method="POST",
        headers={"Authorization": "Bearer " + LAB_TOKEN, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, context=ssl.create_default_context(cafile=info["ca_path"])) as reply:
        return json.load(reply)


def install_origin_certificate(cloudflare, root, hostnames=(ZONE_NAME, "*." + ZONE_NAME)):
    """Request an Origin CA certificate (RSA) and make it the tree's default certificate."""
    key = pki.rsa_key()
    csr = (
        x509.CertificateSigningRequestBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, hostnames[0])]))
        .sign(key, hashes.SHA256())
    )
    answer = _call(
        cloudflare,
        cloudflare["api_base_url"] + "/certificates",
        {
            "csr": csr.public_bytes(serialization.Encoding.PEM).decode(),
            "hostnames": list(hostnames),
            "request_type": "origin-rsa",
            "requested_validity": 5475,
        },
    )
    certs = os.path.join(root, "usr/syno/etc/certificate/system/default")
    with open(os.path.join(certs, "fullchain.pem"), "w", encoding="utf-8") as out:
        out.write(answer["result"]["certificate"])
    fd = os.open(os.path.join(certs, "privkey.pem"), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pki.pem(key))
    return answer["result"]


def map_origin(cloudflare, root, public_address=ROUTER_DEFAULTS["external_ip"], public_port=443, extra=None):
    """Send the edge's connections for public_address:public_port to the tree's listener."""
    with open(os.path.join(root, "lab.json"), encoding="utf-8") as handle:
        tree = json.load(handle)
    origins = dict(extra or {}, **{"%s:%d" % (public_address, public_port): "%s:%d" % (tree["address"], tree["port"])})
    url = "https://%s:%d/_lab/config" % (cloudflare["host"], cloudflare["port"])
    _call(cloudflare, url, {"edge_origins": origins})
    return origins


def stop(root):
    """Stop the tree's nginx, even when a test left its configuration broken (`nginx -s quit` parses it first)."""
    if tree.nginx(root, "-s", "quit").returncode != 0:
        try:
            with open(os.path.join(root, "run/nginx.pid"), encoding="utf-8") as handle:
                os.kill(int(handle.read().strip()), signal.SIGQUIT)
        except (OSError, ValueError):
            pass  # not running


def main(argv):
    lab_dir, root = argv
    with open(os.path.join(lab_dir, "lab.json"), encoding="utf-8") as handle:
        cloudflare = json.load(handle)["cloudflare"]
    install_origin_certificate(cloudflare, root)
    print(json.dumps(map_origin(cloudflare, root)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
