"""Rendering message templates in Jinja's sandbox. The sandbox stops a template from
reaching Python internals (no attribute starting with `_`, no file, no import) and from
making values larger than the output (logic.sandbox); what it does not stop is a
template that loops for ever, so every render runs under a budget of executed lines and
seconds, and a cap on the output size. A template has at most MAX_TOKENS tokens in its
tags, counted before it is parsed."""

from __future__ import annotations

import functools
import itertools
import sys
import time
from dataclasses import dataclass

from jinja2 import Template, TemplateError, Undefined, nodes

from plexus.errors import Invalid
from services.messaging.logic.sandbox import TOO_LARGE, BoundedSandbox, RenderLimitExceeded
from services.messaging.logic.sandbox import allowance as value_allowance


@dataclass(frozen=True)
class Limits:
    max_lines: int = 500_000  # Python lines executed while rendering (a few 100 ms)
    max_seconds: float = 1.0
    max_output: int = 512 * 1024  # characters; no value the template makes is larger
    max_made: int = 8 * 1024 * 1024  # characters a render may make in all


MAX_TOKENS = 10_000  # in a template's tags, whitespace aside: ~0.5 s to parse and compile
CACHED_SOURCE = 64 * 1024  # templates up to this size stay compiled (256 of them)


class _Budget:
    """A trace function counting executed lines; raises once a limit is passed."""

    def __init__(self, limits: Limits):
        self.limits = limits
        self.lines = 0
        self.deadline = time.monotonic() + limits.max_seconds

    def __call__(self, _frame, event, _arg):
        if event == "line":
            self.lines += 1
            if self.lines > self.limits.max_lines:
                raise RenderLimitExceeded("the template runs too long")
            if self.lines % 1000 == 0 and time.monotonic() > self.deadline:
                raise RenderLimitExceeded("the template runs too long")
        return self


def _environment(autoescape: bool) -> BoundedSandbox:
    # Unknown variables render empty, as in most mail tools.
    return BoundedSandbox(autoescape=autoescape, undefined=Undefined)


TEXT = _environment(autoescape=False)
HTML = _environment(autoescape=True)


def render(
    source: str,
    context: dict,
    *,
    html: bool = False,
    limits: Limits = Limits(),
    field: str = "body",
) -> str:
    """The rendered text; `Invalid` naming `field` when the template is broken, unsafe
    or too costly."""
    env = HTML if html else TEXT
    try:
        with value_allowance(limits.max_output, limits.max_made):
            return _render(env, source, context, limits)
    except RenderLimitExceeded as error:
        raise Invalid(str(error), {field: [str(error)]}) from None
    except MemoryError:
        raise Invalid(TOO_LARGE, {field: [TOO_LARGE]}) from None
    except (
        TemplateError,
        ArithmeticError,
        LookupError,
        AttributeError,
        TypeError,
        ValueError,
        RecursionError,
    ) as error:
        # SecurityError (the sandbox refusing) is a TemplateError too; a template's own
        # failure ("{{ '{}'.format() }}": IndexError) is the template's fault, a 422.
        detail = f"the template cannot be rendered: {type(error).__name__}: {error}"[:500]
        raise Invalid(detail, {field: [detail]}) from None


def _check_length(env: BoundedSandbox, source: str) -> None:
    # Parsing costs ~25 us a token (400 KB of `{{ a.b.b.b...` took 5 s); lexing is
    # cheaper, so the tokens are counted first, up to the cap.
    tokens = (kind for _, kind, _ in env.lex(source) if kind != "whitespace")
    if sum(1 for _ in itertools.islice(tokens, MAX_TOKENS + 1)) > MAX_TOKENS:
        raise RenderLimitExceeded(
            f"the template is too long: more than {MAX_TOKENS:,} names, operators and tags"
        )


# What a template of plain substitutions is made of: names looked up, printed through
# cheap filters, chosen between by `if`. Without loops, calls or arithmetic, its
# running time is bounded by its length and the values' sizes (which the sandbox
# bounds), so it needs no line budget: the tracer is half of such a render's time.
PLAIN_NODES = (
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Const,
    nodes.If,
    nodes.CondExpr,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Concat,
    nodes.Filter,
    nodes.Test,
)
PLAIN_FILTERS = frozenset(
    {
        *("default", "d", "upper", "lower", "title", "capitalize", "trim", "escape", "e"),
        *("string", "length", "count", "first", "last", "int", "float", "round", "abs"),
    }
)
PLAIN_TESTS = frozenset({"defined", "undefined", "none", "number", "string", "true", "false"})


def is_plain(ast: nodes.Template) -> bool:
    for node in ast.find_all(nodes.Node):
        if not isinstance(node, PLAIN_NODES):
            return False
        if isinstance(node, nodes.Filter) and node.name not in PLAIN_FILTERS:
            return False
        if isinstance(node, nodes.Test) and node.name not in PLAIN_TESTS:
            return False
    return True


@dataclass(frozen=True)
class Compiled:
    template: Template
    plain: bool  # runs without the line budget (is_plain)


def _compile(env: BoundedSandbox, source: str) -> Compiled:
    _check_length(env, source)
    ast = env.parse(source)
    return Compiled(env.from_string(ast), is_plain(ast))


@functools.lru_cache(maxsize=256)
def _cached(env: BoundedSandbox, source: str) -> Compiled:
    return _compile(env, source)


def _template(env: BoundedSandbox, source: str) -> Compiled:
    """The compiled template: compiling is most of a render's time (20 ms for a short
    email), and a campaign renders the same source for every contact."""
    return _cached(env, source) if len(source) <= CACHED_SOURCE else _compile(env, source)


def _render(env: BoundedSandbox, source: str, context: dict, limits: Limits) -> str:
    compiled = _template(env, source)
    template = compiled.template
    pieces, size = [], 0
    previous = sys.gettrace()
    if not compiled.plain:
        sys.settrace(_Budget(limits))
    try:
        for piece in template.generate(**context):
            size += len(piece)
            if size > limits.max_output:
                raise RenderLimitExceeded(TOO_LARGE)
            pieces.append(piece)
    finally:
        if not compiled.plain:
            sys.settrace(previous)
    return "".join(pieces)


def check_syntax(source: str, field: str = "body") -> None:
    try:
        _check_length(TEXT, source)
        TEXT.parse(source)
    except RenderLimitExceeded as error:
        raise Invalid(str(error), {field: [str(error)]}) from None
    except TemplateError as error:
        raise Invalid(f"template syntax error: {error}", {field: [str(error)]}) from None
    except RecursionError:
        raise Invalid("the template nests too deeply", {field: ["nests too deeply"]}) from None
