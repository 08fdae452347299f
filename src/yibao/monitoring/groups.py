"""Collusion groups (聚集性就诊, domain.md §2.3): persons who visit one institution together.

A person–institution–day co-visit graph: two persons are linked when they visited the same
institution on the same `group_min_days` days or more. Such triples of shared days are found
in SQL (each person's visit days at an institution, three at a time), so the graph holds only
the persons who share them; its connected parts are split into communities by Louvain
(networkx) and each community of at least `group_min_size` persons is a hit listing its
members (pseudonymous) and their visits on the shared days.
"""

from __future__ import annotations

import hashlib
from datetime import date
from typing import Any

import duckdb

from yibao.monitoring.model import PostHit, Thresholds
from yibao.monitoring.sql import PSN, VALID, day, fen

#: a person with more visit days than this at one institution in the period is a regular
#: (dialysis, rehabilitation), not a co-visitor by appointment
_MAX_DAYS = 15


def clustered_visits(
    cur: duckdb.DuckDBPyConnection, since: date, until: date, t: Thresholds
) -> list[PostHit]:
    import networkx as nx

    days = int(t.group_min_days)
    result = cur.execute(
        f"""
        WITH v AS (
          SELECT DISTINCT {PSN} AS psn, fixmedins_code, setl_date FROM setl_fact
          WHERE {VALID} AND visit_kind = 'outpatient'
            AND setl_date BETWEEN {day(since)} AND {day(until)}
        ), regular AS (
          SELECT psn, fixmedins_code FROM v GROUP BY 1, 2
          HAVING count(*) BETWEEN {days} AND {_MAX_DAYS}
        ), vv AS (SELECT v.* FROM v JOIN regular USING (psn, fixmedins_code)),
        triples AS (
          SELECT a.fixmedins_code, a.setl_date AS d1, b.setl_date AS d2, c.setl_date AS d3,
                 a.psn
          FROM vv a
          JOIN vv b ON b.psn = a.psn AND b.fixmedins_code = a.fixmedins_code
                   AND b.setl_date > a.setl_date
          JOIN vv c ON c.psn = a.psn AND c.fixmedins_code = a.fixmedins_code
                   AND c.setl_date > b.setl_date
        )
        SELECT fixmedins_code, d1, d2, d3, list(psn ORDER BY psn) AS members
        FROM triples GROUP BY 1, 2, 3, 4
        HAVING count(*) >= {int(t.group_min_size)}
        """
    )
    graphs: dict[str, Any] = {}
    shared_days: dict[tuple[str, str], set[date]] = {}
    for code, d1, d2, d3, members in result.fetchall():
        graph = graphs.setdefault(code, nx.Graph())
        for i, a in enumerate(members):
            for b in members[i + 1 :]:
                weight = graph.get_edge_data(a, b, {"weight": 0})["weight"]
                graph.add_edge(a, b, weight=weight + 1)
        for m in members:
            shared_days.setdefault((code, m), set()).update((d1, d2, d3))
    hits: list[PostHit] = []
    for code, graph in sorted(graphs.items()):
        communities = nx.community.louvain_communities(graph, weight="weight", seed=7)
        for community in communities:
            members = sorted(community)
            if len(members) < t.group_min_size:
                continue
            sub = graph.subgraph(members)
            days_together = sorted(
                set.intersection(*(shared_days[(code, m)] for m in members))
                or set.union(*(shared_days[(code, m)] for m in members))
            )
            visits = _visits(cur, code, members, days_together)
            digest = hashlib.sha256("|".join(members).encode()).hexdigest()[:16]
            hits.append(
                PostHit(
                    category="clustered_visits",
                    rule_id="POST-CLUSTERED-VISITS",
                    unit="group",
                    key=f"{code}|{digest}",
                    amount_fen=sum(int(v["fund_fen"]) for v in visits),
                    fixmedins_code=code,
                    day=max(days_together) if days_together else until,
                    evidence={
                        "members": members,
                        "size": len(members),
                        "days": [d.isoformat() for d in days_together],
                        "density": round(float(nx.density(sub)), 3),
                        "clustering": round(float(nx.average_clustering(sub)), 3),
                        "visits": [
                            {
                                "setl_id": v["setl_id"],
                                "psn_ref": v["psn"],
                                "setl_date": v["setl_date"].isoformat(),
                            }
                            for v in visits
                        ],
                        "min_days": days,
                    },
                )
            )
    return hits


def _visits(
    cur: duckdb.DuckDBPyConnection, code: str, members: list[str], days: list[date]
) -> list[dict[str, Any]]:
    if not days:
        return []
    result = cur.execute(
        f"""
        SELECT setl_id, {PSN} AS psn, setl_date, {fen("fund_pay_sumamt")} AS fund_fen
        FROM setl_fact
        WHERE {VALID} AND fixmedins_code = ? AND {PSN} IN (SELECT unnest(?))
          AND setl_date IN (SELECT unnest(?)) AND visit_kind = 'outpatient'
        ORDER BY setl_date, setl_id
        """,
        [code, members, days],
    )
    names = [d[0] for d in result.description or []]
    return [dict(zip(names, row, strict=True)) for row in result.fetchall()]
