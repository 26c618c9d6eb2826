"""The ``site`` command: write the public transparency site of a ledger into a folder."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from rich.console import Console

from aidledger.cli.common import add_command, as_of_options, coordinates, open_ledger, print_json, say
from aidledger.site import build_site

__all__ = ["register"]


def register(commands: Any) -> None:
    """Add the ``site`` command."""
    parser = add_command(commands, "site", "write the public transparency site (static, offline pages)", cmd_site)
    parser.add_argument("--out", required=True, type=Path, metavar="DIR", help="the folder to write (made if missing)")
    parser.add_argument("--lang", default="zh", metavar="LANG", help="zh (Chinese, default) or en (English)")
    parser.add_argument(
        "--on", metavar="DATE", help="evaluate disclosure duties on DATE (default: --effective-on, else today)"
    )
    parser.add_argument(
        "--checkpoint", type=Path, metavar="FILE", help="a signed checkpoint file to copy beside the pages"
    )
    as_of_options(parser)


def cmd_site(args: argparse.Namespace, console: Console) -> int:
    """Build the site and say where to open it."""
    with open_ledger(args, read_only=True) as ledger:
        result = build_site(
            ledger, args.out, lang=args.lang, on=args.on, checkpoint_note=args.checkpoint, **coordinates(args)
        )
    if args.json:
        print_json(
            {
                "index": str(result.index),
                "pages": result.pages,
                "written": result.written,
                "unchanged": result.unchanged,
                "removed": result.removed,
                "rendered": result.rendered,
                "checkpoint": result.checkpoint.model_dump(exclude_none=True),
                "digest": result.digest,
                "mismatched": list(result.mismatched),
            }
        )
        return 5 if result.mismatched else 0
    changed = f"{result.written} files written, {result.unchanged} unchanged, {result.removed} removed"
    changed += f" ({result.rendered} pages rendered)"
    say(console, f"{result.pages} pages; {changed}")
    say(console, f"checkpoint {result.checkpoint.origin} size {result.checkpoint.size} root {result.checkpoint.root}")
    say(console, f"open {result.index.resolve()}")
    if result.mismatched:  # a report and its parts disagree: the library's fault, shown on those pages too
        shown = ", ".join(result.mismatched[:5]) + (" …" if len(result.mismatched) > 5 else "")
        say(console, f"{len(result.mismatched)} figures differ from the sum of their parts: {shown}")
        return 5
    return 0
