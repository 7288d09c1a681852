"""The hub's refusal: a protocol error code for the client."""

from __future__ import annotations


class HubError(Exception):
    """A refused request; `code` is the protocol error code."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code
