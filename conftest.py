"""pytest bootstrap for a flat checkout: expose the repo as ansible_collections.homelab.nas."""

import os
import sys

import pytest

ROOT = os.path.dirname(os.path.abspath(__file__))
COLLECTIONS = os.path.join(ROOT, "tests", "output", "collections")
LINK = os.path.join(COLLECTIONS, "ansible_collections", "homelab", "nas")

if not os.path.islink(LINK):
    os.makedirs(os.path.dirname(LINK), exist_ok=True)
    os.symlink(ROOT, LINK)
if COLLECTIONS not in sys.path:
    sys.path.insert(0, COLLECTIONS)
pytest_plugins = ["tests.lab.fixtures"]


@pytest.fixture(autouse=True, scope="session")
def _lock_dir(tmp_path_factory):
    """The modules' lock directory (HOMELAB_NAS_LOCK_DIR, file_lock.py) in the test session's tmp, not in ~/.cache;
    playbook runs inherit it."""
    os.environ.setdefault("HOMELAB_NAS_LOCK_DIR", str(tmp_path_factory.mktemp("locks")))
    # The Cloudflare modules' zone ids (cloudflare_zone_cache.py) in the session's tmp too, not in ~/.cache.
    os.environ.setdefault("HOMELAB_NAS_CLOUDFLARE_CACHE_DIR", str(tmp_path_factory.mktemp("cloudflare-cache")))
    # The router's device descriptions (igd_description_cache.py) too.
    os.environ.setdefault("HOMELAB_NAS_ROUTER_CACHE_DIR", str(tmp_path_factory.mktemp("router-cache")))
