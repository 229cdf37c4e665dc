"""Language identification with py3langid: a naive Bayes model over byte n-grams (Lui & Baldwin's
langid.py, 97 languages plus a few more) that ships inside the PyPI package, so nothing is
downloaded at run time. Confidence is the model's normalised probability (0..1).

The identifier reads the start of the text (LangConfig.max_chars): its cost is linear in the
bytes read, and a few thousand characters decide the language of a web page as well as the whole
text does (measured in clean/README.md).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Optional


@lru_cache(maxsize=1)
def _identifier():
    from py3langid.langid import MODEL_FILE, LanguageIdentifier

    return LanguageIdentifier.from_model_file(MODEL_FILE, norm_probs=True)


def labels() -> list[str]:
    """The language codes the model knows."""
    return list(_identifier().labels)


def identify(text: str, max_chars: int = 3000) -> tuple[str, float]:
    """(language code, confidence) of a text; ("und", 0.0) for text without letters."""
    sample = text[:max_chars] if max_chars else text
    if not any(ch.isalpha() for ch in sample[:2000]):
        return "und", 0.0
    lang, score = _identifier().classify(sample)
    return lang, round(float(score), 4)


def keep_language(lang: str, score: float, keep: list[str], min_score: float) -> Optional[str]:
    """None if a document in `lang` with confidence `score` is kept, else why not."""
    if keep and lang not in keep:
        return f"{lang} not in {','.join(keep)}"
    if score < min_score:
        return f"confidence {score:.2f} < {min_score}"
    return None
