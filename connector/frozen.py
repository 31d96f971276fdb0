"""A cheaper constructor for the frozen, slotted dataclasses made by the hundred thousand (payments,
invoices, decisions): the same signature, defaults, fields and immutability, at about a fifth of the cost.

A frozen dataclass's generated ``__init__`` must go round its own ``__setattr__`` (which refuses every
assignment) and calls ``object.__setattr__(self, name, value)`` once per field: about 3 µs for a 20-field
``Payment``, a tenth of a second per 100,000 built. ``fast_init`` instead turns the new instance for the
length of ``__init__`` into a twin class with the same slots and no ``__setattr__`` of its own, so each
field is an ordinary slot store, and turns it back before returning. Callers only ever see the frozen class:
assigning a field afterwards still raises ``FrozenInstanceError``; equality, hashing, ``repr``, pickling and
``dataclasses.replace`` are the dataclass's own. An instance of a subclass is built by the dataclass's own
``__init__``, as before.
"""

from __future__ import annotations

from dataclasses import MISSING, fields, is_dataclass
from typing import Any, TypeVar

_T = TypeVar("_T")


def fast_init(cls: type[_T]) -> type[_T]:
    """Give a ``@dataclass(frozen=True, slots=True)`` class (no base class, no ``__post_init__``, no
    ``default_factory``, no keyword-only fields) the cheaper ``__init__`` described above."""
    slots = cls.__dict__.get("__slots__")
    params = getattr(cls, "__dataclass_params__", None)
    if not is_dataclass(cls) or params is None or not params.frozen or slots is None or cls.__bases__ != (object,):
        raise TypeError(f"{cls.__name__}: fast_init needs a frozen, slotted dataclass without a base class")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: fast_init does not run __post_init__")
    twin = type(f"_{cls.__name__}Building", (object,), {"__slots__": slots})
    # a subclass (its slots would not match the twin's) is built by the dataclass's own __init__
    names: dict[str, Any] = {"_twin": twin, "_cls": cls, "_open": object.__setattr__, "_own": cls.__init__}
    args: list[str] = []
    passed: list[str] = []
    body: list[str] = []
    for f in fields(cls):
        if f.default_factory is not MISSING or f.kw_only:
            raise TypeError(f"{cls.__name__}.{f.name}: fast_init takes no default_factory or keyword-only field")
        if f.default is not MISSING:
            names[f"_default_{f.name}"] = f.default
        if f.init:
            args.append(f.name if f.default is MISSING else f"{f.name}=_default_{f.name}")
            passed.append(f.name)
            body.append(f"    self.{f.name} = {f.name}")
        elif f.default is not MISSING:
            body.append(f"    self.{f.name} = _default_{f.name}")
    source = (
        f"def __init__(self, {', '.join(args)}):\n"
        f"    if self.__class__ is not _cls:\n        return _own(self, {', '.join(passed)})\n"
        "    _open(self, '__class__', _twin)\n"  # the one assignment that must go round the frozen class's
        + "\n".join(body)
        + "\n    self.__class__ = _cls\n"
    )
    exec(source, names)  # as dataclasses builds its own __init__: from source, once per class
    init = names["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__doc__ = cls.__init__.__doc__
    type.__setattr__(cls, "__init__", init)
    return cls
