"""Main-text extraction in worker processes, so parsing pages never holds up fetching them.

Extraction (lxml, trafilatura, the fingerprint) is pure Python CPU work: in the process that
fetches, records and stores, it would serialise the whole run behind the GIL. A pool of
worker processes, one per core the run may use, extracts while the main process keeps
fetching. The results are the same as :func:`archiver.analyze.text.safe_extract` in-process:
the workers run that very function, on the very bytes it would read.

A parsed page (``keep_document``) cannot cross a process boundary: pages whose tree other
readers need (an article, a sibling page of its site) are extracted in-process.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool

from archiver.analyze.text import SNIFF_BYTES, Extracted, extract_limit, safe_extract

_PR_SET_PDEATHSIG = 1  # prctl option: the signal a process gets when its parent dies


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def _warm_up() -> None:
    # Imported before the first page so the first extraction does not pay for it.
    import lxml.html  # noqa: F401
    import trafilatura  # noqa: F401

    import archiver.analyze.features  # noqa: F401


def _worker_start(parent: int) -> None:
    """In each worker: die with the run. A worker outliving a killed run would keep its
    archive lock (the flock is shared with the forked worker) and block the next run."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL)
    except (OSError, AttributeError):  # not Linux: a killed run's workers exit when their queue closes
        pass
    if os.getppid() != parent:  # the run died before prctl took effect
        os._exit(0)


def what_extract_reads(data: bytes, content_type: str | None) -> bytes:
    """The part of ``data`` that :func:`extract` looks at (the same result from fewer bytes):
    a freak body is not copied whole to a worker."""
    return data[: extract_limit(data[:SNIFF_BYTES], content_type)]


class ExtractionPool:
    """Extracts bodies in ``workers`` processes (default: the usable cores); 0 or 1 extracts in-process.

    Start it before the run starts any thread: the workers are forked at once, sharing the
    extraction modules the run has imported (no re-import, no copy of that memory). Where
    other threads already run, it extracts in-process instead (see ``__init__``).
    """

    def __init__(self, workers: int | None = None) -> None:
        self.workers = usable_cores() if workers is None else workers
        self._pool: ProcessPoolExecutor | None = None
        # Forking a process where another thread runs (a program calling the library from a
        # thread, a test server) could copy a lock that thread holds: such a caller extracts in-process.
        if self.workers > 1 and "fork" in multiprocessing.get_all_start_methods() and threading.active_count() == 1:
            _warm_up()
            context = multiprocessing.get_context("fork")
            self._pool = ProcessPoolExecutor(self.workers, mp_context=context, initializer=_worker_start, initargs=(os.getpid(),))
            # The workers share the run's imported modules page for page until something writes
            # to them; the garbage collector's passes would (each object it visits), so what
            # exists at the fork is kept out of the workers' collections.
            gc.freeze()
            try:
                # A fork-context executor forks all its workers at the first submit: do it now, before any thread.
                self._pool.submit(_warm_up).result()
            finally:
                gc.unfreeze()  # the run's own process collects as before
        else:
            self.workers = 0

    def submit(self, data: bytes, content_type: str | None, url: str) -> Future[Extracted | None]:
        """The extraction of a body, as a future; done at once when there are no workers."""
        if self._pool is not None:
            try:
                return self._pool.submit(safe_extract, what_extract_reads(data, content_type), content_type, url)
            except (BrokenProcessPool, RuntimeError):
                # A worker died (out of memory on a freak page): carry on in-process.
                self._pool = None
        future: Future = Future()
        future.set_result(safe_extract(data, content_type, url))
        return future

    @staticmethod
    def result(future: Future[Extracted | None], data: bytes, content_type: str | None, url: str) -> Extracted | None:
        """A future's extraction; a worker killed under it (say, by the OOM killer) means extracting in-process."""
        try:
            return future.result()
        except BrokenProcessPool:
            return safe_extract(data, content_type, url)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def __enter__(self) -> ExtractionPool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
