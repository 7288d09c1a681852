"""Hypothesis strategies for client frames: any msgpack value, near-valid frames, raw bytes."""

from __future__ import annotations

from typing import Any

import msgpack
from hypothesis import strategies as st

scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**63), max_value=2**64 - 1)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=40)
    | st.binary(max_size=40)
)

values: st.SearchStrategy[Any] = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=6)
        | st.dictionaries(st.text(max_size=12) | st.integers(-5, 5), children, max_size=6)
    ),
    max_leaves=40,
)

# Frames with a real type and fields that are almost right: what a buggy or hostile client sends.
FIELDS = (
    "role",
    "room",
    "name",
    "token",
    "secret",
    "lang",
    "question",
    "choice",
    "value",
    "action",
    "player",
    "ref",
)
near_valid = st.builds(
    lambda kind, extra: {"type": kind, **extra},
    st.sampled_from(["hello", "answer", "control", "ping", "input", "HELLO", ""]) | values,
    st.dictionaries(st.sampled_from(FIELDS), values, max_size=6),
)

big = st.builds(lambda n: {"type": "ping", "pad": "x" * n}, st.integers(3000, 6000))

frames: st.SearchStrategy[bytes | str] = st.one_of(
    values.map(lambda v: msgpack.packb(v, use_bin_type=True)),
    near_valid.map(lambda v: msgpack.packb(v, use_bin_type=True)),
    big.map(lambda v: msgpack.packb(v, use_bin_type=True)),
    st.binary(max_size=200),
    st.text(max_size=50),  # a text frame
)
