#!/usr/bin/env bash
# Debian packages the test suite needs beyond Python; installed when missing and running as root.
set -euo pipefail
missing=()
command -v shellcheck >/dev/null || missing+=(shellcheck)   # ansible-test sanity's shellcheck test
command -v git >/dev/null || missing+=(git)
# The real router of the port-forward integration test (tests/lab/router_netns.sh).
command -v miniupnpd >/dev/null || missing+=(miniupnpd miniupnpd-nftables)
command -v upnpc >/dev/null || missing+=(miniupnpc)
command -v nft >/dev/null || missing+=(nftables)
command -v ip >/dev/null || missing+=(iproute2)
# The nginx_patches role's tests serve a DSM-shaped tree with Debian's nginx.
command -v nginx >/dev/null || missing+=(nginx-light)
# The ACME CA (pebble) and its DNS server (pebble-challtestsrv) of the DNS-01 tests (tests/lab/acme.py).
command -v pebble >/dev/null && command -v pebble-challtestsrv >/dev/null || missing+=(pebble)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
  echo "Missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
  [ -n "${CI:-}" ] && exit 1
  exit 0
fi
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
