"""Date formatting that behaves the same on every platform."""

from __future__ import annotations

import re
from datetime import date, datetime, time, tzinfo

# strftime's '%-d' (no leading zero) exists only on glibc; we expand it ourselves everywhere.
_UNPADDED = re.compile(r"%-([dmHIMSj])")


def format_date(moment: datetime, pattern: str) -> str:
    def unpadded(match: re.Match[str]) -> str:
        return str(int(moment.strftime("%" + match.group(1))))

    return moment.strftime(_UNPADDED.sub(unpadded, pattern))


def parse_when(value: str, tz: tzinfo) -> datetime:
    """A date or date-time; naive values are read in the site's timezone."""
    text = value.strip()
    if re.fullmatch(r"\d{4}-\d{1,2}-\d{1,2}", text):
        y, m, d = (int(part) for part in text.split("-"))
        return datetime.combine(date(y, m, d), time(0, 0), tzinfo=tz)
    parsed = datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=tz)
