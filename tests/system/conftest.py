"""Fixtures shared by the integration tests that run whole playbooks against the lab."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from tests.lab import edge_origin
from tests.lab.dsm_nginx import tree

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, "tests", "output", "collections")


@pytest.fixture
def lab_origin(tmp_path, cloudflare_lab):
    """The NAS's nginx for the edge: the DSM-shaped tree in LAB_DIR/nginx (where the lab inventory looks),
    serving an Origin CA certificate, the router's WAN address on 443 mapped to it (tests/lab/edge_origin.py)."""
    tree.require_nginx()
    root = tree.build(str(tmp_path / "nginx"))
    edge_origin.install_origin_certificate(cloudflare_lab.info, root)
    started = tree.nginx(root)
    assert started.returncode == 0, started.stderr
    edge_origin.map_origin(cloudflare_lab.info, root)
    yield root
    edge_origin.stop(root)


@pytest.fixture
def site(dsm_lab, router_lab, cloudflare_lab, lab_origin, tmp_path):
    """Run site.yml with the lab inventory, pointed at this test session's mocks through a lab.json
    like the one `python -m tests.lab up` writes, with the nginx tree behind the edge for the verify role.
    The mock DSM runs its Task Scheduler's scripts in that tree and rewrites it on reverse-proxy edits, as
    tests/demo.sh has it do."""
    dsm_lab.configure(task_root=lab_origin, nginx_root=lab_origin)
    with open(tmp_path / "lab.json", "w", encoding="utf-8") as out:
        json.dump({"dsm": dsm_lab.info, "router": router_lab.info, "cloudflare": cloudflare_lab.info}, out)

    def _run(*extra_args, playbook="playbooks/site.yml", **overrides):
        variables = {
            "lab_dir": str(tmp_path),
            "hardening_lan_networks": ["127.0.0.0/8"],
            "hardening_lan_ports": [str(dsm_lab.https_port)],
        }
        variables.update(overrides)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1")
        return subprocess.run(
            [
                os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                "-i",
                "playbooks/inventory/lab",
                playbook,
                "-e",
                json.dumps(variables),
                *extra_args,
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=600,
            check=False,
        )

    return _run
