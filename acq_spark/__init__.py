"""acq-spark: ACQ (Automated Creatives Quota) on Apache Spark, Delta Lake and TensorFlow.

The package is in layers, each importing only the ones below it (ARCHITECTURE.md, ``tests/test_layers.py``):
:mod:`errors`, :mod:`config`, :mod:`platform`, :mod:`ingest`, the stages, :mod:`pipeline`.
"""

import importlib
from collections.abc import Callable, Mapping
from pathlib import Path

__version__ = "0.1.0"

PROJECT_ROOT = Path(__file__).resolve().parent.parent  # the checkout: jobs/, conf/ (absent in an installed wheel)


def lazy_face(package: str, face: Mapping[str, str]) -> Callable[[str], object]:
    """A package's module ``__getattr__``: ``name`` from its submodule ``face[name]``, imported on first use.

    The stage packages export their ``run_<stage>`` so: Spark's Python workers import a package to reach
    its kernels, and should not import the driver's job and everything the job needs with it.
    """

    def __getattr__(name: str) -> object:
        if name not in face:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{face[name]}"), name)

    return __getattr__
