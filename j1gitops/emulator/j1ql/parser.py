"""A recursive-descent parser for the J1QL subset the emulator serves.

Supported, following J1's language reference::

    FIND [UNIQUE] <target> [WITH <filters>] [AS <alias>]
      (THAT [!]<VERB>[|<VERB>...] [>>|<<] [AS <alias>] <target> [WITH ...] [AS ...])*
    [WHERE <predicate>] [RETURN TREE | RETURN <selector>[.<prop>|.*] [AS <name>], ...]
    [ORDER BY <selector>.<prop> [ASC|DESC], ...] [SKIP n] [LIMIT n]

A target is ``*``, a word or ``(A|b)``; a TitleCase word is a ``_class`` and any
other word a ``_type``. Filters use ``AND``/``OR``, parentheses, the operators
``= != > < >= <= ~= ^= $= !~= !^= !$=``, strings, numbers, booleans,
``undefined``, ``/regex/flags``, ``date.now [+-] N unit``, ``date(ISO)``,
``${variable}`` and ``('a' OR 'b')``. Optional traversals, aggregates and
full-text search are rejected with a message naming the missing form.
"""

from __future__ import annotations

from datetime import datetime, timezone

from j1gitops.emulator.j1ql.ast import (
    BooleanExpression,
    Comparison,
    DateNow,
    FieldRef,
    Literal,
    Query,
    Regex,
    ReturnItem,
    Step,
    Traversal,
    ValueSet,
    Variable,
)
from j1gitops.emulator.j1ql.lexer import J1QLSyntaxError, Token, tokenize

COMPARISON_OPERATORS = (
    "=",
    "!=",
    ">",
    "<",
    ">=",
    "<=",
    "~=",
    "^=",
    "$=",
    "!~=",
    "!^=",
    "!$=",
)
# Words that end a WITH block or a step; J1 reserves them as aliases too.
CLAUSE_WORDS = {"THAT", "WHERE", "RETURN", "ORDER", "SKIP", "LIMIT", "AS", "WITH"}
AGGREGATES = {"COUNT", "SUM", "AVG", "MIN", "MAX"}
_UNIT_MS = {
    "hour": 3_600_000, "hr": 3_600_000, "hours": 3_600_000, "hrs": 3_600_000,
    "day": 86_400_000, "days": 86_400_000,
    "month": 2_592_000_000, "mo": 2_592_000_000, "months": 2_592_000_000,
    "mos": 2_592_000_000,
    "year": 31_536_000_000, "yr": 31_536_000_000, "years": 31_536_000_000,
    "yrs": 31_536_000_000,
}  # fmt: skip


def parse(text: str) -> Query:
    """Parse J1QL text; raise ``J1QLSyntaxError`` with the position on failure."""
    return _Parser(tokenize(text)).query()


