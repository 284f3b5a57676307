"""python -m demo.space build DIR [--hardware H] | push DIR OWNER/NAME [--hardware H] [--private]"""

from __future__ import annotations

import argparse
import sys

from demo.space.build import DEFAULT_HARDWARE, HARDWARE, SpaceError, build
from demo.space.push import push


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m demo.space", description=__doc__)
    sub = p.add_subparsers(dest="command", required=True)
    b = sub.add_parser("build", help="write the Space into a new folder")
    b.add_argument("dir")
    b.add_argument("--hardware", choices=list(HARDWARE), default=DEFAULT_HARDWARE,
                   help="ZeroGPU (zero-a10g, free accounts can host it) or CPU (paid plans); default %(default)s")
    u = sub.add_parser("push", help="upload a built folder to a Space, as one commit")
    u.add_argument("dir")
    u.add_argument("repo_id", metavar="OWNER/NAME")
    u.add_argument("--hardware", choices=list(HARDWARE), default=None,
                   help="default: the hardware the folder was built for")
    u.add_argument("--private", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        if args.command == "build":
            b = build(args.dir, args.hardware)
            print(f"wrote {len(b.files)} files, {b.bytes} bytes ({b.bytes / 2**20:.1f} MB), to {b.path} "
                  f"for {b.hardware}; weights: {', '.join(b.weights) or 'none'}")
            print(f"next: python -m demo.space push {b.path} OWNER/NAME")
        else:
            push(args.dir, args.repo_id, args.hardware, args.private)
    except SpaceError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
