"""keyed_cache: one JSON file per key, private, replaced whole; what cannot be read is no entry."""

from __future__ import annotations

import os
import stat

from ansible_collections.homelab.nas.plugins.module_utils.keyed_cache import KeyedCache


def test_put_get_and_drop_in_private_files(tmp_path):
    cache = KeyedCache(str(tmp_path / "cache"), ".thing.json")
    assert cache.get("a|b") is None
    cache.put("a|b", {"id": 7})
    assert cache.get("a|b") == {"id": 7} and cache.get("a|c") is None
    (entry,) = (tmp_path / "cache").iterdir()
    assert entry.name.endswith(".thing.json") and "a|b" not in entry.name and "a|b" not in entry.read_text()
    assert stat.S_IMODE(os.stat(tmp_path / "cache").st_mode) == 0o700 and stat.S_IMODE(entry.stat().st_mode) == 0o600
    cache.put("a|b", None)
    assert cache.get("a|b") is None and list((tmp_path / "cache").iterdir()) == []
    cache.put("a|b", None)  # dropping what is not there is no error


def test_kinds_do_not_share_entries(tmp_path):
    KeyedCache(str(tmp_path), ".one.json").put("key", {"n": 1})
    assert KeyedCache(str(tmp_path), ".two.json").get("key") is None


def test_a_corrupt_or_unreadable_file_is_no_entry(tmp_path):
    cache = KeyedCache(str(tmp_path), ".thing.json")
    cache.put("key", {"a": [1, 2]})
    (entry,) = tmp_path.iterdir()
    entry.write_text('{"half')
    assert cache.get("key") is None
    entry.unlink()
    entry.mkdir()  # not a file at all
    assert cache.get("key") is None
