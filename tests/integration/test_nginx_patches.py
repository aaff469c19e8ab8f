"""nginx_patches against Debian's real nginx serving a DSM-shaped tree (tests/lab/dsm_nginx).

A real TLS client checks the result: without Cloudflare's origin-pull certificate the patched hosts refuse
(HTTP 400 from ssl_verify_client), with it they answer and report the visitor's address from CF-Connecting-IP.
The origin-pull CA and client certificate are made in the test.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import pytest

from tests.lab.dsm_nginx import tree

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = os.path.join(ROOT, "tests", "output", "collections")

tree.require_nginx()


class Nas:
    def __init__(self, root, port, client):
        self.root, self.port, self.client = root, port, client

    def get(self, host, with_client_cert, headers=None):
        return tree.probe(self.root, host, with_client_cert, headers)

    def digest(self):
        return tree.digest(self.root)

    def role(self, *args, **overrides):
        nginx_cmd = "nginx -p %s/ -c %s/etc/nginx/nginx.conf" % (self.root, self.root)
        variables = {
            "nginx_patches_root": self.root + "/",
            "nginx_patches_hostnames": ["photos.example.test"],
            "nginx_patches_client_ca": self.client["ca"],
            "nginx_patches_real_ip_from": ["127.0.0.0/8"],
            "nginx_patches_test_command": nginx_cmd + " -t",
            "nginx_patches_reload_command": nginx_cmd + " -s reload",
        }
        variables.update(overrides)
        env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1")
        return subprocess.run(
            [
                os.path.join(os.path.dirname(sys.executable), "ansible-playbook"),
                "tests/integration/playbooks/nginx_patches.yml",
                "-e",
                json.dumps(variables),
                *args,
            ],
            capture_output=True,
            text=True,
            cwd=ROOT,
            env=env,
            timeout=300,
            check=False,
        )

    def reload(self):
        """Signal a reload; nginx applies it asynchronously, so callers poll with wait_for."""
        assert tree.nginx(self.root, "-s", "reload").returncode == 0


@pytest.fixture
def nas(tmp_path):
    # issue 11: the role patches DSM 6's app.d/ file only; DSM 7 (the tree's default) uses sites-enabled/.
    root = tree.build(str(tmp_path / "nas"), layout="dsm6")
    client = {"ca": open(os.path.join(root, "test-client/origin-pull-ca.pem")).read()}
    started = tree.nginx(root)
    assert started.returncode == 0, started.stderr
    yield Nas(root, None, client)
    tree.nginx(root, "-s", "quit")


def wait_for(check, attempts=50):
    """Poll `check` for up to five seconds (nginx swaps workers after a reload)."""
    for _attempt in range(attempts):
        if check():
            return True
        time.sleep(0.1)
    return False


def test_patch_requires_the_origin_pull_certificate_and_restores_the_client_address(nas):
    assert nas.get("photos.example.test", False)[0] == 200
    run = nas.role()
    assert run.returncode == 0 and "changed=" in run.stdout and "changed=0" not in run.stdout, run.stdout[-2500:]
    assert wait_for(lambda: nas.get("photos.example.test", False)[0] == 400)
    status, body = nas.get("photos.example.test", True, {"CF-Connecting-IP": "198.51.100.23"})
    assert status == 200 and body == "photos client=198.51.100.23"
    # Hosts not listed are left alone.
    assert nas.get("media.example.test", False) == (200, "media client=127.0.0.1")

    again = nas.role()
    assert again.returncode == 0 and "changed=0" in again.stdout, again.stdout[-2500:]


def test_dsm_update_wipes_the_patch_and_the_boot_hook_restores_it(nas):
    assert nas.role().returncode == 0
    tree.regenerate(nas.root)  # what a DSM update does
    nas.reload()
    assert wait_for(lambda: nas.get("photos.example.test", False)[0] == 200), "the update removed the patch"
    hook = os.path.join(nas.root, "usr/local/etc/rc.d/homelab-nas-nginx.sh")
    booted = subprocess.run(["sh", hook, "start"], capture_output=True, text=True, timeout=60, check=False)
    assert booted.returncode == 0 and booted.stdout.strip() == "changed", booted.stderr
    assert wait_for(lambda: nas.get("photos.example.test", False)[0] == 400)
    assert nas.get("photos.example.test", True)[0] == 200


def test_check_mode_leaves_the_tree_byte_identical(nas):
    before = nas.digest()
    run = nas.role("--check", "--diff")
    assert run.returncode == 0, run.stdout[-2500:]
    assert nas.digest() == before
    assert not os.path.exists(os.path.join(nas.root, "usr/local/etc/homelab-nas"))


def test_broken_snippet_is_rolled_back_and_nginx_keeps_serving(nas):
    assert nas.role().returncode == 0
    before = nas.digest()
    broken = nas.role(nginx_patches_extra_directives=["ssl_verify_depth not-a-number;"])
    assert broken.returncode != 0
    assert "invalid value" in broken.stdout or "ssl_verify_depth" in broken.stdout, broken.stdout[-2500:]
    assert "the previous files are back" in broken.stdout
    assert nas.digest() == before
    # nginx still answers, with the previous (patched) configuration.
    assert nas.get("photos.example.test", False)[0] == 400
    assert nas.get("photos.example.test", True)[0] == 200
