"""A workflow's steps: their shape checked (every problem at once, by path), and walked.

A step is named by its path, the indices and branches that lead to it: "0", "2.then.1".
A run keeps the path of its next step; `following` gives the one after a step (out of a
finished branch to the step after its `if`), None once the steps are over."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta

from plexus.contract.vocab import MESSAGE_CHANNELS
from plexus.contract.workflows import (
    MAX_DEPTH,
    MAX_SCORE,
    MAX_STEPS,
    MAX_WAIT_DAYS,
    STEP_KINDS,
    WAIT_UNITS,
)

LOCAL_TIME = re.compile(r"^([01]\d|2[0-3]):[0-5]\d$")
BRANCHES = ("then", "else")
UNIT_MINUTES = {"minutes": 1, "hours": 60, "days": 24 * 60}


def _kind(step: dict) -> str | None:
    kinds = [kind for kind in STEP_KINDS if kind in step]
    return kinds[0] if len(kinds) == 1 else None


def _is_count(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value == value


def _wait_problem(wait) -> str | None:
    if not isinstance(wait, dict) or len(wait) != 1 or next(iter(wait)) not in WAIT_UNITS:
        return f"must hold one of: {', '.join(WAIT_UNITS)}"
    unit, amount = next(iter(wait.items()))
    if not _is_count(amount) or amount <= 0:
        return f"{unit} must be a number above 0"
    if amount * UNIT_MINUTES[unit] > MAX_WAIT_DAYS * 24 * 60:
        return f"must be at most {MAX_WAIT_DAYS} days"
    return None


def _send_problems(send, where: str) -> dict[str, list[str]]:
    if not isinstance(send, dict):
        return {where: ["must be an object {channel, template_id}"]}
    errors: dict[str, list[str]] = {}
    unknown = sorted(set(send) - {"channel", "template_id"})
    for name in unknown:
        errors[f"{where}.{name}"] = ["Unknown field."]
    if send.get("channel") not in MESSAGE_CHANNELS:
        errors[f"{where}.channel"] = [f"must be one of: {', '.join(MESSAGE_CHANNELS)}"]
    template_id = send.get("template_id")
    if not isinstance(template_id, str) or not 0 < len(template_id) <= 26:
        errors[f"{where}.template_id"] = ["must be a template's id"]
    return errors


def _step_problems(step, where: str, depth: int) -> dict[str, list[str]]:
    if not isinstance(step, dict):
        return {where: ["must be an object"]}
    kind = _kind(step)
    if kind is None:
        return {where: [f"must be one of: {', '.join(STEP_KINDS)}"]}
    allowed = {kind, *BRANCHES} if kind == "if" else {kind}
    errors = {f"{where}.{name}": ["Unknown field."] for name in sorted(set(step) - allowed)}
    body, inner = step[kind], f"{where}.{kind}"
    if kind == "wait" and (problem := _wait_problem(body)):
        errors[inner] = [problem]
    elif kind == "wait_until_local" and not (isinstance(body, str) and LOCAL_TIME.match(body)):
        errors[inner] = ["must be a time of day HH:MM, 00:00 to 23:59"]
    elif kind == "send":
        errors.update(_send_problems(body, inner))
    elif kind in ("if", "exit_if") and not isinstance(body, dict):
        errors[inner] = ["must be a rule"]
    elif kind == "score" and not (
        isinstance(body, dict)
        and set(body) == {"add"}
        and _is_count(body["add"])
        and abs(body["add"]) <= MAX_SCORE
    ):
        errors[inner] = [f"must be {{add: N}}, N at most {MAX_SCORE:,} either way"]
    if kind == "if":
        if depth >= MAX_DEPTH:
            errors[where] = [f"`if` may nest {MAX_DEPTH} deep at most"]
        for branch in BRANCHES:
            errors.update(_list_problems(step.get(branch, []), f"{where}.{branch}", depth + 1))
    return errors


def _list_problems(steps, where: str, depth: int) -> dict[str, list[str]]:
    if not isinstance(steps, list):
        return {where: ["must be a list of steps"]}
    errors: dict[str, list[str]] = {}
    for index, step in enumerate(steps):
        errors.update(_step_problems(step, f"{where}.{index}", depth))
    return errors


def problems(steps) -> dict[str, list[str]]:
    """Every problem of the steps' shape, by path ("steps.2.then.0.send.channel")."""
    errors = _list_problems(steps, "steps", 1)
    if not errors and sum(1 for _ in walk(steps)) > MAX_STEPS:
        errors["steps"] = [f"at most {MAX_STEPS} steps, nested ones included"]
    return errors


def walk(steps: list, prefix: str = "") -> Iterator[tuple[str, dict]]:
    """Every step with its path, depth first."""
    for index, step in enumerate(steps):
        path = f"{prefix}{index}"
        yield path, step
        if "if" in step:
            for branch in BRANCHES:
                yield from walk(step.get(branch) or [], f"{path}.{branch}.")


def _parts(path: str) -> list:
    return [int(part) if part.isdigit() else part for part in path.split(".")]


def step_at(steps: list, path: str) -> dict | None:
    """The step a path names; None when the steps have no such path."""
    node: list | dict = steps
    for part in _parts(path):
        try:
            node = node[part]  # type: ignore[index]
        except (IndexError, KeyError, TypeError):
            return None
    return node if isinstance(node, dict) else None


def following(steps: list, path: str) -> str | None:
    """The path of the step after this one, leaving finished branches; None at the end."""
    parts = _parts(path)
    while parts:
        parts[-1] += 1
        candidate = ".".join(str(part) for part in parts)
        if step_at(steps, candidate) is not None:
            return candidate
        parts = parts[:-2]  # out of the branch: the `if` itself, then after it
    return None


def first_of(steps: list, prefix: str = "") -> str | None:
    """The first step of a list (the workflow's, or a branch's at `prefix`)."""
    return f"{prefix}0" if step_at(steps, f"{prefix}0") is not None else None


def branch_start(steps: list, path: str, branch: str) -> str | None:
    """Where an `if` at `path` goes on: its branch's first step, or the step after it."""
    return first_of(steps, f"{path}.{branch}.") or following(steps, path)


def wait_length(wait: dict) -> timedelta:
    unit, amount = next(iter(wait.items()))
    return timedelta(minutes=float(amount) * UNIT_MINUTES[unit])
