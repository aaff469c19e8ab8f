# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
# Private to homelab.nas: no compatibility promise to other collections (plugins/module_utils/README.md).
"""What this collection marks as its own, and which undeclared things it may therefore remove.

A router mapping's description, a reverse-proxy rule's description and a DNS record's comment carry the
mark `<prefix>: <what>`. Only what carries it is removed as "no longer declared"; what a person or another
program made never is. Standard library only: router_port_forward may run on the NAS itself.
"""

from __future__ import annotations


def mark(prefix, what):
    """The stored text for `what`, marked as ours (already marked text is kept as it is)."""
    what = (what or "").strip()
    if not prefix or is_ours(what, prefix):
        return what
    return "%s: %s" % (prefix, what)


def is_ours(text, prefix):
    """True when `text` (a description or comment) carries the mark `<prefix>:`."""
    return bool(prefix) and isinstance(text, str) and text.startswith(prefix + ":")


def undeclared_ours(current, declared_keys, key, text, prefix):
    """The items of `current` that carry our mark and whose key() is not declared, in their order."""
    declared_keys = set(declared_keys)
    return [item for item in current if key(item) not in declared_keys and is_ours(text(item), prefix)]
