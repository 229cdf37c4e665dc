"""The report's sections, each built from the stages' recorded statistics.

A section asks RunData for the values it draws; whatever is absent (stage not run, key not
recorded, unexpected shape) lands in the section's `needs` and is listed on the page, so a partial
run, or a stage that records less than docs/contracts.md promises, still gives a readable page.
Each builder is a plain function of (RunData, report config) -> Section.
"""

from __future__ import annotations

import http
import json
from typing import Optional

from report import plots
from report.domains import compare, load_gpt2_domains
from report.gather import COUNTS, HISTOGRAM, MAPPING, NUMBER, RECORDS, Missing, Needs, RunData
from report.page import Cards, Plot, Pre, Section, Table, Text, fmt
from webtext.errors import WebtextError
from webtext.stats import bucket_sort_key, sorted_histogram, top_k

# -- number formatting ----------------------------------------------------------------------------


def pct(x: Optional[float], digits: int = 1) -> str:
    if x is None:
        return "\u2013"
    v = 100 * x
    if 0 < abs(v) < 10 ** -digits:  # keep two significant digits of small shares instead of "0.0%"
        return f"{v:.2g}%"
    return f"{v:.{digits}f}%"


def nbytes(n: Optional[float]) -> str:
    if n is None:
        return "\u2013"
    for div, unit in ((1e12, "TB"), (1e9, "GB"), (1e6, "MB"), (1e3, "kB")):
        if n >= div:
            return f"{n / div:.1f} {unit}"
    return f"{n:.0f} B"


def count_unit(n: Optional[float], unit: str) -> str:
    return "\u2013" if n is None else f"{n:,.0f} {unit}"


def seconds(s: Optional[float]) -> str:
    if s is None:
        return "\u2013"
    if s < 60:
        return f"{s:.1f} s"
    if s < 3600:
        return f"{s / 60:.1f} min"
    return f"{s / 3600:.2f} h"


def when(stamp) -> Optional[str]:
    """'2024-05-01T11:30:00+00:00' -> '2024-05-01 11:30 UTC' (other offsets kept as written)."""
    if not isinstance(stamp, str):
        return None
    if stamp.endswith("+00:00") and "T" in stamp:
        return stamp[:16].replace("T", " ") + " UTC"
    return stamp.replace("T", " ")


def reasons_text(dropped: dict, limit: int = 6) -> str:
    if not dropped:
        return "none"
    items = sorted(dropped.items(), key=lambda kv: (-kv[1], kv[0]))
    text = ", ".join(f"{k} {v:,.0f}" for k, v in items[:limit])
    return text + (f", +{len(items) - limit} more" if len(items) > limit else "")


def quantile_bucket(hist: dict, q: float) -> Optional[str]:
    """The log2 bucket holding the q-quantile of a histogram."""
    items = sorted_histogram(hist)
    total = sum(n for _, n in items)
    if total <= 0:
        return None
    seen = 0.0
    for bucket, n in items:
        seen += n
        if seen >= q * total:
            return bucket
    return items[-1][0]


LANGUAGES = {
    "en": "English", "de": "German", "fr": "French", "es": "Spanish", "it": "Italian", "pt": "Portuguese",
    "nl": "Dutch", "sv": "Swedish", "da": "Danish", "no": "Norwegian", "nb": "Norwegian", "fi": "Finnish",
    "pl": "Polish", "cs": "Czech", "sk": "Slovak", "hu": "Hungarian", "ro": "Romanian", "bg": "Bulgarian",
    "ru": "Russian", "uk": "Ukrainian", "el": "Greek", "tr": "Turkish", "ar": "Arabic", "he": "Hebrew",
    "fa": "Persian", "hi": "Hindi", "bn": "Bengali", "ur": "Urdu", "zh": "Chinese", "ja": "Japanese",
    "ko": "Korean", "vi": "Vietnamese", "th": "Thai", "id": "Indonesian", "ms": "Malay", "tl": "Tagalog",
    "ca": "Catalan", "eu": "Basque", "gl": "Galician", "hr": "Croatian", "sr": "Serbian", "sl": "Slovenian",
    "et": "Estonian", "lv": "Latvian", "lt": "Lithuanian", "la": "Latin", "eo": "Esperanto", "af": "Afrikaans",
    "sw": "Swahili", "cy": "Welsh", "ga": "Irish", "is": "Icelandic", "und": "undetermined",
}


# -- the values every section reads the same way ----------------------------------------------------

def stage_counts(run: RunData, stage: str, needs: Optional[Needs]):
    """(in, out, dropped) from a stage's counts, or None (reason in needs)."""
    counts = run.get(stage, "counts", MAPPING, needs)
    if counts is None:
        return None
    n_in, n_out = counts.get("in"), counts.get("out")
    dropped = counts.get("dropped", {})
    if not (NUMBER.test(n_in) and NUMBER.test(n_out) and COUNTS.test(dropped)):
        if needs is not None:
            needs.add(Missing(stage, "counts", 'expected {"in": n, "out": n, "dropped": {reason: n}}'))
        return None
    return n_in, n_out, dropped


def shard_split_tokens(run: RunData, needs: Optional[Needs] = None):
    tokens = run.get("shard", "stats.tokens", COUNTS, needs)
    return tokens


