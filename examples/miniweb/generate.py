"""Generate the mini-web that `make demo` crawls: a few hundred pages on ten virtual hosts under
*.miniweb.test, a Pushshift-format submissions file linking to them, and a manifest of ground truth.

    python examples/miniweb/generate.py [OUT_DIR] [--port 8642] [--seed 2019]

or, from Python, `build_miniweb(out_dir, port, seed=...) -> summary dict`. Output (under OUT_DIR):

    sites/<host>/...          page bodies (HTML, a PDF, a JPEG, robots.txt files)
    routes.json               what serve.py answers for each host and path (status, type, file, location)
    submissions.jsonl.xz      Reddit submissions in the Pushshift dumps' format (field names, `\\/` escapes)
    manifest.json             ground truth for tests: what must never be fetched, duplicate clusters, ...

The output is a pure function of (port, seed) and the files in this folder: the same inputs give the same
bytes. Files whose bytes are unchanged are not rewritten, so their modification times (which the stage
runner's fingerprints read) stay as they were.
"""

from __future__ import annotations

import argparse
import json
import lzma
import os
import random
import re
import sys
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Optional

if __package__ in (None, ""):  # run as a script: import this folder as the package `miniweb` (PEP 366)
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    __package__ = "miniweb"

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
try:
    import webtext  # noqa: F401
except ImportError:  # a checkout that is not pip-installed
    sys.path.insert(0, REPO)
from webtext.record import doc_id  # noqa: E402
from webtext.urls import normalize_url  # noqa: E402

from . import templates as T  # noqa: E402
from .binary import jpeg_bytes, pdf_bytes  # noqa: E402
from .submissions import SITE_SUBREDDITS, SUBREDDIT_YEARS, Submission, base36, pushshift_record  # noqa: E402
from .texts import ProseSource, load_books, names_in, word_count  # noqa: E402
from .writing import (BLOG_AUTHORS, CHARSET_NOTES, DEKS, EDITS, FIRST_NAMES, FORUM_BOARDS,  # noqa: E402
                      FORUM_QUICK_REPLIES, FORUM_SIGNATURES, FRENCH_CHROME, GERMAN_CHROME, HEADLINES, LAST_NAMES,
                      PRODUCTS, SECTIONS, SELF_POSTS, SPANISH_BLOG, TEST_POST, UNDER_CONSTRUCTION, UPDATE_NOTES,
                      USER_ADJECTIVES, USER_NOUNS, WIKI_ARTICLES, WIKI_MARKERS)

DOMAIN = "miniweb.test"
DEFAULT_PORT = 8642
DEFAULT_SEED = 2019
SUBMISSIONS = "submissions.jsonl.xz"
MANIFEST = "manifest.json"
ROUTES = "routes.json"
SITES = "sites"
MANIFEST_FORMAT = "webtext-miniweb-manifest/1"

HOSTS = {k: f"{k}.{DOMAIN}" for k in
         ("news", "blog", "forum", "magazine", "wire", "wikimirror", "shop", "files", "intl", "old")}
HTML = "text/html; charset=utf-8"

# Sizes of the sample. Each article takes this many words (at least) of unused public-domain prose.
N_NEWS, N_BLOG, N_FORUM, N_ESSAYS = 64, 44, 32, 28
WORDS = {"news": (380, 650), "blog": (300, 520), "forum": (380, 700), "essay": (650, 950)}

# Months Reddit submissions may carry: June 2005 (Reddit's first month) to November 2017 (WebText's cut-off).
FIRST_MONTH, LAST_MONTH = (2005, 6), (2017, 11)
LAST_TIME = datetime(2017, 11, 30, 23, 0, tzinfo=timezone.utc)

# What a page of each kind should become in the clean stage: a document, a drop (with the reason a
# sane clean stage gives), or either (home pages and shop pages, where reasonable filters differ).
EXPECT = {
    "article": "keep", "article_update": "keep", "print": "keep", "wire_copy": "keep", "blog_post": "keep",
    "forum_thread": "keep", "essay": "keep", "mirror_copy": "keep", "charset_mismatch": "keep",
    "archive_copy": "keep", "wikipedia_like": "drop:wikipedia", "non_english": "drop:lang",
    "tiny": "drop:too_short", "empty": "drop:empty", "non_html": "drop:not_html", "index": "either",
    "product": "either", "legal": "either", "robots": "either",
}


@dataclass
class Item:
    """One piece of writing (article, post, thread, essay) and where it lives."""

    site: str
    n: int
    host: str
    path: str
    title: str
    dek: str
    author: str
    when: datetime
    book: str
    body: list[str]
    names: list[str]
    section: str = ""

    @property
    def key(self) -> str:
        return f"{self.site}{self.n}"

    @property
    def author_slug(self) -> str:
        return slugify(self.author)

    @property
    def words(self) -> int:
        return sum(word_count(p) for p in self.body)


def slugify(text: str, limit: int = 60) -> str:
    s = re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
    return s[:limit].rstrip("-") or "untitled"


def file_for(host: str, path: str) -> str:
    p = path.lstrip("/")
    if not p or p.endswith("/"):
        p += "index.html"
    return f"{SITES}/{host}/{p}"


