#!/usr/bin/env bash
# A real router for the port-forward tests: Debian's miniupnpd in network namespaces (root only).
#
#   router_netns.sh install | setup | teardown      env: LAB (namespace prefix), WAN_IP, WAN_GW
#
#   [$LAB-nas] eth0 192.168.77.10 ─veth─ lan0 192.168.77.1 [$LAB-router] wan0 $WAN_IP ─veth─ eth0 $WAN_GW [$LAB-wan]
#
# Nothing is linked to the host's namespace: no packet of the tests leaves these namespaces.
# miniupnpd refuses to forward when its WAN address is reserved, so the default WAN address is
# 100.128.77.2 (the first block past the CGNAT range); WAN_IP=100.64.77.2 makes a CGNAT router.
set -euo pipefail
LAB=${LAB:-hnlab}
RUN=/run/$LAB
WAN_IP=${WAN_IP:-100.128.77.2}
WAN_GW=${WAN_GW:-100.128.77.1}
ROUTER_IP=192.168.77.1
NAS_IP=192.168.77.10

install() {
  command -v miniupnpd >/dev/null && command -v upnpc >/dev/null && command -v nft >/dev/null && return 0
  apt-get update -qq
  # The Debian service is not started (debconf default); we run miniupnpd ourselves.
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    miniupnpd miniupnpd-nftables nftables miniupnpc iproute2
}

setup() {
  teardown
  mkdir -p "$RUN"
  for ns in router nas wan; do
    ip netns add "$LAB-$ns"
    ip -n "$LAB-$ns" link set lo up
    # Namespaces have no DNS; keep lookups on their own loopback instead of the host's resolver.
    mkdir -p "/etc/netns/$LAB-$ns"
    echo "nameserver 127.0.0.1" > "/etc/netns/$LAB-$ns/resolv.conf"
  done
  ip link add lan0 netns "$LAB-router" type veth peer name eth0 netns "$LAB-nas"
  ip link add wan0 netns "$LAB-router" type veth peer name eth0 netns "$LAB-wan"
  ip -n "$LAB-router" addr add "$ROUTER_IP/24" dev lan0
  ip -n "$LAB-router" addr add "$WAN_IP/24" dev wan0
  ip -n "$LAB-nas" addr add "$NAS_IP/24" dev eth0
  ip -n "$LAB-wan" addr add "$WAN_GW/24" dev eth0
  ip -n "$LAB-router" link set lan0 up
  ip -n "$LAB-router" link set wan0 up
  ip -n "$LAB-nas" link set eth0 up
  ip -n "$LAB-wan" link set eth0 up
  ip -n "$LAB-nas" route add default via "$ROUTER_IP"   # also carries the SSDP multicast
  ip -n "$LAB-router" route add default via "$WAN_GW"
  ip netns exec "$LAB-router" sysctl -qw net.ipv4.ip_forward=1
  # The chains miniupnpd's nftables backend expects (Debian's nft_init.sh is broken on bookworm).
  ip netns exec "$LAB-router" nft -f - <<'NFT'
table inet filter {
  chain forward { type filter hook forward priority 0; policy accept; jump miniupnpd; }
  chain miniupnpd { }
  chain prerouting { type nat hook prerouting priority -100; policy accept; jump prerouting_miniupnpd; }
  chain postrouting { type nat hook postrouting priority 100; policy accept; jump postrouting_miniupnpd; }
  chain prerouting_miniupnpd { }
  chain postrouting_miniupnpd { }
}
NFT
  cat > "$RUN/miniupnpd.conf" <<CONF
ext_ifname=wan0
listening_ip=lan0
http_port=5000
enable_upnp=yes
enable_natpmp=no
ipv6_disable=yes
secure_mode=yes
system_uptime=no
lease_file=$RUN/upnp.leases
uuid=3d3cec3a-8cf0-11e0-98ee-001a6bd2d07b
friendly_name=homelab.nas test router
allow 1024-65535 192.168.77.0/24 1-65535
deny 0-65535 0.0.0.0/0 0-65535
CONF
  ip netns exec "$LAB-router" /usr/sbin/miniupnpd -d -f "$RUN/miniupnpd.conf" -P "$RUN/miniupnpd.pid" \
    > "$RUN/miniupnpd.log" 2>&1 &
  echo $! > "$RUN/miniupnpd.bgpid"
  for _ in $(seq 1 100); do
    if ip netns exec "$LAB-nas" upnpc -u "http://$ROUTER_IP:5000/rootDesc.xml" -s >/dev/null 2>&1; then
      echo "http://$ROUTER_IP:5000/rootDesc.xml"
      return 0
    fi
    sleep 0.1
  done
  echo "miniupnpd did not come up:" >&2
  cat "$RUN/miniupnpd.log" >&2
  return 1
}

teardown() {
  if [ -f "$RUN/miniupnpd.bgpid" ]; then
    kill "$(cat "$RUN/miniupnpd.bgpid")" 2>/dev/null || true
  fi
  for ns in nas wan router; do
    ip netns del "$LAB-$ns" 2>/dev/null || true
    rm -rf "/etc/netns/$LAB-$ns"
  done
  rm -rf "$RUN"
}

case "${1:-}" in
  install|setup|teardown) "$1" ;;
  *) echo "usage: $0 install|setup|teardown" >&2; exit 2 ;;
esac
