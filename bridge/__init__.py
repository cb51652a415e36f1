"""wheel2conda: convert Python wheels to conda packages and back, and publish local channels."""

__version__ = "0.1.0"
