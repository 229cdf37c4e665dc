"""Quality rules: each fires on the text it is meant for, with its own reason, and clean prose passes."""

import dataclasses

import pytest
from cleanwarc import PARAGRAPHS

from clean.config import QualityConfig
from clean.quality import check

CFG = QualityConfig()
PROSE = "\n".join(PARAGRAPHS)


def test_clean_prose_passes():
    assert check(PROSE, "en", CFG) is None


@pytest.mark.parametrize("text, reason", [
    ("Too few words to be a document.", "too_short"),
    (" ".join(["a b c d e f g h i j"] * 20), "mean_word_length"),
    (" ".join(f"internationalization{i}" for i in range(60)), "mean_word_length"),
    (PARAGRAPHS[0] + " " + " ".join(["#tag #news #storm"] * 20), "symbol_ratio"),
    ("\n".join(f"- item number {i} on the list of things to bring" for i in range(30)), "bullet_lines"),
    ("\n".join(f"The story of day {i} begins with the sea and then..." for i in range(20)), "ellipsis_lines"),
    (PARAGRAPHS[0] + " " + " ".join(f"{i * 1009 + 1000} {i * 7919 + 10000}" for i in range(60)), "alpha_words"),
    (" ".join(f"harbour{i} boats{i} nets{i} winds{i} ferry{i} cliffs{i}" for i in range(12)), "stop_words"),
    ("\n".join([PARAGRAPHS[0]] + ["Click the button below to continue to the site."] * 8), "dup_lines"),
    ("\n".join(PARAGRAPHS[:3] + [PARAGRAPHS[3]] * 2), "dup_line_chars"),
    (PARAGRAPHS[0] + " " + "buy now " * 60, "top_ngram"),
    (PARAGRAPHS[0] + " " + " ".join(f"{PARAGRAPHS[1][:120]} x{i}" for i in range(5)), "dup_ngrams"),
])
def test_each_rule_has_its_reason(text, reason):
    got = check(text, "en", CFG)
    assert got is not None and got[0] == reason, got
    assert "value" in got[1] and "limit" in got[1]


def test_paragraph_rules():
    lines_off = dataclasses.replace(CFG, max_dup_lines=None, max_dup_line_chars=None, max_dup_ngram_chars=None,
                                    max_top_ngram_chars=None)
    text = "\n\n".join(PARAGRAPHS[:2] + [PARAGRAPHS[2] + "\n" + PARAGRAPHS[3]] * 2)
    assert check(text, "en", lines_off)[0] == "dup_paragraph_chars"
    text = "\n\n".join(PARAGRAPHS + ["Share this story."] * 5)
    assert check(text, "en", dataclasses.replace(lines_off, max_dup_paragraph_chars=None))[0] == "dup_paragraphs"
    # one paragraph per line (as extracted): lines are the paragraphs
    text = "\n".join(PARAGRAPHS + ["Share this story."] * 5)
    assert check(text, "en", dataclasses.replace(lines_off, max_dup_paragraph_chars=None))[0] == "dup_paragraphs"


def test_too_long_and_thresholds_switch_off():
    assert check(PROSE, "en", dataclasses.replace(CFG, max_words=50))[0] == "too_long"
    text = "\n".join(f"- item number {i} on the list of things to bring" for i in range(30))
    assert check(text, "en", dataclasses.replace(CFG, max_bullet_lines=None, min_stop_words=None,
                                                max_top_ngram_chars=None, max_dup_ngram_chars=None)) is None


def test_stop_words_apply_only_where_a_list_exists():
    text = " ".join(f"harbour{i} boats{i} nets{i} winds{i} ferry{i} cliffs{i}" for i in range(12))
    assert check(text, "en", CFG)[0] == "stop_words"
    assert check(text, "de", CFG) is None


def test_english_books_pass(shared_data):
    """Real prose (Gutenberg excerpts cut at paragraph breaks) is not rejected by any rule."""
    import os

    failures, checked = [], 0
    for name in ("austen-emma.txt", "chesterton-brown.txt", "melville-moby_dick.txt"):
        with open(os.path.join(shared_data, "corpus", "gutenberg_nltk", name), encoding="utf-8") as f:
            text = f.read()[20000:120000]
        paragraphs = [" ".join(p.split()) for p in text.split("\n\n") if p.strip()]
        for i in range(0, len(paragraphs) - 10, 10):
            chunk = "\n".join(paragraphs[i:i + 10])
            if len(chunk.split()) >= CFG.min_words:
                checked += 1
                got = check(chunk, "en", CFG)
                if got:
                    failures.append((name, i, got))
    assert checked > 50
    assert len(failures) <= 0.02 * checked, failures
