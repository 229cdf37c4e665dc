"""Measure the language identifier on labelled text built from the shared data.

    python -m clean.langid_eval [--data ../shared/data] [--lengths 100 300 1000 3000]

Labelled samples: the Universal Declaration of Human Rights in 380+ languages (NLTK's udhr2.zip;
each language's text cut into consecutive chunks of a given length), plus English prose of other
kinds (Gutenberg novels and poems, State of the Union addresses, inaugural speeches, film reviews,
Shakespeare, OpenWebText documents). Reported, per sample length:

- English recall: the share of English samples the stage keeps (lang == en, score >= min_score);
- false English: the share of non-English samples it would keep as English, over all 380+ UDHR
  languages (including the 280 the model does not know, which it can only get wrong);
- accuracy: top-1 accuracy over the languages the model knows.
"""

from __future__ import annotations

import argparse
import io
import os
import re
import sys
import zipfile
from collections import Counter
from typing import Iterator

from clean.config import LangConfig

# UDHR file name (ISO 639-3, with variants) -> the model's label, for the languages py3langid knows.
UDHR_TO_MODEL = {
    "afr": "af", "amh": "am", "arb": "ar", "azj_latn": "az", "bel": "be", "bul": "bg", "ben": "bn", "bre": "br",
    "bos_latn": "bs", "cat": "ca", "ces": "cs", "cym": "cy", "dan": "da", "deu": "de", "deu_1901": "de",
    "ell_monotonic": "el", "eng": "en", "epo": "eo", "spa": "es", "est": "et", "eus": "eu", "pes_1": "fa",
    "pes_2": "fa", "fin": "fi", "fra": "fr", "gle": "ga", "gla": "gd", "glg": "gl", "guj": "gu", "hau_NG": "ha",
    "heb": "he", "hin": "hi", "hrv": "hr", "hat_kreyol": "ht", "hun": "hu", "hye": "hy", "ind": "id", "ibo": "ig",
    "isl": "is", "ita": "it", "jpn": "ja", "jav": "jv", "kat": "ka", "kaz": "kk", "khm": "km", "kan": "kn",
    "kor": "ko", "kir": "ky", "lat": "la", "lug": "lg", "lin": "ln", "lao": "lo", "lit": "lt", "lav": "lv",
    "plt": "mg", "mkd": "mk", "mal": "ml", "khk": "mn", "mar": "mr", "mly_latn": "ms", "mya": "my", "nep": "ne",
    "nld": "nl", "nob": "no", "nno": "nn", "pan": "pa", "pol": "pl", "pbu": "ps", "por_PT": "pt", "por_BR": "pt",
    "quz": "qu", "ron": "ro", "rus": "ru", "san": "sa", "slk": "sk", "slv": "sl", "som": "so", "als": "sq",
    "srp_cyrl": "sr", "srp_latn": "sr", "swe": "sv", "swh": "sw", "tam": "ta", "tha": "th", "tgl": "tl",
    "tur": "tr", "uig_arab": "ug", "ukr": "uk", "urd": "ur", "uzn_latn": "uz", "vie": "vi", "xho": "xh",
    "yor": "yo", "cmn_hans": "zh", "cmn_hant": "zh", "zul": "zu", "ace": "ace", "bcl": "bcl", "dzo": "dz",
    "nso": "nso", "pcm": "pcm", "kin": "rw", "sme": "se", "sna": "sn", "sot": "st", "ltz": "lb", "fao": "fo",
    "wln": "wa", "vec": "vec", "mlt": "mt", "tgk": "tg", "tuk_latn": "tk", "tat": "tt", "gug": "gug",
}
_UDHR_BOILER = re.compile(r"^\s*(?:universal declaration of human rights|preamble|article \d+)\s*$", re.I)