class Report:
    """Builds the sections for one RunData and report config."""

    def __init__(self, run: RunData, cfg):
        self.run = run
        self.cfg = cfg
        self.dpi = cfg.dpi
        self.k = cfg.top_k

    # -- 1 ---------------------------------------------------------------------------------------
    def overview(self) -> Section:
        run = self.run
        s = Section("overview", "At a glance",
                    "What this run has produced so far, stage by stage. Every figure below comes from the "
                    "statistics each stage recorded while it ran; the corpus itself is not reread.")
        crawl = stage_counts(run, "crawl", None)
        clean = stage_counts(run, "clean", None)
        dedupe = stage_counts(run, "dedupe", None)
        tokens = shard_split_tokens(run)
        final_docs = next((c[1] for c in (dedupe, clean) if c), None)
        cards = [
            ("Reddit submissions read", run.get("crawl", "stats.submissions.read", NUMBER), "crawl"),
            ("Unique links", crawl[0] if crawl else None, "karma \u2265 threshold, normalised"),
            ("Pages stored", crawl[1] if crawl else None, "fetched into WARC"),
            ("Documents", final_docs, "after dedupe" if dedupe else ("after clean" if clean else "no text yet")),
            ("Tokens", sum(tokens.values()) if tokens else None, "train + val shards"),
        ]
        val = run.get("train", "stats.final_val_loss", NUMBER)
        if val is not None:
            cards.append(("Final val loss", round(val, 4), "nats per token"))
        elif run.get("train", "stats.final_loss", NUMBER) is not None:
            cards.append(("Final train loss", round(run.get("train", "stats.final_loss", NUMBER), 4), "nats per token"))
        s.add(Cards(cards))
        rows = []
        for name, st in run.stages.items():
            succ = st.success or {}
            counts = stage_counts(run, name, None) if st.done else None
            flow = f"{counts[0]:,.0f} \u2192 {counts[1]:,.0f}" if counts else "\u2013"
            rows.append([name, st.state, when(succ.get("finished_at")), seconds(succ.get("seconds")) if st.done else None,
                         flow, "; ".join(st.notes) or (st.absent_reason() if not st.done else "")])
        columns = ["Stage", "State", "Finished", "Took", "In \u2192 out", "Notes"]
        if not any(r[-1] for r in rows):
            columns, rows = columns[:-1], [r[:-1] for r in rows]
        s.add(Table(columns, rows))
        stale = [n for n, st in run.stages.items() if st.state == "stale"]
        if stale:
            s.add(Text(f"Stale: {', '.join(stale)} ran with a different config or on inputs that have been "
                       "rerun since; `webtext run` would redo them. The figures below show what they recorded.",
                       "warn"))
        s.data = {name: {"state": st.state, "notes": st.notes} for name, st in run.stages.items()}
        s.data["cards"] = {label: value for label, value, _ in cards}
        return s

    # -- 2 ---------------------------------------------------------------------------------------
    def funnel(self) -> Section:
        run = self.run
        s = Section("funnel", "The funnel: what each stage kept and dropped",
                    "Documents in and out of every step, each drop reason, and the volume that survives. "
                    "Every dropped record is in that stage's rejects/ (crawl: failures/) with its reason.")
        needs = s.needs
        steps = []  # see _step

        sub = run.get("crawl", "stats.submissions", MAPPING, needs)
        if sub is not None:
            read, kept = sub.get("read"), sub.get("kept")
            dropped = dict(sub.get("dropped") or {}) if COUNTS.test(sub.get("dropped") or {}) else {}
            bad = sub.get("bad_lines") if NUMBER.test(sub.get("bad_lines")) else 0
            if bad and "bad_lines" not in dropped:
                dropped["bad_lines"] = bad
            if NUMBER.test(read) and NUMBER.test(kept):
                steps.append(_step("Reddit submissions \u2192 kept by the filters", "crawl", "submissions",
                                   "submissions", read, kept, dropped, bad_lines=bad))
            else:
                needs.add(_missing("crawl", "stats.submissions", 'expected {"read": n, "kept": n, ...}'))
            links = run.get("crawl", "stats.links", NUMBER, needs)
            if links is not None and NUMBER.test(kept):
                steps.append(_step("Kept submissions \u2192 unique links", "crawl", "submissions", "links",
                                   kept, links, {}, merged=max(kept - links, 0)))
        crawl = stage_counts(run, "crawl", needs)
        if crawl:
            fetched = run.get("crawl", "stats.fetch.bytes", NUMBER, needs)
            steps.append(_step("Links \u2192 pages fetched and stored", "crawl", "links", "pages", *crawl,
                               size_out=nbytes(fetched) + " fetched" if fetched is not None else None))
        clean = stage_counts(run, "clean", needs)
        if clean:
            b_in = run.get("clean", "stats.bytes_in", NUMBER, needs)
            c_out = run.get("clean", "stats.chars_out", NUMBER, needs)
            steps.append(_step("Pages \u2192 documents (extracted, filtered)", "clean", "pages", "documents", *clean,
                               size_in=nbytes(b_in) + " HTML" if b_in is not None else None,
                               size_out=f"{plots.human(c_out)} chars" if c_out is not None else None))
        dedupe = stage_counts(run, "dedupe", needs)
        if dedupe:
            c_in = run.get("dedupe", "stats.chars_in", NUMBER, needs)
            c_out = run.get("dedupe", "stats.chars_out", NUMBER, needs)
            steps.append(_step("Documents \u2192 unique and decontaminated", "dedupe", "documents", "documents",
                               *dedupe, size_in=f"{plots.human(c_in)} chars" if c_in is not None else None,
                               size_out=f"{plots.human(c_out)} chars" if c_out is not None else None))
        shard = stage_counts(run, "shard", needs)
        tokens = shard_split_tokens(run, needs if shard else None)
        if shard:
            steps.append(_step("Documents \u2192 tokenized into shards", "shard", "documents", "documents", *shard,
                               size_out=f"{plots.human(sum(tokens.values()))} tokens" if tokens else None))
        seen = run.get("train", "stats.tokens", NUMBER, needs)
        if seen is not None and tokens and tokens.get("train"):
            steps.append(_step("Training tokens \u2192 tokens trained on", "train", "tokens", "tokens",
                               tokens["train"], seen, {}, size_out=f"{seen / tokens['train']:.2f} epochs"))
        if not steps:
            s.data = {"steps": []}
            return s

        rows = []
        for st in steps:
            kept = st["out"] / st["in"] if st["in"] else None
            dropped_text = reasons_text(st["dropped"], 4) if st["dropped"] else (
                f"{st['merged']:,.0f} merged (same URL)" if st.get("merged") else "none")
            volume = " \u2192 ".join(v for v in (st.get("size_in"), st.get("size_out")) if v) or None
            rows.append([f"{st['stage']}: {st['step']}", count_unit(st["in"], st["in_unit"]),
                         count_unit(st["out"], st["unit"]), pct(kept) if st["unit"] != "tokens" else "\u2013",
                         dropped_text, volume])
        s.add(Table(["Step", "In", "Out", "Kept", "Dropped, by reason", "Volume (in \u2192 out)"], rows,
                    text_columns=(5,), note="Volume: bytes of HTML fetched, characters of text, tokens."))

        # The bars: what went into the first step, then what each step kept.
        first = steps[0]
        labels = [{"submissions": "Reddit submissions read", "links": "links to fetch", "pages": "pages read"}.get(
            first["in_unit"], f"{first['in_unit']} into {first['stage']}")]
        values, units = [first["in"]], [first["in_unit"]]
        names = {"submissions": "submissions kept", "links": "unique links", "pages": "pages stored"}
        for st in steps:
            if st["stage"] == "train":
                continue
            labels.append(names.get(st["unit"], f"{st['unit']} after {st['stage']}"))
            values.append(st["out"])
            units.append(st["unit"])
        if tokens:
            labels.append("tokens in shards")
            values.append(sum(tokens.values()))
            units.append("tokens")
        s.add(Plot("Records through the pipeline", plots.funnel(
            labels, values, units, title="Records through the pipeline", dpi=self.dpi),
            "Each bar is what one step kept (log scale: each gridline is 10\u00d7)."))

        # Every reason, with its share of that stage's input.
        detail = []
        for st in steps:
            for reason, n in sorted(st["dropped"].items(), key=lambda kv: (-kv[1], kv[0])):
                detail.append([st["stage"], st["step"].split(" \u2192 ")[0], reason, n,
                               pct(n / st["in"] if st["in"] else None, 2)])
        if detail:
            s.add(Table(["Stage", "From", "Reason", "Dropped", "Share of step input"], detail,
                        caption="Every drop reason"))

        # Nothing lost silently: out + dropped must equal in, and each stage must read what the one before wrote.
        warnings = []
        for st in steps:
            if st["stage"] == "train" or st.get("merged") is not None:
                continue  # tokens trained on need not equal tokens in; merged links are not drops
            missing = st["in"] - st["out"] - sum(st["dropped"].values())
            if missing and missing != -st.get("bad_lines", 0):  # `read` may or may not count unparseable lines
                warnings.append(f"{st['stage']} ({st['step']}): {st['in']:,.0f} in, {st['out']:,.0f} out and "
                                f"{sum(st['dropped'].values()):,.0f} dropped: {missing:,.0f} records are not "
                                "accounted for.")
        chain = [("crawl", "clean", crawl, clean), ("clean", "dedupe", clean, dedupe),
                 ("dedupe", "shard", dedupe, shard)]
        for up, down, a, b in chain:
            if a and b and a[1] != b[0]:
                warnings.append(f"{down} read {b[0]:,.0f} records but {up} wrote {a[1]:,.0f}: "
                                f"the two outputs are not from the same run, or records were lost in between.")
        for w in warnings:
            s.add(Text(w, "warn"))
        s.data = {"steps": steps, "warnings": warnings}
        return s

    # -- 3 ---------------------------------------------------------------------------------------
    def crawl(self) -> Section:
        run = self.run
        s = Section("crawl", "Crawl outcomes",
                    "How fetching the links went: the HTTP status of every response and why each page that was "
                    "not stored failed (robots.txt, timeouts, non-HTML content, too large, DNS, ...).")
        needs = s.needs
        counts = stage_counts(run, "crawl", needs)
        status = run.get("crawl", "stats.fetch.status", COUNTS, needs)
        failures = run.get("crawl", "stats.fetch.failures", COUNTS, needs, quiet=counts is not None)
        if failures is None and counts:
            failures = counts[2]  # counts.dropped are the failure reasons too
        fetched = run.get("crawl", "stats.fetch.bytes", NUMBER, needs)
        if counts:
            stored = pct(counts[1] / counts[0]) + " of links" if counts[0] else ""
            s.add(Cards([("Links", counts[0], "to fetch"), ("Pages stored", counts[1], stored),
                         ("Not stored", counts[0] - counts[1], "see reasons below"),
                         ("Downloaded", nbytes(fetched) if fetched is not None else None, "response bodies")]))
        if status:
            items = sorted(status.items(), key=lambda kv: (_status_sort(kv[0])))
            labels = [_status_label(code) for code, _ in items]
            values = [n for _, n in items]
            colors = [_status_color(code) for code, _ in items]
            log = max(values) > 50 * max(min(values), 1)
            s.add(Plot("HTTP status of responses", plots.barh(
                labels, values, title="HTTP status of responses", xlabel="responses" + (" (log scale)" if log else ""),
                dpi=self.dpi, colors=colors, log=log),
                "Green: 2xx, blue: 3xx (redirects that were not followed to a page), orange: 4xx, red: 5xx."))
            total = sum(values)
            s.add(Table(["Status", "Responses", "Share"], [[lab, n, pct(n / total)] for lab, n in zip(labels, values)],
                        text_columns=(0,)))
        if failures:
            items = top_k(failures, self.k)
            total = counts[0] if counts else None
            s.add(Plot("Why pages were not stored", plots.barh(
                [k for k, _ in items], [v for _, v in items], title="Why pages were not stored",
                xlabel="links", dpi=self.dpi, color=plots.PALETTE[3])))
            s.add(Table(["Reason", "Links", "Share of links"],
                        [[k, v, pct(v / total) if total else None] for k, v in items],
                        note=f"{len(failures) - len(items)} more reasons not shown" if len(failures) > len(items) else ""))
        elif counts and not counts[2]:
            s.add(Text("Every link was fetched and stored."))
        s.data = {"status": status, "failures": failures, "bytes": fetched,
                  "stored_share": counts[1] / counts[0] if counts and counts[0] else None}
        return s

    # -- 4 ---------------------------------------------------------------------------------------
    def sources(self) -> Section:
        run = self.run
        s = Section("sources", "Reddit sources: karma, subreddits, dates",
                    "Where the links come from: the karma of the submissions that carried them (WebText kept "
                    "links with at least 3), the subreddits they were posted in, and when.")
        needs = s.needs
        scores = run.get("crawl", "stats.scores", HISTOGRAM, needs)
        if scores:
            items = sorted_histogram(scores)
            s.add(Plot("Karma of linked submissions", plots.bars(
                [plots.bucket_label(k) for k, _ in items], {"links": [v for _, v in items]},
                title="Karma of linked submissions", xlabel="submission score (karma), log2 buckets", ylabel="links",
                dpi=self.dpi),
                "A link posted several times counts under the score the crawl's karma rule gives it."))
        subs = run.get("crawl", "stats.subreddits", COUNTS, needs)
        if subs:
            items = top_k(subs, self.k)
            s.add(Plot(f"Top {len(items)} subreddits by links", plots.barh(
                [f"r/{k}" for k, _ in items], [v for _, v in items], title=f"Top {len(items)} subreddits by links",
                xlabel="links", dpi=self.dpi)))
        months = run.get("crawl", "stats.created_month", COUNTS, needs)
        month_rows = []
        if months:
            parsed = sorted((_month(k), v, k) for k, v in months.items() if _month(k) is not None)
            bad = [k for k in months if _month(k) is None]
            if parsed:
                xs, ys = _fill_months(parsed)
                s.add(Plot("Links by month of their first submission", plots.timeline(
                    xs, ys, title="Links by month of their first submission", xlabel="month of submission (UTC)",
                    ylabel="links", dpi=self.dpi)))
                month_rows = [[k, v] for _, v, k in parsed]
                s.add(Text(f"{len(parsed)} months from {parsed[0][2]} to {parsed[-1][2]}; busiest "
                           f"{max(parsed, key=lambda p: p[1])[2]} with {max(p[1] for p in parsed):,.0f} links.", "note"))
            if bad:
                s.add(Text(f"{len(bad)} month keys are not YYYY-MM and were left out: {', '.join(bad[:5])}", "warn"))
        s.data = {"scores": scores, "subreddits": top_k(subs, self.k) if subs else None, "months": month_rows or None}
        return s

    # -- 5 ---------------------------------------------------------------------------------------
    def domains(self) -> Section:
        run = self.run
        s = Section("domains", "Top domains, and GPT-2's",
                    "The sites the corpus comes from. GPT-2's paper names its own top domains "
                    "(openai/gpt-2's domains.txt); where that list is configured, the corpus is compared with it "
                    "by registered name (bbc.co.uk and bbc.com are both 'bbc').")
        needs = s.needs
        sources = [("documents kept", "clean", "stats.domains"), ("pages stored", "crawl", "stats.domains"),
                   ("links", "crawl", "stats.link_domains")]
        columns = {}
        for label, stage, key in sources:
            value = run.get(stage, key, COUNTS, needs)
            if value:
                columns[label] = value
        s.data = {}
        if columns:
            main_label = next(iter(columns))
            main = columns[main_label]
            totals = {"documents kept": (stage_counts(run, "clean", None) or (None, None))[1],
                      "pages stored": (stage_counts(run, "crawl", None) or (None, None))[1],
                      "links": (stage_counts(run, "crawl", None) or (None, None))[0]}
            items = top_k(main, self.k)
            total = totals.get(main_label) or sum(main.values())
            rows = []
            for i, (host, n) in enumerate(items, 1):
                rows.append([i, host] + [columns[c].get(host) for c in columns] + [pct(n / total if total else None)])
            bars = items[:15]
            title = f"Top {len(bars)} domains by {main_label}"
            s.add(Plot(title, plots.barh([h for h, _ in bars], [n / total if total else 0 for _, n in bars],
                                         title=title, xlabel=f"share of {main_label}", dpi=self.dpi, percent=True)))
            s.add(Table(["#", "Domain"] + [c.capitalize() for c in columns] + [f"Share of {main_label}"], rows,
                        caption=f"Top {len(items)} domains by {main_label}",
                        note="Each stage records its top 1,000 domains; shares are of all its records."))
            s.data["top"] = {"by": main_label, "rows": [{"domain": h, "count": n} for h, n in items]}
            self._gpt2(s, main, total, main_label)
        elif self.cfg.gpt2_domains:
            s.add(Text("The comparison with GPT-2's domains needs the corpus's domain counts (above).", "note"))
        return s

    def _gpt2(self, s: Section, ours: dict, total: Optional[float], label: str) -> None:
        path = self.cfg.gpt2_domains
        if not path:
            s.add(Text("Set report.gpt2_domains to GPT-2's domains.txt (e.g. ../shared/data/reddit/gpt2_domains.txt) "
                       "to compare these domains with WebText's own.", "note"))
            return
        try:
            gpt2 = load_gpt2_domains(path)
        except WebtextError as e:
            s.add(Text(f"No comparison with GPT-2's domains: {e}", "warn"))
            s.data["gpt2_error"] = str(e)
            return
        cmp = compare(ours, total, gpt2, self.k)
        s.add(Cards([
            (f"Our top {cmp['top_k']} in GPT-2's list", f"{cmp['top_k_in_gpt2']} of {cmp['top_k']}",
             f"GPT-2's list has its top {cmp['gpt2_domains']:,}"),
            ("From GPT-2's domains", pct(cmp["covered_share"]), f"of {label} come from a domain on GPT-2's list"),
            ("Registered names", cmp["labels"], f"in the recorded top domains by {label}"),
        ]))
        rows = [[r["rank"], r["domain"], pct(r["share"]), r["gpt2_rank"], pct(r["gpt2_share"]) if r["gpt2_rank"] else None]
                for r in cmp["rows"]]
        s.add(Table(["#", "Registered name", f"Share of our {label}", "GPT-2 rank", "GPT-2 share"], rows,
                    caption="Our top registered names beside GPT-2's ranks",
                    note="GPT-2's shares are of its list's total (its top 1,000 domains only)."))
        top = cmp["gpt2_top"][: min(self.k, 20)]
        s.add(Plot("GPT-2's top domains: their share in WebText and here", plots.bars(
            [r["domain"] for r in top], {"GPT-2 (WebText)": [r["gpt2_share"] for r in top],
                                         f"this corpus ({label})": [r["share"] for r in top]},
            title="GPT-2's top domains: their share in WebText and here",
            xlabel="registered domain name (GPT-2's rank order)", ylabel="share", percent=True, dpi=self.dpi, rotate=45),
            "Blue: each domain's share of GPT-2's top-1,000 list; orange: its share of this corpus. A corpus "
            "of local or synthetic pages (like the demo) shares none of them."))
        s.data["gpt2"] = cmp

    # -- 6 ---------------------------------------------------------------------------------------
    def lengths(self) -> Section:
        run = self.run
        s = Section("lengths", "Document lengths",
                    "How long the kept documents are, in characters, words and tokens, in log2 buckets: "
                    "'1k\u20132k' holds documents of 1,024 to 2,047 characters.")
        needs = s.needs
        chars_clean = run.get("clean", "stats.chars", HISTOGRAM, needs)
        chars_dedupe = run.get("dedupe", "stats.chars", HISTOGRAM, needs)
        words = run.get("clean", "stats.words", HISTOGRAM, needs)
        toks = run.get("shard", "stats.doc_tokens", HISTOGRAM, needs)
        series = {}
        if chars_clean:
            series["after clean"] = chars_clean
        if chars_dedupe:
            series["after dedupe"] = chars_dedupe
        table = []
        if series:
            buckets = sorted(set().union(*[set(h) for h in series.values()]), key=bucket_sort_key)
            s.add(Plot("Characters per document", plots.bars(
                [plots.bucket_label(b) for b in buckets], {k: [h.get(b, 0) for b in buckets] for k, h in series.items()},
                title="Characters per document", xlabel="characters (log2 buckets)", ylabel="documents", dpi=self.dpi)))
            for k, h in series.items():
                table.append([f"characters, {k}"] + _hist_summary(h))
        if words:
            items = sorted_histogram(words)
            s.add(Plot("Words per document (after clean)", plots.bars(
                [plots.bucket_label(k) for k, _ in items], {"documents": [v for _, v in items]},
                title="Words per document (after clean)", xlabel="words (log2 buckets)", ylabel="documents",
                dpi=self.dpi, colors=[plots.PALETTE[4]])))
            table.append(["words, after clean"] + _hist_summary(words))
        if toks:
            items = sorted_histogram(toks)
            s.add(Plot("Tokens per document (in shards)", plots.bars(
                [plots.bucket_label(k) for k, _ in items], {"documents": [v for _, v in items]},
                title="Tokens per document (in shards)", xlabel="tokens (log2 buckets)", ylabel="documents",
                dpi=self.dpi, colors=[plots.PALETTE[2]])))
            table.append(["tokens, in shards"] + _hist_summary(toks))
        if table:
            s.add(Table(["Length", "Documents", "10th percentile", "Median", "90th percentile"], table,
                        note="Percentiles are the log2 bucket that holds them ('1k\u20132k': 1,024 to 2,047)."))
        s.data = {"chars_clean": chars_clean, "chars_dedupe": chars_dedupe, "words": words, "tokens": toks}
        return s

    # -- 7 ---------------------------------------------------------------------------------------
    def languages(self) -> Section:
        run = self.run
        s = Section("languages", "Languages",
                    "The language identified for every extracted page, before the language filter: "
                    "what the filter saw and how much of it was not the configured language.")
        langs = run.get("clean", "stats.languages", COUNTS, s.needs)
        if langs:
            total = sum(langs.values())
            items = top_k(langs, self.k)
            names = [f"{LANGUAGES.get(k, k)} ({k})" if k in LANGUAGES else k for k, _ in items]
            s.add(Plot("Language of extracted pages", plots.barh(
                names, [v / total for _, v in items], title="Language of extracted pages",
                xlabel="share of extracted pages", dpi=self.dpi, percent=True)))
            rows = [[name, v, pct(v / total)] for name, (_, v) in zip(names, items)]
            s.add(Table(["Language", "Pages", "Share"], rows,
                        note=f"{len(langs) - len(items)} more languages not shown" if len(langs) > len(items) else ""))
            s.data = {"languages": langs, "total": total}
        return s

    # -- 8 ---------------------------------------------------------------------------------------
    def quality(self) -> Section:
        run = self.run
        s = Section("quality", "Extraction and quality filters",
                    "Why clean dropped pages: extraction failures, the language filter, Wikipedia and blocklisted "
                    "hosts, and each quality rule (a rule that dropped nothing is listed with 0).")
        needs = s.needs
        counts = stage_counts(run, "clean", needs)
        filters = run.get("clean", "stats.filters", COUNTS, needs)
        reasons = dict(counts[2]) if counts else {}
        for rule, n in (filters or {}).items():
            reasons.setdefault(rule, n)
        if reasons:
            total = counts[0] if counts else None
            items = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))
            shown = [kv for kv in items if kv[1] > 0][: self.k]
            if shown:
                s.add(Plot("Why clean dropped pages", plots.barh(
                    [k for k, _ in shown], [v for _, v in shown], title="Why clean dropped pages", xlabel="pages",
                    dpi=self.dpi, color=plots.PALETTE[1])))
            rows = [[k, _drop_kind(k, filters), v, pct(v / total if total else None, 2)] for k, v in items]
            s.add(Table(["Reason", "Kind", "Pages dropped", "Share of pages in"], rows))
            if counts:
                share = pct(counts[1] / counts[0] if counts[0] else None)
                s.add(Text(f"clean kept {counts[1]:,.0f} of {counts[0]:,.0f} pages ({share}).", "note"))
        s.data = {"dropped": reasons, "filters": filters}
        return s

    # -- 9 ---------------------------------------------------------------------------------------
    def duplicates(self) -> Section:
        run = self.run
        s = Section("duplicates", "Duplicates",
                    "Exact duplicates (same text hash) and near-duplicates (MinHash + LSH): one keeper per "
                    "cluster, the others removed, each to rejects/ naming its keeper.")
        needs = s.needs
        exact = run.get("dedupe", "stats.exact_duplicates", NUMBER, needs)
        near = run.get("dedupe", "stats.near_duplicates", NUMBER, needs)
        rate = run.get("dedupe", "stats.duplicate_rate", NUMBER, needs)
        sizes = run.get("dedupe", "stats.cluster_sizes", COUNTS, needs)
        counts = stage_counts(run, "dedupe", None)
        cards = []
        if exact is not None:
            cards.append(("Exact duplicates", exact, "documents removed"))
        if near is not None:
            cards.append(("Near duplicates", near, "documents removed"))
        if rate is not None:
            cards.append(("Duplicate rate", pct(rate), "of documents in"))
        if counts:
            cards.append(("Documents in", counts[0], "from clean"))
        if cards:
            s.add(Cards(cards))
        if sizes:
            try:
                items = sorted(sizes.items(), key=lambda kv: bucket_sort_key(kv[0]))
            except ValueError:
                items = None
                s.needs.add(_missing("dedupe", "stats.cluster_sizes", "keys are not sizes ({size: clusters})"))
            if items:
                s.add(Plot("Duplicate clusters by size", plots.bars(
                    [plots.bucket_label(k) for k, _ in items], {"clusters": [v for _, v in items]},
                    title="Duplicate clusters by size", xlabel="documents in the cluster",
                    ylabel="clusters (log scale)", logy=True, dpi=self.dpi,
                    colors=[plots.PALETTE[4]])))
                rows = []
                for k, v in items:
                    exact_size = k.isdigit()
                    rows.append([k, v, v * int(k) if exact_size else None, v * (int(k) - 1) if exact_size else None])
                s.add(Table(["Cluster size", "Clusters", "Documents in them", "Removed (all but the keeper)"], rows))
                s.data["largest_cluster"] = items[-1][0]
        s.data.update({"exact_duplicates": exact, "near_duplicates": near, "duplicate_rate": rate, "cluster_sizes": sizes})
        return s

    # -- 10 --------------------------------------------------------------------------------------
    def contamination(self) -> Section:
        run = self.run
        s = Section("contamination", "Benchmark contamination",
                    "How many of each benchmark's test n-grams appear in the corpus before and after "
                    "decontamination, in the layout of GPT-2's Table 6 (overlap of test-set 8-grams with training "
                    "sets), and how many documents were removed or cut to get there.")
        needs = s.needs
        table = run.get("dedupe", "stats.contamination", MAPPING, needs, quiet=True)
        source = "stats.contamination"
        if table is None:
            f = run.file("dedupe/contamination.json", None)
            if isinstance(f, dict):
                f = f.get("benchmarks", f)
            if isinstance(f, dict) and f and all(isinstance(v, dict) for v in f.values()):
                table, source = f, "contamination.json"
            else:
                run.get("dedupe", "stats.contamination", MAPPING, needs)  # record why
        if table is not None and not table:
            f = run.file("dedupe/contamination.json")
            note = f.get("note") if isinstance(f, dict) else None
            s.add(Text("No benchmark was checked for contamination" + (f": {note}." if note else
                       " (dedupe recorded an empty table)."), "note"))
        if table:
            names = sorted(table)
            fields = [("n-gram length", "ngram", fmt), ("overlap before", "overlap_before", lambda v: pct(v, 2)),
                      ("overlap after", "overlap_after", lambda v: pct(v, 2)), ("documents removed", "docs_removed", fmt),
                      ("documents cut", "docs_cut", fmt)]
            rows = []
            for label, key, f in fields:
                rows.append([label] + [f(table[b].get(key)) if NUMBER.test(table[b].get(key)) else None for b in names])
            s.add(Table(["Benchmark"] + names, rows, caption="Share of each benchmark's test n-grams found in the corpus",
                        note=f"From dedupe's {source}."))
            before = [table[b].get("overlap_before") for b in names]
            after = [table[b].get("overlap_after") for b in names]
            if all(NUMBER.test(v) for v in before + after):
                s.add(Plot("Benchmark n-gram overlap with the corpus", plots.bars(
                    names, {"before decontamination": before, "after": after},
                    title="Benchmark n-gram overlap with the corpus", xlabel="benchmark",
                    ylabel="test n-grams found in corpus", percent=True, dpi=self.dpi,
                    colors=[plots.PALETTE[3], plots.PALETTE[2]])))
            s.data = {"benchmarks": table, "source": source}
        return s

    # -- 11 --------------------------------------------------------------------------------------
    def tokens(self) -> Section:
        run = self.run
        s = Section("tokens", "Tokens, splits and shards",
                    "The tokenized corpus: tokens and documents per split (split by document, so no document "
                    "is in both), each llm.c shard, and the tokenizer that made them.")
        needs = s.needs
        tokens = run.get("shard", "stats.tokens", COUNTS, needs)
        docs = run.get("shard", "stats.documents", COUNTS, needs)
        shards = run.get("shard", "stats.shards", RECORDS, needs, quiet=True)
        source = "stats.shards"
        if shards is None:
            manifest = run.file("shard/manifest.json", None)
            cand = manifest.get("shards") if isinstance(manifest, dict) else manifest
            if RECORDS.test(cand) and cand:
                shards, source = cand, "manifest.json"
            else:
                run.get("shard", "stats.shards", RECORDS, needs)
        vocab = run.get("shard", "stats.vocab_size", NUMBER, needs)
        tok = run.get("shard", "stats.tokenizer", MAPPING, needs)
        if tokens:
            total = sum(tokens.values())
            rows = []
            for split in sorted(tokens, key=lambda x: (x != "train", x)):
                d = docs.get(split) if docs else None
                rows.append([split, d, tokens[split], f"{tokens[split] / d:,.1f}" if d else None,
                             pct(tokens[split] / total if total else None)])
            rows.append(["total", sum(docs.values()) if docs else None, total,
                         f"{total / sum(docs.values()):,.1f}" if docs and sum(docs.values()) else None, "100.0%"])
            s.add(Table(["Split", "Documents", "Tokens", "Tokens per document", "Share of tokens"], rows))
        cards = []
        if vocab is not None:
            cards.append(("Vocabulary", int(vocab), "tokens"))
        if tok:
            cards.append(("Tokenizer", str(tok.get("kind", "?")), f"sha256 {str(tok.get('sha256', ''))[:12]}"))
        chars = run.get("dedupe", "stats.chars_out", NUMBER)
        if chars and tokens and sum(tokens.values()):
            cards.append(("Characters per token", f"{chars / sum(tokens.values()):.2f}", "corpus chars / tokens"))
        if cards:
            s.add(Cards(cards))
        if shards:
            good = [r for r in shards if NUMBER.test(r.get("tokens"))]
            if good:
                names = [str(r.get("name", f"#{i}")) for i, r in enumerate(good)]
                s.add(Plot("Tokens per shard", plots.shard_bars(
                    names, [str(r.get("split", "?")) for r in good], [r["tokens"] for r in good], dpi=self.dpi)))
            limit = 200
            rows = [[r.get("name"), r.get("split"), r.get("documents"), r.get("tokens")] for r in shards[:limit]]
            more = f"{len(shards) - limit} more shards not shown; all are in stats.json. " if len(shards) > limit else ""
            s.add(Table(["Shard", "Split", "Documents", "Tokens"], rows, note=more + f"From shard's {source}."))
        s.data = {"tokens": tokens, "documents": docs, "shards": shards, "vocab_size": vocab, "tokenizer": tok}
        return s

    # -- 12 --------------------------------------------------------------------------------------
    def training(self) -> Section:
        run = self.run
        s = Section("training", "Training",
                    "The GPT-2 trained on these shards: loss on the training and validation tokens, learning "
                    "rate and throughput over the steps, from train/log.jsonl.")
        needs = s.needs
        stats = run.get("train", "stats", MAPPING, needs)
        cards = []
        if stats is not None:
            for label, key, detail in (("Steps", "steps", ""), ("Tokens trained", "tokens", ""),
                                       ("Parameters", "params", ""), ("Final train loss", "final_loss", "nats per token"),
                                       ("Final val loss", "final_val_loss", "nats per token"),
                                       ("Tokens per second", "tokens_per_s", "mean")):
                v = run.get("train", f"stats.{key}", NUMBER, needs)
                if v is not None:
                    cards.append((label, round(v, 4) if isinstance(v, float) else v, detail))
            split = (run.get("shard", "stats.tokens", COUNTS) or {}).get("train")
            seen = stats.get("tokens")
            if NUMBER.test(seen) and split:
                cards.append(("Epochs", f"{seen / split:.2f}", "over the train split"))
        if cards:
            s.add(Cards(cards))
        log = run.train_log
        if run.done("train") and log is None:
            needs.add(Missing("train", "log.jsonl", run.train_log_problem or "not read"))
        data = {}
        if log is not None:
            if log.bad_lines:
                s.add(Text(f"{log.bad_lines} lines of train/log.jsonl are not JSON objects and were skipped.", "warn"))
            m = self.cfg.max_curve_points
            lx, ly = _downsample(*log.series("loss"), m)
            vx, vy = _downsample(*log.series("val_loss"), m)
            curves = []
            if lx:
                curves.append({"name": "train loss", "x": lx, "y": ly})
            if vx:
                curves.append({"name": "validation loss", "x": vx, "y": vy, "marker": "o" if len(vx) <= 60 else None,
                               "color": plots.PALETTE[1]})
            if curves:
                averaged = max(len(log.series("loss")[0]), len(log.series("val_loss")[0])) > m
                s.add(Plot("Loss over training", plots.lines(curves, title="Loss over training", xlabel="step",
                                               ylabel="cross-entropy (nats per token)", dpi=self.dpi),
                           f"{len(log.rows):,} logged lines"
                           + (f"; each curve averaged into {m} points" if averaged else "")))
            else:
                needs.add(_missing("train", "log.jsonl", "no line has a numeric 'loss' or 'val_loss'"))
            other_curves = (("lr", "Learning rate schedule", "learning rate", plots.PALETTE[4]),
                            ("tokens_per_s", "Throughput", "tokens per second", plots.PALETTE[2]),
                            ("grad_norm", "Gradient norm (before clipping)", "L2 norm", plots.PALETTE[5]))
            for key, title, ylabel, color in other_curves:
                x, y = _downsample(*log.series(key), m)
                if x:
                    s.add(Plot(title, plots.lines([{"name": key, "x": x, "y": y, "color": color}], title=title,
                                                  xlabel="step", ylabel=ylabel, dpi=self.dpi, height=2.7)))
                elif key != "grad_norm":
                    needs.add(_missing("train", f"log.jsonl {key}", "no logged line has it"))
            if log.last_sample:
                s.add(Pre(log.last_sample[:4000], summary=f"Sample generated at step {log.last_sample_step}"
                          if log.last_sample_step is not None else "Last generated sample"))
            data = {"logged_lines": len(log.rows), "bad_lines": log.bad_lines,
                    "loss": {"step": lx, "value": ly}, "val_loss": {"step": vx, "value": vy}}
        s.data = {"stats": stats, "log": data}
        return s

    # -- 13 --------------------------------------------------------------------------------------
    def reproduce(self) -> Section:
        run = self.run
        s = Section("reproduce", "Reproducing this run",
                    "Each stage's fingerprint (a hash of its config block, input files and upstream outputs) "
                    "and run id, and the config: rerunning `webtext run` with it redoes exactly the stages "
                    "whose fingerprint changed.")
        rows = []
        for name, st in run.stages.items():
            if not st.done:
                rows.append([name, st.state, None, None, None, None, st.absent_reason()])
                continue
            succ = st.success
            upstream = succ.get("upstream") or {}
            reads = ", ".join(f"{k} run {str(v).rsplit('/', 1)[-1]}" for k, v in upstream.items() if v) \
                if isinstance(upstream, dict) else ""
            rows.append([name, st.state, succ.get("fingerprint"), succ.get("run_id"), succ.get("webtext_version"),
                         seconds(succ.get("seconds")), "; ".join(st.notes) or reads or "\u2013"])
        s.add(Table(["Stage", "State", "Fingerprint", "Run id", "webtext", "Took", "Read / notes"], rows,
                    text_columns=(0, 1, 2, 3, 4)))
        if run.config:
            import yaml

            text = yaml.safe_dump(run.config, sort_keys=False, default_flow_style=False, width=110)
            s.add(Pre(text, summary=f"The pipeline config, as loaded with defaults filled in"
                      + (f" ({run.config_file})" if run.config_file else "")))
        for name, st in run.stages.items():
            if st.done and st.notes and isinstance(st.success.get("config"), dict):
                import yaml

                s.add(Pre(yaml.safe_dump({name: st.success["config"]}, sort_keys=False, width=110),
                          summary=f"The {name} block it actually ran with (differs from the config above)"))
        opts = {n: st.success.get("options") for n, st in run.stages.items() if st.done and st.success.get("options")}
        if opts:
            s.add(Pre(json.dumps(opts, indent=2), summary="Command-line options the stages ran with"))
        s.data = {name: ({k: st.success.get(k) for k in ("fingerprint", "run_id", "webtext_version", "started_at",
                                                           "finished_at", "seconds", "upstream", "options")}
                         if st.done else None) for name, st in run.stages.items()}
        return s

    def sections(self) -> list:
        return [self.overview, self.funnel, self.crawl, self.sources, self.domains, self.lengths, self.languages,
                self.quality, self.duplicates, self.contamination, self.tokens, self.training, self.reproduce]


