"""A Bloom filter over 64-bit hashes, in numpy: mergeable (bitwise OR), vectorised add and lookup.

Sized for `capacity` items at false-positive rate p: m = -capacity ln p / (ln 2)^2 bits and
k = (m / capacity) ln 2 probes, placed by double hashing (h1 + i h2 mod m). Used for benchmark
n-gram sets too large to keep as an exact table; a hit then is wrong with probability <= p (while
the filter holds at most `capacity` items).
"""

from __future__ import annotations

import math

import numpy as np

_CHUNK = 1 << 18  # hashes per vectorised step: bounds the (chunk x k) position array


def _mix(x: np.ndarray) -> np.ndarray:
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xFF51AFD7ED558CCD)
    x = x ^ (x >> np.uint64(33))
    x = x * np.uint64(0xC4CEB9FE1A85EC53)
    return x ^ (x >> np.uint64(33))


class BloomFilter:
    def __init__(self, capacity: int, fp_rate: float):
        capacity = max(1, int(capacity))
        bits = math.ceil(-capacity * math.log(fp_rate) / (math.log(2) ** 2))
        self.m = max(64, (bits + 63) // 64 * 64)
        self.k = max(1, round(self.m / capacity * math.log(2)))
        self.capacity = capacity
        self.fp_rate = fp_rate
        self.bits = np.zeros(self.m // 8, dtype=np.uint8)

    def _positions(self, hashes: np.ndarray) -> np.ndarray:
        h1 = hashes.astype(np.uint64)
        h2 = _mix(h1) | np.uint64(1)
        steps = np.arange(self.k, dtype=np.uint64)
        return (h1[:, None] + steps[None, :] * h2[:, None]) % np.uint64(self.m)

    def add(self, hashes: np.ndarray) -> None:
        for s in range(0, len(hashes), _CHUNK):
            pos = self._positions(hashes[s:s + _CHUNK]).ravel()
            np.bitwise_or.at(self.bits, (pos >> np.uint64(3)).astype(np.int64),
                             (np.uint8(1) << (pos & np.uint64(7)).astype(np.uint8)))

    def contains(self, hashes: np.ndarray) -> np.ndarray:
        out = np.empty(len(hashes), dtype=bool)
        for s in range(0, len(hashes), _CHUNK):
            pos = self._positions(hashes[s:s + _CHUNK])
            byte = self.bits[(pos >> np.uint64(3)).astype(np.int64)]
            bit = (byte >> (pos & np.uint64(7)).astype(np.uint8)) & np.uint8(1)
            out[s:s + _CHUNK] = bit.all(axis=1)
        return out

    def merge(self, other: "BloomFilter") -> None:
        if (self.m, self.k) != (other.m, other.k):
            raise ValueError("cannot merge Bloom filters of different sizes")
        np.bitwise_or(self.bits, other.bits, out=self.bits)

    def bits_set(self) -> int:
        return int(np.unpackbits(self.bits).sum())

    def estimated_count(self) -> float:
        """Distinct items added, estimated from the fill: -(m/k) ln(1 - X/m) (Swamidass & Baldi)."""
        x = self.bits_set()
        if x >= self.m:
            return float("inf")
        return -(self.m / self.k) * math.log(1.0 - x / self.m)

    def nbytes(self) -> int:
        return int(self.bits.nbytes)
