"""Date formatting that behaves the same on every platform."""

from __future__ import annotations

import re
from datetime import datetime

# strftime's '%-d' (no leading zero) exists only on glibc; we expand it ourselves everywhere.
_UNPADDED = re.compile(r"%-([dmHIMSj])")


def format_date(moment: datetime, pattern: str) -> str:
    def unpadded(match: re.Match[str]) -> str:
        return str(int(moment.strftime("%" + match.group(1))))

    return moment.strftime(_UNPADDED.sub(unpadded, pattern))
