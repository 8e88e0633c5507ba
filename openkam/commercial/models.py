"""Whitespace, opportunities and pipeline, tenders with risk analysis, account P&L and sales lines (issue 6)."""
