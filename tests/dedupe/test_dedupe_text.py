"""Tokens, shingles and n-gram hashes: the definitions every dedupe decision rests on."""

import string

import numpy as np
import pytest

from dedupe import text as T


def test_exact_key_ignores_case_and_whitespace_only():
    a = T.exact_key("Hello   World\n\nAgain ")
    assert a == T.exact_key("hello world again") == T.exact_key("HELLO\tWORLD AGAIN")
    assert a != T.exact_key("hello world, again")
    assert T.exact_key("") == T.exact_key("   \n")


def test_words_split_on_punctuation_and_cjk_characters_are_words():
    assert T.shingle_tokens("It's 3.14 -- the_end!") == ["it", "s", "3", "14", "the", "end"]
    assert T.shingle_tokens("人人生而自由") == list("人人生而自由")
    assert T.shingle_tokens("ภาษาไทย") == list("ภาษาไทย")
    # combining marks stay inside a word (Devanagari vowel signs, accents written as marks)
    assert T.shingle_tokens("हिन्दी भाषा") == ["हिन्दी", "भाषा"]
    assert T.shingle_tokens("Ünïcödé ΑΘΗΝΑ Москва") == ["ünïcödé", "αθηνα", "москва"]
    assert T.shingle_tokens("𝐀𝐁 😀 x") == ["𝐀𝐁", "x"]  # astral letters are words, emoji are not


@pytest.mark.parametrize("words,count", [(0, 0), (1, 1), (4, 1), (5, 1), (6, 2), (20, 16)])
def test_shingle_counts(words, count):
    text = " ".join(f"w{i}" for i in range(words))
    assert len(T.shingle_hashes(text, 5)) == count


def test_shingle_hashes_depend_on_words_and_order_not_position():
    a = T.shingle_hashes("one two three four five six", 5)
    b = T.shingle_hashes("ONE two, three; four five six!", 5)
    assert (a == b).all()
    assert len(set(T.shingle_hashes("a b c d e a b c d e", 5).tolist())) == 5  # the repeat hashes alike
    assert T.shingle_hashes("two one three four five", 5)[0] != a[0]


def test_decontam_normalisation_matches_gpt3_rule_and_keeps_spans():
    text = "The “Quick” brown-fox, JUMPED... over (the) lazy dog's back — twice !!"
    table = {ord(c): None for c in string.punctuation + "“”—"}
    assert T.decontam_words(text) == text.lower().translate(table).split()
    hashes, starts, ends = T.decontam_tokens(text)
    # a span runs from the token's first to its last kept character
    assert [text[s:e] for s, e in zip(starts, ends)][:4] == ["The", "Quick", "brown-fox", "JUMPED"]
    assert len(hashes) == len(T.decontam_words(text))  # "—" and "!!" vanish
    same = T.decontam_tokens("the quick brownfox jumped over the lazy dogs back twice")[0]
    assert (hashes == same).all()


def test_long_texts_are_cut_into_pieces_without_changing_anything(monkeypatch):
    rng = np.random.default_rng(0)
    words = ["alpha", "beta", "gamma", "delta,", "Epsilon", "人", "生", "zeta-eta"]
    text = " ".join(words[i] for i in rng.integers(0, len(words), 20000)) + " 由自"
    whole = (T.shingle_token_hashes(text), T.decontam_tokens(text))
    monkeypatch.setattr(T, "CHUNK_CHARS", 997)
    assert len(list(T.text_chunks(text))) > 50
    assert (T.shingle_token_hashes(text) == whole[0]).all()
    for a, b in zip(T.decontam_tokens(text), whole[1]):
        assert (a == b).all()


def test_exact_jaccard_of_sets():
    a = T.shingle_set("a b c d e f g h", 2)
    b = T.shingle_set("a b c d e f g x", 2)
    assert T.jaccard_of_sets(a, b) == pytest.approx(6 / 8)
    assert T.jaccard_of_sets(a, a) == 1.0
    assert T.jaccard_of_sets(np.zeros(0, np.uint64), np.zeros(0, np.uint64)) == 1.0