class Web:
    """The sites being built: routes, file bodies and page facts, keyed by normalised URL."""

    def __init__(self, port: int):
        self.port = port
        self.routes: dict[str, dict[str, dict]] = {h: {} for h in HOSTS.values()}
        self.files: dict[str, bytes] = {}
        self.pages: dict[str, dict] = {}

    def url(self, host: str, path: str) -> str:
        return f"http://{HOSTS.get(host, host)}:{self.port}{path}"

    def add(self, host: str, path: str, body, *, kind: str, ctype: str = HTML, words: int = 0, lang: str = "en",
            file: Optional[str] = None, headers: Optional[dict] = None, **facts) -> str:
        host = HOSTS.get(host, host)
        if isinstance(body, str):
            body = body.encode("utf-8")
        file = file or file_for(host, path)
        if file in self.files and self.files[file] != body:
            raise ValueError(f"two different bodies for {file}")
        if path in self.routes[host]:
            raise ValueError(f"route {host}{path} defined twice")
        self.files[file] = body
        route = {"status": 200, "type": ctype, "file": file}
        if headers:
            route["headers"] = headers
        self.routes[host][path] = route
        url = self.url(host, path)
        self.pages[normalize_url(url)] = {"status": 200, "type": ctype, "kind": kind, "bytes": len(body),
                                          "words": words, "lang": lang, "expect": EXPECT[kind], **facts}
        return url

    def redirect(self, host: str, path: str, location: str, status: int = 301) -> str:
        host = HOSTS.get(host, host)
        self.routes[host][path] = {"status": status, "location": location}
        url = self.url(host, path)
        self.pages[normalize_url(url)] = {"status": status, "location": normalize_url(location), "kind": "redirect"}
        return url

    def missing(self, host: str, path: str) -> str:
        """A URL that a submission links to and the server answers with 404."""
        url = self.url(host, path)
        self.pages[normalize_url(url)] = {"status": 404, "kind": "not_found"}
        return url


