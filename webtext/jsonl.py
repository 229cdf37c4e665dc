"""JSON lines on disk: zstd (or gz/xz/bz2/plain) compressed, streamed in constant memory.

Every stage's records (links, documents, rejects, failures) are JSON lines compressed with zstd.
Readers accept any of .zst, .gz, .xz, .bz2 or plain files, local or (through Beam's filesystems)
remote. Writers are atomic: a file appears under its final name only once it is complete, so a
killed process never leaves a truncated file that looks finished.
"""

from __future__ import annotations

import bz2
import glob as _glob
import gzip
import io
import json
import lzma
import os
from typing import Any, Callable, Iterator, Optional

from webtext.errors import InputError

ZSTD_LEVEL = 3
ZSTD_MAX_WINDOW = 2**31  # Pushshift's dumps are written with a long window


def is_remote(path: str) -> bool:
    return "://" in path


def open_raw(path: str, mode: str = "rb"):
    """Open a local or remote (gs://, s3://, ...) file in binary mode, without decompression."""
    if not is_remote(path):
        return open(path, mode)
    from apache_beam.io.filesystem import CompressionTypes
    from apache_beam.io.filesystems import FileSystems

    if "r" in mode:
        return FileSystems.open(path, compression_type=CompressionTypes.UNCOMPRESSED)
    return FileSystems.create(path, compression_type=CompressionTypes.UNCOMPRESSED)


class _ZstdReader(io.RawIOBase):
    """Decompress a stream of zstd frames, and fail loudly on a truncated one.

    (zstandard's stream_reader ends silently at a cut-off frame; a dump cut short must be an error.)
    """

    CHUNK = 1 << 20

    def __init__(self, raw):
        import zstandard

        self.raw = raw
        self.dctx = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
        self.obj = self.dctx.decompressobj()
        self.pending = b""
        self.pos = 0
        self.in_frame = False
        self.done = False

    def readable(self):
        return True

    def readinto(self, b):
        while self.pos >= len(self.pending) and not self.done:
            chunk = self.raw.read(self.CHUNK)
            if not chunk:
                self.done = True
                if self.in_frame:
                    raise EOFError("truncated zstd stream: the last frame is incomplete")
                break
            self.pending, self.pos = self._feed(chunk), 0
        n = min(len(b), len(self.pending) - self.pos)
        b[:n] = self.pending[self.pos:self.pos + n]
        self.pos += n
        return n

    def _feed(self, data: bytes) -> bytes:
        out = []
        while data:
            out.append(self.obj.decompress(data))
            self.in_frame = True
            if self.obj.eof:  # a frame ended; the rest of the chunk starts the next one
                data = self.obj.unused_data
                self.obj = self.dctx.decompressobj()
                self.in_frame = False
            else:
                data = b""
        return b"".join(out)

    def close(self):
        if not self.closed:
            self.raw.close()
        super().close()


def open_decompressed(path: str):
    """A binary stream of the decompressed contents, chosen by the file's extension."""
    raw = open_raw(path, "rb")
    name = path.lower()
    if name.endswith((".zst", ".zstd")):
        return io.BufferedReader(_ZstdReader(raw), buffer_size=1 << 20)
    if name.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw, mode="rb")
    if name.endswith(".xz") or name.endswith(".lzma"):
        return lzma.LZMAFile(raw, mode="rb")
    if name.endswith(".bz2"):
        return bz2.BZ2File(raw, mode="rb")
    return raw


def iter_lines(path: str) -> Iterator[tuple[int, bytes]]:
    """(line number, raw line) for every non-empty line; raises InputError naming the file on damage."""
    lineno = 0
    try:
        with open_decompressed(path) as f:
            for lineno, line in enumerate(f, 1):
                line = line.strip()
                if line:
                    yield lineno, line
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (OSError, EOFError, lzma.LZMAError, ValueError) as e:
        # zstandard.ZstdError subclasses Exception only; caught below by name to avoid importing it here.
        raise InputError(f"{path}: cannot decompress after line {lineno}: {e}") from None
    except Exception as e:  # noqa: BLE001 - re-raised with the file named
        if type(e).__name__ == "ZstdError":
            raise InputError(f"{path}: cannot decompress after line {lineno}: {e}") from None
        raise


def read_jsonl(path: str, *, on_error: Optional[Callable[[str, int, str], None]] = None) -> Iterator[Any]:
    """Yield each JSON value in a JSON-lines file.

    A line that is not valid JSON raises InputError naming the file and line, unless `on_error` is
    given, in which case on_error(path, lineno, message) is called and reading goes on.
    """
    for lineno, line in iter_lines(path):
        try:
            yield json.loads(line)
        except (ValueError, UnicodeDecodeError) as e:
            msg = f"not valid JSON ({e})"
            if on_error is None:
                raise InputError(f"{path}:{lineno}: {msg}") from None
            on_error(path, lineno, msg)


