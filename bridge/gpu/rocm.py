"""ROCm's ``rocm`` meta package: one conda package per GPU family.

TheRock ships ``rocm`` only as an sdist whose ``setup.py`` picks the GPU family at install
time (``$ROCM_SDK_TARGET_FAMILY``, else ``offload-arch``, else a default) and then requires
``rocm-sdk-core==V`` plus, for extra ``libraries``, ``rocm-sdk-libraries-<family>==V``
(``shared/docs/gpu-wheels.md`` §2).  conda cannot run code at install time, so the choice
moves to the user: one ``rocm`` package per family, the family in its build string
(``rocm-7.11.0a20260104-py_gfx103X_0``), depending on ``rocm-sdk-core`` and that family's
libraries.  Being the only ``rocm`` in an environment, it is also the family mutex that keeps a
GPU stack on one family (``docs/gpu.md``).

Built from the sdist, the package also carries the pure-Python ``rocm_sdk`` package (TheRock
torch imports it at startup) and the ``rocm-sdk`` command, with ``_dist_info.py`` pinned to
the package's family so the installed code never looks for another family's libraries.
Built from options alone it holds only ``rocm-V.dist-info`` (pip sees ``rocm`` installed).
The sdist is read without running any of its code.
"""

from __future__ import annotations

import ast
import email.generator
import email.parser
import email.policy
import io
import re
import tarfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from packaging.metadata import parse_email
from packaging.requirements import Requirement
from packaging.tags import parse_tag
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ..core.data import load
from ..core.digest import sha256_bytes
from ..core.errors import BadInput
from ..model import Distribution, EntryPoint, Member, Provenance, Scheme
from ..model.paths import check_relative_path
from ..plan.types import NO_EXTRAS, ConversionOptions
from ..translate.entry_points import entry_points_txt, parse_entry_points
from ..translate.multiarch import per_target_extras
from ..translate.variants import FamilyError, GpuFamily, family_mutex, known_families, resolve_family, same_family

SDIST_NAME = re.compile(r"^rocm-(?P<version>[^-/\\]+)\.tar\.gz$", re.IGNORECASE)
MAX_SDIST_BYTES = 64 << 20  # uncompressed; the real sdist is well under 1 MiB
_PINNED = ("DEFAULT_TARGET_FAMILY", "AVAILABLE_TARGET_FAMILIES")
_SKIPPED = re.compile(r"(^|/)(__pycache__/|[^/]+\.egg-info/)|\.py[co]$")


@dataclass(frozen=True)
class PackageEntry:
    """One entry of the sdist's package registry (``_dist_info.py`` ``PackageEntry``)."""

    logical_name: str  # "core", "libraries", "devel", ...
    template: str  # "rocm-sdk-libraries-{target_family}"
    required: bool = False

    def requirement(self, family: str, version: str) -> str:
        return f"{self.template.replace('{target_family}', family)}=={version}"

    @property
    def target_specific(self) -> bool:
        return "{target_family}" in self.template


@dataclass(frozen=True)
class RocmDistInfo:
    """What the sdist's generated ``_dist_info.py`` says (read with :mod:`ast`, never run)."""

    version: str | None = None
    default_family: str | None = None
    available_families: tuple[str, ...] = ()
    packages: tuple[PackageEntry, ...] = ()
    this_family: str | None = None  # THIS_TARGET_FAMILY of a wheel's copy (None in core, devel and the sdist)
    this_package: str | None = None  # THIS_PACKAGE_ENTRY's logical name ("core"), in wheels

    @property
    def multi_arch(self) -> bool:
        """A kpack-split (multi-arch) build: the libraries entry was made arch-neutral and
        ``AVAILABLE_TARGET_FAMILIES`` lists GPU targets (gfx1100), not families."""
        libraries = next((e for e in self.packages if e.logical_name == "libraries"), None)
        return libraries is not None and not libraries.target_specific and any(e.target_specific for e in self.packages)


@dataclass
class RocmSdist:
    """The parts of a ``rocm-V.tar.gz`` the meta packages are made from."""

    path: Path
    version: str
    pkg_info: bytes
    files: dict[str, bytes]  # site-packages-relative path → content (the ``src/`` tree)
    modes: dict[str, int]
    dist_info: RocmDistInfo
    entry_points: tuple[EntryPoint, ...]
    timestamp: int
    sha256: str
    size: int
    dist_info_path: str | None = None  # site-packages path of _dist_info.py, if present


