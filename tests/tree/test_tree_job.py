"""The cost tree from Spark quantiles: equal-frequency leaves, merged ties, zero leaf, deterministic artifact."""

from __future__ import annotations

import datetime as dt
import math
from pathlib import Path

import numpy as np
import pytest
from pyspark.sql import types as T

from acq_spark.errors import InputNotFoundError, StageError
from acq_spark.ingest.run_calendar import RunCalendar
from acq_spark.platform.catalog import TREE_DIR
from acq_spark.tree.cost_tree import CostTree
from acq_spark.tree.job import LATEST, build_cost_tree, load_latest_tree, run_build_tree

ACCURACY = 10_000
COST_SCHEMA = T.StructType([T.StructField("cost", T.DoubleType())])
# 50 zeros, 400 distinct positive costs, one null (left out of every leaf).
SPREAD = [0.0] * 50 + [float(i) * 0.25 for i in range(1, 401)]


def costs_df(spark, costs, partitions: int = 2):
    return spark.createDataFrame([(c,) for c in [*costs, None]], COST_SCHEMA).repartition(partitions)


def test_positive_leaves_hold_equal_counts(spark):
    tree = build_cost_tree(costs_df(spark, SPREAD), n_positive_leaves=4, accuracy=ACCURACY)

    tolerance = math.ceil(400 / ACCURACY)
    assert tree.leaves[0].count == 50
    assert all(abs(leaf.count - 100) <= tolerance for leaf in tree.leaves[1:])
    reference = CostTree.fit(np.array(SPREAD), n_positive_leaves=4)
    assert tree.edges == reference.edges == (25.0, 50.0, 75.0)
    assert np.allclose(tree.leaf_means, reference.leaf_means) and np.allclose(tree.leaf_stds, reference.leaf_stds)


def test_tied_quantiles_merge_into_one_leaf(spark):
    ties = [0.0] * 10 + [1.0] * 300 + [float(i) for i in range(2, 102)]
    tree = build_cost_tree(costs_df(spark, ties), n_positive_leaves=4, accuracy=ACCURACY)
    assert tree.edges == (1.0,)
    assert [leaf.count for leaf in tree.leaves] == [10, 300, 100]
    assert [leaf.mean for leaf in tree.leaves] == [0.0, 1.0, 51.5]

    all_tied = build_cost_tree(costs_df(spark, [0.0] * 5 + [5.0] * 20), n_positive_leaves=4, accuracy=ACCURACY)
    assert all_tied.edges == ()  # an edge at the largest cost would leave the last leaf empty
    assert [(leaf.count, leaf.mean) for leaf in all_tied.leaves] == [(5, 0.0), (20, 5.0)]


def test_no_positive_cost_is_an_error(spark):
    with pytest.raises(StageError, match="no positive cost"):
        build_cost_tree(costs_df(spark, [0.0, 0.0]), n_positive_leaves=4, accuracy=ACCURACY)


def test_build_tree_job_is_deterministic_and_loadable(spark, make_cfg):
    cfg = make_cfg("tree.n_positive_leaves=4", f"tree.quantile_accuracy={ACCURACY}")
    with pytest.raises(InputNotFoundError, match="LATEST"):
        load_latest_tree(cfg.warehouse)
    rows = [(dt.date(2026, 1, 1 + i % 3), c, 1) for i, c in enumerate(SPREAD)]
    schema = "dt date, cost double, n_creatives int"
    source_df = spark.createDataFrame(rows, schema)

    window = (dt.date(2026, 1, 1), dt.date(2026, 1, 2), dt.date(2026, 1, 3))
    calendar = RunCalendar(decision_day=dt.date(2026, 1, 4), last_input_day=window[-1], label_days=window)
    tree = run_build_tree(spark, cfg, source=source_df, calendar=calendar)
    folder = Path(cfg.warehouse) / TREE_DIR
    first = (folder / f"{tree.version}.json").read_bytes()
    stale = spark.createDataFrame([(dt.date(2025, 12, 1), 1e6, 1), (window[0], 1e6, 0)], schema)
    # A day outside the training window, and a row below the smallest level (no example), are left out.
    again = run_build_tree(spark, cfg, source=source_df.unionByName(stale), calendar=calendar)

    assert again.version == tree.version and (folder / f"{tree.version}.json").read_bytes() == first
    assert (folder / LATEST).read_text().strip() == f"{tree.version}.json"
    assert load_latest_tree(cfg.warehouse) == tree
    nodes = spark.read.format("delta").load(cfg.table("cost_tree_nodes")).collect()
    assert len(nodes) == tree.n_nodes + tree.n_leaves
    root = next(r for r in nodes if r["kind"] == "node" and r["index"] == 0)
    zero = next(r for r in nodes if r["kind"] == "leaf" and r["index"] == 0)
    assert (root["parent"], root["count"], root["lo"], root["hi"]) == (None, 450, 0.0, math.inf)
    assert (zero["parent"], zero["side"], zero["depth"], zero["count"]) == (0, "left", 1, 50)
    assert tree.nodes[0].left == ("leaf", 0)
