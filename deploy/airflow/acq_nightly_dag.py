"""Airflow DAG: the nightly chain once a day, one run at a time, deciding the day after the data interval.

Copy this file into the Airflow deployment's ``dags/`` folder and set, as Airflow variables or in the
workers' environment, ``ACQ_HOME`` (the checkout, with ``make dist`` built), ``ACQ_MASTER`` (``yarn``,
``spark://HOST:7077``, ``k8s://…``) and ``ACQ_CONFIG`` (the site's YAML). The task runs the nightly
through ``python -m acq_spark.cluster submit`` (spark-submit in client mode, so the task's exit status is
the job's: 3 bad input, 4 an infeasible budget, 1 anything else; see the README, "Operating it").

The run that starts at 04:30 UTC on day D has ``data_interval_end`` = D 04:30: the logs up to D-1 are in,
and D is the decision day, passed as ``run_date`` so that missing logs fail the run (the publish guard's
``publish.max_input_age_days``) instead of moving the day back.
``catchup`` is off: a missed night is re-run on purpose (Airflow's "clear", or a backfill), not by the
scheduler replaying every day since ``start_date`` on its own. ``max_active_runs=1`` keeps two nights from
writing the warehouse at once. Written for Airflow 2.4+ and 3 (``schedule``, the standard BashOperator).
"""

from __future__ import annotations

import datetime as dt
import os

from airflow import DAG

try:  # Airflow 3: the standard provider
    from airflow.providers.standard.operators.bash import BashOperator
except ImportError:  # Airflow 2
    from airflow.operators.bash import BashOperator

ACQ_HOME = os.environ.get("ACQ_HOME", "/opt/acq")
ACQ_MASTER = os.environ.get("ACQ_MASTER", "yarn")
ACQ_CONFIG = os.environ.get("ACQ_CONFIG", "conf/cluster.yaml")

NIGHTLY = (
    ".venv/bin/python -m acq_spark.cluster submit --master {{ params.master }} "
    "nightly --config {{ params.config }} --set run_date={{ data_interval_end | ds }}"
)

with DAG(
    dag_id="acq_nightly",
    description="acq-spark: tomorrow's creative quotas from today's logs",
    schedule="30 4 * * *",  # 04:30 UTC, once the day's logs have landed
    start_date=dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc),  # noqa: UP017 (schedulers' Pythons < 3.11)
    catchup=False,
    max_active_runs=1,
    dagrun_timeout=dt.timedelta(hours=6),
    params={"master": ACQ_MASTER, "config": ACQ_CONFIG},
    default_args={"owner": "acq", "retries": 0},  # a failure alerts; its exit status says whose it is
    tags=["acq-spark"],
) as dag:
    nightly = BashOperator(task_id="nightly", bash_command=NIGHTLY, cwd=ACQ_HOME)
