"""Independent blocks of numerical work run on threads: scipy's sparse kernels and numpy's sorts
release the GIL, so on several cores the blocks really do run at the same time. Each block's
result is computed exactly as it would be alone, so the outcome never depends on the threads."""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

Block = TypeVar("Block")
Result = TypeVar("Result")


def workers() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def each_block(work: Callable[[Block], Result], blocks: Sequence[Block]) -> list[Result]:
    """WORK applied to every block, results in block order."""
    count = workers()
    if count < 2 or len(blocks) < 2:
        return [work(block) for block in blocks]
    with ThreadPoolExecutor(min(count, len(blocks))) as pool:
        return list(pool.map(work, blocks))
