"""Test access to the conda side: the stand-in base channel and py-rattler helpers.

Everything lives in the library (``bridge.check.standin``, ``bridge.check.client``) because the demo and
``verify`` use it too; this module keeps the tests' import paths short.
"""

from bridge.check.client import HOST_SUBDIR, SolveError, default_virtual_packages, install, prefix_python, run_in_prefix, solve
from bridge.check.standin import ALL_SUBDIRS, HOST_PY, STUB_EXIT, STUB_FEATURE, build_base_channel, build_conda_package

__all__ = [
    "ALL_SUBDIRS",
    "HOST_PY",
    "HOST_SUBDIR",
    "STUB_EXIT",
    "STUB_FEATURE",
    "SolveError",
    "build_base_channel",
    "build_conda_package",
    "default_virtual_packages",
    "install",
    "prefix_python",
    "run_in_prefix",
    "solve",
]
