#!/usr/bin/env python3
"""Benchmark: what judging every capture of a tracked URL costs, measured in the same run.

On the bundled sample web (an article citing 11 sources), per repetition:

- baselines: the article captured into an empty archive at version 1, and at version 2
  (the same fetches as below, nothing tracked yet, so nothing judged);
- the article captured again at version 1 (every page judged against its baseline, no change),
  then at version 2 (every page judged, six change events, soft-404 probes of changed pages);
- a recheck at version 2, whose unchanged pages answer 304.

Printed: wall time (median over --repeat) and its ratio to the baseline of the same version;
and the WARC bytes per page of a 304 recheck (the empty revisit and the 304 kept as a metadata
record) against those of the first capture (the response record), request records left out of both.

    python scripts/bench_evidence.py [--repeat 3]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from archiver import Archive  # noqa: E402
from archiver.options import FetchOptions, RecheckOptions  # noqa: E402
from archiver.sample import ARTICLE_URL, SampleWeb  # noqa: E402


def _record_bytes(archive: Archive, run_id: int, where: str = "1") -> tuple[int, int]:
    """(bytes of the final records of a run's captures, with their attachments, and how many captures)."""
    pages, records = archive.query(
        f"SELECT COUNT(*), COALESCE(SUM(warc_length), 0) FROM captures WHERE run_id = ? AND warc_file IS NOT NULL AND {where}", (run_id,)
    ).rows[0]
    extra = archive.query(
        f"""SELECT COALESCE(SUM(a.warc_length), 0) FROM attachments a JOIN captures c ON c.id = a.capture_id
            WHERE c.run_id = ? AND {where.replace('http_status', 'c.http_status')}""",
        (run_id,),
    ).rows[0][0]
    return records + extra, pages


def _timed(call):
    start = time.perf_counter()
    result = call()
    return time.perf_counter() - start, result


def one_round(web: SampleWeb) -> dict[str, float]:
    fetch = FetchOptions(proxy=web.proxy_url, read_timeout=5, total_timeout=10, retries=0)
    out: dict[str, float] = {}
    with tempfile.TemporaryDirectory(prefix="archiver-bench-") as tmp:
        web.version = 2
        with Archive(Path(tmp) / "fresh", create=True) as fresh:
            # Baseline: the same fetches at version 2 into an empty archive, so nothing is judged.
            out["baseline_v2_fresh"], _ = _timed(lambda: fresh.capture([ARTICLE_URL], fetch=fetch))
        web.version = 1
        with Archive(Path(tmp) / "a", create=True) as archive:
            out["baseline_v1_fresh"], first = _timed(lambda: archive.capture([ARTICLE_URL], fetch=fetch))
            first_bytes, first_pages = _record_bytes(archive, first.run_id)
            out["recapture_v1_unchanged"], same = _timed(lambda: archive.capture([ARTICLE_URL], fetch=fetch))
            assert not same.changes, same.changes
            web.version = 2
            out["recapture_v2_changed"], changed = _timed(lambda: archive.capture([ARTICLE_URL], fetch=fetch))
            assert len(changed.changes) >= 5, changed.changes
            recheck = archive.recheck(RecheckOptions(due_only=False), fetch=fetch)
            not_modified_bytes, not_modified = _record_bytes(archive, recheck.run_id, "http_status = 304")
        out["bytes_per_page_first_capture"] = first_bytes / max(first_pages, 1)
        out["bytes_per_304_page"] = not_modified_bytes / max(not_modified, 1)
        out["pages_304"] = not_modified
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    rounds = []
    with SampleWeb() as web:
        for _ in range(args.repeat):
            rounds.append(one_round(web))
    median = {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}
    v1, v2 = median["baseline_v1_fresh"], median["baseline_v2_fresh"]
    print(f"capture at v1 into an empty archive (baseline)    {v1:7.3f} s   1.00x")
    print(f"capture at v1 again: 12 pages judged, no change   {median['recapture_v1_unchanged']:7.3f} s   {median['recapture_v1_unchanged'] / v1:4.2f}x")
    print(f"capture at v2 into an empty archive (baseline)    {v2:7.3f} s   1.00x")
    print(f"capture at v2 again: judged, 6 change events      {median['recapture_v2_changed']:7.3f} s   {median['recapture_v2_changed'] / v2:4.2f}x")
    ratio = median["bytes_per_304_page"] / median["bytes_per_page_first_capture"]
    print(
        f"WARC bytes per page (final record + attachments): first capture {median['bytes_per_page_first_capture']:.0f}, "
        f"304 recheck {median['bytes_per_304_page']:.0f} (empty revisit + the 304 as metadata, {int(median['pages_304'])} pages) = {ratio:.2f}x"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
