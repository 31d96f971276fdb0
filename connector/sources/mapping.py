"""Declarative field maps: what each accounting system's JSON means in the canonical model.

A mapping (``connector/sources/mappings/<system>.toml``, beside this reader) names, per entity, the
JSON path of every canonical field with its type, unit (``ore`` = integer minor units) and sign
handling, plus rules that say when a document is a credit note (``credit_when``) or closed
(``closed_when``). A stream (:mod:`connector.sources.streams`) names the table its records are read
with; tables named after a canonical record (``customer``, ``invoice``, ``credit_note``, ``payment``)
build that record (``connector.sources.api.BUILDERS``), others are read with :meth:`Mapping.fields`.
A field fix is a one-line change in the TOML, reviewed without reading Python.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from functools import cache
from importlib import resources
from typing import Any

from connector.model import money

_TYPES = {"str", "date", "money", "int", "bool", "country"}


class MappingError(ValueError):
    """A record the mapping cannot read (a required field missing or of the wrong type)."""


@dataclass(frozen=True)
class FieldSpec:
    paths: tuple[str, ...]  # first path with a non-empty value wins
    type: str = "str"
    unit: str = "major"  # "major" (kroner, decimal) or "ore" (integer minor units)
    absolute: bool = False  # sign lives in the document kind, amounts are positive
    required: bool = False
    default: Any = None


@dataclass(frozen=True)
class Rule:
    path: str
    equals: tuple[Any, ...] = ()
    negative: bool = False  # true when the value is a number below zero

    def holds(self, raw: dict[str, Any]) -> bool:
        value = lookup(raw, self.path)
        if self.negative:
            try:
                return value is not None and Decimal(str(value)) < 0
            except InvalidOperation:
                return False
        return value in self.equals


@dataclass(frozen=True)
class Entity:
    fields: dict[str, FieldSpec]
    credit_when: tuple[Rule, ...] = ()
    closed_when: tuple[Rule, ...] = ()


@dataclass(frozen=True)
class Mapping:
    system: str
    entities: dict[str, Entity]

    def entity(self, name: str) -> Entity:
        try:
            return self.entities[name]
        except KeyError:
            raise MappingError(f"{self.system} mapping has no [{name}] table") from None

    def fields(self, entity: str, raw: dict[str, Any]) -> dict[str, Any]:
        """Typed canonical values of one raw object; raises MappingError naming the field."""
        ent = self.entity(entity)
        out: dict[str, Any] = {}
        for name, spec in ent.fields.items():
            value = next((v for v in (lookup(raw, p) for p in spec.paths) if v not in (None, "")), None)
            if value is None:
                if spec.required:
                    raise MappingError(f"{self.system} {entity}: '{'|'.join(spec.paths)}' is missing")
                out[name] = spec.default
                continue
            try:
                out[name] = _convert(value, spec)
            except (ValueError, TypeError, InvalidOperation) as exc:
                raise MappingError(f"{self.system} {entity}: '{spec.paths[0]}' = {value!r}: {exc}") from None
        return out

    def is_credit(self, entity: str, raw: dict[str, Any]) -> bool:
        return any(rule.holds(raw) for rule in self.entity(entity).credit_when)

    def is_closed(self, entity: str, raw: dict[str, Any]) -> bool:
        return any(rule.holds(raw) for rule in self.entity(entity).closed_when)


def lookup(raw: Any, path: str) -> Any:
    """Dotted path into nested dicts (a number steps into a list: ``contactPerson.0.phoneNumber``);
    a missing step gives None."""
    value = raw
    for part in path.split("."):
        if isinstance(value, list) and part.isdigit():
            value = value[int(part)] if int(part) < len(value) else None
        elif isinstance(value, dict):
            value = value.get(part)
        else:
            return None
    return value


def _convert(value: Any, spec: FieldSpec) -> Any:
    if spec.type == "str":
        if isinstance(value, Decimal) and value == value.to_integral_value():
            value = int(value)  # 10042.0 from a lenient server is still invoice "10042"
        return str(value).strip()
    if spec.type == "country":
        return country_code(str(value))
    if spec.type == "int":
        return int(value)
    if spec.type == "bool":
        if not isinstance(value, bool):
            raise TypeError("not a boolean")
        return value
    if spec.type == "date":
        # Dates may come as "2026-05-02" or as a timestamp; the canonical model keeps the day.
        text = str(value)
        return date.fromisoformat(text[:10]) if len(text) > 10 else date.fromisoformat(text)
    if spec.type == "money":
        if isinstance(value, float | bool):
            raise TypeError("money must not be a float")  # parse JSON with parse_float=Decimal
        amount = Decimal(str(value))
        if spec.unit == "ore":
            if amount != amount.to_integral_value():
                raise ValueError("øre amounts must be whole numbers")
            amount = amount / 100  # exact in Decimal: 1250000 øre → 12500.00
        amount = money(amount)
        return abs(amount) if spec.absolute else amount
    raise TypeError(f"unknown type {spec.type}")


def _spec(name: str, value: Any, where: str) -> FieldSpec:
    if isinstance(value, str):
        return FieldSpec(paths=(value,))
    if isinstance(value, list):
        return FieldSpec(paths=tuple(value))
    if not isinstance(value, dict):
        raise MappingError(f"{where}: field '{name}' must be a path, a list of paths or a table")
    paths = value.get("path")
    paths = (paths,) if isinstance(paths, str) else tuple(paths or ())
    unknown = set(value) - {"path", "type", "unit", "abs", "required", "default"}
    bad_type = value.get("type", "str") not in _TYPES or value.get("unit", "major") not in {"major", "ore"}
    if not paths or unknown or bad_type:
        raise MappingError(f"{where}: field '{name}' is not a valid field spec: {value}")
    return FieldSpec(
        paths=paths,
        type=value.get("type", "str"),
        unit=value.get("unit", "major"),
        absolute=bool(value.get("abs", False)),
        required=bool(value.get("required", False)),
        default=value.get("default"),
    )


def _rules(value: Any, where: str) -> tuple[Rule, ...]:
    items = value if isinstance(value, list) else [value] if value else []
    out = []
    for item in items:
        if not isinstance(item, dict) or "path" not in item:
            raise MappingError(f"{where}: a rule needs 'path' and 'equals' or 'negative'")
        out.append(Rule(item["path"], tuple(item.get("equals", ())), bool(item.get("negative", False))))
    return tuple(out)


def parse(text: str, where: str) -> Mapping:
    data = tomllib.loads(text)
    system = data.get("system")
    if not isinstance(system, str):
        raise MappingError(f"{where}: 'system' is missing")
    entities = {}
    for name, table in data.items():
        if not isinstance(table, dict):
            continue
        fields = {k: _spec(k, v, f"{where} [{name}]") for k, v in table.get("fields", {}).items()}
        entities[name] = Entity(
            fields=fields,
            credit_when=_rules(table.get("credit_when"), f"{where} [{name}]"),
            closed_when=_rules(table.get("closed_when"), f"{where} [{name}]"),
        )
    return Mapping(system, entities)


def country_code(value: str) -> str | None:
    """ISO 3166-1 alpha-2 for a country as a ledger writes it: a code, or a name ("Norge", "Danmark");
    None for a name not in ``mappings/countries.toml`` (never guessed)."""
    text = value.strip()
    if len(text) == 2 and text.isalpha() and text.isascii():
        return text.upper()
    table = _countries()
    low = text.lower()
    return table["alpha3"].get(low) if len(low) == 3 else table["names"].get(low)


@cache
def _countries() -> dict[str, dict[str, str]]:
    resource = resources.files("connector.sources") / "mappings" / "countries.toml"
    table: dict[str, dict[str, str]] = tomllib.loads(resource.read_text(encoding="utf-8"))
    return table


@cache
def load(system: str) -> Mapping:
    """The shipped mapping of a system (package data, so it is found when installed)."""
    resource = resources.files("connector.sources") / "mappings" / f"{system}.toml"
    return parse(resource.read_text(encoding="utf-8"), f"connector/sources/mappings/{system}.toml")


def parse_timestamp(value: str) -> datetime:
    return datetime.fromisoformat(value.replace("Z", "+00:00"))
