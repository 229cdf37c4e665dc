"""The report built from realistic stage records: complete runs, partial runs, odd records, the CLI."""

import json
import os
import re

import pytest
import yaml
from report_fixtures import SECTIONS, build, full_report_once
from synthetic_run import STAGES, write_run

from report.build import write_report
from report.check import check_page, page_summary
from report.config import Config
from report.gather import gather
from report.sections import Report


@pytest.fixture(scope="module")
def full_report_dir(tmp_path_factory):
    return full_report_once(tmp_path_factory)


@pytest.fixture(scope="module")
def full_report(full_report_dir):
    return full_report_dir[1]


def test_quality_table_names_each_reason_s_kind_and_lists_filters_that_dropped_nothing(full_report):
    _, html, _, _ = full_report
    section = html[html.index('id="quality"'):]
    section = section[:section.index("</section>")]
    rows = {}
    for row in re.findall(r"<tr>(.*?)</tr>", section, re.S):
        cells = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)]
        if cells:
            rows[cells[0]] = cells[1:]
    assert rows["wikipedia"][0] == rows["blocked_host"][0] == "Wikipedia / blocked host"
    assert rows["lang"][0] == "language"
    assert rows["too_short"][0] == rows["dup_ngrams"][0] == "quality rule"
    assert rows["extract_failed"][0] == "response / extraction"
    assert rows["too_long"][:2] == ["quality rule", "0"] and rows["blocked_host"][1] == "0"


def test_full_run_every_section_complete_and_page_whole(full_report):
    summary, html, stats, _ = full_report
    assert check_page(html) == []
    assert summary["errors"] == [] and summary["missing"] == []
    assert page_summary(html)["sections"] == SECTIONS
    assert summary["complete_sections"] == len(SECTIONS)
    assert summary["figures"] >= 18  # every section with data draws at least one plot
    assert "Not shown yet" not in html and "could not be drawn" not in html
    for title in ("Records through the pipeline", "HTTP status of responses", "Karma of linked submissions",
                  "Top 20 subreddits by links", "Links by month of their first submission", "Language of extracted pages",
                  "Why clean dropped pages", "Duplicate clusters by size", "Benchmark n-gram overlap with the corpus",
                  "Tokens per shard", "Loss over training", "Learning rate schedule", "Throughput"):
        assert f'alt="{title}"' in html or title in html, title


def test_funnel_numbers_come_from_the_records(full_report):
    _, html, stats, records = full_report
    steps = stats["sections"]["funnel"]["data"]["steps"]
    by_stage = {}
    for st in steps:
        by_stage.setdefault(st["stage"], []).append(st)
    crawl = records["crawl"]
    assert by_stage["crawl"][0]["in"] == crawl["stats"]["submissions"]["read"]
    assert by_stage["crawl"][1]["out"] == crawl["stats"]["links"]
    assert by_stage["crawl"][2]["dropped"] == crawl["counts"]["dropped"]
    for stage in ("clean", "dedupe", "shard"):
        (st,) = by_stage[stage]
        assert (st["in"], st["out"], st["dropped"]) == (records[stage]["counts"]["in"], records[stage]["counts"]["out"],
                                                        records[stage]["counts"]["dropped"])
    assert stats["sections"]["funnel"]["data"]["warnings"] == []  # the synthetic run balances
    assert "too_short" in html and "4,200" in html  # a drop reason and its count are on the page


def test_stats_json_has_every_stage_and_the_derived_figures(full_report):
    _, _, stats, records = full_report
    assert set(stats["stages"]) == set(STAGES)
    for stage in STAGES:
        assert stats["stages"][stage]["state"] == "done"
        assert stats["stages"][stage]["fingerprint"] == records[stage]["fingerprint"]
        assert stats["stages"][stage]["counts"] == records[stage]["counts"]
    gpt2 = stats["sections"]["domains"]["data"]["gpt2"]
    first = gpt2["rows"][0]
    assert first["domain"] == "nytimes" and first["gpt2_rank"] == 5
    # bbc.co.uk's two hosts count as one registered name, as in GPT-2's list
    bbc = next(r for r in gpt2["rows"] if r["domain"] == "bbc")
    hosts = records["clean"]["stats"]["domains"]
    assert bbc["documents"] == hosts["www.bbc.co.uk"] + hosts["news.bbc.co.uk"]
    contamination = stats["sections"]["contamination"]["data"]["benchmarks"]
    assert contamination["lambada"]["overlap_before"] == 0.0123
    training = stats["sections"]["training"]["data"]["log"]
    assert training["logged_lines"] == 2000 + 8 and len(training["val_loss"]["step"]) == 8
    assert stats["sections"]["overview"]["data"]["cards"]["Tokens"] == sum(records["shard"]["stats"]["tokens"].values())