# -- small helpers ----------------------------------------------------------------------------------

def _step(step: str, stage: str, in_unit: str, unit: str, n_in, n_out, dropped: dict, **extra) -> dict:
    """One row of the funnel: a step of a stage, its records in and out (with units) and drops by reason."""
    return {"step": step, "stage": stage, "in_unit": in_unit, "unit": unit, "in": n_in, "out": n_out,
            "dropped": dropped, **extra}


def _drop_kind(reason: str, filters: Optional[dict]) -> str:
    """What kind of filter a clean drop reason is, for the quality table."""
    if reason in ("wikipedia", "blocked_host"):
        return "Wikipedia / blocked host"
    if reason == "lang":
        return "language"
    if reason == "duplicate_id":
        return "duplicate"
    if filters and reason in filters:
        return "quality rule"
    return "response / extraction"


def _missing(stage, key, why):
    return Missing(stage, key, why)


def _hist_summary(h: dict) -> list:
    return [sum(h.values())] + [plots.bucket_label(quantile_bucket(h, q) or "\u2013") for q in (0.1, 0.5, 0.9)]


def _status_sort(code: str):
    return (0, int(code)) if code.isdigit() else (1, code)


def _status_label(code: str) -> str:
    if code.isdigit():
        try:
            return f"{code} {http.HTTPStatus(int(code)).phrase}"
        except ValueError:
            return code
    return code


