"""What runs inside Spark's Python workers: Arrow batches in, score arrays out.

The model file arrives through ``SparkFiles`` and is loaded once per Python worker process (cached by its
path; workers are reused across tasks) together with one compiled forward pass, and TensorFlow is imported inside
:func:`_forward`, never at module import.

Speed (see BENCHMARKS.md): the numeric features arrive as one ``array<float>`` column (read as it
is from ``scoring_rows``), in Arrow batches of the forward pass's size; the forward pass is a
``tf.function`` compiled with XLA and called on row counts padded to a few bucket sizes, so it is
traced once per bucket rather than once per batch; with β = 0 it computes y alone.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

# A forward pass: (numeric, sparse) -> (y, std) as float64 [N, K]; std is None when it was not asked for.
Forward = Callable[[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray | None]]

_FORWARDS: dict[tuple[str, bool], Forward] = {}

# Forward passes run on row counts padded up to one of these sizes (or a multiple of the largest).
_MIN_BUCKET = 1024


def bucket_size(n: int, largest: int) -> int:
    """The padded row count for a chunk of ``n`` rows: a power of two ≥ 1024, at most ``largest``."""
    size = _MIN_BUCKET
    while size < n and size < largest:
        size *= 2
    return max(min(size, largest), n)


def _forward(model_file: str, threads: int, with_std: bool) -> Forward:
    """The model's inference pass for this worker: (numeric, sparse) → (y, std) as float64 [N, K].

    Without ``with_std`` the compiled function returns ``y`` alone, and XLA prunes everything only
    ``std`` needs (for UBTM the whole tree head, more than half of the arithmetic).
    """
    key = (model_file, with_std)
    if key not in _FORWARDS:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(threads)
        except RuntimeError:  # already initialised in this process
            pass
        import keras

        import acq_spark.models.factory  # noqa: F401  (imports, and so registers, every model class)

        model = keras.models.load_model(model_file, compile=False)

        @tf.function(jit_compile=True)
        def infer(numeric: Any, sparse: Any) -> tuple[Any, ...]:
            out = model({"numeric": numeric, "sparse": sparse}, training=False)
            return (out["y"], out["std"]) if with_std else (out["y"],)

        def forward(numeric: np.ndarray, sparse: np.ndarray) -> tuple[np.ndarray, np.ndarray | None]:
            outputs = [np.asarray(t, dtype=np.float64) for t in infer(numeric, sparse)]
            return outputs[0], (outputs[1] if with_std else None)

        _FORWARDS[key] = forward
    return _FORWARDS[key]


def predict_padded(
    forward: Forward, numeric: np.ndarray, sparse: np.ndarray, chunk: int
) -> tuple[np.ndarray, np.ndarray | None]:
    """y and std (None if ``forward`` gives none) for every row, ``chunk`` rows per call, each padded."""
    ys, stds = [], []
    for start in range(0, len(numeric), chunk):
        x_num, x_sp = numeric[start : start + chunk], sparse[start : start + chunk]
        n = len(x_num)
        pad = bucket_size(n, chunk) - n
        if pad:
            x_num = np.concatenate([x_num, np.zeros((pad, x_num.shape[1]), x_num.dtype)])
            x_sp = np.concatenate([x_sp, np.zeros((pad, x_sp.shape[1]), x_sp.dtype)])
        y, std = forward(x_num, x_sp)
        ys.append(y[:n])
        if std is not None:
            stds.append(std[:n])
    return np.concatenate(ys), (np.concatenate(stds) if stds else None)


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


def rebatch(batches: Iterator[pa.RecordBatch], rows: int) -> Iterator[pa.RecordBatch]:
    """Spark's Arrow batches regrouped into batches of ``rows`` rows (the last one may be shorter).

    Batches that already have ``rows`` rows (Spark's batch size is set to match) pass through uncopied.
    """
    pending: list[pa.RecordBatch] = []
    held = 0
    for batch in batches:
        if not pending and batch.num_rows == rows:
            yield batch
            continue
        pending.append(batch)
        held += batch.num_rows
        while held >= rows:
            whole = pa.concat_batches(pending)
            yield whole.slice(0, rows)
            rest = whole.slice(rows)
            pending, held = ([rest] if rest.num_rows else []), rest.num_rows
    if held:
        yield pa.concat_batches(pending)


def score_batches(
    batches: Iterator[pa.RecordBatch],
    *,
    model_name: str,
    numeric_column: str,
    n_numeric: int,
    sparse: Sequence[str],
    obs_column: str,
    n_levels: int,
    beta: float,
    predict_batch: int,
    threads: int = 1,
) -> Iterator[pa.RecordBatch]:
    """``mapInArrow`` body: predict y and std at every level for each row, then explore and r.

    ``model_name`` is the model file's name among the files shipped with ``SparkFiles``;
    ``numeric_column`` holds the ``n_numeric`` numeric features of a row as one array, in the
    feature spec's order. With ``beta`` = 0 exploration is off: std is not computed, ``explore``
    is null and r = pvalue (``obs_column`` may then be absent).
    """
    from pyspark import SparkFiles

    from acq_spark.scoring.explore import reward, ucb_explore

    explore_on = beta != 0.0
    forward = _forward(SparkFiles.get(model_name), threads, with_std=explore_on)
    for batch in rebatch(batches, predict_batch):
        # float32 already (cast in Spark); NaN and ±inf are zeroed by the model's own input layer.
        x_num = fixed_matrix(batch.column(numeric_column), n_numeric).astype(np.float32, copy=False)
        x_sp = np.column_stack([batch.column(c).to_numpy(zero_copy_only=False) for c in sparse]).astype(np.int32)
        y, std = predict_padded(forward, x_num, x_sp, predict_batch)
        pvalue = list_column(y)
        if explore_on:
            assert std is not None, "the forward pass gives std when exploring (with_std)"
            explore = ucb_explore(std, fixed_matrix(batch.column(obs_column), n_levels))
            explore_column, r = list_column(explore), list_column(reward(y, explore, beta))
        else:
            explore_column, r = pa.nulls(batch.num_rows, pa.list_(pa.float64())), pvalue
        yield pa.RecordBatch.from_arrays(
            [
                batch.column("dt"),
                batch.column("account_id"),
                batch.column("photo_id"),
                pvalue,
                explore_column,
                r,
                batch.column("cost_7d"),
            ],
            names=["dt", "account_id", "photo_id", "pvalue", "explore", "r", "cost_7d"],
        )
