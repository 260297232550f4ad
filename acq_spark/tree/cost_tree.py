"""The equal-frequency cost-bin tree of UBTM (spec §4, paper §4.1.1), in pure NumPy.

The root covers all costs. Its left child is the zero leaf (the point set {0}); its
right child covers the positive costs, split recursively at the middle leaf into a
balanced binary tree whose leaves are the intervals ``(lo, hi]`` between quantile
edges (the last one open to ``+inf``). Every internal node is a binary classifier
that predicts "the cost goes right"; a sample's path from the root to its leaf gives
its labels, and the nodes off that path are masked (paper Eq. 5).
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

FORMAT = "acq-cost-tree/1"
_REL_TOL = 1e-12


@dataclass(frozen=True)
class Leaf:
    """A leaf: the zero leaf (``lo == hi == 0``) or the positive interval ``(lo, hi]``."""

    lo: float
    hi: float
    mean: float
    count: int
    std: float = 0.0


@dataclass(frozen=True)
class Node:
    """An internal node; a child is ``("node", i)`` or ``("leaf", j)``."""

    left: tuple[str, int]
    right: tuple[str, int]


def merge_quantiles(quantiles: Sequence[float]) -> tuple[float, ...]:
    """The interior edges of the positive leaves, from raw quantiles of the positive costs.

    Non-positive and non-finite values are dropped; values equal within a relative
    1e-12 are merged into one edge (coinciding quantiles make one indivisible leaf).

    Args:
        quantiles: quantiles of the positive training costs, in any order.

    Returns:
        Strictly increasing positive edges ``e_1 < ... < e_m``: ``m + 1`` positive leaves.
    """
    values = sorted(float(q) for q in quantiles if math.isfinite(float(q)) and float(q) > 0.0)
    edges: list[float] = []
    for value in values:
        if not edges or not math.isclose(value, edges[-1], rel_tol=_REL_TOL, abs_tol=0.0):
            edges.append(value)
    return tuple(edges)


def _split(first: int, last: int, nodes: list[Node]) -> tuple[str, int]:
    """Append the subtree over leaves ``first..last`` in pre-order; return its reference."""
    if first == last:
        return ("leaf", first)
    index = len(nodes)
    nodes.append(Node(("leaf", -1), ("leaf", -1)))  # placeholder keeps pre-order numbering
    mid = (first + last) // 2
    nodes[index] = Node(_split(first, mid, nodes), _split(mid + 1, last, nodes))
    return ("node", index)


@dataclass(frozen=True)
class CostTree:
    """The cost-bin tree: ``leaves[0]`` is the zero leaf, ``nodes[0]`` the root."""

    edges: tuple[float, ...]
    leaves: tuple[Leaf, ...]
    nodes: tuple[Node, ...]

    @classmethod
    def build(
        cls,
        edges: Sequence[float],
        leaf_means: Sequence[float] | np.ndarray,
        leaf_counts: Sequence[int] | np.ndarray,
        leaf_stds: Sequence[float] | np.ndarray | None = None,
    ) -> CostTree:
        """Build the tree from merged edges and per-leaf training statistics.

        Args:
            edges: strictly increasing positive edges (see :func:`merge_quantiles`).
            leaf_means: mean training cost per leaf, ``len(edges) + 2`` values; index 0
                is the zero leaf and must be 0.
            leaf_counts: training samples per leaf, same length.
            leaf_stds: optional within-leaf standard deviations (default 0), same length.

        Raises:
            ValueError: edges not strictly increasing and positive, wrong lengths, or
                negative / non-finite statistics.
        """
        edges = tuple(float(e) for e in edges)
        if any(not math.isfinite(e) or e <= 0.0 for e in edges) or any(b <= a for a, b in itertools.pairwise(edges)):
            raise ValueError(f"edges must be finite, positive and strictly increasing, got {list(edges)}")
        n_leaves = len(edges) + 2
        stds = [0.0] * n_leaves if leaf_stds is None else [float(s) for s in leaf_stds]
        means, counts = [float(m) for m in leaf_means], [int(c) for c in leaf_counts]
        for name, values in (("leaf_means", means), ("leaf_counts", counts), ("leaf_stds", stds)):
            if len(values) != n_leaves:
                raise ValueError(f"{name}: expected {n_leaves} values (zero leaf + {n_leaves - 1}), got {len(values)}")
            if any(not math.isfinite(v) or v < 0 for v in values):
                raise ValueError(f"{name}: values must be finite and >= 0, got {values}")
        if means[0] != 0.0 or stds[0] != 0.0:
            raise ValueError(f"the zero leaf must have mean 0 and std 0, got {means[0]} and {stds[0]}")
        bounds = (0.0, *edges, math.inf)
        leaves = [Leaf(0.0, 0.0, 0.0, counts[0], 0.0)]
        leaves += [Leaf(bounds[j - 1], bounds[j], means[j], counts[j], stds[j]) for j in range(1, n_leaves)]
        nodes: list[Node] = [Node(("leaf", 0), ("leaf", -1))]
        nodes[0] = Node(("leaf", 0), _split(1, n_leaves - 1, nodes))
        return cls(edges, tuple(leaves), tuple(nodes))

    @classmethod
    def fit(cls, costs: np.ndarray, n_positive_leaves: int) -> CostTree:
        """A NumPy reference build from raw costs (equal-frequency quantiles of the positive ones)."""
        costs = np.asarray(costs, dtype=np.float64)
        positive = costs[costs > 0]
        probs = np.arange(1, n_positive_leaves) / n_positive_leaves
        edges = merge_quantiles(np.quantile(positive, probs, method="inverted_cdf") if positive.size else [])
        leaf = _leaf_index(edges, costs)
        counts = np.bincount(leaf, minlength=len(edges) + 2)
        sums = np.bincount(leaf, weights=costs, minlength=len(edges) + 2)
        squares = np.bincount(leaf, weights=costs**2, minlength=len(edges) + 2)
        means = np.divide(sums, counts, out=np.zeros_like(sums), where=counts > 0)
        var = np.divide(squares, counts, out=np.zeros_like(sums), where=counts > 0) - means**2
        return cls.build(edges, means, counts, np.sqrt(np.maximum(var, 0.0)))

    @property
    def n_leaves(self) -> int:
        """Number of leaves (zero leaf included)."""
        return len(self.leaves)

    @property
    def n_nodes(self) -> int:
        """Number of internal nodes, i.e. of binary classifiers."""
        return len(self.nodes)

    @property
    def leaf_means(self) -> np.ndarray:
        """Mean training cost per leaf, float64 ``[n_leaves]``."""
        return np.array([leaf.mean for leaf in self.leaves], dtype=np.float64)

    @property
    def leaf_stds(self) -> np.ndarray:
        """Within-leaf standard deviation per leaf, float64 ``[n_leaves]``."""
        return np.array([leaf.std for leaf in self.leaves], dtype=np.float64)

    def leaf_index(self, costs: np.ndarray) -> np.ndarray:
        """The leaf of each cost: 0 for cost 0, else the interval ``(lo, hi]`` holding it.

        Args:
            costs: ``[N]`` non-negative costs (``+inf`` goes to the last leaf).

        Returns:
            int64 ``[N]`` leaf indices.

        Raises:
            ValueError: a negative or NaN cost.
        """
        costs = np.asarray(costs, dtype=np.float64)
        if np.isnan(costs).any() or (costs < 0).any():
            raise ValueError("costs must be >= 0 and not NaN")
        return _leaf_index(self.edges, costs)

    def path_matrix(self) -> np.ndarray:
        """int8 ``[n_leaves, n_nodes]``: +1 the leaf's path goes right at the node, -1 left, 0 off path."""
        matrix = np.zeros((self.n_leaves, self.n_nodes), dtype=np.int8)

        def walk(node: int, path: list[tuple[int, int]]) -> None:
            for side, (kind, index) in ((-1, self.nodes[node].left), (1, self.nodes[node].right)):
                if kind == "node":
                    walk(index, [*path, (node, side)])
                else:
                    for on_path, direction in [*path, (node, side)]:
                        matrix[index, on_path] = direction

        walk(0, [])
        return matrix

    def labels_and_masks(self, costs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Per-node classification labels and masks (paper Eq. 5).

        Args:
            costs: ``[N]`` non-negative costs.

        Returns:
            ``(labels, masks)``, float32 ``[N, n_nodes]`` each: label 1 = the cost goes
            right at the node; mask 1 = the node is on the path of the cost's leaf.
        """
        path = self.path_matrix()[self.leaf_index(costs)]
        return (path > 0).astype(np.float32), (path != 0).astype(np.float32)

    def to_json(self) -> str:
        """Deterministic JSON (sorted keys, ``repr`` floats, ``null`` for ``+inf``): same tree, same bytes."""
        leaves = [
            {"lo": leaf.lo, "hi": None if math.isinf(leaf.hi) else leaf.hi, "mean": leaf.mean,
             "count": leaf.count, "std": leaf.std}
            for leaf in self.leaves
        ]
        nodes = [{"left": list(node.left), "right": list(node.right)} for node in self.nodes]
        doc = {"format": FORMAT, "edges": list(self.edges), "leaves": leaves, "nodes": nodes}
        return json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False)

    @classmethod
    def from_json(cls, text: str) -> CostTree:
        """Load a tree written by :meth:`to_json`; its stored structure must match a rebuild."""
        doc = json.loads(text)
        if doc.get("format") != FORMAT:
            raise ValueError(f"not a cost tree of format {FORMAT}: {doc.get('format')!r}")
        leaves = doc["leaves"]
        tree = cls.build(doc["edges"], [x["mean"] for x in leaves], [x["count"] for x in leaves],
                         [x["std"] for x in leaves])
        if tree.to_json() != json.dumps(doc, sort_keys=True, separators=(",", ":"), allow_nan=False):
            raise ValueError("cost tree JSON is inconsistent: its nodes or intervals do not match its edges")
        return tree

    @property
    def version(self) -> str:
        """Content hash: the first 12 hex digits of the SHA-256 of :meth:`to_json`."""
        return hashlib.sha256(self.to_json().encode()).hexdigest()[:12]


def _leaf_index(edges: Sequence[float], costs: np.ndarray) -> np.ndarray:
    positive = np.searchsorted(np.asarray(edges, dtype=np.float64), costs, side="left") + 1
    return np.where(costs > 0, positive, 0).astype(np.int64)
