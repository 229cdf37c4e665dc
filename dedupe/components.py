"""Connected components of the duplicate graph, each labelled by its smallest node.

Distributed, in a fixed number of shuffles (Beam pipelines are static graphs, without loops):

1. `rounds` x (large-star, small-star) of Kiveris et al., "Connected Components in MapReduce and
   Beyond" (SoCC 2014). Each step groups the edge list by node and rewires a node's neighbourhood
   towards its minimum; components keep their node sets, and they contract towards stars around
   their minimum within O(log^2 n) rounds (in practice a handful).
2. Labelling: every node takes L(u) = min(u, neighbours(u)).
3. Certification: if L(u) == L(v) for every edge, L is constant on each component and equals the
   component's minimum (the minimum labels itself), so the labels are final. Edges where they differ
   are the residue of components not yet contracted; mapped to label pairs (L(u), L(v)), they connect
   exactly the labels of one component, so a union-find over those pairs (on one worker; usually
   empty, and holding only unconverged edges) completes the labelling: root(u) = find(L(u)).

The result is the same whatever `rounds` is (0 included); rounds only move work from the single
union-find to the distributed contraction. Contraction is slowest on a path whose labels are sorted
along it (a page edited again and again, each copy posted later); the pipeline therefore runs it on
`scramble`d keys (a fixed pseudo-random order) and picks each component's keeper afterwards, when it
groups the component's members. These functions are the per-node steps; the Beam wiring is in
pipeline.py.
"""

from __future__ import annotations

from typing import Iterable, Iterator

from dedupe.text import stable_hash64


def scramble(node: str) -> str:
    """A key that sorts nodes in a pseudo-random but fixed order (and still names the node)."""
    return f"{stable_hash64(node):016x}{node}"


def unscramble(key: str) -> str:
    return key[16:]


def large_star(u: str, neighbours: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Connect every larger neighbour of u to the minimum of u's closed neighbourhood."""
    nbrs = set(neighbours)
    nbrs.discard(u)
    if not nbrs:
        return
    m = min(min(nbrs), u)
    for v in sorted(nbrs):
        if v > u:
            yield m, v


def small_star(u: str, neighbours: Iterable[str]) -> Iterator[tuple[str, str]]:
    """Connect u and its smaller neighbours to the minimum of them."""
    smaller = sorted(v for v in set(neighbours) if v < u)
    if not smaller:
        return
    m = smaller[0]
    for v in smaller[1:]:
        yield m, v
    yield m, u


def label(u: str, neighbours: Iterable[str]) -> str:
    return min(min(neighbours, default=u), u)


class UnionFind:
    """Union by minimum: every set's root is its smallest element, whatever the order of unions."""

    def __init__(self):
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        parent = self.parent
        root = x
        while parent.get(root, root) != root:
            root = parent[root]
        while parent.get(x, x) != root:  # path compression
            parent[x], x = root, parent[x]
        return root

    def union(self, a: str, b: str) -> None:
        self.parent.setdefault(a, a)
        self.parent.setdefault(b, b)
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            lo, hi = (ra, rb) if ra < rb else (rb, ra)
            self.parent[hi] = lo

    def roots(self) -> dict[str, str]:
        return {x: self.find(x) for x in sorted(self.parent)}


def union_find_components(edges: Iterable[tuple[str, str]]) -> dict[str, str]:
    """{node: smallest node of its component} by plain union-find (the reference, and the residue)."""
    uf = UnionFind()
    for a, b in edges:
        uf.union(a, b)
    return uf.roots()


def _grouped(edges) -> dict[str, list[str]]:
    adj: dict[str, list[str]] = {}
    for a, b in edges:
        if a != b:
            adj.setdefault(a, []).append(b)
            adj.setdefault(b, []).append(a)
    return adj


def contract_and_label(edges: Iterable[tuple[str, str]], rounds: int) -> tuple[dict[str, str], int]:
    """The distributed algorithm run in one process (for tests): ({node: root}, residue edge count)."""
    edges = list(edges)
    nodes = {x for e in edges for x in e}
    for _ in range(rounds):
        edges = [e for u, nb in _grouped(edges).items() for e in large_star(u, nb)]
        edges = [e for u, nb in _grouped(edges).items() for e in small_star(u, nb)]
    adj = _grouped(edges)
    labels = {u: label(u, nb) for u, nb in adj.items()}
    residue = {(labels[u], labels[v]) for u, nb in adj.items() for v in nb if labels[u] < labels[v]}
    roots = union_find_components(residue)
    out = {}
    for u in sorted(nodes):
        lab = labels.get(u, u)
        out[u] = roots.get(lab, lab)
    return out, len(residue)
