import hashlib
import json
import random
from pathlib import Path

import pytest

from archiver.analyze.compare import Observation, Verdict, classify, error_page_reason, mask_volatile
from archiver.analyze.kinds import KINDS
from archiver.analyze.text import extract
from archiver.sample.pdf import make_pdf

URL = "https://source.example/reports/2024/river-levels"

BODY = [
    "The river rose two metres overnight, and the town council met at dawn to discuss the flood defences.",
    '"We have never seen water this high in the old quarter, and we are asking everyone to stay away from the banks," said the mayor.',
    "Engineers will inspect the northern embankment this week and publish a report for residents next month.",
    "The regional weather office expects more rain on Thursday but says the peak has probably passed.",
]


def page(paragraphs=BODY, seed=0, layout=0, title="River levels | Source Example") -> bytes:
    """An article page whose noise (timestamps, tokens, counters, ads, related links) varies with seed."""
    rng = random.Random(seed)
    token = "".join(rng.choice("0123456789abcdef") for _ in range(32))
    related = [f"Story {rng.randint(1, 999)}: {rng.choice(['Markets', 'Weather', 'Sport'])} update" for _ in range(4)]
    rng.shuffle(related)
    links = "".join(f'<li><a href="/s/{i}">{t}</a></li>' for i, t in enumerate(related))
    ad = f'<div class="ad">Advertisement {rng.choice(["Buy shoes", "Cheap flights", "New phones"])} {token[:10]}</div>'
    stamp = f"Updated {rng.randint(2, 59)} minutes ago - {rng.randint(1, 28)} March 2024 {rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}"
    views = f"{rng.randint(1000, 99999):,} views"
    article = "".join(f"<p>{p}</p>" for p in paragraphs)
    if layout == 0:
        html = (f'<html><head><title>{title}</title><meta name="csrf" content="{token}"></head><body>'
                f'<header><nav><a href="/">Home</a> <a href="/world">World</a></nav></header>'
                f'<main><article><h1>River levels</h1><p class="meta">{stamp} | {views}</p>{article}</article>'
                f'<aside><h2>Related</h2><ul>{links}</ul>{ad}</aside></main>'
                f'<footer>Copyright 2024 Source Example <input type="hidden" value="{token}"></footer></body></html>')
    else:  # a redesign: different wrappers, order and classes around the same article
        html = (f'<html><head><title>{title}</title></head><body><div class="v2-shell">'
                f'<div class="topbar"><a href="/">Source Example</a><span>{views}</span></div>'
                f'<div class="cols"><section class="left"><ul class="related">{links}</ul>{ad}</section>'
                f'<section class="story"><div class="headline"><h1>River levels</h1></div>'
                f'<div class="byline">{stamp}</div><div class="story-body">{article}</div></section></div>'
                f'<div class="bottom">Session {token}</div></div></body></html>')
    return html.encode()


def obs(body: bytes | None, *, status=200, url=URL, final=None, error=None, ctype="text/html", not_modified=False):
    ex = extract(body, ctype, url) if body is not None else None
    sha = hashlib.sha256(body).hexdigest() if body is not None else None
    return Observation(url, final or url, status, error, sha, ex, not_modified)


BASE = obs(page())


def check(new, previous=BASE, state="ok", streak=0, **kw) -> Verdict:
    v = classify(previous, state, new, streak, **kw)
    json.dumps(v.detail)  # must be storable
    assert v.kind is None or v.kind in KINDS
    return v


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_noise_is_no_event(seed):
    v = check(obs(page(seed=seed)))
    assert v.kind is None and v.state == "ok", v.detail


def test_new_layout_around_same_text_is_no_event():
    v = check(obs(page(seed=7, layout=1)))
    assert v.kind is None and v.state == "ok", v.detail


def test_not_modified_is_no_event():
    assert check(obs(None, not_modified=True)).kind is None


def test_edited_word_in_quote_is_content_changed():
    edited = list(BODY)
    edited[1] = edited[1].replace("never seen", "rarely seen")
    v = check(obs(page(edited, seed=3)))
    assert v.kind == "content_changed" and v.state == "ok"
    assert 0.9 < v.similarity < 1.0
    assert v.detail["diff_summary"]["added"] >= 1 and v.detail["diff_summary"]["removed"] >= 1
    # "never" -> "rarely" drops a negation: more than a matter of wording.
    assert v.severity == "substantive" and v.summary[0].startswith("negation removed")


