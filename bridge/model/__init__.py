"""The models every reader produces and every writer consumes.

* :mod:`bridge.model.wheel`: the neutral Python-distribution model (:class:`Distribution`,
  :class:`Member`, ...), what wheels and installed trees are read into and conda packages planned into;
* :mod:`bridge.model.scheme`: install schemes and the entry-point rules both models share;
* :mod:`bridge.model.conda`: conda's own files (``index.json``, ``paths.json``, ``about.json``
  with wheel2conda's provenance record, ``link.json``, ``has_prefix``, the round-trip record,
  repodata records), each parsed by ``from_raw`` (raising :class:`bridge.core.errors.BadInput` that
  names the file and the field) and written back by ``to_raw``;
* :mod:`bridge.model.roundtrip`: the round-trip record's format (``LINKS``, ``conda-package.json``) and
  link resolution;
* :mod:`bridge.model.paths`: the one path rule and the one contained join.
"""

from __future__ import annotations

from .scheme import Scheme
from .wheel import Distribution, EntryPoint, Member, MemberOpener, OpenFn, Provenance

__all__ = ["Distribution", "EntryPoint", "Member", "MemberOpener", "OpenFn", "Provenance", "Scheme"]
