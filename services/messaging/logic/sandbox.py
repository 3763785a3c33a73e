"""The Jinja sandbox message templates render in, bounded in memory.

Jinja's sandbox keeps a template away from Python internals; it does not stop one from
asking C code for a gigabyte in one step (`"a".ljust(600000000)`, `"%600000000s" % x`,
`[x] * 10**9`, a string doubled forty times through a namespace): the line budget of
rendering.py never sees those, and the output cap comes too late. So every place where
a template makes a value is checked before the value is made:

- no value a template makes (a string, a list, what `{{ }}` prints) is larger than
  `max_value` characters and items (its contents counted, as str() would write them);
- each render makes at most `max_made` of them in all (`Allowance`), so a loop of
  allowed values cannot add up to gigabytes either;
- the operators (`*`, `+`, `%`, `~`, `**`), method calls (`ljust`, `center`, `zfill`,
  `replace`, `join`, `format`...), every filter, and the buffers of macros and
  `{% set %}` blocks are where that is checked;
- lists, dicts and sets cannot be changed in place (Jinja's immutable sandbox), so
  `extend` cannot double one either, and `[].pop()` is refused like any other."""

from __future__ import annotations

import contextlib
import functools
import re
import string
from collections.abc import Iterator, Mapping
from contextvars import ContextVar

from jinja2 import Undefined
from jinja2.compiler import CodeGenerator
from jinja2.sandbox import ImmutableSandboxedEnvironment
from jinja2.utils import Namespace, _PassArg


class RenderLimitExceeded(Exception):
    pass


TOO_LARGE = "the rendered message is too large"


class Allowance:
    """What one render may make: `max_value` characters a value, `max_made` in all."""

    def __init__(self, max_value: int, max_made: int):
        self.max_value, self.left = max_value, max_made

    def fits(self, estimate: int) -> None:
        if estimate > self.max_value:
            raise RenderLimitExceeded(TOO_LARGE)

    def made(self, value) -> None:
        made = size(value, self.max_value)
        self.fits(made)
        self.left -= made
        if self.left < 0:
            raise RenderLimitExceeded(TOO_LARGE)


_allowance: ContextVar[Allowance | None] = ContextVar("template_allowance", default=None)
DEFAULT_MAX_VALUE, DEFAULT_MAX_MADE = 512 * 1024, 8 * 1024 * 1024


@contextlib.contextmanager
def allowance(max_value: int, max_made: int) -> Iterator[None]:
    token = _allowance.set(Allowance(max_value, max_made))
    try:
        yield
    finally:
        _allowance.reset(token)


def _current() -> Allowance:
    # Outside a render (a template compiled on its own): a fresh one with the defaults.
    return _allowance.get() or Allowance(DEFAULT_MAX_VALUE, DEFAULT_MAX_MADE)


def _contents(value):
    if isinstance(value, str | bytes | bytearray):
        return None
    if isinstance(value, Mapping):
        return (part for pair in value.items() for part in pair)
    if isinstance(value, Namespace):  # printed with every attribute in it
        return _contents(value._Namespace__attrs)
    if isinstance(value, list | tuple | set | frozenset) or type(value).__name__.startswith(
        "dict_"
    ):
        return value
    return None


def measure(value, limit: int) -> tuple[int, int]:
    """(characters and items in `value`, contents counted; how deep it nests), counting
    no further once past `limit`: the cost is bounded whatever the value shares."""
    total, depth = 0, 0
    stack = [iter((value,))]
    while stack:
        for item in stack[-1]:
            total += len(item) if isinstance(item, str | bytes | bytearray) else 1
            if total > limit:
                return total, depth
            inner = _contents(item)
            if inner is not None:
                stack.append(iter(inner))
                depth = max(depth, len(stack) - 1)
                break
        else:
            stack.pop()
    return total, depth


def size(value, limit: int) -> int:
    return measure(value, limit)[0]


