"""Writers: each turns a plan (or a :class:`bridge.model.Distribution`) into files in one output folder.

Every writer checks the member paths again before it writes anything (the readers checked them
once) and joins untrusted names to its output root only through
:func:`bridge.model.paths.contained_join` (via :func:`bridge.model.paths.contained_output`).
"""
