"""The command line of an ansible-core tool (ansible-doc, ansible-playbook...) of the Python running the tests:
its script beside the interpreter in a venv, else the same tool as a module (ansible-test runs the tests with an
interpreter that has ansible-core on its path but no scripts beside it)."""

from __future__ import annotations

import os
import sys


def ansible_cli(tool):
    """['…/ansible-doc'] or [python, '-m', 'ansible.cli.doc'] for tool 'doc' (or 'playbook', 'galaxy', ...)."""
    script = os.path.join(os.path.dirname(sys.executable), "ansible-" + tool)
    if os.path.exists(script):
        return [script]
    return [sys.executable, "-m", "ansible.cli." + tool]