def is_rocm_sdist(path: str | Path) -> bool:
    """Whether ``path`` is named like ROCm's meta sdist (``rocm-7.11.0a20260104.tar.gz``)."""
    return bool(SDIST_NAME.match(Path(path).name))


# -- _dist_info.py -----------------------------------------------------------------------------
#
# TheRock writes ``_dist_info.py`` as its template followed by generated lines
# (``build_tools/_therock_utils/py_packaging.py``, ``Parameters.__init__`` and
# ``PopulatedDistPackage.__init__``, at TheRock 3077ce801):
#
#     AVAILABLE_TARGET_FAMILIES: list[str] = []          # the template
#     DEFAULT_TARGET_FAMILY: str = "DEFAULT"             # the template
#     __version__ = '7.11.0a20260104'                    # generated from here on
#     PY_PACKAGE_SUFFIX_NONCE = ''
#     DEFAULT_TARGET_FAMILY = 'gfx103X-dgpu'             # sorted(all_target_families)[0]
#     AVAILABLE_TARGET_FAMILIES.append('gfx103X-dgpu')   # one line per family
#     THIS_TARGET_FAMILY = None                          # wheels only
#     THIS_PACKAGE_ENTRY = ALL_PACKAGES['core']          # wheels only
#
# So the module is read as Python executes it: statement by statement, the last assignment
# winning, ``.append``/``.extend``/``+=`` extending the list — with :mod:`ast`, never run.

_LIST_NAMES = ("AVAILABLE_TARGET_FAMILIES", "LINUX_TARGET_FAMILIES", "WINDOWS_TARGET_FAMILIES")
_SCALAR_NAMES = ("__version__", "DEFAULT_TARGET_FAMILY", "THIS_TARGET_FAMILY", "PY_PACKAGE_SUFFIX_NONCE")
_PLACEHOLDER = "DEFAULT"  # the template's value before the build fills it in


def parse_dist_info(source: str) -> RocmDistInfo:
    """Version, families and package registry from ``_dist_info.py`` source (never executed)."""
    tree = ast.parse(source)
    scalars: dict[str, object] = {}
    lists: dict[str, list[str]] = {}
    packages: list[PackageEntry] = []
    this_entry: str | None = None
    for node in tree.body:
        name, value = _assignment(node)
        if name in _SCALAR_NAMES and value is not None:
            scalars[name] = _literal(value)
        elif name in _LIST_NAMES and value is not None:
            lists[name] = _string_list(_literal(value)) or []
        elif name == "THIS_PACKAGE_ENTRY" and value is not None:
            this_entry = _registry_key(value)
        mutated = _list_mutation(node)
        if mutated is not None and mutated[0] in _LIST_NAMES:
            lists.setdefault(mutated[0], []).extend(mutated[1])
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            entry = _package_entry(node.value)
            if entry is not None:
                packages.append(entry)
        retemplated = _template_override(node)  # multi-arch (kpack split): libraries made arch-neutral
        if retemplated is not None:
            packages = [replace(e, template=retemplated[1]) if e.logical_name == retemplated[0] else e for e in packages]

    def text(key: str) -> str | None:
        value = scalars.get(key)
        return value if isinstance(value, str) and value != _PLACEHOLDER else None

    return RocmDistInfo(
        version=text("__version__"),
        default_family=text("DEFAULT_TARGET_FAMILY"),
        available_families=tuple(dict.fromkeys(lists.get("AVAILABLE_TARGET_FAMILIES", ()))),
        packages=tuple(packages),
        this_family=text("THIS_TARGET_FAMILY"),
        this_package=this_entry,
    )


def _literal(node: ast.expr) -> object:
    try:
        return ast.literal_eval(node)
    except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
        return None


def _string_list(value: object) -> list[str] | None:
    if isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value):
        return list(value)
    return None


def _list_mutation(node: ast.stmt) -> tuple[str, list[str]] | None:
    """``NAME.append('x')``, ``NAME.extend([...])`` or ``NAME += [...]`` with literal strings."""
    if isinstance(node, ast.AugAssign) and isinstance(node.op, ast.Add) and isinstance(node.target, ast.Name):
        items = _string_list(_literal(node.value))
        return (node.target.id, items) if items is not None else None
    if not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Call)):
        return None
    call = node.value
    func = call.func
    if not (isinstance(func, ast.Attribute) and isinstance(func.value, ast.Name) and len(call.args) == 1 and not call.keywords):
        return None
    value = _literal(call.args[0])
    if func.attr == "append" and isinstance(value, str):
        return func.value.id, [value]
    if func.attr == "extend":
        items = _string_list(value)
        return (func.value.id, items) if items is not None else None
    return None


