"""The dedupe stage as one Beam pipeline: thin transforms around the plain functions of this package.

    clean docs --read 1--> Features: node key (keeper rank + id), exact key, MinHash signature
        -> GroupByKey(exact key) -> ExactGroups: keeper = smallest node key; the rest are exact duplicates
        -> keepers' band keys -> GroupByKey(bucket) -> shared buckets get their members' signatures
           (CoGroupByKey by node) -> VerifyBucket: each candidate pair once, decided by its
           estimated Jaccard or marked "check" when too close to the threshold
        -> "check" pairs: their documents' ids (a sorted id-hash array, side input) pick those documents
           out of --read 2--; their shingle sets meet per pair (CoGroupByKey, GroupByKey) -> exact Jaccard
        -> edges -> ConnectedComponents (components.py) -> component of every node in an edge
        -> per component (with its exact duplicates): keeper = smallest node key, near-duplicate
           decisions, the cluster record
    clean docs --read 3--> Route: documents whose id has a decision or a twin (an id-hash side input)
        meet their decision (CoGroupByKey by id); the rest pass straight on -> survivors + rejects
        -> Scan (benchmark n-gram index as side input): documents without a collision are final;
           colliding ones wait for the frequent n-grams (documents per n-gram, side input) -> Cut
        -> documents, contamination rejects, overlap before/after
    -> WriteRecords docs/, rejects/, clusters/ (deterministic shards) and WriteStats (integer counters)

No step sees the whole corpus: documents are read three times instead of being held, and every
grouping is keyed by an exact key, a band, a pair, a node, a component or an id.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from typing import Optional

import apache_beam as beam
import numpy as np
from apache_beam import pvalue

from webtext import jsonl
from webtext.beam import ReadRecords, WriteRecords, WriteStats
from webtext.errors import InputError
from webtext.record import check_document, make_reject, reason_family
from webtext.stats import log2_bucket

from dedupe import components as cc
from dedupe import contamination as contam
from dedupe import minhash
from dedupe import text as textlib
from dedupe.keeper import node_id, node_key

STAGE = "dedupe"


@dataclass
class Settings:
    """Everything the pipeline needs, resolved by stage.py (plain data: it is pickled with the DoFns)."""

    files: list
    out_dir: str
    threshold: float
    shingle_size: int
    num_perm: int
    seed: int
    bands: int
    rows: int
    margin: float
    component_rounds: int
    doc_shards: int
    reject_shards: int
    cluster_shards: int
    # decontamination rules (dedupe.config.Decontamination holds their defaults)
    removal_ngram: int
    overlap_ngram: int
    cut_chars: int
    min_piece_chars: int
    max_pieces: int
    max_doc_frequency: int
    benchmarks: list = field(default_factory=list)  # [contamination.BenchmarkSpec]
    index_plan: Optional[contam.IndexPlan] = None

    @property
    def stats_path(self) -> str:
        return os.path.join(self.out_dir, "_stats.json")


def read_documents(path: str):
    """Document records of one file; a record that is not a document stops the stage, naming it."""
    for lineno, line in jsonl.iter_lines(path):
        try:
            doc = json.loads(line)
        except ValueError as e:
            raise InputError(f"{path}:{lineno}: not valid JSON ({e})") from None
        problems = check_document(doc)
        if problems:
            raise InputError(f"{path}:{lineno}: not a document record: {'; '.join(problems)}")
        yield doc


class _Outputs(dict):
    def __getattr__(self, tag):
        try:
            return self[tag]
        except KeyError:
            raise AttributeError(tag) from None


class Split(beam.PTransform):
    """A stream of (tag, value) -> one PCollection per tag, as attributes; the first tag is "main".

    DoFns here yield (tag, value) pairs instead of using Beam's tagged outputs, which Beam's Dask
    runner does not keep apart (it hands every output of a ParDo to every consumer).
    """

    def __init__(self, *tags: str):
        super().__init__()
        clash = [t for t in tags if hasattr(dict, t)]
        if clash:
            raise ValueError(f"output names {clash} would hide dict methods")
        self.tags = tags

    def expand(self, tagged):
        out = _Outputs()
        for i, tag in enumerate(self.tags):
            want = "main" if i == 0 else tag
            out[tag] = tagged | f"Only_{tag}" >> beam.FlatMap(lambda tv, w=want: [tv[1]] if tv[0] == w else [])
        return out


def _stats(**kv):
    return "stats", kv


# ---------------------------------------------------------------------------------------------
# Signatures and exact duplicates


class Features(beam.DoFn):
    """doc -> (exact key, (node key, signature bytes or b"" when the document has no words))."""

    def __init__(self, s: Settings):
        self.n = s.shingle_size
        self.signer = minhash.Signer(s.num_perm, s.seed)

    def process(self, doc):
        text = doc["text"]
        words = textlib.shingle_token_hashes(text)
        sig = self.signer.sign(textlib.ngram_hashes(words, self.n, whole_if_shorter=True))
        yield "main", (textlib.exact_key(text), (node_key(doc), b"" if sig is None else sig.tobytes()))
        yield "ids", (doc["id"], 1)
        yield _stats(**{"in": 1, "empty_docs": int(not len(words)), "short_docs": int(0 < len(words) < self.n),
                        "max_doc_chars": len(text), "chars_in": len(text)})


class ExactGroups(beam.DoFn):
    """One exact key's documents -> the keeper (main output, if it has a signature) and, tagged
    "dups", (keeper node, duplicate node) for every other one."""

    def process(self, element):
        _, members = element
        by_node: dict = {}
        for node, sig in sorted(members):
            by_node.setdefault(node, sig)  # the same node twice: a repeated id, settled at the output
        nodes = list(by_node)
        keeper = nodes[0]
        for dup in nodes[1:]:
            yield "dups", (keeper, dup)
        if by_node[keeper]:
            yield "main", (keeper, by_node[keeper])
        if len(nodes) > 1:
            yield _stats(exact_groups=1, max_exact_group=len(nodes))


# ---------------------------------------------------------------------------------------------
# LSH candidates and their verification


class BandKeys(beam.DoFn):
    """(node, signature) -> (bucket, node) for each band. Signatures stay out of this shuffle: it is
    bands x the corpus, and almost every bucket holds one document."""

    def __init__(self, s: Settings):
        self.bands, self.rows = s.bands, s.rows

    def process(self, element):
        node, sig = element
        for key in minhash.band_keys(np.frombuffer(sig, dtype=minhash.SIG_DTYPE), self.bands, self.rows):
            yield key, node


def _shared_bucket(element):
    """A bucket with two or more documents -> (node, bucket) for each of them."""
    bucket, nodes = element
    nodes = sorted(set(nodes))
    if len(nodes) > 1:
        for node in nodes:
            yield node, bucket


def _fill_buckets(element):
    """A node's signature, sent to each shared bucket it is in."""
    node, grouped = element
    sigs = sorted(grouped["sig"])
    if sigs:
        for bucket in sorted(set(grouped["bucket"])):
            yield bucket, (node, sigs[0])


