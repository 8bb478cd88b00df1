"""Table-driven tests for the TaskRouter expression language."""

import re

import pytest

from tutorial_helpers.local_twilio.taskrouter.expressions import (
    Expression,
    ExpressionError,
    compile_expression,
    evaluate,
)

TASK = {
    "selected_language": "es",
    "languages": ["en", "es"],
    "priority": 5,
    "ratio": 0.5,
    "vip": True,
    "note": "needs a callback",
    "tags": [{"name": "billing"}, {"name": "urgent"}],
    "meta": {"level": 3, "channel": {"type": "voice"}, "dash-key": "ok"},
    "empty": [],
    "nothing": None,
}
WORKER = {"languages": ["en", "es", "fr"], "skills": {"level": 4}, "name": "Alice"}
SCOPES = {"task": TASK, "worker": WORKER}


def check(text: str, expected: bool) -> None:
    assert evaluate(text, SCOPES, bare=TASK) is expected, text


# Quickstart expressions, over the exact attributes the tutorial uses.
@pytest.mark.parametrize(
    ("text", "bare", "expected"),
    [
        ('languages HAS "es"', {"languages": ["en", "es"]}, True),
        ('languages HAS "es"', {"languages": ["en"]}, False),
        ('selected_language == "es"', {"selected_language": "es"}, True),
        ('selected_language == "es"', {"selected_language": "en"}, False),
        ("1==1", {}, True),
    ],
)
def test_quickstart(text: str, bare: dict, expected: bool) -> None:
    assert evaluate(text, {}, bare=bare) is expected


@pytest.mark.parametrize(
    ("selected", "expected"), [("es", True), ("fr", True), ("de", False), (None, False)]
)
def test_quickstart_worker_task_match(selected: str | None, expected: bool) -> None:
    task = {"selected_language": selected}
    variables = {"task": task, "worker": {"languages": ["en", "es", "fr"]}}
    assert evaluate("worker.languages HAS task.selected_language", variables, task) is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # == and its alias =, != ; ints and floats are both numbers
        ("priority == 5", True), ("priority = 5", True), ("priority == 5.0", True),
        ("priority != 5", False), ("priority != 6", True), ('name == "Alice"', False),
        ("worker.name == 'Alice'", True), ("vip == true", True), ("vip == TRUE", True),
        ("vip != False", True), ("nothing == null", True), ("null == null", True),
        # ordering
        ("priority < 6", True), ("priority <= 5", True), ("priority > 5", False),
        ("priority >= 5", True), ("ratio < 1", True), ("ratio >= 0.5", True),
        ("priority > -1", True), ('"abc" < "abd"', True), ("-2.5 < -1", True),
        # CONTAINS is a substring test on strings
        ('note CONTAINS "call"', True), ('note contains "nope"', False),
        # HAS / >- ; IN / <- ; NOT IN
        ('languages HAS "en"', True), ('languages >- "fr"', False),
        ('selected_language IN ["es", "pt"]', True), ("selected_language <- ['fr']", False),
        ('selected_language NOT IN ["fr"]', True), ('selected_language not in ["es"]', False),
        ("priority IN [1, 5.0]", True), ("priority in []", False), ("nothing IN [null]", True),
        ("empty HAS 1", False), ("[] HAS null", False),
        # AND / && ; OR / || ; keywords in any case
        ("priority == 5 AND vip == true", True), ("priority == 5 && vip == false", False),
        ("priority == 1 OR vip == true", True), ("priority == 1 || vip == false", False),
        ('priority == 5 and languages has "es" Or false', True),
        # AND binds tighter than OR; parentheses override
        ("true OR true AND false", True), ("(true OR true) AND false", False),
        ("false AND false OR true", True), ("false AND (false OR true)", False),
        ("((priority == 5))", True), ("(priority == 5) == true", True),
        # a bare value is true only when it is boolean true
        ("true", True), ("True", True), ("false", False), ("vip", True), ("priority", False),
        ('"true"', False), ("missing", False), ("vip AND priority == 5", True),
    ],
)
def test_operators(text: str, expected: bool) -> None:
    check(text, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # prefixed names walk variables[first]; bare names walk the bare scope
        ("task.priority == 5", True), ("priority == 5", True), ("worker.skills.level == 4", True),
        ("task.meta.channel.type == 'voice'", True), ("meta.channel.type == 'voice'", True),
        # a prefix present in variables never falls back to the bare scope
        ("worker.priority == null", True), ("task.missing == null", True),
        # indexes, including chains after an index, strings and out-of-range
        ("task.languages[0] == 'en'", True), ("languages[1] == 'es'", True),
        ("tags[1].name == 'urgent'", True), ("task.tags[0].name == 'billing'", True),
        ("languages[2] == null", True), ("meta['dash-key'] == 'ok'", True),
        ("meta.channel[0] == null", True), ("priority.level == null", True),
        # a keyword after a dot is a property name
        ("task.in == null", True),
        # missing names are null, and null only equals null
        ("missing == null", True), ("missing.deep[3].x == null", True), ("missing != 'x'", True),
        ("missing < 1", False), ("missing CONTAINS 'a'", False), ("missing IN [1]", False),
        ("missing NOT IN [1]", True),
    ],
)
def test_name_resolution(text: str, expected: bool) -> None:
    check(text, expected)


