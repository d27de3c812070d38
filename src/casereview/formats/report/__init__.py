"""Figures for the annual report and the scrutiny committee, and the writers that turn them
into Markdown, CSV, JSON and a self-contained HTML page.

`figures` holds the model (a reporting period, figures with the cases behind them,
rapid reviews by quarter, and a timeline of clocks); `casereview.services.report`
computes it from the event log. Every writer here is pure: report in, text out.
"""
