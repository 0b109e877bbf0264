"""Self-contained static HTML reports (no CDN, every model output escaped)."""

from emscope.report.dispatch import ReportOutcome, build_report
from emscope.report.html import render_report

__all__ = ["ReportOutcome", "build_report", "render_report"]
