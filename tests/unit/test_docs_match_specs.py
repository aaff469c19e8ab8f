"""Every module's documented options (doc fragments merged) match the argument spec the module really builds.

ansible-test's validate-modules covers part of this, but only inside a full sanity run; this runs with the unit
tests and adds what it does not check: every secret-looking option is no_log (with O(otp) too), an environment
fallback is the one the docs name, and check mode is supported exactly when the docs say so.

The docs come from ansible-doc (Ansible's own loader, fragments merged); the spec from importing the module and
stopping AnsibleModule's constructor, so no module code past building its spec runs.
"""

from __future__ import annotations

import importlib
import os
import re

import pytest
from ansible.module_utils import basic

from tests.utils.module_docs import module_docs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODULES = sorted(
    name[:-3]
    for name in os.listdir(os.path.join(ROOT, "plugins", "modules"))
    if name.endswith(".py") and not name.startswith("_")
)

SECRET_WORDS = ("password", "token", "secret", "key", "otp")
# Options whose names look secret but whose values are not, each with the reason. Booleans and options with
# documented choices are never secrets and need no entry.
NOT_SECRET = {
    ("acme_certificate", "account_key_path"): "the path of the account key file, not the key",
    ("acme_certificate", "private_key_path"): "the path of the key file, not the key",
    ("cloudflare_origin_certificate", "private_key_path"): "the path of the key file, not the key",
    ("cloudflare_tunnel", "token_path"): "the path of the connector token file, not the token",
    ("tls_probe_info", "client_key"): "the path of the client key file, not the key",
}
ENV_DOC = re.compile(r"the value of the E\(([A-Z0-9_]+)\) environment variable")


class _SpecCaught(Exception):
    pass


@pytest.fixture(scope="module")
def docs():
    return {name: entry["doc"] for name, entry in module_docs().items()}


def module_kwargs(name, monkeypatch):
    """The keyword arguments the module passes to AnsibleModule (argument_spec, supports_check_mode...)."""
    seen = {}

    def catch(self, *args, **kwargs):
        seen.update(kwargs)
        raise _SpecCaught()

    monkeypatch.setattr(basic.AnsibleModule, "__init__", catch)
    module = importlib.import_module("ansible_collections.homelab.nas.plugins.modules.%s" % name)
    with pytest.raises(_SpecCaught):
        module.main()
    return seen


def _norm_choices(choices):
    return None if choices is None else sorted(choices, key=repr)


def _attrs(option):
    """The comparable attributes of one option, from the docs' or the spec's shape (defaults filled in)."""
    return {
        "type": option.get("type", "str"),
        "elements": option.get("elements"),
        "default": option.get("default"),
        "required": bool(option.get("required", False)),
        "choices": _norm_choices(option.get("choices")),
        "aliases": sorted(option.get("aliases") or []),
    }


def compare_options(documented, spec, prefix=""):
    """Differences between documented options and an argument spec, as readable lines."""
    problems = []
    for name in sorted(set(documented) - set(spec)):
        problems.append("%s%s: documented, not in the argument spec" % (prefix, name))
    for name in sorted(set(spec) - set(documented)):
        problems.append("%s%s: in the argument spec, not documented" % (prefix, name))
    for name in sorted(set(documented) & set(spec)):
        doc_attrs, spec_attrs = _attrs(documented[name]), _attrs(spec[name])
        for attr in doc_attrs:
            if doc_attrs[attr] != spec_attrs[attr]:
                problems.append(
                    "%s%s: %s is %r in the docs, %r in the spec"
                    % (prefix, name, attr, doc_attrs[attr], spec_attrs[attr])
                )
        sub_doc, sub_spec = documented[name].get("suboptions") or {}, spec[name].get("options") or {}
        if sub_doc or sub_spec:
            problems += compare_options(sub_doc, sub_spec, "%s%s." % (prefix, name))
    return problems


def unlogged_secrets(module, spec, prefix=""):
    problems = []
    for name, option in spec.items():
        looks_secret = any(word in name for word in SECRET_WORDS)
        harmless = option.get("type") == "bool" or option.get("choices") or (module, prefix + name) in NOT_SECRET
        if looks_secret and not harmless and not option.get("no_log"):
            problems.append("%s%s: looks like a secret but is not no_log" % (prefix, name))
        problems += unlogged_secrets(module, option.get("options") or {}, "%s%s." % (prefix, name))
    return problems


def env_mismatches(documented, spec):
    problems = []
    for name in sorted(set(documented) & set(spec)):
        description = documented[name].get("description") or []
        text = " ".join(description) if isinstance(description, list) else description
        fallback = spec[name].get("fallback")
        in_spec = sorted(fallback[1]) if fallback and fallback[0] is basic.env_fallback else []
        in_docs = sorted(ENV_DOC.findall(text))
        if in_spec != in_docs:
            problems.append("%s: environment fallback %s in the spec, %s in the docs" % (name, in_spec, in_docs))
    return problems


@pytest.mark.parametrize("name", MODULES)
def test_documented_options_are_the_argument_spec(name, docs, monkeypatch):
    spec = module_kwargs(name, monkeypatch)["argument_spec"]
    problems = compare_options(docs[name].get("options") or {}, spec)
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", MODULES)
def test_secret_options_are_no_log(name, monkeypatch):
    problems = unlogged_secrets(name, module_kwargs(name, monkeypatch)["argument_spec"])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", MODULES)
def test_environment_fallbacks_are_documented(name, docs, monkeypatch):
    problems = env_mismatches(docs[name].get("options") or {}, module_kwargs(name, monkeypatch)["argument_spec"])
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("name", MODULES)
def test_check_mode_support_is_as_documented(name, docs, monkeypatch):
    documented = docs[name].get("attributes", {}).get("check_mode", {}).get("support")
    assert documented in ("full", "partial", "none"), "attributes.check_mode.support is not documented"
    supports = bool(module_kwargs(name, monkeypatch).get("supports_check_mode"))
    assert supports == (documented != "none")


# The comparisons themselves, on made-up specs: each kind of drift is caught.


def test_compare_catches_each_kind_of_drift():
    documented = {
        "a": {"type": "int", "default": 1},
        "b": {"choices": ["x", "y"]},
        "gone": {},
        "items": {"type": "list", "elements": "dict", "suboptions": {"port": {"type": "int", "required": True}}},
    }
    spec = {
        "a": {"type": "int", "default": 2},
        "b": {"choices": ["y", "x"]},
        "new": {},
        "items": {"type": "list", "elements": "dict", "options": {"port": {"type": "str"}}},
    }
    assert compare_options(documented, spec) == [
        "gone: documented, not in the argument spec",
        "new: in the argument spec, not documented",
        "a: default is 1 in the docs, 2 in the spec",
        "items.port: type is 'int' in the docs, 'str' in the spec",
        "items.port: required is True in the docs, False in the spec",
    ]


def test_secret_and_env_checks_catch_drift():
    spec = {
        "api_token": {},
        "use_key": {"type": "bool"},
        "nested": {"options": {"otp": {"no_log": False}}},
        "host": {"fallback": (basic.env_fallback, ["X_HOST"])},
    }
    assert unlogged_secrets("m", spec) == [
        "api_token: looks like a secret but is not no_log",
        "nested.otp: looks like a secret but is not no_log",
    ]
    documented = {"host": {"description": ["If not set, the value of the E(Y_HOST) environment variable is used."]}}
    assert env_mismatches(documented, spec) == [
        "host: environment fallback ['X_HOST'] in the spec, ['Y_HOST'] in the docs"
    ]
