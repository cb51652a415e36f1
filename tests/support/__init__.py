"""Test-only helpers: a deterministic wheel builder (:mod:`.wheels`) and a local
conda-forge stand-in with py-rattler solve/install wrappers (:mod:`.conda_env`)."""
