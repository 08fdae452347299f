"""`kit.records.quick_init`: a frozen, slotted dataclass built through its slots' descriptors
is the same record — same signature, values, equality, hash, repr, replace and pickle — and
as frozen; a class it cannot build faithfully is refused when decorated."""

from __future__ import annotations

import dataclasses
import inspect
import pickle
from dataclasses import InitVar, dataclass, field
from decimal import Decimal

import pytest

from yibao.kit.records import quick_init


@dataclass(frozen=True, slots=True)
class Plain:
    sn: str
    amount: Decimal
    memo: str | None = None
    flag: bool = False


@quick_init
@dataclass(frozen=True, slots=True)
class Quick:
    sn: str
    amount: Decimal
    memo: str | None = None
    flag: bool = False


def test_the_same_signature_as_the_dataclass_gives() -> None:
    plain = inspect.signature(Plain.__init__)
    quick = inspect.signature(Quick.__init__)
    assert [(p.name, p.kind, p.default) for p in quick.parameters.values()] == [
        (p.name, p.kind, p.default) for p in plain.parameters.values()
    ]
    assert Quick.__init__.__qualname__ == "Quick.__init__"


def test_built_positionally_by_keyword_and_with_defaults() -> None:
    for args, kwargs in [
        (("1", Decimal("2.50")), {}),
        (("1", Decimal("2.50"), "m", True), {}),
        (("1",), {"amount": Decimal("0"), "flag": True}),
    ]:
        quick, plain = Quick(*args, **kwargs), Plain(*args, **kwargs)  # type: ignore[arg-type]
        assert dataclasses.astuple(quick) == dataclasses.astuple(plain)
        assert repr(quick).removeprefix("Quick") == repr(plain).removeprefix("Plain")


def test_a_missing_or_unknown_argument_is_refused_as_before() -> None:
    with pytest.raises(TypeError):
        Quick("1")  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        Quick("1", Decimal(1), nope=1)  # type: ignore[call-arg]


def test_still_frozen_equal_hashable_replaceable_and_picklable() -> None:
    one = Quick("1", Decimal("2.50"))
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.sn = "2"  # type: ignore[misc]
    assert one == Quick("1", Decimal("2.5")) and hash(one) == hash(Quick("1", Decimal("2.5")))
    assert one != Quick("2", Decimal("2.50"))
    changed = dataclasses.replace(one, memo="x")
    assert (changed.sn, changed.amount, changed.memo) == ("1", Decimal("2.50"), "x")
    assert pickle.loads(pickle.dumps(one)) == one


def test_a_class_it_cannot_build_faithfully_is_refused() -> None:
    with pytest.raises(TypeError, match="frozen"):

        @quick_init
        @dataclass(slots=True)
        class NotFrozen:
            a: int

    with pytest.raises(TypeError, match="frozen"):

        @quick_init
        @dataclass(frozen=True)
        class NoSlots:
            a: int

    with pytest.raises(TypeError, match="__post_init__"):

        @quick_init
        @dataclass(frozen=True, slots=True)
        class Checked:
            a: int

            def __post_init__(self) -> None:
                pass

    with pytest.raises(TypeError, match="plain fields"):

        @quick_init
        @dataclass(frozen=True, slots=True)
        class Factory:
            a: list[int] = field(default_factory=list)

    with pytest.raises(TypeError, match="plain fields"):

        @quick_init
        @dataclass(frozen=True, slots=True, kw_only=True)
        class KeywordOnly:
            a: int

    with pytest.raises(TypeError, match="plain fields"):

        @quick_init
        @dataclass(frozen=True, slots=True)
        class Hidden:
            a: int
            b: int = field(default=0, init=False)

    with pytest.raises(TypeError, match="own __init__"):

        @quick_init
        @dataclass(frozen=True, slots=True)
        class WithInitVar:
            a: int
            b: InitVar[int] = 0


@dataclass(frozen=True, slots=True)
class Base:
    sn: str
    amount: Decimal = Decimal("0")


@quick_init
@dataclass(frozen=True, slots=True)
class Extended(Base):
    memo: str | None = None


def test_a_record_extending_another_sets_the_inherited_fields_too() -> None:
    one = Extended("7", Decimal("1.50"), "m")
    assert (one.sn, one.amount, one.memo) == ("7", Decimal("1.50"), "m")
    assert Extended("7") == Extended(sn="7", amount=Decimal("0"), memo=None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.sn = "8"  # type: ignore[misc]
