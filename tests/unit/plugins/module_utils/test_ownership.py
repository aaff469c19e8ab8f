"""What the collection removes as 'no longer declared': only what carries its mark."""

from __future__ import annotations

from ansible_collections.homelab.nas.plugins.module_utils.ownership import is_ours, mark, undeclared_ours


def test_mark_prefixes_once_and_only_with_a_prefix():
    assert mark("homelab.nas", "photos") == "homelab.nas: photos"
    assert mark("homelab.nas", "homelab.nas: photos") == "homelab.nas: photos"
    assert mark(None, " photos ") == "photos"


def test_only_text_starting_with_the_prefix_and_a_colon_is_ours():
    assert is_ours("homelab.nas: https 443", "homelab.nas")
    assert not is_ours("homelab.nas-backup: x", "homelab.nas")  # another owner sharing the start
    assert not is_ours("my homelab.nas: rule", "homelab.nas")
    assert not is_ours(None, "homelab.nas") and not is_ours("homelab.nas: x", "")


def test_undeclared_ours_keeps_declared_and_hand_made_items():
    current = [
        {"k": "a", "d": "homelab.nas: a"},  # declared
        {"k": "b", "d": "homelab.nas: b"},  # ours, no longer declared: removed
        {"k": "c", "d": "made by hand"},
        {"k": "d", "d": None},
    ]
    gone = undeclared_ours(current, {"a"}, lambda i: i["k"], lambda i: i["d"], "homelab.nas")
    assert gone == [current[1]]
