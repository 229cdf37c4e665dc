"""One page through the stage's checks: every way to be dropped has its reason; kept pages are documents."""

import dataclasses

import pytest
from cleanwarc import PARAGRAPHS, article_html

from clean.config import Config, ExtractConfig
from clean.guard import InProcessExtractor
from clean.process import PageProcessor, looks_binary
from clean.warc import Page
from webtext.record import check_document


def page(body, url="https://gazette.example/storm", content_type="text/html; charset=utf-8", status=200, **kw):
    body = body.encode() if isinstance(body, str) else body
    fields = dict(id="0123456789abcdef", url=url, final_url=kw.pop("final_url", url), fetched_at="2020-01-05T10:00:00Z",
                  source={"reddit_ids": ["t3_x"], "subreddits": ["news"], "score": 9, "created_utc": 1},
                  status=status, content_type=content_type, body=body, body_bytes=len(body), warc="/w/a.warc.gz",
                  offset=1234)
    fields.update(kw)
    return Page(**fields)


@pytest.fixture(scope="module")
def proc():
    cfg = Config(extract=ExtractConfig(isolate=False, max_html_bytes=200_000), blocked_hosts=["spam.example"])
    return PageProcessor(cfg, InProcessExtractor(cfg.extract))


def test_a_mediawiki_page_that_is_not_from_wikipedia_is_kept(proc):
    html = article_html(extra_body='<p>See also <a href="https://en.wikipedia.org/wiki/Storm">storms</a>.</p>')
    html = html.replace("<head>", '<head><meta name="generator" content="MediaWiki 1.39">'
                                  '<link rel="canonical" href="https://harbour.fandom.com/wiki/Storm">')
    kind, rec = proc.process(page(html), {})
    assert kind == "doc", rec.get("reason")


def test_a_good_page_becomes_a_document(proc):
    stats = {}
    kind, doc = proc.process(page(article_html()), stats)
    assert kind == "doc" and check_document(doc) == []
    assert doc["id"] == "0123456789abcdef" and doc["text"] == "\n".join(PARAGRAPHS)
    assert doc["title"] == "Storm season begins in the harbour town"
    assert doc["source"]["score"] == 9 and doc["fetched_at"] == "2020-01-05T10:00:00Z"
    m = doc["meta"]
    assert (m["lang"], m["final_url"], m["date"], m["html_lang"], m["warc"]) == (
        "en", "https://gazette.example/storm", "2019-11-19", "en", "a.warc.gz@1234")
    assert m["lang_score"] > 0.9 and m["extractor"].startswith("trafilatura")
    assert stats["languages"] == {"en": 1} and stats["extraction"] == {"ok": 1}
    assert stats["bytes_in"] == len(article_html().encode())


GERMAN = ["Der Gemeinderat hat sich gestern Abend in der alten Bibliothek getroffen, um über den Zustand des "
          "Deiches zu sprechen. Die Ingenieure berichteten, dass zwei Abschnitte schwächer seien als erwartet.",
          "Draußen sammelten die Kinder schon Treibholz am Strand, wie jedes Jahr, für das große Feuer am Ende der "
          "Fischereisaison. Ihre Eltern sahen von der Promenade aus zu und sprachen über die Preise."]


