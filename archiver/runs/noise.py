"""Learning what is volatile on one page: fetch it again moments later and see what differs.

A recheck that sees a page differ from its baseline asks the page itself before calling it
an edit: whatever differs between two fetches a few seconds apart (a market ticker, a
rotating box, a counter no generic mask knows) is noise on that page, not an edit. The
second fetch is a look, not evidence: it is not recorded as a capture.
"""

from __future__ import annotations

import time

from archiver.analyze.judge import VolatileMask, learn_volatile
from archiver.analyze.text import Extracted, extract_exchange
from archiver.net.fetch import Fetcher


def second_look(fetcher: Fetcher, url: str, first: Extracted | None, delay: float) -> VolatileMask | None:
    """The noise on ``url``: what differs between ``first`` (just fetched) and a fetch ``delay`` seconds later.

    None when the second fetch fails or is not a readable 200 answer: nothing learned then.
    """
    if first is None or not first.text:
        return None
    if delay > 0:
        time.sleep(delay)
    result = fetcher.fetch(url)
    try:
        final = result.final
        if result.error is not None or final is None or final.status != 200:
            return None
        second = extract_exchange(final)
    finally:
        result.close()
    if second is None or not second.text:
        return None
    return learn_volatile(first, second)