class Builder:
    def __init__(self, port: int, seed: int):
        self.port, self.seed = port, seed
        self.web = Web(port)
        self.books = load_books()
        self.prose = ProseSource(self.books, self.rng("prose"))
        self.subs: list[Submission] = []
        self.duplicates: list[dict] = []
        self.not_duplicates: list[dict] = []
        self.extra_facts: dict[str, list] = {"non_english": [], "wikipedia_like": [], "tiny": [], "empty": [],
                                             "charset_mismatch": [], "non_html": [], "redirects": [],
                                             "not_found": [], "robots_disallowed": []}
        users = self.rng("users")
        self.users = sorted({f"{users.choice(USER_ADJECTIVES)}_{users.choice(USER_NOUNS)}{users.randrange(10, 99)}"
                             for _ in range(48)})
        self.members = {u: (f"{users.choice(['Jan', 'Mar', 'Jun', 'Sep', 'Nov'])} {users.randrange(2005, 2012)}",
                            users.randrange(3, 4000), users.choice(FORUM_SIGNATURES)) for u in self.users}
        months = []
        y, m = FIRST_MONTH
        while (y, m) <= LAST_MONTH:
            months.append((y, m))
            y, m = (y + 1, 1) if m == 12 else (y, m + 1)
        self.months = months
        self.items: dict[str, list[Item]] = {}

    def rng(self, purpose: str) -> random.Random:
        """An independent random stream per purpose, so changing one part of the sample leaves the rest."""
        return random.Random(f"miniweb:{self.seed}:{purpose}")

    # -- writing the items -----------------------------------------------------------------------

    def dates(self, n: int, purpose: str) -> list[datetime]:
        """n times spread over every month from 2005-06 to 2017-11 (in random order)."""
        r = self.rng(f"dates:{purpose}")
        out = []
        for i in range(n):
            y, m = self.months[(i * len(self.months)) // n + r.randrange(0, max(1, len(self.months) // n))]
            out.append(datetime(y, m, r.randrange(1, 28), r.randrange(6, 22), r.randrange(0, 60), tzinfo=timezone.utc))
        r.shuffle(out)
        return out

    def make_items(self, site: str, count: int) -> list[Item]:
        r = self.rng(f"items:{site}")
        lo, hi = WORDS[site]
        used_titles: set[str] = set()
        items = []
        for n, when in enumerate(self.dates(count, site)):
            book, body = self.prose.take(r.randrange(lo, hi), max_paragraphs=14)
            names = names_in(body) + ["Harbour Street", "the Old Quarter"]
            a, b = names[0], names[1]
            patterns = HEADLINES[site][:]
            r.shuffle(patterns)
            title = next((p.format(a=a, b=b) for p in patterns if p.format(a=a, b=b) not in used_titles),
                         f"{patterns[0].format(a=a, b=b)}, part {n}")
            used_titles.add(title)
            author = f"{r.choice(FIRST_NAMES)} {r.choice(LAST_NAMES)}"
            dek = r.choice(DEKS).format(a=a, b=b)
            slug = slugify(title)
            section = ""
            if site == "news":
                section = list(SECTIONS)[n % len(SECTIONS)]
                path = f"/{section}/{when:%Y/%m/%d}/{slug}.html"
                host = HOSTS["news"]
            elif site == "blog":
                blog = BLOG_AUTHORS[n % len(BLOG_AUTHORS)]
                author = blog[1]
                path = f"/{blog[0]}/{when:%Y/%m}/{slug}/"
                host = HOSTS["blog"]
            elif site == "forum":
                path = f"/t/{slug}/{1000 + 7 * n}"
                host = HOSTS["forum"]
            else:
                path = f"/essays/{slug}/"
                host = HOSTS["magazine"]
            items.append(Item(site, n, host, path, title, dek, author, when, book.key, body, names[:4], section))
        return items

    # -- submissions -----------------------------------------------------------------------------

    def score(self, r: random.Random) -> int:
        return min(9000, 3 + int(r.lognormvariate(2.2, 1.4)))

    def submit(self, url: str, title: str, when: datetime, reason: str, *, kind: str = "other",
               score: Optional[int] = None, r: Optional[random.Random] = None, **kw) -> Submission:
        r = r or self.rng(f"submit:{url}:{reason}")
        when = min(when + timedelta(hours=r.randrange(1, 60), minutes=r.randrange(0, 60)), LAST_TIME)
        names = [s for s in SITE_SUBREDDITS[kind] if SUBREDDIT_YEARS[s][0] <= when.year <= SUBREDDIT_YEARS[s][1]]
        sub = Submission(url=url, title=title, subreddit=r.choice(names or ["reddit.com"]), when=when,
                         score=self.score(r) if score is None else score, reason=reason,
                         author=r.choice(self.users + ["[deleted]"]), **kw)
        self.subs.append(sub)
        return sub

    # -- the sites -------------------------------------------------------------------------------

    def build(self) -> None:
        self.items = {"news": self.make_items("news", N_NEWS), "blog": self.make_items("blog", N_BLOG),
                      "forum": self.make_items("forum", N_FORUM), "essay": self.make_items("essay", N_ESSAYS)}
        self.build_news()
        self.build_blog()
        self.build_forum()
        self.build_magazine()
        self.build_wiki()
        self.build_shop()
        self.build_files()
        self.build_intl()
        self.build_old()
        self.build_reddit_only()
        self.build_legal_and_robots()

    def roles(self, site: str, counts: dict[str, int]) -> tuple[dict[str, list[Item]], list[Item]]:
        """Split a site's items at random into named roles; the rest are ordinary submitted pages."""
        items = self.items[site][:]
        self.rng(f"roles:{site}").shuffle(items)
        out, i = {}, 0
        for role, k in counts.items():
            out[role] = items[i:i + k]
            i += k
        return out, items[i:]

    def submit_item(self, it: Item, role: str) -> None:
        """Submit an item's page according to its role (the URL variants and resubmissions included)."""
        url = self.web.url(it.host, it.path)
        r = self.rng(f"role:{it.key}")
        if role == "low_score":
            self.submit(url, it.title, it.when, "low_score", kind=it.site, score=r.choice([0, 1, 1, 2, 2, 2]), r=r)
        elif role == "nsfw":
            self.submit(url, it.title, it.when, "nsfw", kind="nsfw", over_18=True, r=r)
        elif role == "resubmitted":  # the same URL submitted again later, to other subreddits
            for k in range(2 if it.site != "essay" else 3):
                self.submit(url, it.title, it.when + timedelta(days=140 * k), "link" if k == 0 else "resubmitted",
                            kind=it.site, r=r)
        elif role == "variants":
            for raw in self.variants(url, it, r):
                self.submit(raw, it.title, it.when + timedelta(days=r.randrange(0, 90)),
                            "link" if raw == url else "variant", kind=it.site, r=r)
        elif role == "boundary":  # score exactly 3: kept by ">= 3"
            self.submit(url, it.title, it.when, "link", kind=it.site, score=3, r=r)
        else:
            self.submit(url, it.title, it.when, "link", kind=it.site, r=r)

    def variants(self, url: str, it: Item, r: random.Random) -> list[str]:
        """The same page as different people link it: tracking parameters, fragments, host case."""
        sub = it.host.split(".")[0]
        upper = url.replace(f"//{it.host}", f"//{sub.upper()}.MiniWeb.test", 1)
        kinds = [url + "?utm_source=reddit&utm_medium=social", url + "#comments",
                 url + "?utm_campaign=feed&amp;utm_source=rss",  # HTML-escaped, as the dumps often have it
                 upper, url + "?fbclid=IwAR0xMiNiWeB", url + "?ref_src=twsrc%5Etfw"]
        picks = r.sample(kinds, 2)
        return [url] + picks

    def build_news(self) -> None:
        web = self.web
        roles, rest = self.roles("news", {"update": 3, "print": 3, "wire": 2, "redirect_target": 1, "quote": 2,
                                          "low_score": 8, "nsfw": 1, "resubmitted": 2, "variants": 3,
                                          "boundary": 2})
        r = self.rng("news")
        by_section: dict[str, list[Item]] = {}
        for it in self.items["news"]:
            by_section.setdefault(it.section, []).append(it)

        quoted, quoting = roles["quote"]
        quoting.body = quoting.body[:2] + [quoted.body[1]] + quoting.body[2:]
        self.not_duplicates.append({"members": [self.norm(quoted), self.norm(quoting)],
                                    "how": "the second article quotes one paragraph of the first"})

        in_cluster = {id(it) for role in ("update", "print", "wire") for it in roles[role]}
        wire_too = roles["print"][0]  # one article is printed and syndicated: a cluster of three
        for it in self.items["news"]:
            pr = self.rng(f"page:{it.key}")
            related = [x for x in by_section[it.section] if x is not it]
            related = pr.sample(related, min(4, len(related)))
            closed = id(it) in in_cluster
            print_path = f"/print/{it.n}.html" if it in roles["print"] else None
            html = T.news_article(it, web.url, pr, body=it.body, title=it.title, related=related, users=self.users,
                                  comments=0 if closed else pr.randrange(2, 10), closed=closed, print_path=print_path)
            web.add("news", it.path, html, kind="article", words=it.words, title=it.title)

        for it in roles["update"]:
            body = self.edited(it.body, self.rng(f"edit:{it.key}"))
            path = it.path.replace(".html", "-updated.html")
            pr = self.rng(f"page:{it.key}")
            related = pr.sample([x for x in by_section[it.section] if x is not it], 4)
            html = T.news_article(it, web.url, pr, body=body, title=it.title, related=related, users=self.users,
                                  comments=0, closed=True, note=r.choice(UPDATE_NOTES))
            url = web.add("news", path, html, kind="article_update", words=sum(map(word_count, body)),
                          title=it.title)
            self.cluster("near", "the same article republished at a second URL with small edits and an update note",
                         [self.norm(it), normalize_url(url)])
            self.submit_item(it, "link")
            self.submit(url, it.title + " (updated)", it.when + timedelta(days=1), "link", kind="news")

        for it in roles["print"]:
            path = f"/print/{it.n}.html"
            url = web.add("news", path, T.news_print(it, web.url, body=it.body, title=it.title), kind="print",
                          words=it.words, title=it.title)
            members = [self.norm(it), normalize_url(url)]
            if it is wire_too:
                members.append(normalize_url(self.wire(it)))
            self.cluster("near", "an article, its print version" + (" and a syndicated copy" if it is wire_too else ""),
                         members)
            self.submit_item(it, "link")
            self.submit(url, it.title, it.when + timedelta(days=3), "link", kind="news")

        for it in roles["wire"]:
            url = self.wire(it)
            self.cluster("near", "an article and its syndicated copy on the wire service's host",
                         [self.norm(it), normalize_url(url)])
            self.submit_item(it, "link")

        target = roles["redirect_target"][0]  # reached only through a 302 from a short link
        short = web.redirect("news", f"/r/{4000 + target.n}", web.url("news", target.path), 302)
        self.extra_facts["redirects"].append({"url": normalize_url(short), "status": 302, "location": self.norm(target)})
        self.submit(short, target.title, target.when, "redirect", kind="news")

        for role in ("quote", "low_score", "nsfw", "resubmitted", "variants", "boundary"):
            for it in roles[role]:
                self.submit_item(it, role if role != "quote" else "link")
        for it in rest:
            self.submit_item(it, "link")

        when = datetime(2017, 11, 20, 8, 0, tzinfo=timezone.utc)
        newest = sorted(self.items["news"], key=lambda i: i.when, reverse=True)
        web.add("news", "/", T.news_index("Front page", None, newest[:20], self.rng("news:home"), when),
                kind="index")
        for key, name in SECTIONS.items():
            web.add("news", f"/{key}/", T.news_index(name, key, [i for i in newest if i.section == key][:20],
                                                      self.rng(f"news:{key}"), when), kind="index")
        self.submit(web.url("news", "/"), "The Miniweb Herald front page", datetime(2012, 4, 2, tzinfo=timezone.utc),
                    "link", kind="other")
        missing = web.missing("news", "/world/2013/02/04/the-story-that-never-was.html")
        self.extra_facts["not_found"].append(normalize_url(missing))
        self.submit(missing, "The story that never was", datetime(2013, 2, 4, 12, tzinfo=timezone.utc), "not_found",
                    kind="news")

    def wire(self, it: Item) -> str:
        dateline = self.rng(f"wire:{it.key}").choice(["LONDON", "BRISTOL", "LYME REGIS", "BATH", "NANTUCKET"])
        url = self.web.add("wire", f"/story/{it.when:%Y%m%d}-{it.n}",
                           T.wire_copy(it, self.web.url, original_url=self.web.url(it.host, it.path), body=it.body,
                                       dateline=dateline), kind="wire_copy", words=it.words + 8, title=it.title)
        self.submit(url, it.title, it.when + timedelta(days=2), "link", kind="news")
        return url

    @staticmethod
    def edited(body: list[str], r: random.Random) -> list[str]:
        """The same paragraphs with two small word changes, as a corrected article has."""
        body = body[:]
        done = 0
        for old, new in EDITS:
            for i in r.sample(range(len(body)), len(body)):
                if old in body[i] and done < 2:
                    body[i] = body[i].replace(old, new, 1)
                    done += 1
                    break
        return body

    def norm(self, it: Item) -> str:
        return normalize_url(self.web.url(it.host, it.path))

    def cluster(self, kind: str, how: str, members: list[str]) -> None:
        self.duplicates.append({"kind": kind, "how": how, "members": members})

    def build_blog(self) -> None:
        web = self.web
        roles, rest = self.roles("blog", {"archive": 2, "low_score": 8, "nsfw": 1, "resubmitted": 1,
                                          "variants": 2, "boundary": 1})
        posts = self.items["blog"]
        by_blog: dict[str, list[Item]] = {}
        for it in posts:
            by_blog.setdefault(it.path.split("/")[1], []).append(it)
        pages: dict[int, bytes] = {}
        for it in posts:
            blog = next(b for b in BLOG_AUTHORS if b[0] == it.path.split("/")[1])
            pr = self.rng(f"page:{it.key}")
            mine = sorted(by_blog[blog[0]], key=lambda x: x.when, reverse=True)
            archive = sorted({(x.when.year, x.when.month) for x in mine}, reverse=True)
            recent = [x for x in mine if x is not it][:5]
            html = T.blog_post(it, web.url, pr, blog=blog, archive=archive, recent=recent, users=self.users,
                               comments=pr.randrange(0, 7))
            pages[it.n] = html.encode("utf-8")
            web.add("blog", it.path, html, kind="blog_post", words=it.words, title=it.title)
        for it in roles["archive"]:  # the same bytes under a short link: an exact duplicate
            short = f"/archives/{2000 + it.n}"
            url = web.add("blog", short, pages[it.n], kind="archive_copy", words=it.words, title=it.title,
                          file=file_for(HOSTS["blog"], it.path))
            self.cluster("exact", "a blog post and its short link, serving the same bytes", [self.norm(it), normalize_url(url)])
            self.submit_item(it, "link")
            self.submit(url, it.title, it.when + timedelta(days=20), "link", kind="blog")
        for role in ("low_score", "nsfw", "resubmitted", "variants", "boundary"):
            for it in roles[role]:
                self.submit_item(it, role)
        for it in rest:
            self.submit_item(it, "link")

        # A test post with no text to speak of, and a post in Spanish.
        when = datetime(2011, 2, 14, 21, 5, tzinfo=timezone.utc)
        tiny = Item("blog", 900, HOSTS["blog"], "/holloway/2011/02/test-post/", "Test post", "", "Hugo Holloway",
                    when, "", [TEST_POST], [])
        url = web.add("blog", tiny.path, T.blog_post(tiny, web.url, self.rng("tiny"), blog=BLOG_AUTHORS[1],
                                                     archive=[(2011, 2)], recent=[], users=self.users, comments=0),
                      kind="tiny", words=word_count(TEST_POST))
        self.extra_facts["tiny"].append({"url": normalize_url(url), "words": word_count(TEST_POST)})
        self.submit(url, "Test post", when, "link", kind="blog")

        spa = self.books["udhr-spa"].paragraphs
        body = [SPANISH_BLOG[1]] + self.udhr_paragraphs(spa[1:60])
        when = datetime(2016, 3, 10, 18, 30, tzinfo=timezone.utc)
        es = Item("blog", 901, HOSTS["blog"], "/orilla/2016/03/articulos-de-la-declaracion/",
                  "Artículos de la Declaración Universal", "", "Lucía Ferrer", when, "udhr-spa", body, [])
        url = web.add("blog", es.path, T.blog_post(es, web.url, self.rng("es"), blog=("orilla", "Lucía Ferrer",
                      SPANISH_BLOG[0], "Un cuaderno de lecturas."), archive=[(2016, 3)], recent=[], users=self.users,
                      comments=2), kind="non_english", words=es.words, lang="es")
        self.extra_facts["non_english"].append({"url": normalize_url(url), "lang": "es"})
        self.submit(url, es.title, when, "link", kind="blog")

        for slug, author, title, bio in BLOG_AUTHORS:
            web.add("blog", f"/{slug}/", T.blog_home(title, sorted(by_blog[slug], key=lambda x: x.when, reverse=True),
                                                     bio), kind="index")
        web.add("blog", "/", T.blog_home("Notebook: writing by people who read",
                                         sorted(posts, key=lambda x: x.when, reverse=True)[:15],
                                         "Four blogs, one notebook."), kind="index")
        missing = web.missing("blog", "/marsh/2010/01/deleted-post/")
        self.extra_facts["not_found"].append(normalize_url(missing))
        self.submit(missing, "A post that was later deleted", datetime(2010, 1, 9, tzinfo=timezone.utc), "not_found",
                    kind="blog")

    @staticmethod
    def udhr_paragraphs(lines: list[str]) -> list[str]:
        """Join UDHR headings ("Article 3") to the text they head."""
        out, head = [], ""
        for ln in lines:
            if word_count(ln) <= 3:
                head = ln
            else:
                out.append(f"{head}. {ln}" if head else ln)
                head = ""
        return out

    def build_forum(self) -> None:
        web = self.web
        roles, rest = self.roles("forum", {"private": 2, "archive": 1, "low_score": 7, "nsfw": 1, "variants": 1})
        threads_by_board: dict[str, list[Item]] = {}
        pages: dict[int, str] = {}
        for it in self.items["forum"]:
            board = FORUM_BOARDS[it.n % len(FORUM_BOARDS)]
            threads_by_board.setdefault(board[0], []).append(it)
            pr = self.rng(f"page:{it.key}")
            posters = pr.sample(self.users, 6)
            posts: list[tuple[str, str, Optional[tuple]]] = []
            for i, para in enumerate(it.body):
                user = posters[i % len(posters)]
                quote = None
                if posts and pr.random() < 0.35:
                    prev_user, prev_text, _ = posts[-1]
                    quote = (prev_user, " ".join(prev_text.split()[:18]) + "...")
                posts.append((user, para, quote))
                if i == 1 or (i > 2 and pr.random() < 0.2):
                    posts.append((pr.choice(self.users), pr.choice(FORUM_QUICK_REPLIES), None))
            if it in roles["private"]:  # a members-only copy of the board, which robots.txt disallows
                it.path = "/private" + it.path
            pages[it.n] = T.forum_thread(it, web.url, pr, posts=posts, board=board, members=self.members)
            web.add("forum", it.path, pages[it.n], kind="forum_thread", words=it.words, title=it.title)
        for it in roles["private"]:
            self.extra_facts["robots_disallowed"].append(self.norm(it))
            self.submit(web.url(it.host, it.path), it.title, it.when, "robots_disallowed", kind="forum")
        for it in roles["archive"]:
            url = web.add("forum", f"/archive/t/{1000 + 7 * it.n}.html", pages[it.n], kind="archive_copy",
                          words=it.words, title=it.title, file=file_for(HOSTS["forum"], it.path))
            self.cluster("exact", "a forum thread and its archive copy, serving the same bytes",
                         [self.norm(it), normalize_url(url)])
            self.submit_item(it, "link")
            self.submit(url, it.title, it.when + timedelta(days=400), "link", kind="forum")
        for role in ("low_score", "nsfw", "variants"):
            for it in roles[role]:
                self.submit_item(it, role)
        for it in rest:
            self.submit_item(it, "link")

        url = web.add("forum", "/t/untitled/1999", T.EMPTY_DOCUMENT, kind="empty")
        self.extra_facts["empty"].append({"url": normalize_url(url), "bytes": len(T.EMPTY_DOCUMENT)})
        self.submit(url, "(untitled)", datetime(2014, 7, 1, 3, 0, tzinfo=timezone.utc), "link", kind="forum")
        web.add("forum", "/", T.forum_index(FORUM_BOARDS, threads_by_board), kind="index")
        for key, name, desc in FORUM_BOARDS:
            web.add("forum", f"/f/{key}/", T.forum_index([(key, name, desc)], threads_by_board), kind="index")
        self.submit(web.url("forum", "/"), "Miniweb Forums, a friendly place to talk about books",
                    datetime(2009, 9, 9, 9, tzinfo=timezone.utc), "link", kind="other")

    def build_magazine(self) -> None:
        web = self.web
        roles, rest = self.roles("essay", {"redirect_target": 1, "mirror": 1, "low_score": 7, "nsfw": 1,
                                           "resubmitted": 1, "variants": 1, "boundary": 1})
        essays = self.items["essay"]
        for it in essays:
            pr = self.rng(f"page:{it.key}")
            more = pr.sample([x for x in essays if x is not it], 3)
            html = T.essay(it, web.url, pr, more=more)
            web.add("magazine", it.path, html, kind="essay", words=it.words, title=it.title)
            if it in roles["mirror"]:  # a content farm's byte-identical copy on another host
                url = web.add("wire", f"/mirror/{slugify(it.title)}.html", html, kind="mirror_copy", words=it.words,
                              title=it.title)
                self.cluster("exact", "an essay and a byte-identical copy on another host",
                             [self.norm(it), normalize_url(url)])
                self.submit(url, it.title, it.when + timedelta(days=30), "link", kind="essay")
        target = roles["redirect_target"][0]
        old = web.redirect("old", f"/moved/{slugify(target.title)}.html", web.url("magazine", target.path), 301)
        self.extra_facts["redirects"].append({"url": normalize_url(old), "status": 301, "location": self.norm(target)})
        self.submit(old, target.title, target.when, "redirect", kind="essay")
        for role in ("mirror", "low_score", "nsfw", "resubmitted", "variants", "boundary"):
            for it in roles[role]:
                self.submit_item(it, role if role != "mirror" else "link")
        for it in rest:
            self.submit_item(it, "link")
        web.add("magazine", "/", T.magazine_home(sorted(essays, key=lambda x: x.when, reverse=True)), kind="index")

    def build_wiki(self) -> None:
        for i, art in enumerate(WIKI_ARTICLES):
            path = "/wiki/" + art["title"].replace(" ", "_")
            words = sum(word_count(p) for p in art["lead"]) + sum(word_count(p) for _, ps in art["sections"] for p in ps)
            url = self.web.add("wikimirror", path, T.wiki_article(art, self.web.url, HOSTS["wikimirror"], path),
                               kind="wikipedia_like", words=words, title=art["title"])
            self.extra_facts["wikipedia_like"].append({"url": normalize_url(url), "title": art["title"],
                                                       "markers": WIKI_MARKERS})
            self.submit(url, art["title"] + " - Wikipedia", datetime(2014 + 2 * i, 5, 3, tzinfo=timezone.utc),
                        "link", kind="other")

    def build_shop(self) -> None:
        for n, product in enumerate(PRODUCTS, 1):
            url = self.web.add("shop", f"/product/{n}", T.product_page(n, product, self.rng(f"shop:{n}")),
                               kind="product", words=word_count(product[2]), title=product[0])
            if n % 2:
                self.submit(url, product[0], datetime(2013, n, 11, tzinfo=timezone.utc), "link", kind="other")
        self.web.add("shop", "/", T.tiny_page("Harbour Goods", "Things for people who live by the sea. "
                                              "Browse the shop."), kind="index")

    def build_files(self) -> None:
        web = self.web
        pdf = pdf_bytes(["Harbour Trust: annual report 2013", "Income and spending, summarised for members.",
                         "This document is a sample made for the webtext mini-web."])
        minutes = pdf_bytes(["Minutes of the reading-room committee", "Present: five members. Apologies: two.",
                             "The committee agreed to buy more lamps."])
        entries = [
            ("/reports/annual-report-2013.pdf", pdf, "application/pdf", None, "Harbour Trust annual report (PDF)"),
            ("/photos/harbour-at-dusk.jpg", jpeg_bytes(), "image/jpeg", None, "The harbour at dusk [OC]"),
            ("/download/4411", minutes, "application/pdf",
             {"Content-Disposition": 'attachment; filename="minutes.pdf"'}, "Committee minutes (no extension)"),
        ]
        for i, (path, body, ctype, headers, title) in enumerate(entries):
            url = web.add("files", path, body, kind="non_html", ctype=ctype, headers=headers)
            self.extra_facts["non_html"].append({"url": normalize_url(url), "type": ctype})
            self.submit(url, title, datetime(2013 + i, 8, 5, tzinfo=timezone.utc), "link", kind="other")

    def build_intl(self) -> None:
        for lang, key, chrome, path in (
                ("fr", "udhr-fra", FRENCH_CHROME, "/fr/international/declaration-universelle-des-droits-de-l-homme.html"),
                ("de", "udhr-deu", GERMAN_CHROME, "/de/politik/allgemeine-erklaerung-der-menschenrechte.html")):
            book = self.books[key]
            paras = self.udhr_paragraphs(book.paragraphs[1:70])
            when = datetime(2008, 12, 10, 9, 0, tzinfo=timezone.utc)
            html = T.intl_article(lang, chrome, book.title, paras, when, self.web.url("intl", path))
            url = self.web.add("intl", path, html, kind="non_english", words=sum(map(word_count, paras)), lang=lang)
            self.extra_facts["non_english"].append({"url": normalize_url(url), "lang": lang})
            self.submit(url, book.title, when, "link", kind="other")

    def build_old(self) -> None:
        web = self.web
        r = self.rng("old")
        essays = []
        for i, (declared, actual, note) in enumerate((("iso-8859-1", "utf-8", CHARSET_NOTES[0]),
                                                      ("utf-8", "windows-1252", CHARSET_NOTES[1]))):
            book, body = self.prose.take(r.randrange(400, 600))
            body = [note] + [curly_quotes(p) for p in body]
            title = f"{self.books[book.key].title}: a reader's notes, part {i + 1}"
            path = f"/essays/readers-notes-{i + 1}.html"
            html = T.old_page(title, body, declared).encode(actual)
            url = web.add("old", path, html, kind="charset_mismatch", ctype=f"text/html; charset={declared}",
                          words=sum(map(word_count, body)), title=title, actual_charset=actual)
            probe = ("Café Müller", "Señora Pérez")[i]
            self.extra_facts["charset_mismatch"].append({"url": normalize_url(url), "declared": declared,
                                                         "actual": actual, "probe": probe})
            self.submit(url, title, datetime(2006 + 3 * i, 10, 2, tzinfo=timezone.utc), "link", kind="other")
            essays.append((path, title))
        url = web.add("old", "/construction.html", T.tiny_page("Coming soon", UNDER_CONSTRUCTION), kind="tiny",
                      words=word_count(UNDER_CONSTRUCTION))
        self.extra_facts["tiny"].append({"url": normalize_url(url), "words": word_count(UNDER_CONSTRUCTION)})
        self.submit(url, "My new homepage", datetime(2007, 3, 3, tzinfo=timezone.utc), "link", kind="other")
        url = web.add("old", "/blank.html", b"", kind="empty")
        self.extra_facts["empty"].append({"url": normalize_url(url), "bytes": 0})
        self.submit(url, "Look at this page", datetime(2010, 5, 5, tzinfo=timezone.utc), "link", kind="other")
        links = "".join(f'<li><a href="{p}">{t}</a></li>' for p, t in essays)
        web.add("old", "/", f"<html><head><title>My Homepage</title></head><body><h1>Welcome to my homepage"
                            f"</h1><ul>{links}<li><a href=\"/construction.html\">New stuff</a></li></ul></body></html>\n",
                kind="index")

    def build_reddit_only(self) -> None:
        """Self posts and links to hosts the crawl must never fetch (filtered before it starts)."""
        r = self.rng("reddit")
        for i, ((title, text), when) in enumerate(zip(SELF_POSTS, self.dates(len(SELF_POSTS), "self"))):
            sub = self.submit("", title, when, "self_post", kind="self", is_self=True, selftext=text, r=r,
                              score=r.choice([1, 2, 5, 12, 40, 150]) if i % 3 else 2)
            sub.url = ""  # filled in once the submission has its id (the URL is its own permalink)
        blocked = [
            ("https://i.imgur.com/Xq7LmPz.jpg", "Found this in my grandfather's attic", 2016),
            ("http://imgur.com/a/bT4kZ", "Album: a week of lighthouses", 2012),
            ("https://en.wikipedia.org/wiki/Moby-Dick", "TIL Moby-Dick sold poorly in Melville's lifetime", 2015),
            ("http://en.wikipedia.org/wiki/Persuasion_(novel)", "Persuasion was published after Austen's death", 2010),
            ("https://www.reddit.com/r/books/comments/5ab12c/what_are_you_reading_this_week/", "Good thread over in r/books", 2016),
            ("http://www.reddit.com/r/history/comments/a1b2c/ama_i_restore_old_lighthouses/", "Great AMA yesterday", 2009),
        ]
        for url, title, year in blocked:
            self.submit(url, title, datetime(year, 6, 15, 12, tzinfo=timezone.utc), "blocked_domain", kind="other",
                        r=r, score=r.randrange(12, 400))

    def build_legal_and_robots(self) -> None:
        names = {"news": "The Miniweb Herald", "blog": "Notebook", "forum": "Miniweb Forums",
                 "magazine": "The Miniweb Quarterly", "shop": "Harbour Goods"}
        for host, name in names.items():
            for kind in ("about", "privacy", "contact"):
                self.web.add(host, f"/{kind}/", T.legal_page(name, kind), kind="legal")
        robots = {
            # The forum keeps crawlers out of its members-only copy and its search pages.
            "forum": "User-agent: *\nDisallow: /private/\nDisallow: /search\nDisallow: /members/\n",
            # Only one named robot is banned outright; everyone else may read the news.
            "news": "User-agent: BadBot\nDisallow: /\n\nUser-agent: *\nDisallow: /search\nDisallow: /admin/\n",
        }
        for host, text in robots.items():
            self.web.add(host, "/robots.txt", text, kind="robots", ctype="text/plain; charset=utf-8")

    # -- output ----------------------------------------------------------------------------------

    def submission_records(self) -> list[tuple[dict, Submission]]:
        """(Pushshift record, submission) pairs in time order, as a monthly dump is."""
        subs = sorted(self.subs, key=lambda s: (s.when, s.url, s.title))
        t0 = datetime(2005, 6, 1, tzinfo=timezone.utc).timestamp()
        t1 = LAST_TIME.timestamp()
        out, last = [], 0
        for s in subs:
            frac = (s.when.timestamp() - t0) / (t1 - t0)
            num = max(last + 1, int(100 + 440_000_000 * frac ** 2.2))  # Reddit ids grow with time, ever faster
            last = num
            sid = base36(num)
            slug = re.sub(r"[^a-z0-9]+", "_", s.title.lower()).strip("_")[:50].rstrip("_")
            permalink = f"/r/{s.subreddit}/comments/{sid}/{slug}/"
            if s.is_self:
                scheme = "https" if s.when.year >= 2014 else "http"
                s.url = f"{scheme}://www.reddit.com{permalink}"
            out.append((pushshift_record(s, sid, permalink, self.rng(f"record:{sid}")), s))
        return out

    def manifest(self, pairs: list[tuple[dict, Submission]]) -> dict:
        never = {k: [] for k in ("low_score", "self_post", "blocked_domain", "nsfw", "robots_disallowed")}
        links: dict[str, dict] = {}
        for rec, s in pairs:
            url = normalize_url(rec["url"])
            entry = links.setdefault(url, {"id": doc_id(url), "submitted_as": [], "reddit_ids": [], "scores": [],
                                           "reasons": []})
            if rec["url"] not in entry["submitted_as"]:
                entry["submitted_as"].append(rec["url"])
            entry["reddit_ids"].append(rec["id"])
            entry["scores"].append(rec["score"])
            if s.reason not in entry["reasons"]:
                entry["reasons"].append(s.reason)
        for url, entry in links.items():
            for reason in never:
                if reason in entry["reasons"]:
                    never[reason].append(url)
        # Every never-fetch link has that one reason alone (no high-score twin, no other reason).
        for reason, urls in never.items():
            for url in urls:
                if links[url]["reasons"] != [reason]:
                    raise AssertionError(f"{url}: ambiguous ground truth {links[url]['reasons']}")
        filtered = set().union(*(set(v) for k, v in never.items() if k != "robots_disallowed"))
        kept_links = sorted(u for u in links if u not in filtered)
        fetched = [u for u in kept_links if u not in never["robots_disallowed"]]
        variants = [{"url": u, "submitted_as": e["submitted_as"]} for u, e in links.items() if len(e["submitted_as"]) > 1]
        resubmitted = [{"url": u, "submissions": len(e["reddit_ids"])} for u, e in links.items()
                       if len(e["reddit_ids"]) > 1 and len(e["submitted_as"]) == 1]
        pages = {u: {"id": doc_id(u), **p, "submitted": u in links} for u, p in sorted(self.web.pages.items())}
        for facts in self.extra_facts.values():
            facts.sort(key=lambda f: f["url"] if isinstance(f, dict) else f)
        return {
            "format": MANIFEST_FORMAT,
            "port": self.port,
            "seed": self.seed,
            "hosts": sorted(HOSTS.values()),
            "resolve": {f"*.{DOMAIN}": "127.0.0.1"},
            "counts": {"submissions": len(pairs), "links": len(links), "links_after_filters": len(kept_links),
                       "fetch_expected": len(fetched), "pages": sum(1 for p in pages.values() if p["status"] == 200),
                       "html_pages": sum(1 for p in pages.values() if p.get("type", "").startswith("text/html")),
                       "submissions_by_reason": count_by(s.reason for s in self.subs)},
            "never_fetch": never,
            "links_after_filters": kept_links,
            "fetch_expected": fetched,
            "duplicates": sorted(self.duplicates, key=lambda d: d["members"][0]),
            "not_duplicates": self.not_duplicates,
            "url_variants": sorted(variants, key=lambda v: v["url"]),
            "resubmitted": sorted(resubmitted, key=lambda v: v["url"]),
            **{k: v for k, v in self.extra_facts.items() if k != "robots_disallowed"},
            "links": dict(sorted(links.items())),
            "pages": pages,
        }

    def outputs(self) -> dict[str, bytes]:
        pairs = self.submission_records()
        manifest = self.manifest(pairs)
        lines = "".join(json.dumps(r, sort_keys=True, separators=(",", ":"), ensure_ascii=False).replace("/", "\\/")
                        + "\n" for r, _ in pairs)
        routes = {"format": "webtext-miniweb-routes/1", "port": self.port, "hosts": self.web.routes}
        out = dict(self.web.files)
        out[SUBMISSIONS] = lzma.compress(lines.encode("utf-8"), preset=6)
        out[ROUTES] = (json.dumps(routes, indent=1, sort_keys=True) + "\n").encode("utf-8")
        out[MANIFEST] = (json.dumps(manifest, indent=1, ensure_ascii=False) + "\n").encode("utf-8")
        return out


def curly_quotes(text: str) -> str:
    """Typographic quotes, as a word processor would have made them (non-ASCII bytes for the charset test)."""
    text = re.sub(r'(^|[\s(—])"', "\\1\u201c", text)
    text = text.replace('"', "\u201d")
    return text.replace("'", "\u2019")


def count_by(values) -> dict[str, int]:
    out: dict[str, int] = {}
    for v in values:
        out[v] = out.get(v, 0) + 1
    return dict(sorted(out.items()))


def write_outputs(out_dir: str, outputs: dict[str, bytes]) -> tuple[int, int]:
    """Write each file whose bytes differ from what is on disk; remove stale files under sites/.
    Returns (files written, files removed)."""
    written = removed = 0
    for rel, data in sorted(outputs.items()):
        path = os.path.join(out_dir, *rel.split("/"))
        try:
            with open(path, "rb") as f:
                if f.read() == data:
                    continue
        except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
            pass
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        written += 1
    keep = {os.path.normpath(os.path.join(out_dir, *rel.split("/"))) for rel in outputs}
    sites = os.path.join(out_dir, SITES)
    for root, dirs, files in os.walk(sites, topdown=False):
        for name in files:
            path = os.path.normpath(os.path.join(root, name))
            if path not in keep:
                os.remove(path)
                removed += 1
        if root != sites and not os.listdir(root):
            os.rmdir(root)
    return written, removed


def build_miniweb(out_dir: str, port: int = DEFAULT_PORT, seed: int = DEFAULT_SEED) -> dict:
    """Generate (or bring up to date) the mini-web in out_dir; returns a summary of what is there."""
    if not 0 < port < 65536:
        raise ValueError(f"port must be between 1 and 65535, got {port}")
    builder = Builder(port, seed)
    builder.build()
    outputs = builder.outputs()
    os.makedirs(out_dir, exist_ok=True)
    written, removed = write_outputs(out_dir, outputs)
    manifest = json.loads(outputs[MANIFEST])
    return {
        "out_dir": out_dir, "port": port, "seed": seed, "hosts": len(HOSTS),
        "pages": manifest["counts"]["pages"], "html_pages": manifest["counts"]["html_pages"],
        "submissions": manifest["counts"]["submissions"], "links": manifest["counts"]["links"],
        "fetch_expected": manifest["counts"]["fetch_expected"],
        "files": len(outputs), "bytes": sum(len(v) for v in outputs.values()),
        "written": written, "removed": removed, "unchanged": written == 0 and removed == 0,
        "submissions_path": os.path.join(out_dir, SUBMISSIONS), "manifest_path": os.path.join(out_dir, MANIFEST),
    }


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="Generate the webtext demo's mini-web (pages, submissions, manifest).")
    p.add_argument("out_dir", nargs="?", default=os.path.join(REPO, "work", "miniweb"),
                   help="where to write it (default: work/miniweb under the repository)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT,
                   help=f"the port written into every URL; serve it on the same one (default {DEFAULT_PORT})")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, help=f"sample seed (default {DEFAULT_SEED})")
    args = p.parse_args(argv)
    s = build_miniweb(args.out_dir, args.port, args.seed)
    state = "unchanged" if s["unchanged"] else f"{s['written']} files written, {s['removed']} removed"
    print(f"{s['out_dir']}: {s['pages']} pages ({s['html_pages']} HTML) on {s['hosts']} hosts, "
          f"{s['submissions']} submissions of {s['links']} links, {s['bytes'] / 1e6:.1f} MB ({state})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
