"""CTC decoding: the greedy (best-path) decoder and prefix beam search, frame by frame.

Prefix beam search (Hannun et al. 2014, "First-pass large vocabulary continuous speech
recognition using bi-directional recurrent DNNs"; Hannun, "Sequence Modeling with CTC",
Distill 2017) keeps, after every frame, the `beam_width` most probable *prefixes* (outputs
so far, after collapsing), each with two probabilities: P_b, of the paths that produce it
and end in a blank, and P_nb, of those that end in its last symbol. They are kept apart
because the next frame treats them differently: a repeat of the last symbol c extends
"…c" only from P_b (a blank between two c's), and merely continues "…c" from P_nb.

One frame, for each prefix ℓ in the beam with last symbol e, and y the frame's row:
    ℓ stays, by a blank:            P_b(ℓ)   += (P_b(ℓ) + P_nb(ℓ)) · y(blank)
    ℓ stays, repeating e:           P_nb(ℓ)  += P_nb(ℓ) · y(e)
    ℓ grows to ℓ+c, c ≠ e:          P_nb(ℓ+c) += (P_b(ℓ) + P_nb(ℓ)) · y(c)
    ℓ grows to ℓ+e (needs a blank):  P_nb(ℓ+e) += P_b(ℓ) · y(e)
A prefix reached two ways (ℓ+c already in the beam) sums them; the candidates are then
ranked by P_b + P_nb and the best `beam_width` kept. The beam's probability of a prefix
is therefore a lower bound of its exact probability (the paths through pruned prefixes
are lost); with a beam wide enough to prune nothing, it is exact. Everything is kept as
natural logarithms, so long inputs do not underflow.

The numbers agree with TensorFlow's `ctc_beam_search_decoder` (which takes logits and
applies log-softmax first) and with brute-force enumeration of every path (tests).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from rnnloss_cli.core import ctc

# Scores (natural logs) equal to this many decimals are ties: 0.1 × 0.4 and 0.2 × 0.2 are
# both 0.04, but their logs differ in the last bit.
TIE_DECIMALS = 10
BEAM_WIDTH = 100  # the default, as TensorFlow's and Keras's ctc beam search decoders
# Prefix symbols that the beam after every frame may hold to be listed whole (as JSON
# `decode.beam`): beyond, only the n-best is listed (a 2,000-frame, 100-wide beam of long
# prefixes would be hundreds of megabytes).
MAX_BEAM_LISTED = 1_000_000
# Cells of the forward algorithm spent on the exact probabilities of the n-best; beyond
# it the rest are left out (None), as a warning says.
MAX_EXACT_CELLS = 20_000_000


class Trie:
    """Every prefix the search made, as nodes: node 0 is the empty prefix, each other node
    a parent node and one symbol (a prefix is not copied each time it grows)."""

    def __init__(self) -> None:
        self.parent = [-1]
        self.symbol = [-1]
        self.depth = [0]  # each node's prefix length
        self.children: dict[tuple[int, int], int] = {}

    def child(self, node: int, symbol: int) -> int:
        """Return the node of prefix `node` + `symbol`, made on first use."""
        key = (node, symbol)
        found = self.children.get(key)
        if found is None:
            found = self.children[key] = len(self.parent)
            self.parent.append(node)
            self.symbol.append(symbol)
            self.depth.append(self.depth[node] + 1)
        return found

    def prefix(self, node: int) -> tuple[int, ...]:
        """Return the symbols of a node's prefix, first to last."""
        out = []
        while node > 0:
            out.append(self.symbol[node])
            node = self.parent[node]
        return tuple(reversed(out))


@dataclass(frozen=True)
class Prefix:
    """One prefix of the beam after a frame: log P_b, log P_nb and their log-sum."""

    node: int
    log_blank: float  # ln P_b: the paths producing it that end in a blank
    log_non_blank: float  # ln P_nb: those that end in its last symbol
    log_probability: float  # ln (P_b + P_nb)
    trie: Trie

    @property
    def prefix(self) -> tuple[int, ...]:
        return self.trie.prefix(self.node)

    @property
    def blank(self) -> float:
        return _exp(self.log_blank)

    @property
    def non_blank(self) -> float:
        return _exp(self.log_non_blank)

    @property
    def probability(self) -> float:
        return _exp(self.log_probability)


