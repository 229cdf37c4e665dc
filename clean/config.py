"""The `clean:` block of pipeline.yaml.

Defaults are the WebText recipe as this project reads it: main text only (no comments), English,
Gopher-style quality rules, Wikipedia removed. Every threshold is a key here, so a run's
`_SUCCESS.json` records exactly which filters made its corpus.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Optional


@dataclass
class ExtractConfig:
    """How a page's main text is taken out of its HTML (trafilatura)."""

    # Prefer leaving out doubtful text to keeping it (trafilatura's favor_precision).
    favor_precision: bool = True
    # Keep reader comments below the article (GPT-2's WebText wanted the linked content, not chatter).
    include_comments: bool = False
    # Keep tables, rendered as text (one row per line, cells separated by " | ").
    include_tables: bool = True
    # trafilatura's fast mode: no fallback extractors (readability, jusText); about 1.4x faster, lower recall.
    fast: bool = False
    # Drop boilerplate lines trafilatura leaves in (title repeat, "Read more:", share/follow/subscribe
    # prompts, related-link lists, bare URLs, separators); see clean/boilerplate.py.
    boilerplate_rules: bool = True
    # Pages larger than this (bytes of HTTP body) are rejected as `too_large` without being parsed.
    max_html_bytes: int = 8_000_000
    # A page whose extraction takes longer than this (seconds) is stopped and rejected (`extract_timeout`).
    timeout_s: float = 20.0
    # Memory a page may take in the extraction child process (MiB above what the child uses after start-up,
    # 0 = no cap); a page that needs more is `extract_failed`.
    max_memory_mb: int = 2048
    # Run extraction in a child process per worker so a hanging page can be stopped. false = in-process
    # (no time limit; for debugging only).
    isolate: bool = True

    def check(self):
        if self.max_html_bytes < 1:
            yield "max_html_bytes", "must be at least 1"
        if self.timeout_s <= 0:
            yield "timeout_s", "must be positive"
        if self.max_memory_mb < 0:
            yield "max_memory_mb", "must be 0 (no cap) or positive"


@dataclass
class LangConfig:
    """Language identification (py3langid; the model ships inside the package)."""

    # Languages kept (ISO 639-1 codes of py3langid, e.g. en, de, fr); an empty list keeps every language.
    keep: list[str] = field(default_factory=lambda: ["en"])
    # Minimum confidence (0..1, py3langid's normalised probability) of the detected language.
    min_score: float = 0.65
    # Characters of the text the identifier reads (the start of the text; 0 = all). Cost grows with it.
    max_chars: int = 500

    def check(self):
        if not 0.0 <= self.min_score <= 1.0:
            yield "min_score", "must be between 0 and 1"
        if self.max_chars < 0:
            yield "max_chars", "must be 0 (all) or positive"
        for code in self.keep:
            if not code or not code.isalpha() or code != code.lower():
                yield "keep", f"'{code}' is not a lower-case language code such as 'en'"


@dataclass
class QualityConfig:
    """Document quality rules (after Gopher, Rae et al. 2021). Each rule has its own reject reason;
    a threshold of null turns that rule off."""

    # too_short / too_long: words (whitespace-separated tokens) in the text.
    min_words: Optional[int] = 50
    max_words: Optional[int] = 100_000
    # mean_word_length: mean characters per word must lie within [min, max].
    min_mean_word_length: Optional[float] = 3.0
    max_mean_word_length: Optional[float] = 10.0
    # symbol_ratio: ("#" + "..." + "…") per word, at most.
    max_symbol_ratio: Optional[float] = 0.1
    # bullet_lines: share of lines starting with a bullet (•, -, *, ...), at most.
    max_bullet_lines: Optional[float] = 0.9
    # ellipsis_lines: share of lines ending in "..." or "…", at most.
    max_ellipsis_lines: Optional[float] = 0.3
    # alpha_words: share of words with at least one letter, at least.
    min_alpha_words: Optional[float] = 0.8
    # stop_words: at least this many distinct stop words of the document's language (where a list exists).
    min_stop_words: Optional[int] = 2
    # dup_lines / dup_line_chars: share of lines that repeat an earlier line, and of characters in them.
    max_dup_lines: Optional[float] = 0.3
    max_dup_line_chars: Optional[float] = 0.2
    # dup_paragraphs / dup_paragraph_chars: the same for paragraphs (blocks split on blank lines; a text
    # with one paragraph per line, as extracted here, counts each line as a paragraph).
    max_dup_paragraphs: Optional[float] = 0.3
    max_dup_paragraph_chars: Optional[float] = 0.2
    # top_ngram: share of characters covered by the most frequent word 2-, 3-, 4-gram, at most.
    max_top_ngram_chars: Optional[list[float]] = field(default_factory=lambda: [0.20, 0.18, 0.16])
    # dup_ngrams: share of characters in word 5- to 10-grams seen more than once, at most.
    max_dup_ngram_chars: Optional[list[float]] = field(default_factory=lambda: [0.15, 0.14, 0.13, 0.12, 0.11, 0.10])

    def check(self):
        if self.max_top_ngram_chars is not None and len(self.max_top_ngram_chars) != 3:
            yield "max_top_ngram_chars", "needs 3 values (for 2-, 3- and 4-grams) or null"
        if self.max_dup_ngram_chars is not None and len(self.max_dup_ngram_chars) != 6:
            yield "max_dup_ngram_chars", "needs 6 values (for 5- to 10-grams) or null"


@dataclass
class Config:
    """The clean stage: WARC response records -> main text -> language -> quality -> documents."""

    extract: ExtractConfig = field(default_factory=ExtractConfig)
    lang: LangConfig = field(default_factory=LangConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    # GPT-2 removed Wikipedia (to keep it out of the evaluation sets' way). Pages on these hosts (and
    # their subdomains) are rejected as `wikipedia` before extraction...
    wikipedia_hosts: list[str] = field(default_factory=lambda: [
        "wikipedia.org", "wikiwand.com", "wikizero.com", "wiki2.org", "wikimili.com", "dbpedia.org",
        "infogalactic.com", "justapedia.org"])
    # ...and so are copies elsewhere: texts containing one of these phrases (case-insensitive), which
    # mirrors carry by the GFDL/CC BY-SA attribution Wikipedia requires.
    wikipedia_markers: list[str] = field(default_factory=lambda: [
        "from wikipedia, the free encyclopedia",
        "this article uses material from the wikipedia article",
        "it uses material from the wikipedia article",
        "original content from wikipedia",
        "source: wikipedia, the free encyclopedia",
        "retrieved from \"https://en.wikipedia.org/",
    ])
    # ...and copies whose HTML says where they came from even when the extracted text does not: a
    # canonical link to a Wikipedia article, or Wikipedia's own "From Wikipedia" / "Retrieved from"
    # lines in the page's markup (other MediaWiki sites, such as Fandom's, are kept).
    wikipedia_html: bool = True
    # Further hosts to drop whole (and their subdomains), rejected as `blocked_host`.
    blocked_hosts: list[str] = field(default_factory=list)
    # Only HTTP responses with these status codes are extracted (others: `http_status`).
    keep_status: list[int] = field(default_factory=lambda: [200, 203])
    # Output files per kind (docs, rejects); 0 = one per 2 GiB of WARC input (at least 1).
    num_shards: int = 0

    def check(self):
        if self.num_shards < 0:
            yield "num_shards", "must be 0 (by input size) or positive"
        for host in self.wikipedia_hosts + self.blocked_hosts:
            if "/" in host or " " in host or not host:
                yield "blocked_hosts", f"'{host}' is not a host name (write e.g. example.com)"