def _number(value, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return 0
    if abs(value) > _current().max_value:
        raise RenderLimitExceeded(f"{what} too large")
    return int(value)


def _arg(args: tuple, kwargs: dict, index: int, name: str, default=None):
    if len(args) > index:
        return args[index]
    return kwargs.get(name, default)


# ---- estimates of what a call would make, before it is made


_PERCENT = re.compile(r"%(?:\([^)]{0,200}\))?[-#0 +]*(\*|\d*)(?:\.(\*|\d*))?")
_NUMBER = re.compile(r"\d+")


def _percent_estimate(text: str, values) -> int:
    """`text % values`: its own length, every width and precision, the values."""
    widths = 0
    for match in _PERCENT.finditer(text):
        for number in match.groups():
            if number == "*":
                raise RenderLimitExceeded("a * width in % formatting is not allowed")
            if number:
                widths += _number(int(number) if len(number) < 10 else 10**10, "width")
    return len(text) + widths + size(values, _current().max_value)


def _format_estimate(text: str, args, kwargs) -> int:
    """`text.format(...)`: as for %, a width taken from an argument refused."""
    widths = 0
    try:
        fields = list(string.Formatter().parse(text))
    except ValueError:
        return len(text)  # format() raises the same error, a 422
    for _literal, _name, spec, _conversion in fields:
        if spec and "{" in spec:
            raise RenderLimitExceeded("a width from an argument is not allowed in format()")
        for number in _NUMBER.findall(spec or ""):
            widths += _number(int(number) if len(number) < 10 else 10**10, "width")
    limit = _current().max_value
    return len(text) + widths + size(args, limit) + size(kwargs, limit)


def _replace_estimate(text, old, new, count=-1) -> int:
    if not isinstance(text, str | bytes) or not isinstance(old, type(text)):
        return 0
    times = len(text) + 1 if not old else text.count(old)
    if isinstance(count, int) and 0 <= count < times:
        times = count
    return len(text) + times * max(0, len(new) - len(old)) if isinstance(new, str | bytes) else 0


def _join_estimate(separator, items: list) -> int:
    return size(items, _current().max_value) + len(separator) * len(items)


def _width_estimate(text, width) -> int:
    return max(len(text), _number(width, "width"))


def _check_method(method, args: tuple, kwargs: dict) -> tuple[tuple, dict]:
    """Refuses a call of a str/bytes/int method that would make too much; a `join`'s
    items are read first (they may come from a generator) and handed on as a list."""
    owner, name = getattr(method, "__self__", None), getattr(method, "__name__", "")
    fits = _current().fits
    if isinstance(owner, str | bytes | bytearray):
        if name in ("ljust", "rjust", "center", "zfill"):
            fits(_width_estimate(owner, _arg(args, kwargs, 0, "width", 0)))
        elif name == "expandtabs":
            tabsize = _number(_arg(args, kwargs, 0, "tabsize", 8), "tab size")
            fits(len(owner) + owner.count("\t" if isinstance(owner, str) else b"\t") * tabsize)
        elif name == "replace" and args[1:]:
            fits(_replace_estimate(owner, *args[:3]))
        elif name == "join" and args:
            items = list(args[0])
            fits(_join_estimate(owner, items))
            args = (items, *args[1:])
        elif name == "translate" and args and isinstance(args[0], Mapping):
            longest = max((len(v) for v in args[0].values() if isinstance(v, str)), default=1)
            fits(len(owner) * longest)
    elif isinstance(owner, int) and name == "to_bytes":
        fits(_number(_arg(args, kwargs, 0, "length", 1), "length"))
    return args, kwargs


# ---- filters: the same checks, for the filters that take a size


def _indent_check(s, width=4, first=False, blank=False):
    unit = len(width) if isinstance(width, str) else _number(width, "indent width")
    text = str(s)
    _current().fits(len(text) + (text.count("\n") + 1) * unit)


def _wordwrap_check(s, width=79, break_long_words=True, wrapstring=None, *rest, **more):
    text = str(s)
    lines = len(text) // max(_number(width, "width"), 1) + 1
    _current().fits(len(text) + lines * len(wrapstring or "\n"))


def _tojson_check(value, indent=None):
    unit = len(indent) if isinstance(indent, str) else _number(indent or 0, "indent")
    limit = _current().max_value
    total, depth = measure(value, limit)
    _current().fits(total * (1 + unit * depth))


def _sum_check(iterable, attribute=None, start=0):
    if not isinstance(start, int | float):
        raise RenderLimitExceeded("sum() adds numbers only")


FILTER_CHECKS = {
    "center": lambda value, width=80: _current().fits(_width_estimate(str(value), width)),
    "indent": _indent_check,
    "format": lambda value, *args, **kwargs: _current().fits(
        _percent_estimate(str(value), kwargs or args)
    ),
    "wordwrap": _wordwrap_check,
    "replace": lambda s, old, new, count=None: _current().fits(
        _replace_estimate(str(s), str(old), str(new), -1 if count is None else count)
    ),
    "batch": lambda value, linecount, fill_with=None: _number(linecount, "batch size"),
    "slice": lambda value, slices, fill_with=None: _number(slices, "slice count"),
    "tojson": _tojson_check,
    "sum": _sum_check,
}


def _bounded_filter(name: str, function):
    check = FILTER_CHECKS.get(name)
    passed = 1 if _PassArg.from_obj(function) else 0

    @functools.wraps(function)
    def bounded(*args, **kwargs):
        current = _current()
        for value in (*args[passed:], *kwargs.values()):
            current.fits(size(value, current.max_value))
        if name == "join":
            items = list(args[passed])
            separator = str(_arg(args[passed + 1 :], kwargs, 0, "d", ""))
            current.fits(_join_estimate(separator, items))
            args = (*args[:passed], items, *args[passed + 1 :])
        elif check is not None:
            check(*args[passed:], **kwargs)
        result = function(*args, **kwargs)
        current.made(result)
        return result

    return bounded


def _small_range(*args):
    values = range(*args)
    if len(values) > 10_000:
        raise RenderLimitExceeded("range() larger than 10,000")
    return values


class _BoundedCodeGenerator(CodeGenerator):
    """`a ~ b` checks its operands (each printed as str()) before joining them."""

    def visit_Concat(self, node, frame) -> None:  # noqa: N802 (Jinja's visitor naming)
        if frame.eval_ctx.volatile:
            join = "(markup_join if context.eval_ctx.volatile else str_join)"
        elif frame.eval_ctx.autoescape:
            join = "markup_join"
        else:
            join = "str_join"
        self.write(f"{join}(environment.concat_operands((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write(")))")