@dataclass(frozen=True)
class Frame:
    """The beam after one frame: the prefixes kept (most probable first), how many distinct
    prefixes were scored, and the best one pruned (None when nothing was pruned)."""

    kept: list[Prefix]
    candidates: int
    best_pruned: Prefix | None

    @property
    def pruned(self) -> int:
        return max(self.candidates - len(self.kept), 0)


class _Probabilities:
    """An output's probabilities as numbers: from its `log_probability` (of the search: the
    beam's, or the one path's) and `exact_log_probability` (the forward algorithm's)."""

    log_probability: float
    exact_log_probability: float | None

    @property
    def probability(self) -> float:
        return _exp(self.log_probability)

    @property
    def exact_probability(self) -> float | None:
        return None if self.exact_log_probability is None else _exp(self.exact_log_probability)


@dataclass(frozen=True)
class Best(_Probabilities):
    """One of the n-best: the beam's estimate beside the exact probability of the prefix
    (the forward algorithm, every alignment summed); None where it was not computed."""

    prefix: tuple[int, ...]
    log_probability: float  # the beam's ln (P_b + P_nb) after the last frame
    exact_log_probability: float | None

    @property
    def lost(self) -> float:
        """The share of this output's exact probability that pruning lost: 1 − beam P /
        exact p, from their logs (so it holds where both underflow float64); 0 where they
        agree to 1e−12, and where the exact p was not computed."""
        exact = self.exact_log_probability
        if exact is None or exact == -math.inf:
            return 0.0
        share = -math.expm1(min(self.log_probability - exact, 0.0))
        return 0.0 if share <= 1e-12 else share

    @property
    def lost_percent(self) -> float:
        return 100.0 * self.lost


@dataclass(frozen=True)
class GreedyDecoding(_Probabilities):
    """The arg-max symbol of every frame (best-path decoding), the path's probability, and
    the exact probability of what it collapses to."""

    path: list[int]
    collapsed: tuple[int, ...]
    log_probability: float  # ln Πₜ maxᵥ yₜ(v): of the one path, not of its collapse
    exact_log_probability: float | None  # None: over the forward algorithm's budget


@dataclass(frozen=True)
class Decoding:
    """A matrix decoded: greedy always; with `method` "beam", the beam after every frame and
    the n-best (the last frame's beam, most probable first)."""

    method: str  # "greedy" or "beam"
    beam_width: int | None
    greedy: GreedyDecoding
    frames: list[Frame]  # beam search only: one per frame
    nbest: list[Best]  # beam: the final beam; greedy: its one output
    log_probs: np.ndarray  # the T × V natural-log probabilities decoded
    exact_complete: bool = True  # False: some n-best exact probabilities were left out

    @property
    def best(self) -> tuple[int, ...]:
        """The decoded output: the first of the n-best."""
        return self.nbest[0].prefix

    @property
    def beam_symbols(self) -> int:
        """The symbols of every prefix kept (and best pruned) after every frame: what
        listing the beam whole writes."""
        total = 0
        for frame in self.frames:
            depth = frame.kept[0].trie.depth if frame.kept else []
            total += sum(depth[p.node] + 1 for p in frame.kept)
            if frame.best_pruned is not None:
                total += depth[frame.best_pruned.node] + 1
        return total

    @property
    def beam_listed(self) -> bool:
        """Whether the beam after every frame is small enough to be listed whole."""
        return self.method == "beam" and self.beam_symbols <= MAX_BEAM_LISTED

    def rank(self, prefix: Sequence[int]) -> int | None:
        """Return the place (0-based) of an output among the n-best, or None."""
        wanted = tuple(prefix)
        return next((i for i, b in enumerate(self.nbest) if b.prefix == wanted), None)

    @property
    def probs(self) -> np.ndarray:
        """The matrix decoded, as probabilities (the y of each frame the working writes)."""
        with np.errstate(under="ignore"):
            return np.exp(self.log_probs)

    @property
    def greedy_against_beam(self) -> str | None:
        """How greedy's output compares with the beam's first by their exact p: "better",
        "equal" (to 1e−12) or "worse" — a beam too narrow can prune the output the arg-max
        path collapses to; None when they are the same output or a p was not computed."""
        mine, theirs = self.nbest[0].exact_log_probability, self.greedy.exact_log_probability
        if self.method != "beam" or self.greedy.collapsed == self.best:
            return None
        if mine is None or theirs is None:
            return None
        return compare_logs(theirs, mine)

    @property
    def better_than_best(self) -> tuple[int, Best] | None:
        """The first n-best entry whose exact probability is above the decoded output's
        (the beam ranks by what it kept, which pruning can reorder), with its rank."""
        top = self.nbest[0].exact_log_probability
        if top is None:
            return None
        for rank, entry in enumerate(self.nbest[1:], start=1):
            exact = entry.exact_log_probability
            if exact is not None and compare_logs(exact, top) == "better":
                return rank, entry
        return None


