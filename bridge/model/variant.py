"""PEP 825 wheel variants (a draft standard): the typed model of a wheel's ``variant.json``
(which ``to-wheel --variant`` writes and ``convert`` reads back) and of variant wheel file names.

The format and its rules are those of ``variantlib`` 0.2.2, the reference implementation on PyPI
(``variantlib/constants.py``, ``models/variant.py``, ``models/variant_info.py``,
``variant_dist_info.py``), which the tests run on every variant wheel we write:

* a wheel's ``variant.json`` has ``$schema``, ``default-priorities.namespace``, a ``providers``
  table naming the same namespaces (each with ``requires`` and optionally ``plugin-api``), and
  exactly one entry in ``variants``: the wheel's label → ``{namespace: {feature: [values]}}``;
* namespaces and features match ``[a-z0-9_]+``, values ``[a-z0-9_.]+``, labels ``[0-9a-z._]+``;
  ``null`` is reserved for the variant without properties;
* without a chosen label, a variant is labelled by its hash: the first 8 hex digits of the
  sha256 of its sorted properties, each written ``namespace :: feature :: value`` plus a newline.

Which properties a conda build string means is translation: :mod:`bridge.translate.wheelvariant`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import InvalidWheelFilename, parse_wheel_filename

from ..core.digest import sha256_bytes

#: ``variantlib.constants.VARIANT_INFO_SCHEMA_URL`` (0.2.2).
SCHEMA_URL = "https://variants-schema.wheelnext.dev/v0.2.0.json"
NULL_LABEL = "null"
HASH_LENGTH = 8  # variantlib.models.variant.VARIANT_HASH_LENGTH
LABEL = re.compile(r"[0-9a-z._]+")
_NAME = re.compile(r"[a-z0-9_]+")  # namespaces and feature names
_VALUE = re.compile(r"[a-z0-9_.]+")
_PLUGIN_API = re.compile(r"[\w.]+(?:\s*:\s*[\w.]+)?")
_PROPERTY = re.compile(r"\s*([a-z0-9_]+)\s*::\s*([a-z0-9_]+)\s*::\s*([a-z0-9_.]+)\s*")

# Keys a variant.json may carry (variantlib 0.2.2, plus the later draft's additions, which we
# accept and ignore: ``default-priorities.feature/property``, ``enable-if``, ``install-time``).
_TOP_KEYS = {"$schema", "default-priorities", "providers", "variants"}
_PRIORITY_KEYS = {"namespace", "feature", "property"}
_PROVIDER_KEYS = {"requires", "plugin-api", "optional", "static-properties", "feature-order", "builtin", "enable-if", "install-time"}


class VariantError(ValueError):
    """Variant metadata that is malformed or inconsistent (one line, for BadInput/Unsupported)."""


@dataclass(frozen=True, order=True)
class VariantProperty:
    """``namespace :: feature :: value``."""

    namespace: str
    feature: str
    value: str

    @classmethod
    def parse(cls, text: str) -> VariantProperty:
        m = _PROPERTY.fullmatch(text)
        if not m:
            raise VariantError(f"variant property {text!r} is not 'namespace :: feature :: value' (lower case; values may have '.')")
        return cls(*m.groups())

    def __str__(self) -> str:
        return f"{self.namespace} :: {self.feature} :: {self.value}"


@dataclass(frozen=True)
class VariantProvider:
    """A provider table entry: who can tell whether this machine supports a namespace."""

    namespace: str
    requires: tuple[str, ...]
    plugin_api: str | None = None

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {"requires": list(self.requires)}
        if self.plugin_api:
            doc["plugin-api"] = self.plugin_api
        return doc


@dataclass(frozen=True)
class WheelVariant:
    """The variant of one wheel: its label, properties (sorted) and providers (in priority order)."""

    label: str
    properties: tuple[VariantProperty, ...]
    providers: tuple[VariantProvider, ...]

    def values(self, namespace: str, feature: str) -> tuple[str, ...]:
        return tuple(p.value for p in self.properties if (p.namespace, p.feature) == (namespace, feature))

    def to_json(self) -> bytes:
        """``variant.json``, byte for byte as ``variantlib``'s ``VariantDistInfo.to_str()`` writes it."""
        tree: dict[str, dict[str, list[str]]] = {}
        for prop in self.properties:
            tree.setdefault(prop.namespace, {}).setdefault(prop.feature, []).append(prop.value)
        doc = {
            "$schema": SCHEMA_URL,
            "default-priorities": {"namespace": [p.namespace for p in self.providers]},
            "providers": {p.namespace: p.to_json() for p in self.providers},
            "variants": {self.label: tree},
        }
        return json.dumps(doc, indent=4, sort_keys=True).encode()

    @classmethod
    def from_raw(cls, data: bytes, expected_label: str | None = None) -> WheelVariant:
        """Parse and check a wheel's ``variant.json`` (raises :class:`VariantError`)."""
        try:
            doc = json.loads(data)
        except (UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise VariantError(f"variant.json is not JSON ({exc})") from None
        top = _table(doc, "variant.json", _TOP_KEYS)
        priorities = _table(top.get("default-priorities", {}), "default-priorities", _PRIORITY_KEYS)
        order = _names(priorities.get("namespace", []), "default-priorities.namespace")
        providers = []
        for namespace, raw in _table(top.get("providers", {}), "providers", None).items():
            _match(_NAME, namespace, "provider namespace")
            entry = _table(raw, f"providers.{namespace}", _PROVIDER_KEYS)
            requires = entry.get("requires", [])
            if not isinstance(requires, list) or not all(isinstance(r, str) for r in requires):
                raise VariantError(f"providers.{namespace}.requires must be a list of requirements")
            for text in requires:
                try:
                    Requirement(text)
                except InvalidRequirement as exc:
                    raise VariantError(f"providers.{namespace}.requires: {text!r}: {exc}") from None
            api = entry.get("plugin-api")
            if api is not None and (not isinstance(api, str) or not _PLUGIN_API.fullmatch(api)):
                raise VariantError(f"providers.{namespace}.plugin-api {api!r} is not 'module[:attribute]'")
            providers.append(VariantProvider(namespace, tuple(requires), api))
        if set(order) != {p.namespace for p in providers} or len(order) != len(set(order)):
            raise VariantError(f"default-priorities.namespace {order} must list each provider namespace once ({sorted(p.namespace for p in providers)})")
        variants = _table(top.get("variants", {}), "variants", None)
        if len(variants) != 1:
            raise VariantError(f"variant.json describes {len(variants)} variants; a wheel has exactly one")
        label, tree = next(iter(variants.items()))
        check_label(label, has_properties=bool(tree))
        if expected_label is not None and label != expected_label:
            raise VariantError(f"variant.json is for label {label!r}, the file name says {expected_label!r}")
        properties = []
        for namespace, features in _table(tree, f"variants.{label}", None).items():
            _match(_NAME, namespace, "namespace")
            for feature, values in _table(features, f"variants.{label}.{namespace}", None).items():
                _match(_NAME, feature, "feature")
                for value in _names(values, f"variants.{label}.{namespace}.{feature}", _VALUE):
                    properties.append(VariantProperty(namespace, feature, value))
        if len(set(properties)) != len(properties):
            raise VariantError(f"variants.{label} repeats a property")
        missing = {p.namespace for p in properties} - set(order)
        if missing:
            raise VariantError(f"variants.{label} uses namespaces with no provider: {', '.join(sorted(missing))}")
        by_ns = {p.namespace: p for p in providers}
        return cls(label, tuple(sorted(properties)), tuple(by_ns[n] for n in order))


def _table(value: object, where: str, allowed: set[str] | None) -> dict[str, Any]:
    if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
        raise VariantError(f"{where} must be a table")
    if allowed is not None and value.keys() - allowed:
        raise VariantError(f"{where}: unexpected keys {sorted(value.keys() - allowed)}")
    return value


def _names(value: object, where: str, pattern: re.Pattern[str] = _NAME) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise VariantError(f"{where} must be a list of strings")
    for v in value:
        _match(pattern, v, where)
    return value


def _match(pattern: re.Pattern[str], text: str, what: str) -> None:
    if not pattern.fullmatch(text):
        raise VariantError(f"{what} {text!r} must match ^{pattern.pattern}$")


def check_label(label: str, *, has_properties: bool = True) -> None:
    """variantlib's label rules: ``[0-9a-z._]+``; ``null`` only (and always) for no properties."""
    if not LABEL.fullmatch(label):
        raise VariantError(f"variant label {label!r} must match ^{LABEL.pattern}$")
    if has_properties and label == NULL_LABEL:
        raise VariantError("variant label 'null' is reserved for the variant without properties")
    if not has_properties and label != NULL_LABEL:
        raise VariantError(f"a variant without properties must be labelled 'null', not {label!r}")


def variant_hash(properties: Iterable[VariantProperty]) -> str:
    """variantlib's default label: sha256 over the sorted properties, one per line; 8 hex digits."""
    return sha256_bytes("".join(f"{prop}\n" for prop in sorted(set(properties))).encode())[:HASH_LENGTH]


# --------------------------------------------------------------------------- file names


def split_variant_filename(filename: str) -> tuple[str, str | None]:
    """``(plain wheel file name, label)`` of a wheel file name; label None for a plain wheel.

    ``torch-2.9.1-cp312-cp312-manylinux_2_28_x86_64-gfx103x.whl`` →
    ``(torch-2.9.1-cp312-cp312-manylinux_2_28_x86_64.whl, gfx103x)``.  A name that parses as a
    plain wheel is one (as variantlib's file-name pattern decides: a build tag starts with a digit).
    """
    try:
        parse_wheel_filename(filename)
        return filename, None
    except (InvalidWheelFilename, ValueError):
        pass
    stem, dot, suffix = filename.rpartition(".")
    base, dash, label = stem.rpartition("-")
    if dot and suffix == "whl" and dash and LABEL.fullmatch(label) and base.count("-") in (4, 5):
        try:
            parse_wheel_filename(f"{base}.whl")
        except (InvalidWheelFilename, ValueError):
            return filename, None
        return f"{base}.whl", label
    return filename, None
