"""Package data: the default configuration and the driver's log4j2 file, found through ``importlib.resources``.

They ship inside the wheel (and so inside ``make dist``'s environment archive), so an installed
package runs with no checkout.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def resource(name: str) -> Path:
    """The path of the packaged file ``name`` (``default.yaml``, ``log4j2.properties``)."""
    return Path(str(files(__name__) / name))


DEFAULT_CONFIG = resource("default.yaml")
LOG4J_CONFIG = resource("log4j2.properties")
