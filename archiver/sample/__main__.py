"""``python -m archiver.sample serve [--host 127.0.0.1] [--port 8765] [--version 1]``

Runs the sample web in the foreground and prints the proxy URL and the article URL.
"""

from __future__ import annotations

import argparse
import sys

from .routes import VERSIONS
from .server import SampleWeb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m archiver.sample", description="The archiver sample citation web.")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="serve the sample web as an HTTP proxy in the foreground")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, default=8765, help="port to listen on (default 8765; 0 = any free port)")
    serve.add_argument("--version", type=int, choices=VERSIONS, default=1,
                       help="1 = day of publication, 2 = a month later, 3 = two months later")
    serve.add_argument("--hang-seconds", type=float, default=30.0,
                       help="how long a host that stops answering holds each request (default 30)")
    serve.add_argument("--quiet", action="store_true", help="do not log each request")
    args = parser.parse_args(argv)

    web = SampleWeb(host=args.host, port=args.port, version=args.version,
                    hang_seconds=args.hang_seconds, verbose=not args.quiet)
    web.start()
    print(f"proxy URL:   {web.proxy_url}", flush=True)
    print(f"article URL: {web.article_url}", flush=True)
    print(f"version:     {web.version}", flush=True)
    print(f"try:         curl -x {web.proxy_url} {web.article_url}", flush=True)
    print("(http only; press Ctrl-C to stop)", flush=True)
    try:
        web.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        web.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
