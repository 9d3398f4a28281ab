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
    # proofs for third parties -- seals over the rows the captures chain does not cover
    # (archiver/db/seal.py), and RFC 3161 tokens from a time-stamping authority over the newest
    # seal (archiver/runs/timestamp.py), each token also kept in a WARC as a resource record.
    """
    CREATE TABLE seals (
        id INTEGER PRIMARY KEY,
        run_id INTEGER REFERENCES runs(id),
        sealed_at TEXT NOT NULL,
        reason TEXT NOT NULL,
        capture_id INTEGER REFERENCES captures(id),
        chain_head TEXT,
        state_digest TEXT NOT NULL,
        rows INTEGER NOT NULL,
        seal_hash TEXT NOT NULL
    );
    CREATE TABLE sealed_rows (
        id INTEGER PRIMARY KEY,
        seal_id INTEGER NOT NULL REFERENCES seals(id),
        table_name TEXT NOT NULL,
        row_key TEXT NOT NULL,
        sha256 TEXT
    );
    CREATE INDEX sealed_rows_seal ON sealed_rows(seal_id);
    CREATE INDEX sealed_rows_row ON sealed_rows(table_name, row_key, id);
    CREATE TABLE timestamps (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        seal_id INTEGER NOT NULL REFERENCES seals(id),
        message TEXT NOT NULL,
        chain_head TEXT NOT NULL,
        capture_id INTEGER REFERENCES captures(id),
        tsa_url TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        gen_time TEXT NOT NULL,
        serial_number TEXT NOT NULL,
        policy TEXT,
        tsa_name TEXT,
        hash_algorithm TEXT NOT NULL,
        token BLOB NOT NULL,
        tsa_roots TEXT,
        warc_file TEXT NOT NULL,
        warc_offset INTEGER NOT NULL,
        warc_length INTEGER NOT NULL,
        warc_record_id TEXT NOT NULL
    );
    CREATE INDEX timestamps_capture ON timestamps(capture_id);
    CREATE TABLE mementos (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        article_id INTEGER NOT NULL REFERENCES articles(id),
        url_id INTEGER NOT NULL REFERENCES urls(id),
        target_datetime TEXT NOT NULL,
        target_source TEXT NOT NULL,
        looked_up_at TEXT NOT NULL,
        lookup_url TEXT NOT NULL,
        mementos INTEGER,
        role TEXT NOT NULL,
        memento_url TEXT,
        memento_datetime TEXT,
        capture_id INTEGER REFERENCES captures(id),
        compared_capture_id INTEGER REFERENCES captures(id),
        verdict TEXT NOT NULL,
        similarity REAL,
        detail TEXT,
        error TEXT
    );
    CREATE INDEX mementos_source ON mementos(url_id, id);
    CREATE INDEX mementos_article ON mementos(article_id);
    CREATE TABLE submissions (
        id INTEGER PRIMARY KEY,
        run_id INTEGER NOT NULL REFERENCES runs(id),
        url_id INTEGER NOT NULL REFERENCES urls(id),
        endpoint TEXT NOT NULL,
        requested_at TEXT NOT NULL,
        http_status INTEGER,
        memento_url TEXT,
        memento_datetime TEXT,
        error TEXT
    );
    CREATE INDEX submissions_url ON submissions(url_id, id);
    """,
    # evidence that is never overwritten -- every judgement that moves (or keeps) a baseline,
    # every version of an article with its citation set, and tracking that can be paused or ended.
    """
    CREATE TABLE judgements (
        id INTEGER PRIMARY KEY,
        url_id INTEGER NOT NULL REFERENCES urls(id),
        capture_id INTEGER NOT NULL REFERENCES captures(id),
        run_id INTEGER REFERENCES runs(id),
        baseline_before INTEGER REFERENCES captures(id),
        baseline_after INTEGER REFERENCES captures(id),
        state TEXT NOT NULL,
        change_id INTEGER REFERENCES changes(id),
        judged_at TEXT NOT NULL
    );
    CREATE INDEX judgements_url ON judgements(url_id, id);
    CREATE INDEX judgements_capture ON judgements(capture_id);
    CREATE TABLE article_versions (
        id INTEGER PRIMARY KEY,
        article_id INTEGER NOT NULL REFERENCES articles(id),
        version INTEGER NOT NULL,
        capture_id INTEGER REFERENCES captures(id),
        run_id INTEGER REFERENCES runs(id),
        created_at TEXT NOT NULL,
        title TEXT,
        text_sha256 TEXT,
        citations INTEGER NOT NULL DEFAULT 0,
        added TEXT,
        removed TEXT,
        UNIQUE (article_id, version)
    );
    CREATE TABLE version_citations (
        id INTEGER PRIMARY KEY,
        version_id INTEGER NOT NULL REFERENCES article_versions(id),
        url_id INTEGER REFERENCES urls(id),
        href TEXT NOT NULL,
        anchor_text TEXT,
        context TEXT,
        position INTEGER NOT NULL,
        cited INTEGER NOT NULL,
        skip_reason TEXT
    );
    CREATE INDEX version_citations_version ON version_citations(version_id, position);
    CREATE INDEX version_citations_url ON version_citations(url_id);
    -- What archives made before this migration knew: one version per article, from its citations,
    -- dated at the article's first capture so that its history keeps everything seen since.
    INSERT INTO article_versions (article_id, version, capture_id, run_id, created_at, title, text_sha256, citations)
        SELECT a.id, 1, a.capture_id, c.run_id,
               COALESCE((SELECT MIN(f.fetched_at) FROM captures f WHERE f.url_id = a.url_id), c.fetched_at, a.added_at),
               a.title, c.text_sha256,
               (SELECT COUNT(DISTINCT ci.url_id) FROM citations ci WHERE ci.article_id = a.id AND ci.cited = 1 AND ci.url_id IS NOT NULL)
          FROM articles a LEFT JOIN captures c ON c.id = a.capture_id;
    INSERT INTO version_citations (version_id, url_id, href, anchor_text, context, position, cited, skip_reason)
        SELECT v.id, ci.url_id, ci.href, ci.anchor_text, ci.context, ci.position, ci.cited, ci.skip_reason
          FROM citations ci JOIN article_versions v ON v.article_id = ci.article_id AND v.version = 1;
    ALTER TABLE articles ADD COLUMN untracked_at TEXT;
    ALTER TABLE articles ADD COLUMN paused_at TEXT;
    ALTER TABLE urls ADD COLUMN paused_at TEXT;
    ALTER TABLE quotes ADD COLUMN version_id INTEGER REFERENCES article_versions(id);
    ALTER TABLE quotes ADD COLUMN retired_at TEXT;
    UPDATE quotes SET version_id = (SELECT v.id FROM article_versions v WHERE v.article_id = quotes.article_id AND v.version = 1);
    """,
    # citation lists -- each link's list item (date and title as the item writes them) and,
    # for a link that is not a citation, the evidence that it is not one.
    """
    ALTER TABLE citations ADD COLUMN item_date TEXT;
    ALTER TABLE citations ADD COLUMN item_title TEXT;
    ALTER TABLE citations ADD COLUMN list_heading TEXT;
    ALTER TABLE citations ADD COLUMN evidence TEXT;
    ALTER TABLE version_citations ADD COLUMN item_date TEXT;
    ALTER TABLE version_citations ADD COLUMN item_title TEXT;
    ALTER TABLE version_citations ADD COLUMN list_heading TEXT;
    ALTER TABLE version_citations ADD COLUMN evidence TEXT;
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
    # Datasette and sqlite-utils: a foreign key from captures to their WARC file (filled by a
    # trigger, so the code that writes captures is unchanged), and views for the common questions.
    """
    ALTER TABLE captures ADD COLUMN warc_file_id INTEGER REFERENCES warc_files(id);
    UPDATE captures SET warc_file_id = (SELECT w.id FROM warc_files w WHERE w.path = captures.warc_file)
     WHERE warc_file IS NOT NULL;
    CREATE INDEX captures_warc_file ON captures(warc_file_id);
    CREATE TRIGGER captures_warc_file_id AFTER INSERT ON captures
      WHEN NEW.warc_file IS NOT NULL AND NEW.warc_file_id IS NULL
    BEGIN
      UPDATE captures SET warc_file_id = (SELECT w.id FROM warc_files w WHERE w.path = NEW.warc_file) WHERE id = NEW.id;
    END;
    CREATE VIEW sources_gone AS
    SELECT u.id AS url_id, u.url, u.state, u.last_checked_at,
           (SELECT ch.detected_at FROM changes ch WHERE ch.url_id = u.id AND ch.kind IN ('gone', 'soft_404')
             ORDER BY ch.id DESC LIMIT 1) AS gone_since,
           a.id AS article_id, au.url AS article, a.title AS article_title, c.anchor_text
      FROM urls u
      JOIN citations c ON c.url_id = u.id AND c.cited = 1
      JOIN articles a ON a.id = c.article_id
      JOIN urls au ON au.id = a.url_id
     WHERE u.state IN ('gone', 'soft_404');
    CREATE VIEW changes_this_week AS
    SELECT ch.id AS change_id, ch.detected_at, ch.kind, ch.severity, ch.summary, ch.url_id, u.url, ch.similarity,
           ch.from_capture_id, ch.to_capture_id, ch.run_id, ch.detail
      FROM changes ch JOIN urls u ON u.id = ch.url_id
     WHERE ch.detected_at >= strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '-7 days');
    CREATE VIEW quotations_altered AS
    SELECT q.id AS quote_id, q.article_id, au.url AS article, a.title AS article_title, q.status, q.similarity,
           q.url_id AS source_url_id, su.url AS source, q.text, q.checked_at, q.capture_id
      FROM quotes q
      JOIN articles a ON a.id = q.article_id
      JOIN urls au ON au.id = a.url_id
      LEFT JOIN urls su ON su.id = q.url_id
     WHERE q.status IN ('altered', 'missing') AND q.retired_at IS NULL;
    CREATE VIEW article_status AS
    SELECT a.id AS article_id, au.url AS article, a.title, a.published,
           (SELECT MIN(x.fetched_at) FROM captures x WHERE x.url_id = a.url_id AND x.warc_file IS NOT NULL) AS first_captured,
           COUNT(DISTINCT c.url_id) AS sources,
           COUNT(DISTINCT CASE WHEN EXISTS (SELECT 1 FROM captures x WHERE x.url_id = c.url_id AND x.warc_file IS NOT NULL)
                               THEN c.url_id END) AS captured,
           COUNT(DISTINCT CASE WHEN EXISTS (SELECT 1 FROM changes ch WHERE ch.url_id = c.url_id
                                             AND ch.kind IN ('content_changed', 'binary_changed'))
                               THEN c.url_id END) AS changed,
           COUNT(DISTINCT CASE WHEN u.state = 'gone' THEN c.url_id END) AS gone,
           COUNT(DISTINCT CASE WHEN u.state = 'soft_404' THEN c.url_id END) AS soft_404,
           COUNT(DISTINCT CASE WHEN u.state = 'failing' THEN c.url_id END) AS failing,
           (SELECT COUNT(*) FROM quotes q WHERE q.article_id = a.id AND q.retired_at IS NULL) AS quotations,
           (SELECT COUNT(*) FROM quotes q WHERE q.article_id = a.id AND q.status = 'altered' AND q.retired_at IS NULL) AS quotations_altered,
           (SELECT COUNT(*) FROM quotes q WHERE q.article_id = a.id AND q.status = 'missing' AND q.retired_at IS NULL) AS quotations_missing,
           MAX(u.last_checked_at) AS last_checked_at
      FROM articles a
      JOIN urls au ON au.id = a.url_id
      LEFT JOIN citations c ON c.article_id = a.id AND c.cited = 1 AND c.url_id IS NOT NULL
      LEFT JOIN urls u ON u.id = c.url_id
     GROUP BY a.id;
    """,
    # Indexes for the reads that grow with the archive: `changes --since`, the queries in
    # docs/querying.md (sources by state, an article's quotations and unlinked references),
    # and the recheck schedule.
    """
    CREATE INDEX changes_detected ON changes(detected_at);
    CREATE INDEX urls_state ON urls(state);
    CREATE INDEX urls_next_check ON urls(next_check_at);
    CREATE INDEX quotes_article ON quotes(article_id, position);
    CREATE INDEX quotes_url ON quotes(url_id);
    CREATE INDEX unlinked_references_article ON unlinked_references(article_id, position);
    """,
    # Quotations by status: "quotations altered or missing" (docs/querying.md, the view
    # quotations_altered, reports) searches the few altered ones instead of reading them all.
    """
    CREATE INDEX quotes_status ON quotes(status);
    """,
]
