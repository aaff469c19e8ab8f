"""The command line of an ansible-core tool (ansible-doc, ansible-playbook...) for the tests: the script beside the
interpreter running them (a venv), else the one on PATH (ansible-test runs unit tests with an interpreter that
has no scripts beside it and, for module tests, no controller code on its path, and puts its own ansible-* on
PATH), else the tool as a module of this interpreter."""

from __future__ import annotations

import os
import shutil
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def collections_path():
    """Where ansible-doc and ansible-playbook find this collection: the tree that holds the checkout when it sits at
    ansible_collections/homelab/nas (as ansible-test has it: a symlink into that tree is not followed), else the
    symlink tree that the root conftest.py makes in tests/output/collections."""
    parts = os.path.abspath(ROOT).split(os.sep)
    if parts[-3:-2] == ["ansible_collections"] and parts[-2:] == ["homelab", "nas"]:
        return os.sep.join(parts[:-3])
    return os.path.join(ROOT, "tests", "output", "collections")


def ansible_cli(tool):
    """['…/ansible-doc'] or [python, '-m', 'ansible.cli.doc'] for tool 'doc' (or 'playbook', 'galaxy', ...)."""
    script = os.path.join(os.path.dirname(sys.executable), "ansible-" + tool)
    if os.path.exists(script):
        return [script]
    on_path = shutil.which("ansible-" + tool)
    if on_path:
        return [on_path]
    return [sys.executable, "-m", "ansible.cli." + tool]