def _status_color(code: str) -> str:
    return {"2": "#55a868", "3": "#3b6ea8", "4": "#e07b39", "5": "#c44e52"}.get(code[:1], "#8c8c8c")


def _month(key: str) -> Optional[float]:
    try:
        year, month = key.split("-")
        y, m = int(year), int(month)
    except ValueError:
        return None
    if not (1 <= m <= 12 and 1900 < y < 2200):
        return None
    return y + (m - 1) / 12


def _fill_months(parsed: list) -> tuple[list, list]:
    """Per-month bars with the empty months between the first and the last as zeros."""
    values = {round(x * 12): v for x, v, _ in parsed}
    lo, hi = min(values), max(values)
    xs = [i / 12 for i in range(lo, hi + 1)]
    ys = [values.get(i, 0) for i in range(lo, hi + 1)]
    return xs, ys


def _downsample(xs: list, ys: list, limit: int) -> tuple[list, list]:
    """At most `limit` points: consecutive points averaged in equal-sized buckets (keeps the trend, drops noise)."""
    n = len(xs)
    if n <= limit:
        return list(xs), list(ys)
    out_x, out_y = [], []
    for i in range(limit):
        a, b = i * n // limit, (i + 1) * n // limit
        if b > a:
            out_x.append(sum(xs[a:b]) / (b - a))
            out_y.append(sum(ys[a:b]) / (b - a))
    return out_x, out_y
