"""A small evaluator of a synthesized bucket policy's Deny statements, for attacking its promises.

moto ignores ``s3:ExistingObjectTag`` and tag-key conditions, so the tag gate cannot be attacked
against a bucket; this evaluates the template's own statements with IAM's documented condition
semantics, for the operators the policy uses:

- every operator in a ``Condition`` block must hold, and every key within an operator (AND);
  a key's list of values matches when any value does (OR);
- a negated operator (``StringNotEquals``, ``ArnNotEquals``) holds when the request value matches
  none of the values, and also when the request lacks the key;
- a positive operator does not hold when the request lacks the key;
- ``ForAnyValue:`` holds when any of the request's values matches any of the policy's values (an
  absent or empty set never does);
- ``IgnoreCase`` compares case-insensitively.

CloudFormation tokens resolve to stand-in ARNs (``arn:test:<logical id>``), so a principal is
named by the logical id of its role.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

_SUPPORTED = {
    "StringEquals",
    "StringNotEquals",
    "StringLike",
    "StringEqualsIgnoreCase",
    "ArnEquals",
    "ArnNotEquals",
    "ArnLike",
    "ArnNotLike",
    "Bool",
    "StringNotEqualsIfExists",
}


def resolve(value: Any) -> str:
    """A CloudFormation string with ``Fn::GetAtt``/``Ref`` replaced by ``arn:test:<logical id>``."""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return str(sep).join(resolve(p) for p in parts)
    if isinstance(value, dict) and "Fn::GetAtt" in value:
        return f"arn:test:{value['Fn::GetAtt'][0]}"
    if isinstance(value, dict) and "Ref" in value:
        return f"ref:{value['Ref']}"
    raise ValueError(f"cannot resolve {value!r}")


@dataclass(frozen=True)
class Request:
    """One S3 request as a bucket policy sees it."""

    principal: str  # aws:PrincipalArn (the role's ARN for an assumed-role session)
    action: str
    resource: str
    existing_tags: Mapping[str, str] = field(default_factory=dict)  # s3:ExistingObjectTag/<key>
    request_tags: Mapping[str, str] = field(default_factory=dict)  # tags the request sets
    secure: bool = True

    def values(self, key: str) -> list[str] | None:
        lowered = key.lower()
        if lowered == "aws:principalarn":
            return [self.principal]
        if lowered == "aws:securetransport":
            return ["true" if self.secure else "false"]
        if lowered.startswith("s3:existingobjecttag/"):
            tag = key.split("/", 1)[1]
            return [self.existing_tags[tag]] if tag in self.existing_tags else None
        if lowered == "s3:requestobjecttagkeys":
            return list(self.request_tags) or None
        return None


def _matches(operator: str, actual: str, expected: str) -> bool:
    base = operator.removeprefix("ForAnyValue:").removesuffix("IfExists")
    if base.endswith("IgnoreCase"):
        return actual.lower() == expected.lower()
    if base in ("StringLike", "ArnLike", "ArnNotLike"):
        return fnmatch.fnmatchcase(actual, expected)
    return actual == expected


def _holds(operator: str, key: str, expected: Any, request: Request) -> bool:
    wanted = [resolve(v) for v in (expected if isinstance(expected, list) else [expected])]
    actual = request.values(key)
    negated = "Not" in operator
    if operator.startswith("ForAnyValue:"):
        return bool(actual) and any(_matches(operator, a, w) for a in actual or [] for w in wanted)
    if actual is None:
        return negated or operator.endswith("IfExists")
    hit = any(_matches(operator, a, w) for a in actual for w in wanted)
    return not hit if negated else hit


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def denied(statements: Sequence[dict[str, Any]], request: Request) -> list[str]:
    """The Sids (or indexes) of the Deny statements that match ``request``."""
    out = []
    for i, s in enumerate(statements):
        if s["Effect"] != "Deny":
            continue
        if not any(fnmatch.fnmatchcase(request.action, a) for a in _listed(s["Action"])):
            continue
        if not any(fnmatch.fnmatchcase(request.resource, resolve(r)) for r in _listed(s["Resource"])):
            continue
        conditions = s.get("Condition", {})
        for operator in conditions:
            base = operator.removeprefix("ForAnyValue:")
            if base not in _SUPPORTED:
                raise ValueError(f"the simulator does not know {operator}")
        if all(
            _holds(operator, key, expected, request)
            for operator, block in conditions.items()
            for key, expected in block.items()
        ):
            out.append(str(s.get("Sid", i)))
    return out
