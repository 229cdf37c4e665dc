"""Command-line additions of the crawl stage.

    webtext crawl [CONFIG] --part I/N            crawl the I-th of N disjoint parts (by host)
    webtext crawl merge CONFIG PART_DIR...       merge finished parts into <work_dir>/crawl
    webtext crawl verify [FOLDER]                check a crawl folder's WARC files against its counts

Only the standard library and webtext are imported at module level.
"""

from __future__ import annotations

import argparse

from webtext.cli import Command
from webtext.config import DEFAULT_CONFIG


def _part(text: str) -> str:
    from crawl.parts import parse_part
    from webtext.errors import WebtextError

    try:
        parse_part(text)
    except WebtextError as e:
        raise argparse.ArgumentTypeError(str(e).replace("--part ", "", 1)) from None
    return text


def add_run_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--part", metavar="I/N", type=_part,
        help="crawl only the I-th of N disjoint parts of the links (1 <= I <= N), split by host, so N "
             "processes or machines share a crawl. Give each part its own work_dir (e.g. --set "
             "run.work_dir=work/part-2); then `webtext crawl merge` joins them.")


def _merge_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("config", help=f"the pipeline config the parts were crawled with (e.g. {DEFAULT_CONFIG})")
    p.add_argument("parts", nargs="+", metavar="PART_DIR", help="finished crawl folders of parts 1..N (e.g. work/part-*/crawl)")
    p.add_argument("--set", dest="overrides", action="append", default=[], metavar="KEY=VALUE",
                   help="override one config value, as for the other commands")


def _merge(args) -> int:
    from webtext.cli import load

    from crawl.merge import merge_parts

    cfg = load(args)
    merge_parts(cfg, args.parts)
    return 0


def _verify_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("folder", nargs="?", default="work/crawl", help="a finished crawl folder (default: work/crawl)")


def _verify(args) -> int:
    from crawl.verify import verify_folder

    report = verify_folder(args.folder)
    for line in report["lines"]:
        print(line)
    return 0 if report["ok"] else 1


ACTIONS = {
    "merge": Command(help="merge the folders of a crawl's parts (--part I/N) into one crawl",
                     add_arguments=_merge_arguments, run=_merge,
                     description="Merge finished part folders of a split crawl into <work_dir>/crawl, with the "
                                 "_SUCCESS.json of an unsplit crawl, so the pipeline goes on from clean."),
    "verify": Command(help="read every WARC record of a crawl and check it against the counts",
                      add_arguments=_verify_arguments, run=_verify,
                      description="Check a crawl folder: WARC files readable, one response per stored link with "
                                  "its WebText-Link header, no link stored twice, nothing both stored and failed, "
                                  "counts equal to _SUCCESS.json."),
}