class _Parser:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.index = 0

    # Token helpers

    @property
    def current(self) -> Token:
        return self.tokens[self.index]

    def advance(self) -> Token:
        token = self.tokens[self.index]
        self.index += 1
        return token

    def at_word(self, *words: str) -> bool:
        token = self.current
        return token.kind == "name" and token.value.upper() in words

    def at_op(self, *operators: str) -> bool:
        return self.current.kind == "op" and self.current.value in operators

    def take_word(self, *words: str) -> bool:
        if self.at_word(*words):
            self.advance()
            return True
        return False

    def take_op(self, *operators: str) -> bool:
        if self.at_op(*operators):
            self.advance()
            return True
        return False

    def expect_word(self, word: str) -> None:
        if not self.take_word(word):
            self.fail(f"expected {word}")

    def expect_op(self, operator: str) -> None:
        if not self.take_op(operator):
            self.fail(f"expected {operator!r}")

    def fail(self, message: str):
        token = self.current
        found = "the end of the query" if token.kind == "eof" else repr(token.value)
        raise J1QLSyntaxError(f"{message}, found {found}", token.position)

    # Clauses

    def query(self) -> Query:
        if self.current.kind == "string":
            self.fail("full-text search is not supported by the emulator")
        self.expect_word("FIND")
        unique = self.take_word("UNIQUE")
        query = Query(start=self.step(), unique=unique)
        while self.take_word("THAT"):
            query.traversals.append(self.traversal())
        if self.at_op("("):
            self.fail("optional traversals ( ... )? are not supported by the emulator")
        if self.take_word("WHERE"):
            query.where = self.expression(selectors=True)
        if self.take_word("RETURN"):
            self.returns(query)
        if self.take_word("ORDER"):
            self.expect_word("BY")
            query.order_by = self.order_by()
        if self.take_word("SKIP"):
            query.skip = self.integer("SKIP")
        if self.take_word("LIMIT"):
            query.limit = self.integer("LIMIT")
        if self.current.kind != "eof":
            self.fail("expected the end of the query")
        return query

    def step(self) -> Step:
        step = Step()
        for name in self.target_names():
            (step.classes if name[:1].isupper() else step.types).append(name)
        if self.take_word("WITH"):
            step.filters = self.expression(selectors=False)
        if self.take_word("AS"):
            step.alias = self.alias()
        return step

    def target_names(self) -> list[str]:
        if self.take_op("*"):
            return []
        if self.take_op("("):
            names = [self.target_name()]
            while self.take_op("|"):
                names.append(self.target_name())
            self.expect_op(")")
            return names
        return [self.target_name()]

    def target_name(self) -> str:
        token = self.current
        if token.kind != "name" or token.value.upper() in CLAUSE_WORDS:
            self.fail("expected an entity class, type or *")
        if token.value.startswith("#"):
            self.fail("smart classes are not supported by the emulator")
        return self.advance().value

    def alias(self) -> str:
        token = self.current
        if token.kind != "name" or "." in token.value:
            self.fail("expected an alias")
        return self.advance().value

    def traversal(self) -> Traversal:
        negated = self.take_op("!")
        verbs = self.verbs()
        direction = "both"
        if self.take_op(">>"):
            direction = "out"
        elif self.take_op("<<"):
            direction = "in"
        alias = self.alias() if self.take_word("AS") else None
        return Traversal(self.step(), verbs, negated, direction, alias)

    def verbs(self) -> list[str]:
        grouped = self.take_op("(")
        verbs = [self.verb()]
        while self.take_op("|"):
            verbs.append(self.verb())
        if grouped:
            self.expect_op(")")
        # RELATES TO matches a relationship of any class.
        return [] if "RELATES" in verbs else verbs

    def verb(self) -> str:
        token = self.current
        if token.kind != "name":
            self.fail("expected a relationship verb")
        verb = self.advance().value.upper()
        # "TO" after a verb is filler (CONTRIBUTES TO = CONTRIBUTES).
        self.take_word("TO")
        return verb

    def returns(self, query: Query) -> None:
        if self.take_word("TREE"):
            query.tree = True
            return
        items = [self.return_item()]
        while self.take_op(","):
            items.append(self.return_item())
        query.returns = items

    def return_item(self) -> ReturnItem:
        token = self.current
        if token.kind != "name":
            self.fail("expected a selector to return")
        if (
            token.value.upper() in AGGREGATES
            and self.tokens[self.index + 1].value == "("
        ):
            self.fail("aggregate functions are not supported by the emulator")
        self.advance()
        alias, _, prop = token.value.partition(".")
        if not prop and self.take_op("."):
            self.expect_op("*")
            prop = "*"
        name = self.alias() if self.take_word("AS") else None
        return ReturnItem(alias, prop or None, name)

    def order_by(self) -> list[tuple[FieldRef, bool]]:
        order = []
        while True:
            ref = self.field(selectors=True)
            descending = self.take_word("DESC")
            if not descending:
                self.take_word("ASC")
            order.append((ref, descending))
            if not self.take_op(","):
                return order

    def integer(self, clause: str) -> int:
        token = self.current
        if token.kind != "number" or not token.value.isdigit():
            self.fail(f"expected a whole number after {clause}")
        return int(self.advance().value)

    # Filters

    def expression(self, selectors: bool):
        operands = [self.conjunction(selectors)]
        while self.take_word("OR"):
            operands.append(self.conjunction(selectors))
        return (
            operands[0]
            if len(operands) == 1
            else BooleanExpression("OR", tuple(operands))
        )

    def conjunction(self, selectors: bool):
        operands = [self.comparison(selectors)]
        while self.take_word("AND"):
            operands.append(self.comparison(selectors))
        return (
            operands[0]
            if len(operands) == 1
            else BooleanExpression("AND", tuple(operands))
        )

    def comparison(self, selectors: bool):
        if self.take_op("("):
            inner = self.expression(selectors)
            self.expect_op(")")
            return inner
        ref = self.field(selectors)
        if not self.at_op(*COMPARISON_OPERATORS):
            self.fail("expected a comparison operator")
        operator = self.advance().value
        return Comparison(ref, operator, self.value(selectors))

    def field(self, selectors: bool) -> FieldRef:
        token = self.current
        if token.kind not in ("name", "field"):
            self.fail("expected a property name")
        self.advance()
        if not selectors or token.kind == "field":
            return FieldRef(token.value)
        alias, _, name = token.value.partition(".")
        if not name:
            self.fail("expected alias.property in WHERE and ORDER BY")
        return FieldRef(name, alias)

    def value(self, selectors: bool):
        if self.take_op("("):
            return self.value_set()
        token = self.advance()
        if token.kind == "string":
            return Literal(token.value)
        if token.kind == "variable":
            return Variable(token.value)
        if token.kind == "regex":
            pattern, _, flags = token.value.rpartition("/")
            return Regex(pattern, flags)
        if token.kind == "date":
            return Literal(_parse_date(token))
        if token.kind == "number" or (token.kind == "op" and token.value == "-"):
            return Literal(self.number(token))
        if token.kind == "name":
            return self.word_value(token, selectors)
        self.index -= 1
        self.fail("expected a value")

    def number(self, token: Token):
        if token.kind == "op":
            token = self.advance()
            if token.kind != "number":
                self.index -= 1
                self.fail("expected a number after '-'")
            return -_to_number(token.value)
        return _to_number(token.value)

    def word_value(self, token: Token, selectors: bool):
        word = token.value.lower()
        if word in ("true", "false"):
            return Literal(word == "true")
        if word in ("undefined", "null"):
            return Literal(None)
        if word == "date.now":
            return self.date_now()
        if selectors and "." in token.value:
            alias, _, name = token.value.partition(".")
            return FieldRef(name, alias)
        self.index -= 1
        self.fail("expected a value (quote strings)")

    def date_now(self) -> DateNow:
        if not self.at_op("+", "-"):
            return DateNow()
        sign = -1 if self.advance().value == "-" else 1
        amount = self.current
        if amount.kind != "number":
            self.fail("expected a number after date.now")
        self.advance()
        unit = self.current
        if unit.kind != "name" or unit.value.lower() not in _UNIT_MS:
            self.fail("expected a time unit (hours, days, months, years)")
        self.advance()
        return DateNow(sign * int(float(amount.value) * _UNIT_MS[unit.value.lower()]))

    def value_set(self) -> ValueSet:
        values = [self.value(selectors=False)]
        joiner = None
        while self.at_word("OR", "AND"):
            word = self.advance().value.upper()
            if joiner not in (None, word):
                self.fail("a value list mixes AND and OR")
            joiner = word
            values.append(self.value(selectors=False))
        self.expect_op(")")
        return ValueSet(tuple(values), any_of=joiner != "AND")


def _to_number(text: str) -> int | float:
    number = float(text)
    return int(number) if number.is_integer() and "." not in text else number


def _parse_date(token: Token) -> int:
    try:
        moment = datetime.fromisoformat(token.value)
    except ValueError as exc:
        raise J1QLSyntaxError(f"invalid date {token.value!r}", token.position) from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return int(moment.timestamp() * 1000)
