"""Language identification: the model ships in py3langid; English is kept, other languages are not."""

from cleanwarc import PARAGRAPHS

from clean.langid import identify, keep_language, labels
from clean.langid_eval import chunks, evaluate


def test_identifies_common_languages():
    assert identify(" ".join(PARAGRAPHS))[0] == "en"
    assert identify("Le conseil municipal s'est réuni hier soir pour discuter de la digue et des tempêtes.")[0] == "fr"
    assert identify("Der Gemeinderat hat sich gestern Abend getroffen, um über den Deich zu sprechen.")[0] == "de"
    assert identify("12345 67890 !!! ---") == ("und", 0.0)
    assert {"en", "de", "fr", "zh", "ru"} <= set(labels())


def test_keep_language_reasons():
    assert keep_language("en", 0.99, ["en"], 0.65) is None
    assert keep_language("fr", 0.99, ["en"], 0.65) == "fr not in en"
    assert keep_language("en", 0.40, ["en"], 0.65).startswith("confidence 0.40")
    assert keep_language("fr", 0.99, [], 0.65) is None


def test_chunks_cut_at_whitespace():
    pieces = list(chunks("word " * 500, 100, 3))
    assert len(pieces) == 3 and all(60 <= len(p) <= 100 and not p.endswith(" ") for p in pieces)


def test_english_filter_on_labelled_udhr_and_english_prose(shared_data):
    """A small version of the measurement in clean/README.md (python -m clean.langid_eval)."""
    langs = {"eng", "fra", "deu", "spa", "ita", "por_PT", "nld", "rus", "cmn_hans", "jpn", "arb", "hin", "tur",
             "pol", "swe", "sco", "yor", "haw", "tgl", "vie"}
    r = evaluate(shared_data, lengths=(300,), per_language=4, per_english_text=1, languages=langs)
    m = r["by_length"][300]
    assert m["english_samples"] > 200 and m["foreign_samples"] > 50
    assert m["english_recall"] >= 0.98
    assert m["false_english"] <= 0.1  # Scots ('sco') is the one language here that reads as English
    assert m["accuracy_known"] >= 0.9
