"""What the sample web serves: the URLs, the hosts, and how each page behaves per version.

Static pages live under ``site/v<N>/<host>/<path>``; a version directory only holds
the files that changed in that version, and a lookup falls back to lower versions
(so ``site/v1`` is the complete day-of-publication web). A path ending in ``/`` is
served from ``index.html``; extensionless paths are stored as extensionless files.
Files whose name starts with ``_`` (``_404.html``) are never served directly.

Behaviour that is not "serve this file" -- redirects, 404s, hosts that stop
answering, generated PDFs and PNGs, and the page whose noise changes on every
request -- is in ``ROUTES`` and ``HANGING_HOSTS`` below.

Versions: 1 = the day the article was published, 2 = a month later, 3 = two months later.
"""

from __future__ import annotations

from dataclasses import dataclass

VERSIONS = (1, 2, 3)

# Fixed Last-Modified date for files that first appear in each version directory.
VERSION_DATES = {
    1: "Sat, 14 Nov 2026 06:00:00 GMT",
    2: "Mon, 14 Dec 2026 06:00:00 GMT",
    3: "Thu, 14 Jan 2027 06:00:00 GMT",
}

# --------------------------------------------------------------------------- URLs

ARTICLE_URL = "http://blog.example/2026/11/the-bridge-that-wasnt.html"
BLOG_HOME_URL = "http://blog.example/"

ARCHIVE_URL = "http://blog.example/archive/"
EARLIER_POST_URL = "http://blog.example/2026/03/tolls-and-promises.html"
TRANSCRIPT_1_URL = "http://assembly.test/sessions/2026-02-12/transcript.html"
TRANSCRIPT_2_URL = "http://assembly.test/sessions/2026-06-04/transcript.html"
ASSEMBLY_HOME_URL = "http://assembly.test/"
INTERVIEW_URL = "http://tvnews.example/interviews/2026/10/minister-varga-holt.html"
PDF_URL = "http://stats-office.test/reports/ansel-crossing-traffic-2026.pdf"
NOISE_URL = "http://dailyledger.example/news/2026/11/ansel-estimate-rises"
LAYOUT_URL = "http://regionalherald.example/features/ansel-crossing-history.html"
CORRECTION_URL = "http://coastpost.example/2026/10/ansel-contractor-named.html"
DYING_URL = "http://localwire.test/story/ferry-timetable-cut"
MOVED_URL = "http://civicdata.example/dataset/ansel-bridge-costs"
MOVED_TO_URL = "http://civicdata.example/datasets/transport/ansel-bridge-costs"

# records.example: a local news site whose pages are not cited by the article; each shows one
# kind of change between versions 1 and 2 (tests capture them directly and recheck them).
RECORDS = "http://records.example"
CHANGE_PAGES: dict[str, tuple[str | None, str | None]] = {
    # url -> (change kind at version 2, what the first summary line starts with)
    f"{RECORDS}/council/harbour-projects.html": ("content_changed", "number changed: 12 -> 15"),
    f"{RECORDS}/council/sea-wall-contractor.html": ("content_changed", "correction appended"),
    f"{RECORDS}/news/harbour-master-retires.html": ("content_changed", "wording changed"),
    f"{RECORDS}/data/": ("content_changed", "link removed: \"Sea wall survey 2026 (PDF)\""),
    f"{RECORDS}/news/quay-before-storm.html": ("content_changed", "image removed"),
    f"{RECORDS}/council/quay-plan.html": ("content_changed", "rewritten"),
    f"{RECORDS}/news/meeting-time.html": ("content_changed", "number changed: 18:00 -> 19:30"),
    f"{RECORDS}/news/winter-ferries.html": (None, None),  # a new template, the same story
    f"{RECORDS}/news/markets-live.html": (None, None),  # a market ticker that moves on every request
    f"{RECORDS}/news/fish-market-survey.html": ("blocked", "now shows a consent wall"),
    f"{RECORDS}/news/tolls-investigation.html": ("blocked", "now behind a login or subscription wall"),
    f"{RECORDS}/news/regatta-video.html": ("blocked", "now not available in this region"),
}
CHANGE_SEVERITIES = {
    f"{RECORDS}/council/harbour-projects.html": "substantive",
    f"{RECORDS}/news/harbour-master-retires.html": "minor",
    f"{RECORDS}/council/quay-plan.html": "rewrite",
}
# A commentary that quotes a committee statement in single typographic marks across an ellipsis;
# the statement is reworded in version 2.
COMMENTARY_URL = f"{RECORDS}/opinion/the-quay-promise.html"
STATEMENT_URL = f"{RECORDS}/council/statement-rask.html"

