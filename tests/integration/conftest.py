"""Fixtures shared by the integration tests that run the shipped playbooks against the lab."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, "tests", "output", "collections")


@pytest.fixture
def site(dsm_lab, router_lab, cloudflare_lab, tmp_path):
    """Run site.yml with the lab inventory, pointed at this test session's mocks through a lab.json
    like the one `python -m tests.lab up` writes."""
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