@pytest.mark.parametrize("make, reason", [
    (lambda: page(article_html(), truncated=True), "truncated"),
    (lambda: page(article_html(), status=404), "http_status"),
    (lambda: page(article_html(), url="https://en.wikipedia.org/wiki/Harbour"), "wikipedia"),
    (lambda: page(article_html(), final_url="https://en.m.wikipedia.org/wiki/Harbour"), "wikipedia"),
    (lambda: page(article_html(), url="https://www.spam.example/x"), "blocked_host"),
    (lambda: page(b""), "empty"),
    (lambda: page(b"   \n  "), "empty"),
    (lambda: page(article_html() * 200), "too_large"),
    (lambda: page(b"%PDF-1.4 binary", content_type="application/pdf"), "not_html"),
    (lambda: page("just some text", content_type="text/plain"), "not_html"),
    (lambda: page("no tags at all, no type", content_type=None), "not_html"),
    (lambda: page(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4), "binary"),
    (lambda: page(b"<html>" + bytes(range(256)) * 4), "binary"),
    (lambda: page("<html><head><script>x=1</script></head><body></body></html>"), "no_text"),
    (lambda: page(article_html(extra_body="<p>This article uses material from the Wikipedia article "
                                          "Harbour.</p>")), "wikipedia"),
    (lambda: page(article_html().replace("<head>", '<head><link rel="canonical" '
                                          'href="https://en.wikipedia.org/wiki/Harbour">')), "wikipedia"),
    (lambda: page(article_html().replace("<head>", '<head><link href="https://de.wikipedia.org/wiki/Hafen" '
                                          'rel="canonical">')), "wikipedia"),
    (lambda: page(article_html(extra_body='<div id="siteSub">From Wikipedia, the free encyclopedia</div>'
                                          '<div class="printfooter">Retrieved from "<a dir="ltr" '
                                          'href="https://en.wikipedia.org/w/index.php?oldid=1">here</a>"</div>')),
     "wikipedia"),
    (lambda: page(article_html(paragraphs=GERMAN, lang="de")), "lang"),
    (lambda: page(article_html(paragraphs=["The sea wall will be repaired before the storms arrive."])),
     "too_short"),
    (lambda: page(article_html(paragraphs=PARAGRAPHS + ["Subscribe for more stories like this one today."] * 4
                                + [f"Photo {i} of the harbour at dawn..." for i in range(8)])), "ellipsis_lines"),
])
def test_each_drop_has_its_reason(proc, make, reason):
    kind, rec = proc.process(make(), {})
    assert kind == "reject" and rec["reason"] == reason, (rec["reason"], rec.get("reject"))
    assert rec["stage"] == "clean" and rec["id"] == "0123456789abcdef"
    assert check_document({k: v for k, v in rec.items() if k not in ("reason", "stage", "reject")}) == []


def test_rejects_after_extraction_keep_the_text(proc):
    kind, rec = proc.process(page(article_html(paragraphs=GERMAN, lang="de")), {})
    assert rec["text"].startswith("Der Gemeinderat") and rec["meta"]["lang"] == "de"
    assert rec["reject"]["detail"] == "de not in en"


def test_language_filter_off_keeps_other_languages():
    cfg = Config(extract=ExtractConfig(isolate=False))
    cfg = dataclasses.replace(cfg, lang=dataclasses.replace(cfg.lang, keep=[]))
    p = PageProcessor(cfg, InProcessExtractor(cfg.extract))
    kind, doc = p.process(page(article_html(paragraphs=GERMAN, lang="de")), {})
    assert kind == "doc" and doc["meta"]["lang"] == "de"


def test_binary_sniffing():
    assert looks_binary(b"%PDF-1.7\n...") and looks_binary(b"\x1f\x8b\x08\x00")
    assert looks_binary(b"<html>\x00\x00\x00") == "NUL bytes"
    assert looks_binary(article_html().encode()) is None
    assert looks_binary("<html>élan</html>".encode("utf-16")) is None


def test_wikipedia_markup_is_found_among_thousands_of_links_to_wikipedia():
    from clean.process import wikipedia_markup

    refs = b"<li><a href='https://en.wikipedia.org/wiki/Ref'>Wikipedia</a></li>" * 3000
    assert wikipedia_markup(b"<html><body>" + refs + b"</body></html>") is None  # links are not copies
    copied = (b"<html><body>" + refs + b"<div class='printfooter'>Retrieved from <a dir='ltr' "
              b"href='https://en.wikipedia.org/w/index.php?title=Cat'>here</a></div></body></html>")
    assert wikipedia_markup(copied).startswith("retrieved from <a")
    head = b"<html><head><link rel='canonical' href='https://en.wikipedia.org/wiki/Cat'></head><body>"
    assert wikipedia_markup(head + refs + b"</body></html>").startswith("<link rel='canonical'")