def test_reworded_sentence_is_a_minor_change():
    edited = list(BODY)
    edited[2] = edited[2].replace("will inspect", "are going to inspect")
    v = check(obs(page(edited, seed=3)))
    assert (v.kind, v.severity) == ("content_changed", "minor")
    assert v.summary[0].startswith('wording changed: "will" -> "are going to" in "Engineers are going to inspect')


def test_changed_number_and_name_are_substantive():
    edited = list(BODY)
    edited[0] = edited[0].replace("two metres", "3 metres").replace("town council", "Harbour Board")
    base = list(BODY)
    base[0] = base[0].replace("two metres", "2 metres")
    v = check(obs(page(edited, seed=3)), previous=obs(page(base)))
    assert (v.kind, v.severity) == ("content_changed", "substantive")
    assert "number changed: 2 -> 3" in v.summary
    assert any(s.startswith("name changed") and "Harbour Board" in s for s in v.summary), v.summary


def test_title_change_and_rewrite():
    rewritten = ["The river is back within its banks and the flood defences held everywhere in the old quarter.",
                 "Shops reopened on Monday and the council has cancelled the inspection it had planned.",
                 "Forecasters expect a dry fortnight, the first since the summer, across the whole region."]
    title = "River levels rise two metres overnight | Source Example"
    v = check(obs(page(rewritten, seed=3, title="River back within its banks, defences held | Source Example")),
              previous=obs(page(title=title)))
    assert (v.kind, v.severity) == ("content_changed", "rewrite")
    assert v.summary[0].startswith("rewritten:")
    assert ('title changed from "River levels rise two metres overnight | Source Example" to '
            '"River back within its banks, defences held | Source Example"') in v.summary
    # The site name around the same headline is the template's business, not an edit.
    renamed = check(obs(page(title="River levels rise two metres overnight - The Source")), previous=obs(page(title=title)))
    assert renamed.kind is None


def _listing(items, related=(), ad="/ads/shoes.png", image="/img/flood.jpg") -> bytes:
    lis = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in items)
    rel = "".join(f'<li><a href="{href}">{text}</a></li>' for href, text in related)
    img = f'<figure><img src="{image}" width="640" height="360" alt="The flooded quay"></figure>' if image else ""
    return (f'<html><head><title>River data | Source Example</title></head><body><main><article><h1>River data</h1>'
            f'<p>{BODY[0]}</p>{img}<p>{BODY[2]}</p><h2>Datasets</h2><ul class="datasets">{lis}</ul><p>{BODY[3]}</p></article>'
            f'<div class="related-stories"><h3>More</h3><ul>{rel}</ul></div>'
            f'<div class="ad-slot"><img src="{ad}" width="300" height="250"></div></main></body></html>').encode()


DATASETS = [("https://data.example/river-levels-2024.csv", "River levels 2024"), ("/files/flood-map.pdf", "Flood map"),
            ("https://data.example/rainfall.csv", "Rainfall")]


def test_link_removed_from_a_listing_is_a_change_a_shuffled_box_is_not():
    base = obs(_listing(DATASETS, [("/s/1", "Story one"), ("/s/2", "Story two")]))
    shuffled = obs(_listing(DATASETS[::-1], [("/s/9", "Story nine"), ("/s/8", "Story eight")], ad="/ads/phones.png"))
    assert check(shuffled, previous=base).kind is None
    removed = obs(_listing(DATASETS[:1] + DATASETS[2:], [("/s/1", "Story one"), ("/s/2", "Story two")]))
    v = check(removed, previous=base)
    assert (v.kind, v.severity) == ("content_changed", "substantive")
    assert v.summary == ['link removed: "Flood map" (source.example/files/flood-map.pdf)']
    # A link added beside the others is said only when something else changed too.
    added = obs(_listing(DATASETS + [("https://data.example/tides.csv", "Tides")]))
    assert check(added, previous=base).kind is None


def test_image_removed_or_replaced_is_a_change_a_rotated_ad_is_not():
    base = obs(_listing(DATASETS))
    assert check(obs(_listing(DATASETS, ad="/ads/cars.png")), previous=base).kind is None
    gone = check(obs(_listing(DATASETS, image=None)), previous=base)
    assert gone.kind == "content_changed" and gone.summary == ['image removed: "The flooded quay" (source.example/img/flood.jpg)']
    swapped = check(obs(_listing(DATASETS, image="/img/dry.jpg")), previous=base)
    assert swapped.summary[0].startswith('image replaced: "The flooded quay" (source.example/img/flood.jpg) -> ')


