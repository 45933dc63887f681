"""Running the API under uvicorn, with its keep-alive connections answered without delay.

uvicorn binds the listening socket itself when it runs several API processes, and leaves its
``proto`` at 0; asyncio turns Nagle's algorithm off (``TCP_NODELAY``) only for accepted sockets
that say ``IPPROTO_TCP``. With Nagle on, a response written as head and body waits for the
client's delayed ACK: every keep-alive request after the first took ~44 ms on Linux, against
~1.5 ms in one process (measured; uvicorn issue #3149, open). The listener is bound here with
the protocol stated.
"""

from __future__ import annotations

import socket
from typing import Any

import uvicorn
from uvicorn.supervisors import Multiprocess


class _Config(uvicorn.Config):
    def bind_socket(self) -> socket.socket:
        return tcp_listener(super().bind_socket())


def tcp_listener(sock: socket.socket) -> socket.socket:
    """``sock`` with ``proto`` IPPROTO_TCP, so connections it accepts get TCP_NODELAY."""
    if sock.family not in (socket.AF_INET, socket.AF_INET6) or sock.proto == socket.IPPROTO_TCP:
        return sock
    fixed = socket.socket(sock.family, sock.type, socket.IPPROTO_TCP, fileno=sock.detach())
    fixed.set_inheritable(True)
    return fixed


def run(app: str, *, workers: int, **options: Any) -> None:
    """``uvicorn.run(app, factory=True, workers=workers, **options)``, with the listener of
    several processes bound as a TCP socket."""
    if workers <= 1:
        uvicorn.run(app, factory=True, **options)
        return
    config = _Config(app, factory=True, workers=workers, **options)
    Multiprocess(config, sockets=[config.bind_socket()]).run()
