"""acq-spark: ACQ (Automated Creatives Quota) on Apache Spark, Delta Lake and TensorFlow.

The package is in layers, each importing only the ones below it (ARCHITECTURE.md, ``tests/test_layers.py``):
:mod:`errors`, :mod:`config`, :mod:`platform`, :mod:`ingest`, the stages, :mod:`pipeline`.
"""

from pathlib import Path

__version__ = "0.1.0"

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout: jobs/, conf/ (absent in an installed wheel)