# The article cites these in its main content, in order of first appearance,
# de-duplicated, in the form archiver.urls.normalise_url gives (the transcript-1
# link carries a "#speaker-14" fragment in the page; the interview is linked twice;
# the archive and the earlier post are linked with relative hrefs).
CITED_SOURCES: list[str] = [
    ARCHIVE_URL,
    EARLIER_POST_URL,
    TRANSCRIPT_1_URL,
    TRANSCRIPT_2_URL,
    INTERVIEW_URL,
    PDF_URL,
    NOISE_URL,
    LAYOUT_URL,
    CORRECTION_URL,
    DYING_URL,
    MOVED_URL,
]

# Every other http(s) <a href> on the article page, normalised, de-duplicated, in
# document order: header, nav, breadcrumb, ad slots (one of them sits *inside* the
# article body as an <aside>), byline, share buttons, tags, author bio, related
# posts, comments (commenter sites, a link inside a comment, reply links), sidebar
# and footer. Not included: same-page fragment links (#content, #note-1),
# mailto: links, and non-anchor URLs (form actions, <link>, <img>, <script>).
BOILERPLATE_LINKS: list[str] = [
    "http://blog.example/",
    "http://blog.example/topics/transport/",
    "http://blog.example/topics/budget/",
    "http://blog.example/topics/assembly/",
    "http://blog.example/about/",
    "http://blog.example/contact/",
    "http://ads.example/click?slot=leaderboard&campaign=4471",
    "http://ads.example/click?slot=inline&campaign=1802",
    "http://social.example/share?u=http%3A%2F%2Fblog.example%2F2026%2F11%2Fthe-bridge-that-wasnt.html",
    "http://chirp.example/intent/post?url=http%3A%2F%2Fblog.example%2F2026%2F11%2Fthe-bridge-that-wasnt.html"
    "&text=The%20bridge%20that%20wasn%27t",
    "http://linkhub.example/submit?url=http%3A%2F%2Fblog.example%2F2026%2F11%2Fthe-bridge-that-wasnt.html",
    "http://blog.example/tags/ansel-crossing/",
    "http://blog.example/tags/ferries/",
    "http://blog.example/tags/regional-assembly/",
    "http://chirp.example/tbrennick",
    "http://blog.example/2026/09/the-ferry-question.html",
    "http://blog.example/2026/07/who-pays-for-roads.html",
    "http://blog.example/2025/12/a-year-of-delays.html",
    "http://gardenerjo.example/",
    "http://blog.example/2026/11/the-bridge-that-wasnt.html?replytocom=1",
    "http://pontoonpete.test/blog/",
    "http://dailyledger.example/letters/2026/11/readers-on-the-bridge",
    "http://blog.example/2026/11/the-bridge-that-wasnt.html?replytocom=2",
    "http://marisolwrites.example/",
    "http://blog.example/2026/11/the-bridge-that-wasnt.html?replytocom=3",
    "http://ads.example/click?slot=sidebar&campaign=2290",
    "http://blog.example/2026/10/ten-questions-for-the-assembly.html",
    "http://blog.example/2026/08/the-ferry-fares-again.html",
    "http://blog.example/privacy/",
    "http://blog.example/feed.xml",
    "http://pressengine.example/",
]

# The second article, in the shape opinion writers cite in most: "here are five background
# briefings" followed by a dated list of the author's earlier posts, then "three examples
# among many from the official website" followed by a dated list of transcripts.
SEED_ARTICLE_URL = "http://blog.example/2026/11/five-briefings-before-the-vote.html"
FERRY_CONTRACT_URL = "http://blog.example/2026/05/what-the-ferry-contract-says.html"
COUNTING_CARS_URL = "http://blog.example/2026/07/counting-cars-on-the-old-road.html"
CROSSING_BOARD_URL = "http://blog.example/2026/09/who-sits-on-the-crossing-board.html"
TRANSCRIPT_3_URL = "http://assembly.test/sessions/2026-09-17/transcript.html"

