"""shard.reader: llm.c's shard format, readable with numpy alone (as train/ and nanoGPT users read it)."""

import os
import subprocess
import sys

import numpy as np
import pytest

from shard import ShardError, open_shard, read_header, write_shard
from shard.reader import HEADER_BYTES, MAGIC


def test_round_trip_and_plain_numpy_reading(tmp_path):
    path = str(tmp_path / "train_000000.bin")
    tokens = np.array([50256, 15496, 995, 0, 65535], dtype=np.int64)
    write_shard(path, tokens)
    assert os.path.getsize(path) == HEADER_BYTES + 2 * len(tokens)
    assert read_header(path) == {"magic": MAGIC, "version": 1, "tokens": 5}
    assert open_shard(path).tolist() == tokens.tolist()
    # What a nanoGPT / llm.c user writes, with no webtext code:
    header = np.fromfile(path, dtype="<i4", count=256)
    assert header[0] == 20240520 and header[1] == 1 and header[2] == 5 and not header[3:].any()
    assert np.memmap(path, dtype="<u2", mode="r", offset=1024, shape=(int(header[2]),)).tolist() == tokens.tolist()


def test_empty_shard(tmp_path):
    path = str(tmp_path / "empty.bin")
    write_shard(path, [])
    assert len(open_shard(path)) == 0


@pytest.mark.parametrize("damage, message", [
    (lambda data: data[:100], "shorter than the 1024-byte header"),
    (lambda data: b"\x00" * 4 + data[4:], "bad magic"),
    (lambda data: data[:4] + (2).to_bytes(4, "little") + data[8:], "unsupported shard version"),
    (lambda data: data[:-2], "header says 3 tokens"),
])
def test_damaged_shards_are_named(tmp_path, damage, message):
    path = str(tmp_path / "s.bin")
    write_shard(path, [1, 2, 3])
    data = open(path, "rb").read()
    open(path, "wb").write(damage(data))
    with pytest.raises(ShardError, match=message) as e:
        open_shard(path)
    assert path in str(e.value)


def test_missing_shard_and_out_of_range_ids(tmp_path):
    with pytest.raises(ShardError, match="not found"):
        read_header(str(tmp_path / "nope.bin"))
    with pytest.raises(ShardError, match="uint16"):
        write_shard(str(tmp_path / "big.bin"), [70000])


def test_importing_shard_needs_only_numpy():
    code = ("import sys, shard, shard.reader; "
            "heavy = [m for m in ('apache_beam', 'tokenizers', 'tiktoken', 'torch') if m in sys.modules]; "
            "print(heavy); sys.exit(1 if heavy else 0)")
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stdout + result.stderr
