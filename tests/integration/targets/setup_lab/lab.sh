# shellcheck shell=bash
# Sourced by a target's runme.sh: starts the lab (the mock DSM, Cloudflare and router on loopback, ports chosen
# by the system) in the target's output directory for this target, stops it when the script exits, and exports
# what the lab inventory (playbooks/inventory/lab) reads. Needs the packages of tests/integration/requirements.txt.
# The collection under test: ansible-test points ANSIBLE_COLLECTIONS_PATH at the tree that holds it.
collection_root=
IFS=: read -r -a collection_paths <<< "${ANSIBLE_COLLECTIONS_PATH:-}"
for path in "${collection_paths[@]}"; do
  if [ -z "$collection_root" ] && [ -d "$path/ansible_collections/homelab/nas/tests/lab" ]; then
    collection_root="$path/ansible_collections/homelab/nas"
  fi
done
[ -n "$collection_root" ] || { echo "homelab.nas not found in ANSIBLE_COLLECTIONS_PATH" >&2; exit 1; }
export PYTHONPATH="$collection_root${PYTHONPATH:+:$PYTHONPATH}"
export HOMELAB_NAS_LAB_DIR="${OUTPUT_DIR:?ansible-test sets OUTPUT_DIR}/lab"
export HOMELAB_NAS_LOCK_DIR="$OUTPUT_DIR/locks"
export LAB_INVENTORY="$collection_root/playbooks/inventory/lab"
python -m tests.lab up "$HOMELAB_NAS_LAB_DIR" >/dev/null
trap 'python -m tests.lab down "$HOMELAB_NAS_LAB_DIR"' EXIT
