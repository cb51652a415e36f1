"""Say hello from a conda environment that was fed a wheel."""

__version__ = "1.2.0"
