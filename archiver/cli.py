"""The command line: options -> one library call (archiver.Archive) -> rendered output.

No archiving logic lives here; every command mirrors a method of :class:`archiver.Archive`.
"""

from __future__ import annotations

import functools
import json
import re
import sys
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from archiver import __version__
from archiver.analyze.answers import failed_answer
from archiver.analyze.kinds import KINDS, describe_change, seriousness
from archiver.archive import Archive
from archiver.errors import ArchiveError, ArchiveLocked, ExportError, NotFound, QueryError, ReadOnlyQuery, UsageError
from archiver.options import BROWSER_MODES, MAX_SOURCES, MEDIA_MAX_BYTES, WARC_SIZE, BrowserOptions, CaptureOptions, FetchOptions, RecheckOptions, CONFIRM_FAILURES, NOISE_DELAY
from archiver.net.browser import prepare_browser
from archiver.results import BrowserLoad, CaptureResult, Change, Fetched, RecheckResult
from archiver.runs.targets import parse_target

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def fail_usage(message: str) -> None:
    click.echo(f"archiver: error: {message}", err=True)
    sys.exit(EXIT_USAGE)


def parse_size(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*", text.lower())
    if not match:
        raise click.BadParameter(f"{text!r} is not a size (examples: 1000000, 256M, 1G)")
    number, unit = float(match.group(1)), match.group(2)
    return int(number * {"": 1, "k": 1024, "m": 1024**2, "g": 1024**3, "t": 1024**4}[unit])


def format_size(size: int) -> str:
    """A byte count the way --max-bytes takes it: 256M, 1G, or plain bytes."""
    for unit, factor in (("T", 1024**4), ("G", 1024**3), ("M", 1024**2), ("K", 1024)):
        if size and size % factor == 0:
            return f"{size // factor}{unit}"
    return str(size)


class SizeType(click.ParamType):
    name = "size"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        try:
            return parse_size(value)
        except click.BadParameter as exc:
            self.fail(str(exc), param, ctx)


_FETCH = FetchOptions()


def fetch_options(func: Callable) -> Callable:
    """The fetch options shared by capture and recheck (defaults: archiver.options.FetchOptions)."""
    options = [
        click.option("--concurrency", type=click.IntRange(1, 256), default=_FETCH.concurrency, show_default=True, help="Fetches in flight in total."),
        click.option("--per-host", type=click.IntRange(1, 64), default=_FETCH.per_host, show_default=True, help="Fetches in flight per host."),
        click.option("--delay", type=click.FloatRange(0), default=_FETCH.delay, show_default=True, help="Seconds between requests to one host."),
        click.option("--connect-timeout", type=click.FloatRange(0.1), default=_FETCH.connect_timeout, show_default=True, help="Seconds to resolve a host name and connect."),
        click.option("--timeout", type=click.FloatRange(0.1), default=_FETCH.read_timeout, show_default=True, help="Seconds of silence tolerated while reading an answer."),
        click.option("--deadline", type=click.FloatRange(0.1), default=_FETCH.total_timeout, show_default=True, help="Total seconds one fetch may take, redirects and retries included."),
        click.option("--max-bytes", type=SizeType(), default=format_size(_FETCH.max_bytes), show_default=True, help="Largest body kept; past it the record is cut (WARC-Truncated: length)."),
        click.option("--max-redirects", type=click.IntRange(0, 50), default=_FETCH.max_redirects, show_default=True, help="Redirect hops followed before giving up (too_many_redirects)."),
        click.option("--retries", type=click.IntRange(0, 10), default=_FETCH.retries, show_default=True, help="Retries on refused/reset connections, 429 and 503 (Retry-After honoured)."),
        click.option("--proxy", metavar="URL", help="HTTP(S) proxy for every fetch (default: $HTTP_PROXY/$HTTPS_PROXY, honouring $NO_PROXY)."),
        click.option("--allow-private", is_flag=True, help="Allow loopback, private and link-local targets (refused by default)."),
        click.option("--user-agent", default=_FETCH.user_agent, show_default=True, help="User-Agent header of every request."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def warc_options(func: Callable) -> Callable:
    """How a writing run lays out its WARC files."""
    return click.option(
        "--warc-size", type=SizeType(), default=format_size(WARC_SIZE), show_default=True, help="Start a new WARC file past this size."
    )(func)


def build_fetch_options(kw: dict[str, Any]) -> FetchOptions:
    if kw.get("proxy") and not re.match(r"^https?://", kw["proxy"]):
        fail_usage(f"--proxy {kw['proxy']!r}: give a URL such as http://127.0.0.1:3128")
    return replace(
        _FETCH,
        concurrency=kw["concurrency"],
        per_host=kw["per_host"],
        delay=kw["delay"],
        connect_timeout=kw["connect_timeout"],
        read_timeout=kw["timeout"],
        total_timeout=kw["deadline"],
        max_bytes=kw["max_bytes"],
        max_redirects=kw["max_redirects"],
        retries=kw["retries"],
        allow_private=kw["allow_private"],
        proxy=kw.get("proxy"),
        user_agent=kw["user_agent"],
    )


def browser_options(func: Callable) -> Callable:
    """How pages are loaded in headless Chromium, and embedded media (capture)."""
    defaults = BrowserOptions()
    options = [
        click.option(
            "--browser", "browser_mode", type=click.Choice(BROWSER_MODES), default="off", is_flag=False, flag_value="all", show_default=True,
            help="Load pages in headless Chromium, recording every request it makes: all (what a bare --browser means), "
            "the article only, its sources only, or auto: a page that looked empty to the plain fetch and loads scripts.",
        ),
        click.option("--browser-host", "browser_hosts", metavar="HOST", multiple=True, help="Always load pages of HOST (and its subdomains) in the browser; repeatable."),
        click.option("--browser-path", metavar="PATH", help="The Chromium executable (default: chromium on PATH)."),
        click.option("--page-deadline", type=click.FloatRange(5), default=defaults.page_deadline, show_default=True, help="Seconds one page may take in the browser: load, network idle, scrolling, screenshot."),
        click.option("--media", is_flag=True, help="Also fetch embedded audio and video (yt-dlp: the sites it knows, and <audio>/<video>) into the WARC."),
        click.option("--media-max-bytes", type=SizeType(), default=format_size(MEDIA_MAX_BYTES), show_default=True, help="A media file announcing more is skipped; one that turns out larger is cut there."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def apply_browser_options(options: CaptureOptions, kw: dict[str, Any]) -> None:
    """Browser and media settings onto ``options``, checked (Chromium found) before anything starts."""
    if kw.get("browser_path") and kw["browser_mode"] == "off" and not kw["browser_hosts"]:
        fail_usage("--browser-path needs --browser (or --browser-host)")
    options.browser = kw["browser_mode"]
    options.browser_hosts = tuple(h.strip().lower().strip(".") for h in kw["browser_hosts"] if h.strip())
    options.media = kw["media"]
    options.media_max_bytes = kw["media_max_bytes"]
    options.browser_options = replace(options.browser_options, executable=kw.get("browser_path"), page_deadline=kw["page_deadline"], media=kw["media"])
    try:
        prepare_browser(options)
    except UsageError as exc:
        fail_usage(str(exc))


def archive_errors(func: Callable) -> Callable:
    """Turn the library's errors into one-line messages: usage problems exit 2, failures 1."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except ReadOnlyQuery as exc:
            fail_usage(f"query is read-only: {exc}")
        except QueryError as exc:
            fail_usage(f"SQL error: {exc}")
        except (ArchiveError, UsageError) as exc:
            fail_usage(str(exc))
        except NotFound as exc:
            fail_usage(str(exc.args[0]))
        except ExportError as exc:
            click.echo(f"archiver: error: {exc}", err=True)
            sys.exit(EXIT_FAILED)
        except PermissionError as exc:
            click.echo(f"archiver: error: permission denied: {exc.filename or exc}: check the archive directory's permissions", err=True)
            sys.exit(EXIT_FAILED)
        except OSError as exc:
            if exc.errno == 28:  # ENOSPC
                click.echo(f"archiver: error: disk full while writing {exc.filename or 'the archive'}: free space and run again; what was written before is intact", err=True)
                sys.exit(EXIT_FAILED)
            if exc.errno == 30:  # EROFS
                click.echo("archiver: error: the archive is on a read-only file system", err=True)
                sys.exit(EXIT_FAILED)
            raise

    return wrapper


class ArchiverGroup(click.Group):
    """Reports usage errors on one line ("archiver: error: ..."), as every other error, with status 2."""

    def main(self, *args, **kwargs):
        kwargs["standalone_mode"] = False
        try:
            code = super().main(*args, **kwargs)
        except click.exceptions.NoArgsIsHelpError as exc:
            click.echo(exc.format_message())  # bare `archiver`: the help, not an error
            sys.exit(EXIT_OK)
        except click.UsageError as exc:
            hint = f" (see: archiver {exc.ctx.command_path.split(' ', 1)[1] + ' ' if exc.ctx and ' ' in exc.ctx.command_path else ''}--help)"
            click.echo(f"archiver: error: {exc.format_message()}{hint}", err=True)
            sys.exit(EXIT_USAGE)
        except click.ClickException as exc:
            click.echo(f"archiver: error: {exc.format_message()}", err=True)
            sys.exit(exc.exit_code)
        except click.Abort:
            click.echo("archiver: aborted", err=True)
            sys.exit(EXIT_FAILED)
        sys.exit(code or 0)


@click.group(cls=ArchiverGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archiver")
@click.option(
    "--archive",
    "archive_dir",
    type=click.Path(file_okay=True, dir_okay=True, path_type=Path),
    default=None,
    help="Archive directory (default: $ARCHIVER_HOME or ./archive).",
)
@click.pass_context
def main(ctx: click.Context, archive_dir: Path | None) -> None:
    """archiver: capture an article and every source it cites into WARC files,
    record provenance in SQLite, recheck the sources and report what changed."""
    ctx.obj = {"archive_dir": archive_dir}


def archive_dir(ctx: click.Context) -> Path:
    return ctx.obj["archive_dir"]


@contextmanager
def reading(ctx: click.Context) -> Iterator[Archive]:
    """The archive opened read-only, for a command that only reads (it runs beside a writing run)."""
    archive = Archive(archive_dir(ctx), readonly=True)
    try:
        yield archive
    finally:
        archive.close()


class TerminalProgress:
    """A one-line progress bar on stderr, drawn only when stderr is a terminal."""

    def __init__(self) -> None:
        self.enabled = sys.stderr.isatty()
        self.width = 28

    def __call__(self, done: int, total: int, url: str) -> None:
        if not self.enabled:
            return
        total = max(total, done, 1)
        filled = int(self.width * done / total)
        label = url if len(url) <= 50 else url[:47] + "..."
        sys.stderr.write(f"\r\x1b[K[{'#' * filled}{'.' * (self.width - filled)}] {done}/{total} {label}")
        sys.stderr.flush()

    def finish(self) -> None:
        if self.enabled:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


def writable(ctx: click.Context, create: bool = False, wait: bool = True) -> Archive:
    """The archive opened for writing; says so on stderr while it waits for another run."""
    try:
        return Archive(archive_dir(ctx), create=create, wait=False)
    except ArchiveLocked as exc:
        if not wait:
            raise
        click.echo(f"archiver: waiting: {exc}", err=True)
        return Archive(archive_dir(ctx), create=create, wait=True)


@main.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--all-links", is_flag=True, help="Also fetch the page's links that are not citations.")
@click.option("--requisites", is_flag=True, help="Also capture stylesheets, images and scripts, for faithful replay.")
@click.option("--max-sources", type=click.IntRange(0), default=MAX_SOURCES, show_default=True, help="Most links fetched per article; the rest are recorded as skipped.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of the summary.")
@browser_options
@fetch_options
@warc_options
@click.pass_context
@archive_errors
def capture(ctx: click.Context, targets: tuple[str, ...], all_links: bool, requisites: bool, max_sources: int, as_json: bool, **kw: Any) -> None:
    """Capture TARGETs (http(s) URLs or local HTML, Markdown or text files) and every source they cite.

    \b
    Examples:
      archiver capture https://example.org/2026/11/an-opinion-piece.html
      archiver capture draft.md saved-page.html --json
      archiver capture URL --requisites --per-host 1 --delay 2
      archiver capture URL --browser --media
    """
    parsed = [parse_target(t) for t in targets]  # before the archive is made: a bad target writes nothing
    options = CaptureOptions(
        fetch=build_fetch_options(kw), all_links=all_links, requisites=requisites, warc_size=kw["warc_size"], max_sources=max_sources
    )
    apply_browser_options(options, kw)  # a missing Chromium is found before the archive is touched
    with writable(ctx, create=True) as archive:
        with progress_bar(enabled=not as_json) as progress:
            outcome = archive.capture(parsed, options, progress=progress)
    if as_json:
        click.echo(json.dumps(outcome.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_capture_summary(outcome))
    sys.exit(EXIT_OK if outcome.ok else EXIT_FAILED)


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[TerminalProgress | None]:
    progress = TerminalProgress() if enabled else None
    try:
        yield progress
    finally:
        if progress:
            progress.finish()


def render_capture_summary(outcome: CaptureResult) -> str:
    lines = []
    for article in outcome.articles:
        title = f" \"{article.title}\"" if article.title else ""
        if article.error and article.status is None:
            lines.append(f"FAILED {article.url}: {article.error}")
            continue
        marker = "FAILED" if article.error else "Captured"
        how = f"HTTP {article.status}" if article.status else "local file"
        if article.browser:
            how += f", in the browser: {describe_load(article.browser)}"
        lines.append(f"{marker} {article.url}{title} ({how})")
        if article.error:
            lines.append(f"  {article.error}")
        if article.looked_empty:
            lines.append(f"  note: {article.looked_empty}: capture it with --browser")
        lines += describe_media(article)
        ok = [s for s in article.sources if not s.error]
        bad = [s for s in article.sources if s.error]
        lines.append(
            f"  {article.links.total} links, {article.links.cited} cited; {len(article.sources)} fetched: "
            f"{len(ok)} captured, {len(bad)} failed; {len(article.skipped)} skipped"
        )
        for source in bad:
            lines.append(f"  failed  {source.url}  {source.error}")
        for source in ok:
            if failed_answer(source.status, None):
                lines.append(f"  HTTP {source.status}  {source.url}")
        for source in article.sources:
            if source.looked_empty:
                lines.append(f"  note: {source.url}: {source.looked_empty}: capture it with --browser")
            lines += describe_media(source)
        browsed = [s for s in article.sources if s.browser]
        if browsed:
            lines.append(f"  {len(browsed)} sources loaded in the browser")
        quotes = article.quotes
        unchecked = sum(1 for q in quotes if q.status is None)
        if quotes:
            found = sum(1 for q in quotes if q.status == "present")
            lines.append(
                f"  {len(quotes)} quotations, {found} found in their sources"
                + (f", {unchecked} unchecked (source not captured)" if unchecked else "")
            )
        for quote in quotes:
            if quote.status in ("altered", "missing"):
                lines.append(f"  quotation {quote.status}: \"{quote.text[:80]}\"")
    lines.append(f"Archive: {outcome.archive} (run {outcome.run_id})")
    return "\n".join(lines)


@main.command()
@click.option("--all", "check_all", is_flag=True, help="Check every tracked URL now.")
@click.option("--due", "check_due", is_flag=True, help="Check only URLs whose next check is due (the default).")
@click.option("--article", metavar="URL", help="Only this article (URL or id) and its sources.")
@click.option("--confirm", type=click.IntRange(1, 20), default=CONFIRM_FAILURES, show_default=True, help="Consecutive failed checks before a source counts as gone.")
@click.option("--wait", is_flag=True, help="Wait for another run to finish instead of exiting.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's changes as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Also say what was checked when nothing changed.")
@click.option("--browser/--no-browser", "browser", default=True, show_default=True, help="Recheck pages first captured in the browser in the browser again.")
@click.option("--browser-path", metavar="PATH", help="The Chromium executable (default: chromium on PATH).")
@click.option("--noise-delay", type=click.FloatRange(0, 60), default=NOISE_DELAY, show_default=True, metavar="SECONDS",
              help="A page that looks changed is fetched again SECONDS later; what differs between the two is that page's noise.")
@click.option("--no-second-look", is_flag=True, help="Judge changes without fetching a changed-looking page a second time.")
@fetch_options
@warc_options
@click.pass_context
@archive_errors
def recheck(ctx, check_all, check_due, article, confirm, wait, as_json, verbose, browser, browser_path, noise_delay,
            no_second_look, **kw):
    """Re-fetch tracked articles and cited sources; print only what changed (for cron mail).

    \b
    Examples:
      archiver recheck                      # the URLs whose next check is due (cron)
      archiver recheck --all --article URL  # one article's sources, now
      archiver recheck --json
    """
    if check_all and check_due:
        fail_usage("--all and --due exclude each other")
    options = RecheckOptions(
        fetch=build_fetch_options(kw), due_only=not check_all, article=article, confirm=confirm, warc_size=kw["warc_size"],
        browser=browser, browser_options=BrowserOptions(executable=browser_path),
        noise_delay=None if no_second_look else noise_delay,
    )
    try:
        archive = Archive(archive_dir(ctx), wait=wait)
    except ArchiveLocked as exc:
        # Cron starts the next run while a long one still works: not an error.
        click.echo(f"archiver: {exc}; not starting a second run (use --wait to wait)", err=True)
        return
    with archive:
        with progress_bar(enabled=verbose and not as_json) as progress:
            outcome = archive.recheck(options, progress=progress)
    if as_json:
        click.echo(json.dumps(outcome.to_dict(), indent=2, ensure_ascii=False))
        return
    text = render_recheck(outcome, verbose)
    if text:
        click.echo(text)


def describe_media(page: Fetched) -> list[str]:
    if page.media is None:
        return []
    lines = []
    for file in page.media.files:
        cut = ", cut at --media-max-bytes" if file.truncated else ""
        lines.append(f"  media  {file.url}  {file.content_type}, {file.bytes} bytes{cut}")
    if page.media.error:
        lines.append(f"  note: {page.final_url or page.capture_id}: {page.media.error}")
    return lines


def describe_load(load: BrowserLoad) -> str:
    """A browser load in a few words: what it fetched and whether it settled."""
    text = f"{load.requests} requests, {load.fetched} fetched"
    if load.reused:
        text += f", {load.reused} reused"
    if load.refused or load.failed:
        text += f", {load.refused} refused, {load.failed} failed"
    if not load.network_idle:
        text += "; the network never went quiet"
    if load.error:
        text += f"; {load.error}"
    return text


def render_recheck(outcome: RecheckResult, verbose: bool = False) -> str:
    """Quotation changes first (what provenance users care about most), then change events."""
    lines = []
    for quote in outcome.quotes:
        if quote.to_status == "present":
            lines.append(f"QUOTATION RESTORED in {quote.source}: \"{_clip(quote.text)}\" (cited by {quote.article})")
        else:
            similarity = f", similarity {quote.similarity:.2f}" if quote.to_status == "altered" and quote.similarity is not None else ""
            lines.append(f"QUOTATION {quote.to_status.upper()} in {quote.source}: \"{_clip(quote.text)}\"{similarity} (cited by {quote.article})")
    for change in sorted(outcome.changes, key=lambda c: (seriousness(c.kind, c.severity), c.url)):
        lines.append(f"{change.kind:<16} {change.url}  {describe(change)}".rstrip())
        findings = change.detail.get("summary") or []
        snippets = (change.detail.get("diff_summary") or {}).get("snippets") or []
        if len(findings) > 2:
            # The rest of what changed, one finding a line (the first two are in the line above).
            lines.extend(" " * 17 + _clip(f, 100) for f in findings[2:6])
        elif snippets and not findings:
            # What changed, in a few words: enough for cron mail to say whether to look.
            shown = [f"{'+' if s['op'] == 'insert' else '-'}\"{_clip(s['text'], 50)}\"" for s in snippets[:3]]
            lines.append(" " * 17 + " ".join(shown))
    if verbose or lines:
        lines.append(f"checked {outcome.checked} URLs, {outcome.failed} failed to answer, {len(outcome.changes)} changed (run {outcome.run_id})")
    return "\n".join(lines)


def describe(change: Change) -> str:
    return describe_change(change.kind, change.detail, change.similarity, change.url, change.error, change.http_status, change.final_url)


def _clip(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


@main.command()
@click.option("--since", metavar="DATE", help="Only changes detected on or after DATE (ISO 8601, e.g. 2026-11-01).")
@click.option("--article", metavar="URL", help="Only changes to this article's sources.")
@click.option("--kind", type=click.Choice(KINDS), multiple=True, help="Only changes of this kind (repeat for several).")
@click.option("--json", "as_json", is_flag=True, help="Print the events as a JSON list.")
@click.pass_context
@archive_errors
def changes(ctx, since, article, kind, as_json):
    """List change events, newest last.

    \b
    Examples:
      archiver changes --since 2026-11-01
      archiver changes --kind gone --kind soft_404 --json
      archiver changes --article https://example.org/2026/11/an-opinion-piece.html
    """
    with reading(ctx) as archive:
        try:
            events = archive.changes(since=since, article=article, kinds=kind)
        except ValueError as exc:
            fail_usage(str(exc))
    if as_json:
        click.echo(json.dumps([e.to_dict() for e in events], indent=2, ensure_ascii=False))
        return
    for event in events:
        click.echo(f"{event.detected_at}  {event.kind:<16} {event.url}  {describe(event)}".rstrip())


@main.command()
@click.argument("url")
@click.option("--from", "from_id", type=int, help="Capture id to diff from (default: the second latest with text).")
@click.option("--to", "to_id", type=int, help="Capture id to diff to (default: the latest with text).")
@click.option("--color/--no-color", default=None, help="Colour the diff (default: when stdout is a terminal).")
@click.pass_context
@archive_errors
def diff(ctx, url, from_id, to_id, color):
    """Word-level diff of the main text of URL between two captures.

    \b
    Examples:
      archiver diff https://example.org/a-cited-source.html
      archiver diff URL --from 12 --to 40 --no-color
    """
    from archiver.analyze.diff import render_terminal

    with reading(ctx) as archive:
        text_diff = archive.diff(url, from_id, to_id)
    if color is None:
        color = sys.stdout.isatty()
    click.echo(f"--- capture {text_diff.from_capture_id}\n+++ capture {text_diff.to_capture_id}")
    if text_diff.identical:
        click.echo("(main text identical)")
        return
    click.echo(render_terminal(text_diff.ops, color=color), color=color)


@main.command()
@click.option("--until", "last_version", type=click.IntRange(1, 3), default=3, show_default=True,
              help="1: capture only; 2: then recheck a month later; 3: and two months later.")
@click.pass_context
@archive_errors
def demo(ctx, last_version):
    """Capture the bundled sample article and its sources (no internet needed), then recheck them as they change.

    The sample web is served on 127.0.0.1 as an HTTP proxy for invented hosts; its
    pages change between versions the way real sources do.

    \b
    Examples:
      archiver --archive /tmp/demo demo
      archiver demo --until 1
    """
    from archiver.sample import ARTICLE_URL, SampleWeb

    with SampleWeb(hang_seconds=2) as web:
        fetch = replace(FetchOptions(), proxy=web.proxy_url, connect_timeout=2, read_timeout=2, total_timeout=6, retries=0)
        with writable(ctx, create=True) as archive:
            click.echo(f"== Sample web on {web.proxy_url} (version 1, the day of publication)")
            click.echo(f"$ archiver capture {ARTICLE_URL} --proxy {web.proxy_url}")
            with progress_bar() as progress:
                outcome = archive.capture([ARTICLE_URL], fetch=fetch, progress=progress)
            click.echo(render_capture_summary(outcome))
            for version, when in ((2, "a month later"), (3, "two months later")):
                if version > last_version:
                    break
                web.version = version
                click.echo(f"\n== Sample web version {version} ({when})")
                click.echo(f"$ archiver recheck --all --proxy {web.proxy_url}")
                result = archive.recheck(RecheckOptions(due_only=False), fetch=fetch)
                click.echo(render_recheck(result) or "(nothing changed)")
            where = archive.path
    click.echo(f"\nThe archive is in {where}/. Next, try:")
    click.echo(f"  archiver --archive {where} changes")
    click.echo(f"  archiver --archive {where} report {ARTICLE_URL} --format md")
    click.echo(f"  archiver --archive {where} verify")


@main.command()
@click.option("--article", metavar="URL", help="Only the WARC records of this article (URL or id) and its sources; the chain is always checked whole.")
@click.option("--head", "published_head", metavar="HASH", help="A chain head published earlier: fail unless the chain still contains it.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.pass_context
@archive_errors
def verify(ctx, article, published_head, as_json):
    """Recompute every hash from the WARC files and check the database's hash chain; exit 1 on any problem.

    \b
    Examples:
      archiver verify
      archiver verify --article URL --head 3f5e…   # a head published earlier is still in the chain
    """
    from archiver.outputs.verify import render_text

    with reading(ctx) as archive:
        outcome = archive.verify(article=article, head=published_head)
    click.echo(json.dumps(outcome.to_dict(), indent=2, ensure_ascii=False) if as_json else render_text(outcome))
    sys.exit(EXIT_OK if outcome.ok else EXIT_FAILED)


@main.command()
@click.argument("sql")
@click.option("--json", "fmt", flag_value="json", help="Rows as a JSON list of objects.")
@click.option("--csv", "fmt", flag_value="csv", help="Rows as CSV with a header line.")
@click.pass_context
@archive_errors
def query(ctx, sql, fmt):
    """Run read-only SQL on the archive database (a write is refused, exit 2).

    \b
    Examples:
      archiver query "SELECT url, state FROM urls WHERE state = 'gone'"
      archiver query "SELECT * FROM changes ORDER BY id DESC LIMIT 5" --json
    """
    from archiver.db.sqlquery import render

    with reading(ctx) as archive:
        result = archive.query(sql)
    text = render(result.columns, result.rows, fmt or "table")
    if text:
        click.echo(text)


@main.command()
@click.argument("article")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True, help="Markdown, one self-contained HTML file, or JSON (docs/report-json.md).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="Write the report here instead of to stdout.")
@click.option("--replay-base", metavar="URL", help="Replay base URL for Robust Links version URLs (e.g. a pywb collection: http://localhost:8080/my-coll/).")
@click.pass_context
@archive_errors
def report(ctx, article, fmt, output, replay_base):
    """Provenance report for ARTICLE (URL or id): every citation, what it said, what happened since.

    \b
    Examples:
      archiver report https://example.org/2026/11/an-opinion-piece.html
      archiver report 1 --format html -o report.html --replay-base http://localhost:8080/archive/
    """
    if replay_base and not re.match(r"^https?://", replay_base):
        fail_usage(f"--replay-base {replay_base!r}: give an http(s) URL such as http://localhost:8080/archive/")
    with reading(ctx) as archive:
        text = archive.report(article, fmt, replay_base=replay_base)
    if output:
        output.write_text(text, encoding="utf-8")
    else:
        click.echo(text, nl=False)


@main.command()
@click.option("--wacz", "wacz_path", type=click.Path(dir_okay=False, path_type=Path), help="Write a WACZ package (for ReplayWeb.page) here.")
@click.option("--cdxj", "cdxj_path", type=click.Path(dir_okay=False, path_type=Path), help="Write a sorted CDXJ index (for pywb) here.")
@click.option("--article", metavar="URL", help="Only this article (URL or id) and its sources (WACZ only).")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@click.pass_context
@archive_errors
def export(ctx, wacz_path, cdxj_path, article, as_json):
    """Export the archive for replay: a WACZ package and/or a CDXJ index.

    \b
    Examples:
      archiver export --wacz archive.wacz
      archiver export --wacz one-article.wacz --article URL
      archiver export --cdxj index.cdxj
    """
    if not wacz_path and not cdxj_path:
        fail_usage("say what to export: --wacz FILE and/or --cdxj FILE")
    if article and not wacz_path:
        fail_usage("--article applies to --wacz only (a CDXJ index covers the whole archive)")
    outcome = {}
    with reading(ctx) as archive:
        if wacz_path:
            outcome["wacz"] = archive.export_wacz(wacz_path, article=article)
        if cdxj_path:
            outcome["cdxj"] = archive.export_cdxj(cdxj_path)
    if as_json:
        click.echo(json.dumps({k: v.to_dict() for k, v in outcome.items()}, indent=2, ensure_ascii=False))
        return
    if "wacz" in outcome:
        w = outcome["wacz"]
        click.echo(f"WACZ {w.output}: {w.pages} pages from {len(w.warcs)} WARC files")
    if "cdxj" in outcome:
        c = outcome["cdxj"]
        click.echo(f"CDXJ {c.output}: {c.lines} lines from {len(c.warcs)} WARC files")
    for part in outcome.values():
        for name in part.skipped_open:
            click.echo(f"note: {name}.open is still being written by a run: not exported", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
