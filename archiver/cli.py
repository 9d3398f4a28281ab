"""The command line: options -> one library call (archiver.Archive) -> rendered output.

No archiving logic lives here; every command mirrors a method of :class:`archiver.Archive`.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

import click

from archiver import __version__
from archiver.analyze.answers import failed_answer
from archiver.analyze.kinds import KINDS, LABELS, describe_change, seriousness
from archiver.errors import ArchiveError, ArchiveLocked, ExportError, NotFound, QueryError, ReadOnlyQuery, UsageError
from archiver.options import BROWSER_MODES, MAX_SOURCES, MEDIA_MAX_BYTES, WARC_SIZE, BrowserOptions, CaptureOptions, FetchOptions, RecheckOptions, CONFIRM_FAILURES, NOISE_DELAY
from archiver.results import BrowserLoad, CaptureResult, Change, Fetched, RecheckResult
from archiver.results import TimestampToken, TrackingChange
from archiver.options import DEFAULT_TSA
from archiver.runs.targets import parse_target
from archiver.words import error_words, http_status_words, human_date
from archiver.config import add_envvars

if TYPE_CHECKING:
    # The library (sqlite-utils, requests, lxml, trafilatura, warcio) loads when a command runs,
    # not at import, so that `archiver --help` starts in a few tens of milliseconds.
    from archiver.archive import Archive

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


def timestamp_options(func: Callable) -> Callable:
    """--timestamp (and where to get it) for the commands that change the chain head."""
    func = click.option("--tsa-roots", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="PEM root certificates the TSA's certificate must chain to (default: the Mozilla roots in certifi).")(func)
    func = click.option("--tsa", "tsa_url", metavar="URL", help=f"Time-stamping authority for --timestamp (default: {DEFAULT_TSA}).")(func)
    return click.option("--timestamp", "stamp", is_flag=True, help="At the end of the run, get an RFC 3161 token over the archive's new seal head (see: archiver timestamp).")(func)


def memento_options(func: Callable) -> Callable:
    """--mementos and --submit: what public web archives hold of the sources, and copies asked of them."""
    from archiver.options import DEFAULT_SAVE_ENDPOINT, DEFAULT_TIMEGATE, DEFAULT_TIMEMAP, SUBMIT_DELAY

    options = [
        click.option("--submit", is_flag=True, help="Ask a public archive to save each cited source (Save Page Now style); recorded with the memento URL it gives."),
        click.option("--timemap", metavar="URL", default=DEFAULT_TIMEMAP, show_default=True, help="Memento TimeMap prefix; the source URL is appended ('' for none)."),
        click.option("--timegate", metavar="URL", default=DEFAULT_TIMEGATE, show_default=True, help="Memento TimeGate prefix, asked when the TimeMap fails ('' for none)."),
        click.option("--save-endpoint", metavar="URL", default=DEFAULT_SAVE_ENDPOINT, show_default=True, help="Save endpoint prefix for --submit; the source URL is appended. $ARCHIVER_SAVE_AUTH is sent as its Authorization header."),
        click.option("--submit-delay", type=click.FloatRange(0), default=SUBMIT_DELAY, show_default=True, help="Seconds between two --submit requests."),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def mementos_flag(func: Callable) -> Callable:
    return click.option(
        "--mementos", "find_mementos", is_flag=True,
        help="Then look up each cited source in public web archives (Memento) around the day it was cited, fetch and compare the mementos (see: archiver mementos). Off by default: the archive learns what you look at.",
    )(func)


def build_memento_options(kw: dict[str, Any], fetch: FetchOptions, **extra: Any):
    import os

    from archiver.runs.mementos import MementoOptions

    return MementoOptions(
        fetch=fetch, lookup=bool(kw.get("find_mementos", True)), timemap=kw["timemap"] or None, timegate=kw["timegate"] or None,
        submit=kw["submit"], save_endpoint=kw["save_endpoint"], submit_delay=kw["submit_delay"],
        save_auth=os.environ.get("ARCHIVER_SAVE_AUTH") or None, warc_size=kw.get("warc_size", WARC_SIZE), **extra,
    )


def look_up_mementos(archive: Archive, kw: dict[str, Any], article_ids: list[int] | None, quiet: bool = False, news_only: bool = False) -> dict[str, Any] | None:
    """After a capture or recheck: the mementos and submissions --mementos / --submit asked for.

    ``news_only`` (cron): print only mementos that differ from archiver's first capture, and failures.
    """
    if not (kw.get("find_mementos") or kw.get("submit")):
        return None
    outcome = archive.mementos(build_memento_options(kw, build_fetch_options(kw)), article_ids=article_ids)
    if not quiet:
        text = render_mementos(outcome, news_only)
        if text:
            click.echo(text)
    return outcome.to_dict()


def render_mementos(outcome, news_only: bool = False) -> str:
    lines = []
    for m in outcome.mementos:
        if news_only and not (m.error or m.verdict == "differs"):
            continue
        if m.error:
            lines.append(f"MEMENTO? {m.url}: lookup failed: {m.error}")
        elif m.role == "none":
            lines.append(f"MEMENTO- {m.url}: no memento in the archive")
        else:
            agree = {"same": "agrees with", "differs": "DIFFERS from", "unknown": "cannot be compared with"}.get(m.verdict, m.verdict)
            lines.append(f"MEMENTO  {m.url}: {m.role} memento of {m.memento_datetime} {agree} archiver's first capture ({m.memento_url})")
    for s in outcome.submissions:
        if news_only and not s.error:
            continue
        lines.append(f"SAVED    {s.url}: {s.memento_url}" if s.memento_url else f"SAVE?    {s.url}: {s.error}")
    return "\n".join(lines)


def stamp_run(archive: Archive, kw: dict[str, Any], quiet: bool = False) -> dict[str, Any] | None:
    """The token --timestamp asked for; a TSA that fails is reported and the exit status set, the run's work stays."""
    if not kw.get("stamp"):
        return None
    from archiver.proof.rfc3161 import TimestampError

    try:
        token = archive.timestamp(kw.get("tsa_url"), _read_roots(kw.get("tsa_roots")), proxy=kw.get("proxy"))
    except TimestampError as exc:
        click.echo(f"archiver: error: timestamp: {exc}", err=True)
        return {"error": str(exc)}
    if not quiet:
        click.echo(render_token(token))
    return token.to_dict()


