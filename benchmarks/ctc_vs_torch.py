"""Time rnnloss's numpy CTC against torch.nn.functional.ctc_loss on the CPU, in float64.

Run as `python benchmarks/ctc_vs_torch.py [--repeats 15] [--seed 0]`. The problem is
N=64 sequences, T=500 frames, C=30 classes, target length L=100 (labels drawn from 1..29,
blank 0), random normal logits. Both sides are timed in the same process, alternating
(ours, torch, ours, torch, ...) after a warm-up, and the medians are reported:

* forward: the summed loss from precomputed log-probabilities.
* forward+grad: from the logits: log-softmax, the per-sequence losses, and the gradient of
  their sum with respect to the logits (torch: autograd, `loss.sum().backward()`; ours:
  numpy log-softmax and `ctc_loss_and_grad`).

It also checks that both give the same losses and gradients. Exits 0 with a message when
torch is not installed.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rnnloss_cli.core.ctc import ctc_loss, ctc_loss_and_grad

N, T, C, L = 64, 500, 30, 100


def log_softmax(x: np.ndarray) -> np.ndarray:
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        print("torch is not installed: nothing to compare against (pip install torch).")
        return 0
    F = torch.nn.functional

    rng = np.random.default_rng(args.seed)
    logits = rng.normal(size=(T, N, C))
    targets = rng.integers(1, C, size=(N, L))
    input_lengths = np.full(N, T)
    target_lengths = np.full(N, L)
    log_probs = log_softmax(logits)

    logits_t = torch.tensor(logits, dtype=torch.float64)
    log_probs_t = torch.tensor(log_probs, dtype=torch.float64)
    targets_t = torch.tensor(targets)
    il_t = torch.tensor(input_lengths)
    tl_t = torch.tensor(target_lengths)

    def ours_forward():
        return ctc_loss(log_probs, targets, input_lengths, target_lengths, reduction="sum")

    def torch_forward():
        return F.ctc_loss(log_probs_t, targets_t, il_t, tl_t, reduction="sum").item()

    def ours_backward():
        return ctc_loss_and_grad(log_softmax(logits), targets, input_lengths, target_lengths)

    def torch_backward():
        x = logits_t.clone().requires_grad_(True)
        loss = F.ctc_loss(x.log_softmax(2), targets_t, il_t, tl_t, reduction="none")
        loss.sum().backward()
        return loss.detach().numpy(), x.grad.numpy()

    # Agreement.
    losses, grad = ours_backward()
    t_losses, t_grad = torch_backward()
    loss_diff = float(np.abs(losses - t_losses).max())
    grad_diff = float(np.abs(grad - t_grad).max())
    sum_rel = abs(ours_forward() - torch_forward()) / abs(torch_forward())

    rows = []
    for name, ours, theirs in (
        ("forward", ours_forward, torch_forward),
        ("forward+grad", ours_backward, torch_backward),
    ):
        ours(), theirs()  # warm-up
        ours_ms, torch_ms = [], []
        for _ in range(args.repeats):
            start = time.perf_counter()
            ours()
            ours_ms.append((time.perf_counter() - start) * 1e3)
            start = time.perf_counter()
            theirs()
            torch_ms.append((time.perf_counter() - start) * 1e3)
        a, b = statistics.median(ours_ms), statistics.median(torch_ms)
        rows.append((name, a, b, a / b))

    print(f"CTC, float64, N={N} T={T} C={C} L={L}, {args.repeats} interleaved repeats (medians)")
    print()
    print("| pass | rnnloss (numpy) ms | torch ms | ratio ours/torch |")
    print("| --- | ---: | ---: | ---: |")
    for name, a, b, ratio in rows:
        print(f"| {name} | {a:.1f} | {b:.1f} | {ratio:.2f} |")
    print()
    print(
        f"machine: {platform.machine()}, {os.cpu_count()} logical cores, "
        f"{platform.system()} {platform.release()}"
    )
    print(
        f"Python {platform.python_version()}, numpy {np.__version__}, torch {torch.__version__} "
        f"({torch.get_num_threads()} threads), "
        f"OPENBLAS_CORETYPE={os.environ.get('OPENBLAS_CORETYPE', 'unset')}"
    )
    print(
        f"agreement: max |loss diff| {loss_diff:.3g} (losses ~{np.abs(t_losses).mean():.0f}), "
        f"summed loss rel. diff {sum_rel:.3g}, max |grad diff| {grad_diff:.3g}"
    )
    ok = loss_diff <= 1e-9 * np.abs(t_losses).max() and grad_diff <= 1e-9
    if not ok:
        print("MISMATCH between rnnloss and torch")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
