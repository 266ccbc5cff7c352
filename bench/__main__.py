"""Run a benchmark: ``python -m bench [ingest|serving|tour|synthetic] [options]`` (default: ingest, 10,000 records)."""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    command = args[0] if args and not args[0].startswith("-") else "ingest"
    rest = args[1:] if args and not args[0].startswith("-") else args
    if command == "ingest":
        from bench.ingest import main as run
    elif command == "serving":
        from bench.serving import main as run
    elif command == "tour":
        from bench.tour import main as run
    elif command == "synthetic":
        from bench.synthetic import main as run
    else:
        sys.exit(f"unknown benchmark {command!r}; choose ingest, serving, tour or synthetic")
    run(rest)


if __name__ == "__main__":
    main()