def _template_override(node: ast.stmt) -> tuple[str, str] | None:
    """``ALL_PACKAGES["libraries"].dist_package_template = "rocm-sdk-libraries"`` → ``("libraries", …)``.

    py_packaging.py (TheRock 89553ce, ``Parameters.__init__`` with ``kpack_split``) appends this
    line for multi-arch builds, where the libraries package has no family suffix.
    """
    if not (isinstance(node, ast.Assign) and len(node.targets) == 1):
        return None
    target = node.targets[0]
    if not (isinstance(target, ast.Attribute) and target.attr == "dist_package_template"):
        return None
    key = _registry_key(target.value)
    value = _literal(node.value)
    return (key, value) if key is not None and isinstance(value, str) else None


def _registry_key(node: ast.expr) -> str | None:
    """``ALL_PACKAGES['core']`` → ``core``."""
    if isinstance(node, ast.Subscript) and isinstance(node.value, ast.Name) and node.value.id == "ALL_PACKAGES":
        key = _literal(node.slice)
        return key if isinstance(key, str) else None
    return None


def _assignment(node: ast.stmt) -> tuple[str | None, ast.expr | None]:
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id, node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.value is not None:
        return node.target.id, node.value
    return None, None


def _package_entry(call: ast.Call) -> PackageEntry | None:
    if not (isinstance(call.func, ast.Name) and call.func.id == "PackageEntry" and len(call.args) >= 2):
        return None
    logical, template = (_literal(a) for a in call.args[:2])
    required = next((_literal(k.value) for k in call.keywords if k.arg == "required"), False)
    if not isinstance(logical, str) or not isinstance(template, str):
        return None
    return PackageEntry(logical, template, bool(required))


def pin_family(source: str, family: str) -> str:
    """``_dist_info.py`` with ``DEFAULT_TARGET_FAMILY``/``AVAILABLE_TARGET_FAMILIES`` set to ``family``.

    Every assignment of either name gets the pinned value and every ``.append``/``.extend``/
    ``+=`` on the list is commented out (line numbers are kept).  With one available family,
    ``rocm_sdk`` resolves to the installed libraries whatever ``offload-arch`` reports; asking
    for another family through ``$ROCM_SDK_TARGET_FAMILY`` fails with TheRock's own message.
    """
    lines = source.splitlines(keepends=True)
    for node in reversed(ast.parse(source).body):
        if node.end_lineno is None:
            continue
        name, _ = _assignment(node)
        mutated = _list_mutation(node)
        if name in _PINNED:
            annotation = f": {ast.unparse(node.annotation)}" if isinstance(node, ast.AnnAssign) else ""
            value = repr(family) if name == "DEFAULT_TARGET_FAMILY" else repr([family])
            replacement = [f"{name}{annotation} = {value}  # pinned by wheel2conda\n"]
        elif mutated is not None and mutated[0] == "AVAILABLE_TARGET_FAMILIES":
            replacement = [f"# {line.rstrip()}  # removed by wheel2conda\n" for line in lines[node.lineno - 1 : node.end_lineno]]
        else:
            continue
        lines[node.lineno - 1 : node.end_lineno] = replacement + ["\n"] * (node.end_lineno - node.lineno + 1 - len(replacement))
    return "".join(lines)


# -- reading the sdist -------------------------------------------------------------------------


