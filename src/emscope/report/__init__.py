"""Self-contained static HTML reports (no CDN, every model output escaped)."""

from emscope.report.html import render_report

__all__ = ["render_report"]
