"""Time the same commands from two checkouts of rnnloss, interleaved, and print medians.

    git worktree add /tmp/base <commit>
    python benchmarks/compare_trees.py /tmp/base [--runs 15] [--batch DIR]

Each run starts a fresh interpreter (`python -c "from rnnloss_cli.entry import main; …"`)
with PYTHONPATH set to one tree, so both are measured as the console script runs; the
trees are byte-compiled first (pip would, for a regular install). `--batch` names a folder
of problem files for the `solve` rows (default: a copy of 1,000 generated files from
benchmarks/run_all.py's generator). Ratios are this tree / the base, lower is better.
"""

from __future__ import annotations

import argparse
import compileall
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

HERE = Path(__file__).resolve().parents[1]


def commands(batch: str) -> dict[str, list[str]]:
    return {
        "--version": ["--version"],
        "hinge inline": ["hinge", "--y", "1,-1,1", "--yhat", "0.8,-0.5,0.3"],
        "hinge --help": ["hinge", "--help"],
        "explain": ["explain"],
        "ctc problems/hello.yaml": ["ctc", str(HERE / "problems/hello.yaml")],
        "solve 1,000 files --json": ["solve", batch, "--json"],
        "solve 1,000 files (table)": ["solve", batch],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("base", help="the other checkout (its root folder)")
    parser.add_argument("--runs", type=int, default=15)
    parser.add_argument("--batch", default=None)
    args = parser.parse_args()
    trees = {"base": Path(args.base).resolve(), "this": HERE}
    for root in trees.values():
        compileall.compile_dir(root / "rnnloss_cli", quiet=1)
    with tempfile.TemporaryDirectory() as scratch:
        batch = args.batch
        if batch is None:
            sys.path.insert(0, str(HERE / "benchmarks"))
            import run_all

            batch = scratch
            run_all.write_problems(Path(scratch), 1000, 7)
        cmds = commands(batch)
        times: dict[tuple[str, str], list[float]] = {(t, c): [] for t in trees for c in cmds}
        for _ in range(args.runs):
            for name, argv in cmds.items():
                for tree, root in trees.items():
                    env = {**os.environ, "PYTHONPATH": str(root), "COLUMNS": "80"}
                    start = time.perf_counter()
                    subprocess.run(
                        [sys.executable, "-c", "from rnnloss_cli.entry import main; main()", *argv],
                        cwd=root,
                        env=env,
                        stdout=subprocess.DEVNULL,
                        stderr=subprocess.DEVNULL,
                        check=False,
                    )
                    times[(tree, name)].append(time.perf_counter() - start)
    print(f"medians of {args.runs} interleaved runs; ratio = this tree / base")
    print("| command | base ms | this ms | ratio |")
    print("| --- | ---: | ---: | ---: |")
    for name in cmds:
        base = statistics.median(times[("base", name)]) * 1000
        this = statistics.median(times[("this", name)]) * 1000
        print(f"| `{name}` | {base:.1f} | {this:.1f} | {this / base:.2f} |")


if __name__ == "__main__":
    main()