def read_rocm_sdist(path: str | Path) -> RocmSdist:
    """Read ``rocm-V.tar.gz``: PKG-INFO, the ``src/`` tree, ``_dist_info.py`` and entry points."""
    path = Path(path)
    where = str(path)
    raw: dict[str, bytes] = {}
    modes: dict[str, int] = {}
    newest = 0
    total = 0
    try:
        if path.stat().st_size > MAX_SDIST_BYTES:
            raise BadInput(where, f"larger than {MAX_SDIST_BYTES >> 20} MiB; not ROCm's rocm meta sdist")
        data = path.read_bytes()
    except FileNotFoundError:
        raise BadInput(where, "no such file") from None
    except OSError as exc:
        raise BadInput(where, f"cannot read ({exc.strerror or exc})") from None
    try:
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
            for info in tar:
                problem = check_relative_path(info.name)
                if problem:
                    raise BadInput(where, f"unsafe member name {info.name!r}: {problem}")
                if not info.isfile():
                    continue
                total += info.size
                if total > MAX_SDIST_BYTES:
                    raise BadInput(where, f"more than {MAX_SDIST_BYTES >> 20} MiB uncompressed; not ROCm's rocm meta sdist")
                extracted = tar.extractfile(info)
                assert extracted is not None
                raw[info.name] = extracted.read()
                modes[info.name] = info.mode
                newest = max(newest, int(info.mtime))
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise BadInput(where, f"not a readable .tar.gz ({exc})", hint="the download may be truncated") from None

    roots = {name.split("/", 1)[0] for name in raw}
    if len(roots) != 1:
        raise BadInput(where, "an sdist has exactly one top-level directory")
    root = roots.pop()
    pkg_info = raw.get(f"{root}/PKG-INFO")
    if pkg_info is None:
        raise BadInput(where, f"{root}/PKG-INFO is missing", hint="not an sdist built by setuptools")
    fields, _ = parse_email(pkg_info)
    if canonicalize_name(str(fields.get("name", ""))) != family_mutex():
        raise BadInput(where, f"PKG-INFO names {fields.get('name')!r}, not {family_mutex()!r}; only ROCm's meta sdist is converted")
    version = str(fields.get("version", ""))
    try:
        Version(version)
    except InvalidVersion:
        raise BadInput(where, f"PKG-INFO version {version!r} is not a PEP 440 version") from None

    src = f"{root}/src/"
    files = {n[len(src) :]: c for n, c in raw.items() if n.startswith(src) and not _SKIPPED.search(n[len(src) :])}
    file_modes = {n[len(src) :]: modes[n] for n in raw if n[len(src) :] in files and n.startswith(src)}
    dist_info_path = next((p for p in sorted(files) if p.endswith("/_dist_info.py") and p.count("/") == 1), None)
    dist_info = RocmDistInfo()
    if dist_info_path is not None:
        try:
            dist_info = parse_dist_info(files[dist_info_path].decode("utf-8"))
        except (SyntaxError, UnicodeDecodeError) as exc:
            raise BadInput(where, f"{dist_info_path}: not readable Python ({exc})") from None
        if dist_info.version is not None and Version(dist_info.version) != Version(version):
            raise BadInput(where, f"{dist_info_path} says version {dist_info.version} but PKG-INFO says {version}")
    return RocmSdist(
        path=path,
        version=version,
        pkg_info=pkg_info,
        files=files,
        modes=file_modes,
        dist_info=dist_info,
        entry_points=_egg_info_entry_points(raw, root, where),
        timestamp=newest,
        sha256=sha256_bytes(data),
        size=len(data),
        dist_info_path=dist_info_path,
    )


def _egg_info_entry_points(raw: dict[str, bytes], root: str, where: str) -> tuple[EntryPoint, ...]:
    found = sorted(n for n in raw if n.startswith(root + "/") and n.endswith(".egg-info/entry_points.txt"))
    if not found:
        return ()
    return tuple(sorted(parse_entry_points(where, raw[found[0]]), key=lambda e: e.name))


# -- families ----------------------------------------------------------------------------------


def meta_families(sdist: RocmSdist | None, requested: str | None) -> list[GpuFamily]:
    """The families to build meta packages for, each with a full family name.

    From the sdist: its available families, narrowed to ``requested``.  Without it:
    ``requested``, which must name one family (``gfx103X-dgpu``), or a tag only one listed
    family carries, because the libraries package is named after the full family.
    """
    wanted = resolve_family(requested) if requested else None
    if sdist is not None and sdist.dist_info.available_families:
        offered = [resolve_family(f) for f in sdist.dist_info.available_families]
        offered = [replace(f, name=name) for f, name in zip(offered, sdist.dist_info.available_families)]
        if wanted is None:
            return offered
        exact = [f for f in offered if wanted.name is not None and f.name is not None and f.name.lower() == wanted.name.lower()]
        chosen = exact or _preferred([f for f in offered if same_family(f, wanted)])
        if not chosen:
            raise FamilyError(f"the sdist offers {', '.join(sdist.dist_info.available_families)}, not {wanted}; pass one of those to --gpu-family")
        return chosen
    if wanted is None:
        raise FamilyError("no GPU family: the sdist lists none; pass --gpu-family (e.g. gfx103X-dgpu)")
    if wanted.name is not None:
        return [wanted]
    names = sorted(n for n, tag in known_families().items() if tag == wanted.tag)
    if len(names) == 1:
        return [replace(wanted, name=names[0])]
    raise FamilyError(
        f"{wanted.tag} is the tag of {', '.join(names)}: name the family, since the libraries package is "
        f"rocm-sdk-libraries-<family>"
    )