class VerifyBucket(beam.DoFn):
    """One LSH bucket -> "edge" pairs (main) and "check" pairs (tagged), each pair in one bucket only."""

    def __init__(self, s: Settings):
        self.rows, self.threshold, self.margin = s.rows, s.threshold, s.margin

    def process(self, element):
        key, members = element
        members = list(members)
        if len(members) < 2:
            return
        counts = {minhash.EDGE: 0, minhash.CHECK: 0, minhash.REJECT: 0}
        for kind, a, b, _ in minhash.verify_bucket(int(key.split(":", 1)[0]), members, rows=self.rows,
                                                   threshold=self.threshold, margin=self.margin):
            counts[kind] += 1
            if kind == minhash.EDGE:
                yield "main", (a, b)
            elif kind == minhash.CHECK:
                yield "check", (a, b)
        yield _stats(lsh={"shared_buckets": 1, "max_bucket": len(members)},
                     candidates={"accepted_by_estimate": counts[minhash.EDGE],
                                 "rejected_by_estimate": counts[minhash.REJECT],
                                 "exact_checks": counts[minhash.CHECK]})


def _id_hash(doc_id: str) -> int:
    return textlib.stable_hash64(doc_id)


def _id_hash_hex(doc_id: str) -> str:
    # hex, not int: Beam's integer coder stops at 2^63
    return f"{_id_hash(doc_id):016x}"


