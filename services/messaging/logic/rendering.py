"""Rendering message templates in Jinja's sandbox. The sandbox stops a template from
reaching Python internals (no attribute starting with `_`, no file, no import); what
it does not stop is a template that loops for ever or writes gigabytes, so every render
runs under a budget of executed lines and seconds and a cap on the output size."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass

from jinja2 import TemplateError, Undefined
from jinja2.sandbox import SandboxedEnvironment

from plexus.errors import Invalid


@dataclass(frozen=True)
class Limits:
    max_lines: int = 500_000      # Python lines executed while rendering (a few 100 ms)
    max_seconds: float = 1.0
    max_output: int = 512 * 1024  # characters


class RenderLimitExceeded(Exception):
    pass


class _Budget:
    """A trace function counting executed lines; raises once a limit is passed."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.lines = 0
        self.deadline = time.monotonic() + limits.max_seconds

    def __call__(self, frame, event, arg):
        if event == "line":
            self.lines += 1
            if self.lines > self.limits.max_lines:
                raise RenderLimitExceeded("the template runs too long")
            if self.lines % 1000 == 0 and time.monotonic() > self.deadline:
                raise RenderLimitExceeded("the template runs too long")
        return self


class _BoundedSandbox(SandboxedEnvironment):
    """Refuses `"x" * 10**9` and `10 ** 10**9` before they take memory or time."""

    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context, operator, left, right):
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise RenderLimitExceeded("exponent too large")
        if operator == "*":
            for text, times in ((left, right), (right, left)):
                if isinstance(text, str | list | tuple) and isinstance(times, int) \
                        and len(text) * times > 100_000:
                    raise RenderLimitExceeded("the rendered message is too large")
        return super().call_binop(context, operator, left, right)


def _environment(autoescape: bool) -> SandboxedEnvironment:
    # Unknown variables render empty, as in most mail tools.
    env = _BoundedSandbox(autoescape=autoescape, undefined=Undefined)
    env.globals["range"] = _small_range
    return env


def _small_range(*args):
    values = range(*args)
    if len(values) > 10_000:
        raise RenderLimitExceeded("range() larger than 10,000")
    return values


TEXT = _environment(autoescape=False)
HTML = _environment(autoescape=True)


def render(source: str, context: dict, *, html: bool = False, limits: Limits = Limits(),
           field: str = "body") -> str:
    """The rendered text; `Invalid` naming `field` when the template is broken, unsafe
    or too costly."""
    env = HTML if html else TEXT
    budget = _Budget(limits)
    previous = sys.gettrace()
    try:
        template = env.from_string(source)
        pieces, size = [], 0
        sys.settrace(budget)
        try:
            for piece in template.generate(**context):
                size += len(piece)
                if size > limits.max_output:
                    raise RenderLimitExceeded("the rendered message is too large")
                pieces.append(piece)
        finally:
            sys.settrace(previous)
        return "".join(pieces)
    except RenderLimitExceeded as error:
        raise Invalid(str(error), {field: [str(error)]}) from None
    except (TemplateError, ArithmeticError, TypeError, ValueError, RecursionError) as error:
        # SecurityError (the sandbox refusing) is a TemplateError too.
        detail = f"the template cannot be rendered: {type(error).__name__}: {error}"[:500]
        raise Invalid(detail, {field: [detail]}) from None


def check_syntax(source: str, field: str = "body") -> None:
    try:
        TEXT.parse(source)
    except TemplateError as error:
        raise Invalid(f"template syntax error: {error}", {field: [str(error)]}) from None
