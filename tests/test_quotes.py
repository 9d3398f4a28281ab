from archiver.analyze.quotes import find_quotes, locate

ARTICLE = """
<p>The council published its decision on Monday.</p>
<blockquote cite="https://council.example/minutes/12"><p>The northern embankment will be rebuilt before the
winter storms, whatever the final cost turns out to be.</p></blockquote>
<p>Residents were not convinced. One of them told us that \u201cnobody from the council has walked along the
river since the last flood came through\u201d and <a href="https://paper.example/interview">said so on the record</a>.</p>
<blockquote><p>Short one.</p></blockquote><p>\u2014 <a href="/letters/3">a letter to the editor</a></p>
<p>A "scare quote" and the "Flood Act" are not quotations.</p>
"""

SOURCE = ("Minutes of the meeting. " * 2000
          + "After a long debate the chair said: The northern embankment will be rebuilt before the winter storms, "
            "whatever the final cost turns out to be. The motion passed. "
          + "Other business followed. " * 2000)


def test_find_quotes_html():
    quotes = find_quotes(ARTICLE, base_url="https://paper.example/news/flood")
    texts = [q.text for q in quotes]
    assert texts[0].startswith("The northern embankment will be rebuilt")
    assert quotes[0].source_hint == "https://council.example/minutes/12"
    assert quotes[0].context == "The council published its decision on Monday."
    assert texts[1] == "nobody from the council has walked along the river since the last flood came through"
    assert quotes[1].source_hint == "https://paper.example/interview"
    assert quotes[2].text == "Short one." and quotes[2].source_hint == "https://paper.example/letters/3"
    assert len(quotes) == 3 and [q.position for q in quotes] == [0, 1, 2]


def test_find_quotes_markdown_text():
    text = ("Intro paragraph.\n> The water has never been this high in living memory, said the old ferryman.\n"
            "> He pointed at the marks on the wall. [source](https://ferry.example/story)\nAfter the quote.")
    quotes = find_quotes(None, text)
    assert len(quotes) == 1
    assert quotes[0].text.startswith("The water has never been") and quotes[0].text.endswith("the wall. source")
    assert quotes[0].source_hint == "https://ferry.example/story" and quotes[0].context == "Intro paragraph."


def test_locate_present_tolerant():
    q = "The northern embankment will be rebuilt before the winter storms \u2013 whatever the final cost turns out to be"
    status, sim, excerpt = locate(q, SOURCE)
    assert status == "present" and sim == 1.0 and excerpt.startswith("The northern embankment")
    assert locate("\u201cThe  northern embankment\u201d will be rebuilt", SOURCE)[0] == "present"


def test_locate_ellipsis_fragments_in_order():
    assert locate("The northern embankment will be rebuilt [...] whatever the final cost", SOURCE)[0] == "present"
    assert locate("The northern embankment \u2026 turns out to be", SOURCE)[0] == "present"
    # fragments out of order are not the same quote
    assert locate("whatever the final cost ... The northern embankment will be rebuilt", SOURCE)[0] != "present"


def test_locate_altered_and_missing():
    status, sim, excerpt = locate("The northern embankment will be repaired before the winter storms, whatever the final cost", SOURCE)
    assert status == "altered" and 0.6 <= sim < 1.0 and "rebuilt" in excerpt
    status, sim, excerpt = locate("Completely different words about the harbour tax and fishing quotas next year", SOURCE)
    assert status == "missing" and sim < 0.6
    assert locate("anything", "")[0] == "missing"


def test_locate_on_a_long_source():
    # How long this takes is measured by scripts/bench_analysis.py, not asserted here.
    status, sim, excerpt = locate("The northern embankment will be repaired before the winter storms, whatever the cost", SOURCE)
    assert status == "altered" and 0.6 <= sim < 1.0 and "rebuilt" in excerpt


def test_single_quotation_marks_straight_and_typographic():
    html = (
        "<p>The chair said \u2018we will rebuild the northern embankment before the winter storms arrive\u2019 and sat down.</p>"
        "<p>A resident replied 'it's not the council's job to guess what the river will do next year' to applause.</p>"
        "<p>Her neighbour's dog and the builders' plans aren't quotations, and 'short ones' aren't either.</p>"
        "<p>He told us: \u201cthe clerk read out 'no more money for the quay until the auditors report' and left\u201d.</p>"
    )
    texts = [q.text for q in find_quotes(html)]
    assert texts == [
        "we will rebuild the northern embankment before the winter storms arrive",
        "it's not the council's job to guess what the river will do next year",
        "the clerk read out 'no more money for the quay until the auditors report' and left",
    ]
    md = "Intro.\nShe wrote 'the ferry will run every forty minutes from the first of December onwards' in her note."
    assert [q.text for q in find_quotes(None, md)] == [
        "the ferry will run every forty minutes from the first of December onwards"]


def test_quote_split_over_an_inserted_ellipsis_and_altered_with_closest_passage():
    source = ("The chair said: We will not close the fish market while I chair this committee, and we will find the "
              "money for the sea wall without selling the quay. Then the meeting ended.")
    quote = "We will not close the fish market \u2026 without selling the quay"
    status, similarity, excerpt = locate(quote, source)
    assert (status, similarity) == ("present", 1.0)
    assert excerpt.startswith("We will not close") and excerpt.endswith("without selling the quay")
    edited = source.replace("without selling the quay", "by selling part of the quay")
    status, similarity, excerpt = locate(quote, edited)
    assert status == "altered" and 0.6 <= similarity < 1.0
    assert "by selling part of the quay" in excerpt
    assert locate(quote, "Minutes of an unrelated meeting about parking fees in the town centre.")[0] == "missing"
