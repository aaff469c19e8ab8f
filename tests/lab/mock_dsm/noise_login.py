"""The Noise IK handshake of DSM 7's login page, server side, and the X-SYNO-HASH requests carry after it.

Shapes from the client that performs it against real DSMs (N4S4/synology-api 0.9.4 `auth.py`
`get_ik_message`, `_finish_noise_handshake`, `_get_request_hash`; no capture of DSM's side is public):
SYNO.API.Auth.UIConfig sets the `_SSID` cookie to the server's static X25519 public key (base64url
without padding); the login carries the initiator's first message as `ik_message` (payload
`{"time": <unix time>}`); DSM's login `data` answers with the responder's `ik_message`; afterwards a
request carries `X-SYNO-HASH: <first 8 characters of base64url(handshake hash)><base64url(AEAD of
b"" under the initiator's next nonce)>.<base64url(str(nonce))>`. The mock checks every hash and counts
the results for tests; what DSM does with a bad one is not public, so the request is still answered.
"""

from __future__ import annotations

import base64
import threading

from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from noise.connection import Keypair, NoiseConnection

PROTOCOL = b"Noise_IK_25519_ChaChaPoly_BLAKE2b"


def b64url_encode(raw):
    return base64.urlsafe_b64encode(bytes(raw)).decode("ascii").rstrip("=")


def b64url_decode(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class NoiseLogin:
    """The server's static key (one per mock process), a responder per login, and counters."""

    def __init__(self):
        self._key = X25519PrivateKey.generate()
        self._lock = threading.Lock()
        self.reset()

    def reset(self):
        with self._lock:
            self.counts = {"handshakes": 0, "hash_ok": 0, "hash_bad": 0}

    def snapshot(self):
        with self._lock:
            return dict(self.counts)

    @property
    def ssid(self):
        """The `_SSID` cookie value."""
        return b64url_encode(self._key.public_key().public_bytes_raw())

    def respond(self, ik_message):
        """-> (the session's handshake state, the `ik_message` for the login's data); (None, None) when the
        message does not parse (lab's choice: the login then goes on without a handshake)."""
        noise = NoiseConnection.from_name(PROTOCOL)
        noise.set_as_responder()
        noise.set_keypair_from_private_bytes(Keypair.STATIC, self._key.private_bytes_raw())
        noise.start_handshake()
        try:
            noise.read_message(b64url_decode(ik_message))
            reply = noise.write_message(b"")
        except Exception:  # noqa: BLE001 - noiseprotocol and cryptography raise several kinds for a bad message
            return None, None
        with self._lock:
            self.counts["handshakes"] += 1
        return {"noise": noise, "hash": b64url_encode(noise.get_handshake_hash()), "last_nonce": -1}, \
            b64url_encode(reply)

    def check(self, handshake, header):
        """Count whether an X-SYNO-HASH value verifies against a session's handshake."""
        ok = self._verifies(handshake, header)
        with self._lock:
            self.counts["hash_ok" if ok else "hash_bad"] += 1
        return ok

    @staticmethod
    def _verifies(handshake, header):
        sealed, dot, nonce_text = header[8:].rpartition(".")
        if not dot or header[:8] != handshake["hash"][:8]:
            return False
        try:
            nonce = int(b64url_decode(nonce_text))
            # Nonces only grow (Noise transport messages); a replayed one does not verify (lab's choice).
            if nonce <= handshake["last_nonce"]:
                return False
            cipher = handshake["noise"].noise_protocol.cipher_state_decrypt
            cipher.n = nonce
            if cipher.decrypt_with_ad(b"", b64url_decode(sealed)) != b"":
                return False
        except Exception:  # noqa: BLE001 - bad base64, a bad tag (InvalidTag), a depleted nonce: not verified
            return False
        handshake["last_nonce"] = nonce
        return True
