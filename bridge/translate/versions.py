"""PEP 440 versions and specifiers ↔ conda versions and version specs.  Pure functions.

conda orders versions differently from PEP 440 in a few places (``shared/docs/conda-format.md``
§11), so a straight copy would change which release a solver picks:

* a local label (``2.5.1+cu121``) sorts *below* ``2.5.1`` in conda: it is dropped from the
  version and carried in the build string instead;
* ``1.0.dev1`` sorts *above* ``1.0a1`` in conda (``dev`` after a dot is its own segment):
  written ``1.0dev1``;
* ``<2`` admits ``2.0rc1`` in conda: written ``<2a0``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from packaging.specifiers import Specifier, SpecifierSet
from packaging.version import InvalidVersion, Version


def conda_version(version: Version | str) -> str:
    """The conda version for a PEP 440 version (normalised, no local label)."""
    v = version if isinstance(version, Version) else Version(version)
    if v.dev is not None and v.pre is None and v.post is None:
        return f"{v.base_version}dev{v.dev}"
    return v.public


def local_label(version: Version | str) -> str | None:
    """The local version label (``rocm7.11.0a20260104`` of ``2.9.1+rocm7.11.0a20260104``), if any."""
    v = version if isinstance(version, Version) else Version(version)
    return v.local


def pep440_version(conda: str, local: str | None = None) -> Version:
    """Back from a conda version (``1.0dev1`` parses as ``1.0.dev1``), optionally with a local label."""
    text = conda + (f"+{local}" if local else "")
    try:
        return Version(text)
    except InvalidVersion:
        raise ValueError(f"conda version {conda!r} is not a PEP 440 version") from None


@dataclass
class SpecTranslation:
    """A conda version spec with what could not be expressed."""

    version: str  # conda version spec ("" = any version)
    local: str | None = None  # local label an ``==`` pin asked for (goes to the build-string match)
    notes: list[str] = field(default_factory=list)
    pinned: str | None = None  # the version an exact ``==V`` / ``===V`` pin names (public part)


def _strip_zeros(release: tuple[int, ...]) -> str:
    parts = list(release)
    while len(parts) > 1 and parts[-1] == 0:
        parts.pop()
    return ".".join(str(p) for p in parts)


def translate_specifier(spec: Specifier) -> SpecTranslation:
    """One PEP 440 clause → conda syntax (see the module docstring for the rules)."""
    op, text = spec.operator, spec.version
    if text.endswith(".*"):
        prefix = text[:-2]
        return SpecTranslation(f"{'!=' if op == '!=' else ''}{prefix}.*")
    if op == "===":
        return SpecTranslation(f"=={text}", notes=[f"'==={text}' (arbitrary equality) became '=={text}'"], pinned=text)
    v = Version(text)
    cv = conda_version(v)
    if op == "==":
        return SpecTranslation(f"=={cv}", local=v.local, pinned=v.public)
    if op == "!=":
        note = [f"'!={text}': the local label is ignored in conda"] if v.local else []
        return SpecTranslation(f"!={cv}", notes=note)
    if op == "<":
        if v.pre is None and v.dev is None and v.post is None:
            epoch = f"{v.epoch}!" if v.epoch else ""
            return SpecTranslation(f"<{epoch}{_strip_zeros(v.release)}a0")
        return SpecTranslation(f"<{cv}")
    if op == "~=":
        release = v.release
        prefix = ".".join(str(p) for p in release[:-1])
        epoch = f"{v.epoch}!" if v.epoch else ""
        return SpecTranslation(f">={cv},{epoch}{prefix}.*")
    if op == ">":
        note = [f"'>{text}': conda also admits {text}.postN releases"] if v.post is None else []
        return SpecTranslation(f">{cv}", notes=note)
    return SpecTranslation(f"{op}{cv}")  # >=, <=


def translate_specifier_set(specs: SpecifierSet) -> SpecTranslation:
    """A whole specifier set, clauses joined with ``,`` (AND) in a stable order."""
    parts: list[str] = []
    notes: list[str] = []
    local: str | None = None
    pinned: str | None = None
    for clause in sorted(specs, key=str):
        t = translate_specifier(clause)
        parts.append(t.version)
        notes.extend(t.notes)
        local = local or t.local
        pinned = pinned or t.pinned
    return SpecTranslation(",".join(parts), local=local, notes=notes, pinned=pinned)


# -- nightlies -------------------------------------------------------------------------------

_DATE = r"(20\d{6})"
_LOCAL_NIGHTLY = re.compile(rf"a{_DATE}(?![0-9])")
#: Room per nightly for rebuilds (+1 each) and the CUDA build-number offset (+100).
NIGHTLY_BUILD_FACTOR = 1000


def nightly_date(version: Version) -> int | None:
    """``YYYYMMDD`` of a nightly build, from ``aYYYYMMDD``/``.devYYYYMMDD`` or the local label."""
    for number in (version.pre[1] if version.pre and version.pre[0] == "a" else None, version.dev):
        if number is not None and re.fullmatch(_DATE, str(number)):
            return number
    if version.local:
        m = _LOCAL_NIGHTLY.search(version.local)
        if m:
            return int(m.group(1))
    return None


def label_nightly_date(version: Version) -> int | None:
    """The nightly date when only the local label carries it (``2.9.1+rocm7.11.0a20260104``).

    Such nightlies share one conda version (the label moves into the build string), so the
    date must tell them apart; versions with the date in their public part do not need it.
    """
    if nightly_date(Version(version.public)) is not None:
        return None
    return nightly_date(version)


def nightly_build_offset(version: Version | str) -> int:
    """What a nightly dated only in its local label adds to its build number: ``YYYYMMDD × 1000``.

    The one build-number rule of ``convert`` and ``recipes`` (``docs/recipes.md``): the build
    number of ``torch 2.9.1+rocm7.11.0a20260104`` is ``20260104000 + N`` (N: ``--build-number``,
    the wheel's build tag or the recipe's rebuild count), so successive nights never share a
    file name and the newest wins among equal versions; any other version adds 0.
    """
    v = version if isinstance(version, Version) else Version(version)
    date = label_nightly_date(v)
    return date * NIGHTLY_BUILD_FACTOR if date is not None else 0
