"""The recorded order is the engine's: checked on 20 generated programs with branches
and reuse, against an independent pre-hook recorder on a second run of each program.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import pytest
import torch

from graphviz_app.core.autograd.backward import record_backward
from graphviz_app.core.graph.walk import walk_autograd

UNARY: list[Callable[[torch.Tensor], torch.Tensor]] = [torch.sin, torch.tanh, torch.exp, torch.relu]
BINARY: list[Callable[[torch.Tensor, torch.Tensor], torch.Tensor]] = [
    torch.add,
    torch.mul,
    torch.sub,
    lambda a, b: a @ b.T @ b,
]


def program(seed: int) -> Callable[[list[torch.Tensor]], torch.Tensor]:
    """A random straight-line program over 3 leaves; values are reused (branches)."""
    rng = random.Random(seed)
    plan = []
    for _ in range(rng.randint(4, 12)):
        if rng.random() < 0.4:
            plan.append(("unary", rng.randrange(len(UNARY)), rng.random(), 0.0))
        else:
            plan.append(("binary", rng.randrange(len(BINARY)), rng.random(), rng.random()))

    def run(leaves: list[torch.Tensor]) -> torch.Tensor:
        values = list(leaves)
        for kind, op, first, second in plan:
            a = values[int(first * len(values))]
            if kind == "unary":
                values.append(UNARY[op](a) * 0.5)
            else:
                values.append(BINARY[op](a, values[int(second * len(values))]) * 0.5)
        # Use several values so that more than one path reaches the leaves.
        return sum(v.sum() for v in values[-3:])  # type: ignore[return-value]

    return run


def leaves() -> list[torch.Tensor]:
    generator = torch.Generator().manual_seed(0)
    return [torch.randn(3, 3, generator=generator, requires_grad=True) for _ in range(3)]


def independent_order(run: Callable[[list[torch.Tensor]], torch.Tensor]) -> list[str]:
    """Node ids in the order independent pre-hooks see the nodes run.

    A second run of the same program builds an identical graph, and the walk numbers
    its nodes deterministically, so ids are comparable across the two runs.
    """
    loss = run(leaves())
    walk = walk_autograd([loss])
    seen: list[str] = []
    for index, fn in enumerate(walk.fns):
        node_id = walk.fn_id(index)
        fn.register_prehook(lambda grads, node_id=node_id: seen.append(node_id))
    loss.backward()
    return seen


@pytest.mark.parametrize("seed", range(20))
def test_recorded_order_equals_an_independent_recorder(seed: int) -> None:
    run = program(seed)
    expected = independent_order(run)
    walk = walk_autograd([run(leaves())])
    trace = record_backward(walk)
    assert [s.node_id for s in trace.steps] == expected
    assert len({s.node_id for s in trace.steps}) == len(trace.steps) == len(walk.fns)
