"""docs/real-nas.md followed literally, against the lab: its commands are read from the document's ```sh blocks
and run as written from a copy of the checkout, on an inventory made the way the document says (the example copied
to inventory/mine and filled in, the secrets in an Ansible Vault file, DSM's certificate pinned by the fingerprint
the document's openssl command reads).

What differs from a user's run, and why:
- `--ask-vault-pass` becomes `--vault-password-file` (no terminal here), and the code in `-e otp=123456` is the lab
  account's current TOTP code;
- the NAS's address in the openssl command is the lab DSM's;
- the lab's own connection settings (its Cloudflare API and CA, its edge, its nginx tree) sit in a second vars
  file next to the filled-in nas.yml, as in playbooks/inventory/lab; DSM's CA is not among them, so the first
  contact relies on the pinned fingerprint alone.
Nothing points Ansible at the collection but the checkout's ansible.cfg (the environment's
ANSIBLE_COLLECTIONS_PATH is removed), and the collection is installed by the document's `make collection`."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys

import pyotp
import yaml

from tests.lab.mock_cloudflare.seed import ZONE_ID
from tests.lab.mock_dsm.seed import LAB_PASSWORD, OTP_SECRET

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOC = os.path.join(ROOT, "docs", "real-nas.md")
BIN = os.path.dirname(sys.executable)
LAB_VARS = os.path.join(ROOT, "playbooks", "inventory", "lab", "group_vars", "all")
LAB_TOKEN = "lab-cloudflare-token-0123456789abcdefghij"
# The lab inventory's settings a user of a real NAS has no use for; the secrets among them go to the vault instead,
# and DSM's CA stays out (the document's first contact pins the certificate).
NOT_FROM_THE_LAB = {"dsm_ca_path", "dsm_username", "dsm_password", "cloudflare_api_token"}


def documented_commands():
    """The shell commands of the document's ```sh blocks, in order, each as one line."""
    with open(DOC, encoding="utf-8") as handle:
        blocks = re.findall(r"```sh\n(.*?)```", handle.read(), re.S)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def run(command, cwd, env, timeout=600):
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


def copy_checkout(dest):
    """The checkout's files as a clone has them (tracked and not ignored), with the test session's venv."""
    listed = subprocess.run(
        ["git", "ls-files", "-co", "--exclude-standard", "-z"], cwd=ROOT, capture_output=True, check=True
    ).stdout
    for name in filter(None, listed.decode().split("\0")):
        source = os.path.join(ROOT, name)
        if os.path.isfile(source):
            os.makedirs(os.path.dirname(os.path.join(dest, name)), exist_ok=True)
            shutil.copy2(source, os.path.join(dest, name))
    # The document's step 1 makes the venv; the test session has one already (its .installed stamp is newer than
    # the copied requirements, so `make collection` does not make another).
    os.symlink(os.path.dirname(BIN), os.path.join(dest, ".venv"))


def fill_in_inventory(checkout, lab_dir, dsm_lab, fingerprint):
    """Step 5: playbooks/inventory/example copied to playbooks/inventory/mine, nas.yml's values set for the lab,
    the secrets in vault.yml (encrypted), the lab's connection settings beside them."""
    example = os.path.join(checkout, "playbooks", "inventory", "example")
    mine = os.path.join(checkout, "playbooks", "inventory", "mine")
    shutil.copytree(example, mine)
    group_vars = os.path.join(mine, "group_vars", "all")
    with open(os.path.join(group_vars, "nas.yml"), encoding="utf-8") as handle:
        nas = yaml.safe_load(handle)
    with open(
        os.path.join(ROOT, "playbooks", "inventory", "lab", "group_vars", "all", "nas.yml"), encoding="utf-8"
    ) as h:
        lab_nas = yaml.safe_load(h)
    nas.update(
        dsm_host=dsm_lab.host,
        dsm_port=dsm_lab.https_port,
        dsm_username="otp-admin",  # the lab's administrator with 2-step verification
        dsm_tls_fingerprints=[fingerprint],
        nas_zone=lab_nas["nas_zone"],
        nas_lan_address=lab_nas["nas_lan_address"],
        nas_services=lab_nas["nas_services"],
        hardening_lan_networks=["127.0.0.0/8"],
        hardening_lan_ports=[str(dsm_lab.https_port)],
    )
    with open(os.path.join(group_vars, "nas.yml"), "w", encoding="utf-8") as out:
        yaml.safe_dump(nas, out, sort_keys=False)
    with open(
        os.path.join(ROOT, "playbooks", "inventory", "lab", "group_vars", "all", "lab.yml"), encoding="utf-8"
    ) as h:
        lab_vars = {
            k: v
            for k, v in yaml.safe_load(h).items()
            if k not in NOT_FROM_THE_LAB and not k.startswith("exposure_ddns")
        }
    lab_vars.update(lab_dir=lab_dir, tls_origin_ca_root_url=lab_nas["tls_origin_ca_root_url"])
    with open(os.path.join(group_vars, "lab.yml"), "w", encoding="utf-8") as out:
        yaml.safe_dump(lab_vars, out, sort_keys=False)
    with open(os.path.join(group_vars, "vault.yml.example"), encoding="utf-8") as handle:
        vault = yaml.safe_load(handle)
    vault.update(
        vault_dsm_password=LAB_PASSWORD, vault_cloudflare_api_token="lab-cloudflare-token-0123456789abcdefghij"
    )
    with open(os.path.join(group_vars, "vault.yml"), "w", encoding="utf-8") as out:
        yaml.safe_dump(vault, out)
    return os.path.join(group_vars, "vault.yml")


