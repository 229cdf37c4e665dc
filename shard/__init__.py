"""webtext shard stage: tokenizer + Beam tokenization into llm.c-format shards.

`shard.open_shard` (numpy only) is what train/ and users read shards with; importing this package
does not import Beam or tokenizers.
"""

from shard.reader import ShardError, open_shard, read_header, read_index, read_manifest, split_shards, write_shard

__all__ = ["open_shard", "read_header", "write_shard", "ShardError", "read_manifest", "split_shards", "read_index"]
