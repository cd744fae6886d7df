"""Reports of a results store: a self-contained HTML page (:func:`write_report`)."""

from hopscreen.report.html import (
    ReportData,
    ReportWriteError,
    check_writable,
    load_report_data,
    ranked_rows,
    render_report,
    write_report,
)

__all__ = [
    "ReportData",
    "ReportWriteError",
    "check_writable",
    "load_report_data",
    "ranked_rows",
    "render_report",
    "write_report",
]
