"""The cost-bin tree: structure, leaf assignment, Eq. 5 labels/masks, leaf probabilities, JSON."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from acq_spark.tree.cost_tree import CostTree, merge_quantiles

edges_st = st.lists(st.floats(0.01, 1e4, allow_nan=False), min_size=0, max_size=20).map(merge_quantiles)


def make_tree(edges: tuple[float, ...]) -> CostTree:
    n = len(edges) + 2
    bounds = (0.0, *edges, 2.0 * (edges[-1] if edges else 1.0))
    means = [0.0] + [(bounds[j - 1] + bounds[j]) / 2 for j in range(1, n)]
    return CostTree.build(edges, means, list(range(10, 10 + n)))


def costs_inside(tree: CostTree) -> np.ndarray:
    """One cost strictly inside (or at the closed upper end of) every leaf, in leaf order."""
    costs = [0.0]
    for leaf in tree.leaves[1:]:
        costs.append(leaf.hi if math.isfinite(leaf.hi) else leaf.lo * 3 + 1.0)
    return np.array(costs)


def test_zero_leaf_is_the_left_child_of_the_root():
    tree = make_tree((1.0, 2.0, 5.0))

    assert tree.nodes[0].left == ("leaf", 0)
    assert tree.leaves[0].lo == tree.leaves[0].hi == 0.0
    assert tree.leaf_index(np.array([0.0, 1e-9, 1.0, 1.0 + 1e-9, 5.0, 7.0])).tolist() == [0, 1, 1, 2, 3, 4]
    assert (tree.n_leaves, tree.n_nodes) == (5, 4)


def test_coinciding_quantiles_merge_into_one_leaf():
    edges = merge_quantiles([0.0, -1.0, 2.0, 1.0, 2.0 * (1 + 1e-14), 2.0, float("nan"), 3.0])
    tree = make_tree(edges)

    assert edges == (1.0, 2.0, 3.0)
    assert tree.n_leaves == 5  # zero leaf + 4 positive intervals, not 7
    assert [(leaf.lo, leaf.hi) for leaf in tree.leaves[1:]] == [(0.0, 1.0), (1.0, 2.0), (2.0, 3.0), (3.0, math.inf)]


def test_tree_without_positive_edges_is_a_root_over_two_leaves():
    tree = make_tree(())

    assert tree.n_nodes == 1 and tree.path_matrix().tolist() == [[-1], [1]]


def test_fit_builds_equal_frequency_leaves_with_their_means():
    costs = np.concatenate([np.zeros(50), np.arange(1.0, 101.0)])
    tree = CostTree.fit(costs, n_positive_leaves=4)

    assert tree.edges == (25.0, 50.0, 75.0)
    assert [leaf.count for leaf in tree.leaves] == [50, 25, 25, 25, 25]
    np.testing.assert_allclose(tree.leaf_means, [0.0, 13.0, 38.0, 63.0, 88.0])


def test_build_rejects_a_nonzero_zero_leaf_and_wrong_lengths():
    with pytest.raises(ValueError, match="zero leaf"):
        CostTree.build((1.0,), [0.5, 0.5, 2.0], [1, 1, 1])
    with pytest.raises(ValueError, match="leaf_counts"):
        CostTree.build((1.0,), [0.0, 0.5, 2.0], [1, 1])
    with pytest.raises(ValueError, match="strictly increasing"):
        CostTree.build((2.0, 1.0), [0.0, 0.5, 1.5, 3.0], [1, 1, 1, 1])


@given(edges_st)
def test_json_round_trip_is_byte_identical(edges):
    tree = make_tree(edges)
    text = tree.to_json()
    again = CostTree.from_json(text)

    assert again == tree
    assert again.to_json() == text
    assert again.version == tree.version and len(tree.version) == 12


def test_json_with_tampered_structure_is_rejected():
    text = make_tree((1.0, 2.0)).to_json().replace('"right":["leaf",3]', '"right":["leaf",2]')

    with pytest.raises(ValueError, match="inconsistent"):
        CostTree.from_json(text)


@given(edges_st)
def test_each_leaf_cost_gives_its_path_as_labels_and_masks(edges):
    tree = make_tree(edges)
    path = tree.path_matrix()
    costs = costs_inside(tree)

    leaves = tree.leaf_index(costs)
    labels, masks = tree.labels_and_masks(costs)

    assert leaves.tolist() == list(range(tree.n_leaves))
    assert labels.dtype == masks.dtype == np.float32
    np.testing.assert_array_equal(masks, path != 0)
    np.testing.assert_array_equal(labels, path > 0)
    assert (masks[:, 0] == 1).all()  # every path starts at the root
    assert (labels * (1 - masks) == 0).all()
    # walking the tree from the root by the labels reaches the cost's leaf
    for row, leaf in zip(labels, leaves):
        ref = ("node", 0)
        while ref[0] == "node":
            node = tree.nodes[ref[1]]
            ref = node.right if row[ref[1]] == 1 else node.left
        assert ref == ("leaf", leaf)


@settings(max_examples=50)
@given(edges_st, st.integers(0, 2**32 - 1))
def test_leaf_probabilities_sum_to_one(edges, seed):
    tree = make_tree(edges)
    path = tree.path_matrix()
    go_right = np.random.default_rng(seed).uniform(0.0, 1.0, size=(7, tree.n_nodes))

    factors = np.where(path[None] > 0, go_right[:, None], np.where(path[None] < 0, 1 - go_right[:, None], 1.0))
    leaf_probs = factors.prod(axis=2)

    np.testing.assert_allclose(leaf_probs.sum(axis=1), 1.0, rtol=1e-12)


def test_balanced_split_depth_is_logarithmic():
    tree = make_tree(tuple(float(e) for e in range(1, 16)))  # 16 positive leaves

    depths = (tree.path_matrix() != 0).sum(axis=1)
    assert depths[0] == 1 and set(depths[1:].tolist()) == {5}
