"""Properties over generated input: the parser only ever fails with ExpressionError, printing a tree parses
back to the same tree, and evaluation only ever fails with EvaluationError."""

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from mappings.expressions import (
    FUNCTIONS,
    Attribute,
    Call,
    Comparison,
    EvaluationError,
    ExpressionError,
    Missing,
    Number,
    String,
    VbConstant,
    check,
    evaluate,
    parse,
    unparse,
    validate,
)

EXPRESSION_ALPHABET = st.sampled_from(
    list('()[],"\\ &H=<>-0123456789abfAIMxz_\n\t.') + ["Mid", "IIF", "Replace", "vbTextCompare"]
)
names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,12}", fullmatch=True)
attribute_names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_.\-]{0,15}", fullmatch=True)

leaves = st.one_of(
    attribute_names.map(Attribute),
    st.text(max_size=20).map(String),
    st.integers(min_value=-(10**12), max_value=10**12).map(Number),
    st.integers(min_value=0, max_value=2**40).map(lambda v: Number(v, hex=True)),
    st.decimals(allow_nan=False, allow_infinity=False, places=3, min_value=-(10**6), max_value=10**6).map(Number),
    st.sampled_from(["vbBinaryCompare", "vbTextCompare"]).map(VbConstant),
)
comparisons = st.builds(Comparison, st.sampled_from(["=", "<>", ">", ">=", "<", "<="]), leaves, leaves)


def calls(children):
    slots = st.one_of(children, st.just(Missing()), comparisons)
    args = st.lists(slots, max_size=5).filter(lambda a: a != [Missing()]).map(tuple)
    return st.builds(Call, names, args)


trees = st.recursive(leaves, calls, max_leaves=25)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=300))
def test_parser_never_crashes_on_arbitrary_text(text):
    try:
        parse(text)
    except ExpressionError as exc:
        assert 0 <= exc.position <= len(text)


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EXPRESSION_ALPHABET, max_size=80).map("".join))
def test_parser_and_validator_never_crash_on_expression_like_text(text):
    try:
        validate(text)
    except ExpressionError as exc:
        assert 0 <= exc.position <= len(text)
        assert f"(column {exc.column})" in str(exc)


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(trees)
def test_printing_a_tree_parses_back_to_the_same_tree(tree):
    text = unparse(tree)
    assume(len(text) <= 10_000)
    assert parse(text) == tree
    assert unparse(parse(text)) == text


@settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EXPRESSION_ALPHABET, max_size=60).map("".join))
def test_reparsing_printed_text_is_stable(text):
    try:
        tree = parse(text)
    except ExpressionError:
        return
    assert parse(unparse(tree)) == tree


# Well-formed calls to real functions with arbitrary arguments: evaluation may fail, but only per user.
values = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["True", "False", "2024-01-15T10:30:00Z", "12", "-3", "a,b", "vbTextCompare", "d", "yyyy"]),
    st.lists(st.text(max_size=5), max_size=3),
    st.booleans(),
)
small_leaves = st.one_of(
    st.sampled_from(["a", "b", "c"]).map(Attribute),
    st.sampled_from(["", "x", "True", "5", "yyyy-MM-dd", "(?<g>\\w)", "${g}", "m", "2024-01-15"]).map(String),
    st.integers(min_value=-3, max_value=300).map(Number),
)


def real_calls(children):
    def build(draw_name):
        spec = FUNCTIONS[draw_name]
        high = spec.max_args if spec.max_args is not None else spec.min_args + 3
        return st.lists(st.one_of(children, st.just(Missing())), min_size=spec.min_args, max_size=high).map(
            lambda args: Call(draw_name, tuple(args))
        )

    return st.sampled_from(sorted(FUNCTIONS)).flatmap(build)


real_trees = st.recursive(small_leaves, real_calls, max_leaves=8)


@settings(max_examples=600, suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
@given(real_trees, st.fixed_dictionaries({"a": values, "b": values, "c": values}))
def test_evaluation_only_fails_with_evaluation_error(tree, user):
    try:
        check(tree, ["a", "b", "c"])
    except ExpressionError:
        return
    try:
        result = evaluate(tree, user)
    except EvaluationError as exc:
        assert str(exc)
        return
    assert result is None or isinstance(result, str | list) or repr(result) == "IGNORE_FLOW"
