"""`webtext report verify [PAGE]`: check a report page the way the tests do (stdlib + webtext imports only)."""

import argparse
import os

from webtext.cli import Command


def _verify_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("page", nargs="?", default=os.path.join("work", "report", "index.html"),
                        help="the report page to check (default: work/report/index.html)")


def _verify(args) -> int:
    from report.check import check_page, page_summary
    from webtext.errors import InputError

    try:
        with open(args.page, encoding="utf-8") as f:
            html = f.read()
    except OSError as e:
        raise InputError(f"{args.page}: cannot read the report page ({e.strerror})") from None
    problems = check_page(html)
    summary = page_summary(html)
    print(f"{args.page}: {len(summary['sections'])} sections, {summary['images']} images, {summary['tables']} tables")
    for p in problems:
        print(f"  problem: {p}")
    if problems:
        return 1
    print("  ok: every image decodes, no section is empty, nothing is fetched from outside the file")
    return 0


ACTIONS = {
    "verify": Command(
        help="check a report page: images decode, no empty section, no external URL",
        add_arguments=_verify_arguments, run=_verify,
        description="Check that a report page is whole and self-contained: every embedded image decodes to a "
                    "non-blank picture, no section is empty, and nothing would be fetched from outside the file."),
}
