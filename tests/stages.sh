#!/usr/bin/env bash
# make test's stages in two lanes at once (2 cores): the system tests, ansible-test's units, integration and sanity in
# one, the version matrix, Molecule and the checks of the built collection in the other, each lane ordered
# so that both end at about the same time. The stages share nothing but the venv and the collection built once
# before (make -o collection: not rebuilt under a running stage); the labs take free ports, and every tool has its
# own work and home directories. Each stage's output goes to build/stages/<stage>.log: its last lines are printed
# when it passes, all of it when it fails. Exits non-zero if any stage failed; both lanes always run to their end.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1
logs=build/stages
rm -rf "$logs" && mkdir -p "$logs"

lane() {
  local name=$1 stage start status=0
  shift
  for stage in "$@"; do
    start=$(date +%s)
    if make --no-print-directory -o collection "$stage" > "$logs/$stage.log" 2>&1; then
      echo "=== $stage: passed in $(($(date +%s) - start)) s ($name)"
      tail -n 5 "$logs/$stage.log" | sed "s/^/    $stage| /"
    else
      echo "=== $stage: FAILED after $(($(date +%s) - start)) s ($name); its output:"
      sed "s/^/    $stage| /" "$logs/$stage.log"
      status=1
    fi
  done
  return "$status"
}

lane "lane 1" system units integration sanity &
one=$!
lane "lane 2" matrix molecule lint importer docs ee &
two=$!
status=0
wait "$one" || status=1
wait "$two" || status=1
[ "$status" -eq 0 ] && echo "=== every stage passed" || echo "=== FAILED: see the stages above" >&2
exit "$status"
