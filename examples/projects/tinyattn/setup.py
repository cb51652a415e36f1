"""The backend goes into the local version label, as PyTorch-ecosystem wheels do (+cpu, +cu124)."""

import os

from setuptools import setup

setup(version="0.4.0+" + os.environ.get("TINYATTN_BACKEND", "cpu"))
