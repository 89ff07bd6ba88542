"""Synpunkt: open classification and trend reporting of citizen comments to Swedish municipalities."""

__version__ = "0.1.0"
