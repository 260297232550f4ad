"""Vocabularies: order by falling frequency then name, index 0 for out-of-vocabulary and null values."""

from __future__ import annotations

from chispa import assert_df_equality
from feature_sample import day
from pyspark.sql import types as T

from acq_spark.features.job import build_vocabularies
from acq_spark.features.vocab import VOCAB_SCHEMA, ordered_vocab, vocab_rows, with_vocab_index


def test_ordered_vocab_breaks_count_ties_by_name():
    assert ordered_vocab([("b", 2), ("a", 2), ("c", 5), ("d", 1)]) == ["c", "a", "b", "d"]


def test_vocabularies_come_from_the_label_days_only(source_df):
    vocabs = build_vocabularies(source_df, [day(5), day(6)])
    assert vocabs == {"product_name": ["p2", "p1"], "industry_l1": ["i1", "i2"], "industry_l2": ["j2", "j1", "j3"]}


def test_unknown_and_null_values_map_to_index_zero(spark):
    schema = T.StructType([T.StructField("id", T.IntegerType()), T.StructField("product_name", T.StringType())])
    source_df = spark.createDataFrame([(1, "c"), (2, "a"), (3, "unseen"), (4, None)], schema)
    vocab = spark.createDataFrame(vocab_rows(["c", "a", "b"]), VOCAB_SCHEMA)
    actual_df = with_vocab_index(source_df, "product_name", vocab, "product_name_idx")
    expected_schema = T.StructType([*schema.fields, T.StructField("product_name_idx", T.IntegerType(), False)])
    expected_df = spark.createDataFrame([(1, "c", 1), (2, "a", 2), (3, "unseen", 0), (4, None, 0)], expected_schema)
    assert_df_equality(actual_df, expected_df, ignore_row_order=True, ignore_nullable=True)