#: TheRock's order when a GPU maps to several families of its group (``_dist_info.py``
#: ``discover_current_target_family``: ``suffixes = ["-all", "-dgpu", "-igpu", "-dcgpu"]``).
FAMILY_SUFFIX_ORDER = ("-all", "-dgpu", "-igpu", "-dcgpu")


def _preferred(families: list[GpuFamily]) -> list[GpuFamily]:
    """The one family TheRock would pick among families sharing a tag (``gfx103X`` → ``-all``, else ``-dgpu``, …)."""
    if len(families) <= 1:
        return families

    def rank(f: GpuFamily) -> tuple[int, str]:
        name = (f.name or "").lower()
        order = next((i for i, s in enumerate(FAMILY_SUFFIX_ORDER) if name.endswith(s)), len(FAMILY_SUFFIX_ORDER))
        return order, name

    return [min(families, key=rank)]


# -- distributions -----------------------------------------------------------------------------


def meta_requirements(version: str, family: str, registry: Sequence[PackageEntry], extras: Iterable[str]) -> tuple[list[str], list[str]]:
    """``(requires, extra-only requires)`` as PEP 508 strings for one family."""
    wanted = {"libraries", *(str(canonicalize_name(e)) for e in extras)}
    unknown = sorted(wanted - {e.logical_name for e in registry})
    if unknown:
        raise ValueError(f"rocm has no extra {', '.join(unknown)} (it offers {', '.join(e.logical_name for e in registry if not e.required)})")
    requires, optional = [], []
    for entry in registry:
        if entry.template == family_mutex():
            continue
        if entry.required or entry.logical_name in wanted:
            requires.append(entry.requirement(family, version))
        else:
            optional.append(f"{entry.requirement(family, version)}; extra == \"{entry.logical_name}\"")
    return requires, optional


def default_registry() -> tuple[PackageEntry, ...]:
    raw = load("gpu")["rocm"]["meta_packages"]
    return tuple(PackageEntry(name, v["template"], bool(v.get("required"))) for name, v in raw.items())


def multi_arch_meta_distribution(sdist: RocmSdist, version: str, extras: Iterable[str]) -> Distribution:
    """The one generic ``rocm`` of a multi-arch sdist: core and the arch-neutral libraries, and per
    target extras ``device-<target>``/``device-all`` (TheRock's ``build_per_target_extras``) that
    become the architecture mutex ``rocm-device`` (:mod:`bridge.translate.multiarch`)."""
    registry = sdist.dist_info.packages
    neutral = tuple(e for e in registry if not e.target_specific)
    requires, optional = meta_requirements(version, "", neutral, extras)
    extra_names = sorted({e.logical_name for e in neutral if not e.required and e.template != family_mutex()})
    for entry in registry:
        if entry.target_specific and not entry.required:
            for extra, reqs in per_target_extras(entry.logical_name, entry.template, sdist.dist_info.available_families, version).items():
                extra_names.append(extra)
                optional += [f'{r}; extra == "{extra}"' for r in reqs]
    return meta_distribution(sdist, version, None, extras, (requires, optional, extra_names))


