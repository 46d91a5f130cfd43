"""The J1QL subset the emulator serves: a tokenizer, a parser and an evaluator."""

from j1gitops.emulator.j1ql.evaluate import EntityHint, Evaluator, QueryResult
from j1gitops.emulator.j1ql.lexer import J1QLSyntaxError
from j1gitops.emulator.j1ql.parser import parse

__all__ = ["EntityHint", "Evaluator", "J1QLSyntaxError", "QueryResult", "parse"]
