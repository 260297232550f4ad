"""The range rule of every numeric configuration value, checked whenever a :class:`~acq_spark.config.Config` is built.

:data:`RULES` maps a full dotted key to a rule; :func:`first_violation` walks a configuration's
dataclasses and returns the message of the first value that breaks its rule, naming the key,
the rule and the value (``train.epochs: must be an integer >= 1, got -1``). A test checks that
every numeric field has a rule, so a new key cannot be added without one.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Rule:
    """A check of one value and the words that say what it requires."""

    holds: Callable[[Any], bool]
    text: str


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def at_least(low: float, integer: bool = True) -> Rule:
    """A finite number (an integer when ``integer``) ≥ ``low``."""
    kind = "an integer" if integer else "a finite number"
    return Rule(lambda v: _number(v) and (isinstance(v, int) or not integer) and v >= low, f"{kind} >= {low:g}")


def above(low: float) -> Rule:
    """A finite number > ``low``."""
    return Rule(lambda v: _number(v) and v > low, f"a finite number > {low:g}")


def within(low: float, high: float, open_low: bool = False, open_high: bool = False) -> Rule:
    """A finite number in ``[low, high]`` (the bound itself left out at an ``open_low`` / ``open_high`` end)."""
    left, right = "(" if open_low else "[", ")" if open_high else "]"
    return Rule(
        lambda v: _number(v) and (v > low if open_low else v >= low) and (v < high if open_high else v <= high),
        f"in {left}{low:g}, {high:g}{right}",
    )


def between(low: float, high: float) -> Rule:
    """A finite number strictly between ``low`` and ``high``."""
    return Rule(lambda v: _number(v) and low < v < high, f"in ({low:g}, {high:g})")


def optional(rule: Rule) -> Rule:
    """``rule``, or null."""
    return Rule(lambda v: v is None or rule.holds(v), f"null or {rule.text}")


def increasing_positive(allow_empty: bool = False) -> Rule:
    """A list of strictly increasing integers ≥ 1 (non-empty unless ``allow_empty``)."""

    def holds(values: Any) -> bool:
        items = list(values)
        ints = all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in items)
        return (allow_empty or bool(items)) and ints and items == sorted(set(items))

    return Rule(holds, "strictly increasing positive integers, at least one")


def positive_list() -> Rule:
    """A non-empty list of integers ≥ 1."""
    return Rule(
        lambda vs: bool(vs) and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in vs),
        "a non-empty list of positive integers",
    )


def increasing_thresholds() -> Rule:
    """A list of increasing numbers > 0 (empty allowed)."""

    def ok(vs: Any) -> bool:
        numbers = [v for v in vs if isinstance(v, int | float) and not isinstance(v, bool)]
        return len(numbers) == len(vs) and all(v > 0 for v in numbers) and numbers == sorted(set(numbers))

    return Rule(ok, "a list of increasing numbers > 0 (empty: derived from the cost tree)")


POSITIVE = at_least(1)
WEIGHT = at_least(0, integer=False)

RULES: dict[str, Rule] = {
    "levels": increasing_positive(),
    "seed": at_least(0),
    "spark.shuffle_partitions": POSITIVE,
    "simulate.n_pairs": POSITIVE,
    "simulate.n_days": POSITIVE,
    "simulate.pairs_per_account": at_least(1, integer=False),
    "simulate.n_products": POSITIVE,
    "simulate.n_industries_l1": POSITIVE,
    "simulate.n_industries_l2": POSITIVE,
    "simulate.partitions": POSITIVE,
    "validation.max_bad_share": within(0, 1),
    "validation.outlier.quantile": within(0, 1, open_low=True),
    "validation.outlier.multiple": at_least(1, integer=False),
    "features.windows": increasing_positive(),
    "features.train_days": at_least(2),  # training needs a training day and a validation day
    "tree.n_positive_leaves": POSITIVE,
    "tree.quantile_accuracy": POSITIVE,
    "train.max_examples": POSITIVE,
    "train.batch_size": POSITIVE,
    "train.epochs": POSITIVE,
    "train.patience": at_least(0),
    "train.learning_rate": above(0),
    "train.hidden_units": positive_list(),
    "train.embedding_dim": POSITIVE,
    "train.w_tree": WEIGHT,
    "train.w_reg": WEIGHT,
    "train.w_std": WEIGHT,
    "train.w_consistency": WEIGHT,
    "train.w_lipschitz": WEIGHT,
    "train.huber_delta": above(0),
    "train.clipnorm": above(0),
    "train.ema_momentum": within(0, 1, open_high=True),
    "train.cread_thresholds": increasing_thresholds(),
    "score.beta": WEIGHT,
    "train.promotion_auc_tolerance": optional(within(0, 1)),  # null: every new model is published
    "score.batch_size": POSITIVE,
    "budget.total_creatives": optional(POSITIVE),
    "budget.ratio_of_last_day": above(0),
    "allocation.tolerance": above(0),
    "allocation.max_passes": POSITIVE,
    "allocation.lambdas_per_pass": POSITIVE,
    "allocation.explore_share": within(0, 1, open_high=True),  # 1: nothing left to solve
    "allocation.explore_steps": at_least(0),  # 0: a uniform level
    "report.sample_pairs": at_least(0),
    "publish.min_pairs_share_of_previous": within(0, 1),  # 0 turns the check off
    "publish.min_budget_used_share": within(0, 1),
    "publish.max_input_age_days": optional(POSITIVE),  # the decision day follows the last input day
    "publish.max_days_before_today": optional(at_least(0)),
    "maintenance.retention_days": at_least(1, integer=False),  # longer than any write: VACUUM spares younger files
    "maintenance.log_retention_days": at_least(1, integer=False),
    "maintenance.zorder_days": at_least(0),
    "lock.stale_after_minutes": above(0),
    "lock.heartbeat_seconds": above(0),
    "lock.wait_seconds": at_least(0, integer=False),
    "experiment.holdout_share": between(0, 1),  # both arms need accounts
    "experiment.salt": Rule(lambda v: isinstance(v, str) and v.strip() != "", "a non-empty string"),
}


def dotted_values(obj: Any, prefix: str = "") -> Iterator[tuple[str, Any]]:
    """``(dotted key, value)`` of every leaf field of the dataclass ``obj`` (nested dataclasses walked)."""
    for f in dataclasses.fields(obj):
        key, value = f"{prefix}{f.name}", getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from dotted_values(value, f"{key}.")
        else:
            yield key, value


def first_violation(cfg: Any) -> str | None:
    """The message of the first value of ``cfg`` (a Config dataclass) that breaks its rule, None when all hold."""
    for key, value in dotted_values(cfg):
        rule = RULES.get(key)
        if rule is not None and not rule.holds(value):
            shown = list(value) if isinstance(value, tuple) else value
            return f"{key}: must be {rule.text}, got {shown!r}"
    return None
