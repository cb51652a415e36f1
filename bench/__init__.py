"""Benchmarks: ``python -m bench [NAME ...]`` runs ``main()`` of every ``bench/bench_*.py`` (or the named ones)."""
