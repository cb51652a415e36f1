"""Per-Python regions of packages that serve many Pythons.  Pure functions.

A ``noarch: python``, abi3 or ``py3-none-<platform>`` package serves every Python from its
floor on, but its Requires-Dist may say ``numpy<2; python_version < "3.9"`` and
``numpy>=2; python_version >= "3.9"``.  No single dependency list is right for all of those
Pythons, so :func:`python_regions` partitions the Python versions the package serves by every
``python_version``/``python_full_version``/``implementation_*`` comparison in Requires-Dist and
Requires-Python, and groups the pieces by the dependencies they get.  One package is built per
group (a :class:`PythonRegion`), pinned to its Pythons (``python >=3.7,<3.9``); a package whose
markers give every Python the same dependencies is not split.

How it works: every version a marker compares the Python version with is a *boundary*
(``"3.9"`` gives 3.9.0 and 3.10.0, since ``python_version`` only takes ``X.Y`` values;
``"3.9.2"`` on ``python_full_version`` gives 3.9.2 and 3.9.3).  Between two boundaries every
marker has one value, so evaluating each marker at the start of each piece decides it exactly.
Pieces that Requires-Python excludes, or that end at or below the oldest Python in
:data:`~bridge.translate.specs.PYTHON_CANDIDATES` (3.8), are dropped; pieces with equal
dependencies merge (across dropped pieces too, so the result stays a single range where it can).

The newest region gets the highest rank; the converter adds the rank to the build number, so
a solver that may choose the Python (``conda create -n x pkg``) prefers the newest region,
while an environment with an older Python can only take the region that fits it.  (rattler
orders the builds of one version by track_features, then version, then build number, and only
then by the versions their dependencies select and by timestamp: conda/rattler
``crates/rattler_solve/src/resolvo/conda_util.rs`` ``compare_candidates``; conda's solvers also
rank build number right after version.)  Ranks and build-string tags come from the wheel alone,
so they are the same on every run.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from packaging.markers import Marker
from packaging.specifiers import SpecifierSet
from packaging.version import InvalidVersion, Version

Release = tuple[int, ...]

#: Implementations a multi-Python package may meet, and what each one's region depends on.
#: conda-forge's ``python_abi`` build strings say the implementation (``4_cp312``, ``4_cp313t``,
#: ``4_pypy39_pp73``; shared/docs/conda-format.md §"Pins").
IMPLEMENTATIONS: dict[str, tuple[str, str, str]] = {
    # implementation_name: (platform_python_implementation, build-string tag, depends)
    "cpython": ("CPython", "cp", "python_abi * *_cp*"),
    "pypy": ("PyPy", "pp", "python_abi * *_pypy*"),
}

_OPS = r"(?:===|==|!=|~=|<=|>=|<|>|not\s+in|in)"
_VAR = r"(?:python_version|python_full_version|implementation_version)"
_LITERAL = re.compile(rf"""\b{_VAR}\s*{_OPS}\s*["']([^"']+)["']|["']([^"']+)["']\s*{_OPS}\s*{_VAR}\b""")
_IMPLEMENTATION = re.compile(r"\b(?:implementation_name|platform_python_implementation)\b")


@dataclass(frozen=True, order=True)
class Run:
    """Contiguous Pythons ``[lo, hi)``; ``lo == ()``: from the package's floor, ``hi == ()``: no upper end."""

    lo: Release = ()
    hi: Release = ()

    def specifiers(self) -> list[str]:
        """PEP 440 clauses (``>=3.9``, ``<3.11``); none for an unbounded end."""
        return ([f">={_text(self.lo)}"] if self.lo else []) + ([f"<{_text(self.hi)}"] if self.hi else [])

    @property
    def tag(self) -> str:
        return (f"ge{_text(self.lo)}" if self.lo else "") + (f"lt{_text(self.hi)}" if self.hi else "")