def _sorted_array(hexes) -> np.ndarray:
    return textlib.sorted_unique(np.array([int(h, 16) for h in hexes], dtype=np.uint64))


class FetchShingles(beam.DoFn):
    """Only the documents named in a "check" pair -> (node key, shingle set bytes)."""

    def __init__(self, s: Settings):
        self.n = s.shingle_size

    def process(self, doc, wanted: np.ndarray):
        if len(wanted) == 0:
            return
        h = np.uint64(_id_hash(doc["id"]))
        pos = int(np.searchsorted(wanted, h))
        if pos < len(wanted) and wanted[pos] == h:
            yield node_key(doc), textlib.shingle_set(doc["text"], self.n).tobytes()


def _route_sets(element):
    """A node's shingle set, sent to each of its check pairs."""
    node, grouped = element
    sets = sorted(grouped["sets"])
    if not sets:
        return
    for a, b in sorted(set(grouped["pairs"])):
        yield f"{a}\t{b}", (node, sets[0])


class ExactJaccard(beam.DoFn):
    def __init__(self, s: Settings):
        self.threshold = s.threshold

    def process(self, element):
        pair, sides = element
        sets = dict(sides)
        a, b = pair.split("\t")
        j = textlib.jaccard_of_sets(np.frombuffer(sets[a], dtype=np.uint64), np.frombuffer(sets[b], dtype=np.uint64))
        confirmed = j >= self.threshold
        if confirmed:
            yield "main", (a, b)
        yield _stats(candidates={"confirmed_by_exact": int(confirmed), "rejected_by_exact": int(not confirmed)})


# ---------------------------------------------------------------------------------------------
# Connected components


def _both_ways(edge):
    a, b = edge
    if a != b:
        yield a, b
        yield b, a


class _StarStep(beam.PTransform):
    def __init__(self, step):
        super().__init__()
        self.step = step

    def expand(self, edges):
        step = self.step
        return (edges
                | "BothWays" >> beam.FlatMap(_both_ways)
                | "ByNode" >> beam.GroupByKey()
                | "Rewire" >> beam.FlatMapTuple(lambda u, nbrs: step(u, nbrs)))


def _label_and_tell(element):
    u, nbrs = element
    nbrs = set(nbrs)
    lab = cc.label(u, nbrs)
    yield u, ("self", lab)
    for v in nbrs:
        yield v, ("nbr", lab)


class _Certify(beam.DoFn):
    """A node's label, and the label pairs its edges disagree on (the unconverged residue)."""

    def process(self, element):
        u, tells = element
        own = next(lab for kind, lab in tells if kind == "self")
        yield "main", (u, own)
        for other in sorted({lab for kind, lab in tells if kind == "nbr" and lab != own}):
            if own < other:
                yield "residue", (own, other)


class _UnionFind(beam.CombineFn):
    def create_accumulator(self):
        return cc.UnionFind()

    def add_input(self, uf, edge):
        uf.union(*edge)
        return uf

    def merge_accumulators(self, ufs):
        out = cc.UnionFind()
        for uf in ufs:
            for x, p in uf.parent.items():
                out.union(x, p)
        return out

    def extract_output(self, uf):
        return uf.roots()


