"""Network centrality of the coverage analysis: the same numbers as networkx, seeded sampling on large
networks, and a cache keyed on the data that never serves a stale result."""

from __future__ import annotations

import random

import networkx as nx
import pytest
from networkx.algorithms.link_analysis.pagerank_alg import _pagerank_python

from openkam.relationships import selectors


def _links(n: int, m: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    kinds = ["reports_to", "influences", "peer", "conflicts_with"]
    out = []
    for i in range(m):
        a, b = rng.randrange(n), rng.randrange(n)
        if a != b:
            kind = rng.choice(kinds)
            directional = kind in ("reports_to", "influences") and rng.random() < 0.8
            out.append({"id": i, "source": a + 100, "target": b + 100, "kind": kind, "strength": rng.randint(1, 3),
                        "directional": directional})  # fmt: skip
    return out


def _nx_graphs(nodes: list[int], links: list[dict]) -> tuple[nx.DiGraph, nx.Graph]:
    d, u = nx.DiGraph(), nx.Graph()
    d.add_nodes_from(nodes)
    u.add_nodes_from(nodes)
    for lk in links:
        a, b, w = lk["source"], lk["target"], float(lk["strength"])
        if lk["kind"] == "conflicts_with":
            continue
        u.add_edge(a, b)
        pairs = [(a, b), (b, a)] if not lk["directional"] else [(b, a)] if lk["kind"] == "influences" else [(a, b)]
        for x, y in pairs:  # parallel links add up
            d.add_edge(x, y, weight=d[x][y]["weight"] + w if d.has_edge(x, y) else w)
    return d, u


def test_small_network_matches_networkx_exactly() -> None:
    nodes = list(range(100, 130))
    links = _links(30, 70, seed=3)
    ours = selectors.network_centrality(nodes=nodes, links=links)
    d, u = _nx_graphs(nodes, links)
    pr = _pagerank_python(d, alpha=0.85, tol=1.0e-6)
    bc = nx.betweenness_centrality(u, normalized=True)  # 30 people ≤ 32 samples: exact
    for s in nodes:
        assert ours[s]["pagerank"] == pytest.approx(pr[s], abs=1e-9)
        assert ours[s]["betweenness"] == pytest.approx(bc[s], abs=1e-9)


def test_large_network_is_sampled_with_a_fixed_seed_and_finds_the_bridges() -> None:
    # two dense groups joined through three brokers: the brokers must come out on top of the estimate
    rng = random.Random(5)
    links = []
    for group in (range(0, 150), range(150, 300)):
        members = list(group)
        for _ in range(600):
            a, b = rng.sample(members, 2)
            links.append({"source": a, "target": b, "kind": "peer", "strength": 2, "directional": False})
    brokers = [300, 301, 302]
    for i, x in enumerate(brokers):
        for a in (i, 150 + i, 10 + i, 160 + i):
            links.append({"source": x, "target": a, "kind": "influences", "strength": 3, "directional": True})
    nodes = list(range(303))
    first = selectors.network_centrality(nodes=nodes, links=links)
    again = selectors.network_centrality(nodes=nodes, links=list(reversed(links)))
    assert first == again  # same data (in any order), same answer
    top = sorted(nodes, key=lambda s: -first[s]["betweenness"])[:6]
    exact = nx.betweenness_centrality(_nx_graphs(nodes, links)[1], normalized=True)
    exact_top = sorted(nodes, key=lambda s: -exact[s])[:6]
    assert set(brokers) <= set(top) and set(brokers) <= set(exact_top) and len(set(top) & set(exact_top)) >= 4


def test_cached_result_follows_every_change() -> None:
    nodes = list(range(100, 140))
    links = _links(40, 90, seed=11)
    before = selectors.network_centrality(nodes=nodes, links=links)
    assert selectors.network_centrality(nodes=nodes, links=links) == before  # from the cache
    changed = [dict(lk) for lk in links]
    changed[0]["strength"] = 4 - changed[0]["strength"] if changed[0]["strength"] != 2 else 3
    changed[1]["kind"] = "conflicts_with" if changed[1]["kind"] != "conflicts_with" else "peer"
    after = selectors.network_centrality(nodes=nodes, links=changed)
    d, _u = _nx_graphs(nodes, changed)
    pr = _pagerank_python(d, alpha=0.85, tol=1.0e-6)
    assert all(after[s]["pagerank"] == pytest.approx(pr[s], abs=1e-9) for s in nodes)
    assert after != before
    # a person more (no links) is a different network too
    more = selectors.network_centrality(nodes=[*nodes, 999], links=links)
    assert more[999] == {"pagerank": pytest.approx(more[999]["pagerank"]), "betweenness": 0.0}
    assert more[nodes[0]]["pagerank"] != before[nodes[0]]["pagerank"]
