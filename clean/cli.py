"""`webtext clean extract PAGE`: one page's main text, exactly as the stage extracts it.

Only the standard library and webtext are imported here; the extractor loads when the action runs.
"""

from __future__ import annotations

import argparse
import gzip
import json
import sys

from webtext.cli import Command
from webtext.errors import InputError


def _add_extract_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("page", help="an HTML file (may be .gz), or - for standard input")
    p.add_argument("--url", help="the page's URL (helps trafilatura and the date finder)")
    p.add_argument("--content-type", help="the HTTP Content-Type header, e.g. 'text/html; charset=iso-8859-1'")
    p.add_argument("--json", action="store_true", help="print the text with its title, date, language hints and "
                                                        "the boilerplate lines removed, as JSON")


def _run_extract(args) -> int:
    from clean.config import ExtractConfig
    from clean.extraction import extract_page

    try:
        if args.page == "-":
            body = sys.stdin.buffer.read()
        else:
            with open(args.page, "rb") as f:
                body = f.read()
            if args.page.endswith(".gz"):
                body = gzip.decompress(body)
    except (OSError, EOFError) as e:
        raise InputError(f"{args.page}: {e}") from None
    result = extract_page(body, args.url, ExtractConfig(), content_type=args.content_type)
    if args.json:
        print(json.dumps(result.as_dict() if result else None, ensure_ascii=False, indent=1))
    elif result is None:
        print(f"{args.page}: no main text found", file=sys.stderr)
        return 1
    else:
        print(result.text)
    return 0


ACTIONS = {
    "extract": Command(help="print one HTML page's main text as the clean stage extracts it",
                       add_arguments=_add_extract_arguments, run=_run_extract,
                       description="Print the main text of one HTML page exactly as the clean stage extracts it "
                                   "(decoding, trafilatura, boilerplate rules), without the stage's filters."),
}
