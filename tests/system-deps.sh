#!/usr/bin/env bash
# Debian packages the test suite needs beyond Python; installed when missing and running as root.
set -euo pipefail
missing=()
command -v shellcheck >/dev/null || missing+=(shellcheck)   # ansible-test sanity's shellcheck test
command -v git >/dev/null || missing+=(git)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
  exit 1
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
