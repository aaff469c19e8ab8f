"""The DNS record list's query: filters, match/tag_match, order and direction.

Shapes from cloudflare-python 5.9 `types/dns/record_list_params.py` (RecordListParams), which the SDK sends
with dotted keys (`name.exact=`, its Querystring nested_format="dots"):
- `name.*`, `content.*`: exact, contains, startswith, endswith; `comment.*` also present/absent;
  "filters are case-insensitive".
- `tag.*`: exact/contains/startswith/endswith take `<tag-name>:<tag-value>`, present/absent a tag name;
  `tag_match` (any/all) combines the tag filters, `match` (any/all, default all) the rest with them.
- `type`, `proxied`, `order` (type, name, content, ttl, proxied), `direction` (asc, desc).
The bare `name=`, `content=` (and `comment=`) are the older exact filters that ddclient, acme.sh and
lexicon still send; they are taken as `.exact`. Bracketed keys (`name[exact]`) are read like dotted ones.
"""

from __future__ import annotations

import re

from tests.lab.mock_cloudflare.dns_types import TYPES
from tests.lab.mock_cloudflare.errors import ApiError

TEXT_FIELDS = ("name", "content", "comment")
OPERATORS = ("exact", "contains", "startswith", "endswith")
ORDERS = ("type", "name", "content", "ttl", "proxied")


def _bad(message):
    # Cloudflare's code for a malformed list query is not documented; 1004 is the lab's choice.
    return ApiError(400, 1004, message)


def _text_test(operator, wanted):
    wanted = wanted.lower()
    return {"exact": lambda v: v == wanted, "contains": lambda v: wanted in v,
            "startswith": lambda v: v.startswith(wanted), "endswith": lambda v: v.endswith(wanted)}[operator]


def _tag_test(operator, wanted):
    tag_name, _sep, tag_value = wanted.partition(":")
    tag_name = tag_name.lower()
    if operator in ("present", "absent"):
        present = operator == "present"
        return lambda tags: (tag_name in tags) == present
    value_test = _text_test(operator, tag_value)
    return lambda tags: tag_name in tags and value_test(tags[tag_name])


def _tags(record):
    """{tag name: value} of a record's `name:value` tags, lowercased (tag filters are case-insensitive)."""
    out = {}
    for tag in record.get("tags") or []:
        name, _sep, value = tag.partition(":")
        out[name.lower()] = value.lower()
    return out


def parse(query):
    """(tests on records, tag tests, match, tag_match, order, direction) from the query string."""
    query = {re.sub(r"\[(\w+)\]", r".\1", key): value for key, value in query.items()}
    tests, tag_tests = [], []
    for key, value in query.items():
        field, _sep, operator = key.partition(".")
        if field in TEXT_FIELDS:
            operator = operator or "exact"
            if field == "comment" and operator in ("present", "absent"):
                present = operator == "present"
                tests.append(lambda r, p=present: bool(r.get("comment")) == p)
                continue
            if operator not in OPERATORS:
                raise _bad("%s: unknown filter operator '%s'" % (field, operator))
            check = _text_test(operator, value.rstrip(".") if field == "name" else value)
            tests.append(lambda r, f=field, c=check: c(str(r.get(f) or "").lower()))
        elif field == "tag" and operator:
            if operator not in OPERATORS + ("present", "absent"):
                raise _bad("tag: unknown filter operator '%s'" % operator)
            tag_tests.append(_tag_test(operator, value))
        elif key == "type":
            if value.upper() not in TYPES:
                raise _bad("type: '%s' is not a DNS record type" % value)
            tests.append(lambda r, t=value.upper(): r["type"] == t)
        elif key == "proxied":
            if value not in ("true", "false"):
                raise _bad("proxied: must be true or false")
            tests.append(lambda r, p=value == "true": bool(r.get("proxied")) == p)
    choices = {"match": ("all", "any"), "tag_match": ("all", "any"), "direction": ("asc", "desc"), "order": ORDERS}
    picked = {}
    for key, allowed in choices.items():
        picked[key] = query.get(key, allowed[0] if key != "order" else None)
        if picked[key] is not None and picked[key] not in allowed:
            raise _bad("%s: '%s' is not one of %s" % (key, picked[key], ", ".join(allowed)))
    return tests, tag_tests, picked


def apply(records, query):
    """The records the query selects, in its order (the lab's default: by name, then type, then id)."""
    tests, tag_tests, picked = parse(query)
    combine = all if picked["match"] == "all" else any
    tag_combine = all if picked["tag_match"] == "all" else any

    def selected(record):
        results = [test(record) for test in tests]
        if tag_tests:
            tags = _tags(record)
            results.append(tag_combine(test(tags) for test in tag_tests))
        return combine(results) if results else True

    chosen = [r for r in records if selected(r)]
    chosen.sort(key=lambda r: (r["name"], r["type"], r["id"]))
    if picked["order"]:
        chosen.sort(key=lambda r: (str(r.get(picked["order"])).lower() if picked["order"] != "ttl"
                                   else r.get("ttl", 1)), reverse=picked["direction"] == "desc")
    elif picked["direction"] == "desc":
        chosen.reverse()
    return chosen
