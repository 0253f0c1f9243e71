"""A loopback TCP relay that counts the bytes a server sends back: compression seen on the wire."""

from __future__ import annotations

import contextlib
import socket
import threading


class CountingRelay:
    """Accepts on a free port, relays to `upstream_port`, counts server-to-client bytes."""

    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.downstream_bytes = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = self._listener.getsockname()[1]
        self._sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            server = socket.create_connection(("127.0.0.1", self.upstream_port))
            self._sockets += [client, server]
            threading.Thread(target=self._pump, args=(client, server, False), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, True), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket, count: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if count:
                    with self._lock:
                        self.downstream_bytes += len(data)
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def reset(self) -> int:
        """The bytes counted so far, and start again from zero."""
        with self._lock:
            counted, self.downstream_bytes = self.downstream_bytes, 0
            return counted

    def close(self) -> None:
        """Stop accepting and drop every connection."""
        self._listener.close()
        for sock in self._sockets:
            with contextlib.suppress(OSError):
                sock.close()
