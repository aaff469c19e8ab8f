"""Build, regenerate and serve the DSM-shaped nginx tree (see the package docstring)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

from tests.lab import pki

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")
ENTRIES = [("photos", "photos.example.test"), ("media", "media.example.test")]


def _write(path, data, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as out:
        out.write(data if isinstance(data, bytes) else data.encode())
    os.chmod(path, mode)


def build(root, port, address="127.0.0.1"):
    """The tree, DSM's default certificate for *.example.test, and the generated configuration."""
    root = os.path.abspath(root)
    for directory in ("run", "var/log/nginx", "var/lib/nginx", "usr/syno/share/nginx", "usr/local/etc/rc.d"):
        os.makedirs(os.path.join(root, directory), exist_ok=True)
    for name in os.listdir(TEMPLATES):
        shutil.copy(os.path.join(TEMPLATES, name), os.path.join(root, "usr/syno/share/nginx", name))
    test_pki = pki.TestPki()
    cert, key = test_pki.leaf("example.test")
    certs = os.path.join(root, "usr/syno/etc/certificate/system/default")
    _write(os.path.join(certs, "fullchain.pem"), pki.pem(cert) + pki.pem(test_pki.inter))
    _write(os.path.join(certs, "privkey.pem"), pki.pem(key), 0o600)
    _write(os.path.join(root, "server-ca.pem"), pki.pem(test_pki.root))
    _write(os.path.join(root, "lab.json"), json.dumps({"port": port, "address": address}))
    regenerate(root)
    return root


def regenerate(root):
    """Write /etc/nginx from the templates again, as DSM does on boot and on update."""
    root = os.path.abspath(root)
    with open(os.path.join(root, "lab.json"), encoding="utf-8") as handle:
        lab = json.load(handle)
    share = os.path.join(root, "usr/syno/share/nginx")
    with open(os.path.join(share, "nginx.conf.tmpl"), encoding="utf-8") as handle:
        main = handle.read().format(root=root, templates=share)
    with open(os.path.join(share, "server.ReverseProxy.conf.tmpl"), encoding="utf-8") as handle:
        server = handle.read()
    servers = "".join(server.format(address=lab["address"], port=lab["port"], hostname=host, description=name,
                                    uuid="%s-0000" % name) for name, host in ENTRIES)
    _write(os.path.join(root, "etc/nginx/nginx.conf"), main)
    _write(os.path.join(root, "etc/nginx/app.d/server.ReverseProxy.conf"), servers)


def nginx(root, *args):
    root = os.path.abspath(root)
    return subprocess.run(["nginx", "-p", root + "/", "-c", os.path.join(root, "etc/nginx/nginx.conf"), *args],
                          capture_output=True, text=True, timeout=30, check=False)


def main(argv):
    command, root = argv[0], argv[1]
    if command == "build":
        build(root, int(argv[2]))
        return 0
    if command == "regenerate":
        regenerate(root)
        return 0
    result = nginx(root, *({"start": [], "reload": ["-s", "reload"], "stop": ["-s", "quit"]}[command]))
    sys.stderr.write(result.stderr)
    return result.returncode


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