def test_learned_noise_masks_only_what_moves_on_that_page():
    from archiver.analyze.judge import learn_volatile

    def ticker(price, body=BODY):
        return page(list(body[:1]) + [f"Markets now: Vellmark Ports {price} crowns, volume {price * 7}"] + list(body[1:]), seed=2)

    base = obs(ticker(101))
    moved = obs(ticker(117))
    assert check(moved, previous=base).summary[0].startswith("number changed")
    mask = learn_volatile(moved.extracted, obs(ticker(123)).extracted)
    assert check(moved, previous=base, volatile=mask).kind is None
    # The lesson does not blind the judgement elsewhere on the page.
    edited = list(BODY)
    edited[3] = edited[3].replace("Thursday", "Friday")
    assert check(obs(ticker(131, edited)), previous=base, volatile=mask).kind == "content_changed"


def test_learned_line_masks_only_its_moving_words():
    from archiver.analyze.judge import learn_volatile

    def line(price, change, oil, stamp="12 March 2026", extra=""):
        return (f"Updated on {stamp}: Vellmark Ports {price} crowns ({change}), crude oil ${oil} a barrel, "
                f"and the harbour budget vote{extra} is expected on Tuesday after the auditors report")

    def ticker(*args, **kw):
        return obs(page(list(BODY[:1]) + [line(*args, **kw)] + list(BODY[1:]), seed=3))

    base = ticker("45.3", "+0.12%", "71.20")
    # Two fetches moments apart happen to share the oil price and the month of the stamp.
    first = ticker("47.9", "-0.40%", "75.10", stamp="14 March 2025")
    mask = learn_volatile(first.extracted, ticker("46.1", "+0.08%", "75.10", stamp="9 March 2024").extracted)
    # The number next to the moving ones, and the month of a moving date, move too: no event.
    assert check(first, previous=base, volatile=mask).kind is None
    # A word written into the same line is an edit, told without the prices around it.
    edited = ticker("48.2", "+0.30%", "73.00", stamp="2 March 2023", extra=" postponed")
    verdict = check(edited, previous=base, volatile=mask)
    assert verdict.kind == "content_changed" and verdict.severity == "minor"
    assert verdict.summary[0].startswith('wording changed: "" -> "postponed"'), verdict.summary
    assert "crowns" not in verdict.summary[0].split(" in ")[0]


def test_appended_correction_is_content_changed():
    corrected = BODY + ["Correction: an earlier version of this article misstated the height of the river."]
    v = check(obs(page(corrected, seed=4, layout=1)))
    assert (v.kind, v.severity) == ("content_changed", "substantive")
    assert v.detail["diff_summary"]["added"] > 5 and v.detail["diff_summary"]["removed"] == 0
    assert v.summary == ['correction appended: "Correction: an earlier version of this article misstated the height of the river."']


def test_deleted_paragraph_is_content_changed():
    assert check(obs(page(BODY[:2] + BODY[3:], seed=5))).kind == "content_changed"


def test_gone_at_once_on_404_and_410_and_only_once():
    for status in (404, 410):
        v = check(obs(b"<html><title>Not here</title></html>", status=status))
        assert (v.kind, v.state) == ("gone", "gone")
    v = check(obs(b"", status=404), state="gone")
    assert (v.kind, v.state) == (None, "gone")


def test_network_errors_and_5xx_need_confirmation():
    for new in (obs(None, status=None, error="dns"), obs(None, status=None, error="timeout"), obs(b"oops", status=503)):
        v = check(new, streak=1)
        assert (v.kind, v.state) == (None, "failing")
        v = check(new, state="failing", streak=2)
        assert (v.kind, v.state) == ("gone", "gone")
    v = check(obs(None, status=None, error="refused"), state="failing", streak=2, confirm=3)
    assert (v.kind, v.state) == (None, "failing")


def test_back_after_transient_failure_is_no_event():
    v = check(obs(page(seed=9)), state="failing")
    assert (v.kind, v.state) == (None, "ok")


def test_soft_404_not_found_page():
    body = (b"<html><head><title>Page not found | Source Example</title></head><body><h1>Sorry!</h1>"
            b"<p>The page you requested could not be found.</p></body></html>")
    v = check(obs(body))
    assert (v.kind, v.state) == ("soft_404", "soft_404")
    german = b"<html><head><title>Fehler</title></head><body><p>Diese Seite wurde nicht gefunden.</p></body></html>"
    assert check(obs(german)).kind == "soft_404"
    assert check(obs(body), state="soft_404").kind is None  # no repeat event


def test_soft_404_redirect_to_home_page():
    home = b"<html><head><title>Source Example</title></head><body><p>Welcome to our home page with all the news of the day.</p></body></html>"
    v = check(obs(home, final="https://source.example/"))
    assert (v.kind, v.state) == ("soft_404", "soft_404") and v.detail["redirect_to"] == "https://source.example/"