def compare_logs(a: float, b: float) -> str:
    """Return "better", "equal" or "worse": e^a against e^b, equal to a relative 1e−12 (and
    both 0 is equal)."""
    if a == b or abs(a - b) <= 1e-12 * max(1.0, abs(a), abs(b)):
        return "equal"
    return "better" if a > b else "worse"


def _exp(log_value: float) -> float:
    """Return e^x, 0.0 where it underflows (the log stays exact)."""
    if log_value == -math.inf:
        return 0.0
    return math.exp(log_value) if log_value < 709.0 else math.inf


def exact_log_probability(log_probs: np.ndarray, prefix: Sequence[int], blank: int) -> float:
    """Return ln p(prefix | x): every length-T alignment of it summed (forward algorithm)."""
    if len(prefix) == 0:
        return float(np.sum(log_probs[:, blank]))
    loss = ctc.ctc_loss(
        log_probs,
        np.asarray(prefix, dtype=np.int64),
        log_probs.shape[0],
        len(prefix),
        blank=blank,
        reduction="none",
    )
    return -float(loss)


def _greedy_path(lp: np.ndarray, blank: int) -> tuple[list[int], tuple[int, ...], float]:
    """Return the arg-max path of every frame, what it collapses to, and ln of its product."""
    path = np.argmax(lp, axis=1)
    log_p = float(np.sum(lp[np.arange(lp.shape[0]), path]))
    return path.tolist(), tuple(ctc.collapse(path.tolist(), blank)), log_p


def greedy(log_probs: np.ndarray, blank: int) -> GreedyDecoding:
    """Return the best-path decoding: the arg-max of every frame, collapsed, with the
    exact probability of what it collapses to."""
    lp = np.asarray(log_probs, dtype=np.float64)
    path, collapsed, log_p = _greedy_path(lp, blank)
    return GreedyDecoding(path, collapsed, log_p, exact_log_probability(lp, collapsed, blank))