class ConnectedComponents(beam.PTransform):
    """Edges (a, b) -> (node, component id) for every node in an edge.

    The contraction runs on scrambled keys (components.scramble): node keys follow the keeper rule,
    and a chain of edits of one page, each posted later than the last, would otherwise be a path
    with sorted labels, the slowest case for star contraction.
    """

    def __init__(self, rounds: int):
        super().__init__()
        self.rounds = rounds

    def expand(self, edges):
        edges = edges | "Scramble" >> beam.Map(lambda e: tuple(sorted((cc.scramble(e[0]), cc.scramble(e[1])))))
        for r in range(self.rounds):
            edges = (edges
                     | f"LargeStar{r}" >> _StarStep(cc.large_star)
                     | f"SmallStar{r}" >> _StarStep(cc.small_star))
        certified = (edges
                     | "BothWays" >> beam.FlatMap(_both_ways)
                     | "Adjacency" >> beam.GroupByKey()
                     | "Label" >> beam.FlatMap(_label_and_tell)
                     | "GatherLabels" >> beam.GroupByKey()
                     | "Certify" >> beam.ParDo(_Certify())
                     | "CertifyOutputs" >> Split("labels", "residue"))
        residue = certified.residue
        finish = residue | "FinishResidue" >> beam.CombineGlobally(_UnionFind())
        roots = certified.labels | "Roots" >> beam.Map(
            lambda ul, fin: (cc.unscramble(ul[0]), fin.get(ul[1], ul[1])), fin=pvalue.AsSingleton(finish))
        stats = ((residue | "CountResidue" >> beam.Map(lambda _: {"components": {"residue_edges": 1}})),
                 (certified.labels | "CountNodes" >> beam.Map(lambda _: {"components": {"nodes": 1}}))
                 ) | "ComponentStats" >> beam.Flatten()
        return roots, stats


# ---------------------------------------------------------------------------------------------
# Decisions and clusters


def _cluster_members(element):
    """Per node: its component (if it is in an edge) and its exact duplicates -> (component, member)."""
    node, grouped = element
    comps = grouped["component"]
    if comps:
        comp = comps[0]
    elif grouped["dups"]:
        comp = "exact:" + node  # an exact group whose keeper has no near duplicate
    else:
        return
    yield comp, ("node", node, node)
    for dup in grouped["dups"]:
        yield comp, ("exact", dup, node)


def _cluster_record(element):
    """One component -> its keeper (the smallest node key), near-duplicate decisions, the cluster."""
    _, members = element
    members = sorted(set(members))
    nodes = [m for kind, m, _ in members if kind == "node"]
    keeper = nodes[0]
    for other in nodes[1:]:
        yield "near", (node_id(other), ("near", node_id(keeper)))
    ids = sorted({node_id(m) for _, m, _ in members})
    yield "main", {"keeper": node_id(keeper), "members": ids, "size": len(ids),
                   "exact_duplicates": sum(1 for kind, _, _ in members if kind == "exact"),
                   "near_duplicates": len(nodes) - 1}
    yield "stats", {"clusters": 1, "cluster_sizes": {str(len(ids)): 1}}


_REASON = {"exact": "exact_duplicate_of", "near": "near_duplicate_of"}


class RouteDocs(beam.DoFn):
    """A document whose id has a decision or a twin -> (id, doc) to meet it; any other -> kept as is.
    (A 64-bit hash collision only sends a document the long way round, where it meets no decision.)"""

    def process(self, doc, attention: np.ndarray):
        if len(attention):
            h = np.uint64(_id_hash(doc["id"]))
            pos = int(np.searchsorted(attention, h))
            if pos < len(attention) and attention[pos] == h:
                yield "attention", (doc["id"], doc)
                return
        yield "main", doc


class ApplyDedupe(beam.DoFn):
    """One id's document(s) and duplicate decision -> survivor (main) or reject (tagged)."""

    def process(self, element):
        doc_id, grouped = element
        docs = sorted(grouped["doc"], key=lambda d: jsonl.dumps(d))
        if not docs:
            return
        # exact before near: an exact duplicate's twin is the more specific explanation
        decision = min(grouped["decision"], default=None)
        first, rest = docs[0], docs[1:]
        if decision is None:
            yield "main", first
        else:
            kind, target = decision
            yield "rejects", make_reject(first, f"{_REASON[kind]}:{target}", STAGE)
        for extra in rest:
            yield "rejects", make_reject(extra, "duplicate_id", STAGE, detail="another record has the same id")


# ---------------------------------------------------------------------------------------------
# Decontamination


