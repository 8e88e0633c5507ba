"""OpenKAM — open-source Key Account Management for life sciences."""

__version__ = "0.1.0"
