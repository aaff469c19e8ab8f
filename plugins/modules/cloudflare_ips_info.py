#!/usr/bin/python
# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: cloudflare_ips_info
short_description: Cloudflare's current IPv4 and IPv6 ranges, validated and collapsed
version_added: 1.0.0
description:
  - Reads the ranges Cloudflare's proxies connect from (C(GET /ips)), checks every one is a valid network and
    collapses overlapping or adjacent ones, for DSM's trusted proxies, the firewall's allow list and nginx's
    C(set_real_ip_from).
  - Since they widen trust, the ranges must look like Cloudflare's, or the whole list is refused - global unicast
    networks no wider than /12 (IPv4) or /29 (IPv6); Cloudflare's widest published ranges are a /13 and a /29.
  - The ranges change over time; read them at the start of a play rather than hard-coding them.
author:
  - homelab.nas maintainers (@homelab-nas)
extends_documentation_fragment:
  - homelab.nas.cloudflare
  - homelab.nas.attributes
  - homelab.nas.attributes.info_module
options: {}
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

import ipaddress

from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_client import CloudflareError
from ansible_collections.homelab.nas.plugins.module_utils.cloudflare_module import CloudflareModule

# The widest prefixes Cloudflare has published (www.cloudflare.com/ips: 104.16.0.0/13, 2a06:98c0::/29), with
# room for a larger block: anything wider would widen trust far beyond Cloudflare (0.0.0.0/0 at worst).
WIDEST_PREFIX = {4: 12, 6: 29}


def collapse(cidrs, version, source):
    """Validated, merged, sorted CIDRs of one IP version; anything else is an error naming the entry.

    These ranges become the firewall's allow list, DSM's trusted proxies and nginx's set_real_ip_from,
    so a list that is not plausibly Cloudflare's (private, reserved, or a huge block) is refused whole."""
    networks = []
    for cidr in cidrs or []:
        try:
            network = ipaddress.ip_network(cidr, strict=True)
        except (ValueError, TypeError):
            raise CloudflareError("%s: '%s' is not a network in CIDR form; refusing to use the list" % (source, cidr))
        if network.version != version or "/" not in str(cidr):
            raise CloudflareError("%s: '%s' is not an IPv%d CIDR; refusing to use the list" % (source, cidr, version))
        if network.prefixlen < WIDEST_PREFIX[version]:
            raise CloudflareError(
                "%s: '%s' is wider than /%d, wider than any range Cloudflare publishes; refusing to trust it"
                % (source, cidr, WIDEST_PREFIX[version])
            )
        if not network.is_global or network.is_multicast:
            raise CloudflareError(
                "%s: '%s' is not a global unicast network, so not Cloudflare's; refusing to trust it" % (source, cidr)
            )
        networks.append(network)
    if not networks:
        raise CloudflareError("%s is empty; refusing to trust an empty list of Cloudflare ranges" % source)
    return [str(n) for n in ipaddress.collapse_addresses(networks)]


def main():
    module = CloudflareModule(zone=False, supports_check_mode=True)

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
