#!/usr/bin/env bash
# make matrix: for each "ansible-core python" line of tests/matrix.txt (or the file given), a venv under build/matrix with that
# ansible-core, the collection's requirements and what the unit tests import (versions from
# tests/constraints.txt), then the unit tests of the plugins and tests/demo.sh (site.yml twice against the lab).
# A Python that neither PATH nor pyenv offers fails the run on CI and is reported and passed over elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=build/matrix
mkdir -p "$out"
# Every pin but ansible-core's, which each line sets.
grep -v '^ansible-core==' tests/constraints.txt > "$out/constraints.txt"

# pyenv's versions first: pyenv's shims exist for versions that are not active, and fail when run.
find_python() {
  local want=$1 candidate found=
  for candidate in "${PYENV_ROOT:-$HOME/.pyenv}"/versions/"$want".*/bin/python"$want" "$(command -v "python$want")"; do
    if [ -n "$candidate" ] && [ -z "$found" ] && "$candidate" -c '' 2>/dev/null; then found=$candidate; fi
  done
  [ -n "$found" ] && echo "$found"
}

status=0
while read -r core python_version; do
  case "$core" in '' | '#'*) continue ;; esac
  name="ansible-core $core on Python $python_version"
  if ! python=$(find_python "$python_version"); then
    if [ -n "${CI:-}" ]; then echo "FAIL: $name: no python$python_version on PATH or in pyenv" >&2; status=1; fi
    echo "=== $name: not run, no python$python_version here"
    continue
  fi
  venv="$out/ansible-core-$core"
  echo "=== $name ($python)"
  if [ ! -x "$venv/bin/ansible-playbook" ] || ! "$venv/bin/ansible-playbook" --version | grep -q "core $core\]"; then
    rm -rf "$venv"
    "$python" -m venv "$venv"
    "$venv/bin/pip" install --quiet --upgrade pip
    "$venv/bin/pip" install --quiet -c "$out/constraints.txt" "ansible-core==$core" -r requirements.txt \
      pytest pytest-xdist hypothesis PyOTP noiseprotocol dnspython
  fi
  # The collection as the playbooks find it, installed by this ansible-core's own ansible-galaxy.
  collections="$root/$out/collections-$core"
  rm -rf "$collections"
  ANSIBLE_COLLECTIONS_PATH="$collections" "$venv/bin/ansible-galaxy" collection install --force --offline -p "$collections" build/dist/homelab-nas-*.tar.gz >/dev/null
  if ! "$venv/bin/pytest" -q -p no:cacheprovider -n auto --dist loadfile tests/unit/plugins; then
    echo "FAIL: $name: unit tests" >&2
    status=1
  elif ! PATH="$root/$venv/bin:$PATH" ANSIBLE_COLLECTIONS_PATH="$collections" LAB_DSM_HTTP_PORT=0 \
    LAB_DSM_HTTPS_PORT=0 LAB_ROUTER_PORT=0 LAB_CLOUDFLARE_PORT=0 LAB_EDGE_HTTPS_PORT=0 LAB_EDGE_HTTP_PORT=0 \
    bash tests/demo.sh "$out/lab-$core" > "$out/demo-$core.log" 2>&1; then
    tail -40 "$out/demo-$core.log"
    echo "FAIL: $name: site.yml smoke run (log: $out/demo-$core.log)" >&2
    status=1
  else
    tail -1 "$out/demo-$core.log"
  fi
done < "${1:-tests/matrix.txt}"
exit "$status"
