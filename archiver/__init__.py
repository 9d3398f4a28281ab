"""archiver: capture an article and the sources it cites into WARC, with provenance in SQLite."""

__version__ = "0.1.0"
PROJECT_URL = "https://github.com/archiver-project/archiver"
USER_AGENT = f"archiver/{__version__} (+{PROJECT_URL})"
