"""The report's PNG plots (matplotlib, Agg backend). Each function takes arrays (or the λ search's trace) and a path."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from acq_spark.allocation.search import PassTrace


def _pyplot() -> Any:  # matplotlib.pyplot, imported on first use
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(plt: Any, fig: Any, path: Path) -> Path:
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def plot_cost_curves(
    levels: Sequence[int], predicted: np.ndarray, truth: np.ndarray | None, labels: Sequence[str], path: Path
) -> Path:
    """Predicted cost curves (pvalue over the levels) against the truth, one panel per sample pair."""
    plt = _pyplot()
    n = len(predicted)
    cols = min(4, n)
    rows = int(np.ceil(n / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(3.2 * cols, 2.6 * rows), squeeze=False)
    for i, ax in enumerate(axes.ravel()):
        if i >= n:
            ax.axis("off")
            continue
        ax.plot(levels, predicted[i], "o-", label="predicted (pvalue)", color="tab:blue")
        if truth is not None:
            ax.plot(levels, truth[i], "s--", label="truth", color="tab:orange")
        ax.set_xscale("log")
        ax.minorticks_off()  # a log axis's minor ticks carry no labels and are slow to draw
        ax.set_title(labels[i], fontsize=8)
        ax.tick_params(labelsize=7)
        if i == 0:
            ax.legend(fontsize=7)
    fig.supxlabel("creatives (log scale)")
    fig.supylabel("expected cost")
    return _save(plt, fig, path)


def plot_lambda_search(trace: Sequence[PassTrace], path: Path) -> Path:
    """g(λ) = creatives used − budget for every λ the solver evaluated, numbered by pass."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    for p, step in enumerate(trace, start=1):
        pts = [(lam, g) for lam, g in step.points if math.isfinite(lam) and math.isfinite(g) and lam > 0]
        if pts:
            lam, g = zip(*pts, strict=True)
            ax.plot(lam, g, "o", label=f"pass {p} ({step.kind})", alpha=0.8)
    ax.axhline(0, color="grey", lw=0.8)
    ax.set_xscale("log")
    ax.set_yscale("symlog")
    ax.set_xlabel("λ")
    ax.set_ylabel("g(λ) = Σ c − C")
    ax.set_title("λ search")
    ax.legend(fontsize=7)
    return _save(plt, fig, path)


def plot_levels(levels: Sequence[int], counts: Mapping[str, Sequence[int]], path: Path) -> Path:
    """Pairs per creative level, one bar group per allocation method."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    x = np.arange(len(levels))
    width = 0.8 / max(1, len(counts))
    for i, (method, values) in enumerate(counts.items()):
        ax.bar(x + i * width - 0.4 + width / 2, values, width, label=method)
    ax.set_xticks(x, [str(v) for v in levels])
    ax.set_yscale("log")
    ax.set_xlabel("creatives allocated")
    ax.set_ylabel("pairs")
    ax.set_title("Creatives per level")
    ax.legend(fontsize=8)
    return _save(plt, fig, path)


def plot_calibration(bins: Sequence[Mapping[str, float]], path: Path) -> Path:
    """Mean realised against mean predicted cost on the validation day, in equal-count bins."""
    plt = _pyplot()
    pred = np.array([b["mean_predicted"] for b in bins])
    real = np.array([b["mean_realised"] for b in bins])
    fig, ax = plt.subplots(figsize=(4.4, 4.0))
    top = max(float(pred.max(initial=0)), float(real.max(initial=0)), 1e-6)
    ax.plot([0, top], [0, top], color="grey", lw=0.8, label="perfect")
    ax.plot(pred, real, "o-", label="model")
    ax.set_xlabel("mean predicted cost")
    ax.set_ylabel("mean realised cost")
    ax.set_title("Calibration (validation day)")
    ax.legend(fontsize=8)
    return _save(plt, fig, path)


def plot_churn(
    levels: Sequence[int], transitions: Mapping[tuple[Any, Any], int], previous: str, today: str, path: Path
) -> Path:
    """Pairs by (previous day's level, today's level), log-coloured; "none" for a pair absent on that day."""
    plt = _pyplot()
    from matplotlib.colors import LogNorm

    ticks = ["none", *(str(v) for v in levels)]
    position: dict[int | None, int] = {None: 0, **{i: i + 1 for i in range(len(levels))}}
    grid = np.zeros((len(ticks), len(ticks)))
    for (before, now), count in transitions.items():
        grid[position[before], position[now]] += count
    fig, ax = plt.subplots(figsize=(5.6, 4.8))
    image = ax.imshow(np.where(grid > 0, grid, np.nan), norm=LogNorm(vmin=1, vmax=max(grid.max(), 1)), cmap="viridis")
    ax.set_xticks(range(len(ticks)), ticks)
    ax.set_yticks(range(len(ticks)), ticks)
    ax.set_xlabel(f"creatives on {today}")
    ax.set_ylabel(f"creatives on {previous}")
    ax.set_title("Allocation churn (pairs)")
    fig.colorbar(image, ax=ax, label="pairs")
    return _save(plt, fig, path)


def plot_closed_loop(days: Sequence[str], shares: Mapping[str, Sequence[float | None]], path: Path) -> Path:
    """Share of the oracle night by night, one line per method (a missing night is a gap)."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    x = np.arange(len(days))
    for method, values in shares.items():
        ax.plot(x, [np.nan if v is None else 100 * v for v in values], "o-", label=method)
    ax.set_xticks(x, days, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("% of the oracle's true cost")
    ax.set_title("Closed loop: share of the oracle by night")
    ax.legend(fontsize=8)
    return _save(plt, fig, path)


def plot_uplift(
    days: Sequence[str],
    measured: Sequence[tuple[float | None, float | None, float | None]],
    true: Sequence[float | None],
    path: Path,
) -> Path:
    """The holdout's measured uplift (estimate and 95% interval) by decision day, and the true uplift beside it.

    Drawn as the ratio 1 + u on a log scale, where the interval (the log ratio's) is symmetric and a small
    control arm's wild day does not flatten the others.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6.4, 3.6))
    x = np.arange(len(days))

    def ratio(value: float | None) -> float:
        return np.nan if value is None else 1.0 + value

    est = np.array([ratio(m[0]) for m in measured])
    low = np.array([ratio(m[1]) for m in measured])
    high = np.array([ratio(m[2]) for m in measured])
    ax.errorbar(x, est, yerr=[est - low, high - est], fmt="o", capsize=3, label="measured (95% CI)")
    if any(t is not None for t in true):
        ax.plot(x + 0.1, [ratio(t) for t in true], "s", color="tab:orange", label="true")
    ax.axhline(1, color="grey", lw=0.8)
    ax.set_yscale("log")
    ax.set_xticks(x, days, rotation=45, ha="right", fontsize=7)
    ax.set_ylabel("treatment / control, cost per pair")
    ax.set_title("Holdout: treatment over control (1 + uplift)")
    ax.legend(fontsize=8)
    return _save(plt, fig, path)
