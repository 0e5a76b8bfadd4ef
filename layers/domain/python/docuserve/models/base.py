"""The base of every model at the HTTP edge: its validator is built on first use, not at import.

Pydantic builds a model's core schema (validator and serializer) when the class is defined, unless
``defer_build`` is set. A function defines every model of its routes at import, but one request
uses the models of one route: deferring moves that work out of the cold start into the first
request that needs each model (docs/performance.md, "Cold start"). ``tests/unit/test_models_deferred.py``
fails for any model in ``docuserve.models`` that does not inherit this setting.
"""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """A Pydantic model whose schema is built lazily (behaviour is otherwise plain ``BaseModel``)."""

    model_config = ConfigDict(defer_build=True)


class Body(Model):
    """A request body: unknown fields are rejected."""

    model_config = ConfigDict(extra="forbid")