@dataclass(frozen=True, order=True)
class PythonRegion:
    """The Pythons one build of a multi-Python package serves.

    The default region (no runs, no implementation) is "every Python the package serves":
    the package is not split, and nothing about it changes.
    """

    runs: tuple[Run, ...] = ()  # empty: every Python version
    implementation: str = ""  # "cpython"/"pypy" when the split is by implementation too
    rank: int = 0  # 0 for the oldest region; the newest has the highest (added to the build number)
    samples: tuple[str, ...] = ()  # one full version per piece ("3.9.0"), to evaluate markers at
    reason: str = field(default="", compare=False)  # the requirements that split the package

    @property
    def split(self) -> bool:
        return bool(self.runs or self.implementation)

    @property
    def specifier(self) -> str:
        """The region's Python versions as PEP 440 text; alternatives joined by `` or ``."""
        return " or ".join(",".join(r.specifiers()) for r in self.runs if r.specifiers())

    @property
    def tag(self) -> str:
        """Build-string part: ``lt3.9``, ``ge3.9``, ``ge3.9lt3.11``, ``lt3.10orge3.11``, ``cp``/``pp`` first."""
        parts = [IMPLEMENTATIONS[self.implementation][1]] if self.implementation else []
        runs = "or".join(r.tag for r in self.runs if r.tag)
        return "_".join([*parts, runs] if runs else parts)

    def describe(self) -> str:
        """``Python >=3.9`` / ``PyPy, Python <3.9`` (for messages)."""
        impl = IMPLEMENTATIONS[self.implementation][0] if self.implementation else "Python"
        return f"{impl} {self.specifier}".strip()

    def contains(self, version: str, implementation: str = "") -> bool:
        """Whether this region serves Python ``version`` (``"3.9.2"``) of ``implementation`` ("" for any)."""
        if self.implementation and implementation and implementation != self.implementation:
            return False
        release = _norm(Version(version).release)
        return not self.runs or any((not r.lo or release >= _norm(r.lo)) and (not r.hi or release < _norm(r.hi)) for r in self.runs)

    def covers(self, other: PythonRegion) -> bool:
        """Whether every Python ``other`` serves is served here (``other`` from a finer split)."""
        return all(self.contains(s, other.implementation) for s in other.samples)

    def depends(self) -> list[str]:
        """MatchSpecs the region adds besides its Python range (the implementation's ``python_abi``)."""
        return [IMPLEMENTATIONS[self.implementation][2]] if self.implementation else []

    def python_spec(self, base: str, translate: Callable[[str], str]) -> str:
        """``base`` (a conda version spec, possibly empty) narrowed to this region.

        ``translate`` turns PEP 440 clauses into conda's (``<3.9`` → ``<3.9a0``).  Clauses of
        ``base`` that a region bound makes redundant (``>=3.8`` next to ``>=3.9``) are dropped.
        """
        alternatives = []
        for run in self.runs or (Run(),):
            clauses = list(dict.fromkeys(c for c in base.split(",") if c and not _redundant(c, run)))
            bounds = [translate(c) for c in run.specifiers()]
            alternatives.append(",".join([*clauses, *(b for b in bounds if b)]))
        return "|".join(alternatives)


def _redundant(clause: str, run: Run) -> bool:
    m = re.fullmatch(r"(>=|<)([0-9][0-9a-z.]*)", clause.strip())
    if not m:
        return False
    try:
        value = Version(m.group(2))
    except InvalidVersion:
        return False
    if m.group(1) == ">=" and run.lo:
        return value <= Version(_text(run.lo))
    if m.group(1) == "<" and run.hi:
        return value >= Version(_text(run.hi))
    return False


def _text(release: Release) -> str:
    """``(3, 9, 0)`` → ``3.9``; ``(3, 9, 2)`` → ``3.9.2``."""
    trimmed = list(release)
    while len(trimmed) > 2 and trimmed[-1] == 0:
        trimmed.pop()
    return ".".join(map(str, trimmed))


def _full(release: Release) -> str:
    return ".".join(map(str, (*release, 0, 0)[:3]))


@functools.cache
def _boundaries_of(text: str) -> tuple[Release, ...]:
    """Where the value of one marker or specifier can change along the Python versions."""
    found: list[Release] = []
    for m in _LITERAL.finditer(text):
        for literal in re.findall(r"\d+(?:\.\d+)*", m.group(1) or m.group(2)):  # several with ``in "3.8 3.9"``
            found.extend(_around(literal))
    return tuple(found)


def _around(literal: str) -> list[Release]:
    """``3.9`` → 3.9.0 and 3.10.0; ``3.9.2`` → 3.9.2 and 3.9.3; ``3.9.*`` like ``3.9``."""
    text = literal.strip().removesuffix(".*")
    try:
        release = Version(text).release
    except InvalidVersion:
        return []
    if len(release) == 1:
        release = (release[0], 0)
    bumped = (*release[:-1], release[-1] + 1)
    return [tuple(release[:3]), tuple(bumped[:3])]


