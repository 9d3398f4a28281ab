"""The extraction pool: the same results as extracting in-process, and workers that die with their run."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from archiver.analyze.pool import ExtractionPool
from archiver.analyze.text import safe_extract

SITE = Path(__file__).resolve().parents[1] / "archiver" / "sample" / "site"


def sample_pages() -> list[tuple[bytes, str, str]]:
    pages = []
    for path in sorted(SITE.rglob("*")):
        if path.is_file() and path.suffix in (".html", ".txt", ".css"):
            kind = "text/html" if path.suffix == ".html" else "text/plain"
            pages.append((path.read_bytes(), kind, f"http://{path.relative_to(SITE).as_posix()}"))
    return pages


def in_fresh_process(code: str) -> None:
    """Run ``code`` in a new interpreter: the pool forks only where no other thread runs,
    and the test session has threads of its own (servers of other tests)."""
    root = Path(__file__).resolve().parents[1]
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, cwd=root)
    assert done.returncode == 0, done.stderr[-3000:]
    assert done.stdout.strip().endswith("ok"), done.stdout


def test_pool_gives_the_in_process_results():
    assert len(sample_pages()) > 10
    in_fresh_process(
        "from tests.test_extraction_pool import sample_pages\n"
        "from archiver.analyze.pool import ExtractionPool\n"
        "from archiver.analyze.text import safe_extract\n"
        "pages = sample_pages()\n"
        "with ExtractionPool(2) as pool:\n"
        "    assert pool.workers == 2, pool.workers\n"
        "    futures = [pool.submit(*page) for page in pages]\n"
        "    pooled = [pool.result(f, *page) for f, page in zip(futures, pages)]\n"
        "assert pooled == [safe_extract(*page) for page in pages]\n"
        "print('ok')\n"
    )


def test_no_workers_extracts_in_process():
    pages = sample_pages()[:3]
    pool = ExtractionPool(0)
    assert pool.workers == 0
    assert [pool.submit(*p).result() for p in pages] == [safe_extract(*p) for p in pages]
    pool.close()


def children(pid: int) -> list[int]:
    found = []
    for task in os.listdir(f"/proc/{pid}/task"):
        found += [int(c) for c in Path(f"/proc/{pid}/task/{task}/children").read_text().split()]
    return found


def alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False


def test_workers_die_with_a_killed_run(tmp_path):
    # A worker outliving its run would hold the run's archive lock (an inherited flock) forever.
    script = "import sys, time\nfrom archiver.analyze.pool import ExtractionPool\npool = ExtractionPool(2)\nprint('ready', flush=True)\ntime.sleep(600)\n"
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready"
        workers = [p for p in children(proc.pid) if "python" in Path(f"/proc/{p}/cmdline").read_text()]
        assert len(workers) >= 2
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    for _ in range(200):
        if not any(alive(w) for w in workers):
            break
        time.sleep(0.05)
    assert not any(alive(w) for w in workers), "extraction workers outlived the killed run"


def test_no_fork_beside_other_threads():
    import threading

    stop = threading.Event()
    other = threading.Thread(target=stop.wait)
    other.start()
    try:
        pool = ExtractionPool(2)
        assert pool.workers == 0  # extracts in-process rather than fork beside a running thread
        pool.close()
    finally:
        stop.set()
        other.join()


def test_large_bodies_are_cut_as_extract_would_cut_them():
    # A worker gets only the bytes extraction reads, and the result is the same as in-process.
    in_fresh_process(
        "from archiver.analyze.pool import ExtractionPool\n"
        "from archiver.analyze.text import safe_extract\n"
        "text = ('The council said the repair would finish in spring. ' * 200_000).encode()\n"
        "html = b'<html><head><title>Big</title></head><body><p>' + text + b'</p></body></html>'\n"
        "binary = b'\\x00\\x01' * 3_000_000\n"
        "pages = [(text, 'text/plain', 'http://x/t'), (html, 'text/html', 'http://x/h'), (binary, 'application/octet-stream', 'http://x/b')]\n"
        "with ExtractionPool(2) as pool:\n"
        "    assert pool.workers == 2, pool.workers\n"
        "    for page in pages:\n"
        "        assert pool.result(pool.submit(*page), *page) == safe_extract(*page)\n"
        "print('ok')\n"
    )


def test_read_for_extraction_reads_what_extract_uses():
    import io

    from archiver.analyze.text import EXTRACT_LIMIT, TEXT_LIMIT, read_for_extraction

    text = b"plain words of a very long data file\n" * 400_000  # ~15 MB
    assert read_for_extraction(io.BytesIO(text), "text/plain") == text[:TEXT_LIMIT]
    assert safe_extract(read_for_extraction(io.BytesIO(text), "text/plain"), "text/plain", "u") == safe_extract(text[:EXTRACT_LIMIT], "text/plain", "u")
    binary = b"\x00\x01" * 100_000
    assert read_for_extraction(io.BytesIO(binary), "application/octet-stream") == binary[:4096]
    assert safe_extract(binary[:4096], "application/octet-stream", "u") == safe_extract(binary, "application/octet-stream", "u")
    small = b"<html><body><p>Short page.</p></body></html>"
    assert read_for_extraction(io.BytesIO(small), "text/html") == small
    page = b"<html><body><p>" + b"A long page. " * 2_000_000 + b"</p></body></html>"  # 26 MB of HTML: cut as before
    assert read_for_extraction(io.BytesIO(page), "text/html") == page[:EXTRACT_LIMIT]
