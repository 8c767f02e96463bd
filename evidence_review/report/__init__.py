"""The report: summary tables and pages."""