def _concat(pieces) -> str:
    """What a macro, a call block or `{% set %}...{% endset %}` returns: its output."""
    pieces = list(pieces)
    current = _current()
    current.fits(sum(map(len, pieces)))
    result = "".join(pieces)
    current.made(result)
    return result


def _printed(value):
    """Every `{{ value }}`: checked before str() writes it out."""
    current = _current()
    current.fits(size(value, current.max_value))
    return value


class BoundedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "%", "+"})
    code_generator_class = _BoundedCodeGenerator

    def __init__(self, **options):
        super().__init__(finalize=_printed, **options)
        self.concat = _concat
        self.filters = {name: _bounded_filter(name, f) for name, f in self.filters.items()}
        self.globals["range"] = _small_range

    def concat_operands(self, operands: tuple) -> tuple:
        _current().made(operands)
        return operands

    def call_binop(self, context, operator, left, right):
        current = _current()
        if operator == "**" and isinstance(right, int | float) and abs(right) > 64:
            raise RenderLimitExceeded("exponent too large")
        if operator == "*":
            for many, times in ((left, right), (right, left)):
                if isinstance(many, str | list | tuple) and isinstance(times, int):
                    current.fits(size(many, current.max_value) * max(times, 0))
        elif operator == "+" and not isinstance(left, int | float):
            current.fits(size(left, current.max_value) + size(right, current.max_value))
        elif operator == "%" and isinstance(left, str):
            current.fits(_percent_estimate(left, right))
        result = super().call_binop(context, operator, left, right)
        current.made(result)
        return result

    def call(__self, __context, __obj, *args, **kwargs):  # noqa: N805 (Jinja's signature)
        args, kwargs = _check_method(__obj, args, kwargs)
        result = super().call(__context, __obj, *args, **kwargs)
        if not isinstance(result, Undefined):
            _current().made(result)
        return result

    def wrap_str_format(self, value):
        wrapped = super().wrap_str_format(value)
        if wrapped is None:
            return None
        text = value.__self__

        @functools.wraps(wrapped)
        def bounded(*args, **kwargs):
            _current().fits(_format_estimate(text, args, kwargs))
            return wrapped(*args, **kwargs)

        return bounded
