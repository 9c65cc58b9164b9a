"""Altaviz: predictive maintenance for natural-gas compressor fleets."""

__version__ = "0.1.0"
