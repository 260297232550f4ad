"""The feature spec: what the features stage wrote, in the one order every consumer (trainer, scorer) reads.

The features stage writes it as ``feature_spec.json`` beside its vocabularies, and every model artifact
keeps a copy (the layout it was trained on). :meth:`FeatureSpec.to_dict` gives that JSON and
:meth:`FeatureSpec.from_dict` reads it back; the run calendar's keys sit at its top level.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from acq_spark.errors import UnreadableFileError
from acq_spark.features.columns import LEVEL, OBS, SPARSE, TRAILING_COST, idx_col, numeric_feature_columns
from acq_spark.features.vocab import OOV_INDEX
from acq_spark.ingest.run_calendar import RunCalendar
from acq_spark.ingest.schemas import KEYS

LABEL = "cost"


@dataclass(frozen=True)
class SparseFeature:
    """One sparse feature: its input column ``name``, the index column the model reads, its vocabulary size."""

    name: str
    column: str
    vocab_size: int  # the vocabulary's values + 1 (the out-of-vocabulary index)
    oov_index: int = OOV_INDEX


@dataclass(frozen=True)
class FeatureSpec:
    """The column layout of ``training_examples`` and ``scoring_rows``, the levels, the windows and the calendar."""

    numeric_features: tuple[str, ...]
    sparse_features: tuple[SparseFeature, ...]
    levels: tuple[int, ...]
    windows: tuple[int, ...]
    calendar: RunCalendar
    keys: tuple[str, ...] = KEYS
    numeric_dtype: str = "double"
    obs_column: str = OBS
    trailing_cost_column: str = TRAILING_COST
    level_column: str = LEVEL
    label_column: str = LABEL

    @classmethod
    def build(
        cls,
        calendar: RunCalendar,
        windows: Sequence[int],
        levels: Sequence[int],
        vocabs: Mapping[str, Sequence[str]],
    ) -> FeatureSpec:
        """The spec of a features run with these windows, levels and vocabularies (``{name: [values]}``)."""
        return cls(
            numeric_features=tuple(numeric_feature_columns(windows)),
            sparse_features=tuple(SparseFeature(name, idx_col(name), len(vocabs[name]) + 1) for name in SPARSE),
            levels=tuple(levels),
            windows=tuple(windows),
            calendar=calendar,
        )

    @property
    def decision_day(self) -> dt.date:
        return self.calendar.decision_day

    @property
    def label_days(self) -> tuple[dt.date, ...]:
        return self.calendar.label_days

    @property
    def sparse_columns(self) -> list[str]:
        """The index columns of the sparse features, in the model's order."""
        return [s.column for s in self.sparse_features]

    @property
    def sparse_names(self) -> list[str]:
        return [s.name for s in self.sparse_features]

    def to_dict(self) -> dict[str, Any]:
        """The spec as JSON values (``feature_spec.json``)."""
        return {
            "keys": list(self.keys),
            "numeric_features": list(self.numeric_features),
            "numeric_dtype": self.numeric_dtype,
            "sparse_features": [
                {"name": s.name, "column": s.column, "vocab_size": s.vocab_size, "oov_index": s.oov_index}
                for s in self.sparse_features
            ],
            "obs_column": self.obs_column,
            "trailing_cost_column": self.trailing_cost_column,
            "level_column": self.level_column,
            "label_column": self.label_column,
            "levels": list(self.levels),
            "windows": list(self.windows),
            **self.calendar.to_dict(),
        }

    @classmethod
    def from_dict(cls, values: Mapping[str, Any], what: str = "feature spec") -> FeatureSpec:
        """The spec ``feature_spec.json`` holds.

        Raises:
            UnreadableFileError: a key the spec needs is missing, naming ``what`` and the key.
        """
        try:
            return cls(
                numeric_features=tuple(values["numeric_features"]),
                sparse_features=tuple(
                    SparseFeature(s["name"], s["column"], int(s["vocab_size"]), int(s.get("oov_index", OOV_INDEX)))
                    for s in values["sparse_features"]
                ),
                levels=tuple(int(k) for k in values["levels"]),
                windows=tuple(int(w) for w in values["windows"]),
                calendar=RunCalendar.from_spec(values),
                keys=tuple(values.get("keys", KEYS)),
                numeric_dtype=values.get("numeric_dtype", "double"),
                obs_column=values.get("obs_column", OBS),
                trailing_cost_column=values.get("trailing_cost_column", TRAILING_COST),
                level_column=values.get("level_column", LEVEL),
                label_column=values.get("label_column", LABEL),
            )
        except KeyError as e:
            raise UnreadableFileError(f"{what}: no {e.args[0]!r} in it (written by another version?)") from e
