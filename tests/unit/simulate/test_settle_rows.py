"""The bulk settler's shortcuts give exactly what the plain code gives: the table-driven
simulated ids are the bit-reversed ones, and compact fee lines expand to the full rows."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from yibao.policy import load_book
from yibao.replica import batches
from yibao.replica import rows as replica_rows
from yibao.simulate import bulk
from yibao.simulate.catalog_seed import catalog_item_of
from yibao.simulate.clinical import BUILTIN_ITEMS
from yibao.simulate.context import CityContext
from yibao.simulate.model import CityParams
from yibao.simulate.people import make_institutions
from yibao.simulate.row_shapes import (
    FEE_DETAIL_COLUMNS,
    FEE_SHAPE_COLUMNS,
    FEE_VISIT_COLUMNS,
    row_columns,
)
from yibao.simulate.settle_rows import Settler, _reverse5, sim_id, visit_ids
from yibao.simulate.visits import build_chunk
from yibao.storage.tables import fee_detail, mdtrt, setl

NOW = datetime(2024, 6, 1, 8, 30, 15)


def _settler() -> Settler:
    return Settler(load_book([]), {}, {}, now=NOW)


def test_sim_ids_are_the_bit_reversed_shards_over_the_number() -> None:
    for n in [*range(200), 2**40 + 7, 123_456_789]:
        assert sim_id(n) == str((_reverse5(n & 31) << 58) | n)
    assert _reverse5(0b00001) == 0b10000
    assert _reverse5(0b10110) == 0b01101
    ids = visit_ids(17)
    assert len(set(ids)) == 3


def test_compact_fee_lines_expand_to_the_full_rows() -> None:
    """A spooled chunk's compact fee lines, joined with their shapes and their visit's mdtrt
    row as the writer's merge joins them, are the full rows a plain settler builds; each
    shape is spooled once a chunk."""
    params = CityParams(persons=400, institutions=60, settlements=4000, seed=7)
    institutions = make_institutions(params)
    people = list(bulk.persons_for(params))
    ctx = CityContext(params, institutions, scale=bulk.size_city(params, people))
    catalog = {i.code: catalog_item_of(i) for i in BUILTIN_ITEMS}
    by_code = {i.fixmedins_code: i for i in institutions}
    book = load_book([])
    full = Settler(book, catalog, by_code, now=NOW)
    compact = Settler(book, catalog, by_code, now=NOW, compact=True)
    size = bulk.chunk_size(params.persons)
    expanded_lines = 0
    for k in range(2):  # the second chunk reuses the first's memos: its shapes come again
        part = people[k * size : (k + 1) * size]
        visits = build_chunk(ctx, k, part).visits
        a, b = full.run(part, visits), compact.run(part, visits)
        assert b.compact and not a.compact and not a.fee_shape
        assert a.mdtrt == b.mdtrt
        shapes = {s[0]: s[1:] for s in b.fee_shape}
        assert len(shapes) == len(b.fee_shape)  # once a chunk
        visit_cols = row_columns(mdtrt)
        rows = []
        for rowid, sn, at, shape_no, setl_id in b.fee_detail:
            visit = dict(zip(visit_cols, b.mdtrt[rowid - 1], strict=True))
            values = {
                **{c: visit[src] for c, src in FEE_VISIT_COLUMNS.items()},
                **dict(zip(FEE_SHAPE_COLUMNS, shapes[shape_no], strict=True)),
                "feedetl_sn": sn,
                "fee_ocur_time": at,
                "setl_id": setl_id,
            }
            rows.append(tuple(values[c] for c in FEE_DETAIL_COLUMNS))
        assert rows == a.fee_detail
        expanded_lines += len(rows)
    assert expanded_lines > 1000


def test_only_a_restricted_use_item_is_marked_approved() -> None:
    """hosp_appr_flag as a HIS sends it: 1 (审批通过) on a 限制使用 item — the doctor's word
    that the use qualifies, which the fund pays on and the indication rule checks — and 0
    (无须审批) on every other line."""
    params = CityParams(persons=400, institutions=60, settlements=4000, seed=7)
    institutions = make_institutions(params)
    people = list(bulk.persons_for(params))
    ctx = CityContext(params, institutions, scale=bulk.size_city(params, people))
    catalog = {i.code: catalog_item_of(i) for i in BUILTIN_ITEMS}
    settler = Settler(load_book([]), catalog, {i.fixmedins_code: i for i in institutions}, now=NOW)
    part = people[: bulk.chunk_size(params.persons)]
    rows = settler.run(part, build_chunk(ctx, 0, part).visits).fee_detail
    code, appr = (
        FEE_DETAIL_COLUMNS.index("med_list_codg"),
        FEE_DETAIL_COLUMNS.index("hosp_appr_flag"),
    )
    restricted = {i.code for i in BUILTIN_ITEMS if i.diag_codes}
    flags = {(r[code] in restricted, r[appr]) for r in rows}
    assert flags == {(True, "1"), (False, "0")}
    assert all(catalog[c].lmt_used_flag == "1" for c in restricted)


def test_the_bulk_fee_payloads_are_the_contract_s() -> None:
    """The bulk loader's `fee` payloads (the replica's settled lines, built from the memos)
    equal `replica.rows.fee_payload` of the fee rows and the settlement rows the chunk
    writes; a reversed visit's lines are unsettled and send none."""
    params = CityParams(persons=300, institutions=40, settlements=3000, seed=11)
    institutions = make_institutions(params)
    people = list(bulk.persons_for(params))
    ctx = CityContext(params, institutions, scale=bulk.size_city(params, people))
    catalog = {i.code: catalog_item_of(i) for i in BUILTIN_ITEMS}
    settler = Settler(load_book([]), catalog, {i.fixmedins_code: i for i in institutions}, now=NOW)
    part = people[: bulk.chunk_size(params.persons)]
    out = settler.run(part, build_chunk(ctx, 0, part).visits)
    fee_cols, setl_cols, mdtrt_cols = (row_columns(t) for t in (fee_detail, setl, mdtrt))
    visits = {r[0]: dict(zip(mdtrt_cols, r, strict=True)) for r in out.mdtrt}
    settled = {}
    for r in out.setl:
        row = dict(zip(setl_cols, r, strict=True))
        if row["refd_setl_flag"] == "0" and row["vali_flag"] == "1":
            settled[row["setl_id"]] = row
    by_setl: dict[str, list[dict[str, object]]] = {}
    for r in out.fee_detail:
        line = dict(zip(fee_cols, r, strict=True))
        if line["setl_id"] is not None:
            by_setl.setdefault(str(line["setl_id"]), []).append(
                {
                    **line,
                    "fee_ocur_time": datetime.fromisoformat(str(line["fee_ocur_time"])),
                    "cnt": Decimal(int(line["cnt"])) / 10000,  # type: ignore[call-overload]
                    "det_item_fee_sumamt": Decimal(int(line["det_item_fee_sumamt"])) / 100,  # type: ignore[call-overload]
                    "pric": Decimal(int(line["pric"])) / 1_000_000,  # type: ignore[call-overload]
                    "prd_days": None
                    if line["prd_days"] is None
                    else Decimal(int(line["prd_days"])) / 10000,  # type: ignore[call-overload]
                }
            )
    assert set(by_setl) == set(settled) and out.reversals > 0
    expected = [
        replica_rows.fee_payload(
            setl_id=setl_id,
            setl_time=datetime.fromisoformat(str(settled[setl_id]["setl_time"])),
            psn_no=str(settled[setl_id]["psn_no"]),
            visit=visits[settled[setl_id]["mdtrt_id"]],
            med_type=str(settled[setl_id]["med_type"]),
            lines=lines,
        )
        for setl_id, lines in by_setl.items()
    ]
    got = out.replica[replica_rows.FEE].sort_by("setl_id")
    want = batches.from_payloads(replica_rows.FEE, expected).sort_by("setl_id")
    assert got.to_pylist() == want.select(got.column_names).to_pylist()
    assert sum(len(x) for x in got.column("feedetl_sn").to_pylist()) > 1000
