"""Check external links over the network: HEAD, then GET when HEAD is refused; a few at a time."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor

from builder import __version__

MAX_CONCURRENT = 8
TIMEOUT = 10.0


def failures(urls: Iterable[str], *, timeout: float = TIMEOUT, workers: int = MAX_CONCURRENT) -> dict[str, str]:
    """URL -> why it fails, for each URL that does not answer with a success (or a redirect to one)."""
    unique = sorted(set(urls))
    with ThreadPoolExecutor(max_workers=max(1, min(workers, len(unique) or 1))) as pool:
        results = pool.map(lambda url: (url, _problem(url, timeout)), unique)
        return {url: reason for url, reason in results if reason is not None}


def _problem(url: str, timeout: float) -> str | None:
    reason = _request(url, "HEAD", timeout)
    if reason is None:
        return None
    # Many servers refuse or mishandle HEAD; only a failed GET counts.
    return _request(url, "GET", timeout)


def _request(url: str, method: str, timeout: float) -> str | None:
    request = urllib.request.Request(url, method=method, headers={
        "User-Agent": f"builder-check/{__version__} (link checker)", "Accept": "*/*"})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if method == "GET":
                response.read(1024)
            return None
    except urllib.error.HTTPError as exc:
        return f"HTTP {exc.code} {exc.reason}".strip()
    except urllib.error.URLError as exc:
        return f"cannot connect ({exc.reason})"
    except TimeoutError:
        return f"no answer within {timeout:g} s"
    except (OSError, ValueError) as exc:
        return f"cannot connect ({exc})"
