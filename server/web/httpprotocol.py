"""uvicorn's httptools protocol, letting go of its parser once its connection became a websocket.

The parser holds the protocol (it calls it back) and the protocol holds the parser: a reference
cycle. uvicorn breaks it when an HTTP connection is lost, but a connection upgraded to a
websocket is lost to the websocket protocol, so the pair (with its flow control and request
state) stayed behind as garbage that only a full garbage collection frees: with the websocket
protocol's own cycle (server/web/wsprotocol.py) about 57 objects per phone, and a full pass
over a storm's worth took the worker away for 0.2-0.5 s.

Selected with uvicorn's `http=` option (`server.cli.uvicorn_options`).
"""

from __future__ import annotations

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

PROTOCOL_PATH = "server.web.httpprotocol:UpgradingHttpProtocol"


class UpgradingHttpProtocol(HttpToolsProtocol):
    def handle_websocket_upgrade(self) -> None:
        super().handle_websocket_upgrade()
        # The transport belongs to the websocket protocol now; nothing calls this one again.
        self.parser = None  # type: ignore[assignment]
