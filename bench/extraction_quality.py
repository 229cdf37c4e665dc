"""Extraction quality of `clean.extract` on Zyte's article-extraction benchmark, with Zyte's metric.

    python bench/extraction_quality.py [--data ../shared/data] [--quick] [--json out.json]

Data: ../shared/data/html_extraction/ (181 real news and blog pages with their gold article text).
Metric (the benchmark's own): a text's tokens are its `\\w+` matches; each document becomes a multiset
of token 4-grams; per page, true positives, false positives and false negatives are counted and
normalised by their sum (so long pages weigh no more than short ones), averaged over the pages, and
precision, recall and F1 are computed from the averages. The saved reference outputs in the data
folder score exactly what the data's README says with this code (trafilatura 2.0.0: F1 0.958).

Reported, all measured in the same run:
- `clean.extract` (the stage's extraction) and trafilatura's own settings for comparison;
- each boilerplate rule's worth: F1 with all rules but that one;
- the same figures on two halves of the pages (split by a hash of the page id), and on the gold
  texts themselves how much the rules remove (they should remove next to nothing).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import os
import re
import sys
import time
from collections import Counter

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, REPO)

_TOKEN = re.compile(r"\w+")


def shingles(text: str, n: int = 4) -> Counter:
    tokens = _TOKEN.findall(text or "")
    n = min(len(tokens), n)
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1)) if n else Counter()


def page_counts(gold: str, pred: str) -> tuple[float, float, float]:
    """(tp, fp, fn) of one page, normalised to sum to 1 (0, 0, 0 when both are empty)."""
    g, p = shingles(gold), shingles(pred)
    tp = sum((g & p).values())
    fp = sum((p - g).values())
    fn = sum((g - p).values())
    total = tp + fp + fn
    return (tp / total, fp / total, fn / total) if total else (0.0, 0.0, 0.0)


def score(gold: dict, pred: dict, keys=None) -> dict:
    keys = sorted(gold) if keys is None else keys
    sums = [0.0, 0.0, 0.0]
    for k in keys:
        for i, v in enumerate(page_counts(gold[k], pred.get(k) or "")):
            sums[i] += v
    tp, fp, fn = (s / len(keys) for s in sums)
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return {"precision": p, "recall": r, "f1": 2 * p * r / (p + r) if p + r else 0.0, "pages": len(keys)}


def load(data: str, limit=None):
    root = os.path.join(data, "html_extraction")
    with open(os.path.join(root, "ground-truth.json"), encoding="utf-8") as f:
        truth = json.load(f)
    keys = sorted(truth)[:limit] if limit else sorted(truth)
    pages = {}
    for k in keys:
        with gzip.open(os.path.join(root, "html", f"{k}.html.gz")) as f:
            pages[k] = f.read()
    gold = {k: truth[k]["articleBody"] for k in keys}
    urls = {k: truth[k]["url"] for k in keys}
    refs = {}
    ref_dir = os.path.join(root, "reference_outputs")
    if os.path.isdir(ref_dir):
        for name in sorted(os.listdir(ref_dir)):
            with open(os.path.join(ref_dir, name), encoding="utf-8") as f:
                out = json.load(f).get("output", {})
            refs[name[:-5]] = {k: (out.get(k) or {}).get("articleBody") or "" for k in keys}
    return pages, gold, urls, refs


def halves(keys):
    a = [k for k in keys if int(hashlib.sha256(k.encode()).hexdigest(), 16) % 2 == 0]
    return a, [k for k in keys if k not in set(a)]


def run_trafilatura(pages, urls, **kwargs):
    import trafilatura

    t = time.process_time()
    out = {k: trafilatura.extract(html, url=urls[k], **kwargs) or "" for k, html in pages.items()}
    return out, time.process_time() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default=os.path.join(REPO, "..", "shared", "data"), help="shared data folder")
    ap.add_argument("--quick", action="store_true", help="20 pages, the stage's extraction only (a smoke test)")
    ap.add_argument("--json", help="also write the figures to this JSON file")
    args = ap.parse_args(argv)
    data = os.path.normpath(args.data)
    if not os.path.isfile(os.path.join(data, "html_extraction", "ground-truth.json")):
        print(f"no benchmark data under {data}/html_extraction", file=sys.stderr)
        return 2

    from clean.boilerplate import RULES, clean_lines
    from clean.config import ExtractConfig
    from clean.extraction import extract, extract_page
    import trafilatura

    pages, gold, urls, refs = load(data, 20 if args.quick else None)
    keys = sorted(gold)
    dev, test = halves(keys)
    results: dict = {"pages": len(keys), "trafilatura": trafilatura.__version__, "configs": {}, "rules": {}}

    def report(name, pred, seconds=None, note=""):
        entry = {"all": score(gold, pred, keys), "half_a": score(gold, pred, dev), "half_b": score(gold, pred, test)}
        if seconds is not None:
            entry["pages_per_cpu_s"] = len(keys) / seconds if seconds else None
        results["configs"][name] = entry
        a = entry["all"]
        speed = f"{entry['pages_per_cpu_s']:6.1f} p/s" if seconds else " " * 10
        print(f"{name:44s} P {a['precision']:.4f}  R {a['recall']:.4f}  F1 {a['f1']:.4f}   "
              f"(halves F1 {entry['half_a']['f1']:.4f} / {entry['half_b']['f1']:.4f})  {speed} {note}", flush=True)

    print(f"{len(keys)} pages, trafilatura {trafilatura.__version__}; Zyte's metric (4-gram shingles of \\w+)")
    extract("<html><body><p>warm-up</p></body></html>")  # imports and first-call caches out of the timing
    t = time.process_time()
    stage = {k: extract(html, urls[k]) or "" for k, html in pages.items()}
    report("clean.extract (the stage)", stage, time.process_time() - t)
    if args.quick:
        _write(args.json, results)
        return 0

    # The stage's trafilatura settings without the line rules, kept with titles to replay the rules.
    raw, titles = {}, {}
    t = time.process_time()
    no_rules = ExtractConfig(boilerplate_rules=False)
    for k, html in pages.items():
        r = extract_page(html, urls[k], no_rules)
        raw[k] = r.text if r else ""
    report("  same, without the boilerplate rules", raw, time.process_time() - t)
    from clean.extraction import page_hints
    from trafilatura.utils import load_html

    for k, html in pages.items():
        tree = load_html(html)
        titles[k] = page_hints(tree)["titles"] if tree is not None else []
    fast = ExtractConfig(fast=True)
    t = time.process_time()
    fast_out = {k: (lambda r: r.text if r else "")(extract_page(html, urls[k], fast)) for k, html in pages.items()}
    report("  same, trafilatura fast=True", fast_out, time.process_time() - t)
    recall = ExtractConfig(favor_precision=False)
    t = time.process_time()
    rec_out = {k: (lambda r: r.text if r else "")(extract_page(html, urls[k], recall)) for k, html in pages.items()}
    report("  same, favor_precision=False", rec_out, time.process_time() - t)

    for name, kwargs in (("trafilatura.extract() defaults", {}),
                         ("trafilatura include_comments=False", {"include_comments": False}),
                         ("trafilatura favor_precision=True", {"favor_precision": True}),
                         ("trafilatura favor_recall=True", {"favor_recall": True})):
        out, secs = run_trafilatura(pages, urls, **kwargs)
        report(name, out, secs)
    for name, pred in refs.items():
        report(f"reference_outputs/{name} (saved)", pred)

    print("\neach boilerplate rule's worth: F1 with all rules but that one (the stage: "
          f"{results['configs']['clean.extract (the stage)']['all']['f1']:.4f})")
    for rule in RULES:
        pred = {k: clean_lines(raw[k], titles[k], disable={rule})[0] for k in keys}
        s = score(gold, pred, keys)
        results["rules"][rule] = {"f1_without": s["f1"], "precision_without": s["precision"],
                                  "recall_without": s["recall"]}
        print(f"  without {rule:10s} P {s['precision']:.4f}  R {s['recall']:.4f}  F1 {s['f1']:.4f}")

    total = removed = 0
    by_rule: Counter = Counter()
    for k in keys:
        text = "\n".join(line.strip() for line in gold[k].split("\n") if line.strip())
        kept, rem = clean_lines(text)
        total += len(text)
        removed += len(text) - len(kept)
        by_rule.update(rem)
    results["gold_removed_share"] = removed / total
    print(f"\nrules applied to the gold texts remove {removed / total:.2%} of their characters "
          f"(lines by rule: {dict(by_rule)})")
    _write(args.json, results)
    return 0


def _write(path, results):
    if path:
        with open(path, "w", encoding="utf-8") as f:
            json.dump(results, f, indent=1)


if __name__ == "__main__":
    sys.exit(main())
