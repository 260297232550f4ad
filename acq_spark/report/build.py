"""Gather a run's outputs (run record, Table 2, Table 4, model metrics, scores vs truth) into a report.

Written to ``<warehouse>/reports/<dt>/report.md`` and ``report.html`` with PNG plots beside them (relative
links, so the report reads where it lies, in a bucket too): it is built in a local temporary folder and each
file is then written whole through :mod:`acq_spark.platform.fs`, the plots first. Parts whose inputs are missing
(no truth outside the simulated world or none for the day, no Table 2 when the model comparison was not
run) are left out with a note.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Any

import numpy as np
from pyspark.sql import SparkSession
from pyspark.sql import functions as F

from acq_spark.allocation.publish import read_pointer
from acq_spark.allocation.record import AllocationRecord
from acq_spark.config import Config
from acq_spark.errors import AcqError, InputNotFoundError
from acq_spark.evaluation.table4 import NO_TRUTH, Table4, table4_markdown, truth_gap
from acq_spark.platform import fs
from acq_spark.platform.catalog import SCORES, TRUTH, allocation_records_dir, nightly_records_dir, report_dir
from acq_spark.platform.delta_tables import table_exists
from acq_spark.report.html import markdown_to_html
from acq_spark.report.loop import closed_loop_lines, experiment_lines
from acq_spark.report.plots import plot_calibration, plot_cost_curves, plot_lambda_search, plot_levels
from acq_spark.report.quality import churn_lines, drift_lines, quarantine_lines
from acq_spark.training.artifact import ModelArtifact, load_artifact

REPORT_FILE = "report.md"


def latest_run_record(cfg: Config, day: dt.date | str) -> AllocationRecord | None:
    """The newest allocation run record of ``day`` (run ids sort by time)."""
    folder = allocation_records_dir(cfg.warehouse, day)
    records = fs.list_names(folder, ".json")
    if not records:
        return None
    return AllocationRecord.from_dict(fs.read_json(fs.join(folder, records[-1]), "allocation run record"))


def model_choice_reason(cfg: Config, day: dt.date | str) -> str | None:
    """Why the newest nightly of ``day`` scored with its model (its run record's ``model_choice``), if recorded."""
    folder = nightly_records_dir(cfg.warehouse)
    records = [name for name in fs.list_names(folder, ".json") if name.startswith(f"{day}_")]
    if not records:
        return None
    record = fs.read_json(fs.join(folder, records[-1]), "nightly run record")
    return (record.get("model_choice") or {}).get("reason")


def sample_curves(
    spark: SparkSession, cfg: Config, day: dt.date | str, n: int
) -> tuple[np.ndarray, np.ndarray | None, list]:
    """pvalue curves of ``n`` pairs (half the largest by predicted cost, half a hash sample) and their truth."""
    scores = spark.read.format("delta").load(cfg.table(SCORES)).where(F.col("dt") == F.lit(day))
    top = scores.orderBy(F.element_at("pvalue", -1).desc(), "account_id", "photo_id").limit(n // 2)
    rest = scores.orderBy(F.xxhash64("account_id", "photo_id"), "account_id", "photo_id").limit(n - n // 2)
    picked = top.unionByName(rest).dropDuplicates(["account_id", "photo_id"])
    has_truth = table_exists(spark, cfg.table(TRUTH))
    if has_truth:
        truth = spark.read.format("delta").load(cfg.table(TRUTH)).where(F.col("dt") == F.lit(day))
        picked = picked.join(
            truth.select("account_id", "photo_id", "expected_cost"), ["account_id", "photo_id"], "left"
        )
    rows = picked.orderBy("account_id", "photo_id").collect()
    predicted = np.array([r["pvalue"] for r in rows])
    truth_curves = np.array([r["expected_cost"] or [np.nan] * len(cfg.levels) for r in rows]) if has_truth else None
    return predicted, truth_curves, [f"{r['account_id']}/{r['photo_id']}" for r in rows]


def input_lines(cfg: Config, day: dt.date | str) -> list[str]:
    """The report's input section from the validation record of ``day``: rows, quarantined rows, outliers."""
    from acq_spark.ingest.validation import validation_record_path

    path = validation_record_path(cfg, day)
    if not fs.is_file(path):
        return []
    record = fs.read_json(path, "validation record")
    out = record["outliers"]
    if out["action"] == "off":
        guard = "outlier guard off"
    elif out["bound"] is None:
        guard = "no positive cost, so no outlier bound"
    else:
        done = "quarantined" if out["action"] == "quarantine" else "capped"
        guard = f"{out['rows']:,} outlier cost(s) above {out['bound']:,.6g} {done}"
    return [
        "## Input",
        "",
        f"- {record['rows']:,} rows, {record['quarantined']:,} quarantined ({record['bad_share']:.2%}); {guard}",
        "",
    ]


def _number(value: float | None, fmt: str) -> str:
    return "n/a" if value is None else f"{value:{fmt}}"


def _read(path: str) -> str | None:
    return fs.read_text(path, "report part") if fs.is_file(path) else None


def build_report(
    spark: SparkSession,
    cfg: Config,
    day: dt.date | str,
    stages: dict[str, Any] | None = None,
    record: AllocationRecord | None = None,
    table4: Table4 | None = None,
    artifact: ModelArtifact | None = None,
    choice: str | None = None,
) -> str:
    """Write the report of decision day ``day`` beside its Table 2 and Table 4; returns the Markdown file's location.

    Args:
        spark: the session.
        cfg: the configuration (warehouse, levels, report).
        day: the decision day.
        stages: the stage timings to list.
        record: the allocation's record (the nightly's); None reads the newest run record of ``day``.
        table4: Table 4 (:func:`~acq_spark.evaluation.table4.run_table4`'s); None reads it
            from the day's report folder when it is there.
        artifact: the model the day's scores came from; None loads the version the day's publish pointer
            names, else the one ``models/LATEST`` names.
        choice: why that model scored (pinned, passed or failed the promotion gate), for the Model section.
    """
    folder = report_dir(cfg.warehouse, day)
    with tempfile.TemporaryDirectory(prefix="acq-report-") as tmp:
        names = render_report(spark, cfg, day, Path(tmp), stages, record, table4, artifact, choice)
        for name in sorted(names, key=lambda n: n in ("report.md", "report.html")):  # the pages last
            fs.upload(Path(tmp) / name, fs.join(folder, name))
    return fs.join(folder, REPORT_FILE)


def copy_report(cfg: Config, day: dt.date | str, out: Path) -> Path:
    """Copy the report of ``day`` (pages, plots, tables) from the warehouse into the local folder ``out``."""
    folder = report_dir(cfg.warehouse, day)
    names = fs.list_names(folder)
    if REPORT_FILE not in names:
        raise InputNotFoundError(f"report: no {REPORT_FILE} in {folder} (run jobs/report.py without --out first)")
    for name in names:
        fs.download(fs.join(folder, name), out / name, "report")
    return out / REPORT_FILE


def render_report(
    spark: SparkSession,
    cfg: Config,
    day: dt.date | str,
    out: Path,
    stages: dict[str, Any] | None = None,
    record: AllocationRecord | None = None,
    table4: Table4 | None = None,
    artifact: ModelArtifact | None = None,
    choice: str | None = None,
) -> list[str]:
    """Write the report's pages and plots into the local folder ``out`` (see :func:`build_report`); their names."""
    folder = report_dir(cfg.warehouse, day)
    day_value = dt.date.fromisoformat(str(day))
    md = [f"# ACQ run report — decision day {day}", "", *input_lines(cfg, day)]
    md += quarantine_lines(spark, cfg, day_value) + drift_lines(spark, cfg, day_value)
    record = record or latest_run_record(cfg, day)
    if record:
        md += _allocation_lines(record, out)
        md += churn_lines(spark, cfg, day_value, out)
    if table4 is None and fs.is_file(fs.join(folder, "table4.json")):
        table4 = Table4.from_dict(fs.read_json(fs.join(folder, "table4.json"), "Table 4 summary"))
    md += _table4_lines(spark, cfg, day, table4, out)
    md += closed_loop_lines(spark, cfg, day_value, out) + experiment_lines(spark, cfg, day_value, out)
    table2 = _read(fs.join(folder, "table2.md"))
    md += ["## Table 2: cost models on the validation day", ""]
    md += [table2] if table2 else ["Not built for this day (`jobs/evaluate_models.py` builds it).", ""]
    if artifact is None:
        artifact = _scores_model(cfg, day)
    if artifact is not None:
        md += _model_lines(cfg, day, artifact, choice, out)
    md += _cost_curve_lines(spark, cfg, day, out)
    if stages:
        md += _stage_lines(stages)
    text = "\n".join(md)
    (out / REPORT_FILE).write_text(text)
    (out / "report.html").write_text(markdown_to_html(text, f"ACQ report {day}", images=out))
    return sorted(p.name for p in out.iterdir())


def _allocation_lines(record: AllocationRecord, out: Path) -> list[str]:
    """The report's allocation section from the run record: budget, λ*, objective and gap, the holdout's arms,
    and the λ search plotted into ``out``."""
    s = record.solve
    budget = record.budget
    used = record.creatives_used  # with a holdout the solve is the treatment's; the day used both arms'
    md = [
        "## Allocation",
        "",
        f"- method `{record.method}`, run `{record.run_id}`, budget {budget:,} creatives "
        f"({record.budget_source.get('source')}), used {used:,} (unused {budget - used:,})",
        f"- λ* = {s.lam:.6g} after {s.passes} passes over the scores ({s.solver} solver)",
        f"- objective Σr = {s.objective:,.2f}; LP bound {_number(s.dual_bound, ',.2f')}; "
        f"gap {_number(s.gap, ',.4g')} (relative {_number(s.relative_gap, '.3g')})",
        "",
    ]
    if record.experiment:
        exp = record.experiment
        arms = "; ".join(
            f"{arm} `{a['method']}` {a['budget']:,} creatives (used {a['used']:,}, {a['pairs']:,} pairs, "
            f"λ* {_number(a['lam'], '.6g')})"
            for arm, a in exp["arms"].items()
        )
        md[-1:-1] = [f"- holdout of {exp['holdout_share']:.0%} of the accounts, budget split by the last input "
                     f"day's creatives {exp['creatives']}: {arms}; the λ* above is the treatment's"]
    if record.exploration:
        explored = record.exploration
        steps = explored.get("steps", 0)
        where = f"up to {steps} level{'s' if steps > 1 else ''} from the method's own" if steps else "at random levels"
        md[-1:-1] = [f"- exploration: {explored['pairs']:,} pairs ({explored['share']:.0%} drawn) {where} "
                     f"took {explored['creatives']:,} creatives first; the method solved the others with the rest"]
    if s.trace:
        plot_lambda_search(s.trace, out / "lambda_search.png")
        md += ["![λ search](lambda_search.png)", ""]
    return md


def _table4_lines(spark: SparkSession, cfg: Config, day: dt.date | str, table4: Table4 | None, out: Path) -> list[str]:
    """The report's Table 4 section: why the truth does not cover ``day``, or the table with the creatives per
    level plotted into ``out``, or a note that there is no truth."""
    gap = truth_gap(spark, cfg, day)
    if gap not in (None, NO_TRUTH):
        return ["## Table 4", "", f"Table 4: {gap}.", ""]
    if table4:
        counts = {m: list(r.pairs_per_level) for m, r in table4.methods.items()}
        plot_levels(cfg.levels, counts, out / "levels.png")
        table = table4_markdown(table4)
        return ["## Table 4: allocation on the truth", "", table, "![creatives per level](levels.png)", ""]
    return ["## Table 4", "", "Not available: there is no `truth` table (only the simulated world has one).", ""]


def _scores_model(cfg: Config, day: dt.date | str) -> ModelArtifact | None:
    """The model the day's scores came from; None when it does not load."""
    # the day's publish pointer names the model its scores came from (a pinned one too); LATEST is the fallback
    pointer = read_pointer(cfg.warehouse, day) or {}
    version = (pointer.get("scores") or {}).get("model_version")
    try:
        return load_artifact(cfg.warehouse, version)
    except AcqError:  # the report still renders what exists
        return None


def _model_lines(cfg: Config, day: dt.date | str, artifact: ModelArtifact, choice: str | None, out: Path) -> list[str]:
    """The report's model section: version, model and AUC, why it scored (``choice``, else the nightly's run record)
    and its calibration plotted into ``out``."""
    m = artifact.metrics
    md = ["## Model", "", f"- version `{artifact.version}`: {m['model']}/{m['variant']}, AUC {m['auc']:.4f}"]
    choice = choice or model_choice_reason(cfg, day)
    md += [f"- why this model: {choice}", ""] if choice else [""]
    if m.get("calibration"):
        plot_calibration(m["calibration"], out / "calibration.png")
        md += ["![calibration](calibration.png)", ""]
    return md


def _cost_curve_lines(spark: SparkSession, cfg: Config, day: dt.date | str, out: Path) -> list[str]:
    """The report's predicted cost curves of a sample of pairs (with their truth), plotted into ``out``; none without
    scores."""
    if not table_exists(spark, cfg.table(SCORES)):
        return []
    predicted, truth, labels = sample_curves(spark, cfg, day, cfg.report.sample_pairs)
    if not len(predicted):
        return []
    plot_cost_curves(cfg.levels, predicted, truth, labels, out / "cost_curves.png")
    return ["## Predicted cost curves", "", "![cost curves](cost_curves.png)", ""]


def _stage_lines(stages: dict[str, Any]) -> list[str]:
    """The report's stages section: each stage's seconds and figures."""
    md = ["## Stages", "", "| stage | seconds | figures |", "|---|---|---|"]
    for name, figures in stages.items():
        extra = ", ".join(f"{k}={v}" for k, v in figures.items() if k != "seconds")
        md.append(f"| {name} | {figures['seconds']:.1f} | {extra} |")
    md.append("")
    return md
