"""REINFORCE: −Σₜ Aₜ log π(yₜ | sₜ), the negative of the lecture's objective."""

from __future__ import annotations

from typing import Any

from rnnloss_cli.losses import Explanation, Key, Loss
from rnnloss_cli.losses.keys import LOG_BASE, LOG_PROBS, PROBS, reduction, template

RETURNS = ("as-given", "reward-to-go")


def readings(problem: Any, result: Any) -> list[Any]:
    """Return the sum and the mean in every log base, and the objective J (= −sum), the
    lecture's formula: an answer key may hold any of them."""
    from rnnloss_cli.solver import Reading, term_readings

    objective = Reading(
        (),
        float(result.details["objective"]),
        "the objective J = Σₜ Aₜ·log πₜ",
        "the lecture's formula, to maximise; the loss is its negative",
    )
    return [*term_readings(result), objective]


LOSS = Loss(
    name="reinforce",
    title="REINFORCE loss",
    aliases=("rl",),
    keys=(
        Key("rewards", "vector", "the rewards R_t", help="Rewards per step."),
        PROBS.with_help("π of each action taken, per step."),
        LOG_PROBS.with_help("log π of each action, instead of --probs."),
        Key(
            "gamma",
            "number",
            "discount in [0, 1] for reward-to-go",
            help="Discount (default 1).",
            default=1.0,
            bounds={"minimum": 0, "maximum": 1},
        ),
        Key(
            "returns",
            "choice",
            "the returns A_t start from",
            help="as-given (default) or reward-to-go.",
            default="as-given",
            choices=RETURNS,
        ),
        Key("baseline", "number-or-mean", "a number or mean", help="A number, or mean."),
        Key(
            "normalize",
            "flag",
            "true or false",
            help="Standardise the returns as PyTorch's example.",
            default=False,
        ),
        reduction("sum"),
        LOG_BASE,
    ),
    validator="rnnloss_cli.problems.sequence:validate_reinforce",
    core="rnnloss_cli.core.sequence:reinforce",
    readings=readings,
    help="REINFORCE loss −Σₜ Aₜ log π(yₜ | sₜ): the negative of the lecture's objective "
    "Σₜ Rₜ log π, to minimise; default reduction sum.",
    short="REINFORCE policy-gradient loss (alias: rl).",
    example="--rewards 0,0,1 --probs 0.5,0.4,0.9 --returns reward-to-go --gamma 0.9",
    explanation=Explanation(
        summary="−Σₜ Aₜ log π(yₜ | sₜ): the policy-gradient loss, the negative of the lecture's "
        "objective",
        use="sequence decisions with delayed reward: games, decoding with a sequence-level reward",
        formula="L = −Σₜ Aₜ·log π(yₜ | sₜ),   Gₜ = rₜ + γ·Gₜ₊₁",
        when="Only the log-probabilities of the actions taken, and the rewards.",
        conventions="Default reduction sum. returns as-given (the lecture's Rₜ) or reward-to-go; "
        "baseline (a number or mean); normalize as PyTorch's REINFORCE example.",
        pitfalls="The lecture's Σ Rₜ log π is maximised; a loss is minimised, so the sign flips. "
        "With delayed reward, as-given returns give early moves no credit: use reward-to-go.",
        problem="problems/reinforce_game.yaml",
        template=template("""
# REINFORCE with a reward only at the end, discounted back to each move.
loss: reinforce
title: Delayed reward in a four-move game
rewards: [0, 0, 0, 1]
probs: [0.5, 0.8, 0.6, 0.9]       # π of each action taken (or log_probs)
returns: reward-to-go             # as-given (default) | reward-to-go
gamma: 0.9
expected: 1.2512
"""),
        example="rnnloss reinforce --rewards 0,0,0,1 --probs 0.5,0.8,0.6,0.9 --returns "
        "reward-to-go --gamma 0.9 --expected 1.2512",
    ),
)
