"""docs/lab-fidelity.md has a row for everything the mocks serve, and no row for what they do not."""

from __future__ import annotations

import os
import re

import pytest

from tests.lab.mock_cloudflare.app import MockCloudflare
from tests.lab.mock_dsm.app import MockDsm
from tests.lab.mock_router.igd import MockIgd

DOC = os.path.join(os.path.dirname(__file__), "..", "..", "..", "docs", "lab-fidelity.md")


def _rows():
    """{section: {(api, method): row}} from the document's tables."""
    sections, current = {}, None
    with open(DOC, encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("## "):
                current = sections.setdefault(line[3:].strip(), {})
            elif current is not None and line.startswith("|") and not line.startswith("|---"):
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if cells[0] == "API" or len(cells) < 5:
                    continue
                api, method = (c.strip("`") for c in cells[:2])
                assert all(cells[2:5]), "every row names behaviour, source and confidence: %s" % line
                current[(api, method)] = cells
    return sections


ROWS = _rows()


def _served_dsm(tmp_path):
    dsm = MockDsm(str(tmp_path / "state.json"))
    return {(name, method) for name, api in dsm.apis.items() for method in api.methods}


# The mock's route parameters, by the names Cloudflare's API reference gives them.
CLOUDFLARE_PARAMETERS = {
    "zone": "zone_id",
    "setting": "setting_id",
    "record": "dns_record_id",
    "cert": "certificate_id",
    "account": "account_id",
    "tunnel": "tunnel_id",
}


def route_name(verb, pattern):
    """`PATCH /zones/(?P<zone>...)/settings` -> `PATCH /zones/{zone_id}/settings`."""
    path = re.sub(r"\(\?P<(\w+)>[^)]*\)", lambda m: "{%s}" % CLOUDFLARE_PARAMETERS[m.group(1)], pattern)
    path = path.replace("/?", "").replace("\\", "")
    return "%s %s" % (verb, path)


def _served_cloudflare(tmp_path):
    app = MockCloudflare(str(tmp_path))
    return {(route_name(verb, pattern), "-") for verb, pattern, _handler, _writes in app.routes}


def _served_router(tmp_path):
    return set(MockIgd(str(tmp_path / "state.json")).served())


@pytest.mark.parametrize(
    "section,served", [("DSM", _served_dsm), ("Cloudflare", _served_cloudflare), ("Router", _served_router)]
)
def test_every_served_api_has_a_row_and_every_row_is_served(tmp_path, section, served):
    served = served(tmp_path)
    documented = {key for key in ROWS[section] if not key[0].startswith("behaviour:")}
    assert sorted(served - documented) == [], "served without a row in docs/lab-fidelity.md"
    assert sorted(documented - served) == [], "rows for something the mock does not serve"


def test_confidence_is_one_of_the_defined_levels():
    levels = ("live-verified", "two sources agree", "inferred", "lab's own choice")
    for section, rows in ROWS.items():
        for key, cells in rows.items():
            assert any(level in cells[4] for level in levels), (section, key, cells[4])
