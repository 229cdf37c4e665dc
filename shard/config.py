"""The `shard:` block of pipeline.yaml: which tokenizer, and how documents become token shards."""

from dataclasses import dataclass, field
from typing import Literal, Optional

from webtext.schema import path_field

UINT16_TOKENS = 1 << 16  # llm.c shards store ids as uint16: at most 65,536 distinct tokens
MAX_SHARD_TOKENS = (1 << 31) - 1  # the header stores the token count as an int32


@dataclass
class TokenizerConfig:
    """Where the byte-level BPE comes from."""

    # train: learn a byte-level BPE on a sample of the corpus, as OpenAI did on WebText (GPT-2's
    #        pre-tokenisation pattern, no normaliser, <|endoftext|> takes the last id);
    # gpt2:  GPT-2's own files (encoder.json + vocab.bpe, or vocab.json + merges.txt) in `gpt2_dir`;
    # file:  any tokenizer.json (`file`); its vocabulary must fit in uint16.
    kind: Literal["train", "gpt2", "file"] = "train"
    # train: entries in the vocabulary, <|endoftext|> included (GPT-2: 50,257 = 256 bytes + 50,000
    # merges + <|endoftext|>). A small corpus may yield fewer; the manifest records the real size.
    vocab_size: int = 50257
    # train: documents in the training sample: the `sample_docs` documents whose hash of (seed, id) is
    # smallest, so the sample is the same whatever the file order. 0 = every document. A million
    # WebText documents are about 5 GB of text, enough for the merge counts to settle.
    sample_docs: int = 1_000_000
    # train: a pair must occur at least this often in the sample to become a merge.
    min_frequency: int = 2
    # gpt2: folder holding encoder.json + vocab.bpe (OpenAI's layout) or vocab.json + merges.txt (HF's).
    gpt2_dir: Optional[str] = path_field(None, kind="dir")
    # file: a tokenizer.json saved by Hugging Face `tokenizers`.
    file: Optional[str] = path_field(None, kind="file")
    # The document separator written before every document; must be in the vocabulary.
    eot_token: str = "<|endoftext|>"

    def check(self):
        if self.kind == "train":
            if self.vocab_size > UINT16_TOKENS:
                yield "vocab_size", (f"{self.vocab_size:,} does not fit in llm.c's uint16 shards "
                                     f"(at most {UINT16_TOKENS:,} token ids)")
            if self.vocab_size < 258:
                yield "vocab_size", "must be at least 258 (256 byte tokens, one merge and <|endoftext|>)"
        if self.sample_docs < 0:
            yield "sample_docs", "must be 0 (every document) or a positive number"
        if self.min_frequency < 1:
            yield "min_frequency", "must be at least 1"
        if self.kind == "gpt2" and not self.gpt2_dir:
            yield "gpt2_dir", "kind: gpt2 needs the folder with GPT-2's encoder.json + vocab.bpe (or vocab.json + merges.txt)"
        if self.kind == "file" and not self.file:
            yield "file", "kind: file needs the path of a tokenizer.json"
        if not self.eot_token:
            yield "eot_token", "must not be empty"


@dataclass
class Config:
    """Tokenize the deduplicated documents into llm.c-format shards with a document index."""

    tokenizer: TokenizerConfig = field(default_factory=TokenizerConfig)
    # Which library encodes. auto: tiktoken (about 3x faster) when the tokenizer can be expressed as
    # tiktoken ranks and gives identical ids on a check sample, else `tokenizers`. tiktoken: require it
    # (error if not identical). tokenizers: always Hugging Face `tokenizers` (encode_batch).
    encoder: Literal["auto", "tiktoken", "tokenizers"] = "auto"
    # When tiktoken encodes: the share of documents (chosen by hash of id) also encoded by `tokenizers`
    # during the run; any difference stops the stage, naming the document. 0 turns the check off.
    verify_fraction: float = 0.01
    # Documents per encode call.
    batch_docs: int = 512
    # Encoding threads in each worker; 0 = the machine's cores divided by the Beam workers.
    encode_threads: int = 0
    # Documents longer than this (characters) are encoded in pieces cut at pre-token boundaries (a space
    # or newline between two letters or digits), which gives the same ids with bounded memory.
    chunk_chars: int = 1_000_000
    # Tokens per shard (the last shard of a split holds the rest). Documents run on across shard ends,
    # so every shard but the last is exactly this long. llm.c's FineWeb shards hold 100M tokens.
    shard_tokens: int = 100_000_000
    # Share of documents (chosen by a hash of the document id, so stable across runs and tokenizers) in
    # the validation split. nanoGPT's OpenWebText split holds out 0.05%.
    val_fraction: float = 0.0005

    def check(self):
        if not 0 <= self.val_fraction < 1:
            yield "val_fraction", "must be at least 0 and below 1"
        if not 0 <= self.verify_fraction <= 1:
            yield "verify_fraction", "must be between 0 and 1"
        if self.batch_docs < 1:
            yield "batch_docs", "must be at least 1"
        if self.encode_threads < 0:
            yield "encode_threads", "must be 0 (automatic) or a positive number"
        if self.chunk_chars < 1000:
            yield "chunk_chars", "must be at least 1000"
        if not 1 <= self.shard_tokens <= MAX_SHARD_TOKENS:
            yield "shard_tokens", f"must be between 1 and {MAX_SHARD_TOKENS:,} (the header's int32 token count)"
