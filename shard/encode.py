"""Documents -> token arrays: `<|endoftext|>` then the text's ids, as uint16, in batches.

Plain functions and one class, no Beam: the stage's Beam transform calls `DocEncoder.encode` on
batches, the tests and the benchmark call it directly.

- `repair_text`: a lone surrogate (JSON allows "\\ud800") cannot be encoded as UTF-8; it becomes U+FFFD,
  as tiktoken itself does, and is counted.
- `split_for_encoding`: a long document is cut into pieces only where GPT-2's pattern would split
  anyway (before a space, or after a newline, between two letters or digits), so the ids are the same
  as encoding it whole, and memory stays bounded for a 100 MB document.
- `DocEncoder`: tiktoken (ids proven identical to the `tokenizers` model, see tiktoken_bridge) or
  `tokenizers`' encode_batch; with tiktoken, a hash-chosen share of documents is also encoded by
  `tokenizers` and any difference stops the run.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from typing import Optional, Sequence

import numpy as np

from webtext.errors import WebtextError

TOKEN_DTYPE = np.dtype("<u2")

# Cut points that cannot change GPT-2's pre-tokenisation: a space between two word characters starts
# a new pre-token (cut before it), and so does the character after a lone newline between two word
# characters (cut after it). Word characters (letters, digits) are never whitespace in any regex engine.
_CUT = re.compile(r"(?<=[^\W_]) (?=[^\W_])|(?<=[^\W_])\n(?=[^\W_])")


class EncoderMismatch(WebtextError):
    """tiktoken and `tokenizers` gave different ids for a document."""


def repair_text(text: str) -> tuple[str, bool]:
    """(text that encodes as UTF-8, whether lone surrogates had to be replaced by U+FFFD)."""
    try:
        text.encode("utf-8")
        return text, False
    except UnicodeEncodeError:
        return text.encode("utf-16", "surrogatepass").decode("utf-16", "replace"), True


def split_for_encoding(text: str, chunk_chars: int) -> list[str]:
    """Pieces of about `chunk_chars` characters whose ids, concatenated, equal the whole text's ids
    under GPT-2's pre-tokenisation (0: never cut).

    A stretch with no safe cut point (e.g. a long run without spaces) stays in one piece.
    """
    if chunk_chars <= 0 or len(text) <= chunk_chars:
        return [text]
    pieces = []
    start = 0
    n = len(text)
    while n - start > chunk_chars:
        m = _CUT.search(text, start + chunk_chars)
        if m is None:
            break
        cut = m.start() if text[m.start()] == " " else m.end()
        pieces.append(text[start:cut])
        start = cut
    pieces.append(text[start:])
    return pieces


def hash_fraction(salt: str, key: str) -> float:
    """A stable number in [0, 1) from a salted hash of `key` (same on every machine and run)."""
    digest = hashlib.blake2b(f"{salt}:{key}".encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2.0**64


def _read_text(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


def first_difference(a: np.ndarray, b: np.ndarray) -> int:
    """The first position where two id arrays differ (the shorter length if one extends the other)."""
    n = min(len(a), len(b))
    differ = np.nonzero(a[:n] != b[:n])[0]
    return int(differ[0]) if len(differ) else n


_CACHE: dict = {}
_CACHE_LOCK = threading.Lock()


def _cached(key, build):
    """One tokenizer / Encoding per process, however many bundles or DoFn copies ask for it."""
    with _CACHE_LOCK:
        if key not in _CACHE:
            _CACHE[key] = build()
        return _CACHE[key]


class DocEncoder:
    """Encode documents to uint16 token arrays that start with the end-of-text token.

    Picklable and small: given `path`, it carries the tokenizer.json's path and sha256, not its text
    (Beam pickles and compresses every DoFn for each worker; GPT-2's tokenizer.json is 2 MB), so the
    workers must see the same filesystem, as they must anyway to write the shards. The tokenizer and
    tiktoken Encoding are built on first use in each process and shared. Long documents are cut into
    pieces only when the tokenizer pre-tokenizes with GPT-2's pattern and has no normaliser (other
    tokenizers, e.g. SentencePiece-style ones that mark a text's start, could encode a piece differently).
    """

    def __init__(self, tokenizer_json: Optional[str] = None, *, path: Optional[str] = None, engine: str,
                 eot_token: str, eot_id: int, chunk_chars: int = 1_000_000, threads: int = 1,
                 verify_fraction: float = 0.0):
        if engine not in ("tiktoken", "tokenizers"):
            raise ValueError(f"unknown engine {engine!r}")
        if (tokenizer_json is None) == (path is None):
            raise ValueError("give the tokenizer.json text or its path")
        self.path = path
        self._json = tokenizer_json if tokenizer_json is not None else _read_text(path)
        self.key = hashlib.sha256(self._json.encode("utf-8")).hexdigest()
        self.engine = engine
        self.eot_token = eot_token
        self.eot_id = eot_id
        from shard.tiktoken_bridge import gpt2_pretokenized

        self.chunk_chars = chunk_chars if gpt2_pretokenized(json.loads(self._json)) else 0
        self.threads = max(1, threads)
        self.verify_fraction = verify_fraction if engine == "tiktoken" else 0.0

    def __getstate__(self):
        state = {k: v for k, v in self.__dict__.items() if not k.startswith("_")}
        if self.path is None:
            state["_json"] = self._json
        return state

    @property
    def tokenizer_json(self) -> str:
        if getattr(self, "_json", None) is None:
            text = _read_text(self.path)
            if hashlib.sha256(text.encode("utf-8")).hexdigest() != self.key:
                raise WebtextError(f"{self.path}: the tokenizer changed while the stage was running")
            self._json = text
        return self._json

    # -- the engines, built lazily -----------------------------------------------------------

    @property
    def hf(self):
        def build():
            from shard.tokenizer import for_encoding, from_json

            return for_encoding(from_json(self.tokenizer_json))

        return _cached(("hf", self.key), build)

    @property
    def tiktoken(self):
        def build():
            from shard.tiktoken_bridge import build_encoding

            return build_encoding(self.tokenizer_json, self.eot_token, self.eot_id)

        return _cached(("tiktoken", self.key, self.eot_id), build)

    @property
    def pool(self):
        from concurrent.futures import ThreadPoolExecutor

        return _cached(("pool", self.threads), lambda: ThreadPoolExecutor(self.threads, thread_name_prefix="encode"))

    # -- encoding ------------------------------------------------------------------------------

    def _encode_pieces_tiktoken(self, pieces: list[str]) -> list[np.ndarray]:
        enc = self.tiktoken

        def one(text):
            return enc.encode_to_numpy(text, allowed_special=set(), disallowed_special=())

        if self.threads > 1 and len(pieces) > 1:
            return list(self.pool.map(one, pieces))
        return [one(p) for p in pieces]

    def _encode_pieces_hf(self, pieces: list[str]) -> list[np.ndarray]:
        return [np.asarray(e.ids, dtype=np.uint32) for e in self.hf.encode_batch_fast(pieces, add_special_tokens=False)]

    def encode_texts(self, texts: Sequence[str], engine: Optional[str] = None) -> list[np.ndarray]:
        """Ids of each text (no end-of-text token), as uint32 arrays. Texts must be valid Unicode."""
        pieces: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            for piece in split_for_encoding(text, self.chunk_chars):
                pieces.append(piece)
                owner.append(i)
        engine = engine or self.engine
        encoded = self._encode_pieces_tiktoken(pieces) if engine == "tiktoken" else self._encode_pieces_hf(pieces)
        out: list[list[np.ndarray]] = [[] for _ in texts]
        for i, ids in zip(owner, encoded):
            out[i].append(ids)
        return [parts[0] if len(parts) == 1 else np.concatenate(parts) if parts else np.zeros(0, np.uint32)
                for parts in out]

    def encode(self, ids: Sequence[str], texts: Sequence[str]) -> list[np.ndarray]:
        """uint16 arrays [eot, ids of text...] for each (document id, repaired text)."""
        encoded = self.encode_texts(texts)
        if self.verify_fraction > 0:
            self._verify(ids, texts, encoded)
        out = []
        for arr in encoded:
            doc = np.empty(len(arr) + 1, dtype=TOKEN_DTYPE)
            doc[0] = self.eot_id
            doc[1:] = arr  # ids were checked to be < 65536 when the tokenizer was loaded
            out.append(doc)
        return out

    def _verify(self, ids, texts, encoded) -> None:
        chosen = [i for i, doc_id in enumerate(ids) if hash_fraction("verify", doc_id) < self.verify_fraction]
        if not chosen:
            return
        reference = self.encode_texts([texts[i] for i in chosen], engine="tokenizers")
        for i, ref in zip(chosen, reference):
            if not np.array_equal(ref, encoded[i]):
                pos = first_difference(ref, encoded[i])
                raise EncoderMismatch(
                    f"document {ids[i]}: tiktoken and tokenizers give different ids from token {pos} on; "
                    f"the shards would not match the tokenizer. Set shard.encoder: tokenizers to encode "
                    f"with tokenizers only.")
