"""Detecting GPUs on the machine a conda client runs on (virtual packages)."""
