"""Embedded audio and video (``--media``): yt-dlp finds and downloads them, archiver fetches and records.

yt-dlp knows how a page embeds its media, for the sites it supports and for plain
``<video>``/``<audio>`` elements; every request it makes goes through archiver's own
Fetcher (a yt-dlp request handler of ours is the only one it has), so the address guard,
deadlines, proxy and size cap hold for it as for any fetch. Each file is recorded as a
``resource`` record under its media URL, tied to the page's response by WARC-Concurrent-To,
followed by a ``metadata`` record (warc-fields) with what yt-dlp said about it; both have
``attachments`` rows. A file that announces a size over ``--media-max-bytes`` is not
downloaded; one that turns out larger is cut there and marked ``WARC-Truncated: length``.
"""

from __future__ import annotations

import hashlib
import io
import json
import mimetypes
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from archiver.clock import utc_now
from archiver.net.fetch import FetchOptions, Fetcher, FetchResult
from archiver.runs.recorder import Recorder
from archiver.warc.records import write_derived, write_metadata

_INFO_FIELDS = ("extractor", "id", "title", "uploader", "channel", "upload_date", "timestamp", "duration", "webpage_url", "format", "ext", "width", "height", "acodec", "vcodec")


@dataclass
class MediaOutcome:
    """What --media found on one page: attachments rows written, or why nothing was."""

    attachments: list[dict[str, Any]] = field(default_factory=list)
    error: str | None = None


def _handler_class() -> type:
    """The yt-dlp request handler that sends every request through archiver's Fetcher (built lazily:
    yt-dlp is imported only when --media is used)."""
    from yt_dlp.networking.common import RequestHandler, Response
    from yt_dlp.networking.exceptions import HTTPError, TransportError

    class ArchiverRH(RequestHandler):
        _SUPPORTED_URL_SCHEMES = ("http", "https")
        _SUPPORTED_PROXY_SCHEMES = ("http", "https")
        _SUPPORTED_FEATURES = ()

        fetcher: Fetcher
        preloaded: dict[str, tuple[int, list[tuple[str, str]], bytes]]
        log: list[dict[str, Any]]

        def _check_proxies(self, proxies):
            pass  # the Fetcher's proxy (--proxy, or the environment) applies, not yt-dlp's

        def _send(self, request):
            headers = {k: v for k, v in self._merge_headers(request.headers).items() if k.lower() not in ("accept-encoding", "user-agent")}
            data = request.data
            if data is not None and not isinstance(data, bytes):
                data = data.read() if hasattr(data, "read") else b"".join(data)
            method = request.method
            if method == "GET" and request.url in self.preloaded:
                status, page_headers, body = self.preloaded[request.url]
                self.log.append({"url": request.url, "method": method, "status": status, "from": "capture"})
                return Response(io.BytesIO(body), request.url, dict(page_headers), status)
            result = self.fetcher.fetch(request.url, headers, method, data)
            final = result.final
            self.log.append({"url": request.url, "method": method, "status": final.status if final else None,
                             "error": f"{result.error.code}: {result.error.message}" if result.error else None})
            if final is None or final.status is None:
                result.close()
                raise TransportError(msg=f"{result.error.code}: {result.error.message}" if result.error else "no answer")
            final.decoded.seek(0)
            response_headers = {k: v for k, v in final.headers if k.lower() not in ("content-encoding", "content-length", "transfer-encoding")}
            response_headers["Content-Length"] = str(final.decoded_length)
            response = _FetchedResponse(final.decoded, final.url, response_headers, final.status, result)
            if final.status >= 400:
                raise HTTPError(response)
            return response

    class _FetchedResponse(Response):
        def __init__(self, fp, url, headers, status, result: FetchResult):
            super().__init__(fp, url, headers, status)
            self._result = result

        def close(self):
            super().close()
            self._result.close()

    return ArchiverRH


