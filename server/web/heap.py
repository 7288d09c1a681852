"""Give the C heap's free pages back to the operating system (glibc's `malloc_trim`).

Python frees objects into the C allocator, which keeps the pages for reuse: after a session's
rooms and sockets are gone the process holds their pages as resident memory although nothing
uses them (a soak measured traced Python memory flat across sessions while RSS climbed).
`malloc_trim(0)` returns the free pages, also from the middle of the heap. Only glibc has it;
elsewhere (musl, macOS) this does nothing.
"""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        trim = ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    trim.restype = ctypes.c_int
    return trim


def trim_heap() -> bool:
    """Release free heap pages; True when the C library has `malloc_trim`."""
    trim = _malloc_trim()
    if trim is None:
        return False
    trim(0)
    return True