def _read_roots(path: Path | None) -> str | None:
    return path.read_text(encoding="ascii", errors="replace") if path else None


def render_token(token: TimestampToken) -> str:
    return (
        f"timestamp {token.timestamp_id}: {token.tsa_name or token.tsa_url} signed seal {token.seal_id} {token.message} "
        f"(chain head {token.chain_head}, captures rows up to {token.capture_id}) at {token.gen_time}; token in {token.warc.file} offset {token.warc.offset}"
    )


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
    from archiver.net.browser import prepare_browser

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
    """Reports usage errors on one line ("archiver: error: ..."), as every other error, with status 2;
    closes --log-file with the exit status."""

    def main(self, args=None, *rest, **kwargs):
        state = kwargs.setdefault("obj", {})
        state["argv"] = list(sys.argv[1:] if args is None else args)
        code = 1
        try:
            self._main(args, *rest, **kwargs)
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            raise
        finally:
            if state.get("run_log"):
                state.pop("run_log").finish(code)

    def _main(self, *args, **kwargs):
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


ARCHIVE_HELP = "Archive directory (default: $ARCHIVER_HOME, the config file's archive, else ./archive, else the current directory when it is an archive)."
QUIET_HELP = "Print only problems and changes: no progress, no summary when all is well. [env var: ARCHIVER_QUIET]"
LOG_HELP = "Append the command, everything it prints and its exit status, with UTC times, to FILE. [env var: ARCHIVER_LOG_FILE]"


@click.group(cls=ArchiverGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="archiver")
@click.option("--archive", "archive_dir", type=click.Path(file_okay=True, dir_okay=True, path_type=Path), default=None, help=ARCHIVE_HELP)
@click.option("--config", "config_path", type=click.Path(dir_okay=False, path_type=Path), envvar="ARCHIVER_CONFIG", show_envvar=True,
              help="Read option defaults from this TOML file (default: ~/.config/archiver/config.toml when it exists).")
@click.option("-q", "--quiet", is_flag=True, default=None, help=QUIET_HELP)
@click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), default=None, help=LOG_HELP)
@click.pass_context
def main(ctx: click.Context, archive_dir: Path | None, config_path: Path | None, quiet: bool | None, log_file: Path | None) -> None:
    """archiver: capture an article and every source it cites into WARC files,
    record provenance in SQLite, recheck the sources and report what changed.

    Options come from the command line, then ARCHIVER_* environment variables (shown in each
    command's help), then the config file, then the defaults. --archive, -q and --log-file may
    also follow the command.
    """
    from archiver.config import default_map, global_setting, read_config

    state = ctx.ensure_object(dict)
    data, source = read_config(config_path)
    if source is not None:
        ctx.default_map = default_map(main, ctx, data, source)
    command = ctx.invoked_subcommand

    def setting(given: Any, key: str, env: str) -> Any:
        if given is not None:
            return given
        if os.environ.get(env):
            return os.environ[env]
        return global_setting(data, command, key)

    # None leaves the choice to the library: $ARCHIVER_HOME, else ./archive.
    archive = setting(archive_dir, "archive", "ARCHIVER_HOME")
    state["archive_dir"] = Path(str(archive)).expanduser() if archive else None
    state["quiet"] = _truthy(setting(quiet, "quiet", "ARCHIVER_QUIET"))
    log = setting(log_file, "log-file", "ARCHIVER_LOG_FILE")
    if log:
        start_log(state, Path(str(log)).expanduser())


def _truthy(value: Any) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in ("1", "true", "yes", "on")
    return bool(value)


def start_log(state: dict[str, Any], path: Path) -> None:
    """Start --log-file; the first one given counts (before the command, or after it)."""
    from archiver.terminal import RunLog

    if state.get("run_log"):
        return
    try:
        log = RunLog(path)
    except OSError as exc:
        raise click.UsageError(f"--log-file {path}: cannot write there: {exc.strerror or exc}") from None
    log.start(state.get("argv", []))
    state["run_log"] = log


