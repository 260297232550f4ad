"""What runs inside Spark's Python workers: Arrow batches in, score arrays out.

The model is loaded once per Python worker process (cached by artifact path; workers are reused
across tasks) and TensorFlow is imported inside :func:`_model`, never at module import.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

_MODELS: dict[str, Any] = {}


def _model(model_file: str, threads: int) -> Any:
    if model_file not in _MODELS:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # already initialised in this process
            pass
        import keras

        import models.factory  # noqa: F401  (imports, and so registers, every model class)

        _MODELS[model_file] = keras.models.load_model(model_file, compile=False)
    return _MODELS[model_file]


def list_column(matrix: np.ndarray) -> pa.ListArray:
    """An Arrow ``list<double>`` column from an [N, K] matrix, without Python objects."""
    n, k = matrix.shape
    offsets = pa.array(np.arange(0, (n + 1) * k, k, dtype=np.int32))
    return pa.ListArray.from_arrays(offsets, pa.array(np.ascontiguousarray(matrix, dtype=np.float64).ravel()))


def fixed_matrix(column: pa.ChunkedArray | pa.Array, width: int) -> np.ndarray:
    """An [N, width] matrix from an Arrow list column whose lists all have ``width`` entries."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    values = column.flatten().to_numpy(zero_copy_only=False)
    return values.reshape(len(column), width)


def score_batches(
    batches: Iterator[pa.RecordBatch],
    *,
    model_file: str,
    numeric: Sequence[str],
    sparse: Sequence[str],
    obs_column: str,
    n_levels: int,
    beta: float,
    predict_batch: int,
    threads: int = 1,
) -> Iterator[pa.RecordBatch]:
    """``mapInArrow`` body: predict y and std at every level for each row, then explore and r."""
    from acq_spark.scoring.explore import reward, ucb_explore

    model = _model(model_file, threads)
    for batch in batches:
        n = batch.num_rows
        if n == 0:
            continue
        x_num = np.column_stack([batch.column(c).to_numpy(zero_copy_only=False) for c in numeric]).astype(np.float32)
        x_num = np.nan_to_num(x_num, nan=0.0, posinf=0.0, neginf=0.0)
        x_sp = np.column_stack([batch.column(c).to_numpy(zero_copy_only=False) for c in sparse]).astype(np.int32)
        ys, stds = [], []
        for start in range(0, n, predict_batch):
            out = model(
                {"numeric": x_num[start : start + predict_batch], "sparse": x_sp[start : start + predict_batch]}
            )
            ys.append(np.asarray(out["y"], dtype=np.float64))
            stds.append(np.asarray(out["std"], dtype=np.float64))
        y, std = np.concatenate(ys), np.concatenate(stds)
        explore = ucb_explore(std, fixed_matrix(batch.column(obs_column), n_levels))
        yield pa.RecordBatch.from_arrays(
            [
                batch.column("dt"),
                batch.column("account_id"),
                batch.column("photo_id"),
                list_column(y),
                list_column(explore),
                list_column(reward(y, explore, beta)),
                batch.column("cost_7d"),
            ],
            names=["dt", "account_id", "photo_id", "pvalue", "explore", "r", "cost_7d"],
        )
