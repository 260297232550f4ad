"""The run report: Markdown and HTML with the Table-2 and Table-4 comparisons and PNG plots."""

from __future__ import annotations

from typing import TYPE_CHECKING

from acq_spark import lazy_face

if TYPE_CHECKING:  # the names lazy_face gives, for the type checker
    from acq_spark.report.build import build_report as build_report
    from acq_spark.report.build import render_report as render_report

_LAZY = {"build_report": "build", "render_report": "build"}
__all__ = [*_LAZY]
__getattr__ = lazy_face(__name__, _LAZY)
