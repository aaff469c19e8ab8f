"""Where the docs spell out Cloudflare's proxied ports, they are module_utils/cloudflare_ports.py's list: the code
keeps one list, and a copy in prose must not drift from it."""

from __future__ import annotations

import glob
import os
import re

import pytest

from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_ports import HTTPS_PORTS, PROXIED_PORTS

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
DOCS = sorted(
    glob.glob(os.path.join(ROOT, "plugins/modules/*.py"))
    + glob.glob(os.path.join(ROOT, "roles/*/meta/argument_specs.yml"))
    + glob.glob(os.path.join(ROOT, "roles/*/README.md"))
    + glob.glob(os.path.join(ROOT, "docs/*.md"))
    + [os.path.join(ROOT, "README.md")]
)


def port_lists():
    """(file, numbers) for every parenthesised list that names 2053, one of Cloudflare's HTTPS ports."""
    for path in DOCS:
        with open(path, encoding="utf-8") as handle:
            for group in re.findall(r"\(([^()]*\b2053\b[^()]*)\)", handle.read()):
                yield os.path.relpath(path, ROOT), {int(n) for n in re.findall(r"\b\d{2,5}\b", group)}


def test_the_docs_name_cloudflare_ports_somewhere():
    assert len(list(port_lists())) >= 4


@pytest.mark.parametrize("where,ports", list(port_lists()), ids=lambda v: v if isinstance(v, str) else "")
def test_a_port_list_in_the_docs_is_the_codes(where, ports):
    assert ports <= PROXIED_PORTS, (where, sorted(ports - PROXIED_PORTS))
    assert set(HTTPS_PORTS) - {443} <= ports, (where, sorted(set(HTTPS_PORTS) - {443} - ports))