def test_config_and_fingerprints_are_on_the_page(full_report):
    _, html, _, records = full_report
    for stage in STAGES:
        assert records[stage]["fingerprint"] in html
        assert records[stage]["run_id"] in html
    assert "The pipeline config" in html


@pytest.mark.parametrize("done", [(), ("crawl", "clean"), ("dedupe", "shard")])
def test_partial_runs_say_what_is_missing(tmp_path, done):
    summary, html, stats, _ = build(tmp_path, stages=done)
    assert check_page(html) == []  # no empty section, no broken image, even with nothing run
    assert summary["errors"] == []
    for i, stage in enumerate(STAGES):
        state = stats["stages"][stage]["state"]
        if stage not in done:
            assert state == "not run" and f"{stage} has not run (no {stage}/_SUCCESS.json)" in html
        elif i and STAGES[i - 1] not in done:  # it read an upstream output this work dir no longer has
            assert state == "stale"
            assert stats["stages"][stage]["notes"] == [f"read a {STAGES[i - 1]} output that is no longer there"]
        else:
            assert state == "done"
    missing_sections = {sid for sid, s in stats["sections"].items() if not s["complete"]}
    if "train" not in done:
        assert "training" in missing_sections
    if not done:
        assert missing_sections == set(SECTIONS) - {"overview", "reproduce"}


def test_interrupted_stage_is_reported_as_not_finished(tmp_path):
    def prepare(work, _):
        os.makedirs(work / "dedupe.partial")

    _, html, stats, _ = build(tmp_path, stages=(), prepare=prepare)
    assert stats["stages"]["dedupe"]["state"] == "partial"
    assert "dedupe has not finished (its dedupe.partial folder is running or was interrupted)" in html


def test_absent_and_malformed_stats_are_named_not_fatal(tmp_path):
    def prepare(work, records):
        crawl = records["crawl"]
        del crawl["stats"]["fetch"]  # absent
        crawl["stats"]["scores"] = [3, 4, 5]  # wrong shape
        crawl["stats"]["created_month"] = {"2016-01": 5, "sometime": 3}  # one bad key
        crawl["stats"]["subreddits"] = [["news", 10], ["science", 4]]  # top_k's pair form: accepted
        clean = records["clean"]
        clean["stats"]["languages"] = {"en": "many"}  # wrong value type
        clean["stats"]["chars"] = {"big": 3}  # not a log2 bucket
        dedupe = records["dedupe"]
        dedupe["stats"]["contamination"] = None
        os.remove(work / "dedupe" / "contamination.json")
        records["shard"]["stats"].pop("shards")
        os.remove(work / "shard" / "manifest.json")
        for stage in ("crawl", "clean", "dedupe", "shard"):
            with open(work / stage / "_SUCCESS.json", "w") as f:
                json.dump(records[stage], f)
        with open(work / "train" / "log.jsonl", "a") as f:
            f.write("not json\n[1, 2]\n")

    summary, html, stats, _ = build(tmp_path, prepare=prepare)
    assert summary["errors"] == []
    assert check_page(html) == []
    missing = "\n".join(summary["missing"])
    assert "crawl stats.fetch.status: not recorded (crawl/_SUCCESS.json has no stats.fetch)" in missing
    assert "crawl stats.scores: expected a log2 histogram" in missing and "found a list" in missing
    assert "clean stats.languages: expected a {key: count} mapping" in missing
    assert "clean stats.chars: expected a log2 histogram" in missing
    assert "dedupe stats.contamination: recorded as null" in missing
    assert "shard stats.shards: not recorded" in missing
    assert "1 month keys are not YYYY-MM" in html
    assert "2 lines of train/log.jsonl are not JSON objects" in html
    # the rest of those sections still drew what they had
    assert stats["sections"]["crawl"]["data"]["failures"]  # fell back to counts.dropped
    assert stats["sections"]["tokens"]["data"]["tokens"]
    assert stats["sections"]["sources"]["data"]["subreddits"] == [["news", 10], ["science", 4]]


