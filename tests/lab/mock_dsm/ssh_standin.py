"""A stand-in for DSM's sshd: a loopback TCP port that answers an SSH banner while SYNO.Core.Terminal
has SSH on, and refuses connections (nothing listens) while it is off.

It is not an SSH server: it sends the identification line every SSH server sends first (RFC 4253
section 4.2), waits briefly for the client's, and closes. That is enough for a test or a playbook to
see whether "SSH" is reachable. The port stays reserved while closed (a bound socket that does not
listen, so the kernel refuses connections), so the number in lab.json stays valid.
"""

from __future__ import annotations

import socket
import threading

from tests.lab.common.http import reset

BANNER = b"SSH-2.0-OpenSSH_8.2p1 homelab.nas-lab-stand-in\r\n"


class SshStandIn:
    def __init__(self, host, admits):
        """admits() -> bool: whether the firewall lets the controller reach DSM's SSH port."""
        self.host = host
        self.admits = admits
        self._lock = threading.Lock()
        self._sock = self._reserve(0)
        self.port = self._sock.getsockname()[1]
        self.listening = False

    def _reserve(self, port):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, port))
        return sock

    def set_enabled(self, enabled):
        with self._lock:
            if enabled == self.listening:
                return
            if enabled:
                self._sock.listen(8)
                threading.Thread(target=self._serve, args=(self._sock,), daemon=True).start()
            else:
                # A listening socket cannot stop listening: close it (shutdown wakes the accept loop),
                # then hold the port again with a socket that is bound but not listening.
                try:
                    self._sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self._sock.close()
                self._sock = self._reserve(self.port)
            self.listening = enabled

    def _serve(self, sock):
        while True:
            try:
                conn, _peer = sock.accept()
            except OSError:
                return  # closed by set_enabled(False) or close()
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def _answer(self, conn):
        if not self.admits():
            reset(conn)
            return
        try:
            conn.settimeout(2)
            conn.sendall(BANNER)
            conn.recv(256)  # the client's identification line, if it sends one
        except OSError:
            pass
        finally:
            conn.close()

    def close(self):
        with self._lock:
            self._sock.close()
            self.listening = False
