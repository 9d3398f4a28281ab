#!/usr/bin/env python3
"""Benchmark: what an unchanged recheck adds to the archive directory, per URL, and where the bytes go.

Captures an article of the fake web (scripts/fakeweb.py) citing static pages and, with
--noisy, pages whose timestamp and advert change on every request; then rechecks everything
several times. After each step the WAL is checkpointed (TRUNCATE) and the whole directory
measured (WARC files, database, WAL, shared memory), so the figure is what the disk holds.

The growth of each recheck is broken down:
  - WARC: bytes (gzip members as stored) and count per record type, the warcinfo opening
    each run's file included;
  - database: bytes per table and index (SQLite's dbstat: pages used, and the payload in
    them), rows added per table, and free pages left in the file;
  - per kind of URL: static pages and noisy pages are split by their captures rows.

By default the static pages send validators (ETag, Last-Modified) and answer a conditional
request with 304, as a static file server does; --no-validators serves them without, so
each recheck downloads the page again and archiver compares payload digests.

With --noisy 1 every cited page is noisy; the figure to compare with a static page's is then
what a recheck adds beyond the noisy pages' response records (the bytes the server sent,
which are kept whatever they are). --baseline-rev main runs the same scenario with main's code
first, in the same run.

    python scripts/bench_recheck.py [--citations 80] [--noisy 0.25] [--noise visible|tokens] [--rounds 3]
                                    [--no-validators] [--baseline-rev main] [--keep DIR]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sqlite3
import subprocess
import sys
import tarfile
import tempfile
from collections import Counter
from io import BytesIO
from pathlib import Path

from warcio.archiveiterator import ArchiveIterator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from fakeweb import FakeWeb

ROOT = Path(__file__).resolve().parents[1]


def checkpoint(archive: Path) -> None:
    db = sqlite3.connect(archive / "archive.db")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def sizes(archive: Path) -> dict[str, int]:
    """Bytes on disk by part: WARC files, the database file, its WAL and shared memory, the rest.

    ``left wal`` is the WAL as the run left it, before this checkpoint (archiver's last
    connection checkpoints and removes it on close, so it should be 0)."""
    out: Counter[str] = Counter()
    wal = archive / "archive.db-wal"
    left = wal.stat().st_size if wal.exists() else 0
    checkpoint(archive)
    for root, _, files in os.walk(archive):
        for name in files:
            if ".warc" in name:
                key = "warc"
            elif name == "archive.db":
                key = "database"
            elif name.startswith("archive.db-"):
                key = "wal+shm"
            else:
                key = "other"
            out[key] += os.path.getsize(os.path.join(root, name))
    return {**out, "left wal": left}


def warc_records(archive: Path, files: set[str]) -> dict[str, list[int]]:
    """Per WARC-Type in ``files``: [records, bytes as stored (gzip members)]."""
    out: dict[str, list[int]] = {}
    for name in sorted(files):
        path = archive / name
        with open(path, "rb") as stream:
            iterator = ArchiveIterator(stream)
            for record in iterator:
                rtype = record.rec_headers.get_header("WARC-Type")
                profile = record.rec_headers.get_header("WARC-Profile") or ""
                if rtype == "revisit":
                    rtype += " (not-modified)" if profile.endswith("server-not-modified") else " (identical)"
                record.content_stream().read()
                iterator.read_to_end()
                entry = out.setdefault(rtype, [0, 0])
                entry[0] += 1
                entry[1] += iterator.get_record_length()
    return out


def warc_files(archive: Path) -> set[str]:
    return {str(p.relative_to(archive)) for p in archive.rglob("*.warc.gz")}


def db_objects(archive: Path) -> tuple[dict[str, tuple[int, int]], dict[str, int], int]:
    """Per table/index: (bytes of pages used, payload bytes); rows per table; free pages."""
    db = sqlite3.connect(archive / "archive.db")
    try:
        pages = {name: (used, payload) for name, used, payload in db.execute("SELECT name, sum(pgsize), sum(payload) FROM dbstat GROUP BY name")}
        tables = [r[0] for r in db.execute("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' AND sql NOT LIKE '%VIRTUAL%'")]
        rows = {t: db.execute(f"SELECT count(*) FROM [{t}]").fetchone()[0] for t in tables}
        free = db.execute("PRAGMA freelist_count").fetchone()[0] * db.execute("PRAGMA page_size").fetchone()[0]
    finally:
        db.close()
    return pages, rows, free


def per_kind(archive: Path, run_id: int) -> dict[str, Counter]:
    """Captures of one run split by kind of URL (static, noisy): records written and bytes."""
    db = sqlite3.connect(archive / "archive.db")
    out: dict[str, Counter] = {}
    for url, record_type, length in db.execute(
        "SELECT u.url, c.record_type, c.warc_length FROM captures c JOIN urls u ON u.id = c.url_id WHERE c.run_id = ?", (run_id,)
    ):
        kind = "noisy" if "/noisy/" in url else "article" if "/article-" in url else "static"
        entry = out.setdefault(kind, Counter())
        entry["urls"] += 1
        entry[f"{record_type}s"] += 1
        entry[f"{record_type} bytes"] += length or 0
    db.close()
    return out


def scenario(args: argparse.Namespace, code: Path, label: str, verbose: bool) -> list[dict[str, float]]:
    """Capture, then ``args.rounds`` rechecks with the archiver package under ``code``; per round:
    bytes added per URL, and per URL bytes added beyond the noisy pages' response records."""
    work = Path(tempfile.mkdtemp(prefix="archiver-bench-recheck-"))
    archive = work / "archive"
    env = {**os.environ, "PYTHONPATH": str(code)}
    results: list[dict[str, float]] = []
    try:
        with FakeWeb(1, args.citations, args.hosts, noisy=args.noisy, validators=not args.no_validators, noise=args.noise) as web:
            def run(*command: str) -> None:
                # From the work directory, so that PYTHONPATH decides which archiver runs.
                subprocess.run([sys.executable, "-m", "archiver", "--archive", str(archive), *command, "--proxy", web.proxy_url,
                                "--allow-private"], stdout=subprocess.DEVNULL, check=True, env=env, cwd=work)

            urls = web.urls()
            n = len(urls)
            noisy = sum(1 for u in urls if "/noisy/" in u)
            if verbose:
                print(f"{n} URLs ({noisy} noisy ({args.noise}), {n - noisy - 1} static, 1 article) over {len(web.latency)} hosts; "
                      f"validators (ETag, Last-Modified, 304): {'no' if args.no_validators else 'yes'}")
            run("capture", *web.articles)
            before = sizes(archive)
            before_files = warc_files(archive)
            before_db = db_objects(archive)
            if verbose:
                print(f"after capture: {sum(v for k, v in before.items() if k != 'left wal'):,} bytes ({', '.join(f'{k} {v:,}' for k, v in sorted(before.items()))})")
            for round_ in range(1, args.rounds + 1):
                run("recheck", "--all")
                after = sizes(archive)
                after_files = warc_files(archive)
                after_db = db_objects(archive)
                grown = {k: after.get(k, 0) - before.get(k, 0) for k in set(after) | set(before) if k != "left wal"}
                total = sum(grown.values())
                db = sqlite3.connect(archive / "archive.db")
                run_id = db.execute("SELECT max(id) FROM runs").fetchone()[0]
                changes = db.execute("SELECT count(*) FROM changes").fetchone()[0]
                db.close()
                kinds = per_kind(archive, run_id)
                served = kinds.get("noisy", Counter())["response bytes"]
                results.append({"per_url": total / n, "beyond_served": (total - served) / n, "changes": changes})
                print(f"{label} recheck {round_}: +{total:,} bytes, {total / n:,.0f} per URL "
                      f"({', '.join(f'{k} {v / n:,.0f}' for k, v in sorted(grown.items()) if v)}); "
                      + (f"beyond the noisy pages' response records: {(total - served) / n:,.0f} per URL; " if served else "")
                      + f"change events so far: {changes}; WAL the run left: {after['left wal']:,} bytes")
                if verbose:
                    breakdown(archive, n, before_files, after_files, before_db, after_db, kinds)
                before, before_files, before_db = after, after_files, after_db
        if args.keep and verbose:
            shutil.copytree(archive, args.keep, dirs_exist_ok=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def breakdown(archive: Path, n: int, before_files: set[str], after_files: set[str], before_db, after_db, kinds) -> None:
    records = warc_records(archive, after_files - before_files)
    print("  WARC records written (per URL checked):")
    for rtype, (count, size) in sorted(records.items(), key=lambda kv: -kv[1][1]):
        print(f"    {rtype:<28} {count:5} records {size:9,} bytes  {size / n:7,.0f} per URL  {size / max(count, 1):6,.0f} per record")
    pages, rows, free = after_db
    old_pages, old_rows, old_free = before_db
    print("  database, by table and index (bytes of pages used / payload, per URL checked):")
    deltas = []
    for name in set(pages) | set(old_pages):
        used = pages.get(name, (0, 0))[0] - old_pages.get(name, (0, 0))[0]
        payload = (pages.get(name, (0, 0))[1] or 0) - (old_pages.get(name, (0, 0))[1] or 0)
        if used or payload:
            deltas.append((used, payload, name))
    for used, payload, name in sorted(deltas, reverse=True):
        added = rows.get(name, 0) - old_rows.get(name, 0) if name in rows else None
        row_note = f"  +{added} rows" if added else ""
        print(f"    {name:<34} {used / n:7,.0f} / {payload / n:6,.0f}{row_note}")
    print(f"    free pages in the file: {free:,} bytes (was {old_free:,})")
    for kind, counts in sorted(kinds.items()):
        print(f"  {kind}: {dict(counts)}")


def unpack_revision(rev: str, into: Path) -> bool:
    """The archiver package of git revision ``rev`` under ``into`` (False when git or the revision is missing)."""
    try:
        blob = subprocess.run(["git", "-C", str(ROOT), "archive", "--format=tar", rev, "archiver"],
                              capture_output=True, check=True, timeout=120).stdout
    except (OSError, subprocess.CalledProcessError):
        return False
    with tarfile.open(fileobj=BytesIO(blob)) as tar:
        tar.extractall(into, filter="data")
    return True


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--citations", type=int, default=80)
    parser.add_argument("--hosts", type=int, default=12)
    parser.add_argument("--noisy", type=float, default=0.0, help="share of cited pages that change on every request (noise only)")
    parser.add_argument("--noise", choices=("visible", "tokens"), default="visible",
                        help="what changes on a noisy page: a timestamp and an advert, or only a CSRF token and a script nonce")
    parser.add_argument("--no-validators", action="store_true", help="serve pages without ETag / Last-Modified (no 304)")
    parser.add_argument("--rounds", type=int, default=3, help="rechecks after the capture")
    parser.add_argument("--baseline-rev", default="", help="also run the same scenario with this git revision (e.g. main), first")
    parser.add_argument("--keep", type=Path, help="leave the archive here")
    args = parser.parse_args()
    baseline: list[dict[str, float]] = []
    if args.baseline_rev:
        old = Path(tempfile.mkdtemp(prefix="archiver-bench-baseline-"))
        try:
            if unpack_revision(args.baseline_rev, old):
                baseline = scenario(args, old, f"[{args.baseline_rev}]", verbose=False)
            else:
                print(f"(no baseline: git revision {args.baseline_rev!r} not available)")
        finally:
            shutil.rmtree(old, ignore_errors=True)
    ours = scenario(args, ROOT, "[this tree]", verbose=True)
    if baseline:
        last_old, last_new = baseline[-1], ours[-1]
        print(f"\nlast recheck, bytes per URL: {args.baseline_rev} {last_old['per_url']:,.0f}, this tree {last_new['per_url']:,.0f} "
              f"({last_new['per_url'] / last_old['per_url']:.2f}x); beyond the noisy pages' response records: "
              f"{last_old['beyond_served']:,.0f} -> {last_new['beyond_served']:,.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
