"""The byte-level BPE: trained on the corpus, GPT-2's own files, or any tokenizer.json.

Every tokenizer ends up as a Hugging Face `tokenizers.Tokenizer`, saved beside the shards as
tokenizer.json (loadable by `transformers.PreTrainedTokenizerFast`). A trained one follows GPT-2:
byte-level alphabet (256 tokens, so no text is ever unknown), GPT-2's pre-tokenisation regex (the
ByteLevel pre-tokenizer's), no normaliser, and `<|endoftext|>` added last so it takes the highest id
(50256 at full size), as in GPT-2's vocabulary.

Ids must fit llm.c's uint16 shards: a vocabulary whose largest id is above 65535 is refused here,
before anything is tokenized.
"""

from __future__ import annotations

import hashlib
import json
import os
from typing import Iterable, Optional

from webtext.errors import WebtextError

MAX_TOKEN_ID = (1 << 16) - 1


def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's reversible map from the 256 byte values to printable characters (the byte-level
    alphabet): printable Latin-1 bytes map to themselves, the rest to code points from 256 up."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("\u00a1"), ord("\u00ac") + 1),
            *range(ord("\u00ae"), ord("\u00ff") + 1)]
    table = {b: chr(b) for b in keep}
    extra = 0
    for b in range(256):
        if b not in table:
            table[b] = chr(256 + extra)
            extra += 1
    return table


def _bytelevel_parts(tok) -> None:
    """GPT-2's pre-tokenizer, decoder and post-processor (offsets kept untrimmed, as HF's gpt2)."""
    from tokenizers import decoders, pre_tokenizers, processors

    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)


def _add_eot(tok, eot_token: str) -> None:
    from tokenizers import AddedToken

    tok.add_special_tokens([AddedToken(eot_token, special=True, normalized=False)])


def train_bpe(texts: Iterable[str], *, vocab_size: int, min_frequency: int = 2,
              eot_token: str = "<|endoftext|>"):
    """Learn a byte-level BPE of `vocab_size` entries (the end-of-text token included, last) from texts.

    Deterministic: the merges depend only on the multiset of texts, not on their order or on threads.
    """
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tok = Tokenizer(models.BPE())
    _bytelevel_parts(tok)
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size - 1,  # the end-of-text token is added after training, so it comes last
        min_frequency=min_frequency,
        show_progress=False,
        special_tokens=[],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(texts, trainer=trainer)
    _add_eot(tok, eot_token)
    return tok


def gpt2_files(folder: str) -> tuple[str, str]:
    """(vocab, merges) paths in a GPT-2 folder, in OpenAI's layout or Hugging Face's."""
    for vocab, merges in (("encoder.json", "vocab.bpe"), ("vocab.json", "merges.txt")):
        v, m = os.path.join(folder, vocab), os.path.join(folder, merges)
        if os.path.isfile(v) and os.path.isfile(m):
            return v, m
    raise WebtextError(f"{folder}: no GPT-2 tokenizer files: expected encoder.json + vocab.bpe (OpenAI's "
                       f"layout) or vocab.json + merges.txt (Hugging Face's)")


def load_gpt2(folder: str, eot_token: str = "<|endoftext|>"):
    """GPT-2's own BPE from its vocabulary and merges files."""
    from tokenizers import Tokenizer, models

    vocab, merges = gpt2_files(folder)
    try:
        tok = Tokenizer(models.BPE.from_file(vocab, merges))
    except Exception as e:  # tokenizers raises a bare Exception on malformed files
        raise WebtextError(f"{folder}: cannot read GPT-2's tokenizer files ({vocab}, {merges}): {e}") from None
    _bytelevel_parts(tok)
    if tok.token_to_id(eot_token) is None:
        raise WebtextError(f"{vocab}: has no '{eot_token}' entry")
    _add_eot(tok, eot_token)  # registers the existing id as special; it keeps its id (50256)
    check_uint16(tok, vocab)
    return tok