def beam_search(log_probs: np.ndarray, blank: int, beam_width: int) -> list[Frame]:
    """Return the beam after every frame of prefix beam search over a T × V matrix of
    natural-log probabilities (rows as given: not renormalised)."""
    if beam_width < 1:
        raise ValueError(f"beam_width must be at least 1, got {beam_width}")
    lp = np.asarray(log_probs, dtype=np.float64)
    symbols = lp.shape[1]
    trie = Trie()
    nodes = [0]  # the beam's prefixes, as trie nodes
    log_b = np.array([0.0])  # before any frame: the empty prefix, "ending in a blank"
    log_nb = np.array([-np.inf])
    columns = np.arange(symbols)[None, :]
    frames = []
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        for row in lp:
            last = np.array([trie.symbol[n] for n in nodes])
            total = np.logaddexp(log_b, log_nb)
            stay_b = total + row[blank]
            stay_nb = np.where(last >= 0, log_nb + row[np.maximum(last, 0)], -np.inf)
            # Growing by c: (P_b + P_nb)·y(c), or P_b·y(c) when c repeats the last symbol.
            source = np.where(columns == last[:, None], log_b[:, None], total[:, None])
            grow = source + row[None, :]
            grow[:, blank] = -np.inf
            # A growth that is already in the beam is that prefix: add it there.
            where = {n: i for i, n in enumerate(nodes)}
            for i, n in enumerate(nodes):
                parent = where.get(trie.parent[n]) if n else None
                if parent is not None:
                    c = trie.symbol[n]
                    stay_nb[i] = np.logaddexp(stay_nb[i], grow[parent, c])
                    grow[parent, c] = -np.inf
            stay = np.logaddexp(stay_b, stay_nb)
            scores = np.concatenate([stay, grow.ravel()])
            live = np.flatnonzero(scores > -np.inf)
            scored = int(live.size)
            if live.size == 0:  # every path has probability 0: keep the beam, at 0
                live = np.arange(len(nodes))
            # Ranked by the score rounded to TIE_DECIMALS (values equal in exact arithmetic
            # but for float rounding tie), ties in the order the candidates were made
            # (stays, then growths): the best W + 1 (the +1: the best pruned), ties kept.
            rank = np.round(scores[live], TIE_DECIMALS)
            if live.size > beam_width + 1:
                cut = -np.partition(-rank, beam_width)[beam_width]
                chosen = rank >= cut
                live, rank = live[chosen], rank[chosen]
            order = live[np.argsort(-rank, kind="stable")]
            keep, rest = order[:beam_width], order[beam_width:]
            scored_now = (nodes, stay_b, stay_nb, grow, trie)
            kept = [_candidate(int(k), *scored_now) for k in keep]
            best_pruned = _candidate(int(rest[0]), *scored_now) if rest.size else None
            nodes = [p.node for p in kept]
            log_b = np.array([p.log_blank for p in kept])
            log_nb = np.array([p.log_non_blank for p in kept])
            frames.append(Frame(kept, scored, best_pruned))
    return frames


def _candidate(
    k: int,
    nodes: list[int],
    stay_b: np.ndarray,
    stay_nb: np.ndarray,
    grow: np.ndarray,
    trie: Trie,
) -> Prefix:
    """Return candidate k of a frame: beam prefix k staying (k < W), else the growth
    (w, c) of prefix w by symbol c, numbered row by row after the stays."""
    if k < len(nodes):
        b, nb = float(stay_b[k]), float(stay_nb[k])
        return Prefix(nodes[k], b, nb, float(np.logaddexp(b, nb)), trie)
    w, c = divmod(k - len(nodes), grow.shape[1])
    nb = float(grow[w, c])
    return Prefix(trie.child(nodes[w], c), -math.inf, nb, nb, trie)


def decode(
    log_probs: np.ndarray,
    blank: int,
    method: str = "beam",
    beam_width: int = BEAM_WIDTH,
    check: Callable[[tuple[int, ...]], None] | None = None,
) -> Decoding:
    """Return the decoding of a T × V matrix of natural-log probabilities: greedy, and with
    method "beam" prefix beam search; with the exact probability of each output (greedy's,
    then the n-best's) while they fit MAX_EXACT_CELLS of the forward algorithm (None
    after). `check` is called with the decoded output before any exact probability is
    computed: the caller's limits on it (it raises to refuse)."""
    lp = np.asarray(log_probs, dtype=np.float64)
    if method not in ("greedy", "beam"):
        raise ValueError(f"method must be greedy or beam, got {method!r}")
    path, collapsed, path_log = _greedy_path(lp, blank)
    frames = beam_search(lp, blank, beam_width) if method == "beam" else []
    outputs = [(p.prefix, p.log_probability) for p in frames[-1].kept] if frames else []
    if method == "greedy":
        outputs = [(collapsed, path_log)]
    if check is not None:
        check(outputs[0][0])
    spent, complete = 0, True
    exact: dict[tuple[int, ...], float] = {}
    for prefix in [collapsed, *(prefix for prefix, _ in outputs)]:
        if prefix in exact:
            continue
        cells = lp.shape[0] * (2 * len(prefix) + 1)
        if spent + cells > MAX_EXACT_CELLS:
            complete = False  # this one left out; a shorter one after it may still fit
            continue
        spent += cells
        exact[prefix] = exact_log_probability(lp, prefix, blank)
    best_path = GreedyDecoding(path, collapsed, path_log, exact.get(collapsed))
    nbest = [Best(prefix, log_p, exact.get(prefix)) for prefix, log_p in outputs]
    width = beam_width if method == "beam" else None
    return Decoding(method, width, best_path, frames, nbest, lp, complete)