def test_empty_tables_get_a_note_not_an_empty_section(tmp_path):
    def prepare(work, records):
        records["clean"]["stats"]["languages"] = {}
        records["dedupe"]["stats"]["contamination"] = {}  # dedupe ran without benchmarks
        (work / "dedupe" / "contamination.json").write_text(json.dumps({"benchmarks": {}, "note": "none configured"}))
        for stage in ("clean", "dedupe"):
            with open(work / stage / "_SUCCESS.json", "w") as f:
                json.dump(records[stage], f)

    summary, html, stats, _ = build(tmp_path, stages=("clean", "dedupe"), prepare=prepare)
    assert check_page(html) == [] and summary["errors"] == []
    assert stats["sections"]["languages"]["complete"] and "Nothing to show" in html
    assert "No benchmark was checked for contamination: none configured." in html


def test_manifest_and_contamination_files_are_the_fallbacks(tmp_path):
    def prepare(work, records):
        records["shard"]["stats"].pop("shards")
        records["dedupe"]["stats"].pop("contamination")
        for stage in ("dedupe", "shard"):
            with open(work / stage / "_SUCCESS.json", "w") as f:
                json.dump(records[stage], f)

    summary, html, stats, records = build(tmp_path, stages=("dedupe", "shard"), prepare=prepare)
    tokens, contamination = stats["sections"]["tokens"], stats["sections"]["contamination"]
    manifest = json.loads((tmp_path / "work" / "shard" / "manifest.json").read_text())
    assert tokens["complete"] and tokens["data"]["shards"] == manifest["shards"]
    assert contamination["complete"] and contamination["data"]["source"] == "contamination.json"
    assert "manifest.json" in html and contamination["data"]["benchmarks"]["ptb"]["docs_removed"] == 7


def test_damaged_record_and_unbalanced_counts_are_flagged(tmp_path):
    seen = {}

    def prepare(work, records):
        (work / "train" / "_SUCCESS.json").write_text('{"stage": "train", ')  # cut short
        records["clean"]["counts"]["out"] -= 7  # 7 documents vanish without a reason
        with open(work / "clean" / "_SUCCESS.json", "w") as f:
            json.dump(records["clean"], f)
        seen.update(clean_out=records["clean"]["counts"]["out"], dedupe_in=records["dedupe"]["counts"]["in"])

    _, html, stats, _ = build(tmp_path, stages=("clean", "dedupe", "train"), prepare=prepare)
    assert stats["stages"]["train"]["state"] == "damaged"
    assert "is not valid JSON" in stats["stages"]["train"]["problem"]
    warnings = stats["sections"]["funnel"]["data"]["warnings"]
    assert any("7 records are not accounted for" in w for w in warnings)
    assert seen["dedupe_in"] == seen["clean_out"] + 7
    assert any(w.startswith(f"dedupe read {seen['dedupe_in']:,} records but clean wrote {seen['clean_out']:,}")
               for w in warnings)
    assert check_page(html) == []


def test_stale_stages_are_marked(tmp_path):
    def prepare(work, records):
        records["clean"]["run_id"] = "rerun0000001"  # clean ran again after dedupe read it
        with open(work / "clean" / "_SUCCESS.json", "w") as f:
            json.dump(records["clean"], f)

    config = {"clean": {}, "dedupe": {"threshold": 0.9}}  # dedupe ran with {} instead
    _, html, stats, _ = build(tmp_path, stages=("clean", "dedupe"), prepare=prepare, config=config)
    notes = stats["stages"]["dedupe"]["notes"]
    assert stats["stages"]["dedupe"]["state"] == "stale"
    assert any(n.startswith("config changed since it ran (threshold)") for n in notes)
    assert any(n.startswith("clean has been rerun since") for n in notes)
    # clean itself read a crawl output that this work dir no longer has
    assert stats["stages"]["clean"]["notes"] == ["read a crawl output that is no longer there"]
    assert "Stale: clean, dedupe ran with a different config" in html
    assert "The dedupe block it actually ran with" in html


def test_a_section_that_raises_does_not_cost_the_page(tmp_path, monkeypatch):
    from report import sections

    def broken(self):
        raise ZeroDivisionError("boom")

    monkeypatch.setattr(sections.Report, "languages", broken)
    summary, html, stats, _ = build(tmp_path, stages=("clean",))
    assert summary["errors"] == ["broken: ZeroDivisionError: boom"]
    assert "could not be drawn from the recorded statistics: ZeroDivisionError: boom" in html
    assert check_page(html) == []
    assert "Traceback" in stats["errors"][0]["traceback"]


