"""MinHash signatures (datasketch), LSH bands (datasketch's parameter search), candidate verification.

- `Signer.sign(shingles)`: a document's signature, through datasketch's batch API
  (`MinHash.update_batch` on a copy of one prototype, which is what `MinHash.bulk` does), fed the
  shingles' precomputed hashes (`hashfunc=int`), in chunks so a 50 MB document stays in bounded memory.
- `lsh_params(...)`: bands and rows from datasketch's optimal-parameter search (`MinHashLSH`).
- `band_keys(sig, ...)`: the LSH bucket of each band.
- `verify_bucket(...)`: the candidate pairs of one bucket, each decided by the estimated Jaccard, or
  marked for an exact check when the estimate is too close to the threshold to call. A pair that
  shares several bands is handled only in the first band it shares, so no pair is emitted twice.
"""

from __future__ import annotations

import hashlib
import math
from typing import Iterable, Iterator, Optional

import numpy as np

SIG_DTYPE = np.uint32  # datasketch's default "affine32" scheme
_LOW32 = np.uint64(0xFFFFFFFF)
UPDATE_CHUNK = 1 << 16  # shingles per update_batch call: bounds the (chunk x num_perm) temporary


class Signer:
    """Signs shingle-hash arrays with datasketch MinHash (created lazily: Beam pickles the DoFn)."""

    def __init__(self, num_perm: int, seed: int):
        self.num_perm = num_perm
        self.seed = seed
        self._proto = None

    def _prototype(self):
        if self._proto is None:
            from datasketch import MinHash

            # hashfunc=int: inputs are already 32-bit hashes (see text.shingle_hashes).
            self._proto = MinHash(num_perm=self.num_perm, seed=self.seed, hashfunc=int)
        return self._proto

    def sign(self, shingles: np.ndarray) -> Optional[np.ndarray]:
        """The MinHash signature (uint32[num_perm]) of a shingle-hash array; None when it is empty."""
        if len(shingles) == 0:
            return None
        m = self._prototype().copy()
        low = (shingles & _LOW32).astype(np.uint32)
        for start in range(0, len(low), UPDATE_CHUNK):
            m.update_batch(low[start:start + UPDATE_CHUNK].tolist())
        return np.asarray(m.hashvalues, dtype=SIG_DTYPE)


def lsh_params(threshold: float, num_perm: int, false_negative_weight: float) -> tuple[int, int]:
    """(bands, rows) from datasketch's search minimising weighted false-positive/negative areas."""
    from datasketch import MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm,
                     weights=(1.0 - false_negative_weight, false_negative_weight))
    return lsh.b, lsh.r


def candidate_probability(jaccard: float, bands: int, rows: int) -> float:
    """Chance that a pair with this Jaccard shares at least one band: 1 - (1 - J^r)^b."""
    return 1.0 - (1.0 - jaccard ** rows) ** bands


def uncertainty_margin(threshold: float, num_perm: int, sigmas: float) -> float:
    """Half-width of the band around the threshold where the estimate decides nothing: `sigmas`
    standard errors of the MinHash estimate at the threshold, sqrt(t (1 - t) / num_perm)."""
    return sigmas * math.sqrt(threshold * (1.0 - threshold) / num_perm)


def band_keys(sig: np.ndarray, bands: int, rows: int) -> list[str]:
    """One bucket key per band: the band number and a 64-bit hash of its rows."""
    out = []
    for i in range(bands):
        digest = hashlib.blake2b(sig[i * rows:(i + 1) * rows].tobytes(), digest_size=8).hexdigest()
        out.append(f"{i:04d}:{digest}")
    return out


def estimated_jaccard(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.count_nonzero(a == b)) / len(a)


EDGE, CHECK, REJECT = "edge", "check", "reject"


def classify(estimate: float, threshold: float, margin: float) -> str:
    """edge: surely >= threshold; reject: surely below; check: too close to call, decide exactly."""
    if estimate >= threshold + margin:
        return EDGE
    if estimate < threshold - margin:
        return REJECT
    return CHECK


def verify_bucket(band: int, members: Iterable[tuple[str, bytes]], *, rows: int, threshold: float,
                  margin: float) -> Iterator[tuple[str, str, str, float]]:
    """(kind, a, b, estimate) for each candidate pair of one LSH bucket, a < b, kind in
    edge/check/reject. `members` are (node key, signature bytes).

    Members with identical signatures are collapsed onto the first of them first (estimate 1.0), so
    a bucket of many near-identical pages costs pairs among its distinct signatures only. A pair is
    reported only in the lowest band the two share: the same pair meets in up to `bands` buckets.
    """
    seen: dict[str, bytes] = {}
    for node, sig in sorted(members):
        seen.setdefault(node, sig)  # a node listed twice (a repeated id) counts once
    if len(seen) < 2:
        return
    nodes = list(seen)
    sigs = np.stack([np.frombuffer(seen[n], dtype=SIG_DTYPE) for n in nodes])
    lo, hi = band * rows, (band + 1) * rows

    # Identical signatures: every member joins the first node holding that signature.
    reps: list[int] = []
    first_of: dict[bytes, int] = {}
    for i, n in enumerate(nodes):
        j = first_of.setdefault(seen[n], i)
        if j == i:
            reps.append(i)
        elif band == 0:  # identical signatures share band 0: report the pair there only
            yield classify(1.0, threshold, margin), nodes[j], n, 1.0

    rep_sigs = sigs[reps]
    for p in range(len(reps) - 1):
        eq = rep_sigs[p + 1:] == rep_sigs[p]
        here = eq[:, lo:hi].all(axis=1)  # false only on a 64-bit bucket-hash collision
        if band > 0:
            earlier = eq[:, :lo].reshape(len(eq), band, rows).all(axis=2).any(axis=1)
            here &= ~earlier
        est = eq.sum(axis=1) / sigs.shape[1]
        a = nodes[reps[p]]
        for q in np.flatnonzero(here):
            e = float(est[q])
            yield classify(e, threshold, margin), a, nodes[reps[p + 1 + q]], e
