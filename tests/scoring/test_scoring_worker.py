"""The scoring worker's batching pieces, without Spark or TensorFlow."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from acq_spark.scoring.worker import bucket_size, fixed_matrix, list_column, predict_padded, rebatch


def _batches(sizes: list[int]) -> list[pa.RecordBatch]:
    start, out = 0, []
    for size in sizes:
        out.append(pa.RecordBatch.from_arrays([pa.array(np.arange(start, start + size))], names=["i"]))
        start += size
    return out


@pytest.mark.parametrize("sizes", [[10, 10, 10], [7], [3, 25, 1, 0, 9], [16, 16], []])
def test_rebatch_keeps_every_row_in_order_in_full_batches(sizes):
    out = list(rebatch(iter(_batches(sizes)), 8))
    rows = np.concatenate([b.column("i").to_numpy() for b in out]) if out else np.array([])
    np.testing.assert_array_equal(rows, np.arange(sum(sizes)))
    assert all(b.num_rows == 8 for b in out[:-1])
    assert all(0 < b.num_rows <= 8 for b in out)


def test_rebatch_passes_batches_of_the_right_size_through_uncopied():
    batches = _batches([8, 8, 3, 5, 8])
    out = list(rebatch(iter(batches), 8))
    assert out[0] is batches[0] and out[1] is batches[1] and out[3] is batches[4]
    np.testing.assert_array_equal(out[2].column("i").to_numpy(), np.arange(16, 24))


def test_bucket_sizes_are_few_and_cover_the_chunk():
    assert bucket_size(1, 16384) == 1024
    assert bucket_size(1025, 16384) == 2048
    assert bucket_size(16384, 16384) == 16384
    assert bucket_size(9000, 10000) == 10000
    assert len({bucket_size(n, 16384) for n in range(1, 16385)}) == 5


def test_padded_prediction_returns_one_unpadded_row_per_input():
    calls = []

    def forward(numeric, sparse):
        calls.append(len(numeric))
        y = numeric.sum(axis=1, keepdims=True) + sparse[:, :1]
        return np.repeat(y, 3, axis=1).astype(np.float64), np.zeros((len(numeric), 3))

    numeric = np.arange(5000 * 4, dtype=np.float32).reshape(5000, 4)
    sparse = np.ones((5000, 2), dtype=np.int32)
    y, std = predict_padded(forward, numeric, sparse, 2048)
    assert calls == [2048, 2048, 1024]
    np.testing.assert_array_equal(y[:, 0], numeric.sum(axis=1) + 1)
    assert y.shape == std.shape == (5000, 3)


def test_list_column_round_trips_a_matrix():
    m = np.arange(12, dtype=np.float64).reshape(4, 3)
    np.testing.assert_array_equal(fixed_matrix(list_column(m), 3), m)
