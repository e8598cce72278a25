"""``python -m course_utils data [--root FOLDER]``: download (or rebuild) and verify MNIST; ``make data`` runs it."""
from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Run the command line ``argv`` (by default the process's own arguments).

    Returns:
        The exit status: 0 when the files are ready, 1 when they could not be had (the reason is printed).
    """
    parser = argparse.ArgumentParser(prog="python -m course_utils", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    data = sub.add_parser("data", help="make sure the four MNIST files are present and pass their md5 check")
    data.add_argument("--root", default=None, help="data folder (default: $COURSE_DATA_DIR, else data/ in the course checkout)")
    args = parser.parse_args(argv)
    from .mnist_files import MNIST_MD5, MnistUnavailable, ensure_mnist

    try:
        folder = ensure_mnist(args.root)
    except MnistUnavailable as err:
        print(f"error: {err}", file=sys.stderr)
        return 1
    print(f"MNIST ready in {folder}: {', '.join(MNIST_MD5)} (md5 verified)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
