"""The command line every benchmark shares: ``--quick`` and ``--models a,b``."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from bench.models import BUILDERS


def parse_model_args(
    argv: Sequence[str] | None,
    description: str,
    defaults: Sequence[str],
    quick_help: str,
    skip_when_quick: Sequence[str] = (),
) -> argparse.Namespace:
    """Parse ``argv``; ``args.names`` holds the chosen model names, checked."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help=quick_help)
    parser.add_argument(
        "--models",
        default=",".join(defaults),
        help=f"comma-separated subset of: {', '.join(BUILDERS)}",
    )
    parser.add_argument("--no-render", action="store_true", help="skip Qt tables, if any")
    args = parser.parse_args(argv)
    args.names = [n.strip() for n in args.models.split(",") if n.strip()]
    unknown = sorted(set(args.names) - set(BUILDERS))
    if unknown:
        parser.error(f"unknown model(s): {', '.join(unknown)}")
    if args.quick:
        args.names = [n for n in args.names if n not in skip_when_quick]
    return args
