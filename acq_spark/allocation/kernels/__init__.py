"""Layer 1 of the solver: per-block kernels over NumPy arrays, and the small results they return.

A kernel takes one block of pairs (their hull :class:`~.hull.Steps` and :class:`~.keys.PairKeys`) and
returns a small result object; results of blocks add with ``+``. These modules import only NumPy.
"""