def list_files(pattern_or_dir: str, suffix: str = ".jsonl.zst") -> list[str]:
    """Sorted files matching a glob, or every *suffix file directly in a folder."""
    if is_remote(pattern_or_dir):
        from apache_beam.io.filesystems import FileSystems

        pattern = pattern_or_dir if any(c in pattern_or_dir for c in "*?[") else pattern_or_dir.rstrip("/") + "/*" + suffix
        return sorted(m.path for r in FileSystems.match([pattern]) for m in r.metadata_list)
    if os.path.isdir(pattern_or_dir):
        return sorted(os.path.join(pattern_or_dir, n) for n in os.listdir(pattern_or_dir) if n.endswith(suffix))
    return sorted(_glob.glob(pattern_or_dir))


def read_dir(folder: str, suffix: str = ".jsonl.zst") -> Iterator[Any]:
    """Every record of every file in a folder, in file-name order."""
    for path in list_files(folder, suffix):
        yield from read_jsonl(path)


def dumps(record: Any) -> bytes:
    """The one JSON encoding used on disk: compact, UTF-8, keys in the order given."""
    return json.dumps(record, ensure_ascii=False, separators=(",", ":")).encode("utf-8", "surrogatepass")


def encode_lines(records, compress: bool = True) -> bytes:
    """A whole JSON-lines file's bytes (zstd-compressed unless compress=False), deterministically."""
    data = b"".join(dumps(r) + b"\n" for r in records)
    if not compress:
        return data
    import zstandard

    return zstandard.ZstdCompressor(level=ZSTD_LEVEL).compress(data)


class JsonlWriter:
    """Write JSON lines to `path` (.zst compressed if the name ends so), atomically.

    Data goes to `<path>.tmp` and is renamed to `path` by close(); on an exception inside a `with`
    block the temporary file is removed instead.
    """

    def __init__(self, path: str):
        self.path = path
        self.count = 0
        self.bytes_in = 0
        self._tmp = path + ".tmp"
        self._raw = open_raw(self._tmp if not is_remote(path) else path, "wb")
        if path.endswith((".zst", ".zstd")):
            import zstandard

            self._out = zstandard.ZstdCompressor(level=ZSTD_LEVEL).stream_writer(self._raw, closefd=False)
        elif path.endswith(".gz"):
            self._out = gzip.GzipFile(fileobj=self._raw, mode="wb", mtime=0)
        else:
            self._out = self._raw
        self.closed = False

    def write(self, record: Any) -> None:
        line = dumps(record) + b"\n"
        self._out.write(line)
        self.count += 1
        self.bytes_in += len(line)

    def write_many(self, records) -> None:
        for r in records:
            self.write(r)

    def close(self) -> None:
        if self.closed:
            return
        if self._out is not self._raw:
            self._out.close()
        self._raw.close()
        if not is_remote(self.path):
            os.replace(self._tmp, self.path)
        self.closed = True

    def abort(self) -> None:
        if self.closed:
            return
        try:
            if self._out is not self._raw:
                self._out.close()
            self._raw.close()
        finally:
            if not is_remote(self.path) and os.path.exists(self._tmp):
                os.remove(self._tmp)
            self.closed = True

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()


class RotatingJsonlWriter:
    """JSON lines split into numbered files of at most ~max_bytes (uncompressed) each:
    <folder>/<prefix>-00000.jsonl.zst, -00001, ... Each file is complete once it has its final name."""

    def __init__(self, folder: str, prefix: str, max_bytes: int = 256 << 20, suffix: str = ".jsonl.zst", start_index: int = 0):
        self.folder, self.prefix, self.max_bytes, self.suffix = folder, prefix, max_bytes, suffix
        self.index = start_index
        self.count = 0
        self.paths: list[str] = []
        self._writer: Optional[JsonlWriter] = None
        if not is_remote(folder):
            os.makedirs(folder, exist_ok=True)

    def _path(self, i: int) -> str:
        return os.path.join(self.folder, f"{self.prefix}-{i:05d}{self.suffix}")

    def write(self, record: Any) -> None:
        if self._writer is None:
            self._writer = JsonlWriter(self._path(self.index))
        self._writer.write(record)
        self.count += 1
        if self._writer.bytes_in >= self.max_bytes:
            self._roll()

    def _roll(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self.paths.append(self._writer.path)
            self._writer = None
            self.index += 1

    def close(self) -> None:
        self._roll()

    def abort(self) -> None:
        if self._writer is not None:
            self._writer.abort()
            self._writer = None

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None:
            self.close()
        else:
            self.abort()


def write_json(path: str, data: Any) -> None:
    """Write a small JSON file atomically (pretty-printed, for people to read)."""
    text = json.dumps(data, indent=2, ensure_ascii=False, sort_keys=False) + "\n"
    if is_remote(path):
        with open_raw(path, "wb") as f:
            f.write(text.encode("utf-8"))
        return
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path: str) -> Any:
    try:
        with open_raw(path, "rb") as f:
            return json.loads(f.read().decode("utf-8"))
    except FileNotFoundError:
        raise InputError(f"{path}: file not found") from None
    except (ValueError, UnicodeDecodeError) as e:
        raise InputError(f"{path}: not valid JSON ({e})") from None
