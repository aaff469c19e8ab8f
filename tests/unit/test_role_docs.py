"""Role READMEs are what tests/utils/role_docs.py makes of meta/argument_specs.yml, and ansible-doc renders
every role's spec."""

from __future__ import annotations

import json
import os
import subprocess

import pytest
import yaml

from tests.utils import role_docs
from tests.utils.ansible_cli import ansible_cli, collections_path

ROOT = role_docs.ROOT
ROLES = role_docs.roles()
COLLECTIONS = collections_path()


def _spec(role):
    with open(os.path.join(ROOT, "roles", role, "meta", "argument_specs.yml"), encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def test_every_role_has_a_spec():
    assert sorted(os.listdir(os.path.join(ROOT, "roles"))) == ROLES


@pytest.mark.parametrize("role", ROLES)
def test_readme_is_generated_from_the_spec(role):
    with open(os.path.join(ROOT, "roles", role, "README.md"), encoding="utf-8") as handle:
        current = handle.read()
    assert current == role_docs.render_role(role), "roles/%s/README.md is out of date: run `make role-docs`" % role


@pytest.mark.parametrize("role", ROLES)
def test_spec_defaults_are_the_role_defaults(role):
    """Where both the spec and defaults/main.yml give a default, they agree (the README shows the spec's)."""
    options = _spec(role)["argument_specs"]["main"]["options"]
    with open(os.path.join(ROOT, "roles", role, "defaults", "main.yml"), encoding="utf-8") as handle:
        defaults = yaml.safe_load(handle) or {}
    differ = {
        name: (spec["default"], defaults[name])
        for name, spec in options.items()
        if "default" in spec and name in defaults and spec["default"] != defaults[name]
    }
    assert not differ
    # And every default the role sets is a documented variable.
    assert not set(defaults) - set(options)


SPEC = {
    "argument_specs": {
        "main": {
            "short_description": "Do a thing",
            "description": [
                "Needs C(module_defaults) for M(homelab.nas.dsm_info).",
                "See L(the docs,https://example.test).",
            ],
            "options": {
                "items": {
                    "description": "What to make.",
                    "type": "list",
                    "elements": "dict",
                    "required": True,
                    "options": {
                        "mode": {"description": "V(a) or V(b).", "type": "str", "choices": ["a", "b"], "default": "a"}
                    },
                },
                "settings": {
                    "description": ["Two", "lines | one cell."],
                    "type": "dict",
                    "default": {"on": True, "level": "1.2"},
                },
                "path": {"description": "Templated in the defaults.", "type": "path"},
            },
        }
    }
}


def test_render_lists_suboptions_defaults_and_markup():
    text = role_docs.render("demo", SPEC, {"path": "{{ root }}/x"})
    lines = text.splitlines()
    assert lines[0] == role_docs.HEADER and lines[1] == "# homelab.nas.demo" and lines[3] == "Do a thing."
    assert "- Needs `module_defaults` for `homelab.nas.dsm_info`." in lines
    assert "- See [the docs](https://example.test)." in lines
    assert "| `items` | list of dict |  | yes | What to make. |" in lines
    assert "| `items[].mode` | str | `a` | no | `a` or `b`. Choices: `a`, `b`. |" in lines
    # Values as YAML writes them (not Python's repr); a pipe cannot break the table.
    assert "| `settings` | dict | `{'on': true, level: '1.2'}` | no | Two lines \\| one cell. |" in lines
    assert "| `path` | path | `{{ root }}/x` (`defaults/main.yml`) | no | Templated in the defaults. |" in lines


def _ansible_doc(role):
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=COLLECTIONS, ANSIBLE_NOCOLOR="1")
    return subprocess.run(
        ansible_cli("doc") + ["-t", "role", "--json", "homelab.nas.%s" % role],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("role", ROLES)
def test_ansible_doc_renders_the_role(role):
    run = _ansible_doc(role)
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)["homelab.nas.%s" % role]["entry_points"]["main"]
    spec = _spec(role)["argument_specs"]["main"]
    assert doc["short_description"] == spec["short_description"]
    assert sorted(doc["options"]) == sorted(spec["options"])
