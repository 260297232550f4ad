"""The model artifact's files: the umask's mode for every part, a clear error for an unreadable LATEST."""

from __future__ import annotations

import datetime as dt
import json
import os
import stat
from pathlib import Path

import pytest

from acq_spark.errors import UnreadableFileError
from acq_spark.features.columns import SPARSE
from acq_spark.features.spec import FeatureSpec
from acq_spark.ingest.run_calendar import RunCalendar
from acq_spark.training.artifact import LATEST, MODEL_FILE, load_artifact, models_root, save_artifact
from acq_spark.tree.cost_tree import CostTree


class FileModel:
    """Stands in for a Keras model: ``save`` writes a file the way Keras does (plain open)."""

    def save(self, path: Path) -> None:
        Path(path).write_bytes(b"model")


def test_artifact_files_have_the_umask_mode_and_a_bad_latest_is_one_clear_error(tmp_path):
    tree = CostTree.build((5.0,), [0.0, 2.0, 9.0], [3, 2, 1], [0.0, 1.0, 2.0])
    calendar = RunCalendar(dt.date(2026, 1, 3), dt.date(2026, 1, 2), (dt.date(2026, 1, 1), dt.date(2026, 1, 2)))
    spec = FeatureSpec.build(calendar, (1, 3), (1,), {name: ["a"] for name in SPARSE})
    old = os.umask(0o022)
    try:
        artifact = save_artifact(str(tmp_path), "v1", FileModel(), tree, {"v": []}, spec, {}, {"auc": 0.5})
    finally:
        os.umask(old)
    files = [*Path(artifact.path).iterdir(), Path(models_root(str(tmp_path))) / LATEST]
    assert {p.name for p in files} >= {MODEL_FILE, "cost_tree.json", "feature_spec.json", "metrics.json", LATEST}
    assert {p.name: stat.S_IMODE(p.stat().st_mode) for p in files} == {p.name: 0o644 for p in files}
    assert load_artifact(str(tmp_path)).version == "v1"
    assert load_artifact(str(tmp_path)).feature_spec == spec

    # a spec without a key the scorer reads is one clear error naming the model and the key
    spec_file = Path(artifact.path) / "feature_spec.json"
    spec_file.write_text(json.dumps({k: v for k, v in spec.to_dict().items() if k != "levels"}))
    with pytest.raises(UnreadableFileError, match=r"model v1's feature spec: no 'levels' in it"):
        load_artifact(str(tmp_path))
    spec_file.write_text(json.dumps(spec.to_dict()))

    (Path(models_root(str(tmp_path))) / LATEST).write_bytes(b"\x80v1\n")
    with pytest.raises(UnreadableFileError, match=r"model artifact: .*models/LATEST is not UTF-8 text") as err:
        load_artifact(str(tmp_path))
    assert "\n" not in str(err.value)