def chunks(text: str, length: int, limit: int) -> Iterator[str]:
    """Consecutive pieces of `text` of about `length` characters, cut at whitespace."""
    text = " ".join(text.split())
    pos = n = 0
    while pos < len(text) and n < limit:
        end = min(len(text), pos + length)
        if end < len(text):
            space = text.rfind(" ", pos + length // 2, end)
            end = space if space > pos else end
        piece = text[pos:end].strip()
        if len(piece) >= 0.6 * length:
            yield piece
            n += 1
        pos = end + 1


def udhr_texts(data: str) -> dict[str, str]:
    out = {}
    with zipfile.ZipFile(os.path.join(data, "corpus", "nltk", "udhr2.zip")) as z:
        for name in sorted(z.namelist()):
            if not name.endswith(".txt"):
                continue
            key = os.path.basename(name)[:-4]
            text = z.read(name).decode("utf-8", errors="replace")
            out[key] = "\n".join(line for line in text.splitlines() if not _UDHR_BOILER.match(line))
    return out


def english_texts(data: str) -> dict[str, str]:
    """English prose of several kinds (each text's name -> text)."""
    out = {}
    corpus = os.path.join(data, "corpus")
    gut = os.path.join(corpus, "gutenberg_nltk")
    if os.path.isdir(gut):
        for name in sorted(os.listdir(gut)):
            if name.endswith(".txt"):
                with open(os.path.join(gut, name), encoding="utf-8", errors="replace") as f:
                    out[f"gutenberg/{name}"] = f.read()[5000:200000]  # past the licence header
    shakes = os.path.join(corpus, "tinyshakespeare", "input.txt")
    if os.path.isfile(shakes):
        with open(shakes, encoding="utf-8") as f:
            out["tinyshakespeare"] = f.read()[:200000]
    owt = os.path.join(corpus, "openwebtext_docs_sample")
    if os.path.isdir(owt):
        for name in sorted(os.listdir(owt)):
            with open(os.path.join(owt, name), encoding="utf-8", errors="replace") as f:
                out[f"openwebtext/{name}"] = f.read()
    for zname in ("state_union.zip", "inaugural.zip", "movie_reviews.zip"):
        path = os.path.join(corpus, "nltk", zname)
        if not os.path.isfile(path):
            continue
        with zipfile.ZipFile(path) as z:
            names = sorted(n for n in z.namelist() if n.endswith(".txt") and "README" not in n)
            if zname == "movie_reviews.zip":
                names = names[:: max(1, len(names) // 100)]
            for n in names:
                out[f"{zname[:-4]}/{os.path.basename(n)}"] = z.read(n).decode("utf-8", errors="replace")
    return out


def evaluate(data: str, lengths=(100, 300, 1000, 3000), min_score: float = 0.65, max_chars: int = 1000,
             per_language: int = 8, per_english_text: int = 4, languages=None) -> dict:
    from clean.langid import identify, labels

    known = set(labels())
    udhr = udhr_texts(data)
    if languages:
        udhr = {k: v for k, v in udhr.items() if k in languages}
    english = english_texts(data)
    results = {}
    for length in lengths:
        en_kept = en_total = 0
        false_en = foreign_total = 0
        correct = known_total = 0
        confusions: Counter = Counter()
        for name, text in english.items():
            for piece in chunks(text, length, per_english_text):
                lang, score = identify(piece, max_chars)
                en_total += 1
                en_kept += lang == "en" and score >= min_score
        for name, text in udhr.items():
            label = UDHR_TO_MODEL.get(name)
            for piece in chunks(text, length, per_language):
                lang, score = identify(piece, max_chars)
                if label == "en":
                    en_total += 1
                    en_kept += lang == "en" and score >= min_score
                else:
                    foreign_total += 1
                    if lang == "en" and score >= min_score:
                        false_en += 1
                        confusions[name] += 1
                if label in known:
                    known_total += 1
                    correct += lang == label
        results[length] = {
            "english_samples": en_total, "english_recall": en_kept / en_total if en_total else None,
            "foreign_samples": foreign_total, "false_english": false_en / foreign_total if foreign_total else None,
            "known_samples": known_total, "accuracy_known": correct / known_total if known_total else None,
            "false_english_from": dict(confusions.most_common(8)),
        }
    return {"min_score": min_score, "max_chars": max_chars, "languages": len(udhr),
            "known_languages": sum(1 for k in udhr if UDHR_TO_MODEL.get(k) in known),
            "english_texts": len(english), "by_length": results}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="python -m clean.langid_eval", description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data", default=os.path.join(os.path.dirname(__file__), "..", "..", "shared", "data"),
                   help="the shared data folder (default: ../shared/data beside the repository)")
    p.add_argument("--lengths", type=int, nargs="+", default=[100, 300, 1000, 3000], help="sample lengths (chars)")
    defaults = LangConfig()
    p.add_argument("--min-score", type=float, nargs="+", default=[defaults.min_score],
                   help="confidence thresholds to report (default: the stage's)")
    p.add_argument("--max-chars", type=int, default=defaults.max_chars,
                   help="characters the identifier reads (default: the stage's)")
    args = p.parse_args(argv)
    data = os.path.normpath(args.data)
    if not os.path.isfile(os.path.join(data, "corpus", "nltk", "udhr2.zip")):
        print(f"no udhr2.zip under {data}", file=sys.stderr)
        return 2
    out = io.StringIO()
    for t in args.min_score:
        r = evaluate(data, args.lengths, t, args.max_chars)
        print(f"min_score {t}: {r['languages']} UDHR languages ({r['known_languages']} known to the model), "
              f"{r['english_texts']} English texts, identifier reads {r['max_chars']} chars", file=out)
        print(f"  {'chars':>6} {'en recall':>10} {'false en':>9} {'acc known':>10}  (samples: en / foreign / known)",
              file=out)
        for length, m in r["by_length"].items():
            print(f"  {length:>6} {m['english_recall']:>10.4f} {m['false_english']:>9.4f} {m['accuracy_known']:>10.4f}"
                  f"  ({m['english_samples']} / {m['foreign_samples']} / {m['known_samples']})"
                  + (f"  false en from: {m['false_english_from']}" if m["false_english_from"] else ""), file=out)
    print(out.getvalue(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
