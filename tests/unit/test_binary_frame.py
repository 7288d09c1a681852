"""The hand-made frame header must be exactly what websockets would write."""

from __future__ import annotations

import pytest
from websockets.frames import Frame, Opcode

from server.web.wsprotocol import binary_frame


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 600, 65535, 65536, 70000])
def test_binary_frame_is_the_frame_websockets_serializes(size: int) -> None:
    payload = bytes(i % 251 for i in range(size))
    expected = Frame(Opcode.BINARY, payload).serialize(mask=False, extensions=[])
    assert binary_frame(payload) == expected


def test_binary_frame_parses_back_to_the_payload() -> None:
    from websockets.streams import StreamReader

    payload = b"\x81\xa4type\xa4view" * 40
    reader = StreamReader()
    reader.feed_data(binary_frame(payload))
    parser = Frame.parse(reader.read_exact, mask=False)
    try:
        next(parser)
    except StopIteration as done:
        frame = done.value
    else:  # pragma: no cover - the whole frame was fed
        raise AssertionError("the parser wanted more bytes than the frame has")
    assert frame.opcode is Opcode.BINARY and frame.fin and frame.data == payload
