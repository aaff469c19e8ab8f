"""Role READMEs generated from meta/argument_specs.yml: the spec is the one place a role's variables are
described, so the README cannot drift from what the role validates. `make role-docs` writes them;
tests/unit/test_role_docs.py fails when a README differs from what this renders.

    python -m tests.utils.role_docs            # write roles/*/README.md
    python -m tests.utils.role_docs --check    # exit 1 naming the READMEs that are out of date
"""

from __future__ import annotations

import argparse
import os
import re
import sys

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
NAMESPACE = "homelab.nas"
HEADER = "<!-- Generated from meta/argument_specs.yml by `make role-docs`: edit the spec, not this file. -->"

# Ansible's documentation markup (the subset ansible-doc renders) to Markdown. L() and U() first: their
# text may itself hold other markup.
_MARKUP = [
    (re.compile(r"\bL\(([^)]+?),\s*([^)]+)\)"), r"[\1](\2)"),
    (re.compile(r"\bU\(([^)]+)\)"), r"<\1>"),
    (re.compile(r"\b[CVOEMP]\(([^)]+)\)"), r"`\1`"),
    (re.compile(r"\bRV\(([^)]+)\)"), r"`\1`"),
    (re.compile(r"\bI\(([^)]+)\)"), r"*\1*"),
    (re.compile(r"\bB\(([^)]+)\)"), r"**\1**"),
    (re.compile(r"HORIZONTALLINE"), "---"),
]


def markdown(text):
    for pattern, replacement in _MARKUP:
        text = pattern.sub(replacement, text)
    return text


def _paragraphs(value):
    if value is None:
        return []
    return [str(item) for item in value] if isinstance(value, list) else [str(value)]


def _inline(value):
    """A YAML value as it would be written in the spec, on one line (flow style for lists and dicts)."""
    if isinstance(value, str):
        return value
    text = yaml.safe_dump(value, default_flow_style=True, sort_keys=False, width=1 << 16).strip()
    # A bare scalar is dumped as a document of its own, with the end marker "..." after it.
    return text[:-3].strip() if text.endswith("\n...") else text


def _cell(text):
    return text.replace("|", "\\|").replace("\n", " ")


def _code(value):
    return "`%s`" % _inline(value)


def _type(spec):
    kind = spec.get("type", "str")
    return "%s of %s" % (kind, spec["elements"]) if spec.get("elements") else kind


def _rows(options, role_defaults, prefix=""):
    for name, spec in options.items():
        spec = spec or {}
        full = prefix + name
        if "default" in spec:
            default = _code(spec["default"])
        elif not prefix and name in role_defaults:
            # Not in the spec because it is a template (role defaults may refer to other variables).
            default = _code(role_defaults[name]) + " (`defaults/main.yml`)"
        else:
            default = ""
        text = " ".join(markdown(p) for p in _paragraphs(spec.get("description")))
        if spec.get("choices"):
            text += " Choices: %s." % ", ".join(_code(c) for c in spec["choices"])
        if spec.get("aliases"):
            text += " Aliases: %s." % ", ".join("`%s`" % a for a in spec["aliases"])
        required = "yes" if spec.get("required") else "no"
        yield "| `%s` | %s | %s | %s | %s |" % (full, _type(spec), _cell(default), required, _cell(text.strip()))
        if spec.get("options"):
            sub_prefix = full + ("[]." if spec.get("type") == "list" else ".")
            yield from _rows(spec["options"], role_defaults, sub_prefix)


def render(role, argument_specs, role_defaults=None):
    """The README of `role` from its parsed argument_specs.yml (and defaults/main.yml, for templated defaults)."""
    role_defaults = role_defaults or {}
    lines = [HEADER, "# %s.%s" % (NAMESPACE, role), ""]
    entry_points = argument_specs["argument_specs"]
    for entry, spec in entry_points.items():
        if len(entry_points) > 1 or entry != "main":
            lines += ["## Entry point `%s`" % entry, ""]
        lines += [markdown(str(spec.get("short_description", "")).strip()) + ".", ""]
        lines += ["- " + markdown(p) for p in _paragraphs(spec.get("description"))]
        lines += ["", "%s Variables" % ("###" if entry != "main" or len(entry_points) > 1 else "##"), ""]
        options = spec.get("options") or {}
        if options:
            lines += ["| variable | type | default | required | description |", "|---|---|---|---|---|"]
            lines += list(_rows(options, role_defaults))
        else:
            lines.append("None.")
        lines.append("")
    return "\n".join(lines)


def _load(path):
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def roles(root=ROOT):
    base = os.path.join(root, "roles")
    return sorted(
        name for name in os.listdir(base) if os.path.exists(os.path.join(base, name, "meta", "argument_specs.yml"))
    )


def render_role(role, root=ROOT):
    base = os.path.join(root, "roles", role)
    return render(
        role, _load(os.path.join(base, "meta", "argument_specs.yml")), _load(os.path.join(base, "defaults", "main.yml"))
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="report out-of-date READMEs, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for role in roles():
        path = os.path.join(ROOT, "roles", role, "README.md")
        text = render_role(role)
        current = open(path, encoding="utf-8").read() if os.path.exists(path) else None
        if current == text:
            continue
        stale.append(path)
        if not args.check:
            with open(path, "w", encoding="utf-8") as handle:
                handle.write(text)
    for path in stale:
        print(("out of date: %s" if args.check else "wrote %s") % os.path.relpath(path, ROOT))
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
