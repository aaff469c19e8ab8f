# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Connection options shared by the Cloudflare modules (set them once with module_defaults)."""

    DOCUMENTATION = r"""
options:
  api_token:
    description:
      - Cloudflare API token, sent as a Bearer token. Give it only the permissions the tasks need
        (Zone Settings, DNS, SSL and Certificates).
      - If not set, the value of the E(CLOUDFLARE_API_TOKEN) environment variable is used.
    type: str
    required: true
  api_base_url:
    description:
      - Base URL of the API. Only change it to point at a stand-in such as the collection's lab.
      - If not set, the value of the E(CLOUDFLARE_API_BASE_URL) environment variable is used.
    type: str
    default: https://api.cloudflare.com/client/v4
  allow_insecure_http:
    description:
      - Allow an C(http://) O(api_base_url), which sends the API token unencrypted. Without it such a URL is refused
        before any request.
    type: bool
    default: false
  validate_certs:
    description: Verify the API's TLS certificate.
    type: bool
    default: true
  ca_path:
    description: PEM file of the CA that signed the API's certificate, when it is not in the system trust store.
    type: path
  timeout:
    description: Seconds to wait for each API response (above 0).
    type: int
    default: 30
attributes:
  action_group:
    support: full
    membership:
      - homelab.nas.cloudflare
notes:
  - Reads are retried with backoff on HTTP 5xx; any request refused with HTTP 429 is retried after the
    C(Retry-After) Cloudflare sends (at most 60 seconds each, 5 retries), then the task fails with Cloudflare's answer.
requirements:
  - python >= 3.10 (the controller's, where these tasks run)
  - requests
"""

    ZONE = r"""
options:
  zone:
    description: Name of the Cloudflare zone, for example V(example.com).
    type: str
    required: true
    aliases: [zone_name]
  zone_cache:
    description:
      - Keep the zone's id on the controller once looked up, so later tasks and runs do not ask Cloudflare for it
        again. The entry is keyed by O(api_base_url), a SHA-256 of O(api_token) and the zone name (the token is never
        written), in E(HOMELAB_NAS_CLOUDFLARE_CACHE_DIR) or else C(~/.cache/homelab.nas/cloudflare) (created mode
        0700, files 0600).
      - A cached id Cloudflare no longer knows (the zone was deleted and added again) is dropped and looked up again
        before anything is written.
    type: bool
    default: true
"""