def test_names_without_bare_scope_are_null() -> None:
    assert evaluate("priority == null", {"task": TASK}) is True
    assert evaluate("task.priority == 5", {"task": TASK}) is True


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # bool is not a number; numbers are not strings
        ("vip == 1", False), ("priority == '5'", False), ("true IN [1]", False),
        ("1 IN [true]", False), ("vip > 0", False), ("priority < '9'", False),
        # != across scalar kinds is true (null counts as a scalar)...
        ("vip != 1", True), ("priority != '5'", True), ("nothing != 0", True),
        # ...but any scalar operator with an array or object side is false, != included
        ("languages == ['en', 'es']", False), ("languages != ['en']", False),
        ("languages == 'en'", False), ("languages != 'en'", False), ("meta != 1", False),
        ("languages > 1", False), ("languages CONTAINS 'en'", False),
        ("priority CONTAINS 5", False),
        # array operators with a non-array on the array side are false, NOT IN included
        ("selected_language HAS 'e'", False), ("'es' IN selected_language", False),
        ("'x' NOT IN selected_language", False), ("priority NOT IN 5", False),
        ("languages HAS ['en']", False), ("languages IN [1]", False),
    ],
)
def test_type_mismatches(text: str, expected: bool) -> None:
    check(text, expected)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('"it\\"s" == \'it"s\'', True), ("'it\\'s' CONTAINS \"'\"", True),
        ("'a\\\\b' == \"a\\\\b\"", True), ("'' == \"\"", True), ("'AND' == \"AND\"", True),
    ],
)
def test_string_literals(text: str, expected: bool) -> None:
    check(text, expected)


@pytest.mark.parametrize(
    ("text", "problem", "position"),
    [
        ("", "empty", 0),
        ("   ", "empty", 3),
        ("languages HAS", "expected a value after HAS", 13),
        ("(priority == 5", "missing ')'", 0),
        ("priority == 5)", "unmatched ')'", 13),
        ("((a)", "missing ')'", 0),
        ("()", "expected a value", 1),
        ("name == 'Alice", "unterminated string", 8),
        ('"abc', "unterminated string", 0),
        ("a # b", "unexpected character '#'", 2),
        ("a & b", "unexpected character '&'", 2),
        ("first-name == 1", "unexpected character '-'", 5),
        ("a ==", "expected a value after ==", 4),
        ("a == 1 AND", "expected a value after AND", 10),
        ("a == 1 or", "expected a value after OR", 9),
        ("AND a", "expected a value", 0),
        ("a == AND", "expected a value after ==", 5),
        ("a NOT b", "expected IN after NOT", 6),
        ("a b", "expected an operator", 2),
        ("a == 1 2", "expected an operator", 7),
        ("a == b == c", "cannot be chained", 7),
        ("a.", "expected a property name", 2),
        ("a[", "index", 2),
        ("a[-1]", "index", 2),
        ("a[1.5]", "index", 2),
        ("a[0", "missing ']'", 1),
        ("x IN [1, 2", "missing ']'", 5),
        ("x IN [1 2]", "expected ',' or ']'", 8),
        ("x IN [y]", "expected a literal value", 6),
    ],
)
def test_syntax_errors(text: str, problem: str, position: int) -> None:
    with pytest.raises(ExpressionError) as info:
        compile_expression(text)
    message = str(info.value)
    assert message.startswith(f'Invalid expression "{text}": ')
    assert problem in message
    assert re.search(rf"\bat position {position}\b", message), message
    assert info.value.position == position
    assert isinstance(info.value, ValueError)


def test_compiled_expression_is_cached_and_reports_roots() -> None:
    expr = compile_expression("worker.languages HAS task.selected_language OR vip[0].x == 1")
    assert isinstance(expr, Expression)
    assert expr is compile_expression(expr.source)
    assert expr.root_names() == frozenset({"worker", "task", "vip"})
    assert compile_expression("1 == 1").root_names() == frozenset()
    assert expr.evaluate(SCOPES, TASK) is True