def test_soft_404_redirect_to_unrelated_page():
    other = ("<html><head><title>Shop</title></head><body><article>" + "".join(
        f"<p>Our catalogue item number {i} is a sturdy garden chair in oak, delivered free across the country.</p>"
        for i in range(5)) + "</article></body></html>").encode()
    assert check(obs(other, final="https://source.example/shop/chairs")).kind == "soft_404"


def test_soft_404_like_probe():
    shell = (b"<html><head><title>Source Example</title></head><body><article><p>Search our archive of stories, "
             b"browse the sections on the left or return to the front page for today's headlines.</p></article></body></html>")
    probe = extract(shell, "text/html", "https://source.example/no-such-page-8f2c1e")
    assert check(obs(shell), probe=probe).kind == "soft_404"
    assert check(obs(page(seed=2)), probe=probe).kind is None


def test_block_page_is_not_a_change():
    challenge = (b"<html><head><title>Just a moment...</title></head><body><p>Checking your browser before accessing "
                 b"source.example.</p></body></html>")
    v = check(obs(challenge, status=403), streak=1)
    assert (v.kind, v.state) == (None, "failing")
    v = check(obs(challenge, status=200))
    assert (v.kind, v.state) == (None, "failing")
    assert error_page_reason(extract(challenge, "text/html", URL)) == "blocked"


WALLS = {
    "login_wall": b"<html><head><title>River levels | Source Example</title></head><body><main><p>Subscribe to continue "
                  b"reading. Already a subscriber? Log in.</p></main></body></html>",
    "consent_wall": b"<html><head><title>Source Example</title></head><body><div class='cmp'><h2>We value your privacy</h2>"
                    b"<p>We and our partners use cookies.</p><button>Accept all</button><button>Reject all</button></div></body></html>",
    "region_block": b"<html><head><title>Unavailable</title></head><body><h1>Sorry</h1><p>This content is not available in "
                    b"your region.</p></body></html>",
}


@pytest.mark.parametrize("reason", sorted(WALLS))
def test_walls_are_blocked_not_edits_and_not_404s(reason):
    v = check(obs(WALLS[reason]))
    assert (v.kind, v.state, v.detail["reason"]) == ("blocked", "blocked", reason)
    assert v.summary and v.summary[0].startswith("now ")
    assert check(obs(WALLS[reason]), state="blocked").kind is None  # once
    assert (check(obs(page(seed=3)), state="blocked").kind, "restored")[0] == "restored"


def test_walls_by_status_and_pages_about_cookies():
    assert check(obs(b"<html><body>Sign in</body></html>", status=401)).detail["reason"] == "login_wall"
    assert check(obs(b"<html><body>Unavailable</body></html>", status=451)).detail["reason"] == "region_block"
    about = BODY + ["Readers asked what it means to accept all cookies; our privacy page explains how we and our partners use them."]
    assert check(obs(page(about, seed=5)), previous=obs(page(about))).kind is None
    banner = page(BODY, seed=5).replace(b"</main>", b"<div class='cookie-bar'>We value your privacy. Accept all cookies?</div></main>")
    assert check(obs(banner)).kind is None


def test_moved_same_text_new_address():
    v = check(obs(page(seed=11, layout=1), final="https://archive.source.example/2024/river-levels"))
    assert (v.kind, v.state) == ("moved", "ok")
    assert v.detail["redirect_to"] == "https://archive.source.example/2024/river-levels"


def test_https_or_cache_buster_redirect_is_not_a_move():
    for final in ("http://www.source.example/reports/2024/river-levels/", URL + "?utm_source=x&_=1712345678"):
        assert check(obs(page(seed=12), final=final)).kind is None


def test_restored_after_gone_and_soft_404():
    for state in ("gone", "soft_404"):
        v = check(obs(page(seed=13)), state=state)
        assert (v.kind, v.state) == ("restored", "ok")


def test_not_modified_answer_after_gone_is_restored():
    """A 304 to a conditional request made with the last good capture's validators: the content is back."""
    back = obs(page(), status=304, not_modified=True)
    assert (check(back, state="gone").kind, check(back, state="gone").state) == ("restored", "ok")
    assert check(back).kind is None and check(back).state == "ok"


