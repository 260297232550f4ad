"""What the allocation stage hands on: :class:`AllocationRecord`, also its run record in the warehouse.

``<warehouse>/runs/allocation/<dt>/<run_id>.json`` holds :meth:`AllocationRecord.to_dict`; Table 4, the
report, the closed loop and the nightly's run record read it through :meth:`AllocationRecord.from_dict`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from acq_spark.allocation.kernels.rule_based import alpha_of
from acq_spark.allocation.solver import SolveRecord


@dataclass(frozen=True)
class AllocationRecord:
    """One published allocation of a decision day.

    Attributes:
        run_id: the run that published it.
        day: the decision day.
        method: the configured method (with a holdout, the treatment arm's).
        levels: the creative levels solved over.
        budget: the budget C.
        budget_source: where C came from: ``source`` (``total_creatives`` or ``ratio_of_last_day``) and, when
            the run calendar was known, the last input day, its creatives, the ratio and how they were counted.
        solve: the configured method's solve (with a holdout, the treatment arm's at its share of C).
        published: the Delta version of each table published (``allocation``, ``account_rules``).
        scores_version: the ``scores`` version solved from.
        model_version: the model that wrote those scores.
        stages: the run's stage timings so far (:meth:`~acq_spark.platform.run_log.StageTimer.as_dict`).
        experiment: the holdout's design, budget split and each arm's solve; None without a holdout.
        exploration: the share, pairs and creatives of ``allocation.explore_share``'s exploring pairs (the
            rows of method ``explore``); None without exploration.
    """

    run_id: str
    day: dt.date
    method: str
    levels: tuple[int, ...]
    budget: int
    budget_source: Mapping[str, Any]
    solve: SolveRecord
    published: Mapping[str, int]
    scores_version: int | None
    model_version: str | None
    stages: Mapping[str, Any] = field(default_factory=dict)
    experiment: Mapping[str, Any] | None = None
    exploration: Mapping[str, Any] | None = None

    @property
    def alpha(self) -> float | None:
        """The rule-based baseline's α = 1/λ* (None when infinite or for the other methods)."""
        if self.method != "rule_based":
            return None
        alpha = alpha_of(self.solve.lam)
        return alpha if alpha != float("inf") else None

    @property
    def creatives_used(self) -> int:
        """The creatives the day uses: the solve's, or with a holdout both arms', and the exploring pairs'."""
        explored = int(self.exploration["creatives"]) if self.exploration else 0
        if self.experiment:
            return explored + sum(int(arm["used"]) for arm in self.experiment["arms"].values())
        return explored + self.solve.budget_used

    @property
    def mixes_methods(self) -> bool:
        """Whether the published rows hold more than the configured method's solve (a holdout, exploration)."""
        return self.experiment is not None or self.exploration is not None

    @property
    def outputs(self) -> dict[str, Any]:
        """What the run wrote, as the run records name it: the scores read and each table's version."""
        scores = {"version": self.scores_version, "model_version": self.model_version}
        return {"scores": scores, **{name: {"version": v} for name, v in self.published.items()}}

    def to_dict(self) -> dict[str, Any]:
        """The run record's JSON values."""
        solve = self.solve.to_dict()
        if self.method == "rule_based":
            solve["alpha"] = self.alpha
        out = {
            "run_id": self.run_id,
            "dt": self.day.isoformat(),
            "method": self.method,
            "levels": list(self.levels),
            "budget": {"value": self.budget, **self.budget_source},
            "solve": solve,
            "published": dict(self.published),
            "stages": dict(self.stages),
            "outputs": self.outputs,
        }
        if self.experiment is not None:
            out["experiment"] = dict(self.experiment)
        if self.exploration is not None:
            out["exploration"] = dict(self.exploration)
        return out

    @classmethod
    def from_dict(cls, d: Mapping[str, Any]) -> AllocationRecord:
        """The record :meth:`to_dict` wrote (``runs/allocation/<dt>/<run_id>.json``)."""
        scores = d.get("outputs", {}).get("scores", {})
        return cls(
            run_id=d["run_id"],
            day=dt.date.fromisoformat(d["dt"]),
            method=d["method"],
            levels=tuple(int(k) for k in d["levels"]),
            budget=int(d["budget"]["value"]),
            budget_source={k: v for k, v in d["budget"].items() if k != "value"},
            solve=SolveRecord.from_dict(d["solve"]),
            published=dict(d["published"]),
            scores_version=scores.get("version"),
            model_version=scores.get("model_version"),
            stages=dict(d.get("stages", {})),
            experiment=d.get("experiment"),
            exploration=d.get("exploration"),
        )
