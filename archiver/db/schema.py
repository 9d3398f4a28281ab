"""The SQLite schema, as an ordered list of migrations.

The schema is a public interface (docs/schema.md documents every table and column).
Never edit a migration that has shipped: append a new one. ``PRAGMA user_version``
holds the number of migrations applied.
"""

MIGRATIONS: list[str] = [
    # 1: the capture foundation.
    """
    CREATE TABLE runs (
        id INTEGER PRIMARY KEY,
        command TEXT NOT NULL,
        args TEXT NOT NULL,
        software TEXT NOT NULL,
        started_at TEXT NOT NULL,
        finished_at TEXT,
        status TEXT NOT NULL DEFAULT 'running',
        urls_total INTEGER NOT NULL DEFAULT 0,
        captured INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        skipped INTEGER NOT NULL DEFAULT 0,
        changes INTEGER NOT NULL DEFAULT 0
    );
    CREATE TABLE urls (
        id INTEGER PRIMARY KEY,
        url TEXT NOT NULL UNIQUE,
        host TEXT NOT NULL,
        first_seen TEXT NOT NULL,
        check_interval INTEGER,
        next_check_at TEXT,
        last_checked_at TEXT,
        failure_streak INTEGER NOT NULL DEFAULT 0
    );
    CREATE INDEX urls_host ON urls(host);
    CREATE TABLE warc_files (
        id INTEGER PRIMARY KEY,
        path TEXT NOT NULL UNIQUE,
        run_id INTEGER REFERENCES runs(id),
        created_at TEXT NOT NULL,
        closed_at TEXT,
        size INTEGER,
        sha256 TEXT
    );
    CREATE TABLE captures (
        id INTEGER PRIMARY KEY,
        url_id INTEGER NOT NULL REFERENCES urls(id),
        run_id INTEGER NOT NULL REFERENCES runs(id),
        requested_url TEXT NOT NULL,
        final_url TEXT,
        fetched_at TEXT NOT NULL,
        http_status INTEGER,
        content_type TEXT,
        content_length INTEGER,
        payload_sha256 TEXT,
        warc_file TEXT,
        warc_offset INTEGER,
        warc_length INTEGER,
        error TEXT,
        etag TEXT,
        last_modified TEXT,
        record_type TEXT,
        warc_record_id TEXT,
        warc_payload_digest TEXT,
        ip_address TEXT,
        truncated TEXT,
        redirects INTEGER NOT NULL DEFAULT 0,
        revisit_of INTEGER REFERENCES captures(id),
        text_sha256 TEXT,
        fingerprint TEXT,
        title TEXT
    );
    CREATE INDEX captures_url ON captures(url_id, id);
    CREATE INDEX captures_run ON captures(run_id);
    CREATE INDEX captures_payload ON captures(payload_sha256);
    CREATE TABLE hops (
        id INTEGER PRIMARY KEY,
        capture_id INTEGER NOT NULL REFERENCES captures(id),
        hop INTEGER NOT NULL,
        url TEXT NOT NULL,
        http_status INTEGER,
        location TEXT,
        warc_file TEXT,
        warc_offset INTEGER,
        warc_length INTEGER,
        warc_record_id TEXT
    );
    CREATE INDEX hops_capture ON hops(capture_id);
    CREATE TABLE articles (
        id INTEGER PRIMARY KEY,
        url_id INTEGER NOT NULL UNIQUE REFERENCES urls(id),
        title TEXT,
        author TEXT,
        published TEXT,
        added_at TEXT NOT NULL,
        capture_id INTEGER REFERENCES captures(id),
        source TEXT NOT NULL DEFAULT 'web'
    );
    CREATE TABLE citations (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        url_id INTEGER REFERENCES urls(id),
        href TEXT NOT NULL,
        anchor_text TEXT,
        context TEXT,
        position INTEGER NOT NULL,
        cited INTEGER NOT NULL,
        skip_reason TEXT
    );
    CREATE INDEX citations_article ON citations(article_id, position);
    CREATE INDEX citations_url ON citations(url_id);
    CREATE TABLE unlinked_references (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        text TEXT NOT NULL,
        context TEXT,
        position INTEGER NOT NULL
    );
    """,
    # 2: rechecks -- extracted text with full-text search, change events, quotations.
    """
    ALTER TABLE urls ADD COLUMN state TEXT NOT NULL DEFAULT 'ok';
    ALTER TABLE urls ADD COLUMN baseline_capture_id INTEGER REFERENCES captures(id);
    CREATE TABLE texts (
        capture_id INTEGER PRIMARY KEY REFERENCES captures(id),
        url_id INTEGER NOT NULL REFERENCES urls(id),
        kind TEXT NOT NULL,
        title TEXT,
        text TEXT NOT NULL
    );
    CREATE TABLE changes (
        id INTEGER PRIMARY KEY,
        url_id INTEGER NOT NULL REFERENCES urls(id),
        from_capture_id INTEGER REFERENCES captures(id),
        to_capture_id INTEGER NOT NULL REFERENCES captures(id),
        kind TEXT NOT NULL,
        similarity REAL,
        detail TEXT,
        detected_at TEXT NOT NULL,
        run_id INTEGER REFERENCES runs(id)
    );
    CREATE INDEX changes_url ON changes(url_id, id);
    CREATE TABLE quotes (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        text TEXT NOT NULL,
        context TEXT,
        position INTEGER NOT NULL,
        url_id INTEGER REFERENCES urls(id),
        status TEXT,
        similarity REAL,
        checked_at TEXT,
        capture_id INTEGER REFERENCES captures(id)
    );
    CREATE TABLE quote_checks (
        id INTEGER PRIMARY KEY,
        quote_id INTEGER NOT NULL REFERENCES quotes(id),
        capture_id INTEGER REFERENCES captures(id),
        run_id INTEGER REFERENCES runs(id),
        status TEXT NOT NULL,
        similarity REAL,
        excerpt TEXT,
        checked_at TEXT NOT NULL
    );
    CREATE INDEX quote_checks_quote ON quote_checks(quote_id, id);
    -- Full-text search over what sources said; same layout as sqlite-utils' enable_fts,
    -- so `sqlite-utils search archive.db texts WORDS` works.
    CREATE VIRTUAL TABLE [texts_fts] USING FTS5 ([title], [text], content=[texts]);
    CREATE TRIGGER [texts_ai] AFTER INSERT ON [texts] BEGIN
        INSERT INTO [texts_fts] (rowid, [title], [text]) VALUES (new.rowid, new.[title], new.[text]);
    END;
    CREATE TRIGGER [texts_ad] AFTER DELETE ON [texts] BEGIN
        INSERT INTO [texts_fts] ([texts_fts], rowid, [title], [text]) VALUES ('delete', old.rowid, old.[title], old.[text]);
    END;
    CREATE TRIGGER [texts_au] AFTER UPDATE ON [texts] BEGIN
        INSERT INTO [texts_fts] ([texts_fts], rowid, [title], [text]) VALUES ('delete', old.rowid, old.[title], old.[text]);
        INSERT INTO [texts_fts] (rowid, [title], [text]) VALUES (new.rowid, new.[title], new.[text]);
    END;
    """,
    # 3: tamper evidence -- a hash chain over captures rows (see archiver/db/chain.py).
    """
    ALTER TABLE captures ADD COLUMN chain_hash TEXT;
    """,
    # browser capture -- page loads in Chromium, every request they made, and the records made from
    # a capture (screenshot, rendered DOM, browser log, media files) rather than fetched.
    """
    CREATE TABLE browser_loads (
        id INTEGER PRIMARY KEY,
        capture_id INTEGER REFERENCES captures(id),
        url_id INTEGER NOT NULL REFERENCES urls(id),
        run_id INTEGER NOT NULL REFERENCES runs(id),
        started_at TEXT NOT NULL,
        finished_at TEXT NOT NULL,
        browser TEXT NOT NULL,
        user_agent TEXT,
        final_url TEXT,
        title TEXT,
        network_idle INTEGER NOT NULL,
        scrolled INTEGER NOT NULL DEFAULT 0,
        page_height INTEGER,
        requests INTEGER NOT NULL,
        fetched INTEGER NOT NULL,
        reused INTEGER NOT NULL,
        refused INTEGER NOT NULL,
        failed INTEGER NOT NULL,
        error TEXT,
        notes TEXT
    );
    CREATE INDEX browser_loads_url ON browser_loads(url_id, id);
    CREATE INDEX browser_loads_capture ON browser_loads(capture_id);
    CREATE TABLE browser_requests (
        id INTEGER PRIMARY KEY,
        load_id INTEGER NOT NULL REFERENCES browser_loads(id),
        position INTEGER NOT NULL,
        url TEXT NOT NULL,
        method TEXT NOT NULL,
        resource_type TEXT,
        outcome TEXT NOT NULL,
        http_status INTEGER,
        capture_id INTEGER REFERENCES captures(id),
        reason TEXT
    );
    CREATE INDEX browser_requests_load ON browser_requests(load_id, position);
    CREATE INDEX browser_requests_capture ON browser_requests(capture_id);
    CREATE TABLE attachments (
        id INTEGER PRIMARY KEY,
        capture_id INTEGER NOT NULL REFERENCES captures(id),
        load_id INTEGER REFERENCES browser_loads(id),
        run_id INTEGER NOT NULL REFERENCES runs(id),
        kind TEXT NOT NULL,
        uri TEXT NOT NULL,
        created_at TEXT NOT NULL,
        content_type TEXT,
        content_length INTEGER,
        sha256 TEXT,
        record_type TEXT NOT NULL,
        warc_file TEXT NOT NULL,
        warc_offset INTEGER NOT NULL,
        warc_length INTEGER NOT NULL,
        warc_record_id TEXT NOT NULL,
        truncated TEXT,
        detail TEXT
    );
    CREATE INDEX attachments_capture ON attachments(capture_id, kind);
    """,
    # change judgement -- what a reader sees besides the text (links, images, headings), a severity and a
    # plain-language summary per change, and the noise learned per page from two fetches moments apart.
    """
    ALTER TABLE texts ADD COLUMN features TEXT;
    ALTER TABLE changes ADD COLUMN severity TEXT;
    ALTER TABLE changes ADD COLUMN summary TEXT;
    ALTER TABLE urls ADD COLUMN volatile TEXT;
    ALTER TABLE urls ADD COLUMN volatile_learned_at TEXT;
    """,
]
