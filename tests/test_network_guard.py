"""The network guard that conftest.py installs: loopback passes, everything else is refused."""

import socket

import pytest

from tests.support.network_guard import NetworkAccessBlocked


def test_outside_connection_is_blocked(monkeypatch, tmp_path):
    log = tmp_path / "attempts.log"
    monkeypatch.setenv("REGLAB_NETWORK_LOG", str(log))
    with pytest.raises(NetworkAccessBlocked):
        socket.create_connection(("192.0.2.1", 80), timeout=1)
    with pytest.raises(NetworkAccessBlocked):
        socket.getaddrinfo("pypi.org", 443)
    assert "192.0.2.1" in log.read_text() and "pypi.org" in log.read_text()


def test_loopback_connection_is_allowed():
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    try:
        client = socket.create_connection(server.getsockname(), timeout=2)
        client.close()
    finally:
        server.close()
