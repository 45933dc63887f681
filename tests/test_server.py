"""The API's listener: keep-alive connections get TCP_NODELAY in every process layout."""

from __future__ import annotations

import asyncio
import socket

import pytest

from mmx.server import _Config, tcp_listener


async def _nodelay_of_accepted(listener: socket.socket) -> int:
    loop = asyncio.get_running_loop()
    accepted: asyncio.Future[int] = loop.create_future()

    class Probe(asyncio.Protocol):
        def connection_made(self, transport: asyncio.BaseTransport) -> None:
            sock = transport.get_extra_info("socket")
            accepted.set_result(sock.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            transport.close()

    server = await loop.create_server(Probe, sock=listener)
    async with server:
        _reader, writer = await asyncio.open_connection(*listener.getsockname()[:2])
        try:
            return await asyncio.wait_for(accepted, 10)
        finally:
            writer.close()


def _bound() -> socket.socket:
    raw = socket.socket(socket.AF_INET)  # as uvicorn binds it for several processes
    raw.bind(("127.0.0.1", 0))
    return raw


def test_a_socket_bound_without_its_protocol_leaves_nagle_on() -> None:
    """The uvicorn behaviour worked around (issue #3149): the reason for ``tcp_listener``."""
    assert asyncio.run(_nodelay_of_accepted(_bound())) == 0


def test_our_listener_turns_nagle_off_for_accepted_connections() -> None:
    listener = tcp_listener(_bound())
    assert listener.proto == socket.IPPROTO_TCP
    assert asyncio.run(_nodelay_of_accepted(listener)) != 0


def test_the_multiprocess_config_binds_our_listener(unused_port: int) -> None:
    config = _Config("mmx.main:create_app", factory=True, host="127.0.0.1",
                     port=unused_port, workers=2, log_level="warning")
    sock = config.bind_socket()
    try:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.get_inheritable()
    finally:
        sock.close()


@pytest.fixture
def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])
