"""The command line of an ansible-core tool (ansible-doc, ansible-playbook...) for the tests: the script beside the
interpreter running them (a venv), else the one on PATH (ansible-test runs unit tests with an interpreter that
has no scripts beside it and, for module tests, no controller code on its path, and puts its own ansible-* on
PATH), else the tool as a module of this interpreter."""

from __future__ import annotations

import os
import shutil
import sys


def ansible_cli(tool):
    """['…/ansible-doc'] or [python, '-m', 'ansible.cli.doc'] for tool 'doc' (or 'playbook', 'galaxy', ...)."""
    script = os.path.join(os.path.dirname(sys.executable), "ansible-" + tool)
    if os.path.exists(script):
        return [script]
    on_path = shutil.which("ansible-" + tool)
    if on_path:
        return [on_path]
    return [sys.executable, "-m", "ansible.cli." + tool]
