"""The report's sections over many days: the closed loop's nights and the holdout's measured uplift.

* **Closed loop**: the ``closed_loop`` table's nights up to the day (shares of the oracle, model, λ*,
  creatives, uplift) and ``closed_loop.png``.
* **Holdout**: the ``experiment_results`` table's decision days up to the day: each arm's cost per pair
  and per creative, the uplift with its 95% interval and, on the simulated world, the true uplift of the
  same day; ``uplift.png``.

Each returns Markdown lines (empty when its table is missing or has no row yet).
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from acq_spark.config import Config
from acq_spark.experiment.uplift import MIN_PAYING_ACCOUNTS
from acq_spark.platform.catalog import CLOSED_LOOP, EXPERIMENT_RESULTS
from acq_spark.platform.delta_tables import table_exists
from acq_spark.report.plots import plot_closed_loop, plot_uplift


def _rows(spark: SparkSession, cfg: Config, table: str, day: dt.date) -> list:
    if not table_exists(spark, cfg.table(table)):
        return []
    df = spark.read.format("delta").load(cfg.table(table))
    return df.where(F.col("dt") <= F.lit(day)).orderBy("dt").collect()


def shown(value: float | None, fmt: str = ".2%") -> str:
    """``value`` formatted with ``fmt`` (a share as a percentage by default), "n/a" when None."""
    return "n/a" if value is None else f"{value:{fmt}}"


def uplift_interval(uplift: float | None, low: float | None, high: float | None) -> str:
    """A relative uplift and its 95% interval: "+1.23% [-0.50%, +3.10%]" (each part "n/a" when None)."""
    return f"{shown(uplift, '+.2%')} [{shown(low, '+.2%')}, {shown(high, '+.2%')}]"


def closed_loop_lines(spark: SparkSession, cfg: Config, day: dt.date, out: Path) -> list[str]:
    """The closed loop's nights up to ``day``, as a table and a plot."""
    rows = _rows(spark, cfg, CLOSED_LOOP, day)
    if not rows:
        return []
    md = [
        "## Closed loop",
        "",
        "Each night the nightly decided the day and the simulated world logged it under that allocation.",
        "",
        "| day | ACQ share of oracle | rule share | model (AUC) | λ* | creatives / budget | uplift [95% CI] | true |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        uplift = uplift_interval(r["uplift"], r["ci_low"], r["ci_high"])
        md.append(
            f"| {r['dt']} | {shown(r['acq_share_of_oracle'])} | {shown(r['rule_share_of_oracle'])} | "
            f"`{r['model_version']}` ({shown(r['model_auc'], '.4f')}) | {shown(r['lambda'], '.4g')} | "
            f"{r['creatives_used']:,} / {r['budget']:,} | "
            f"{uplift if r['holdout'] else '-'} | {shown(r['true_uplift'], '+.2%') if r['holdout'] else '-'} |"
        )
    days = [str(r["dt"]) for r in rows]
    shares = {"ACQ": [r["acq_share_of_oracle"] for r in rows], "rule-based": [r["rule_share_of_oracle"] for r in rows]}
    plot_closed_loop(days, shares, out / "closed_loop.png")
    return [*md, "", "![closed loop](closed_loop.png)", ""]


def experiment_lines(spark: SparkSession, cfg: Config, day: dt.date, out: Path) -> list[str]:
    """The holdout's measured decision days up to ``day``, as a table and a plot."""
    rows = _rows(spark, cfg, EXPERIMENT_RESULTS, day)
    if not rows:
        return []
    md = [
        "## Holdout: uplift measured from the logs",
        "",
        "Control accounts (a salted hash of the account) got the baseline at their arm's share of the budget; "
        "the interval is over accounts. The true uplift (simulated world only) values each arm's allocation "
        "on the truth of the same day.",
        "",
        "| day | control | accounts t / c | cost per pair t / c | cost per creative t / c | uplift [95% CI] | true |",
        "|---|---|---|---|---|---|---|",
    ]
    few = []
    for r in rows:
        paying = [r.asDict().get(f"{arm}_paying_accounts") for arm in ("treatment", "control")]
        flag = " ⚠" if None not in paying and min(paying) < MIN_PAYING_ACCOUNTS else ""
        few += [str(r["dt"])] if flag else []
        md.append(
            f"| {r['dt']}{flag} | {r['control_method']} | {r['treatment_accounts']:,} / {r['control_accounts']:,} | "
            f"{shown(r['treatment_cost_per_pair'], ',.3f')} / {shown(r['control_cost_per_pair'], ',.3f')} | "
            f"{shown(r['treatment_cost_per_creative'], ',.3f')} / {shown(r['control_cost_per_creative'], ',.3f')} | "
            f"{uplift_interval(r['uplift'], r['ci_low'], r['ci_high'])} | "
            f"{shown(r['true_uplift'], '+.2%')} |"
        )
    if few:
        md += ["", f"⚠ {', '.join(few)}: an arm had fewer than {MIN_PAYING_ACCOUNTS} accounts with a cost; the "
               "interval comes from those accounts' spread and understates the uncertainty (a larger holdout helps)."]
    measured = [(r["uplift"], r["ci_low"], r["ci_high"]) for r in rows]
    plot_uplift([str(r["dt"]) for r in rows], measured, [r["true_uplift"] for r in rows], out / "uplift.png")
    return [*md, "", "![holdout uplift](uplift.png)", ""]