class IndexCombine(beam.CombineFn):
    def __init__(self, plan: contam.IndexPlan):
        self.plan = plan

    def create_accumulator(self):
        return contam.IndexParts(self.plan)

    def add_input(self, parts, chunk):
        return parts.add(*chunk)

    def merge_accumulators(self, parts_list):
        parts_list = list(parts_list)
        out = parts_list[0]
        for p in parts_list[1:]:
            out.merge(p)
        return out

    def extract_output(self, parts):
        return parts.finish()


def _overlap_keys(found: dict):
    for b, hashes in found.items():
        for h in hashes.tolist():
            yield f"{b:02d}:{h:016x}"


class ScanDocs(beam.DoFn):
    def __init__(self, s: Settings):
        self.removal_n, self.overlap_n = s.removal_ngram, s.overlap_ngram

    def process(self, doc, index):
        found = contam.scan(doc["text"], index, self.removal_n, self.overlap_n)
        keys = list(_overlap_keys(found.overlap))
        for key in keys:
            yield "before", key
        if len(found.hashes) == 0:  # nothing to cut: the document is final (most of the corpus)
            yield "main", doc
            for key in keys:
                yield "after", key
            return
        # Only colliding documents wait for the frequent n-grams (a side input) before their cut.
        yield "hits", (doc, found)
        for h in sorted(set(found.hashes.tolist())):
            yield "grams", (f"{h:016x}", 1)


class CutDocs(beam.DoFn):
    """GPT-3's cut rule; the index rescans a cut document for the overlap after removal."""

    def __init__(self, s: Settings, names: list):
        self.s, self.names = s, names

    def process(self, element, frequent, index):
        doc, found = element
        s = self.s
        res = contam.cut(doc["text"], found, frequent, cut_chars=s.cut_chars, min_piece_chars=s.min_piece_chars,
                         max_pieces=s.max_pieces)
        if res.action == "keep":
            yield "main", doc
            after = found.overlap
        elif res.action == "cut":
            out = dict(doc)
            out["meta"] = dict(doc["meta"])
            out["meta"]["decontamination"] = {
                "benchmarks": [self.names[b] for b in res.benchmarks], "collisions": res.collisions,
                "pieces": res.pieces, "pieces_kept": res.pieces_kept, "chars_removed": res.chars_removed}
            out["text"] = res.text
            yield "main", out
            after = contam.overlap_of(res.text, index, s.overlap_ngram)
            # Every benchmark it collided with counts the cut document; the characters removed count
            # once, for the benchmark blamed (most collisions), so they add up across benchmarks.
            yield _stats(contamination={self.names[b]: {"docs_cut": 1} for b in res.benchmarks})
            yield _stats(contamination={self.names[res.benchmark]: {"chars_removed": res.chars_removed}})
        else:
            name = self.names[res.benchmark]
            yield "rejects", make_reject(
                doc, f"contaminated:{name}", STAGE, benchmarks=[self.names[b] for b in res.benchmarks],
                collisions=res.collisions, pieces=res.pieces, why=res.why)
            yield _stats(contamination={name: {"docs_removed": 1}})
            after = {}
        for key in _overlap_keys(after):
            yield "after", key


