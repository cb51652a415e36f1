"""Test suite of wheel2conda (a package so ``tests.support`` and ``bridge`` import from the repo root)."""