def _after_command(name: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    """Callback of an archive-wide option given after the command: it counts as if given before."""

    def store(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is None or value is False:
            return
        state = ctx.ensure_object(dict)
        if name == "log_file":
            start_log(state, value)
        else:
            state[name] = value

    return store


def everyday_options(func: Callable) -> Callable:
    """--archive, -q and --log-file, accepted after the command as well as before it."""
    options = [
        click.option("--archive", type=click.Path(path_type=Path), expose_value=False, callback=_after_command("archive_dir"), help=ARCHIVE_HELP),
        click.option("-q", "--quiet", is_flag=True, default=None, expose_value=False, callback=_after_command("quiet"), help=QUIET_HELP),
        click.option("--log-file", type=click.Path(dir_okay=False, path_type=Path), expose_value=False, callback=_after_command("log_file"), help=LOG_HELP),
    ]
    for option in reversed(options):
        func = option(func)
    return func


def archive_dir(ctx: click.Context) -> Path:
    return ctx.obj["archive_dir"]


def is_quiet(ctx: click.Context) -> bool:
    return bool(ctx.obj.get("quiet"))


@contextmanager
def reading(ctx: click.Context) -> Iterator[Archive]:
    """The archive opened read-only, for a command that only reads (it runs beside a writing run)."""
    from archiver.archive import Archive

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
    from archiver.archive import Archive

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
@mementos_flag
@memento_options
@timestamp_options
@everyday_options
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
        with progress_bar(enabled=not as_json and not is_quiet(ctx)) as progress:
            outcome = archive.capture(parsed, options, progress=progress)
        if not as_json:
            text = render_capture_summary(outcome, quiet=is_quiet(ctx))
            if text:
                click.echo(text)
        quiet = as_json or is_quiet(ctx)
        found = look_up_mementos(archive, kw, [a.article_id for a in outcome.articles if a.article_id is not None], quiet=quiet)
        stamped = stamp_run(archive, kw, quiet=quiet)
    if as_json:
        extra = {**({"mementos": found} if found else {}), **({"timestamp": stamped} if stamped else {})}
        click.echo(json.dumps({**outcome.to_dict(), **extra}, indent=2, ensure_ascii=False))
    sys.exit(EXIT_OK if outcome.ok and not (stamped or {}).get("error") else EXIT_FAILED)


@contextmanager
def progress_bar(enabled: bool = True) -> Iterator[TerminalProgress | None]:
    progress = TerminalProgress() if enabled else None
    try:
        yield progress
    finally:
        if progress:
            progress.finish()


def render_capture_summary(outcome: CaptureResult, quiet: bool = False) -> str:
    """What a capture run did; ``quiet``: only what failed (nothing when all went well)."""
    if quiet:
        return "\n".join(_capture_problems(outcome))
    lines = []
    for article in outcome.articles:
        title = f" \"{article.title}\"" if article.title else ""
        if article.error and article.status is None:
            lines.append(f"FAILED {article.url}: {error_words(article.error)}")
            continue
        marker = "FAILED" if article.error else "Captured"
        how = f"HTTP {article.status}" if article.status else "local file"
        if article.browser:
            how += f", in the browser: {describe_load(article.browser)}"
        lines.append(f"{marker} {article.url}{title} ({how})")
        if article.error:
            lines.append(f"  {error_words(article.error)}")
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
            lines.append(f"  failed  {source.url}: {error_words(source.error)}")
        for source in ok:
            if failed_answer(source.status, None):
                lines.append(f"  failed  {source.url}: the server answered {http_status_words(source.status)}")
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
        if article.version and article.version > 1:
            lines.append(
                f"  version {article.version}: {len(article.citations_added)} citations added, "
                f"{len(article.citations_removed)} removed since version {article.version - 1}"
            )
            lines += [f"  + {url}" for url in article.citations_added] + [f"  - {url}" for url in article.citations_removed]
    if outcome.changes:
        lines.append(f"{len(outcome.changes)} changes since the last capture or recheck:")
        for change in sorted(outcome.changes, key=lambda c: seriousness(c.kind)):
            lines.append(f"  {change.kind:<17} {change.url}  {describe(change)}".rstrip())
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
@click.option("--notify", "notify_urls", metavar="URL", multiple=True, help="POST the run's outcome as JSON to this webhook when something changed (docs/notifications.md); repeatable.")
@click.option("--notify-always", is_flag=True, help="Notify after every run, also when nothing changed.")
@click.option("--browser/--no-browser", "browser", default=True, show_default=True, help="Recheck pages first captured in the browser in the browser again.")
@click.option("--browser-path", metavar="PATH", help="The Chromium executable (default: chromium on PATH).")
@click.option("--noise-delay", type=click.FloatRange(0, 60), default=NOISE_DELAY, show_default=True, metavar="SECONDS",
              help="A page that looks changed is fetched again SECONDS later; what differs between the two is that page's noise.")
@click.option("--no-second-look", is_flag=True, help="Judge changes without fetching a changed-looking page a second time.")
@fetch_options
@warc_options
@mementos_flag
@memento_options
@timestamp_options
@everyday_options
@click.pass_context
@archive_errors
def recheck(ctx, check_all, check_due, article, confirm, wait, as_json, verbose, notify_urls, notify_always, browser, browser_path, noise_delay,
            no_second_look, **kw):
    """Re-fetch tracked articles and cited sources; print only what changed (for cron mail).

    \b
    Examples:
      archiver recheck                      # the URLs whose next check is due (cron)
      archiver recheck --all --article URL  # one article's sources, now
      archiver recheck --json
      archiver recheck --notify https://chat.example.org/hooks/KEY
    """
    if check_all and check_due:
        fail_usage("--all and --due exclude each other")
    options = RecheckOptions(
        fetch=build_fetch_options(kw), due_only=not check_all, article=article, confirm=confirm, warc_size=kw["warc_size"],
        browser=browser, browser_options=BrowserOptions(executable=browser_path),
        noise_delay=None if no_second_look else noise_delay,
    )
    from archiver.archive import Archive

    try:
        archive = Archive(archive_dir(ctx), wait=wait)
    except ArchiveLocked as exc:
        # Cron starts the next run while a long one still works: not an error.
        click.echo(f"archiver: {exc}; not starting a second run (use --wait to wait)", err=True)
        return
    with archive:
        with progress_bar(enabled=not as_json and not is_quiet(ctx)) as progress:
            outcome = archive.recheck(options, progress=progress)
        text = render_recheck(outcome, verbose and not is_quiet(ctx), archive.store, summary=not is_quiet(ctx))
        full_text = render_recheck(outcome, True, archive.store)
        # Sources already looked up are skipped: in cron this finds mementos for what was added since.
        found = look_up_mementos(archive, kw, None, quiet=as_json or is_quiet(ctx), news_only=not verbose)
        stamped = stamp_run(archive, kw, quiet=as_json or not verbose or is_quiet(ctx))
    if as_json:
        extra = {**({"mementos": found} if found else {}), **({"timestamp": stamped} if stamped else {})}
        click.echo(json.dumps({**outcome.to_dict(), **extra}, indent=2, ensure_ascii=False))
    elif text:
        click.echo(text)
    # After the run has committed and released the archive: a slow webhook holds nothing up.
    if notify_urls and (notify_always or outcome.changes or outcome.quotes):
        send_notifications(notify_urls, "recheck", outcome.to_dict(), full_text, archive.path, kw)
    if (stamped or {}).get("error"):
        sys.exit(EXIT_FAILED)


def _capture_problems(outcome: CaptureResult) -> list[str]:
    lines = []
    for article in outcome.articles:
        if article.error:
            lines.append(f"FAILED {article.url}: {error_words(article.error)}")
        for source in article.sources:
            if source.error:
                lines.append(f"failed  {source.url}: {error_words(source.error)} (cited by {article.url})")
            elif failed_answer(source.status, None):
                lines.append(f"failed  {source.url}: the server answered {http_status_words(source.status)} (cited by {article.url})")
    return lines


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


def render_recheck(outcome: RecheckResult, verbose: bool = False, store: Any = None, summary: bool = True) -> str:
    """Quotation changes first (what provenance users care about most), then change events, in plain words."""
    lines = []
    for quote in outcome.quotes:
        lines.append(f"QUOTATION {quote.to_status.upper()}  \u201c{_clip(quote.text)}\u201d")
        if quote.to_status == "present":
            where = f"found again in {quote.source}"
        elif quote.to_status == "altered":
            same = f" ({quote.similarity:.0%} the same)" if quote.similarity is not None else ""
            where = f"reworded in {quote.source}{same}"
        else:
            where = f"no longer found in {quote.source}"
        lines.append(f"  {where}; cited by {quote.article}")
    for change in sorted(outcome.changes, key=lambda c: (seriousness(c.kind, c.severity), c.url)):
        lines += render_change(change, store)
    if verbose or (lines and summary):
        lines.append(f"checked {outcome.checked} URLs, {outcome.failed} failed to answer, {len(outcome.changes)} changed (run {outcome.run_id})")
    return "\n".join(lines)


def render_change(change: Change, store: Any = None, dated: bool = False) -> list[str]:
    """A change event for people: its label and URL, then what happened in a sentence, then a few changed words."""
    when = f"{human_date(change.detected_at)}  " if dated else ""
    lines = [f"{when}{LABELS.get(change.kind, change.kind):<13}{change.url}", f"  {describe(change, store)}"]
    findings = change.detail.get("summary") or []
    snippets = (change.detail.get("diff_summary") or {}).get("snippets") or []
    if len(findings) > 2:
        # The rest of what changed, one finding a line (the first two are in the line above).
        lines.extend("  " + _clip(f, 100) for f in findings[2:6])
    elif snippets and not findings:
        # What changed, in a few words: enough for cron mail to say whether to look.
        shown = [f"{'+' if s['op'] == 'insert' else '-'}\"{_clip(s['text'], 50)}\"" for s in snippets[:3]]
        lines.append("  " + " ".join(shown))
    return lines


def describe(change: Change, store: Any = None) -> str:
    """What a change event means, in one sentence; with the database, a "gone" says over how long it failed."""
    since = None
    if change.kind == "gone" and store is not None and (change.detail or {}).get("failure_streak"):
        from archiver.db.queries import failing_since

        url_id = store.value("SELECT url_id FROM captures WHERE id = ?", (change.to_capture_id,))
        since = failing_since(store, url_id, change.from_capture_id, change.to_capture_id)
    return describe_change(
        change.kind, change.detail, change.similarity, change.url, change.error, change.http_status, change.final_url,
        failing_since=since, detected_at=change.detected_at,
    )


def _clip(text: str, width: int = 90) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


@main.command()
@click.option("--since", metavar="DATE", help="Only changes detected on or after DATE (ISO 8601, e.g. 2026-11-01).")
@click.option("--article", metavar="URL", help="Only this article's history: its own changes, and its sources' since it first cited each (whatever capture or recheck noticed them).")
@click.option("--kind", type=click.Choice(KINDS), multiple=True, help="Only changes of this kind (repeat for several).")
@click.option("--json", "as_json", is_flag=True, help="Print the events as a JSON list.")
@everyday_options
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
            click.echo("\n".join(render_change(event, archive.store, dated=True)))


@main.command()
@click.argument("url")
@click.option("--from", "from_id", type=int, help="Capture id to diff from (default: the second latest with text).")
@click.option("--to", "to_id", type=int, help="Capture id to diff to (default: the latest with text).")
@click.option("--color/--no-color", default=None, help="Colour the diff (default: when stdout is a terminal and NO_COLOR is not set).")
@click.option("--json", "as_json", is_flag=True, help="Print both texts and the diff's operations as JSON.")
@everyday_options
@click.pass_context
@archive_errors
def diff(ctx, url, from_id, to_id, color, as_json):
    """Word-level diff of the main text of URL between two captures.

    \b
    Examples:
      archiver diff https://example.org/a-cited-source.html
      archiver diff URL --from 12 --to 40 --no-color
      archiver diff URL --json
    """
    from archiver.analyze.diff import diff_summary, render_terminal
    from archiver.terminal import colour_wanted

    with reading(ctx) as archive:
        text_diff = archive.diff(url, from_id, to_id)
    if as_json:
        summary = diff_summary(text_diff.ops)
        document = {**text_diff.to_dict(), "identical": text_diff.identical, "added": summary["added"], "removed": summary["removed"]}
        document["ops"] = [{"op": op, "text": text} for op, text in text_diff.ops]
        click.echo(json.dumps(document, indent=2, ensure_ascii=False))
        return
    if color is None:
        color = colour_wanted(sys.stdout)
    click.echo(f"--- capture {text_diff.from_capture_id}\n+++ capture {text_diff.to_capture_id}")
    if text_diff.identical:
        click.echo("(main text identical)")
        return
    click.echo(render_terminal(text_diff.ops, color=color), color=color)


@main.command()
@click.option("--until", "last_version", type=click.IntRange(1, 3), default=3, show_default=True,
              help="1: capture only; 2: then recheck a month later; 3: and two months later.")
@everyday_options
@click.pass_context
@archive_errors
def demo(ctx, last_version):
    """Capture the bundled sample articles and their sources (no internet needed), then recheck them as they change.

    The sample web is served on 127.0.0.1 as an HTTP proxy for invented hosts; its
    pages change between versions the way real sources do.

    \b
    Examples:
      archiver --archive /tmp/demo demo
      archiver demo --until 1
    """
    from archiver.sample import ARTICLE_URL, SEED_ARTICLE_URL, SampleWeb

    with SampleWeb(hang_seconds=2) as web:
        fetch = replace(FetchOptions(), proxy=web.proxy_url, connect_timeout=2, read_timeout=2, total_timeout=6, retries=0)
        with writable(ctx, create=True) as archive:
            click.echo(f"== Sample web on {web.proxy_url} (version 1, the day of publication)")
            click.echo(f"$ archiver capture {ARTICLE_URL} {SEED_ARTICLE_URL} --proxy {web.proxy_url}")
            with progress_bar() as progress:
                outcome = archive.capture([ARTICLE_URL, SEED_ARTICLE_URL], fetch=fetch, progress=progress)
            click.echo(render_capture_summary(outcome))
            for version, when in ((2, "a month later"), (3, "two months later")):
                if version > last_version:
                    break
                web.version = version
                click.echo(f"\n== Sample web version {version} ({when})")
                click.echo(f"$ archiver recheck --all --proxy {web.proxy_url}")
                result = archive.recheck(RecheckOptions(due_only=False), fetch=fetch)
                click.echo(render_recheck(result, store=archive.store) or "(nothing changed)")
            where = archive.path
    click.echo(f"\nThe archive is in {where}/. Next, try:")
    click.echo(f"  archiver --archive {where} changes")
    click.echo(f"  archiver --archive {where} sources --status gone")
    click.echo(f"  archiver --archive {where} report {ARTICLE_URL} --format md")
    click.echo(f"  archiver --archive {where} verify")


@main.command()
@click.option("--article", metavar="URL", help="Only the WARC records of this article (URL or id) and its sources; the chain is always checked whole.")
@click.option("--head", "published_head", metavar="HASH", help="A chain head or seal head published earlier: fail unless the archive still contains it.")
@click.option("--tsa-roots", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="PEM root certificates to check every timestamp token against (default: the roots stored with each token).")
@click.option("--deep", is_flag=True, help="Also recompute texts, citations, quotations and change events from the WARC records and list every difference.")
@click.option("--wacz", "wacz_path", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="Check this signed WACZ package instead of the archive: its files, its signature and its time signature.")
@click.option("--domain-roots", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="With --wacz: PEM roots the signer's certificate must chain to (default: the Mozilla roots in certifi).")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document.")
@click.option("--notify", "notify_urls", metavar="URL", multiple=True, help="POST the outcome as JSON to this webhook when a problem is found (docs/notifications.md); repeatable.")
@click.option("--notify-always", is_flag=True, help="Notify after every run, also when all is well.")
@everyday_options
@click.pass_context
@archive_errors
def verify(ctx, article, published_head, tsa_roots, deep, wacz_path, domain_roots, as_json, notify_urls, notify_always):
    """Recompute every hash from the WARC files and check the database's hash chain; exit 1 on any problem.

    \b
    Examples:
      archiver verify
      archiver verify --article URL --head 3f5e…   # a head published earlier is still in the chain
      archiver verify --tsa-roots tsa-ca.pem       # timestamp tokens against roots you trust
      archiver verify --deep                       # what the report states, re-derived from the WARCs
      archiver verify --wacz signed.wacz           # a signed package, without the archive
      archiver verify -q                           # cron: prints nothing unless there is a problem
    """
    from archiver.outputs.verify import render_text

    if wacz_path is not None:
        from dataclasses import asdict

        from archiver.outputs.wacz_sign import check_signed_wacz

        checked = check_signed_wacz(wacz_path, _read_roots(domain_roots), _read_roots(tsa_roots))
        if as_json:
            click.echo(json.dumps(asdict(checked), indent=2, ensure_ascii=False))
        else:
            for problem in checked.problems:
                click.echo(f"PROBLEM: {problem}")
            if checked.ok:
                click.echo(f"{wacz_path}: {checked.files} files as listed; signed for {checked.domain} at {checked.created}, dated by its TSA at {checked.timestamp}")
        sys.exit(EXIT_OK if checked.ok else EXIT_FAILED)

    with reading(ctx) as archive:
        with progress_bar(enabled=not as_json and not is_quiet(ctx)) as progress:
            report_progress = (lambda what, done, total: progress(done, total, what)) if progress else None
            outcome = archive.verify(article=article, head=published_head, tsa_roots=_read_roots(tsa_roots), deep=deep, progress=report_progress)
    if as_json:
        click.echo(json.dumps(outcome.to_dict(), indent=2, ensure_ascii=False))
    elif not (is_quiet(ctx) and outcome.ok):  # -q: silent when all is well (the weekly cron mail)
        click.echo(render_text(outcome))
    if notify_urls and (notify_always or not outcome.ok):
        send_notifications(notify_urls, "verify", outcome.to_dict(), render_text(outcome), archive.path, {})
    sys.exit(EXIT_OK if outcome.ok else EXIT_FAILED)


@main.command()
@click.option("--article", metavar="URL", help="Only this article (URL or id) and its sources.")
@click.option("--refresh", is_flag=True, help="Look up again sources that already have mementos.")
@click.option("--no-lookup", "no_lookup", is_flag=True, help="Only --submit: do not look up mementos.")
@memento_options
@fetch_options
@warc_options
@click.option("--json", "as_json", is_flag=True, help="Print what was found as JSON.")
@click.pass_context
@archive_errors
def mementos(ctx, article, refresh, no_lookup, as_json, **kw):
    """What public web archives hold of each cited source around the day it was cited (Memento, RFC 7089).

    For each cited source: the memento closest to the article's publication date (else its
    first capture) and the nearest one before it, fetched into the WARC like any capture and
    compared with archiver's first capture. Sources already looked up are skipped unless
    --refresh. With --submit, also asks the save endpoint to archive each source.

    \b
    Examples:
      archiver mementos
      archiver mementos --article URL --submit
      archiver mementos --timemap https://arquivo.pt/wayback/timemap/link/ --timegate ''
    """
    if no_lookup and not kw["submit"]:
        fail_usage("--no-lookup leaves nothing to do without --submit")
    kw["find_mementos"] = not no_lookup
    options = build_memento_options(kw, build_fetch_options(kw), refresh=refresh)
    with writable(ctx) as archive:
        outcome = archive.mementos(options, article=article)
    if as_json:
        click.echo(json.dumps(outcome.to_dict(), indent=2, ensure_ascii=False))
    else:
        click.echo(render_mementos(outcome) or "no cited sources to look up")


@main.command()
@click.option("--tsa", "tsa_url", metavar="URL", default=DEFAULT_TSA, show_default=True, help="The time-stamping authority's RFC 3161 HTTP endpoint.")
@click.option("--tsa-roots", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="PEM root certificates the TSA's certificate must chain to (default: the Mozilla roots in certifi).")
@click.option("--timeout", type=click.FloatRange(1), default=30.0, show_default=True, help="Seconds to wait for the TSA.")
@click.option("--proxy", metavar="URL", help="Reach the TSA through this HTTP proxy (default: $HTTP_PROXY / $HTTPS_PROXY).")
@click.option("--json", "as_json", is_flag=True, help="Print the stored token's facts as JSON.")
@click.pass_context
@archive_errors
def timestamp(ctx, tsa_url, tsa_roots, timeout, proxy, as_json):
    """Seal the archive and get an RFC 3161 time-stamp token over the seal head; keep it (database and WARC).

    The seal fixes the chain head and every row a report states. The token is checked against
    the TSA roots before it is stored; `archiver verify` checks every stored token again. A
    third party can check one with `openssl ts -verify` (README: "What each proof shows").

    \b
    Examples:
      archiver timestamp
      archiver timestamp --tsa https://freetsa.org/tsr --tsa-roots freetsa-cacert.pem
    """
    from archiver.proof.rfc3161 import TimestampError

    with writable(ctx) as archive:
        try:
            token = archive.timestamp(tsa_url, _read_roots(tsa_roots), timeout=timeout, proxy=proxy)
        except TimestampError as exc:
            click.echo(f"archiver: error: {exc}", err=True)
            sys.exit(EXIT_FAILED)
    click.echo(json.dumps(token.to_dict(), indent=2, ensure_ascii=False) if as_json else render_token(token))


@main.command()
@click.argument("sql")
@click.option("--json", "fmt", flag_value="json", help="Rows as a JSON list of objects.")
@click.option("--csv", "fmt", flag_value="csv", help="Rows as CSV with a header line.")
@everyday_options
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


@main.command("datasette-metadata")
@click.option("--title", default="archiver", show_default=True, help="The title Datasette shows on its pages.")
def datasette_metadata_command(title):
    """Print Datasette metadata for archive.db: foreign keys shown as URLs and paths, not ids, and every table described.

    \b
    Examples:
      archiver datasette-metadata > metadata.json
      datasette serve ARCHIVE/archive.db --metadata metadata.json
    """
    from archiver.db.datasette import datasette_metadata

    click.echo(json.dumps(datasette_metadata(title), indent=2, ensure_ascii=False))


@main.command()
@click.argument("article")
@click.option("--format", "fmt", type=click.Choice(["md", "html", "json"]), default="md", show_default=True, help="Markdown, one self-contained HTML file, or JSON (docs/report-json.md).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True, path_type=Path), help="Write the report here instead of to stdout.")
@click.option("--replay-base", metavar="URL", help="Replay base URL for Robust Links version URLs (e.g. a pywb collection: http://localhost:8080/my-coll/).")
@everyday_options
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
@click.option("--sign", is_flag=True, help="Sign the WACZ (WACZ signing spec: a domain's TLS key, dated by a TSA); needs --sign-key and --sign-cert.")
@click.option("--sign-key", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="ECDSA P-256 private key (PEM) of the certificate, e.g. certbot's privkey.pem.")
@click.option("--sign-cert", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="The domain's certificate chain (PEM, leaf first), e.g. certbot's fullchain.pem; at most 7 days old.")
@click.option("--tsa", "tsa_url", metavar="URL", default=DEFAULT_TSA, show_default=True, help="Time-stamping authority that dates the signature (with --sign).")
@click.option("--tsa-roots", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="PEM root certificates of the TSA (default: the Mozilla roots in certifi).")
@click.option("--json", "as_json", is_flag=True, help="Print what was written as JSON.")
@everyday_options
@click.pass_context
@archive_errors
def export(ctx, wacz_path, cdxj_path, article, sign, sign_key, sign_cert, tsa_url, tsa_roots, as_json):
    """Export the archive for replay: a WACZ package and/or a CDXJ index.

    \b
    Examples:
      archiver export --wacz archive.wacz
      archiver export --wacz one-article.wacz --article URL
      archiver export --cdxj index.cdxj
      archiver export --wacz signed.wacz --sign --sign-key privkey.pem --sign-cert fullchain.pem
    """
    if not wacz_path and not cdxj_path:
        fail_usage("say what to export: --wacz FILE and/or --cdxj FILE")
    if article and not wacz_path:
        fail_usage("--article applies to --wacz only (a CDXJ index covers the whole archive)")
    identity = None
    if sign or sign_key or sign_cert:
        if not (sign and sign_key and sign_cert and wacz_path):
            fail_usage("signing needs --wacz FILE --sign --sign-key KEY.pem --sign-cert CHAIN.pem")
        from archiver.outputs.wacz_sign import SigningIdentity

        identity = SigningIdentity(sign_key.read_bytes(), sign_cert.read_bytes(), tsa_url, _read_roots(tsa_roots))
    outcome = {}
    with reading(ctx) as archive:
        with progress_bar(enabled=not as_json and not is_quiet(ctx)) as progress:
            if wacz_path:
                outcome["wacz"] = archive.export_wacz(wacz_path, article=article, sign=identity, progress=progress)
            if cdxj_path:
                outcome["cdxj"] = archive.export_cdxj(cdxj_path, progress=progress)
    if as_json:
        click.echo(json.dumps({k: v.to_dict() for k, v in outcome.items()}, indent=2, ensure_ascii=False))
        return
    if is_quiet(ctx):
        return
    if "wacz" in outcome:
        w = outcome["wacz"]
        click.echo(f"WACZ {w.output}: {w.pages} pages from {len(w.warcs)} WARC files")
        if w.signed:
            click.echo(f"signed for {w.signed['domain']} at {w.signed['created']}, dated by {w.signed['tsa']} at {w.signed['timestamp']}")
    if "cdxj" in outcome:
        c = outcome["cdxj"]
        click.echo(f"CDXJ {c.output}: {c.lines} lines from {len(c.warcs)} WARC files")
    for part in outcome.values():
        for name in part.skipped_open:
            click.echo(f"note: {name}.open is still being written by a run: not exported", err=True)


# -- what is tracked -------------------------------------------------------------------------------


@main.command()
@click.option("--tracking", type=click.Choice(["tracked", "paused", "untracked"]), help="Only articles in this tracking state.")
@click.option("--json", "as_json", is_flag=True, help="Print the articles as a JSON list.")
@everyday_options
@click.pass_context
@archive_errors
def articles(ctx, tracking, as_json):
    """List the articles in the archive: tracking state, versions, and their sources' states.

    \b
    Examples:
      archiver articles
      archiver articles --tracking paused --json
    """
    with reading(ctx) as archive:
        found = archive.articles(tracking=tracking)
    if as_json:
        click.echo(json.dumps([a.to_dict() for a in found], indent=2, ensure_ascii=False))
        return
    for a in found:
        counts = ", ".join(f"{n} {status.replace('_', ' ')}" for status, n in a.source_statuses.items() if n)
        click.echo(f"{a.id:>4}  {a.tracking:<9} {a.url}")
        click.echo(
            f"      {a.title or '(no title)'}; {a.versions} version{'s' if a.versions != 1 else ''}, last captured {a.last_captured or '-'}; "
            f"{a.sources} sources ({counts or 'none'}); {a.changes} change events"
        )


@main.command()
@click.option("--article", metavar="URL", help="Only the sources this article (URL or id) cites.")
@click.option("--status", type=click.Choice(["ok", "failing", "gone", "soft_404", "paused"]), help="Only sources in this state.")
@click.option("--json", "as_json", is_flag=True, help="Print the sources as a JSON list.")
@everyday_options
@click.pass_context
@archive_errors
def sources(ctx, article, status, as_json):
    """List cited sources with their recheck state, schedule and the articles citing them.

    \b
    Examples:
      archiver sources --status gone
      archiver sources --article https://example.org/2026/11/an-opinion-piece.html --status gone
    """
    with reading(ctx) as archive:
        found = archive.sources(article=article, status=status)
    if as_json:
        click.echo(json.dumps([s.to_dict() for s in found], indent=2, ensure_ascii=False))
        return
    for src in found:
        when = f"checked {src.last_checked_at}" if src.last_checked_at else "not rechecked yet"
        nxt = f", next {src.next_check_at}" if src.rechecked and src.next_check_at else ("" if src.rechecked else ", not rechecked (paused or untracked)")
        click.echo(f"{src.status:<9} {src.url}")
        click.echo(f"          {src.captures} captures, {src.changes} change events; {when}{nxt}; cited by {len(src.articles)}")


def _set_paused(ctx: click.Context, article: str | None, source: str | None, paused: bool) -> TrackingChange:
    """pause and resume: exactly one of --article and --source."""
    if (article is None) == (source is None):
        fail_usage("give --article URL or --source URL (exactly one)")
    with writable(ctx) as archive:
        return archive.pause(article=article, source=source) if paused else archive.resume(article=article, source=source)


@main.command()
@click.option("--article", metavar="URL", help="Pause this article (URL or id): neither it nor its sources are rechecked through it.")
@click.option("--source", metavar="URL", help="Pause this cited source, whichever articles cite it.")
@everyday_options
@click.pass_context
@archive_errors
def pause(ctx, article, source):
    """Pause the rechecks of an article or of one source (archiver resume undoes it).

    \b
    Examples:
      archiver pause --article https://example.org/2026/11/an-opinion-piece.html
      archiver pause --source https://slow.example/report.pdf
    """
    done = _set_paused(ctx, article, source, True)
    click.echo(f"{done.article or done.source}: {'already paused' if done.was_paused else 'paused'}: recheck leaves it out until archiver resume")


@main.command()
@click.option("--article", metavar="URL", help="Resume this article (URL or id).")
@click.option("--source", metavar="URL", help="Resume this cited source.")
@everyday_options
@click.pass_context
@archive_errors
def resume(ctx, article, source):
    """Recheck a paused article or source again.

    \b
    Examples:
      archiver resume --article https://example.org/2026/11/an-opinion-piece.html
      archiver resume --source https://slow.example/report.pdf
    """
    done = _set_paused(ctx, article, source, False)
    click.echo(f"{done.article or done.source}: {'resumed' if done.was_paused else 'was not paused'}: recheck includes it again")


@main.command()
@click.argument("article")
@click.option("--json", "as_json", is_flag=True, help="Print what was done as JSON.")
@everyday_options
@click.pass_context
@archive_errors
def untrack(ctx, article, as_json):
    """Remove ARTICLE (URL or id) from tracking; its rows and WARC records stay.

    Recheck no longer looks at the article, nor at sources no other tracked article cites.
    Nothing is deleted: evidence is never removed from the archive. Capturing the article
    again tracks it again.

    \b
    Examples:
      archiver untrack https://example.org/2026/11/an-opinion-piece.html
    """
    with writable(ctx) as archive:
        done = archive.untrack(article)
    if as_json:
        click.echo(json.dumps(done.to_dict(), indent=2, ensure_ascii=False))
        return
    kept = done.kept
    click.echo(
        f"{done.article}: {'no longer tracked' if done.was_tracked else 'was already untracked'}; "
        f"{done.sources_no_longer_rechecked} of its sources are no longer rechecked (no other tracked article cites them)."
    )
    click.echo(
        f"Kept, as evidence: {kept['versions']} article versions, {kept['captures']} captures and {kept['changes']} change events "
        f"of it and its sources, in {kept['warc_files']} WARC files. Nothing was deleted."
    )


@main.command(name="import")
@click.argument("file", type=click.Path(dir_okay=False, allow_dash=True))
@click.option("--all-links", is_flag=True, help="Also fetch the pages' links that are not citations.")
@click.option("--requisites", is_flag=True, help="Also capture stylesheets, images and scripts, for faithful replay.")
@click.option("--max-sources", type=click.IntRange(0), default=MAX_SOURCES, show_default=True, help="Most links fetched per article; the rest are recorded as skipped.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON document instead of the summary.")
@browser_options
@fetch_options
@warc_options
@everyday_options
@click.pass_context
@archive_errors
def import_(ctx, file, all_links, requisites, max_sources, as_json, **kw):
    """Capture many articles: FILE holds URLs, one per line (- reads stdin); each becomes its own article.

    Blank lines and lines starting with # are ignored; a line that is not a URL is reported
    and skipped, the others are captured.

    \b
    Examples:
      archiver import articles.txt
      grep -h '^https://' exports/*.txt | archiver import -
    """
    lines = click.open_file(file, encoding="utf-8").read().splitlines()
    options = CaptureOptions(
        fetch=build_fetch_options(kw), all_links=all_links, requisites=requisites, warc_size=kw["warc_size"], max_sources=max_sources
    )
    apply_browser_options(options, kw)
    with writable(ctx, create=True) as archive:
        with progress_bar(enabled=not as_json and not is_quiet(ctx)) as progress:
            outcome = archive.import_articles(lines, options, progress=progress)
    if as_json:
        click.echo(json.dumps(outcome.to_dict(), indent=2, ensure_ascii=False))
    else:
        for skipped in outcome.skipped:
            click.echo(f"skipped {skipped.reason}", err=True)
        text = render_capture_summary(outcome.capture, quiet=is_quiet(ctx))
        if text:
            click.echo(text)
    sys.exit(EXIT_OK if outcome.ok else EXIT_FAILED)
def send_notifications(urls: tuple[str, ...], command: str, result: dict[str, Any], text: str, archive_path: Path, kw: dict[str, Any]) -> None:
    """POST the outcome to each --notify URL; a webhook that fails is reported on stderr, never fails the run."""
    from archiver.notify import notify

    for url in urls:
        # The webhook is reached as any other service on this machine ($HTTPS_PROXY, $NO_PROXY),
        # not through --proxy, which is for fetching the sources.
        problem = notify(url, command, result, text, str(archive_path), user_agent=kw.get("user_agent"))
        if problem:
            click.echo(f"archiver: warning: --notify {url}: {problem}; the run itself is recorded", err=True)


# Every configurable option can come from the environment: --per-host is ARCHIVER_PER_HOST.
add_envvars(main)


if __name__ == "__main__":  # pragma: no cover
    main()