class Decontaminate(beam.PTransform):
    """Survivors -> (kept or cut documents, contamination rejects, stats)."""

    def __init__(self, s: Settings):
        super().__init__()
        self.s = s

    def expand(self, survivors):
        s = self.s
        names = [b.name for b in s.benchmarks]
        p = survivors.pipeline
        index = (p
                 | "Benchmarks" >> beam.Create(s.benchmarks)
                 | "BenchmarkNgrams" >> beam.FlatMap(contam.benchmark_chunks, (s.removal_ngram, s.overlap_ngram))
                 | "BuildIndex" >> beam.CombineGlobally(IndexCombine(s.index_plan)))
        index_si = pvalue.AsSingleton(index)
        scanned = (survivors
                   | "Scan" >> beam.ParDo(ScanDocs(s), index_si)
                   | "ScanOutputs" >> Split("clean", "hits", "before", "after", "grams"))
        frequent = (scanned.grams
                    | "DocsPerNgram" >> beam.CombinePerKey(sum)
                    | "Frequent" >> beam.Filter(lambda kv, limit: kv[1] > limit, s.max_doc_frequency)
                    | "FrequentHashes" >> beam.Map(lambda kv: kv[0])
                    | "FrequentSet" >> beam.combiners.ToList()
                    | "Frozen" >> beam.Map(lambda hexes: frozenset(int(h, 16) for h in hexes)))
        cut = (scanned.hits
               | "Cut" >> beam.ParDo(CutDocs(s, names), pvalue.AsSingleton(frequent), index_si)
               | "CutOutputs" >> Split("docs", "rejects", "after", "stats"))

        def found_counts(keys, label):
            return (keys
                    | f"Distinct{label}" >> beam.Distinct()
                    | f"Count{label}" >> beam.Map(lambda k, key: {"contamination": {names[int(k[:2])]: {key: 1}}},
                                                 f"found_{label}"))

        ignored = (frequent | "CountFrequent" >> beam.Map(lambda f: {"frequent_ngrams_ignored": len(f)}))
        index_stats = index | "IndexStats" >> beam.Map(_index_stats, s.removal_ngram, s.overlap_ngram)
        after = (scanned.after, cut.after) | "AfterKeys" >> beam.Flatten()
        kept = (scanned.clean, cut.docs) | "Decontaminated" >> beam.Flatten()
        stats = ((found_counts(scanned.before, "before"), found_counts(after, "after"), cut.stats, ignored,
                  index_stats) | "DecontamStats" >> beam.Flatten())
        return kept, cut.rejects, stats


def _index_stats(index: contam.NgramIndex, removal_n: int, overlap_n: int) -> dict:
    out = {"contamination": {}, "index": {"mode": index.mode, "bytes": index.nbytes()}}
    for b, name in enumerate(index.names):
        out["contamination"][name] = {"benchmark_ngrams": index.distinct[overlap_n][b],
                                      "benchmark_removal_ngrams": index.distinct[removal_n][b]}
    return out


# ---------------------------------------------------------------------------------------------
# The whole stage


def _output_stats(doc):
    n = len(doc["text"])
    return {"out": 1, "chars_out": n, "chars": {log2_bucket(n): 1}}


