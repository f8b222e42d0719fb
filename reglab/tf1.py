"""Graph-mode sandboxes for the TF1 APIs, so that every notebook cell can be re-run.

In eager mode the TF1 collections live in a global default graph and grow each time a cell is
re-run.  ``fresh_graph()`` gives every experiment its own ``tf.Graph`` with a graph-level seed;
``collection_table()`` lists a collection (name, shape, value) the way answer 3 prints it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from reglab.params import Anything, InstanceOf, Integer, InvalidParameterError, NoneOr, Text, validated


@validated(seed=Integer(minimum=0))
@contextlib.contextmanager
def fresh_graph(seed: int = 0) -> Iterator[Any]:
    """Enter a new ``tf.Graph`` as the default graph, with graph-level seed ``seed``.

    Usage::

        with reglab.tf1.fresh_graph() as graph:
            w = tf.compat.v1.get_variable(...)
    """
    import tensorflow as tf

    graph = tf.Graph()
    with graph.as_default():
        tf.compat.v1.set_random_seed(seed)
        yield graph


@dataclass(frozen=True)
class CollectionRow:
    """One entry of a graph collection: its name, static shape and (if evaluated) value."""

    name: str
    shape: tuple[int | None, ...]
    value: float | None


class CollectionTable(list):
    """A list of ``CollectionRow`` that prints as an aligned text table."""

    def __str__(self) -> str:
        if not self:
            return "(empty collection)"
        width = max(len(row.name) for row in self)
        lines = [f"{'name':<{width}}  {'shape':<12}  value"]
        for row in self:
            shape = "[" + ", ".join("?" if d is None else str(d) for d in row.shape) + "]"
            value = "" if row.value is None else _format_value(row.value)
            lines.append(f"{row.name:<{width}}  {shape:<12}  {value}")
        return "\n".join(lines)

    __repr__ = __str__

    def total(self) -> float:
        """Sum of the values (raises ``InvalidParameterError`` if the table was built without a session)."""
        if any(row.value is None for row in self):
            raise InvalidParameterError("total() needs values: pass session= to collection_table()")
        return float(sum(row.value for row in self))


def _format_value(value: float) -> str:
    # 4 significant digits: a float32 penalty over a large kernel can differ from one CPU to
    # another from the 6th digit on (the order of the additions), and tables are compared as text.
    return f"{value:.4g}"


@validated(key=Text(), graph=NoneOr(InstanceOf("tensorflow:Graph")), session=Anything(),
           scope=NoneOr(Text(empty=True)))
def collection_table(
    key: str,
    *,
    graph: Any = None,
    session: Any = None,
    scope: str | None = None,
) -> CollectionTable:
    """List ``graph``'s collection ``key`` as rows of (name, shape, value).

    ``key`` is a collection name such as ``tf.compat.v1.GraphKeys.REGULARIZATION_LOSSES``.
    With ``session``, scalar entries are evaluated; other entries (variables put there by
    mistake, for instance) keep an empty value.  ``scope`` filters names like
    ``tf.compat.v1.get_collection(key, scope)``.
    """
    import tensorflow as tf

    if graph is None:
        graph = session.graph if session is not None else tf.compat.v1.get_default_graph()
    items = graph.get_collection(key, scope)
    values: Sequence[Any] = [None] * len(items)
    if session is not None and items:
        scalars = [i for i, item in enumerate(items) if item.shape.rank == 0]
        fetched = session.run([items[i] for i in scalars])
        values = list(values)
        for i, v in zip(scalars, fetched, strict=True):
            values[i] = float(np.asarray(v))
    rows = CollectionTable()
    for item, value in zip(items, values, strict=True):
        shape = tuple(item.shape.as_list()) if item.shape.rank is not None else ()
        rows.append(CollectionRow(name=item.name, shape=shape, value=value))
    return rows
