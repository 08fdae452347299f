"""Frozen records that are cheap to build.

A `@dataclass(frozen=True, slots=True)` gets an `__init__` that stores each field through
`object.__setattr__(self, name, value)` (its own `__setattr__` refuses): a name lookup through
the type and a call per field. The settlement path builds several such records per fee line
(`FeeLineIn`, `CatalogTerms`, `LineSplit` …), and their constructors were a notable share of
the SQLite gateway's interpreter-lock time (the figures: `docs/measurements.md`).

`quick_init` gives such a class an `__init__` of the same signature that stores each field
through its slot's own descriptor (bound once, when the class is decorated) — what
`object.__setattr__` ends up calling, without the lookup. The instance is exactly as frozen as
before (assignment still raises `FrozenInstanceError`); equality, hashing, `repr`,
`dataclasses.replace` and pickling are the dataclass's own. Only plain fields are supported:
a class with a `__post_init__`, a default factory, an init-only or keyword-only field, or a
field left out of `__init__` is refused when it is decorated (`TypeError`), so that no record
silently loses a behaviour.
"""

from __future__ import annotations

import dataclasses
import inspect
import types
from typing import Any, TypeVar

T = TypeVar("T")


def quick_init(cls: type[T]) -> type[T]:
    """Decorate (above `@dataclass(frozen=True, slots=True)`): the same class, built faster."""
    if not dataclasses.is_dataclass(cls):
        raise TypeError(f"{cls.__name__}: quick_init needs a dataclass")
    params = cls.__dataclass_params__  # type: ignore[attr-defined]
    if not params.frozen or "__slots__" not in cls.__dict__:
        raise TypeError(f"{cls.__name__}: quick_init is for frozen dataclasses with slots")
    if hasattr(cls, "__post_init__"):
        raise TypeError(f"{cls.__name__}: quick_init does not run __post_init__")
    fields = dataclasses.fields(cls)
    for f in fields:
        if not f.init or f.kw_only or f.default_factory is not dataclasses.MISSING:
            raise TypeError(
                f"{cls.__name__}.{f.name}: quick_init supports plain fields only "
                "(no default factory, keyword-only or init=False)"
            )
    generated = list(inspect.signature(cls.__init__).parameters)[1:]
    if generated != [f.name for f in fields]:  # an InitVar, or an __init__ of its own
        raise TypeError(f"{cls.__name__}: quick_init needs the dataclass's own __init__")
    env: dict[str, Any] = {}
    params_src: list[str] = []
    body: list[str] = []
    for f in fields:
        if f.default is dataclasses.MISSING:
            params_src.append(f.name)
        else:
            env[f"_d_{f.name}"] = f.default
            params_src.append(f"{f.name}=_d_{f.name}")
        # the slot's descriptor, in this class or the dataclass it extends
        slot = next((k.__dict__[f.name] for k in cls.__mro__ if f.name in k.__dict__), None)
        if not isinstance(slot, types.MemberDescriptorType):
            raise TypeError(f"{cls.__name__}.{f.name}: quick_init needs a slot for each field")
        env[f"_s_{f.name}"] = slot.__set__
        body.append(f"    _s_{f.name}(self, {f.name})\n")
    if not body:
        return cls
    exec(f"def __init__(self, {', '.join(params_src)}):\n{''.join(body)}", env)
    init = env["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    init.__module__ = cls.__module__
    init.__annotations__ = dict(cls.__init__.__annotations__)
    cls.__init__ = init  # type: ignore[method-assign]
    return cls
