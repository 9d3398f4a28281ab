"""Writing WARC files: records, rotation, crash-safe ``.open`` files."""
