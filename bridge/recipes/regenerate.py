"""``recipes regenerate``: scan the configured indexes and rewrite the recipes folder.

Deterministic: the same index content gives byte-identical files.  What an index could not
tell us (unreachable, a project missing) is never taken as "removed upstream": recipes from a
failed index or package are left as they are, and the failure is reported.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name
from packaging.version import Version

from ..core.errors import BadInput, BridgeError
from ..core.fsutil import atomic_write
from ..translate.names import NameMap
from .config import IndexTarget, PackageRule, Source, SourcesConfig
from .http import FetchError, Http
from .index import Index, IndexFile, dist_identity
from .model import RATTLER_FILE, RECIPE_FILE, VARIANTS_FILE, Recipe, SourceFile
from .rattler import emit
from .select import group_by_version, select_files, select_versions

Log = Callable[[str], None]


@dataclass
class RegenerateReport:
    added: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)
    errors: list[BridgeError] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    written: list[Path] = field(default_factory=list)
    hashed: list[str] = field(default_factory=list)  # files the index gave no sha256 for, fetched and hashed here
    skipped: list[str] = field(default_factory=list)  # "<file>: <reason>": files left out of their recipe

    @property
    def changed(self) -> bool:
        return bool(self.added or self.updated or self.removed)


@dataclass
class _Existing:
    recipe: Recipe
    path: Path


def load_recipes(root: Path, errors: list[BridgeError]) -> dict[str, _Existing]:
    """Every ``wheel2conda.yaml`` under ``root`` by recipe id (unreadable ones go to ``errors``)."""
    found: dict[str, _Existing] = {}
    for path in sorted(root.rglob(RECIPE_FILE)) if root.is_dir() else []:
        try:
            recipe = Recipe.load(path)
            if recipe.folder(root) != path.parent:
                raise BadInput(path, f"recipe {recipe.id} is in the wrong folder", hint=f"move it to {recipe.id}/ or delete it and regenerate")
        except BridgeError as exc:
            errors.append(exc)
            continue
        found[recipe.id] = _Existing(recipe, path)
    return found


def regenerate(config: SourcesConfig, http: Http, *, check: bool = False, log: Log = lambda _m: None) -> RegenerateReport:
    """Scan every source and bring ``config.root`` in line; with ``check``, write nothing."""
    root = config.root
    report = RegenerateReport()
    existing = load_recipes(root, report.errors)
    produced: dict[str, Recipe] = {}
    keep: set[str] = set()  # ids whose upstream state is unknown this run (failed index or package)

    for source in config.sources:
        for target in source.targets(config.aliases):
            log(f"scanning {target.url}" + (f" (family {target.family})" if target.family else ""))
            index = Index(target.url, http)
            from_index = {i for i, e in existing.items() if e.recipe.source == source.name and e.recipe.index == target.url}
            try:
                for rule in source.packages:
                    for project in _projects(index, rule, target):
                        try:
                            recipes = _recipes_for(index, source, rule, target, project, existing, report)
                        except BridgeError as exc:
                            if isinstance(exc, FetchError) and exc.status != 404:
                                raise  # the index itself is failing: stop asking it
                            report.errors.append(exc)
                            keep.update(i for i in from_index if existing[i].recipe.name == project)
                            continue
                        for recipe in recipes:
                            if recipe.id in produced:
                                report.notes.append(f"{recipe.id}: also offered by {recipe.index}; kept the one from {produced[recipe.id].index}")
                                continue
                            produced[recipe.id] = recipe
            except BridgeError as exc:
                report.errors.append(exc)
                keep.update(from_index)

    for recipe_id in sorted(produced):
        recipe = produced[recipe_id]
        if not _write_recipe(recipe, root, recipe.conversion_options(root).names, check, report):
            report.unchanged.append(recipe_id)
        elif recipe_id in existing:
            report.updated.append(recipe_id)
        else:
            report.added.append(recipe_id)
    for recipe_id in sorted(set(existing) - set(produced) - keep):
        report.removed.append(recipe_id)
        if not check:
            _remove_recipe(existing[recipe_id].path.parent, root)
    return report


def _projects(index: Index, rule: PackageRule, target: IndexTarget) -> list[str]:
    pattern = rule.expand(target.index_family)
    if not rule.is_glob:
        return [canonicalize_name(pattern)]
    wanted = re.sub(r"[-_.]+", "-", pattern).lower()  # PEP 503 normalisation, globs kept
    return sorted(n for n in index.projects() if fnmatch.fnmatchcase(n, wanted))


def _recipes_for(
    index: Index, source: Source, rule: PackageRule, target: IndexTarget, project: str, existing: dict[str, _Existing], report: RegenerateReport
) -> list[Recipe]:
    files = index.files(project)
    groups = group_by_version(f for f in files if _same_project(f, project))
    recipes = []
    variant = target.family or source.variant or source.name
    for version in select_versions(groups, rule.versions):
        recipe = Recipe(
            name=project,
            version=str(version),
            variant=variant,
            source=source.name,
            index=target.url,
            files=[],
            kind="meta" if rule.meta_requires is not None else "wheel",
            build_number=source.build_number,
            gpu_family=target.family,
            index_family=target.index_family,
            names=source.names,
            name_overrides=source.name_overrides,
            extras=source.extras,
            subdirs=tuple(sorted(rule.platforms)),
            pythons=tuple(sorted(rule.python)),
        )
        if recipe.kind == "meta":
            chosen = sorted((f for f in groups[version] if not f.is_wheel), key=lambda f: f.filename)[:1]
            recipe.meta_requires = tuple(_meta_requires(rule.meta_requires or (), version, target))
        else:
            candidates, notes = select_files(groups[version], rule.python, rule.platforms)
            chosen = [c.file for c in candidates]
            recipe.notes = notes
        previous = existing.get(recipe.id)
        chosen = _pinned(chosen, index.http, previous.recipe if previous else None, report)
        if not chosen:
            report.notes.append(f"{project} {version} on {target.url}: no {'sdist' if recipe.kind == 'meta' else 'wheel'} for the selected platforms/Pythons")
            continue
        recipe.files = [SourceFile(f.filename, f.url, f.sha256 or "", f.size) for f in chosen]
        recipe.metadata = _metadata(index, chosen, previous.recipe if previous else None)
        recipe.files = _per_file_requirements(index, chosen, recipe, previous.recipe if previous else None)
        recipe.build_number = source.build_number  # convert adds the nightly date (translate.versions.nightly_build_offset)
        if previous is not None:
            old = {(f.name, f.sha256) for f in previous.recipe.files}
            new = {(f.name, f.sha256) for f in recipe.files}
            bump = 1 if old != new else 0  # same version, different bytes: a new build number
            recipe.build_number = max(recipe.build_number, previous.recipe.build_number + bump)
        recipes.append(recipe)
    return recipes


def _pinned(chosen: list[IndexFile], http: Http, previous: Recipe | None, report: RegenerateReport) -> list[IndexFile]:
    """``chosen`` with a sha256 for every file: the index's, else the previous recipe's for the same
    URL, else computed by fetching the file.  A file that cannot be fetched is left out and counted
    as skipped (with the reason) — an index without hashes never yields a silent nothing."""
    known = {(f.name, f.url): (f.sha256, f.size) for f in previous.files} if previous else {}
    result = []
    for f in chosen:
        if f.sha256:
            result.append(f)
            continue
        sha256, size = known.get((f.filename, f.url), (None, f.size))
        if sha256 is None:
            try:
                sha256, size = http.hash(f.url)
            except FetchError as exc:
                report.skipped.append(f"{f.filename}: the index gives no sha256 and fetching it to compute one failed ({exc.reason})")
                continue
            report.hashed.append(f.filename)
        result.append(replace(f, hashes={**f.hashes, "sha256": sha256}, size=size))
    return result


def _same_project(f: IndexFile, project: str) -> bool:
    ident = dist_identity(f.filename)
    return ident is not None and ident[0] == project


def _meta_requires(templates: tuple[str, ...], version: Version, target: IndexTarget) -> list[str]:
    result = []
    for text in templates:
        expanded = text.replace("{version}", str(version)).replace("{family}", target.index_family or "")
        try:
            req = Requirement(expanded)
        except InvalidRequirement as exc:
            raise BadInput(None, f"meta requirement {expanded!r} is not PEP 508 ({exc})", hint="fix the meta requires in the sources config") from None
        result.append(f"{canonicalize_name(req.name)}{req.specifier}")
    return result


def _metadata(index: Index, chosen: list[IndexFile], previous: Recipe | None) -> dict[str, Any] | None:
    """PEP 658 core metadata of the first file offering it (reused when that file is unchanged)."""
    offered = [f for f in chosen if f.metadata_hashes is not None]
    if not offered:
        return None
    first = offered[0]
    if previous and previous.metadata and previous.metadata.get("from") == first.filename:
        if any(f.name == first.filename and f.sha256 == first.sha256 for f in previous.files):
            return previous.metadata
    md = index.metadata(first)
    data: dict[str, Any] = {"from": first.filename}
    try:
        if md.summary:
            data["summary"] = md.summary
        license = md.license_expression or (md.license if md.license and "\n" not in md.license and len(md.license) <= 100 else None)
        if license:
            data["license"] = str(license)
        urls = {k.lower(): v for k, v in (md.project_urls or {}).items()}
        home = md.home_page or urls.get("homepage") or urls.get("home")
        if home:
            data["homepage"] = home
        if md.requires_python:
            data["requires_python"] = str(md.requires_python)
        if md.requires_dist:
            data["requires_dist"] = [str(r) for r in md.requires_dist]
    except Exception as exc:  # packaging raises ExceptionGroup/InvalidMetadata lazily for bad fields
        raise BadInput(f"{first.url}.metadata", f"invalid core metadata ({exc})", hint="the index serves broken metadata: report it to the index owner") from None
    return data


def _per_file_requirements(index: Index, chosen: list[IndexFile], recipe: Recipe, previous: Recipe | None) -> list[SourceFile]:
    """The recipe's files, each with its own Requires-Dist where it differs from the recipe's.

    Wheels of one version need not agree: TheRock's Linux torch requires triton, its Windows
    torch does not, and the PEP 658 metadata of every file is what a recipe for its platform
    must follow.  Reused from the previous recipe for unchanged files (a quiet night fetches nothing).
    """
    if recipe.metadata is None:
        return recipe.files
    common = tuple(recipe.metadata.get("requires_dist") or ())
    by_name = {f.filename: f for f in chosen}
    result = []
    for f in recipe.files:
        source = by_name[f.name]
        own: tuple[str, ...] | None
        if source.metadata_hashes is None or f.name == recipe.metadata.get("from"):
            own = None
        elif previous is not None and any(p.name == f.name and p.sha256 == f.sha256 for p in previous.files):
            own = previous.requires_dist(f.name)
        else:
            md = index.metadata(source)
            try:
                own = tuple(str(r) for r in md.requires_dist or ())
            except Exception as exc:  # packaging raises lazily for bad fields
                raise BadInput(f"{source.url}.metadata", f"invalid core metadata ({exc})", hint="the index serves broken metadata: report it to the index owner") from None
        result.append(replace(f, requires_dist=own if own is not None and own != common else None))
    return result


def _write_recipe(recipe: Recipe, root: Path, names: NameMap, check: bool, report: RegenerateReport) -> bool:
    folder = recipe.folder(root)
    rattler = emit(recipe, names)
    if rattler.recipe_yaml is None:
        report.notes.append(f"{recipe.id}: no rattler-build recipe ({rattler.reason})")
    wanted = {RECIPE_FILE: recipe.to_yaml(), RATTLER_FILE: rattler.recipe_yaml, VARIANTS_FILE: rattler.variants_yaml}
    changed = False
    for filename, text in wanted.items():
        path = folder / filename
        current = path.read_text(encoding="utf-8") if path.is_file() else None
        if current == text:
            continue
        changed = True
        if check:
            continue
        if text is None:
            path.unlink()
        else:
            atomic_write(path, text.encode("utf-8"))
            report.written.append(path)
    return changed


def _remove_recipe(folder: Path, root: Path) -> None:
    for filename in (RECIPE_FILE, RATTLER_FILE, VARIANTS_FILE):
        (folder / filename).unlink(missing_ok=True)
    while folder != root and folder.is_dir() and not any(folder.iterdir()):
        folder.rmdir()
        folder = folder.parent
