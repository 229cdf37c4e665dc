"""Boilerplate line rules: each removes its kind of line, and clean prose passes untouched."""

import json
import os

from cleanwarc import PARAGRAPHS

from clean.boilerplate import RULES, clean_lines

BODY = "\n".join(PARAGRAPHS)


def test_clean_prose_is_untouched():
    text, removed = clean_lines(BODY, ["Storm season begins in the harbour town"])
    assert text == BODY and removed == {}


def test_each_rule_removes_its_lines():
    text = "\n".join([
        "Storm season begins in the harbour town",  # title repeated at the top
        "Updated at 1:23 p.m.",  # dateline
        PARAGRAPHS[0],
        "Read more: Ferry timetable changes for the winter months",  # teaser
        PARAGRAPHS[1],
        "Related stories",  # list header, then its links
        "- New school opens its doors next month",
        "- Harbour festival draws record crowds",
        PARAGRAPHS[2],
        "Advertisement",  # label
        "___",  # separator
        PARAGRAPHS[3],
        "Follow us on Twitter and Facebook for the latest news.",  # prompt
        "Sign up for our daily newsletter to get the headlines.",
        "Copyright 2019 The Coast Gazette. All rights reserved.",
    ])
    kept, removed = clean_lines(text, ["Storm season begins in the harbour town | The Coast Gazette"])
    assert kept == "\n".join(PARAGRAPHS[:4])
    assert removed == {"title": 1, "dateline": 1, "teaser": 2, "link_list": 2, "label": 1, "separator": 1,
                       "prompt": 3}


def test_rules_can_be_switched_off_one_by_one():
    text = "Advertisement\n" + BODY
    assert clean_lines(text, disable={"label"})[0] == text
    assert set(RULES) >= {"title", "teaser", "link_list", "label", "separator", "dateline", "prompt"}


def test_link_list_stops_at_the_first_sentence():
    text = "\n".join(["Related:", "A short headline about the ferry", "The ferry will keep running all winter.",
                      PARAGRAPHS[0]])
    kept, removed = clean_lines(text)
    assert kept.split("\n")[0] == "The ferry will keep running all winter."
    assert removed == {"teaser": 1, "link_list": 1}


def test_title_only_at_the_top_and_long_lines_kept():
    text = PARAGRAPHS[0] + "\nStorm season begins in the harbour town\n" + PARAGRAPHS[1]
    assert clean_lines(text, ["Storm season begins in the harbour town"])[0] == text
    long_prompt = PARAGRAPHS[4] + " " + PARAGRAPHS[3] + " Follow us on Twitter."
    assert clean_lines(long_prompt)[0] == long_prompt


def test_gold_article_texts_lose_almost_nothing(shared_data):
    """The benchmark's gold texts are the article alone: the rules may remove next to none of it."""
    with open(os.path.join(shared_data, "html_extraction", "ground-truth.json"), encoding="utf-8") as f:
        gold = json.load(f)
    total = lost = 0
    for item in gold.values():
        text = "\n".join(line.strip() for line in item["articleBody"].split("\n") if line.strip())
        kept, _ = clean_lines(text)
        total += len(text)
        lost += len(text) - len(kept)
    assert lost / total < 0.01, f"rules removed {lost / total:.2%} of the gold article text"
