# Copyright: homelab.nas contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations


class ModuleDocFragment:
    """Connection options shared by every DSM module (set them once with module_defaults)."""

    DOCUMENTATION = r"""
options:
  host:
    description:
      - Hostname or IP address of the DSM web interface.
      - If not set, the value of the E(DSM_HOST) environment variable is used.
    type: str
    required: true
  port:
    description:
      - Port of the DSM web interface.
      - Defaults to V(5001) with O(use_https=true) and V(5000) otherwise.
      - If not set, the value of the E(DSM_PORT) environment variable is used.
    type: int
  use_https:
    description:
      - Talk to DSM over HTTPS. Leave this on outside a lab.
    type: bool
    default: true
  username:
    description:
      - DSM account to log in with. Most APIs need a member of the C(administrators) group.
      - If not set, the value of the E(DSM_USERNAME) environment variable is used.
    type: str
    required: true
  password:
    description:
      - Password of O(username).
      - If not set, the value of the E(DSM_PASSWORD) environment variable is used.
    type: str
    required: true
  otp_code:
    description:
      - Current 2-step verification code, for accounts with 2FA.
      - A code is single-use. Log in once with M(homelab.nas.dsm_session) and O(enable_device_token=true)
        so later tasks and runs reuse the session or the saved device token instead.
    type: str
  device_id:
    description:
      - Device token from an earlier 2FA login ("remember this device"); replaces O(otp_code).
      - If not set, the value of the E(DSM_DEVICE_ID) environment variable is used, then a token saved
        in the session cache by an earlier login with O(enable_device_token=true).
    type: str
  device_name:
    description:
      - Name DSM shows for the remembered device.
    type: str
    default: homelab.nas
  enable_device_token:
    description:
      - With O(otp_code), ask DSM for a device token and save it in the session cache
        (mode 0600) so later logins need no code.
    type: bool
    default: false
  validate_certs:
    description:
      - Verify DSM's TLS certificate (against O(ca_path) or the system's CAs and the host name, or against the
        pins in O(tls_fingerprints)). V(false) turns every check off and the task warns; pin the certificate
        instead.
    type: bool
    default: true
  ca_path:
    description:
      - PEM file of the CA that signed DSM's certificate, when it is not in the system trust store.
      - Not used once DSM's certificate is pinned (O(tls_fingerprints), or a pin recorded by
        M(homelab.nas.dsm_certificate)).
    type: path
  tls_fingerprints:
    description:
      - SHA-256 fingerprints (V(AB:CD:...) or plain hex) of the certificates DSM may present. When set, DSM's
        certificate must be one of them, instead of being checked against a CA and the host name.
      - The first contact with a fresh DSM, whose certificate is self-signed, is this pin, read on the LAN with
        C(openssl s_client -connect NAS:5001 </dev/null | openssl x509 -noout -fingerprint -sha256); a failed
        verification reports the fingerprint DSM presented.
      - When M(homelab.nas.dsm_certificate) binds a certificate to DSM Desktop Service, it records that
        certificate's fingerprint next to the session cache (O(session_cache_dir)) and every later task and run
        of this controller pins it too, so verification survives the switch to a certificate no public CA
        signed (a Cloudflare Origin CA certificate).
      - If not set, the value of the E(DSM_TLS_FINGERPRINTS) environment variable (comma-separated) is used.
    type: list
    elements: str
  timeout:
    description:
      - Seconds to wait for each DSM response.
    type: int
    default: 30
  session_cache:
    description:
      - Reuse one DSM session across the tasks of a play (and across runs while DSM keeps it valid).
      - The session id and SynoToken are kept in O(session_cache_dir), readable by the controller user only,
        and dropped when DSM reports the session invalid.
      - With V(false), each task logs in and logs out.
    type: bool
    default: true
  session_cache_dir:
    description:
      - Directory of the session cache, of the certificate pins M(homelab.nas.dsm_certificate) records, and of what
        spares reads in later tasks whether or not sessions are cached (no secret), that is the certificates
        M(homelab.nas.dsm_certificate) verified or imported, and the ids of M(homelab.nas.dsm_task)'s scheduled
        tasks.
      - If not set, the value of the E(HOMELAB_NAS_SESSION_CACHE_DIR) environment variable is used,
        then C(~/.cache/homelab.nas/dsm).
      - Created with mode 0700 when missing; an existing directory keeps its permissions. Its files are written
        with mode 0600, atomically and under a lock file beside them, so forks and overlapping runs share it.
    type: path
attributes:
  action_group:
    support: full
    membership:
      - homelab.nas.dsm
notes:
  - Modules run on the controller and talk to the DSM Web API (C(/webapi/entry.cgi)); no SSH is needed.
  - Secrets (O(password), O(otp_code), O(device_id)) are never logged or returned.
  - Outside check mode a task holds an exclusive lock on its DSM (a file per DSM URL in E(HOMELAB_NAS_LOCK_DIR),
    by default C(~/.cache/homelab.nas/locks) on the host the module runs on) while it reads and writes, so
    forks and overlapping runs on one DSM take turns. It waits up to 300 seconds, then fails naming the lock.
requirements:
  - python >= 3.10 (the controller's, where these tasks run)
  - requests
"""