def meta_distribution(
    sdist: RocmSdist | None,
    version: str,
    family: GpuFamily | None,
    extras: Iterable[str],
    computed: tuple[list[str], list[str], list[str]] | None = None,
) -> Distribution:
    """The ``rocm`` distribution for one family (None: multi-arch, ``computed`` requirements), as if pip had built the sdist for it."""
    if computed is not None:
        requires, optional, extra_names = computed
    else:
        assert family is not None and family.name is not None
        registry = (sdist.dist_info.packages if sdist else ()) or default_registry()
        requires, optional = meta_requirements(version, family.name, registry, extras)
        extra_names = sorted({e.logical_name for e in registry if not e.required and e.template != family_mutex()})
    # A flavour with more extras is told apart by a local label, which becomes a build-string
    # part (py_devel_gfx103X_0) while the conda version stays V and ==V pins still match.
    flavour = sorted({str(canonicalize_name(e)) for e in extras} - {"libraries"})
    full_version = f"{version}{'.' if Version(version).local else '+'}{'.'.join(flavour)}" if flavour else version
    metadata = _metadata(sdist.pkg_info if sdist else None, full_version, family, requires, optional, extra_names)
    fields, _ = parse_email(metadata)
    dist_info = f"{family_mutex()}-{full_version}.dist-info"
    contents: dict[str, bytes] = {f"{dist_info}/METADATA": metadata}
    modes: dict[str, int] = {}
    entry_points: tuple[EntryPoint, ...] = ()
    if sdist is not None:
        contents.update(sdist.files)
        modes.update(sdist.modes)
        if sdist.dist_info_path and family is not None and family.name is not None:
            contents[sdist.dist_info_path] = pin_family(sdist.files[sdist.dist_info_path].decode("utf-8"), family.name).encode("utf-8")
        entry_points = sdist.entry_points
        if entry_points:
            contents[f"{dist_info}/entry_points.txt"] = entry_points_txt(entry_points)
    members = tuple(
        Member(Scheme.PURELIB, p, len(c), sha256_bytes(c), 0o755 if modes.get(p, 0) & 0o111 else 0o644, origin=p)
        for p, c in sorted(contents.items())
    )

    def opener(member: Member) -> io.BytesIO:
        return io.BytesIO(contents[member.path])

    source = sdist.path if sdist else None
    return Distribution(
        name=family_mutex(),
        version=Version(full_version),
        metadata=metadata,
        summary=str(fields.get("summary") or ""),
        requires_dist=tuple(Requirement(r) for r in fields.get("requires_dist") or ()),
        requires_python=None,
        provides_extra=tuple(fields.get("provides_extra") or ()),
        tags=frozenset(parse_tag("py3-none-any")),
        build_tag=(),
        root_is_purelib=True,
        dist_info=dist_info,
        entry_points=entry_points,
        members=members,
        provenance=Provenance(
            path=str(source) if source else f"rocm=={version}",
            filename=source.name if source else f"rocm-{version} (from options)",
            sha256=sdist.sha256 if sdist else None,
            size=sdist.size if sdist else None,
            timestamp=sdist.timestamp if sdist else 0,
        ),
        opener=opener,
        fields=fields,
        gpu_family=family.name if family else None,
    )


def _metadata(
    pkg_info: bytes | None, version: str, family: GpuFamily | None, requires: list[str], optional: list[str], extras: list[str]
) -> bytes:
    """METADATA: the sdist's PKG-INFO (or a minimal one) with the family's requirements."""
    parser = email.parser.BytesParser(policy=email.policy.compat32)
    if pkg_info is not None:
        msg = parser.parsebytes(pkg_info)
        for key in ("Requires-Dist", "Provides-Extra"):
            del msg[key]
        msg.replace_header("Version", version)
    else:
        msg = parser.parsebytes(b"")
        msg["Metadata-Version"] = "2.1"
        msg["Name"] = family_mutex()
        msg["Version"] = version
        msg["Summary"] = str(load("gpu")["rocm"]["meta_summary"]).format(family=family.name if family else "multi-arch")
    for extra in extras:
        msg["Provides-Extra"] = extra
    for req in [*requires, *optional]:
        msg["Requires-Dist"] = req
    out = io.BytesIO()
    email.generator.BytesGenerator(out, mangle_from_=False, maxheaderlen=0).flatten(msg)
    return out.getvalue()


def rocm_meta_distributions(
    sdist_path: str | Path | None, *, version: str | None = None, family: str | None = None, extras: Sequence[str] = ()
) -> list[Distribution]:
    """One ``rocm`` distribution per family, from the sdist or from ``version`` + ``family``."""
    where = str(sdist_path) if sdist_path else f"rocm=={version}"
    sdist = read_rocm_sdist(sdist_path) if sdist_path else None
    try:
        if sdist is not None:
            if version is not None and Version(version) != Version(sdist.version):
                raise BadInput(where, f"the sdist is version {sdist.version}, not {version}")
            version = sdist.version
        if version is None:
            raise BadInput(where, "no version for the rocm meta package")
        Version(version)
        if sdist is not None and sdist.dist_info.multi_arch:
            return [multi_arch_meta_distribution(sdist, version, extras)]
        return [meta_distribution(sdist, version, f, extras) for f in meta_families(sdist, family)]
    except InvalidVersion:
        raise BadInput(where, f"{version!r} is not a PEP 440 version") from None
    except ValueError as exc:  # FamilyError, unknown extra
        raise BadInput(where, str(exc)) from None


def meta_options(dist: Distribution, options: ConversionOptions) -> ConversionOptions:
    """The options one family's meta package is planned with: its family, no extras packages, its own name."""
    return replace(options, gpu_family=dist.gpu_family, extras=NO_EXTRAS, name=None)
