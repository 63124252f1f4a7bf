"""Time CTC decoding (prefix beam search) on the inputs users have, and print medians.

    python benchmarks/decode.py [--runs 9]

Rows: the bundled three-frame problem end to end (`rnnloss decode`, a fresh interpreter),
and the core's beam search on a trained model's peaked output (the blank ~0.9 most frames,
a letter peaking where it is spoken) and on flat random output, for speech-like sizes.
Beside each, a plain dictionary implementation of the same algorithm (the textbook's
loops, as Hannun's and Distill's pseudo-code is usually written) decoding the same
matrix, as a reference for what the vectorised version buys; both give the same n-best.
"""

from __future__ import annotations

import argparse
import math
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import numpy as np

from rnnloss_cli.core.ctc_decode import beam_search

HERE = Path(__file__).resolve().parents[1]


def peaked(frames: int, symbols: int, rng: np.random.Generator) -> np.ndarray:
    """A trained model's output: the blank near 0.9, a letter near 0.9 every ~4 frames."""
    logits = rng.normal(0.0, 1.0, size=(frames, symbols))
    logits[:, 0] += 4.0
    spoken = rng.random(frames) < 0.25
    letters = rng.integers(1, symbols, size=frames)
    logits[np.flatnonzero(spoken), letters[spoken]] += 7.0
    return logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)


def flat(frames: int, symbols: int, rng: np.random.Generator) -> np.ndarray:
    logits = rng.normal(0.0, 1.0, size=(frames, symbols))
    return logits - np.logaddexp.reduce(logits, axis=1, keepdims=True)


def _lse(a: float, b: float) -> float:
    """ln(e^a + e^b) in plain Python floats (no numpy scalars: the fair loop)."""
    if a < b:
        a, b = b, a
    return a if b == -math.inf else a + math.log1p(math.exp(b - a))


def textbook(lp: np.ndarray, blank: int, width: int) -> list[tuple[tuple[int, ...], float]]:
    """Prefix beam search with dictionaries, frame by frame and symbol by symbol."""
    beam = [((), (0.0, -math.inf))]
    for row in lp:
        nxt: dict = defaultdict(lambda: (-math.inf, -math.inf))
        for prefix, (pb, pnb) in beam:
            for c, y in enumerate(row.tolist()):
                if c == blank:
                    b, nb = nxt[prefix]
                    nxt[prefix] = (_lse(b, _lse(pb, pnb) + y), nb)
                    continue
                last = prefix[-1] if prefix else None
                grown = (*prefix, c)
                b, nb = nxt[grown]
                add = pb + y if c == last else _lse(pb, pnb) + y
                nxt[grown] = (b, _lse(nb, add))
                if c == last:
                    b, nb = nxt[prefix]
                    nxt[prefix] = (b, _lse(nb, pnb + y))
        beam = sorted(nxt.items(), key=lambda kv: -_lse(*kv[1]))[:width]
    return [(p, float(_lse(*v))) for p, v in beam]


def median_ms(run, runs: int) -> float:
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=9)
    runs = parser.parse_args().runs
    rng = np.random.default_rng(0)
    command = [
        sys.executable,
        "-m",
        "rnnloss_cli",
        "decode",
        str(HERE / "problems/ctc_decode_beam.yaml"),
    ]
    cli = median_ms(lambda: subprocess.run(command, capture_output=True, check=True), runs)
    print(f"medians of {runs} runs (ms); ratio = rnnloss / the dictionary version")
    print("| input | beam | rnnloss | dictionaries | ratio |")
    print("| --- | ---: | ---: | ---: | ---: |")
    print(
        "| `rnnloss decode problems/ctc_decode_beam.yaml` (whole command) | 2 | "
        f"{cli:.1f} | — | — |"
    )
    cases = [
        ("peaked, T = 500, V = 30", peaked(500, 30, rng), 10),
        ("peaked, T = 500, V = 30", peaked(500, 30, rng), 100),
        ("peaked, T = 2,000, V = 30", peaked(2000, 30, rng), 10),
        ("flat, T = 200, V = 30", flat(200, 30, rng), 10),
    ]
    for name, lp, width in cases:
        ours = median_ms(lambda lp=lp, width=width: beam_search(lp, 0, width), runs)
        reference_runs = max(1, runs // 3)
        theirs = median_ms(lambda lp=lp, width=width: textbook(lp, 0, width), reference_runs)
        got = [(p.prefix, p.log_probability) for p in beam_search(lp, 0, width)[-1].kept]
        want = textbook(lp, 0, width)
        assert [g[0] for g in got] == [w[0] for w in want], name
        assert all(
            math.isclose(g[1], w[1], rel_tol=1e-9) for g, w in zip(got, want, strict=True)
        ), name
        print(f"| {name} | {width} | {ours:.1f} | {theirs:.1f} | {ours / theirs:.2f} |")


if __name__ == "__main__":
    main()
