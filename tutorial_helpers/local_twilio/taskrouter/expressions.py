"""TaskRouter's expression language: workflow filters, target expressions, queue selectors.

Examples: ``languages HAS "es"``, ``selected_language == "es"``,
``worker.languages HAS task.selected_language``, ``1==1``.

An expression is tokenized and parsed once (and cached), then compiled into a tree of closures,
because the same handful of expressions is evaluated for every worker/task pair on every
matching pass.

Semantics, chosen to mirror Twilio and never to raise while evaluating:

* A name that does not resolve (missing key, non-dict parent, index out of range) is null.
* ``==`` is true only for two scalars of the same kind: null/null, bool/bool, number/number
  (int and float compare numerically; bool is not a number) or string/string.
* ``!=`` is the negation of ``==`` over scalars, so mismatched kinds (``1 != "1"``,
  ``missing != "es"``) are true. If either side is an array or object it is false, like
  every other scalar operator: an array is never "equal" or "not equal" to anything.
* ``< <= > >=`` need two numbers or two strings; anything else is false.
* ``CONTAINS`` is a substring test on two strings; anything else is false.
* ``HAS``/``>-`` needs an array on the left, ``IN``/``<-``/``NOT IN`` an array on the right,
  otherwise false (``NOT IN`` too: a non-array is not a list the value is absent from).
  Membership uses the ``==`` rules above, so ``true IN [1]`` is false.
* A whole expression (or an AND/OR operand) that is a bare value is true only if it is the
  boolean ``true``.
* Operators are lexed greedily, so ``x>-1`` is ``x HAS 1`` and ``x<-1`` is ``x IN 1``;
  write ``x > -1`` for a comparison with a negative number.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Expression", "ExpressionError", "compile_expression", "evaluate"]


class ExpressionError(ValueError):
    """Bad syntax. ``str(e)`` names what was wrong and the 0-based position, e.g.
    ``Invalid expression "languages HAS": expected a value after HAS at position 13``."""

    def __init__(self, source: str, problem: str, position: int) -> None:
        self.source = source
        self.problem = problem
        self.position = position
        super().__init__(f'Invalid expression "{source}": {problem}')


# ---------------------------------------------------------------------------------------------
# Tokenizer
# ---------------------------------------------------------------------------------------------

# Token kinds.
_STRING = "string"
_NUMBER = "number"
_NAME = "name"  # an identifier that is not a keyword (or any identifier right after a dot)
_KEYWORD = "keyword"  # AND OR HAS IN NOT CONTAINS TRUE FALSE NULL, stored upper-cased
_OP = "op"  # symbolic operators, stored canonicalised (e.g. "=" -> "==", "&&" -> "AND")
_PUNCT = "punct"  # ( ) [ ] , .
_EOF = "eof"

_KEYWORDS = frozenset({"AND", "OR", "HAS", "IN", "NOT", "CONTAINS", "TRUE", "FALSE", "NULL"})

# Longest first, so that "==" is not read as "=" "=" and "<=" not as "<" "=".
_SYMBOLS: tuple[tuple[str, str], ...] = (
    ("==", "=="),
    ("!=", "!="),
    ("<=", "<="),
    (">=", ">="),
    (">-", "HAS"),
    ("<-", "IN"),
    ("&&", "AND"),
    ("||", "OR"),
    ("=", "=="),
    ("<", "<"),
    (">", ">"),
)
_PUNCTUATION = frozenset("()[],.")


class _Token:
    __slots__ = ("kind", "value", "pos", "text")

    def __init__(self, kind: str, value: Any, pos: int, text: str) -> None:
        self.kind = kind
        self.value = value  # canonical value: parsed literal, keyword/operator name, identifier
        self.pos = pos
        self.text = text  # as written, for error messages

    def describe(self) -> str:
        return "end of expression" if self.kind == _EOF else f"'{self.text}'"


def _is_ident_start(c: str) -> bool:
    return c.isascii() and (c.isalpha() or c == "_")


def _is_ident_char(c: str) -> bool:
    return c.isascii() and (c.isalnum() or c == "_")


def _tokenize(source: str) -> list[_Token]:
    tokens: list[_Token] = []
    i, n = 0, len(source)

    def fail(problem: str, pos: int) -> ExpressionError:
        return ExpressionError(source, f"{problem} at position {pos}", pos)

    while i < n:
        c = source[i]
        start = i
        if c.isspace():
            i += 1
            continue
        if c in "\"'":
            i += 1
            chars: list[str] = []
            while True:
                if i >= n:
                    raise fail(f"unterminated string (missing closing {c})", start)
                ch = source[i]
                if ch == c:
                    i += 1
                    break
                # Only the quote and the backslash itself are escapable; any other backslash is
                # kept literally so that Windows paths and regex-ish values survive untouched.
                if ch == "\\" and i + 1 < n and source[i + 1] in (c, "\\"):
                    chars.append(source[i + 1])
                    i += 2
                    continue
                chars.append(ch)
                i += 1
            tokens.append(_Token(_STRING, "".join(chars), start, source[start:i]))
            continue
        if c.isdigit() or (c == "-" and i + 1 < n and source[i + 1].isdigit()):
            i += 1
            while i < n and source[i].isdigit():
                i += 1
            is_float = i + 1 < n and source[i] == "." and source[i + 1].isdigit()
            if is_float:
                i += 2
                while i < n and source[i].isdigit():
                    i += 1
            text = source[start:i]
            tokens.append(_Token(_NUMBER, float(text) if is_float else int(text), start, text))
            continue
        if _is_ident_start(c):
            while i < n and _is_ident_char(source[i]):
                i += 1
            text = source[start:i]
            upper = text.upper()
            # After a dot every identifier is a property name, so `task.in` or `worker.type`
            # stay addressable even though IN is a keyword.
            after_dot = bool(tokens) and tokens[-1].kind == _PUNCT and tokens[-1].value == "."
            if upper in _KEYWORDS and not after_dot:
                tokens.append(_Token(_KEYWORD, upper, start, text))
            else:
                tokens.append(_Token(_NAME, text, start, text))
            continue
        for symbol, canonical in _SYMBOLS:
            if source.startswith(symbol, i):
                tokens.append(_Token(_OP, canonical, start, symbol))
                i += len(symbol)
                break
        else:
            if c in _PUNCTUATION:
                tokens.append(_Token(_PUNCT, c, start, c))
                i += 1
                continue
            hint = ""
            if c in "&|":
                hint = f" (did you mean {c * 2}?)"
            elif c == "-":
                hint = " (names may not contain '-'; index with [\"name-with-dash\"])"
            raise fail(f"unexpected character '{c}'{hint}", start)
    tokens.append(_Token(_EOF, None, n, ""))
    return tokens


# ---------------------------------------------------------------------------------------------
# Value semantics
# ---------------------------------------------------------------------------------------------

_Fn = Callable[[Mapping[str, Any], Mapping[str, Any] | None], Any]


def _scalar_kind(value: Any) -> str | None:
    """The comparison kind of a scalar, or None for arrays, objects and anything exotic."""
    if value is None:
        return "null"
    if isinstance(value, bool):  # before int: bool is an int subclass but not a number here
        return "bool"
    if isinstance(value, int | float):
        return "number"
    if isinstance(value, str):
        return "string"
    return None


def _is_array(value: Any) -> bool:
    return isinstance(value, list | tuple)


def _equal(left: Any, right: Any) -> bool:
    kind = _scalar_kind(left)
    if kind is None or kind != _scalar_kind(right):
        return False
    return kind == "null" or left == right


def _not_equal(left: Any, right: Any) -> bool:
    left_kind, right_kind = _scalar_kind(left), _scalar_kind(right)
    if left_kind is None or right_kind is None:
        return False
    if left_kind != right_kind:
        return True
    return left_kind != "null" and left != right


def _orderable(left: Any, right: Any) -> bool:
    kind = _scalar_kind(left)
    return kind in ("number", "string") and kind == _scalar_kind(right)


def _member(needle: Any, haystack: Any) -> bool:
    return any(_equal(item, needle) for item in haystack)


def _has(left: Any, right: Any) -> bool:
    return _is_array(left) and _member(right, left)


def _in(left: Any, right: Any) -> bool:
    return _is_array(right) and _member(left, right)


def _not_in(left: Any, right: Any) -> bool:
    return _is_array(right) and not _member(left, right)


def _contains(left: Any, right: Any) -> bool:
    return isinstance(left, str) and isinstance(right, str) and right in left


_OPERATORS: dict[str, Callable[[Any, Any], bool]] = {
    "==": _equal,
    "!=": _not_equal,
    "<": lambda a, b: _orderable(a, b) and a < b,
    "<=": lambda a, b: _orderable(a, b) and a <= b,
    ">": lambda a, b: _orderable(a, b) and a > b,
    ">=": lambda a, b: _orderable(a, b) and a >= b,
    "CONTAINS": _contains,
    "HAS": _has,
    "IN": _in,
    "NOT IN": _not_in,
}


def _walk(value: Any, path: tuple[str | int, ...]) -> Any:
    for step in path:
        if isinstance(step, str):
            if not isinstance(value, Mapping):
                return None
            value = value.get(step)
        else:
            if not _is_array(value) or step >= len(value):
                return None
            value = value[step]
    return value


def _name_fn(path: tuple[str | int, ...]) -> _Fn:
    first, rest = path[0], path[1:]

    def resolve(variables: Mapping[str, Any], bare: Mapping[str, Any] | None) -> Any:
        # A prefixed name (task.x, worker.y) wins; otherwise the whole path is looked up in the
        # bare scope, which is how `selected_language` reaches the task's attributes.
        if first in variables:
            return _walk(variables[first], rest)
        if bare is not None:
            return _walk(bare, path)
        return None

    return resolve


def _const_fn(value: Any) -> _Fn:
    return lambda variables, bare: value


def _binary_fn(op: Callable[[Any, Any], bool], left: _Fn, right: _Fn) -> _Fn:
    return lambda variables, bare: op(left(variables, bare), right(variables, bare))


def _and_fn(operands: list[_Fn]) -> _Fn:
    return lambda variables, bare: all(f(variables, bare) is True for f in operands)


def _or_fn(operands: list[_Fn]) -> _Fn:
    return lambda variables, bare: any(f(variables, bare) is True for f in operands)


# ---------------------------------------------------------------------------------------------
# Parser
# ---------------------------------------------------------------------------------------------
#
#   expression := and_expr (OR and_expr)*
#   and_expr   := comparison (AND comparison)*
#   comparison := operand (comparison_op operand)?      -- no chaining: `a == b == c` is an error
#   operand    := literal | name | list | "(" expression ")"
#   name       := IDENT ("." IDENT | "[" INTEGER "]" | "[" STRING "]")*
#   list       := "[" (literal ("," literal)*)? "]"


def _label(token: _Token) -> str:
    """How an operator is named in messages: keywords upper-cased, symbols as written."""
    return token.value if token.kind == _KEYWORD else token.text


# Parentheses deeper than this are refused as bad syntax: parsing and evaluating recurse once
# per level, and a hostile expression must be a 400, never a RecursionError (a 500).
MAX_NESTING = 50


class _Parser:
    def __init__(self, source: str) -> None:
        self.source = source
        self.tokens = _tokenize(source)
        self.index = 0
        self.depth = 0
        self.roots: set[str] = set()

    # -- helpers ------------------------------------------------------------------------------

    @property
    def token(self) -> _Token:
        return self.tokens[self.index]

    def advance(self) -> _Token:
        token = self.tokens[self.index]
        if token.kind != _EOF:
            self.index += 1
        return token

    def is_punct(self, char: str) -> bool:
        return self.token.kind == _PUNCT and self.token.value == char

    def is_keyword(self, *words: str) -> bool:
        return self.token.kind == _KEYWORD and self.token.value in words

    def is_logical(self, word: str) -> bool:
        token = self.token
        return token.kind in (_KEYWORD, _OP) and token.value == word

    def starts_operand(self) -> bool:
        token = self.token
        return (
            token.kind in (_STRING, _NUMBER, _NAME)
            or (token.kind == _KEYWORD and token.value in ("TRUE", "FALSE", "NULL"))
            or (token.kind == _PUNCT and token.value in "([")
        )

    def fail(self, problem: str, pos: int | None = None, found: bool = False) -> ExpressionError:
        pos = self.token.pos if pos is None else pos
        tail = f", found {self.token.describe()}" if found and self.token.kind != _EOF else ""
        return ExpressionError(self.source, f"{problem} at position {pos}{tail}", pos)

    def fail_leftover(self) -> ExpressionError:
        """The current token cannot continue a complete (sub)expression: say why."""
        token = self.token
        if token.kind == _PUNCT and token.value == ")":
            return self.fail("unmatched ')'")
        if self.starts_operand():
            return self.fail(f"expected an operator, AND or OR before {token.describe()}")
        if self.comparison_operator() is not None:
            return self.fail(
                f"unexpected {token.describe()} (comparisons cannot be chained; use AND)"
            )
        return self.fail(f"unexpected {token.describe()}")

    # -- grammar ------------------------------------------------------------------------------

    def parse(self) -> _Fn:
        if self.token.kind == _EOF:
            raise self.fail("expression is empty")
        fn = self.expression()
        if self.token.kind != _EOF:
            raise self.fail_leftover()
        return fn

    def expression(self) -> _Fn:
        operands = [self.and_expr()]
        while self.is_logical("OR"):
            operands.append(self.and_expr(after=self.advance()))
        return operands[0] if len(operands) == 1 else _or_fn(operands)

    def and_expr(self, after: _Token | None = None) -> _Fn:
        operands = [self.comparison(after)]
        while self.is_logical("AND"):
            operands.append(self.comparison(after=self.advance()))
        return operands[0] if len(operands) == 1 else _and_fn(operands)

    def comparison_operator(self) -> str | None:
        token = self.token
        if token.kind == _OP and token.value in _OPERATORS:
            return token.value
        if token.kind == _KEYWORD and token.value in ("HAS", "IN", "CONTAINS", "NOT"):
            return token.value
        return None

    def comparison(self, after: _Token | None = None) -> _Fn:
        left = self.operand(after)
        op = self.comparison_operator()
        if op is None:
            return left
        op_token = self.advance()
        label = _label(op_token)
        if op == "NOT":
            if not self.is_keyword("IN"):
                raise self.fail("expected IN after NOT", found=True)
            self.advance()
            op = label = "NOT IN"
        right = self.operand(after=op_token, label=label)
        return _binary_fn(_OPERATORS[op], left, right)

    def operand(self, after: _Token | None = None, label: str | None = None) -> _Fn:
        token = self.token
        if not self.starts_operand():
            if label is None and after is not None:
                label = _label(after)
            raise self.fail("expected a value" + (f" after {label}" if label else ""), found=True)
        if token.kind == _PUNCT and token.value == "(":
            if self.depth >= MAX_NESTING:
                raise self.fail(f"parentheses nested more than {MAX_NESTING} deep")
            self.advance()
            self.depth += 1
            fn = self.expression()
            self.depth -= 1
            if self.token.kind == _EOF:
                raise self.fail("missing ')' to close '('", token.pos)
            if not self.is_punct(")"):
                raise self.fail_leftover()
            self.advance()
            return fn
        if token.kind == _NAME:
            return self.name()
        return _const_fn(self.literal(allow_list=True))

    def literal(self, allow_list: bool) -> Any:
        token = self.advance()
        if token.kind in (_STRING, _NUMBER):
            return token.value
        if token.kind == _KEYWORD and token.value in ("TRUE", "FALSE", "NULL"):
            return {"TRUE": True, "FALSE": False, "NULL": None}[token.value]
        if allow_list and token.kind == _PUNCT and token.value == "[":
            # A tuple, so the shared constant cannot be mutated through an evaluation result.
            items: list[Any] = []
            if self.is_punct("]"):
                self.advance()
                return tuple(items)
            while True:
                if not (
                    self.token.kind in (_STRING, _NUMBER)
                    or self.is_keyword("TRUE", "FALSE", "NULL")
                ):
                    raise self.fail("expected a literal value in list", found=True)
                items.append(self.literal(allow_list=False))
                if self.is_punct(","):
                    self.advance()
                    continue
                if self.is_punct("]"):
                    self.advance()
                    return tuple(items)
                if self.token.kind == _EOF:
                    raise self.fail("missing ']' to close '['", token.pos)
                raise self.fail("expected ',' or ']' in list", found=True)
        raise self.fail(f"expected a value, found {token.describe()}", token.pos)

    def name(self) -> _Fn:
        first = self.advance()
        path: list[str | int] = [first.value]
        while True:
            if self.is_punct("."):
                self.advance()
                if self.token.kind != _NAME:
                    raise self.fail("expected a property name after '.'", found=True)
                path.append(self.advance().value)
            elif self.is_punct("["):
                bracket = self.advance()
                index = self.advance()
                is_int = index.kind == _NUMBER and isinstance(index.value, int)
                if not ((is_int and index.value >= 0) or index.kind == _STRING):
                    raise ExpressionError(
                        self.source,
                        "expected a non-negative integer or a string index at position "
                        f"{index.pos}, found {index.describe()}",
                        index.pos,
                    )
                if not self.is_punct("]"):
                    if self.token.kind == _EOF:
                        raise self.fail("missing ']' to close '['", bracket.pos)
                    raise self.fail("expected ']'", found=True)
                self.advance()
                path.append(index.value)
            else:
                break
        self.roots.add(first.value)
        return _name_fn(tuple(path))


# ---------------------------------------------------------------------------------------------
# Public API
# ---------------------------------------------------------------------------------------------


class Expression:
    """A compiled expression; immutable and safe to share between threads."""

    __slots__ = ("source", "_fn", "_roots")

    def __init__(self, source: str, fn: _Fn, roots: frozenset[str]) -> None:
        self.source = source
        self._fn = fn
        self._roots = roots

    def evaluate(self, variables: Mapping[str, Any], bare: Mapping[str, Any] | None = None) -> bool:
        """True if the expression matches. Names are looked up as ``variables[first][rest...]``
        when ``first`` is a key of ``variables``, else as ``bare[first][rest...]``."""
        return self._fn(variables, bare) is True

    def root_names(self) -> frozenset[str]:
        """The first segment of every name used, e.g. ``{"task", "worker"}``."""
        return self._roots

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"


@functools.lru_cache(maxsize=4096)
def compile_expression(text: str) -> Expression:
    """Parse ``text`` once; raises ExpressionError on bad syntax."""
    parser = _Parser(text)
    fn = parser.parse()
    return Expression(text, fn, frozenset(parser.roots))


def evaluate(
    text: str, variables: Mapping[str, Any], bare: Mapping[str, Any] | None = None
) -> bool:
    """Compile (cached) and evaluate in one call."""
    return compile_expression(text).evaluate(variables, bare)