# Its citations, in order: (date the list gives, title the list gives, URL).
SEED_CITATIONS: list[tuple[str, str, str]] = [
    ("2026-03-09", "Tolls and promises", EARLIER_POST_URL),
    ("2026-05-21", "What the ferry contract says", FERRY_CONTRACT_URL),
    ("2026-07-02", "Counting cars on the old road", COUNTING_CARS_URL),
    ("2026-09-15", "Who sits on the crossing board", CROSSING_BOARD_URL),
    ("2026-11-14", "The bridge that wasn't", ARTICLE_URL),
    ("2026-02-12", "Official transcript, sitting of Thursday 12 February 2026", TRANSCRIPT_1_URL),
    ("2026-06-04", "Official transcript, sitting of Thursday 4 June 2026", TRANSCRIPT_2_URL),
    ("2026-09-17", "Official transcript, sitting of Thursday 17 September 2026", TRANSCRIPT_3_URL),
]
SEED_CITED_SOURCES: list[str] = [url for _, _, url in SEED_CITATIONS]

# The blog's template: a block of links closing every post, with nothing but its recurrence
# on the blog's other pages to show it is not the article's (no class, no telling heading).
TEMPLATE_LINKS: list[str] = [
    "http://blog.example/start-here/",
    "http://blog.example/methods/",
    "http://blog.example/glossary/",
]

# Every other http(s) link of the second article, in document order: header and nav, a
# subscribe call to action inside its last paragraph, the template block, tags, comments
# (commenters' sites and a link inside a comment) and footer.
SEED_BOILERPLATE_LINKS: list[str] = [
    "http://blog.example/",
    "http://blog.example/topics/transport/",
    "http://blog.example/topics/budget/",
    "http://blog.example/about/",
    "http://blog.example/subscribe/",
    *TEMPLATE_LINKS,
    "http://blog.example/tags/ansel-crossing/",
    "http://blog.example/tags/regional-assembly/",
    "http://gardenerjo.example/",
    "http://pontoonpete.test/blog/",
    "http://marisolwrites.example/",
    "http://blog.example/privacy/",
    "http://blog.example/contact/",
    "http://pressengine.example/",
]

# Every source the demo captures (both articles' citations, each once, first article first).
ALL_CITED_SOURCES: list[str] = CITED_SOURCES + [u for u in SEED_CITED_SOURCES if u not in CITED_SOURCES]

# Page requisites of the article (stylesheet, script, images), absolute.
ARTICLE_REQUISITES: list[str] = [
    "http://blog.example/static/img/logo.png",
    "http://blog.example/static/css/site.css",
    "http://blog.example/static/js/site.js",
    "http://blog.example/static/img/ansel-sketch.svg",
]

# The passage the article quotes in its <blockquote>, whitespace-normalised.
QUOTED_PASSAGE = (
    "We never promised a date for the bridge. We promised a plan, and the plan is still on "
    "the table, fully costed and ready for the next budget round."
)
QUOTE_SOURCE = INTERVIEW_URL  # where the quoted passage comes from (version 1 only)

# ------------------------------------------------------------------------- hosts

# Hosts whose pages come from site/v<N>/<host>/.
CONTENT_HOSTS = (
    "blog.example",
    "assembly.test",
    "tvnews.example",
    "stats-office.test",
    "dailyledger.example",
    "regionalherald.example",
    "coastpost.example",
    "localwire.test",
    "civicdata.example",
    "records.example",
)
# Hosts that only appear in boilerplate: any path answers 200 with a tiny placeholder page.
STUB_HOSTS = (
    "social.example",
    "chirp.example",
    "linkhub.example",
    "ads.example",
    "gardenerjo.example",
    "pontoonpete.test",
    "marisolwrites.example",
    "pressengine.example",
)
KNOWN_HOSTS = CONTENT_HOSTS + STUB_HOSTS

# host -> first version in which the host stops answering (every path, robots.txt too).
HANGING_HOSTS = {"localwire.test": 2}

# Hosts whose static pages are sent with Content-Encoding: gzip when the client accepts it.
GZIP_HOSTS = ("assembly.test",)


# ------------------------------------------------------------------------ routes

@dataclass(frozen=True)
class Route:
    """How one URL is answered in one version.

    action: "file" (static file lookup), "not_found" (the host's 404 page),
    "redirect" (``status`` + ``location``), "pdf" (PDF generated from
    ``<path>.txt``), "png" (generated logo), "noise" (template re-rendered with
    fresh noise on every request).
    """

    action: str = "file"
    status: int = 200
    location: str | None = None
    gzip: bool = False
    chunked: bool = False


FILE = Route()
NOT_FOUND = Route("not_found", status=404)