def load_file(path: str, eot_token: str = "<|endoftext|>"):
    """Any tokenizer.json; its end-of-text token must already be in the vocabulary."""
    from tokenizers import Tokenizer

    try:
        tok = Tokenizer.from_file(path)
    except Exception as e:  # noqa: BLE001 - tokenizers raises a bare Exception
        raise WebtextError(f"{path}: not a tokenizer.json that Hugging Face tokenizers can load: {e}") from None
    if tok.token_to_id(eot_token) is None:
        raise WebtextError(f"{path}: the end-of-text token '{eot_token}' is not in the vocabulary "
                           f"(set shard.tokenizer.eot_token to the tokenizer's document separator)")
    check_uint16(tok, path)
    return tok


def max_token_id(tok) -> int:
    vocab = tok.get_vocab(with_added_tokens=True)
    return max(vocab.values()) if vocab else -1


def check_uint16(tok, source: str) -> None:
    """Refuse a vocabulary whose ids do not fit llm.c's uint16 shards, saying so."""
    top = max_token_id(tok)
    if top > MAX_TOKEN_ID:
        raise WebtextError(
            f"{source}: the vocabulary has ids up to {top:,} ({top + 1:,} entries), but llm.c shards store "
            f"token ids as uint16, so at most {MAX_TOKEN_ID + 1:,} entries fit. Use a vocabulary of at "
            f"most {MAX_TOKEN_ID + 1:,} (GPT-2's has 50,257).")


def for_encoding(tok):
    """The tokenizer set up to encode documents: special-token strings inside a document's text are
    encoded as ordinary text (a web page that quotes "<|endoftext|>" must not end the document)."""
    tok.encode_special_tokens = True
    return tok


def to_json(tok) -> str:
    """The tokenizer.json text to save (with special tokens matched as usual, as users expect)."""
    previous = tok.encode_special_tokens
    tok.encode_special_tokens = False
    try:
        return tok.to_str(pretty=True)
    finally:
        tok.encode_special_tokens = previous


def from_json(text: str):
    from tokenizers import Tokenizer

    return Tokenizer.from_str(text)


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hf_tokenizer_config(eot_token: str, model_max_length: int = 1024) -> dict:
    """tokenizer_config.json beside tokenizer.json, so AutoTokenizer.from_pretrained(folder) works."""
    return {"tokenizer_class": "PreTrainedTokenizerFast", "bos_token": eot_token, "eos_token": eot_token,
            "unk_token": eot_token, "model_max_length": model_max_length, "add_prefix_space": False,
            "clean_up_tokenization_spaces": False}


def save(tok, folder: str, eot_token: str) -> tuple[str, str]:
    """Write tokenizer.json (+ tokenizer_config.json); returns (path, sha256 of tokenizer.json)."""
    text = to_json(tok)
    path = os.path.join(folder, "tokenizer.json")
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    with open(os.path.join(folder, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(hf_tokenizer_config(eot_token), f, indent=2)
        f.write("\n")
    return path, sha256_text(text)


def describe(tok, eot_token: str) -> dict:
    return {"vocab_size": max_token_id(tok) + 1, "eot_token": eot_token, "eot_id": tok.token_to_id(eot_token)}


def load_configured(cfg_tokenizer, texts: Optional[Iterable[str]] = None):
    """The tokenizer the `shard.tokenizer` block asks for (`texts`: the sample, for kind train)."""
    kind = cfg_tokenizer.kind
    if kind == "train":
        if texts is None:
            raise ValueError("training a tokenizer needs the sample texts")
        tok = train_bpe(texts, vocab_size=cfg_tokenizer.vocab_size, min_frequency=cfg_tokenizer.min_frequency,
                        eot_token=cfg_tokenizer.eot_token)
    elif kind == "gpt2":
        tok = load_gpt2(cfg_tokenizer.gpt2_dir, cfg_tokenizer.eot_token)
    else:
        tok = load_file(cfg_tokenizer.file, cfg_tokenizer.eot_token)
    check_uint16(tok, f"shard.tokenizer ({kind})")
    return tok
