"""Build the equal-frequency cost-bin tree (spec §4) from the training examples' costs in Spark, and store it.

Quantiles of the positive costs come from ``percentile_approx`` at j/L (j = 1..L-1); leaf counts, means
and standard deviations from one grouped pass that buckets every cost on the merged edges. The NumPy
:class:`~acq_spark.tree.cost_tree.CostTree` is then saved as ``<warehouse>/artifacts/cost_tree/<version>.json``
(exactly the bytes of ``to_json()``, so the version is the hash of the file), ``LATEST`` names it, and
the Delta table ``cost_tree_nodes`` lists its nodes and leaves for inspection.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Sequence
from decimal import Decimal

from pyspark.sql import Column, DataFrame, SparkSession
from pyspark.sql import functions as F
from pyspark.sql import types as T

from acq_spark.config import Config, table_path
from acq_spark.errors import InputNotFoundError, StageError
from acq_spark.ingest.levels import has_level
from acq_spark.ingest.run_calendar import RunCalendar
from acq_spark.platform import fs
from acq_spark.platform.catalog import COST_TREE_NODES, TREE_DIR
from acq_spark.platform.delta_tables import overwrite_table
from acq_spark.platform.frames import one_row
from acq_spark.platform.fs import LATEST
from acq_spark.platform.run_log import StageTimer
from acq_spark.tree.cost_tree import CostTree, merge_quantiles

# Sums go through an exact decimal so that re-runs give bit-identical leaf means whatever order partial
# sums are merged in (squares of costs up to 2e4 need 9 integer digits; 10 decimals is far below noise).
_EXACT = "decimal(38,10)"
NODE_SCHEMA = T.StructType(
    [
        T.StructField("version", T.StringType(), False),
        T.StructField("kind", T.StringType(), False),
        T.StructField("index", T.IntegerType(), False),
        T.StructField("depth", T.IntegerType(), False),
        T.StructField("parent", T.IntegerType()),
        T.StructField("side", T.StringType()),
        T.StructField("lo", T.DoubleType(), False),
        T.StructField("hi", T.DoubleType(), False),
        T.StructField("count", T.LongType(), False),
        T.StructField("mean", T.DoubleType(), False),
        T.StructField("std", T.DoubleType()),
    ]
)


def leaf_of(cost: Column, edges: Sequence[float]) -> Column:
    """The leaf of a cost as a column: 0 for cost ≤ 0, else 1 + the number of edges below it ((lo, hi] intervals)."""
    above = sum((F.when(cost > F.lit(e), 1).otherwise(0) for e in edges), F.lit(1))
    return F.when(cost > 0, above).otherwise(F.lit(0)).cast("int")


def leaf_sums(df: DataFrame, edges: Sequence[float]) -> DataFrame:
    """``(leaf, count, total, squares)`` per non-empty leaf of ``df.cost`` (nulls left out); sums are exact decimals."""
    exact = F.col("c")
    return (
        df.where(F.col("cost").isNotNull())
        .select(leaf_of(F.col("cost"), edges).alias("leaf"), F.col("cost").cast(_EXACT).alias("c"))
        .groupBy("leaf")
        .agg(F.count(F.lit(1)).alias("count"), F.sum(exact).alias("total"), F.sum(exact * exact).alias("squares"))
    )


def positive_quantiles(df: DataFrame, n_positive_leaves: int, accuracy: int) -> tuple[list[float], float | None]:
    """``percentile_approx`` of the positive costs at j/L, j = 1..L-1, and their maximum (None when there are none)."""
    probs = [j / n_positive_leaves for j in range(1, n_positive_leaves)]
    quantiles = F.percentile_approx("cost", probs, accuracy) if probs else F.array().cast("array<double>")
    row = one_row(df.where(F.col("cost") > 0).agg(quantiles.alias("q"), F.max("cost").alias("max")))
    return [float(q) for q in row["q"] or []], row["max"]


def tree_edges(quantiles: Sequence[float], max_cost: float | None) -> tuple[float, ...]:
    """Merged edges, without those at or above the largest cost (they would leave the last leaf empty)."""
    if max_cost is None:
        return ()
    return tuple(e for e in merge_quantiles(quantiles) if e < max_cost)


def build_cost_tree(df: DataFrame, n_positive_leaves: int, accuracy: int) -> CostTree:
    """The cost-bin tree of the ``cost`` column of ``df`` (two Spark passes, small results collected).

    Raises:
        StageError: ``df`` has no positive cost, so there is nothing to split.
    """
    quantiles, max_cost = positive_quantiles(df, n_positive_leaves, accuracy)
    if max_cost is None:
        raise StageError("build_tree: training_examples has no positive cost; the cost tree needs some")
    edges = tree_edges(quantiles, max_cost)
    n_leaves = len(edges) + 2
    counts, means, stds = [0] * n_leaves, [0.0] * n_leaves, [0.0] * n_leaves
    for row in leaf_sums(df, edges).collect():
        leaf, n, total, squares = row["leaf"], int(row["count"]), Decimal(row["total"]), Decimal(row["squares"])
        mean = total / n
        counts[leaf], means[leaf] = n, float(mean)
        stds[leaf] = math.sqrt(max(float(squares / n - mean * mean), 0.0))
    return CostTree.build(edges, means, counts, stds)


def node_rows(tree: CostTree) -> list[tuple]:
    """One row per node and leaf (:data:`NODE_SCHEMA`); a node's interval, count and mean are its leaves'."""
    rows: list[tuple] = []

    def visit(kind: str, index: int, depth: int, parent: int | None, side: str | None) -> list[int]:
        if kind == "leaf":
            leaf = tree.leaves[index]
            stats = (leaf.lo, leaf.hi, leaf.count, leaf.mean, leaf.std)
            rows.append((tree.version, kind, index, depth, parent, side, *stats))
            return [index]
        at = len(rows)
        rows.append(())  # the node's row, filled in once its leaves are known
        node = tree.nodes[index]
        below = visit(*node.left, depth + 1, index, "left") + visit(*node.right, depth + 1, index, "right")
        leaves = [tree.leaves[j] for j in below]
        count = sum(leaf.count for leaf in leaves)
        mean = sum(leaf.mean * leaf.count for leaf in leaves) / count if count else 0.0
        rows[at] = (tree.version, kind, index, depth, parent, side, leaves[0].lo, leaves[-1].hi, count, mean, None)
        return below

    visit("node", 0, 0, None, None)
    return rows


def save_tree(tree: CostTree, warehouse: str) -> str:
    """Write ``<version>.json`` (whole) and then point ``LATEST`` at it; return the JSON's location."""
    folder = table_path(warehouse, TREE_DIR)
    path = fs.join(folder, f"{tree.version}.json")
    fs.write_text(path, tree.to_json())
    fs.write_latest(folder, fs.name_of(path))
    return path


