"""Reports of comparison runs: statistics over seeds, figures, and an HTML/Markdown page.

from workbench.report import write_report
html_path, md_path, warnings = write_report("runs/sst2")
"""

from workbench.report.render import write_comparison_report, write_report

__all__ = ["write_report", "write_comparison_report"]