def test_pdf_replaced_and_pdf_regenerated():
    a = make_pdf("Annual report", ["Revenue grew by four percent in the third quarter of the year."])
    b = make_pdf("Annual report", ["Revenue fell by four percent in the third quarter of the year."])
    a2 = make_pdf("Annual report", ["Revenue grew by four percent in the third quarter of the year."], author="x")
    prev = obs(a, ctype="application/pdf")
    assert check(obs(b, ctype="application/pdf"), previous=prev).kind == "content_changed"
    assert check(obs(a2, ctype="application/pdf"), previous=prev).kind is None  # new bytes, same text


def test_binary_changed():
    img1, img2 = b"\x89PNG\r\n\x1a\n" + bytes(200), b"\x89PNG\r\n\x1a\n" + bytes(range(200))
    prev = obs(img1, ctype="image/png")
    assert check(obs(img2, ctype="image/png"), previous=prev).kind == "binary_changed"
    assert check(obs(img1, ctype="image/png"), previous=prev).kind is None
    broken = obs(b"%PDF-1.4 broken one", ctype="application/pdf")
    assert check(obs(b"%PDF-1.4 broken two", ctype="application/pdf"), previous=broken).kind == "binary_changed"


def test_first_observation_is_baseline():
    v = check(obs(page()), previous=None)
    assert (v.kind, v.state) == (None, "ok")


def test_mask_volatile():
    line = "Updated 5 minutes ago: Wednesday, February 01, 2017 10:42 AM - Number of views (4099) - 1,234 shares"
    line2 = "Updated 7 minutes ago: Thursday, February 02, 2017 11:05 PM - Number of views (4116) - 1,301 shares"
    assert mask_volatile(line) == mask_volatile(line2)
    assert mask_volatile("token 9f86d081884c7d659a2feaa0c55ad015") == mask_volatile("token 2c26b46b68ffc68ff99b453c1d304134")
    assert mask_volatile("rose by 4 percent") != mask_volatile("rose by 40 percent")
    # A stamp line is masked; the same date, time or age inside a sentence is content.
    assert mask_volatile("By Ana Ruiz, 12 March 2024, 10:30") == mask_volatile("By Ana Ruiz, 13 March 2024, 11:05")
    sentence = "The council will meet again at {} on the first Monday of the month to vote on the budget."
    assert mask_volatile(sentence.format("10:30")) != mask_volatile(sentence.format("11:30"))
    assert mask_volatile("She left the town 18 years ago and never came back to the river.") != mask_volatile(
        "She left the town 25 years ago and never came back to the river.")


CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "corpus" / "page-versions" / "wm-processing-archives"


@pytest.mark.skipif(not (CORPUS / "pairs.json").is_file(), reason=f"real page-version corpus not found at {CORPUS}")
def test_real_labelled_pairs():
    pairs = json.loads((CORPUS / "pairs.json").read_text())["pairs"]
    got = {}
    for p in pairs:
        a, b = (CORPUS / p["before"]).read_bytes(), (CORPUS / p["after"]).read_bytes()
        url = p.get("url") or "https://example.invalid/page"
        got[p["id"]] = classify(obs(a, url=url), "ok", obs(b, url=url), 0)
    # Every false positive stays silent, every true positive is caught and said in words.
    assert all(got[p["id"]].kind is None for p in pairs if not p["significant"]), got
    assert all(got[p["id"]].kind == "content_changed" for p in pairs if p["significant"]), got
    assert got["truepos-dataset-removal"].summary[0].startswith('link removed: "View this Dataset" (catalog.data.gov/dataset/')
    assert any(s.startswith("image removed:") and "ObamaHu2009.jpg" in s for s in got["truepos-image-removal"].summary)
    major = got["truepos-major-changes"]
    assert major.severity == "rewrite" and major.summary[1].startswith('title changed from "Federal Partner Collaboration')


def test_word_diff_and_renderers():
    from archiver.analyze.diff import diff_summary, render_html, render_terminal, word_diff

    a = "First paragraph stays as it is and is long enough to be elided in the output.\nThe mayor said <never>."
    b = "First paragraph stays as it is and is long enough to be elided in the output.\nThe mayor said <rarely>.\nA correction."
    ops = word_diff(a, b)
    assert ("delete", "<never>.") in ops and any(op == "insert" and "<rarely>." in t for op, t in ops)
    s = diff_summary(ops)
    assert s["removed"] == 1 and s["added"] == 3 and s["snippets"]
    plain = render_terminal(ops, color=False)
    assert "[-<never>.-]" in plain and "{+<rarely>." in plain and "\u2026" in plain
    assert "\x1b[31m" in render_terminal(ops, color=True)
    html = render_html(ops)
    assert "<del>&lt;never&gt;.</del>" in html and "<ins>" in html and "<never>" not in html
    assert word_diff("same", "same") == [("equal", "same")]
