# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright (c) 2026, vbem.enterprise_manager contributors
"""Every message the troubleshooting guide quotes must still be one the code can say.

Usage: python docs/check_messages.py   (from the collection root)

The guide's entries are definition terms made of ``quoted`` messages in which
``...`` (and a lone N) stand for what varies. The code builds its sentences
from format strings ('{0} {1} failed: {2}' around 'TLS certificate
verification failed ({0})'), so each piece of a quoted message must be
covered, at least 70 % of it, by runs of eight or more characters that occur
between the format fields of the strings in plugins/ (documentation and
docstrings left out); what is left over are
the values the fields take (an option name, a status code). The few texts
that come from elsewhere (Ansible, the operating system) are exempt.
"""

import ast
import os
import re
import sys

GUIDE = 'docs/docsite/rst/troubleshooting.rst'
# Texts the collection passes on but does not write.
FROM_ELSEWHERE = (
    'Failed to import the required Python library (requests)',  # ansible's missing_required_lib
    'Connection refused.',  # the operating system, through urllib3
)
MIN_PIECE = 12
MIN_RUN = 8
COVERED = 0.7
FIELD = re.compile(r'\{[^{}]*\}|%[sdr]')


def code_strings(root):
    """Every string constant of the Python files under root, with format fields blanked."""
    texts = []
    for folder, _dirs, names in os.walk(root):
        for name in names:
            if name.endswith('.py'):
                with open(os.path.join(folder, name), encoding='utf-8') as handle:
                    tree = ast.parse(handle.read())
                prose = set()
                for node in ast.walk(tree):
                    # DOCUMENTATION, EXAMPLES, RETURN and docstrings describe; they say nothing to a user.
                    if isinstance(node, ast.Assign) and any(getattr(target, 'id', None) in ('DOCUMENTATION', 'EXAMPLES', 'RETURN')
                                                            for target in node.targets):
                        prose.add(id(node.value))
                    elif isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant):
                        prose.add(id(node.value))
                for node in ast.walk(tree):
                    if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in prose:
                        texts.append(FIELD.sub('\n', node.value))
    return '\n'.join(texts)


def covered(piece, code):
    """The share of piece made of runs of MIN_RUN or more characters found in code."""
    position = matched = 0
    while position < len(piece):
        end = position
        while end < len(piece) and piece[position:end + 1] in code:
            end += 1
        if end - position >= MIN_RUN:
            matched += end - position
            position = end
        else:
            # A value a format field took: skip it, one word.
            word = re.match(r'\S+\s?', piece[position:])
            position += len(word.group(0)) if word else 1
    return matched / float(len(piece))


def quoted_messages(path):
    """The ``...`` texts of the guide's definition terms (lines that start a term)."""
    messages = []
    with open(path, encoding='utf-8') as handle:
        for line in handle:
            if line.startswith('``'):
                messages.extend(re.findall(r'``(.+?)``', line))
    return messages


def main():
    code = code_strings('plugins')
    missing = []
    messages = quoted_messages(GUIDE)
    for message in messages:
        if any(message.startswith(text) or text in message for text in FROM_ELSEWHERE):
            continue
        for piece in re.split(r'\.\.\.|\bN\b|\b1000\b', message):
            piece = piece.strip(' .')
            # A piece without a space is a value (a URL path, a header), not the code's words.
            if len(piece) < MIN_PIECE or ' ' not in piece:
                continue
            share = covered(piece, code)
            if share < COVERED:
                missing.append('%r (from %r, %d %% found)' % (piece, message, 100 * share))
    for item in missing:
        print('%s quotes a message the code no longer has: %s' % (GUIDE, item), file=sys.stderr)
    print('troubleshooting guide: %d quoted messages checked against plugins/' % len(messages))
    return 1 if missing else 0


if __name__ == '__main__':
    sys.exit(main())
