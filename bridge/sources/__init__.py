"""Readers: each turns one kind of input into its typed model (a wheel or an installed tree into a
:class:`bridge.model.Distribution`, a conda package into a :class:`bridge.sources.conda.CondaArchive`)."""
