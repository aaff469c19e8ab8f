"""Every module's rendered documentation, as `ansible-doc --json` gives it (fragments merged)."""

from __future__ import annotations

import json
import os
import subprocess

from tests.utils.ansible_cli import ansible_cli, collections_path

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTIONS = collections_path()
MODULES = sorted(
    name[:-3]
    for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
    if name.endswith(".py") and not name.startswith("_")
)


def module_docs():
    """{module name: ansible-doc's entry (`doc`, `examples`, `return`, ...)} for every module, in one run."""
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1")
    run = subprocess.run(
        ansible_cli("doc") + ["--json"] + ["homelab.nas.%s" % name for name in MODULES],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    return {name.split(".")[-1]: entry for name, entry in json.loads(run.stdout).items()}