def load_latest_tree(warehouse: str) -> CostTree:
    """The tree ``LATEST`` names under ``<warehouse>/artifacts/cost_tree``.

    Raises:
        InputNotFoundError: no ``LATEST`` or no file it names (run ``jobs/build_tree.py`` first).
        UnreadableFileError: ``LATEST`` or the tree file is not UTF-8 text.
    """
    folder = table_path(warehouse, TREE_DIR)
    latest = fs.join(folder, LATEST)
    if not fs.is_file(latest):
        raise InputNotFoundError(f"cost tree: no {LATEST} at {latest} (run jobs/build_tree.py first)")
    path = fs.join(folder, fs.read_latest(folder, "cost tree"))
    if not fs.is_file(path):
        raise InputNotFoundError(f"cost tree: {latest} names {fs.name_of(path)}, which is not in {folder}")
    return CostTree.from_json(fs.read_text(path, "cost tree"))


def label_costs(source: DataFrame, label_days: Sequence[dt.date], levels: Sequence[int]) -> DataFrame:
    """The ``cost`` of every training example: the input rows of ``label_days`` with a level (n ≥ the smallest)."""
    in_window = F.col("dt").isin(list(label_days)) & has_level(F.col("n_creatives"), levels)
    return source.where(in_window).select("cost")


def run_build_tree(
    spark: SparkSession,
    cfg: Config,
    timer: StageTimer | None = None,
    source: DataFrame | None = None,
    calendar: RunCalendar | None = None,
) -> CostTree:
    """Build the tree from the costs of the training examples; save the artifact and ``cost_tree_nodes``.

    The costs are those of every input row on the label days with a level, read from the validated
    input rather than from ``training_examples``, which may hold only the trainer's sample.

    Args:
        spark: the session.
        cfg: the configuration (tree, levels, warehouse).
        timer: collects the stage timings; a new one when None.
        source: the validated input; None reads and validates ``creative_daily`` (nothing written).
        calendar: the run calendar of ``source`` (its label days); None computes it.
    """
    from acq_spark.ingest.validation import given_or_valid_input

    timer = timer or StageTimer()
    with given_or_valid_input(spark, cfg, source, calendar, record=False, timer=timer) as (rows, calendar, _):
        costs = label_costs(rows, calendar.label_days, cfg.levels)
        with timer.stage("cost tree: build") as rec:
            tree = build_cost_tree(costs, cfg.tree.n_positive_leaves, cfg.tree.quantile_accuracy)
            rows_counted = sum(leaf.count for leaf in tree.leaves)
            rec.figures.update(leaves=tree.n_leaves, nodes=tree.n_nodes, rows=rows_counted)
            rec.figures.update(zero_share=tree.leaves[0].count / max(rows_counted, 1))
    with timer.stage("cost tree: save") as rec:
        path = save_tree(tree, cfg.warehouse)
        overwrite_table(spark.createDataFrame(node_rows(tree), NODE_SCHEMA), cfg.table(COST_TREE_NODES))
        rec.figures.update(version=tree.version, path=path)
    return tree
