"""Where phones can reach this machine: the public URL, or the LAN address instead of localhost."""

from __future__ import annotations

import socket

LOCAL_HOSTS = ("localhost", "127.0.0.1", "::1", "[::1]", "0.0.0.0")


def lan_address() -> str:
    """The first non-loopback IPv4 address of this host name, else 127.0.0.1 (no traffic sent)."""
    try:
        infos = socket.getaddrinfo(socket.gethostname(), None, socket.AF_INET)
    except OSError:
        return "127.0.0.1"
    for info in infos:
        address = str(info[4][0])
        if not address.startswith("127."):
            return address
    return "127.0.0.1"


def join_base(public_url: str | None, scheme: str, host_header: str, port: int) -> str:
    """Base URL for join links and QR codes as phones in the room must use it."""
    if public_url:
        return public_url.rstrip("/")
    hostname = host_header.rsplit(":", 1)[0] if not host_header.startswith("[") else host_header
    if hostname in LOCAL_HOSTS:
        _, _, maybe_port = host_header.rpartition(":")
        port_part = maybe_port if maybe_port.isdigit() else str(port)
        return f"{scheme}://{lan_address()}:{port_part}"
    return f"{scheme}://{host_header}"
