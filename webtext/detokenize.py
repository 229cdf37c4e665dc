"""Undo the tokenisation of WikiText and Penn Treebank files: their text back as a web page writes it.

Both sets ship tokenised ("did n't", "Fu 's", "guest @-@ starring", "1 @,@ 000"). A model reads
ordinary text, and a web page quoting the same sentence writes it the ordinary way, so the trainer's
perplexity evaluation (train/evaluate.py) and the dedupe stage's benchmark index (dedupe/contamination.py)
read these files through the same detokenisers.

- WikiText: " @-@ " -> "-", " @,@ " -> ",", " @.@ " -> "."; no space before , . : ; ! ? ) ] or after ( [;
  contractions rejoined (" 's" -> "'s", " n't" -> "n't"); "= = Heading = =" -> "== Heading =="; spaces
  inside double quotes dropped; each line stripped.
- PTB: contractions rejoined (" n't", " 's", " 're", " 've", " 'm", " 'll", " 'd"); each line stripped.
  (PTB is lower-cased with numbers as "N" and rare words as "<unk>"; that cannot be undone.)
"""

from __future__ import annotations

import re

_CONTRACTION = re.compile(r" (n't|'s|'re|'ve|'m|'ll|'d)\b", re.IGNORECASE)


def wikitext_detokenize(text: str) -> str:
    text = text.replace(" @-@ ", "-").replace(" @,@ ", ",").replace(" @.@ ", ".")
    text = _CONTRACTION.sub(r"\1", text)
    text = re.sub(r"(?<==) (?==)", "", text)  # "= = =" -> "==="
    text = re.sub(r" ([,.:;!?)\]])", r"\1", text)
    text = re.sub(r"([(\[]) ", r"\1", text)
    text = re.sub(r'" ([^"\n]*?) "', r'"\1"', text)
    return "\n".join(line.strip() for line in text.split("\n"))


def ptb_detokenize(text: str) -> str:
    text = _CONTRACTION.sub(r"\1", text)
    return "\n".join(line.strip() for line in text.split("\n"))


# By the name a config uses for the file's format.
DETOKENIZERS = {"wikitext": wikitext_detokenize, "ptb": ptb_detokenize}
