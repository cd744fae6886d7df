"""Reports of a results store: a self-contained HTML page (:func:`write_report`)."""

from hopscreen.report.html import (
    ReportData,
    load_report_data,
    ranked_rows,
    render_report,
    write_report,
)

__all__ = ["ReportData", "load_report_data", "ranked_rows", "render_report", "write_report"]