class MediaCapture:
    """Runs yt-dlp on captured pages and records the files it downloads."""

    def __init__(self, recorder: Recorder, store, run_id: int, fetch: FetchOptions, max_bytes: int) -> None:
        self.recorder = recorder
        self.store = store
        self.run_id = run_id
        self.max_bytes = max_bytes
        self.fetcher = Fetcher(FetchOptions(**{**fetch.as_dict(), "max_bytes": max_bytes, "retries": 0}))
        self._handler: type | None = None

    def close(self) -> None:
        self.fetcher.close()

    def capture(self, row: dict[str, Any], page_url: str, body: bytes, headers: list[tuple[str, str]]) -> MediaOutcome:
        """The media of the page ``row`` captured (its body and headers are served to yt-dlp as captured)."""
        import yt_dlp
        from yt_dlp.utils import DownloadError

        handler_class = self._handler or _handler_class()
        self._handler = handler_class
        log: list[dict[str, Any]] = []
        preloaded = {page_url: (row.get("http_status") or 200, headers, body)}
        fetcher = self.fetcher

        class ArchiverYDL(yt_dlp.YoutubeDL):
            @property
            def _request_director(self):
                director = self.__dict__.get("_archiver_director")
                if director is None:
                    director = self.build_request_director([handler_class])
                    handler = director.handlers[handler_class.RH_KEY]
                    handler.fetcher, handler.preloaded, handler.log = fetcher, preloaded, log
                    self.__dict__["_archiver_director"] = director
                return director

        outcome = MediaOutcome()
        with tempfile.TemporaryDirectory(prefix="archiver-media-") as tmp:
            params = {
                "outtmpl": str(Path(tmp) / "%(id).80s-%(format_id).40s.%(ext)s"),
                # One file per medium: merging separate audio and video would need ffmpeg.
                "format": "best[vcodec!=none][acodec!=none]/best",
                "max_filesize": self.max_bytes,
                "noplaylist": True,
                "playlistend": 10,
                "quiet": True,
                "no_warnings": True,
                "noprogress": True,
                "retries": 0,
                "fragment_retries": 0,
                "extractor_retries": 0,
                "cachedir": False,
                "socket_timeout": self.fetcher.options.read_timeout,
                "logger": _QuietLogger(),
                "http_headers": {"User-Agent": self.fetcher.options.user_agent},
            }
            try:
                with ArchiverYDL(params) as ydl:
                    info = ydl.extract_info(page_url, download=True)
            except DownloadError as exc:
                message = str(exc).removeprefix("ERROR: ").strip()
                if "Unsupported URL" not in message:
                    outcome.error = f"media: {message.splitlines()[0][:300]}"
                return outcome
            except Exception as exc:  # noqa: BLE001 -- an extractor bug must not end the run
                outcome.error = f"media: yt-dlp failed: {type(exc).__name__}: {str(exc)[:300]}"
                return outcome
            entries = info.get("entries") if info and info.get("_type") == "playlist" else [info]
            for entry in entries or []:
                if not entry:
                    continue
                for download in entry.get("requested_downloads") or []:
                    path = Path(download.get("filepath") or "")
                    if path.is_file():
                        outcome.attachments += self._record(row, entry, download, path, log)
                    elif download.get("filesize") or entry.get("filesize_approx"):
                        outcome.error = f"media: a file of {entry.get('webpage_url') or page_url} is larger than --media-max-bytes ({self.max_bytes} bytes): not downloaded"
            if not outcome.attachments and outcome.error is None and entries:
                outcome.error = f"media: nothing downloaded (larger than --media-max-bytes, {self.max_bytes} bytes?)"
        if outcome.attachments:
            self.store.add_attachments(outcome.attachments)
        return outcome

    def _record(self, row: dict[str, Any], entry: dict, download: dict, path: Path, log: list[dict]) -> list[dict[str, Any]]:
        writer = self.recorder.writer
        media_url: str = download.get("url") or entry.get("url") or entry.get("webpage_url") or row["final_url"] or row["requested_url"]
        content_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        digest = hashlib.sha256()
        with open(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                digest.update(chunk)
        sha = digest.hexdigest()
        size = path.stat().st_size
        truncated = "length" if size >= self.max_bytes else None
        when = utc_now()
        with open(path, "rb") as fh:
            media = write_derived(
                writer, "resource", media_url, fh, content_type, when, sha, [("WARC-Concurrent-To", row["warc_record_id"])], truncated
            )
        info = {k: entry.get(k) for k in _INFO_FIELDS if entry.get(k) is not None}
        fields = [("software", f"yt-dlp/{_ytdlp_version()}"), ("page", row["final_url"] or row["requested_url"]), ("media-url", media_url)]
        fields += [(k.replace("_", "-"), str(v)) for k, v in info.items()]
        fields += [("request", f"{r['method']} {r['url']} -> {r.get('status') or r.get('error')}") for r in log]
        meta = write_metadata(writer, media_url, fields, when, [("WARC-Refers-To", media.record_id)])
        writer.flush()
        common = {"capture_id": row["id"], "load_id": None, "run_id": self.run_id, "created_at": media.date}
        return [
            {**common, "kind": "media", "uri": media_url, "content_type": content_type, "content_length": size, "sha256": sha,
             "record_type": "resource", "warc_file": media.warc_file, "warc_offset": media.offset, "warc_length": media.length,
             "warc_record_id": media.record_id, "truncated": truncated, "detail": json.dumps(info)},
            {**common, "kind": "media_info", "uri": media_url, "content_type": "application/warc-fields", "content_length": None,
             "sha256": None, "record_type": "metadata", "warc_file": meta.warc_file, "warc_offset": meta.offset,
             "warc_length": meta.length, "warc_record_id": meta.record_id, "truncated": None, "detail": None},
        ]


class _QuietLogger:
    """yt-dlp's messages stay out of archiver's output; its errors reach us as exceptions."""

    def debug(self, msg: str) -> None:
        pass

    info = warning = debug

    def error(self, msg: str) -> None:
        pass


def _ytdlp_version() -> str:
    from yt_dlp.version import __version__

    return __version__
