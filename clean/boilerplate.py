"""Line rules for what trafilatura leaves in: boilerplate that is not the article.

trafilatura finds the article's block well, but inside and around it keeps lines that a reader
skips and a language model should not learn from: the headline repeated at the top (the record
keeps it in `title`), "Read more:" and "Related:" teasers with the lists of links after them,
follow/share/subscribe prompts, bare URLs, separator lines, and the label lines of a page's
furniture ("Tags", "Comments", "Advertisement").

Each rule has a name; `clean_lines` returns the kept text and how many lines each rule removed.
The rules were written from what trafilatura left in on all 181 pages of the extraction benchmark,
both of the halves bench/extraction_quality.py reports (some of their wording occurs only on single
pages of the second half: "AMT" among the date words, "Leggi anche" among the teaser heads). The
benchmark's F1 figures for the rules, per half included, are therefore not held-out evidence. They
were checked where they were not written: on the benchmark's gold article texts, where a rule must
remove next to nothing (bench/extraction_quality.py), and on clean prose from other sources
(clean/README.md).
They are deliberately narrow: a line is removed only when it matches one of these shapes, never
for being short or unusual.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Iterable, Optional

# Headers that introduce teasers or lists of links to other pages: "Related:", "READ MORE:",
# "You may also like", ... A line that *starts* with one followed by ":" / "|" / "-" is a teaser
# ("Read more: Alibaba poised to ..."); a line that *is* one is a list header.
_TEASER_HEADS = (
    r"related(?: (?:articles?|stories|story|posts?|content|links?|coverage|reading|news|videos?|topics?))?"
    r"|read(?: more| also| next| this)?|also read|more(?: on (?:this|that))?|more from [\w .'’&-]{1,40}"
    r"|see(?: also| more)|also on [\w.]+|recommended(?: for you| stories| articles| reading)?"
    r"|you (?:may|might|will|could) also (?:like|enjoy|be interested in)|don['’]?t miss|must read"
    r"|further reading|trending(?: now| stories)?|most (?:popular|read|viewed|shared)|top stories|latest news"
    r"|editor['’]?s picks?|popular (?:stories|posts|articles)|watch|watch now|listen|more stories|keep reading"
    r"|continue reading|more coverage|explore more|other stories|in other news"
    # the same in a few other languages GPT-2-style crawls meet often
    r"|leggi anche|lesen sie auch|mehr zum thema|lire aussi|à lire aussi|voir aussi|leia também|veja também"
    r"|lee también|ver también|lea también|читайте также|см\. также"
)
_TEASER_LINE = re.compile(rf"^\W*(?:{_TEASER_HEADS})\s*(?::|\||›|»|>|–|—|-\s)\s*\S", re.I)
_LIST_HEADER = re.compile(rf"^\W*(?:{_TEASER_HEADS})(?:\s+(?:in|on|from|for|about|at)\s+[\w .'’&-]{{1,30}})?\W*$", re.I)

# Whole-line labels of page furniture.
_LABEL_LINE = re.compile(
    r"^\W*(?:advertisement|advertising|sponsored(?: content)?|ad|tags?|topics?|categories|category"
    r"|filed under\b.{0,80}|comments?|\d+ comments?|no comments(?: yet)?|leave a (?:comment|reply)|share"
    r"|share (?:this|on)\b.{0,40}|tweet|email|e-mail|print|whatsapp|facebook|twitter|linkedin|pinterest|reddit"
    r"|flipboard|copy link|skip (?:to|ad)\b.{0,30}|back to top|click to (?:share|print|email)\b.{0,40}"
    r"|photos?|images?|videos?|galler(?:y|ies)|view gallery|loading\W*|close|menu|search)\W*$",
    re.I)

# Prompts addressed to the reader about the site rather than the subject.
_PROMPT = re.compile(
    r"(?:\bfollow (?:us|him|her|them|me|@?\w+(?: \w+)?) on (?:twitter|facebook|instagram|linkedin|youtube|tiktok|flipboard)"
    r"|\bsign up (?:for|to)\b.{0,60}\bnewsletters?\b|\bsubscribe to\b.{0,60}\b(?:newsletters?|channel|podcast)"
    r"|\bdelivered (?:straight |directly |right )?(?:to|in|into) your inbox|\bright in your inbox"
    r"|\blike this (?:story|article|post)\?|\bshare (?:it|this)(?: story| article)? with (?:a friend|your friends)"
    r"|\bclick here (?:to|for)\b"
    # "Follow AP's coverage at https://...", "Email the author at x@y.com": a call to action with an address
    r"|^(?:follow|reach|visit|read|see|click|listen|watch|download|subscribe|check out|find|get|e-?mail|contact|join)\b"
    r".{0,160}(?:https?://\S+|www\.\S+|[\w.+-]+@[\w-]+\.[\w.-]+|\s@\w{2,30})\W*$"
    r"|\bthis copy is for your personal,? non-?commercial use only"
    r"|\ball rights reserved\b|^\W*(?:©|\(c\)|copyright)\s*(?:©\s*)?(?:\d{4}|[A-Z])"
    r"|\b(?:we use|this (?:site|website) uses) cookies\b|\bby continuing to (?:use|browse) (?:this|our) (?:site|website)"
    r"|\benable javascript\b|\byour browser (?:does not|doesn['’]t) support"
    r"|\b(?:if you enjoyed this article|support (?:our|independent) journalism)\b)",
    re.I)
# Every prompt above contains one of these, checked first on the lower-cased line: a case-sensitive
# search for a few words is several times cheaper than the expression above (or than re.I) on every line.
_PROMPT_KEYS = re.compile(
    r"follow|sign up|subscribe|inbox|like this|share|click here|personal|reserved|©|\(c\)|copyright|cookies"
    r"|continuing|javascript|browser|enjoyed|journalism|http|www\.|@")
# A prompt line is removed only when it is no longer than this (a long paragraph that happens to
# contain "all rights reserved" is left alone).
PROMPT_MAX_WORDS = 60

# A date/time stamp line: "November 20, 2019 - 11:28 AMT", "Updated at 1:23 p.m.", "2019-11-19 08:00".
_DATE_WORDS = frozenset((
    "january february march april may june july august september october november december "
    "jan feb mar apr jun jul aug sep sept oct nov dec monday tuesday wednesday thursday friday saturday sunday "
    "mon tue tues wed thu thur thurs fri sat sun am pm a m p at on of the updated published posted last modified "
    "first edited created date time gmt utc bst cet cest est edt cst cdt mst mdt pst pdt ist jst aest amt et pt "
    "ago hours hour minutes minute days day read min mins").split())
_DATE_TOKEN = re.compile(r"[^\W\d_]+|\d+")
_YEAR_OR_TIME = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b|\b\d{1,2}:\d{2}\b|\b\d{1,2} (?:hours?|minutes?|days?) ago\b", re.I)
DATELINE_MAX_WORDS = 12

_BULLET = re.compile(r"^\s*(?:[-*•·▪►◦‣–—]|\d{1,2}[.)])\s+")
_TERMINAL = ("." , "!", "?", "…", ":", ";", "”", '"', "»", ")", "。", "！", "？")
# Lines after a teaser header are removed while they look like links' anchor text (headlines), at
# most LINK_LIST_MAX_ITEMS of them.
LINK_ITEM_MIN_WORDS = 3
LINK_ITEM_MAX_WORDS = 18
LINK_LIST_MAX_ITEMS = 10

_WORD = re.compile(r"\w+")


def _norm(text: str) -> str:
    return " ".join(_WORD.findall(unicodedata.normalize("NFKC", text).casefold()))


_WORD_CHAR = re.compile(r"[^\W_]")


def _has_word_chars(line: str) -> bool:
    return _WORD_CHAR.search(line) is not None


def _is_title(line: str, titles: list[str]) -> bool:
    n = _norm(line)
    if len(n) < 8:
        return False
    for t in titles:
        if n == t:
            return True
        # "<h1> | Site name" in <title>: the line is the title's leading part
        if len(n) >= 0.5 * len(t) and (t.startswith(n + " ") or t.endswith(" " + n)):
            return True
    return False


def _is_prompt(line: str, n_words: int) -> bool:
    return (n_words <= PROMPT_MAX_WORDS and _PROMPT_KEYS.search(line.lower()) is not None
            and _PROMPT.search(line) is not None)


def _is_dateline(line: str) -> bool:
    if len(line.split()) > DATELINE_MAX_WORDS or not _YEAR_OR_TIME.search(line):
        return False
    other = [t for t in _DATE_TOKEN.findall(line.casefold()) if not t.isdigit() and t not in _DATE_WORDS]
    return len(other) <= 1


def _looks_like_link_item(line: str) -> bool:
    """A headline-like line: a few words, no sentence-ending full stop (a headline may end in ? or ")."""
    words = _BULLET.sub("", line).split()
    if not LINK_ITEM_MIN_WORDS <= len(words) <= LINK_ITEM_MAX_WORDS:
        return False
    return not line.rstrip().endswith((".", ";", ","))


RULES = ("separator", "title", "teaser", "link_list", "label", "dateline", "prompt")


def clean_lines(text: str, titles: Iterable[Optional[str]] = (), disable: Iterable[str] = ()) -> tuple[str, dict]:
    """Remove boilerplate lines from extracted text. Returns (text, {rule: lines removed}).

    `disable` names rules to skip (for measuring what each rule is worth).
    """
    on = {rule: rule not in disable for rule in RULES}
    title_norms: Optional[list[str]] = None
    removed: dict[str, int] = {}
    keep: list[str] = []
    in_link_list = 0  # > 0: lines after a teaser header that may still be link items
    prose_seen = False  # a sentence-length line was kept: the top of the page (kicker, headline) is over

    def drop(rule: str) -> None:
        removed[rule] = removed.get(rule, 0) + 1

    for i, line in enumerate(text.split("\n")):
        stripped = line.strip()
        if not stripped:
            continue
        n_words = stripped.count(" ") + 1  # close enough to decide which rules can apply
        if n_words > PROMPT_MAX_WORDS + 10:  # a long paragraph: no rule applies
            keep.append(stripped)
            in_link_list = 0
            prose_seen = True
            continue
        if in_link_list:
            in_link_list -= 1
            if on["link_list"] and _looks_like_link_item(stripped):
                drop("link_list")
                continue
            in_link_list = 0
        if on["separator"] and not _has_word_chars(stripped):
            drop("separator")
            continue
        if on["title"] and i < 4 and len(keep) < 2 and not prose_seen:
            if title_norms is None:
                title_norms = [n for n in (_norm(t) for t in titles if t) if n]
            if title_norms and _is_title(stripped, title_norms):
                drop("title")
                continue
        if on["teaser"] and n_words <= 30 and (_LIST_HEADER.match(stripped) or _TEASER_LINE.match(stripped)):
            drop("teaser")
            in_link_list = LINK_LIST_MAX_ITEMS
            continue
        if on["label"] and n_words <= 16 and _LABEL_LINE.match(stripped):
            drop("label")
            continue
        if on["dateline"] and n_words <= DATELINE_MAX_WORDS + 4 and _is_dateline(stripped):
            drop("dateline")
            continue
        if on["prompt"] and _is_prompt(stripped, n_words):
            drop("prompt")
            continue
        keep.append(stripped)
        prose_seen = prose_seen or n_words > 12
    return "\n".join(keep), removed