def test_long_training_logs_are_averaged_to_the_configured_points(tmp_path):
    work = tmp_path / "work"
    write_run(str(work), stages=("train",), log_steps=3000)
    summary = write_report(str(tmp_path / "out"), str(work), Config(max_curve_points=100))
    stats = json.loads((tmp_path / "out" / "stats.json").read_text())
    loss = stats["sections"]["training"]["data"]["log"]["loss"]
    assert len(loss["step"]) == 100 and loss["step"][0] == pytest.approx(15.5)  # mean of steps 1..30
    assert summary["errors"] == []


def domains_section(tmp_path, gpt2_domains):
    work = tmp_path / "work"
    write_run(str(work), stages=("clean",))
    return Report(gather(str(work)), Config(gpt2_domains=gpt2_domains)).domains()


def test_gpt2_list_missing_or_malformed_is_said_on_the_section(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("10 google\nten archive\n")
    s = domains_section(tmp_path / "a", str(bad))
    assert s.data["gpt2_error"] == f"{bad}, line 2: expected '<count> <domain>', got 'ten archive'"
    s = domains_section(tmp_path / "b", str(tmp_path / "nope.txt"))
    assert "GPT-2 domain list not found" in s.data["gpt2_error"]
    s = domains_section(tmp_path / "c", None)
    assert any("Set report.gpt2_domains" in getattr(b, "text", "") for b in s.blocks)
    # the comparison is optional: its absence is a note, not missing data (only crawl's counts are missing)
    assert {m.stage for m in s.needs.items} == {"crawl"}


def test_report_stage_through_the_cli(tmp_path, cli):
    """`webtext report CONFIG` on a partial run: exit 0, the page, stats.json and the runner's _SUCCESS.json."""
    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text(yaml.safe_dump({"run": {"name": "clitest", "work_dir": "work"}, "report": {"top_k": 10}}))
    write_run(str(tmp_path / "work"), stages=("crawl", "clean"))
    result = cli("report", str(cfg), cwd=str(tmp_path))
    assert result.returncode == 0, result.stderr
    folder = tmp_path / "work" / "report"
    html = (folder / "index.html").read_text()
    assert check_page(html) == []
    assert "WebText corpus report: clitest" in html
    success = json.loads((folder / "_SUCCESS.json").read_text())
    assert success["counts"] == {"in": 2, "out": 2, "dropped": {}}
    assert success["stats"]["stages_read"] == ["crawl", "clean"]
    assert "with data still missing" in result.stderr and str(folder / "index.html") in result.stderr
    stats = json.loads((folder / "stats.json").read_text())
    # the synthetic records' fingerprints are not this config's: the runner's view marks them stale
    assert stats["stages"]["crawl"]["state"] == "stale"
    assert stats["config"]["report"]["top_k"] == 10


def test_verify_command(tmp_path, full_report_dir, capsys):
    from webtext.cli import main

    out_dir, _ = full_report_dir
    assert main(["report", "verify", str(out_dir / "index.html")]) == 0
    assert "ok: every image decodes" in capsys.readouterr().out
    broken = tmp_path / "broken.html"
    broken.write_text((out_dir / "index.html").read_text().replace("</main>", '<img src="https://x.org/a.png"></main>'))
    assert main(["report", "verify", str(broken)]) == 1
    assert "problem: image in section '(outside sections)': not an embedded base64 image" in capsys.readouterr().out
    assert main(["report", "verify", str(tmp_path / "none.html")]) == 1
    assert "none.html: cannot read the report page" in capsys.readouterr().err


def test_report_config_is_validated(tmp_path, capsys):
    from webtext.cli import main

    cfg = tmp_path / "pipeline.yaml"
    cfg.write_text(yaml.safe_dump({"run": {"work_dir": "work"}, "report": {"top_k": 0, "dpi": 1000, "colour": 1}}))
    assert main(["validate", str(cfg)]) == 2
    assert "report.colour: unknown key" in capsys.readouterr().err
    cfg.write_text(yaml.safe_dump({"run": {"work_dir": "work"}, "report": {"top_k": 0, "dpi": 1000}}))
    assert main(["validate", str(cfg)]) == 2
    err = capsys.readouterr().err
    assert "report.top_k: must be at least 1" in err and "report.dpi: must be between 50 and 400" in err
    assert not (tmp_path / "work").exists()