def test_the_real_nas_document_followed_literally(dsm_lab, router_lab, cloudflare_lab, lab_origin, tmp_path):
    commands = documented_commands()
    playbooks = [c for c in commands if c.startswith("ansible-playbook ")]
    fingerprint_command = next(c for c in commands if c.startswith("openssl s_client"))
    assert [c.split()[3] for c in playbooks] == ["playbooks/site.yml", "playbooks/site.yml", "playbooks/dsm_login.yml"]

    # The lab as the site fixture has it: lab.json and the nginx tree (lab_origin, in tmp_path/nginx) in tmp_path.
    lab_dir = str(tmp_path)
    dsm_lab.configure(task_root=lab_origin, nginx_root=lab_origin)
    with open(os.path.join(lab_dir, "lab.json"), "w", encoding="utf-8") as out:
        json.dump({"dsm": dsm_lab.info, "router": router_lab.info, "cloudflare": cloudflare_lab.info}, out)
    checkout = str(tmp_path / "checkout")
    copy_checkout(checkout)
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANSIBLE_")}
    env.update(PATH=BIN + os.pathsep + env["PATH"], ANSIBLE_NOCOLOR="1", HOME=str(tmp_path / "home"))

    # Step 1: make collection (into the checkout's build/collections, where its ansible.cfg points).
    made = run(["make", "collection"], checkout, env)
    assert made.returncode == 0, made.stdout[-2000:] + made.stderr[-2000:]

    # Step 4: the fingerprint DSM presents, read as the document reads it.
    address = "%s:%d" % (dsm_lab.host, dsm_lab.https_port)
    read = run(["bash", "-c", fingerprint_command.replace("192.168.1.10:5001", address)], checkout, env)
    found = re.search(r"Fingerprint=([0-9A-F:]{95})", read.stdout)
    assert read.returncode == 0 and found, read.stdout + read.stderr

    # Step 5: the inventory and the vault.
    vault = fill_in_inventory(checkout, lab_dir, dsm_lab, found.group(1))
    password_file = tmp_path / "vault-pass"
    password_file.write_text("lab vault password\n")
    encrypted = run(
        [os.path.join(BIN, "ansible-vault"), "encrypt", "--vault-password-file", str(password_file), vault],
        checkout,
        env,
    )
    assert encrypted.returncode == 0, encrypted.stderr
    with open(vault, encoding="utf-8") as handle:
        sealed = handle.read()
    assert sealed.startswith("$ANSIBLE_VAULT;") and LAB_PASSWORD not in sealed

    def documented(command, **replace):
        words = shlex.split(command)
        words = ["--vault-password-file=%s" % password_file if w == "--ask-vault-pass" else w for w in words]
        words = [replace.get(w, w) for w in words]
        return run([os.path.join(BIN, words[0])] + words[1:], checkout, env)

    def state():
        return dsm_lab.state(), router_lab.state()["mappings"], cloudflare_lab.state()["dns_records"]

    # 2-step verification (step 2 points there): the one-time login with a code.
    login = documented(playbooks[2], **{"otp=123456": "otp=" + pyotp.TOTP(OTP_SECRET).now()})
    assert login.returncode == 0, login.stdout[-3000:]
    assert [t["name"] for t in dsm_lab.state()["users"]["otp-admin"]["device_tokens"]] == ["homelab.nas"]

    # Step 6: look first (nothing changes), then apply.
    before = state()
    look = documented(playbooks[0])
    assert look.returncode == 0, look.stdout[-3000:]
    after = state()
    assert {k: v for k, v in after[0].items() if k != "active_sessions"} == {
        k: v for k, v in before[0].items() if k != "active_sessions"
    }
    assert after[1:] == before[1:]
    apply = documented(playbooks[1])
    assert apply.returncode == 0, apply.stdout[-3000:]
    for output in (login, look, apply):
        assert "Found both group and host with same name" not in output.stdout + output.stderr
    assert cloudflare_lab.state()["settings"][ZONE_ID]["ssl"]["value"] == "strict"
    assert dsm_lab.state()["security"]["otp_enforce_option"] == "admin"  # the default hardening_two_factor
    # The Origin key went to secrets/ beside the playbooks: a directory only its owner reads, which git ignores.
    secrets = os.path.join(checkout, "secrets")
    assert stat.S_IMODE(os.stat(secrets).st_mode) == 0o700
    assert stat.S_IMODE(os.stat(os.path.join(secrets, "origin.key")).st_mode) == 0o600
    ignored = subprocess.run(["git", "check-ignore", "-q", "secrets/origin.key"], cwd=ROOT, check=False)
    assert ignored.returncode == 0
