"""DSM rewrites its reverse-proxy nginx file on every reverse-proxy edit; the mock does it to the
DSM-shaped tree (tests/lab/dsm_nginx) its lab config names, and reloads that nginx when it runs.

Sources: a live DSM 7 access-log project ("DSM auto-regenerates this file when you edit reverse proxy
entries", /etc/nginx/sites-enabled/server.ReverseProxy.conf) and DSM 7 guides that say to edit entries
only in the UI because DSM rewrites the file from ReverseProxy.json; DSM 6 used app.d/ (Synology's own
nginx-conf-generator.sh). See docs/lab-fidelity.md.
"""

from __future__ import annotations

from tests.lab.dsm_nginx import tree

API = "SYNO.Core.AppPortal.ReverseProxy"


def entries(data):
    """(description, hostname) of each entry with a hostname, in a stable order."""
    found = [
        (e.get("description") or e["UUID"], e["frontend"].get("fqdn"))
        for e in data["reverse_proxy"].values()
        if e.get("frontend", {}).get("fqdn")
    ]
    return sorted(found)


def regenerate(dsm):
    """Render the tree from the mock's entries and reload its nginx; no tree configured, nothing."""
    root = dsm.config.get("nginx_root")
    if not root:
        return
    with dsm.state.lock:
        current = entries(dsm.state.data)
    tree.regenerate(root, entries=current, layout=dsm.config.get("nginx_layout") or tree.DEFAULT_LAYOUT)
    tree.reload_if_running(root)  # a failed reload keeps the old workers, as nginx does on DSM