def _specifier_boundaries(spec: SpecifierSet | None) -> list[Release]:
    result: list[Release] = []
    for s in spec or ():
        result.extend(_around(s.version))
    return result


@dataclass(frozen=True)
class Piece:
    lo: Release
    hi: Release  # () for the last piece

    @property
    def sample(self) -> str:
        return _full(self.lo)


def pieces(floor: Release, literals: Iterable[Release]) -> list[Piece]:
    """The Python range from ``floor`` on, cut at every boundary above it."""
    start = _norm(floor)
    cuts = sorted({_norm(b) for b in literals if _norm(b) > start})
    starts = [start, *cuts]
    return [Piece(lo, hi) for lo, hi in zip(starts, [*cuts, ()])]


def _norm(release: Release) -> Release:
    return tuple((*release, 0, 0)[:3])


Signature = tuple[frozenset[bool], ...]
#: Evaluates every marker at one sample Python (and implementation, or "" when not split).
Evaluate = Callable[[str, str], Signature]


def python_regions(
    markers: Sequence[tuple[Marker, str]],
    evaluate: Evaluate,
    *,
    floor: Release,
    requires_python: SpecifierSet | None,
    oldest: Release,
    implementations: bool,
    describe: Callable[[Sequence[int]], str] = lambda _: "",
) -> list[PythonRegion]:
    """The regions of a multi-Python package, oldest first; ``[PythonRegion()]`` when it needs no split.

    ``markers`` are ``(marker, extra)`` pairs; ``evaluate(full_version, implementation)`` gives
    their values there (each a set: the values over the platforms the package serves).
    ``floor`` is the lowest Python of the wheel's tags, ``oldest`` the lowest Python worth a
    package; ``implementations``: the implementation is not fixed by the tags.
    ``describe(indexes)`` words the markers (by index) that differ between regions.
    """
    literals = [b for m, _ in markers for b in _boundaries_of(str(m))] + _specifier_boundaries(requires_python)
    all_pieces = pieces(floor, literals)
    kept = [
        p
        for p in all_pieces
        if (requires_python is None or requires_python.contains(p.sample, prereleases=True)) and (not p.hi or _norm(p.hi) > _norm(oldest))
    ]
    if not kept:
        return [PythonRegion()]
    impls = [""]
    if implementations and any(_IMPLEMENTATION.search(str(m)) for m, _ in markers):
        by_impl = {i: [evaluate(p.sample, i) for p in kept] for i in IMPLEMENTATIONS}
        if len({tuple(v) for v in by_impl.values()}) > 1:
            impls = list(IMPLEMENTATIONS)
    signatures = {(i, p): evaluate(p.sample, i) for i in impls for p in kept}
    if len(set(signatures.values())) == 1:
        return [PythonRegion()]

    differing = [k for k in range(len(markers)) if len({s[k] for s in signatures.values()}) > 1]
    regions: list[PythonRegion] = []
    for impl in impls:
        groups: dict[Signature, list[Piece]] = {}
        for p in kept:
            groups.setdefault(signatures[(impl, p)], []).append(p)
        for members in groups.values():
            runs = _runs(members, kept, all_pieces) if len(groups) > 1 else (Run(),)
            regions.append(
                PythonRegion(
                    runs=tuple(r for r in runs if r != Run()),
                    implementation=impl,
                    samples=tuple(p.sample for p in members),
                    reason=describe(differing),
                )
            )
    preference = {"": 1, "cpython": 1, "pypy": 0}
    ordered = sorted(regions, key=lambda r: (preference[r.implementation], max(Version(s) for s in r.samples)))
    ranked = [PythonRegion(r.runs, r.implementation, rank, r.samples, r.reason) for rank, r in enumerate(ordered)]
    return sorted(ranked, key=lambda r: r.rank)


def _runs(members: list[Piece], kept: list[Piece], all_pieces: list[Piece]) -> tuple[Run, ...]:
    """Maximal ranges of ``members``, bridging pieces that no package serves anyway."""
    runs: list[list[Piece]] = []
    bridging = False
    for piece in all_pieces:
        if piece in members:
            if runs and bridging:
                runs[-1].append(piece)
            else:
                runs.append([piece])
            bridging = True
        elif piece in kept:  # served by another region: the run ends here
            bridging = False
    first, last = kept[0], kept[-1]
    return tuple(Run(() if run[0] == first else run[0].lo, () if run[-1] == last else run[-1].hi) for run in runs)
