"""Docket: publish archival records as linked data."""

__version__ = "0.2.0"
