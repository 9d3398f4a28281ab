"""The archiver CLI, stopped (SIGSTOP) the moment an open WARC file grows past N bytes.

A test then kills it with SIGKILL at exactly that point, however fast or slow the machine:
inside the record being written, never after it. The stop is taken after a real write to the
real file; nothing of archiver is replaced.

    python -m tests.freeze BYTES ARCHIVER-ARGS...
"""

from __future__ import annotations

import os
import signal
import sys


def main(argv: list[str]) -> None:
    limit = int(argv[0])
    from archiver.warc import writer

    write_all = writer._write_all

    def write_then_freeze(fd: int, data: bytes) -> None:
        write_all(fd, data)
        if os.fstat(fd).st_size > limit:
            os.kill(os.getpid(), signal.SIGSTOP)

    writer._write_all = write_then_freeze
    from archiver.cli import main as cli

    sys.argv = ["archiver", *argv[1:]]
    cli()


if __name__ == "__main__":
    main(sys.argv[1:])
