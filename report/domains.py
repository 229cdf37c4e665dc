"""Top domains, and how they compare with GPT-2's own top WebText domains.

OpenAI published WebText's 1,000 most frequent domains (openai/gpt-2, domains.txt) as
`<count> <domain>` lines, where the domain is the registered name without its public suffix:
`nytimes` covers www.nytimes.com and mobile.nytimes.com, `bbc` covers bbc.co.uk and bbc.com. To
compare, our hosts are reduced the same way, with tldextract's bundled public suffix list (offline:
it never fetches a newer list).
"""

from __future__ import annotations

import functools
import ipaddress
import os
from typing import Optional

from webtext.errors import InputError


def load_gpt2_domains(path: str) -> list[tuple[str, int]]:
    """[(domain, count)] in the file's order, highest first; a malformed line is an InputError naming it."""
    if not os.path.isfile(path):
        raise InputError(f"{path}: GPT-2 domain list not found (openai/gpt-2's domains.txt, '<count> <domain>' lines)")
    out = []
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            parts = line.split()
            if len(parts) not in (1, 2) or not parts[0].isdigit():
                raise InputError(f"{path}, line {lineno}: expected '<count> <domain>', got {line[:80]!r}")
            # OpenAI's file has one line with a count and no name (hosts tldextract gave no name):
            # it stays in the list's total and ranks, and matches nothing.
            out.append((parts[1].lower() if len(parts) == 2 else "", int(parts[0])))
    if not out:
        raise InputError(f"{path}: no '<count> <domain>' lines")
    out.sort(key=lambda kv: (-kv[1], kv[0]))
    return out


@functools.lru_cache(maxsize=1)
def _extractor():
    import tldextract

    # suffix_list_urls=() and no cache: use the snapshot bundled with tldextract, never the network.
    return tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None)


@functools.lru_cache(maxsize=65536)
def domain_label(host: str) -> str:
    """The name GPT-2's list uses for a host: 'news.bbc.co.uk' -> 'bbc'; IPs and bare names unchanged."""
    host = host.strip().lower().rstrip(".")
    if host.startswith("["):  # [::1]:8000
        host = host[1:].split("]")[0]
    elif host.count(":") == 1:  # 127.0.0.1:8000
        host = host.split(":")[0]
    try:
        ipaddress.ip_address(host)
        return host
    except ValueError:
        pass
    parts = _extractor()(host)
    if not parts.suffix:  # 'localhost', 'miniweb.test': no public suffix, keep the whole name
        return host
    return parts.domain or host


def by_label(counts: dict) -> dict:
    """{host: n} -> {label: n}, summing hosts that share a registered name."""
    out: dict = {}
    for host, n in counts.items():
        label = domain_label(host)
        out[label] = out.get(label, 0) + n
    return out


def compare(ours: dict, total: Optional[int], gpt2: list[tuple[str, int]], top_k: int) -> dict:
    """Our top labels beside GPT-2's ranks and shares, and how much of our corpus GPT-2's list covers.

    ours: {host: documents} (a stage's top-1000 list); total: all documents (for shares), or None to
    use the sum of the list. GPT-2's shares are of its list's total (its top 1,000 only).
    """
    labels = by_label(ours)
    denominator = total if total else sum(labels.values())
    gpt2_rank = {d: (i + 1, n) for i, (d, n) in enumerate(gpt2) if d}
    gpt2_total = sum(n for _, n in gpt2)
    ranked = sorted(labels.items(), key=lambda kv: (-kv[1], kv[0]))
    rows = []
    for i, (label, n) in enumerate(ranked[:top_k], 1):
        rank, count = gpt2_rank.get(label, (None, 0))
        rows.append({"rank": i, "domain": label, "documents": n,
                     "share": n / denominator if denominator else 0.0,
                     "gpt2_rank": rank, "gpt2_share": count / gpt2_total if gpt2_total else 0.0})
    covered = sum(n for label, n in labels.items() if label in gpt2_rank)
    ours_rank = {label: i + 1 for i, (label, _) in enumerate(ranked)}
    gpt2_top = [{"gpt2_rank": i + 1, "domain": d or "(no name)", "gpt2_share": n / gpt2_total if gpt2_total else 0.0,
                 "rank": ours_rank.get(d), "documents": labels.get(d, 0),
                 "share": labels.get(d, 0) / denominator if denominator else 0.0}
                for i, (d, n) in enumerate(gpt2[:top_k])]
    return {
        "rows": rows,
        "gpt2_top": gpt2_top,
        "labels": len(labels),
        "top_k_in_gpt2": sum(1 for r in rows if r["gpt2_rank"] is not None),
        "top_k": len(rows),
        "covered_documents": covered,
        "covered_share": covered / denominator if denominator else 0.0,
        "gpt2_domains": len(gpt2),
    }
