"""Graph(output): the one view of a graph that every reader shares (issue 11).

Path counts are checked against hand counts on small graphs: a chain of n "diamonds"
(y = a·x + b·x, repeated) has 2^n paths from its input, each n·2 links long.
"""

from __future__ import annotations

import pytest

from autograd_lite import Graph, TooManyNodes, TooManyPaths, Value
from autograd_lite.lectures import kramer_chain


def _diamonds(n: int) -> tuple[Value, Value]:
    x = Value(0.5, "x")
    y = x
    for i in range(n):
        a, b = Value(1.0 + i, f"a{i}"), Value(0.5, f"b{i}")
        y = a * y + b * y
    return x, y


def test_the_kramer_chain_has_one_path_of_five_links_from_s0():
    n = kramer_chain()
    graph = Graph(n["out"])
    # out ← s2 ← x2 ← s1 ← x1 ← s0: five links, one path
    assert graph.path_count(n["s0"]).paths == 1
    assert graph.path_count(n["s0"]).factors == 5
    assert graph.path_count(n["w2"]).factors == 1
    assert graph.order[0] is n["out"]
    assert graph.names[n["w1"]] == "w1"
    assert graph.node("x2") is n["x2"]


@pytest.mark.parametrize("n", [1, 3, 6])
def test_diamonds_double_the_paths_each_level(n):
    x, y = _diamonds(n)
    count = Graph(y).path_count(x)
    assert count.paths == 2**n
    # each path: per diamond, + then * (two links): 2n links per path
    assert count.factors == 2**n * 2 * n


def test_limits_are_typed_errors_with_the_count_and_the_limit():
    x, y = _diamonds(10)  # 1024 paths
    graph = Graph(y)
    with pytest.raises(TooManyPaths, match="1024 paths, more than max_paths=1000") as caught:
        graph.check_paths(x, max_paths=1000, max_factors=None)
    assert (caught.value.count.paths, caught.value.limit) == (1024, 1000)
    with pytest.raises(TooManyPaths, match="20480 factors over its 1024 paths"):
        graph.check_paths(x, max_paths=None, max_factors=10_000)
    with pytest.raises(TooManyNodes) as too_big:
        graph.check_size(5)
    assert too_big.value.count == len(graph) and too_big.value.limit == 5
    assert isinstance(too_big.value, ValueError)  # callers catching ValueError still do


def test_each_fact_is_computed_once():
    x, y = _diamonds(4)
    graph = Graph(y)
    for _ in range(3):
        # x, then per level a, b, a·y, b·y and their sum: 1 + 4·5 nodes
        assert len(graph.order) == len(graph.reading_order) == len(graph.names) == 21
        assert graph.path_count(x).paths == 16
    assert graph.walks == 3  # order, reading order, path counts: one walk each


def test_unknown_names_and_nodes_outside_the_graph():
    x, y = _diamonds(1)
    graph = Graph(y)
    with pytest.raises(KeyError, match="no node named 'zz'.*names: "):
        graph.node("zz")
    stranger = Value(1.0, "s")
    assert stranger not in graph
    assert graph.path_count(stranger).paths == 0
    assert graph.on_paths_to(x) >= {x, y}
