"""Small pure pieces: domain names as GPT-2 counted them, the GPT-2 list, histogram and curve helpers."""

import pytest

from report.domains import by_label, compare, domain_label, load_gpt2_domains
from report.gather import read_train_log
from report.plots import axis_number, bucket_label
from report.sections import _downsample, _fill_months, pct, quantile_bucket
from webtext.errors import InputError


@pytest.mark.parametrize("host,label", [
    ("www.nytimes.com", "nytimes"), ("news.bbc.co.uk", "bbc"), ("bbc.com", "bbc"), ("foo.blogspot.com", "blogspot"),
    ("i.imgur.com", "imgur"), ("127.0.0.1:8000", "127.0.0.1"), ("[::1]:8080", "::1"), ("localhost", "localhost"),
    ("miniweb.test", "miniweb.test"), ("WWW.Reuters.COM.", "reuters"),
])
def test_domain_label_matches_gpt2s_naming(host, label):
    assert domain_label(host) == label


def test_compare_shares_ranks_and_coverage():
    gpt2 = [("google", 50), ("bbc", 30), ("nytimes", 20)]
    ours = {"www.bbc.co.uk": 6, "news.bbc.co.uk": 2, "www.nytimes.com": 5, "myblog.net": 7}
    assert by_label(ours) == {"bbc": 8, "nytimes": 5, "myblog": 7}
    cmp = compare(ours, total=40, gpt2=gpt2, top_k=2)
    assert [(r["domain"], r["documents"], r["gpt2_rank"]) for r in cmp["rows"]] == [("bbc", 8, 2), ("myblog", 7, None)]
    assert cmp["rows"][0]["share"] == 0.2 and cmp["rows"][0]["gpt2_share"] == 0.3
    assert cmp["covered_documents"] == 13 and cmp["covered_share"] == 13 / 40
    assert cmp["top_k_in_gpt2"] == 1 and cmp["labels"] == 3
    assert [(r["domain"], r["rank"], r["documents"]) for r in cmp["gpt2_top"]] == [("google", None, 0), ("bbc", 1, 8)]


def test_gpt2_list_errors_name_the_line(tmp_path):
    path = tmp_path / "d.txt"
    path.write_text("# comment\n5 a\n\n7 b\n3\n")
    assert load_gpt2_domains(str(path)) == [("b", 7), ("a", 5), ("", 3)]
    path.write_text("5 a\n5 b c\n")
    with pytest.raises(InputError, match=r"d.txt, line 2: expected '<count> <domain>', got '5 b c'"):
        load_gpt2_domains(str(path))
    path.write_text("\n")
    with pytest.raises(InputError, match="no '<count> <domain>' lines"):
        load_gpt2_domains(str(path))


def test_the_real_gpt2_list(shared_data):
    gpt2 = load_gpt2_domains(f"{shared_data}/reddit/gpt2_domains.txt")
    assert len(gpt2) == 1000 and gpt2[0] == ("google", 1542261) and ("bbc", 311917) in gpt2
    assert ("", 20068) in gpt2  # OpenAI's list has one count without a name
    cmp = compare({"www.bbc.co.uk": 3, "github.com": 1, "miniweb.test": 4}, None, gpt2, 10)
    assert cmp["covered_share"] == 0.5 and {r["domain"]: r["gpt2_rank"] for r in cmp["rows"]}["github"] == 4


def test_histogram_and_number_helpers():
    hist = {"0": 1, "1": 1, "2-3": 3, "4-7": 5}
    assert quantile_bucket(hist, 0.5) == "2-3" and quantile_bucket(hist, 0.9) == "4-7" and quantile_bucket({}, 0.5) is None
    assert [bucket_label(b) for b in ("0", "1", "2-3", "1024-2047", "65536-131071", "1048576-2097151")] == \
        ["0", "1", "2\u20134", "1k\u20132k", "64k\u2013128k", "1M\u20132M"]
    assert [axis_number(v) for v in (0, 1250, 2.5e6, 0.0006, 3e9)] == ["0", "1,250", "2.5M", "0.0006", "3G"]
    assert (pct(0.123), pct(0.0004), pct(0.0004, 2), pct(None)) == ("12.3%", "0.04%", "0.04%", "\u2013")
    assert pct(0.00004) == "0.004%"


def test_months_and_downsampling():
    xs, ys = _fill_months([(2016 + 10 / 12, 4, "2016-11"), (2017 + 1 / 12, 2, "2017-02")])
    assert ys == [4, 0, 0, 2] and xs[0] == pytest.approx(2016 + 10 / 12)
    x, y = _downsample(list(range(10)), [float(v) for v in range(10)], 4)
    assert len(x) == 4 and x == y and x[0] == 0.5
    assert _downsample([1, 2], [3, 4], 10) == ([1, 2], [3, 4])


def test_train_log_keeps_numbers_counts_bad_lines_and_sorts_resumed_steps(tmp_path):
    path = tmp_path / "log.jsonl"
    path.write_text('{"step": 2, "loss": 3.0, "lr": 0.1}\n{"step": 1, "loss": 4.0, "note": "x"}\nnope\n\n'
                    '{"step": 2, "val_loss": 3.5, "sample": "Hello"}\n"str"\n')
    log = read_train_log(str(path))
    assert log.bad_lines == 2 and log.last_sample == "Hello" and log.last_sample_step == 2
    assert log.series("loss") == ([1, 2], [4.0, 3.0]) and log.series("val_loss") == ([2], [3.5])
