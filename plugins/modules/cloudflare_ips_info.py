#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_ips_info
short_description: Cloudflare's current IPv4 and IPv6 ranges, validated and collapsed
version_added: 0.1.0
description:
  - Reads the ranges Cloudflare's proxies connect from (C(GET /ips)), checks every one is a valid network and
    collapses overlapping or adjacent ones with netaddr, for DSM's trusted proxies, the firewall's allow list and
    nginx's C(set_real_ip_from).
  - The ranges change over time; read them at the start of a play rather than hard-coding them.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.cloudflare
  - homelab.nas.attributes
  - homelab.nas.attributes.info_module
options: {}
requirements:
  - netaddr
"""

EXAMPLES = r"""
- name: Read Cloudflare's ranges
  homelab.nas.cloudflare_ips_info:
    api_token: "{{ vault_cloudflare_token }}"
  register: cloudflare

- name: Use them in nginx
  ansible.builtin.debug:
    msg: "{{ cloudflare.all | map('regex_replace', '^(.*)$', 'set_real_ip_from \\1;') | list }}"
"""

RETURN = r"""
ipv4:
  description: IPv4 ranges in CIDR form, collapsed and sorted.
  returned: always
  type: list
  elements: str
  sample: [173.245.48.0/20, 103.21.244.0/22]
ipv6:
  description: IPv6 ranges in CIDR form, collapsed and sorted.
  returned: always
  type: list
  elements: str
  sample: ["2400:cb00::/32"]
all:
  description: RV(ipv4) followed by RV(ipv6).
  returned: always
  type: list
  elements: str
etag:
  description: Cloudflare's version tag of the list; it changes when the ranges do.
  returned: when Cloudflare sends it
  type: str
"""

try:
    import netaddr

    HAS_NETADDR = True
    NETADDR_IMPORT_ERROR = None
except ImportError as exc:  # pragma: no cover - exercised by ansible-test's import test
    HAS_NETADDR = False
    NETADDR_IMPORT_ERROR = exc

from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_client import CloudflareError
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_module import CloudflareModule


def collapse(cidrs, version, source):
    """Validated, merged, sorted CIDRs of one IP version; anything else is an error naming the entry."""
    networks = []
    for cidr in cidrs or []:
        try:
            network = netaddr.IPNetwork(cidr)
        except (netaddr.AddrFormatError, ValueError, TypeError):
            raise CloudflareError("%s: '%s' is not a network in CIDR form; refusing to use the list" % (source, cidr))
        if network.version != version or "/" not in str(cidr):
            raise CloudflareError("%s: '%s' is not an IPv%d CIDR; refusing to use the list" % (source, cidr, version))
        networks.append(network)
    if not networks:
        raise CloudflareError("%s is empty; refusing to trust an empty list of Cloudflare ranges" % source)
    return [str(n) for n in netaddr.cidr_merge(networks)]


def main():
    module = CloudflareModule(
        zone=False, supports_check_mode=True, required_libraries={"netaddr": (HAS_NETADDR, NETADDR_IMPORT_ERROR)}
    )

    def body(mod, _wanted):
        data = mod.client.ip_ranges()
        ipv4 = collapse(data.get("ipv4_cidrs"), 4, "ipv4_cidrs")
        ipv6 = collapse(data.get("ipv6_cidrs"), 6, "ipv6_cidrs")
        result = dict(changed=False, ipv4=ipv4, ipv6=ipv6, all=ipv4 + ipv6)
        if data.get("etag"):
            result["etag"] = data["etag"]
        return result

    module.run(body)


if __name__ == "__main__":
    main()
