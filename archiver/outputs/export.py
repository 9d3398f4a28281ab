"""Export for replay tools: WACZ packages (ReplayWeb.page) and CDXJ indexes (pywb).

A WACZ for one article holds a WARC made of copies of that article's and its sources'
gzip members (one member = one record, so bytes are copied, never rewritten), with the
warcinfo records of the files they came from. Records keep their digests, so the copy
verifies like the original.
"""

from __future__ import annotations

import contextlib
import io
import json
import shutil
import tempfile
from pathlib import Path
from typing import Any, Callable

from archiver.runs.directory import ArchiveDir
from archiver.analyze.answers import readable_capture
from archiver.db.queries import find_article, revisited
from archiver.errors import ExportError
from archiver.results import CdxjExport, WaczExport
from archiver.outputs.verify import walk_warc
from archiver.warc.reader import OPEN_SUFFIX


def closed_warcs(archive: ArchiveDir) -> tuple[list[Path], list[Path]]:
    """(closed WARC files, files still open by a run) under the archive's warcs/ directory."""
    if not archive.warcs_dir.is_dir():
        return [], []
    closed = sorted(archive.warcs_dir.glob("*.warc.gz"))
    return closed, archive.open_warc_files()


# -- CDXJ -------------------------------------------------------------------------------------


Progress = Callable[[int, int, str], None]  # (done, total, what is being worked on)


def export_cdxj(archive: ArchiveDir, output: Path, progress: Progress | None = None) -> CdxjExport:
    """A sorted CDXJ index (``surt timestamp {json}``) of every closed WARC file.

    Filenames in the index are the WARC files' base names: pywb looks them up in its
    collection's ``archive/`` directory, where ``wb-manager add`` copies them.
    """
    try:
        from cdxj_indexer.main import CDXJIndexer
    except ImportError:  # pragma: no cover - a dependency
        raise ExportError("CDXJ export needs the cdxj-indexer package: pip install cdxj-indexer") from None
    closed, still_open = closed_warcs(archive)
    if not closed:
        raise ExportError(f"{archive.path} holds no closed WARC files to index")
    # One file at a time, so that a long export can say how far it is; the lines are sorted
    # together at the end, as the indexer's own sort=True would.
    lines: list[str] = []
    for number, path in enumerate(closed):
        if progress:
            progress(number, len(closed), path.name)
        buffer = io.StringIO()
        CDXJIndexer(buffer, [str(path)], sort=False).process_all()
        lines += buffer.getvalue().splitlines()
    if progress:
        progress(len(closed), len(closed), "sorting the index")
    lines.sort()
    text = "".join(line + "\n" for line in lines)
    _write_atomic(output, text.encode("utf-8"))
    return CdxjExport(str(output), text.count("\n"), [p.name for p in closed], [p.name for p in still_open])


# -- WACZ -------------------------------------------------------------------------------------


def _copy(src: Path, offset: int, length: int, out) -> None:
    with open(src, "rb") as fh:
        fh.seek(offset)
        left = length
        while left:
            chunk = fh.read(min(left, 1 << 20))
            if not chunk:
                raise ExportError(f"{src.name}: record at offset {offset} is cut short (run archiver verify)")
            out.write(chunk)
            left -= len(chunk)