# url (without query) -> {first version: route}; the route in force for version v
# is the one under the highest key <= v. URLs not listed are plain static files.
ROUTES: dict[str, dict[int, Route]] = {
    ARCHIVE_URL: {1: Route(chunked=True)},
    EARLIER_POST_URL: {1: FILE, 2: NOT_FOUND, 3: FILE},
    TRANSCRIPT_2_URL: {1: FILE, 2: Route("redirect", status=302, location=ASSEMBLY_HOME_URL)},
    PDF_URL: {1: Route("pdf")},
    NOISE_URL: {1: Route("noise", gzip=True, chunked=True)},
    f"{RECORDS}/news/markets-live.html": {1: Route("noise")},
    MOVED_URL: {1: FILE, 2: Route("redirect", status=301, location=MOVED_TO_URL)},
    "http://blog.example/static/img/logo.png": {1: Route("png")},
}


def route_for(url: str, version: int) -> Route:
    table = ROUTES.get(url)
    if not table:
        return FILE
    return table[max(v for v in table if v <= version)]


# ------------------------------------------------------------- expected changes

# What a recheck observes at each version, per cited source:
#   ("ok", text_id)  200 with main text ``text_id`` (same id = same main text)
#   ("not_found",)   404
#   ("soft_404",)    redirect to the site's home page
#   ("moved", text)  301 to a new address serving main text ``text``
#   ("silent",)      the host accepts the connection and never answers
_OBSERVED: dict[str, dict[int, tuple[str, ...]]] = {
    ARCHIVE_URL: {1: ("ok", "a")},
    EARLIER_POST_URL: {1: ("ok", "a"), 2: ("not_found",), 3: ("ok", "a")},
    TRANSCRIPT_1_URL: {1: ("ok", "a")},
    TRANSCRIPT_2_URL: {1: ("ok", "a"), 2: ("soft_404",)},
    INTERVIEW_URL: {1: ("ok", "a"), 2: ("ok", "b")},
    PDF_URL: {1: ("ok", "a"), 2: ("ok", "b")},
    NOISE_URL: {1: ("ok", "a")},
    LAYOUT_URL: {1: ("ok", "a")},  # new template in v2, same main text
    CORRECTION_URL: {1: ("ok", "a"), 2: ("ok", "b")},
    DYING_URL: {1: ("ok", "a"), 2: ("silent",)},
    MOVED_URL: {1: ("ok", "a"), 2: ("moved", "a")},
    # cited by the second article only; they never change
    FERRY_CONTRACT_URL: {1: ("ok", "a")},
    COUNTING_CARS_URL: {1: ("ok", "a")},
    CROSSING_BOARD_URL: {1: ("ok", "a")},
    ARTICLE_URL: {1: ("ok", "a")},
    TRANSCRIPT_3_URL: {1: ("ok", "a")},
}


def _observed(url: str, version: int) -> tuple[str, ...]:
    table = _OBSERVED[url]
    return table[max(v for v in table if v <= version)]


def _change(before: tuple[str, ...], after: tuple[str, ...]) -> str | None:
    if after == ("silent",):
        # A host that stops answering is only "gone" on the second failure in a row.
        return "gone" if before == ("silent",) else None
    if before == after:
        return None
    if after == ("not_found",):
        return "gone"
    if after == ("soft_404",):
        return "soft_404"
    if after[0] == "moved":
        return "moved"
    if after[0] == "ok":
        if before == ("not_found",):
            return "restored"
        if before[0] == "ok":
            return "content_changed"
        return None  # back from silence or from a redirect: not a scenario here
    return None


def expected_changes(from_version: int, to_version: int, sources: list[str] | None = None) -> dict[str, str | None]:
    """Cited source URL -> change kind a recheck at ``to_version`` should report.

    ``sources``: the sources rechecked, by default the first article's (``CITED_SOURCES``);
    the demo captures both articles, whose sources are ``ALL_CITED_SOURCES``.

    ``from_version`` is the version the previous check (capture or recheck) saw.
    None means no change event. Kinds: content_changed, gone, soft_404, moved,
    restored. The PDF's text changes, so it is content_changed. A silent host is
    "gone" only when the previous check also found it silent, so
    ``expected_changes(2, 2)`` reports it gone while ``expected_changes(1, 2)`` does not.
    """
    for v in (from_version, to_version):
        if v not in VERSIONS:
            raise ValueError(f"unknown sample web version: {v!r}")
    if from_version > to_version:
        raise ValueError("from_version must not be later than to_version")
    return {
        url: _change(_observed(url, from_version), _observed(url, to_version))
        for url in (CITED_SOURCES if sources is None else sources)
    }
