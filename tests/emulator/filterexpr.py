"""EM query filter grammar: tokenizer, parser and the value quoting helper.

Grammar (``;`` = AND binds tighter than ``,`` = OR, as in most query
languages; EM's documentation does not say, see README "Assumptions")::

    expr       := and_expr ( "," and_expr )*
    and_expr   := term ( ";" term )*
    term       := "(" expr ")" | comparison
    comparison := FIELD OP VALUE
    OP         := "==" | "!=" | "<=" | ">=" | "<" | ">"
    VALUE      := '"' ( any char except '"' | '""' )* '"'
                | unquoted run of characters up to ";" "," ")" or the end;
                  spaces in it are ignored (EM docs) and '""' stands for '"'

The parser only builds a tree; :mod:`query` gives it meaning per query type.
"""

from __future__ import annotations

import re

OPERATORS = ('==', '!=', '<=', '>=', '<', '>')
_FIELD_RE = re.compile(r'[A-Za-z_][A-Za-z0-9_]*')
_TERMINATORS = ';,)'


class FilterError(ValueError):
    """A filter that cannot be parsed or evaluated; the message is user-facing."""


class Comparison:
    """One ``field op value`` leaf; ``quoted`` tells literal strings from bare words."""

    __slots__ = ('field', 'op', 'value', 'quoted')

    def __init__(self, field, op, value, quoted):
        self.field = field
        self.op = op
        self.value = value
        self.quoted = quoted

    def __repr__(self):
        return 'Comparison(%r, %r, %r, quoted=%r)' % (self.field, self.op, self.value, self.quoted)


class BoolOp:
    """An AND (``;``) or OR (``,``) node over two or more children."""

    __slots__ = ('kind', 'children')

    def __init__(self, kind, children):
        self.kind = kind
        self.children = children

    def __repr__(self):
        return 'BoolOp(%r, %r)' % (self.kind, self.children)


def quote_value(value):
    """Return ``value`` as an EM filter literal: wrapped in double quotes, inner quotes doubled."""
    return '"' + str(value).replace('"', '""') + '"'


def parse_filter(text):
    """Parse ``text`` into a tree of :class:`BoolOp` / :class:`Comparison`.

    Raises :class:`FilterError` (and nothing else) on any malformed input.
    """
    if not isinstance(text, str):
        raise FilterError('The filter must be a string.')
    parser = _Parser(text)
    if not text.strip():
        raise FilterError('The filter expression is empty.')
    node = parser.parse_or()
    parser.skip_spaces()
    if parser.pos < len(text):
        raise parser.error('Unexpected character %r' % text[parser.pos])
    return node


class _Parser:
    """Recursive-descent parser; nesting depth is bounded to keep recursion safe."""

    max_depth = 64

    def __init__(self, text):
        self.text = text
        self.pos = 0
        self.depth = 0

    def error(self, message):
        return FilterError('Invalid filter at position %d: %s.' % (self.pos + 1, message))

    def skip_spaces(self):
        text = self.text
        while self.pos < len(text) and text[self.pos].isspace():
            self.pos += 1

    def peek(self):
        self.skip_spaces()
        return self.text[self.pos] if self.pos < len(self.text) else ''

    def parse_or(self):
        children = [self.parse_and()]
        while self.peek() == ',':
            self.pos += 1
            children.append(self.parse_and())
        return children[0] if len(children) == 1 else BoolOp('or', children)

    def parse_and(self):
        children = [self.parse_term()]
        while self.peek() == ';':
            self.pos += 1
            children.append(self.parse_term())
        return children[0] if len(children) == 1 else BoolOp('and', children)

    def parse_term(self):
        char = self.peek()
        if char == '(':
            self.depth += 1
            if self.depth > self.max_depth:
                raise self.error('Parentheses are nested too deeply')
            self.pos += 1
            node = self.parse_or()
            if self.peek() != ')':
                raise self.error('Expected ")"')
            self.pos += 1
            self.depth -= 1
            return node
        if char == '':
            raise self.error('Expected a comparison but the filter ended')
        return self.parse_comparison()

    def parse_comparison(self):
        match = _FIELD_RE.match(self.text, self.pos)
        if not match:
            raise self.error('Expected a field name, found %r' % self.text[self.pos])
        field = match.group(0)
        self.pos = match.end()
        self.skip_spaces()
        for op in OPERATORS:
            if self.text.startswith(op, self.pos):
                self.pos += len(op)
                break
        else:
            found = self.text[self.pos:self.pos + 2] or 'the end of the filter'
            raise self.error('Expected a comparison operator (== != < <= > >=) after %r, found %r' % (field, found))
        value, quoted = self.parse_value()
        return Comparison(field, op, value, quoted)

    def parse_value(self):
        self.skip_spaces()
        text = self.text
        if text.startswith('"', self.pos) and not self._is_doubled_quote_word():
            return self._parse_quoted(), True
        start = self.pos
        while self.pos < len(text) and text[self.pos] not in _TERMINATORS:
            if text[self.pos] == '(':
                raise self.error('Unexpected "(" in a value; quote values that contain parentheses')
            self.pos += 1
        raw = text[start:self.pos]
        # EM ignores spaces in unquoted values; '""' is a literal quote (docs: Name==""Backup"").
        value = ''.join(raw.split())
        if '"' in value.replace('""', ''):
            raise self.error('Unbalanced quote in value %r' % raw.strip())
        return value.replace('""', '"'), False

    def _is_doubled_quote_word(self):
        """True for the docs' ``Name==""Backup""`` form: '""' directly followed by a word."""
        text = self.text
        if not text.startswith('""', self.pos):
            return False
        after = self.pos + 2
        return after < len(text) and text[after] not in _TERMINATORS + '"' and not text[after].isspace()

    def _parse_quoted(self):
        text = self.text
        self.pos += 1
        parts = []
        while True:
            end = text.find('"', self.pos)
            if end < 0:
                raise self.error('Unterminated quoted value')
            parts.append(text[self.pos:end])
            if text.startswith('""', end):
                parts.append('"')
                self.pos = end + 2
                continue
            self.pos = end + 1
            break
        char = self.peek()
        if char and char not in _TERMINATORS:
            raise self.error('Unexpected %r after a quoted value' % char)
        return ''.join(parts)
