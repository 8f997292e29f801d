"""This process's memory: keeping the cyclic collector off data that lives until the end, and
handing freed memory back to the system."""

from __future__ import annotations

import contextlib
import ctypes
import gc
from collections.abc import Iterator


@contextlib.contextmanager
def long_lived() -> Iterator[None]:
    """Around reading a large structure from the build cache, which lives long (the state until
    the build ends, the related engine's until it is updated). The collector would otherwise
    rescan it again and again while it is made, and after: 0.2 s of a 1.6 s one-edit rebuild at
    10,000 articles. Afterwards everything alive is frozen, out of the collector's sight;
    reference counting still frees what is dropped. Only cycles among frozen objects would never
    be collected, and pickled cache data holds none (a collection after dropping a loaded state
    found only the classes that importing its modules left behind)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()


def return_freed_memory() -> None:
    """Hand memory this process has freed back to the system. glibc keeps freed blocks in its
    heap for reuse, and a build's big transient data (the related engine's arrays and objects)
    is freed in many pieces among objects that stay: a 10,000-article build still held 90 MB it
    no longer used, through planning and rendering. Elsewhere than glibc, nothing to do."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6").malloc_trim(0)
