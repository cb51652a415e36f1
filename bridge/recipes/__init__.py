"""Nightly recipes: sources config → index scanning → recipes → build what changed → publish.

``config`` (sources.yaml), ``http`` (timeouts, retries, verified downloads), ``index`` (PEP 503
HTML, PEP 691 JSON, local folders), ``select`` (versions and files; pure), ``model`` (the recipe
and its YAML), ``rattler`` (rattler-build ``recipe.yaml``), ``regenerate`` and ``build``.
"""
