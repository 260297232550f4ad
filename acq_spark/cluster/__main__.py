"""``python -m acq_spark.cluster start|stop|status|submit``: submit a job anywhere; a local cluster without Docker.

    python -m acq_spark.cluster submit --master yarn --executor-memory 4g nightly --config conf/cluster.yaml
    python -m acq_spark.cluster submit --print --master spark://HOST:7077 nightly   # show the line only
    python -m acq_spark.cluster submit --installed /opt/acq --master spark://HOST:7077 nightly  # dist on the hosts
    python -m acq_spark.cluster start [--workers 2 --cores 1 --memory 1g]   # prints the master URL
    python -m acq_spark.cluster submit simulate --config conf/local.yaml    # to that cluster: driver here
    python -m acq_spark.cluster stop

``submit`` runs the spark-submit line of :func:`acq_spark.cluster.submit_command`: for a cluster master
it ships ``make dist``'s environment archive, Delta's jars and the log4j file.

The pids, ports and folders live in a state file (``--state``, default in the temp folder), so
``stop`` ends exactly the JVMs that ``start`` launched.
"""

from __future__ import annotations

import argparse
import os
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from acq_spark.cluster.dist import Dist
from acq_spark.cluster.processes import alive
from acq_spark.cluster.standalone import StandaloneCluster
from acq_spark.cluster.submit import submit_command, submit_env
from acq_spark.errors import ClusterError, DistError, MissingJarsError

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
    submit = sub.add_parser("submit", help="spark-submit jobs/<JOB>.py with what the cluster needs (make dist)")
    submit.add_argument("--master", default=None, help="spark://, yarn, k8s://, local[N] (default: the started one)")
    submit.add_argument("--deploy-mode", default="client", choices=["client", "cluster"])
    submit.add_argument("--driver-memory", default=None, help="default: spark-defaults' (Spark: 1g)")
    submit.add_argument("--executor-memory", default=None, help="default: spark-defaults' (Spark: 1g)")
    submit.add_argument("--conf", action="append", default=[], metavar="KEY=VALUE", help="a Spark setting; repeatable")
    submit.add_argument("--print", action="store_true", help="print the spark-submit line, do not run it")
    submit.add_argument("--dist", type=Path, default=None, help="the make dist folder (default: <checkout>/dist)")
    submit.add_argument("--installed", default=None, metavar="DIR",
                        help="every host has dist installed at DIR (python -m acq_spark.cluster.dist --install DIR): "
                             "executors run DIR/environment/bin/python, no archive is shipped")
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
        elif args.command == "submit":
            return _submit(args, running)
        elif running is None:
            print(f"no cluster running (state {args.state})", file=sys.stderr)
            return 1
        else:
            print(f"master {running.master_url}  ui {running.ui_url}  workers {running.worker_states()}")
    except (ClusterError, DistError, MissingJarsError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


def _submit(args: argparse.Namespace, running: StandaloneCluster | None) -> int:
    master = args.master or (running.master_url if running else None)
    if master is None:
        raise ClusterError("submit: pass --master (spark://HOST:PORT, yarn, k8s://..., local[N]) or start a cluster")
    conf = dict(item.split("=", 1) for item in args.conf)
    command = submit_command(
        args.job,
        master,
        args.job_args,
        conf,
        driver_memory=args.driver_memory,
        executor_memory=args.executor_memory,
        deploy_mode=args.deploy_mode,
        dist=Dist.load(args.dist) if args.dist else None,
        installed=args.installed,
    )
    if args.print:
        print(shlex.join(command))
        return 0
    print(f"submit: {shlex.join(command)}", file=sys.stderr, flush=True)
    return subprocess.run(command, env=submit_env(master), check=False).returncode


if __name__ == "__main__":
    sys.exit(main())
