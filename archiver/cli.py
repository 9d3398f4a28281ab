"""The command line: parses options and calls the library; no archiving logic lives here."""

from __future__ import annotations

import functools
import importlib.util
from contextlib import contextmanager
import json
import re
import sys
from pathlib import Path
from typing import Any, Callable, Iterator

import click

from archiver import USER_AGENT, __version__
from archiver.runs.directory import Archive, ArchiveError, ArchiveLocked, default_archive_dir
from archiver.runs.capture import CaptureOptions, CaptureRun, UsageError, parse_target
from archiver.net.fetch import FetchOptions
from archiver.db.store import SchemaTooNew

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


class SizeType(click.ParamType):
    name = "size"

    def convert(self, value, param, ctx):
        if isinstance(value, int):
            return value
        try:
            return parse_size(value)
        except click.BadParameter as exc:
            self.fail(str(exc), param, ctx)


def fetch_options(func: Callable) -> Callable:
    """The fetch options shared by capture and recheck."""
    options = [
        click.option("--concurrency", type=click.IntRange(1, 256), default=8, show_default=True, help="Fetches in flight in total."),
        click.option("--per-host", type=click.IntRange(1, 64), default=2, show_default=True, help="Fetches in flight per host."),
        click.option("--delay", type=click.FloatRange(0), default=0.0, show_default=True, help="Seconds between requests to one host."),
        click.option("--timeout", type=click.FloatRange(0.1), default=30.0, show_default=True, help="Connect and read timeout, seconds."),
        click.option("--deadline", type=click.FloatRange(0.1), default=120.0, show_default=True, help="Total seconds one fetch may take, redirects and retries included."),
        click.option("--max-bytes", type=SizeType(), default="256M", show_default=True, help="Largest body kept; past it the record is cut (WARC-Truncated: length)."),
        click.option("--max-redirects", type=click.IntRange(0, 50), default=10, show_default=True),
        click.option("--retries", type=click.IntRange(0, 10), default=2, show_default=True, help="Retries on refused/reset connections, 429 and 503."),
        click.option("--proxy", metavar="URL", help="HTTP(S) proxy for every fetch (default: $HTTP_PROXY/$HTTPS_PROXY, honouring $NO_PROXY)."),
        click.option("--allow-private", is_flag=True, help="Allow loopback, private and link-local targets (refused by default)."),
        click.option("--user-agent", default=USER_AGENT, show_default=True),
        click.option("--warc-size", type=SizeType(), default="1G", show_default=True, help="Start a new WARC file past this size."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def build_fetch_options(kw: dict[str, Any]) -> FetchOptions:
    if kw.get("proxy") and not re.match(r"^https?://", kw["proxy"]):
        fail_usage(f"--proxy {kw['proxy']!r}: give a URL such as http://127.0.0.1:3128")
    return FetchOptions(
        concurrency=kw["concurrency"],
        per_host=kw["per_host"],
        delay=kw["delay"],
        connect_timeout=min(kw["timeout"], 30.0),
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
    """How pages are loaded in headless Chromium (capture)."""
    options = [
        click.option(
            "--browser", "browser_mode", type=click.Choice(["off", "all", "article", "sources", "auto"]), default="off",
            is_flag=False, flag_value="all", show_default=True,
            help="Load pages in headless Chromium, recording every request it makes: all (the default of a bare --browser), "
            "the article only, its sources only, or auto: a page that looked empty to the plain fetch and loads scripts.",
        ),
        click.option("--browser-host", "browser_hosts", metavar="HOST", multiple=True, help="Always load pages of HOST (and its subdomains) in the browser; repeatable."),
        click.option("--browser-path", metavar="PATH", help="The Chromium executable (default: chromium on PATH)."),
        click.option("--page-deadline", type=click.FloatRange(5), default=90.0, show_default=True, help="Seconds one page may take in the browser: load, network idle, scrolling, screenshot."),
        click.option("--media", is_flag=True, help="Also fetch embedded audio and video (yt-dlp, for the sites it knows) into the WARC."),
        click.option("--media-max-bytes", type=SizeType(), default="512M", show_default=True, help="Largest media file kept; a larger one is not downloaded."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def apply_browser_options(options: CaptureOptions, kw: dict[str, Any]) -> None:
    """Browser settings onto ``options``; a missing Chromium is a usage error (exit 2), found before anything starts."""
    from archiver.net.browser import BrowserMissing, BrowserOptions, find_browser

    options.browser = kw["browser_mode"]
    options.browser_hosts = tuple(h.strip().lower().strip(".") for h in kw["browser_hosts"] if h.strip())
    options.media = kw["media"]
    options.media_max_bytes = kw["media_max_bytes"]
    for wanted, module in ((options.uses_browser, "playwright"), (options.media, "yt_dlp")):
        if wanted and importlib.util.find_spec(module) is None:
            fail_usage(f"{'--media' if module == 'yt_dlp' else 'browser capture'} needs {module.replace('_', '-')}: pip install 'archiver[browser]'")
    if options.uses_browser:
        try:
            executable = find_browser(kw.get("browser_path"))
        except BrowserMissing as exc:
            fail_usage(str(exc))
        options.browser_options = BrowserOptions(executable=executable, page_deadline=kw["page_deadline"], media=kw["media"])
    elif kw.get("browser_path"):
        fail_usage("--browser-path needs --browser (or --browser-host)")


def archive_errors(func: Callable) -> Callable:
    """Turn archive-directory problems into one-line messages with exit status 2."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (ArchiveError, SchemaTooNew, UsageError) as exc:
            fail_usage(str(exc))
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
    ctx.obj = {"archive_dir": archive_dir or default_archive_dir()}


def open_archive(ctx: click.Context, create: bool = False, readonly: bool = False) -> Archive:
    return Archive(ctx.obj["archive_dir"], create=create, readonly=readonly)


@contextmanager
def reading(ctx: click.Context) -> Iterator[Archive]:
    """The archive opened read-only for a reading command; an unknown article or URL is a usage error."""
    archive = open_archive(ctx, readonly=True)
    try:
        yield archive
    except LookupError as exc:
        fail_usage(str(exc.args[0]))
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


@main.command()
@click.argument("targets", nargs=-1, required=True)
@click.option("--all-links", is_flag=True, help="Also fetch the page's links that are not citations.")
@click.option("--requisites", is_flag=True, help="Also capture stylesheets, images and scripts, for faithful replay.")
@click.option("--max-sources", type=click.IntRange(0), default=1000, show_default=True, help="Most links fetched per article; the rest are recorded as skipped.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of the summary.")
@browser_options
@fetch_options
@click.pass_context
@archive_errors
def capture(ctx: click.Context, targets: tuple[str, ...], all_links: bool, requisites: bool, max_sources: int, as_json: bool, **kw: Any) -> None:
    """Capture TARGETs (http(s) URLs or local HTML, Markdown or text files) and every source they cite."""
    fetch = build_fetch_options(kw)
    parsed = [parse_target(t) for t in targets]
    options = CaptureOptions(fetch=fetch, all_links=all_links, requisites=requisites, warc_size=kw["warc_size"], max_sources=max_sources)
    apply_browser_options(options, kw)
    archive = open_archive(ctx, create=True)
    try:
        try:
            archive.lock(wait=False)
        except ArchiveLocked as exc:
            click.echo(f"archiver: waiting: {exc}", err=True)
            archive.lock(wait=True)
        archive.recover()
        progress = TerminalProgress() if not as_json else None
        try:
            outcome = CaptureRun(archive, options, progress).run(parsed)
        finally:
            if progress:
                progress.finish()
    finally:
        archive.close()
    if as_json:
        click.echo(json.dumps(outcome, indent=2, ensure_ascii=False))
    else:
        click.echo(render_capture_summary(outcome))
    sys.exit(EXIT_FAILED if any(a["error"] for a in outcome["articles"]) else EXIT_OK)


def render_capture_summary(outcome: dict[str, Any]) -> str:
    lines = []
    for article in outcome["articles"]:
        title = f" \"{article['title']}\"" if article.get("title") else ""
        if article["error"] and article.get("status") is None:
            lines.append(f"FAILED {article['url']}: {article['error']}")
            continue
        marker = "FAILED" if article["error"] else "Captured"
        how = f"HTTP {article['status']}" if article.get("status") else "local file"
        if article.get("browser"):
            how += f", in the browser: {describe_load(article['browser'])}"
        lines.append(f"{marker} {article['url']}{title} ({how})")
        if article["error"]:
            lines.append(f"  {article['error']}")
        if article.get("looked_empty"):
            lines.append(f"  note: {article['looked_empty']}: capture it with --browser")
        lines += describe_media(article)
        sources = article["sources"]
        ok = [s for s in sources if not s["error"]]
        bad = [s for s in sources if s["error"]]
        links = article["links"]
        lines.append(
            f"  {links['total']} links, {links['cited']} cited; {len(sources)} fetched: "
            f"{len(ok)} captured, {len(bad)} failed; {len(article['skipped'])} skipped"
        )
        for source in bad:
            lines.append(f"  failed  {source['url']}  {source['error']}")
        for source in ok:
            if source["status"] and source["status"] >= 400:
                lines.append(f"  HTTP {source['status']}  {source['url']}")
        for source in sources:
            if source.get("looked_empty"):
                lines.append(f"  note: {source['url']}: {source['looked_empty']}: capture it with --browser")
        for source in sources:
            lines += describe_media(source)
        browsed = [s for s in sources if s.get("browser")]
        if browsed:
            lines.append(f"  {len(browsed)} sources loaded in the browser")
        quotes = article.get("quotes", [])
        altered = [q for q in quotes if q["status"] in ("altered", "missing")]
        unchecked = sum(1 for q in quotes if q["status"] is None)
        if quotes:
            found = sum(1 for q in quotes if q["status"] == "present")
            lines.append(
                f"  {len(quotes)} quotations, {found} found in their sources"
                + (f", {unchecked} unchecked (source not captured)" if unchecked else "")
            )
        for quote in altered:
            lines.append(f"  quotation {quote['status']}: \"{quote['text'][:80]}\"")
    lines.append(f"Archive: {outcome['archive']} (run {outcome['run_id']})")
    return "\n".join(lines)


@main.command()
@click.option("--all", "check_all", is_flag=True, help="Check every tracked URL now.")
@click.option("--due", "check_due", is_flag=True, help="Check only URLs whose next check is due (the default).")
@click.option("--article", metavar="URL", help="Only this article (URL or id) and its sources.")
@click.option("--confirm", type=click.IntRange(1, 20), default=2, show_default=True, help="Consecutive failed checks before a source counts as gone.")
@click.option("--wait", is_flag=True, help="Wait for another run to finish instead of exiting.")
@click.option("--json", "as_json", is_flag=True, help="Print the run's changes as JSON.")
@click.option("-v", "--verbose", is_flag=True, help="Also say what was checked when nothing changed.")
@fetch_options
@click.pass_context
@archive_errors
def recheck(ctx, check_all, check_due, article, confirm, wait, as_json, verbose, **kw):
    """Re-fetch tracked articles and cited sources; print only what changed (for cron mail)."""
    from archiver.runs.recheck import RecheckOptions, RecheckRun

    if check_all and check_due:
        fail_usage("--all and --due exclude each other")
    fetch = build_fetch_options(kw)
    options = RecheckOptions(fetch=fetch, due_only=not check_all, article=article, confirm=confirm, warc_size=kw["warc_size"])
    archive = open_archive(ctx)
    try:
        try:
            archive.lock(wait=wait)
        except ArchiveLocked as exc:
            # Cron starts the next run while a long one still works: not an error.
            click.echo(f"archiver: {exc}; not starting a second run (use --wait to wait)", err=True)
            return
        archive.recover()
        progress = TerminalProgress() if verbose and not as_json else None
        try:
            outcome = RecheckRun(archive, options, progress).run()
        except LookupError as exc:
            fail_usage(str(exc.args[0]))
        finally:
            if progress:
                progress.finish()
    finally:
        archive.close()
    if as_json:
        click.echo(json.dumps(outcome, indent=2, ensure_ascii=False))
        return
    text = render_recheck(outcome, verbose)
    if text:
        click.echo(text)


# Most serious first: what cron mail readers must not miss.
CHANGE_ORDER = {"gone": 0, "soft_404": 1, "content_changed": 2, "moved": 3, "binary_changed": 4, "restored": 5}


def describe_media(page: dict[str, Any]) -> list[str]:
    media = page.get("media") or {}
    lines = []
    for file in media.get("files", []):
        cut = ", cut at --media-max-bytes" if file.get("truncated") else ""
        lines.append(f"  media  {file['url']}  {file['content_type']}, {file['bytes']} bytes{cut}")
    if media.get("error"):
        lines.append(f"  note: {page['url']}: {media['error']}")
    return lines


def describe_load(load: dict[str, Any]) -> str:
    """A browser load in a few words: what it fetched and whether it settled."""
    text = f"{load['requests']} requests, {load['fetched']} fetched"
    if load["reused"]:
        text += f", {load['reused']} reused"
    if load["refused"] or load["failed"]:
        text += f", {load['refused']} refused, {load['failed']} failed"
    if not load["network_idle"]:
        text += "; the network never went quiet"
    if load.get("error"):
        text += f"; {load['error']}"
    return text


def render_recheck(outcome: dict[str, Any], verbose: bool = False) -> str:
    """Quotation changes first (what provenance users care about most), then change events."""
    lines = []
    for quote in outcome["quotes"]:
        if quote["to"] == "present":
            lines.append(f"QUOTATION RESTORED in {quote['source']}: \"{_clip(quote['text'])}\" (cited by {quote['article']})")
        else:
            similarity = f", similarity {quote['similarity']:.2f}" if quote["to"] == "altered" else ""
            lines.append(f"QUOTATION {quote['to'].upper()} in {quote['source']}: \"{_clip(quote['text'])}\"{similarity} (cited by {quote['article']})")
    for change in sorted(outcome["changes"], key=lambda c: (CHANGE_ORDER.get(c["kind"], 9), c["url"])):
        lines.append(f"{change['kind']:<16} {change['url']}  {describe_change(change)}".rstrip())
        snippets = ((change.get("detail") or {}).get("diff_summary") or {}).get("snippets") or []
        if snippets:
            # What changed, in a few words: enough for cron mail to say whether to look.
            shown = [f"{'+' if s['op'] == 'insert' else '-'}\"{_clip(s['text'], 50)}\"" for s in snippets[:3]]
            lines.append(" " * 17 + " ".join(shown))
    if verbose or lines:
        lines.append(f"checked {outcome['checked']} URLs, {outcome['failed']} failed to answer, {len(outcome['changes'])} changed (run {outcome['run_id']})")
    return "\n".join(lines)


def describe_change(change: dict[str, Any]) -> str:
    detail = change.get("detail") or {}
    if isinstance(detail, str):
        detail = json.loads(detail)
    kind = change["kind"]
    if kind == "content_changed":
        summary = detail.get("diff_summary") or {}
        words = f" (+{summary.get('added', 0)} -{summary.get('removed', 0)} words)" if summary else ""
        similarity = change.get("similarity")
        return (f"similarity {similarity:.2f}" if similarity is not None else "") + words
    if kind == "gone":
        return str(change.get("error") or detail.get("reason") or f"HTTP {change.get('http_status')}")
    if kind in ("soft_404", "moved"):
        target = detail.get("redirect_to") or change.get("final_url")
        reason = detail.get("reason", "")
        return f"{reason} -> {target}" if target and target != change["url"] else reason
    if kind == "binary_changed":
        return f"sha256 {str(detail.get('from_sha256', ''))[:12]} -> {str(detail.get('to_sha256', ''))[:12]}"
    return str(detail.get("reason", ""))


def _clip(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


@main.command()
@click.option("--since", metavar="DATE", help="Only changes detected on or after DATE (ISO 8601, e.g. 2026-11-01).")
@click.option("--article", metavar="URL", help="Only changes to this article's sources.")
@click.option("--kind", type=click.Choice(["content_changed", "gone", "soft_404", "moved", "binary_changed", "restored"]), multiple=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_context
@archive_errors
def changes(ctx, since, article, kind, as_json):
    """List change events, newest last."""
    from archiver.db.queries import change_events

    with reading(ctx) as archive:
        try:
            events = change_events(archive.store, since=since, article=article, kinds=list(kind))
        except ValueError as exc:
            fail_usage(str(exc))
    if as_json:
        click.echo(json.dumps(events, indent=2, ensure_ascii=False))
        return
    for event in events:
        click.echo(f"{event['detected_at']}  {event['kind']:<16} {event['url']}  {describe_change(event)}".rstrip())


@main.command()
@click.argument("url")
@click.option("--from", "from_id", type=int, help="Capture id to diff from (default: the second latest with text).")
@click.option("--to", "to_id", type=int, help="Capture id to diff to (default: the latest with text).")
@click.option("--color/--no-color", default=None, help="Colour the diff (default: when stdout is a terminal).")
@click.pass_context
@archive_errors
def diff(ctx, url, from_id, to_id, color):
    """Word-level diff of the main text of URL between two captures."""
    from archiver.analyze.diff import render_terminal, word_diff
    from archiver.db.queries import capture_texts

    with reading(ctx) as archive:
        (old_id, old), (new_id, new) = capture_texts(archive.store, url, from_id, to_id)
    if color is None:
        color = sys.stdout.isatty()
    click.echo(f"--- capture {old_id}\n+++ capture {new_id}")
    if old == new:
        click.echo("(main text identical)")
        return
    click.echo(render_terminal(word_diff(old, new), color=color), color=color)


@main.command()
@click.option("--until", "last_version", type=click.IntRange(1, 3), default=3, show_default=True,
              help="1: capture only; 2: then recheck a month later; 3: and two months later.")
@click.pass_context
@archive_errors
def demo(ctx, last_version):
    """Capture the bundled sample article and its sources (no internet needed), then recheck them as they change.

    The sample web is served on 127.0.0.1 as an HTTP proxy for invented hosts; its
    pages change between versions the way real sources do.
    """
    from archiver.runs.recheck import RecheckOptions, RecheckRun
    from archiver.sample import ARTICLE_URL, SampleWeb

    with SampleWeb(hang_seconds=2) as web:
        fetch = FetchOptions(proxy=web.proxy_url, connect_timeout=2, read_timeout=2, total_timeout=6, retries=0)
        archive = open_archive(ctx, create=True)
        try:
            archive.lock(wait=True)
            archive.recover()
            click.echo(f"== Sample web on {web.proxy_url} (version 1, the day of publication)")
            click.echo(f"$ archiver capture {ARTICLE_URL} --proxy {web.proxy_url}")
            progress = TerminalProgress()
            outcome = CaptureRun(archive, CaptureOptions(fetch=fetch), progress).run([parse_target(ARTICLE_URL)])
            progress.finish()
            click.echo(render_capture_summary(outcome))
            for version, when in ((2, "a month later"), (3, "two months later")):
                if version > last_version:
                    break
                web.version = version
                click.echo(f"\n== Sample web version {version} ({when})")
                click.echo(f"$ archiver recheck --all --proxy {web.proxy_url}")
                result = RecheckRun(archive, RecheckOptions(fetch=fetch, due_only=False)).run()
                click.echo(render_recheck(result) or "(nothing changed)")
        finally:
            archive.close()
    where = ctx.obj["archive_dir"]
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
    """Recompute every hash from the WARC files and check the database's hash chain; exit 1 on any problem."""
    from archiver.outputs.verify import render_text, verify_archive

    with reading(ctx) as archive:
        outcome = verify_archive(archive, article=article, head=published_head)
    click.echo(json.dumps(outcome, indent=2, ensure_ascii=False) if as_json else render_text(outcome))
    sys.exit(EXIT_OK if outcome["ok"] else EXIT_FAILED)


@main.command()
@click.argument("sql")
@click.option("--json", "fmt", flag_value="json", help="Rows as a JSON list of objects.")
@click.option("--csv", "fmt", flag_value="csv", help="Rows as CSV with a header line.")
@click.pass_context
@archive_errors
def query(ctx, sql, fmt):
    """Run read-only SQL on the archive database (a write is refused, exit 2)."""
    from archiver.db.sqlquery import QueryError, ReadOnlyQuery, render, run_query

    archive = open_archive(ctx, readonly=True)
    archive.close()
    try:
        columns, rows = run_query(archive.db_path, sql)
    except ReadOnlyQuery as exc:
        fail_usage(f"query is read-only: {exc}")
    except QueryError as exc:
        fail_usage(f"SQL error: {exc}")
    text = render(columns, rows, fmt or "table")
    if text:
        click.echo(text)


@main.command()
@click.argument("article")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True)
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="Write the report here instead of to stdout.")
@click.option("--replay-base", metavar="URL", help="Replay base URL for Robust Links version URLs (e.g. a pywb collection: http://localhost:8080/my-coll/).")
@click.pass_context
@archive_errors
def report(ctx, article, fmt, output, replay_base):
    """Provenance report for ARTICLE (URL or id): every citation, what it said, what happened since."""
    from archiver.outputs.report import build_report

    if replay_base and not re.match(r"^https?://", replay_base):
        fail_usage(f"--replay-base {replay_base!r}: give an http(s) URL such as http://localhost:8080/archive/")
    with reading(ctx) as archive:
        text = build_report(archive.store, article, fmt, replay_base=replay_base, archive_dir=str(archive.path))
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
    """Export the archive for replay: a WACZ package and/or a CDXJ index."""
    from archiver.outputs.export import ExportError, export_cdxj, export_wacz

    if not wacz_path and not cdxj_path:
        fail_usage("say what to export: --wacz FILE and/or --cdxj FILE")
    if article and not wacz_path:
        fail_usage("--article applies to --wacz only (a CDXJ index covers the whole archive)")
    outcome = {}
    with reading(ctx) as archive:
        try:
            if wacz_path:
                outcome["wacz"] = export_wacz(archive, wacz_path, article=article)
            if cdxj_path:
                outcome["cdxj"] = export_cdxj(archive, cdxj_path)
        except ExportError as exc:
            click.echo(f"archiver: error: {exc}", err=True)
            sys.exit(EXIT_FAILED)
    if as_json:
        click.echo(json.dumps(outcome, indent=2, ensure_ascii=False))
        return
    if "wacz" in outcome:
        w = outcome["wacz"]
        click.echo(f"WACZ {w['output']}: {w['pages']} pages from {len(w['warcs'])} WARC files")
    if "cdxj" in outcome:
        c = outcome["cdxj"]
        click.echo(f"CDXJ {c['output']}: {c['lines']} lines from {len(c['warcs'])} WARC files")
    for part in outcome.values():
        for name in part.get("skipped_open", []):
            click.echo(f"note: {name}.open is still being written by a run: not exported", err=True)


if __name__ == "__main__":  # pragma: no cover
    main()
