"""Users' and tests' dependencies kept apart: requirements.txt leaves the user's ansible-core alone, and every
package the test venv installs is pinned in exactly one place (tests/constraints.txt)."""

from __future__ import annotations

import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NAME = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)")


def _entries(name):
    with open(os.path.join(ROOT, name)) as handle:
        lines = [line.split("#", 1)[0].strip() for line in handle]
    return [line for line in lines if line and not line.startswith("-")]


def _name(entry):
    return NAME.match(entry).group(1).lower().replace("_", "-")


def test_runtime_requirements_are_ranges_without_ansible_core():
    entries = _entries("requirements.txt")
    assert entries and not [e for e in entries if "==" in e], "ranges, not pins: the user's venv decides"
    assert "ansible-core" not in {_name(e) for e in entries} and "ansible" not in {_name(e) for e in entries}


def test_every_test_package_is_pinned_once_in_the_constraints():
    constraints = {_name(e): e for e in _entries("tests/constraints.txt")}
    assert all("==" in e for e in constraints.values())
    wanted = {_name(e) for e in _entries("requirements.txt") + _entries("requirements-test.txt")}
    assert sorted(wanted - set(constraints)) == []
    assert not [e for e in _entries("requirements-test.txt") if "==" in e], "pins belong in tests/constraints.txt"
