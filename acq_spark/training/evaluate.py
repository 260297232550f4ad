"""The paper's Table 2 on the validation day: AUC, MSE, PAUC and GAUC of every model."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from acq_spark.training.metrics import auc, gauc, mse, pauc

METRICS = ("auc", "mse", "pauc", "gauc")


def at_observed_level(y: np.ndarray, level: np.ndarray) -> np.ndarray:
    """``y[i, level[i]]``: each row's prediction at the level it was observed at. Shapes [N, K], [N] → [N]."""
    return np.take_along_axis(np.asarray(y), np.asarray(level, dtype=np.int64)[:, None], axis=1)[:, 0]


def table2_row(y: np.ndarray, val: Mapping[str, np.ndarray]) -> dict[str, float]:
    """The four metrics of predictions ``y`` [N, K] against the validation arrays."""
    pred = at_observed_level(y, val["level"]).astype(np.float64)
    cost = np.asarray(val["cost"], dtype=np.float64)
    return {
        "auc": auc(cost > 0, pred),
        "mse": mse(cost, pred),
        "pauc": pauc(cost, pred),
        "gauc": gauc(val["account_id"], cost, pred),
        "non_finite_predictions": int(np.sum(~np.isfinite(y))),
    }


def calibration_bins(y: np.ndarray, val: Mapping[str, np.ndarray], n_bins: int = 10) -> list[dict[str, float]]:
    """Predicted vs realised cost on the validation day, in equal-count bins of the prediction.

    Returns:
        One dict per bin: ``mean_predicted``, ``mean_realised`` and ``rows``.
    """
    pred = at_observed_level(y, val["level"]).astype(np.float64)
    cost = np.asarray(val["cost"], dtype=np.float64)
    order = np.argsort(pred, kind="stable")
    return [
        {"mean_predicted": float(pred[i].mean()), "mean_realised": float(cost[i].mean()), "rows": len(i)}
        for i in np.array_split(order, n_bins)
        if len(i)
    ]


def _cell(value: Any, best: bool) -> str:
    if isinstance(value, float):
        text = "NaN" if math.isnan(value) else f"{value:.6f}" if abs(value) < 100 else f"{value:.2f}"
    else:
        text = str(value)
    return f"**{text}**" if best else text


def table2_markdown(rows: Sequence[Mapping[str, Any]]) -> str:
    """A Markdown table like the paper's Table 2; the best value of each metric in bold."""
    best = {}
    for m in METRICS:
        values = [r[m] for r in rows if isinstance(r[m], float) and math.isfinite(r[m])]
        if values:
            best[m] = min(values) if m == "mse" else max(values)
    lines = [
        "| Method | Variant | AUC ↑ | MSE ↓ | PAUC ↑ | GAUC ↑ | epochs | train s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        cells = [_cell(r[m], r[m] == best.get(m)) for m in METRICS]
        lines.append(
            f"| {r['model'].upper()} | {r['variant']} | "
            + " | ".join(cells)
            + f" | {r['epochs']} | {r['train_seconds']:.0f} |"
        )
    return "\n".join(lines) + "\n"
