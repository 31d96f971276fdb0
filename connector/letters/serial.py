"""A letter's content as JSON and back, so the store can keep what a letter said and its PDF can be made
again (the workbench shows it after the file left the outbox). Decimals and dates travel as strings."""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from datetime import date
from decimal import Decimal
from enum import Enum
from functools import cache
from typing import Any

from connector.letters import model
from connector.letters.model import Letter


def to_json(letter: Letter) -> str:
    return json.dumps(_plain(letter), ensure_ascii=False, sort_keys=True)


def from_json(text: str) -> Letter:
    value = _build(Letter, json.loads(text))
    assert isinstance(value, Letter)
    return value


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | date):
        return str(value) if isinstance(value, Decimal) else value.isoformat()
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


@cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls, vars(model))


def _build(hint: Any, value: Any) -> Any:
    if value is None:
        return None
    origin = typing.get_origin(hint)
    if origin in (typing.Union, types.UnionType):
        inner = [a for a in typing.get_args(hint) if a is not type(None)]
        return _build(inner[0], value)
    if origin is typing.Literal:
        return value
    if origin is tuple:
        (item, *_rest) = typing.get_args(hint)
        return tuple(_build(item, v) for v in value)
    if origin is dict:
        return {str(k): str(v) for k, v in value.items()}
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        hints = _hints(hint)
        return hint(**{k: _build(hints[k], v) for k, v in value.items() if k in hints})
    if hint is Decimal:
        return Decimal(value)
    if hint is date:
        return date.fromisoformat(value)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    return value
