"""acq_spark.platform.fs on a local folder and on an S3 bucket (moto's server), and its clear errors for a bad store."""

from __future__ import annotations

import shutil
import threading

import pytest
from pyarrow.fs import LocalFileSystem
from s3_store import CREDENTIALS, MotoServer, free_port

from acq_spark.errors import InputNotFoundError
from acq_spark.platform import fs, s3a


@pytest.mark.parametrize("where", ["local", "file", "s3a"])
def test_whole_writes_reads_pointers_and_listings_on_every_store(where, tmp_path, request):
    root = {"local": str(tmp_path), "file": f"file://{tmp_path}"}.get(where)
    if root is None:
        root = f"s3a://{request.getfixturevalue('bucket')}/wh"
    fs.write_json(fs.join(root, "models", "v1", "metrics.json"), {"auc": 0.5})
    fs.write_bytes(fs.join(root, "models", "v1", "model.keras"), b"\x00model")
    fs.write_latest(fs.join(root, "models"), "v1")
    assert fs.read_latest(fs.join(root, "models"), "model artifact") == "v1"
    assert fs.read_json(fs.join(root, "models", "v1", "metrics.json")) == {"auc": 0.5}
    assert fs.read_bytes(fs.join(root, "models", "v1", "model.keras")) == b"\x00model"
    assert fs.list_names(fs.join(root, "models", "v1")) == ["metrics.json", "model.keras"]
    assert fs.list_names(fs.join(root, "models"), ".json") == []
    assert fs.list_names(fs.join(root, "nothing-here")) == []
    assert fs.is_file(fs.join(root, "models", fs.LATEST)) and not fs.is_file(fs.join(root, "models", "v2"))
    with pytest.raises(InputNotFoundError, match=r"feature spec: no file at .*none\.json"):
        fs.read_json(fs.join(root, "none.json"), "feature spec")
    if where == "s3a":
        assert not isinstance(fs.resolve(root)[0], LocalFileSystem) and not (tmp_path / "s3a:").exists()
    else:
        assert not list(tmp_path.rglob("*.tmp")), "no temporary file left behind"


def test_aws_environment_derives_s3a_settings_and_explicit_ones_win():
    env = {
        "AWS_ACCESS_KEY_ID": "AKID",
        "AWS_SECRET_ACCESS_KEY": "SECRET",
        "AWS_REGION": "eu-west-1",
        "AWS_ENDPOINT_URL": "http://127.0.0.1:9000",
    }
    derived = s3a.derived_settings(env)
    assert derived == {
        "fs.s3a.access.key": "AKID",
        "fs.s3a.secret.key": "SECRET",
        "fs.s3a.endpoint.region": "eu-west-1",
        "fs.s3a.endpoint": "http://127.0.0.1:9000",
        "fs.s3a.path.style.access": "true",
        "fs.s3a.connection.ssl.enabled": "false",
    }
    explicit = {"spark.hadoop.fs.s3a.endpoint": "https://store.example:443", "spark.executor.cores": "2"}
    settings = s3a.effective_settings(env, explicit)
    assert settings["fs.s3a.endpoint"] == "https://store.example:443" and settings["fs.s3a.access.key"] == "AKID"
    options = s3a.arrow_options(settings)
    assert (options["endpoint_override"], options["scheme"]) == ("store.example:443", "https")
    assert options["region"] == "eu-west-1"
    assert s3a.derived_settings({}) == {}
    assert s3a.redacted("key AKID secret SECRET", derived) == "key *** secret ***"


def test_a_bucket_that_does_not_exist_is_one_clear_error_before_anything_is_written(bucket):
    missing = r"warehouse s3a://acq-no-such-bucket/wh: the bucket 'acq-no-such-bucket' does not exist"
    with pytest.raises(fs.StoreError, match=missing):
        fs.check_store("s3a://acq-no-such-bucket/wh", "warehouse")
    fs.check_store(f"s3a://{bucket}/wh", "warehouse")  # the fixture's bucket is fine
    with pytest.raises(fs.StoreError, match=r"cannot write s3a://acq-no-such-bucket/x.json: .*NO_SUCH_BUCKET"):
        fs.write_json("s3a://acq-no-such-bucket/x.json", {})