def build(p: beam.Pipeline, s: Settings) -> None:
    # Signatures and exact duplicates.
    feats = (p
             | "ReadForSignatures" >> ReadRecords(s.files, reader=read_documents, label="FilesToSign")
             | "Features" >> beam.ParDo(Features(s))
             | "FeatureOutputs" >> Split("features", "ids", "stats"))
    exact = (feats.features
             | "ByExactKey" >> beam.GroupByKey()
             | "ExactGroups" >> beam.ParDo(ExactGroups())
             | "ExactOutputs" >> Split("keepers", "dups", "stats"))

    # LSH candidates, decided by estimate where it is clear.
    shared = (exact.keepers
              | "BandKeys" >> beam.ParDo(BandKeys(s))
              | "ByBucket" >> beam.GroupByKey()
              | "SharedBuckets" >> beam.FlatMap(_shared_bucket))
    buckets = ({"sig": exact.keepers, "bucket": shared}
               | "SignaturesMeetBuckets" >> beam.CoGroupByKey()
               | "FillBuckets" >> beam.FlatMap(_fill_buckets)
               | "BySharedBucket" >> beam.GroupByKey()
               | "VerifyBucket" >> beam.ParDo(VerifyBucket(s))
               | "BucketOutputs" >> Split("edges", "check", "stats"))

    # Exact Jaccard where the estimate is too close to call: only those documents are fetched.
    checks = buckets.check
    wanted = (checks
              | "CheckedIds" >> beam.FlatMap(lambda ab: (_id_hash_hex(node_id(ab[0])), _id_hash_hex(node_id(ab[1]))))
              | "CheckedIdList" >> beam.combiners.ToList()
              | "CheckedIdArray" >> beam.Map(_sorted_array))
    sets = (p
            | "ReadForChecks" >> ReadRecords(s.files, reader=read_documents, label="FilesToCheck")
            | "FetchShingles" >> beam.ParDo(FetchShingles(s), pvalue.AsSingleton(wanted)))
    requests = checks | "PairPerNode" >> beam.FlatMap(lambda ab: ((ab[0], ab), (ab[1], ab)))
    confirmed = ({"sets": sets, "pairs": requests}
                 | "SetsMeetPairs" >> beam.CoGroupByKey()
                 | "RouteSets" >> beam.FlatMap(_route_sets)
                 | "ByPair" >> beam.GroupByKey()
                 | "ExactJaccard" >> beam.ParDo(ExactJaccard(s))
                 | "JaccardOutputs" >> Split("edges", "stats"))

    # Components, then per component its keeper (the smallest node key) and its cluster.
    edges = (buckets.edges, confirmed.edges) | "AllEdges" >> beam.Flatten()
    components, cc_stats = edges | "Components" >> ConnectedComponents(s.component_rounds)
    clusters = ({"component": components, "dups": exact.dups}
                | "NodeComponentsAndDups" >> beam.CoGroupByKey()
                | "ClusterMembers" >> beam.FlatMap(_cluster_members)
                | "ByCluster" >> beam.GroupByKey()
                | "Clusters" >> beam.FlatMap(_cluster_record)
                | "ClusterOutputs" >> Split("clusters", "near", "stats"))
    exact_dec = exact.dups | "ExactDecisions" >> beam.MapTuple(lambda k, x: (node_id(x), ("exact", node_id(k))))
    decisions = (clusters.near, exact_dec) | "Decisions" >> beam.Flatten()

    # Apply the decisions. Only documents with a decision, or sharing their id with another record,
    # meet their decision in a shuffle; the rest (most of the corpus) go straight on.
    repeated = (feats.ids
                | "CountIds" >> beam.CombinePerKey(sum)
                | "RepeatedIds" >> beam.FlatMap(lambda kv: [kv[0]] if kv[1] > 1 else []))
    attention = ((decisions | "DecidedIds" >> beam.Map(lambda kv: kv[0]), repeated)
                 | "AttentionIds" >> beam.Flatten()
                 | "AttentionHashes" >> beam.Map(_id_hash_hex)
                 | "AttentionList" >> beam.combiners.ToList()
                 | "AttentionArray" >> beam.Map(_sorted_array))
    routed = (p
              | "ReadForOutput" >> ReadRecords(s.files, reader=read_documents, label="FilesToWrite")
              | "Route" >> beam.ParDo(RouteDocs(), pvalue.AsSingleton(attention))
              | "RouteOutputs" >> Split("direct", "attention"))
    applied = ({"doc": routed.attention, "decision": decisions}
               | "DocsMeetDecisions" >> beam.CoGroupByKey()
               | "ApplyDedupe" >> beam.ParDo(ApplyDedupe())
               | "ApplyOutputs" >> Split("survivors", "rejects"))

    stats_parts = [feats.stats, exact.stats, buckets.stats, confirmed.stats, cc_stats, clusters.stats]
    rejects = [applied.rejects]
    kept = (routed.direct, applied.survivors) | "Survivors" >> beam.Flatten()
    if s.benchmarks:
        kept, contaminated, decontam_stats = kept | "Decontaminate" >> Decontaminate(s)
        rejects.append(contaminated)
        stats_parts.append(decontam_stats)
    rejects = tuple(rejects) | "AllRejects" >> beam.Flatten()

    kept | "WriteDocs" >> WriteRecords(os.path.join(s.out_dir, "docs"), "docs", s.doc_shards)
    rejects | "WriteRejects" >> WriteRecords(os.path.join(s.out_dir, "rejects"), "rejects", s.reject_shards)
    clusters.clusters | "WriteClusters" >> WriteRecords(os.path.join(s.out_dir, "clusters"), "clusters",
                                                        s.cluster_shards, key=lambda r: r["keeper"])
    stats_parts.append(kept | "OutputStats" >> beam.Map(_output_stats))
    stats_parts.append(rejects | "RejectStats" >> beam.Map(lambda r: {"dropped": {reason_family(r["reason"]): 1}}))
    tuple(stats_parts) | "AllStats" >> beam.Flatten() | "WriteStats" >> WriteStats(s.stats_path)
