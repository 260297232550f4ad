"""``python -m acq_spark.cluster start|stop|status|submit``: a background cluster for machines without Docker.

    python -m acq_spark.cluster start [--workers 2 --cores 1 --memory 1g]   # prints the master URL
    python -m acq_spark.cluster submit simulate --config conf/local.yaml    # driver here, executors there
    python -m acq_spark.cluster stop

The pids, ports and folders live in a state file (``--state``, default in the temp folder), so
``stop`` ends exactly the JVMs that ``start`` launched.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

from acq_spark.cluster.processes import ClusterError, alive
from acq_spark.cluster.standalone import StandaloneCluster
from acq_spark.cluster.submit import submit_job

DEFAULT_STATE = Path(tempfile.gettempdir()) / f"acq-spark-cluster-{os.getuid()}.json"


def _running(state: Path) -> StandaloneCluster | None:
    if not state.is_file():
        return None
    cluster = StandaloneCluster.load(state)
    return cluster if cluster.master and alive(cluster.master.pid) else None


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m acq_spark.cluster", description=__doc__.splitlines()[0])
    parser.add_argument("--state", type=Path, default=DEFAULT_STATE, help=f"state file (default {DEFAULT_STATE})")
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start a master and workers on 127.0.0.1 in the background")
    start.add_argument("--workers", type=int, default=2)
    start.add_argument("--cores", type=int, default=1, help="cores per worker")
    start.add_argument("--memory", default="1g", help="memory per worker")
    sub.add_parser("stop", help="stop the cluster of the state file (every JVM it started)")
    sub.add_parser("status", help="the master URL and the workers' states")
    submit = sub.add_parser("submit", help="spark-submit jobs/<JOB>.py to the running cluster")
    submit.add_argument("--driver-memory", default="2g")
    submit.add_argument("--executor-memory", default="768m", help="at most the workers' memory")
    submit.add_argument("job", help="a job name (simulate, nightly, ...) or a path to a .py script")
    submit.add_argument("job_args", nargs=argparse.REMAINDER, help="the job's own arguments (--config, --set)")
    args = parser.parse_args(argv)

    running = _running(args.state)
    try:
        if args.command == "start":
            if running:
                print(f"already running: {running.master_url} (state {args.state})")
                return 0
            cluster = StandaloneCluster(args.workers, args.cores, args.memory).start(detach=True)
            cluster.save(args.state)
            print(f"master {cluster.master_url}  ui {cluster.ui_url}  workers {cluster.worker_pids}")
            print(f"logs {cluster.base_dir / 'logs'}  state {args.state}")
        elif args.command == "stop":
            if args.state.is_file():
                StandaloneCluster.load(args.state).stop()
                args.state.unlink()
            print("stopped")
        elif running is None:
            print(f"no cluster running (state {args.state})", file=sys.stderr)
            return 1
        elif args.command == "status":
            print(f"master {running.master_url}  ui {running.ui_url}  workers {running.worker_states()}")
        else:
            memory = {"driver_memory": args.driver_memory, "executor_memory": args.executor_memory}
            result = submit_job(args.job, running.master_url, args.job_args, timeout=24 * 3600, **memory)
            print(result.stdout, end="")
    except ClusterError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