def test_refused_credentials_are_one_clear_error_that_shows_no_secret(monkeypatch):
    server = MotoServer.start(auth=True)  # checks credentials, and knows none
    try:
        for key, value in server.environment().items():
            monkeypatch.setenv(key, value)
        fs.configure(s3a.derived_settings(server.environment()))
        with pytest.raises(fs.StoreError, match=r"warehouse s3a://acq-bucket/wh: .*ACCESS_DENIED") as err:
            fs.check_store("s3a://acq-bucket/wh", "warehouse")
        assert server.environment()["AWS_SECRET_ACCESS_KEY"] not in str(err.value)
    finally:
        server.stop()
        fs.configure(None)


def test_an_endpoint_that_does_not_answer_is_one_clear_error():
    dead = f"http://127.0.0.1:{free_port()}"
    fs.configure(s3a.derived_settings({**CREDENTIALS, "AWS_ENDPOINT_URL": dead}))
    try:
        no_answer = r"input.path s3a://acq-bucket/in: .*(Could not connect|NETWORK_CONNECTION)"
        with pytest.raises(fs.StoreError, match=no_answer):
            fs.check_store("s3a://acq-bucket/in", "input.path")
    finally:
        fs.configure(None)


def test_a_job_checks_its_stores_before_it_starts_and_explicit_spark_settings_win(bucket, monkeypatch, tmp_path):
    from acq_spark.config import load_config
    from acq_spark.platform.cli import check_stores
    from acq_spark.platform.session import spark_conf

    cfg = load_config(None, ["warehouse=s3a://acq-no-such-bucket/wh"])
    with pytest.raises(fs.StoreError, match=r"^warehouse s3a://acq-no-such-bucket/wh: the bucket"):
        check_stores(cfg)
    cfg = load_config(None, [f"warehouse={tmp_path}", "input.path=s3a://acq-no-such-input/daily"])
    with pytest.raises(fs.StoreError, match=r"^input.path s3a://acq-no-such-input/daily: the bucket"):
        check_stores(cfg)
    check_stores(load_config(None, [f"warehouse=s3a://{bucket}/wh"]))

    explicit = load_config(None, ["spark.conf.spark.hadoop.fs.s3a.endpoint=http://elsewhere:9000",
                                  "spark.conf.spark.hadoop.fs.s3a.retry.limit=7"])
    conf = spark_conf(explicit.spark)
    assert conf["spark.hadoop.fs.s3a.endpoint"] == "http://elsewhere:9000"
    assert conf["spark.hadoop.fs.s3a.retry.limit"] == "7"  # the project's is s3a.RETRIES (4)
    assert spark_conf(load_config(None).spark)["spark.hadoop.fs.s3a.retry.limit"] == s3a.RETRIES["fs.s3a.retry.limit"]
    assert conf["spark.hadoop.fs.s3a.path.style.access"] == "true"  # the rest still from the environment
    assert conf["spark.hadoop.fs.s3a.secret.key"] == CREDENTIALS["AWS_SECRET_ACCESS_KEY"]


def test_a_folder_created_while_it_is_listed_lists_as_empty_or_its_content_never_as_an_error(tmp_path):
    """Several runs taking a lock at once list its folder while one of them creates it (the CI failure)."""
    folder = tmp_path / "_lock"
    stop = threading.Event()

    def churn() -> None:
        while not stop.is_set():
            folder.mkdir(exist_ok=True)
            shutil.rmtree(folder, ignore_errors=True)

    thread = threading.Thread(target=churn)
    thread.start()
    try:
        listings = [fs.list_files(folder, ".json") for _ in range(5000)]
    finally:
        stop.set()
        thread.join()
    assert listings == [[]] * 5000
