"""Spark's Python daemon with TensorFlow already imported: the workers it forks start with it.

Spark starts one daemon per executor (``spark.python.daemon.module``, set by ``spark.preload_tensorflow`` in
the jobs that score) and forks every Python worker from it. Importing TensorFlow costs a worker about 11 s of
CPU, and Spark ends a worker after a minute idle, so a scoring stage paid it again in each of its workers every
night (BENCHMARKS.md). Imported here once, before any fork, it costs each worker nothing: the forked workers
share its pages. Only imports happen here: TensorFlow's thread pools start with its first operation, which
runs in a worker, after the fork.
"""

from __future__ import annotations

import gc
import os
import sys


def preload() -> None:
    """Import TensorFlow, Keras and the model classes, writing nothing to stdout, which carries the daemon's port."""
    stdout = os.dup(1)
    os.dup2(2, 1)  # native code's output goes to stderr while importing
    try:
        import keras  # noqa: F401
        import tensorflow  # noqa: F401

        import acq_spark.models.factory  # noqa: F401  (registers the model classes load_model needs)
    except ImportError as error:  # a Python without TensorFlow still runs every other UDF
        print(f"acq daemon: TensorFlow not preloaded ({error})", file=sys.stderr, flush=True)
    finally:
        sys.stdout.flush()
        os.dup2(stdout, 1)
        os.close(stdout)
    gc.freeze()  # the collector then leaves the imported objects alone, so forked workers keep sharing their pages


def main() -> None:
    preload()
    from pyspark.daemon import manager

    manager()


if __name__ == "__main__":
    main()