def article_captures(archive: ArchiveDir, article: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """An article row and every captures row of it and its cited sources (with originals of revisits)."""
    store = archive.store
    art = find_article(store, article)
    rows = store.rows(
        """SELECT * FROM captures WHERE url_id = ? OR url_id IN
           (SELECT url_id FROM citations WHERE article_id = ? AND cited = 1 AND url_id IS NOT NULL) ORDER BY id""",
        (art["url_id"], art["id"]),
    )
    ids = {r["id"] for r in rows}
    for row in list(rows):
        for found in revisited(store, row):
            if found["id"] in ids:
                break
            rows.append(found)
            ids.add(found["id"])
    return art, rows


def write_article_warc(archive: ArchiveDir, article: str, output: Path) -> dict[str, Any]:
    """One WARC holding the article's and its sources' records, copied member by member."""
    art, rows = article_captures(archive, article)
    store = archive.store
    wanted: dict[str, set[str]] = {}  # file -> record ids
    for row in rows:
        if row.get("warc_file"):
            wanted.setdefault(row["warc_file"], set()).add(row["warc_record_id"])
    ids = [r["id"] for r in rows]
    if ids:
        marks = ",".join("?" for _ in ids)
        for hop in store.rows(f"SELECT warc_file, warc_record_id FROM hops WHERE capture_id IN ({marks})", ids):
            if hop["warc_file"]:
                wanted.setdefault(hop["warc_file"], set()).add(hop["warc_record_id"])
    if not wanted:
        raise ExportError(f"article {article!r} has no WARC records to export")
    copied = 0
    with open(output, "wb") as out:
        for relpath in sorted(wanted):
            path = archive.warc_path(relpath)
            if not path.exists():
                raise ExportError(f"{relpath} is missing (run archiver verify)")
            records = walk_warc(path, relpath, path.name.endswith(OPEN_SUFFIX), 1 << 62).records
            ids_here = wanted[relpath]
            # Requests and metadata travel with the record they are Concurrent-To.
            for info in records.values():
                if info.type in ("request", "metadata") and info.record_id and any(t in ids_here for t in info.concurrent_to):
                    ids_here = ids_here | {info.record_id}
            for offset in sorted(records):
                info = records[offset]
                if info.type == "warcinfo" or info.record_id in ids_here:
                    _copy(path, offset, info.length, out)
                    copied += 1
    return {"article": art, "records": copied, "files": sorted(wanted)}


def _pages(archive: ArchiveDir, article: str | None) -> list[dict[str, Any]]:
    """pages.jsonl entries: each article, then the sources it cites, at their first good capture."""
    store = archive.store
    if article is not None:
        articles = [find_article(store, article)]
    else:
        articles = store.rows("SELECT a.*, u.url FROM articles a JOIN urls u ON u.id = a.url_id ORDER BY a.id")
    pages, seen = [], set()
    for art in articles:
        url_ids = [art["url_id"]] + [
            r["url_id"] for r in store.rows("SELECT url_id FROM citations WHERE article_id = ? AND cited = 1 AND url_id IS NOT NULL ORDER BY position", (art["id"],))
        ]
        for url_id in url_ids:
            if url_id in seen:
                continue
            seen.add(url_id)
            row = next(
                (
                    r
                    for r in store.rows(
                        """SELECT c.*, u.url FROM captures c JOIN urls u ON u.id = c.url_id
                           WHERE c.url_id = ? AND c.record_type IN ('response', 'resource') ORDER BY c.id""",
                        (url_id,),
                    )
                    if readable_capture(r)
                ),
                None,
            )
            if row:
                page = {"id": f"p{url_id}", "url": row["requested_url"] or row["url"], "ts": row["fetched_at"]}
                if url_id == art["url_id"]:
                    page["title"] = art.get("title") or row.get("title") or row["url"]
                elif row.get("title"):
                    page["title"] = row["title"]
                pages.append(page)
    return pages


def export_wacz(archive: ArchiveDir, output: Path, article: str | None = None, progress: Progress | None = None) -> WaczExport:
    """A WACZ package of the whole archive, or of one article and its sources.

    ``progress`` hears of the three steps: the records, the pages list, the package.
    """

    def step(done: int, what: str) -> None:
        if progress:
            progress(done, 3, what)

    try:
        from wacz.main import main as wacz_main
    except ImportError:  # pragma: no cover - a dependency
        raise ExportError("WACZ export needs the wacz package (py-wacz): pip install wacz") from None
    with tempfile.TemporaryDirectory(prefix="archiver-wacz-") as tmp:
        tmpdir = Path(tmp)
        skipped_open: list[str] = []
        step(0, "collecting the records")
        if article is not None:
            art, _rows = article_captures(archive, article)
            warc = tmpdir / f"article-{art['id']}.warc.gz"
            written = write_article_warc(archive, article, warc)
            warcs = [warc]
            title = f"{art.get('title') or art['url']} and the sources it cites"
            main_url = art["url"]
        else:
            warcs, still_open = closed_warcs(archive)
            skipped_open = [p.name for p in still_open]
            if not warcs:
                raise ExportError(f"{archive.path} holds no closed WARC files to package")
            written = {"records": None}
            title = f"archiver archive {archive.path.name}"
            main_url = None
        step(1, "listing the pages")
        pages = _pages(archive, article)
        pages_file = tmpdir / "pages.jsonl"
        lines = [json.dumps({"format": "json-pages-1.0", "id": "pages", "title": "Articles and their sources"})]
        lines += [json.dumps(p, ensure_ascii=False) for p in pages]
        pages_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
        partial = tmpdir / "out.wacz"
        args = ["create", "-o", str(partial), "-p", str(pages_file), "-c", "--title", title,
                "--desc", "Exported by archiver: captures with provenance"]
        if main_url:
            args += ["--url", main_url]
        args += [str(w) for w in warcs]
        size = sum(w.stat().st_size for w in warcs)
        step(2, f"packaging {len(warcs)} WARC files ({size / 1e6:.1f} MB), hashing every record")
        log = io.StringIO()
        with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
            code = wacz_main(args)
        if code not in (0, None) or not partial.exists():
            raise ExportError(f"wacz create failed: {log.getvalue().strip()[-500:]}")
        output.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(partial), output)
    return WaczExport(str(output), article, len(pages), [w.name for w in warcs], written.get("records"), skipped_open)


def validate_wacz(path: Path) -> tuple[bool, str]:
    """Run py-wacz's validator; (valid, its output)."""
    from wacz.main import main as wacz_main

    log = io.StringIO()
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        code = wacz_main(["validate", "-f", str(path)])
    return code == 0, log.getvalue()


def _write_atomic(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
