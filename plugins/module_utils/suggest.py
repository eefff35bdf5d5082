# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Close names for a name EM does not know: "did you mean SQL-PROD-01?".

Pure code (no EM, no Ansible): an edit distance, an index of the names EM
knows, and the ``unknown_vm`` reason sentence. The gate's run (``gate``) reads
the names; this module only compares them.

Names are compared case-insensitively under ``str.casefold()`` (as the gate
groups names, see ``verdict.fold``) with the Levenshtein distance (one
insertion, deletion or substitution of a character costs 1). A name is
suggested when its distance is at most ``max_distance(name)``: a third of the
name's length, at most ``MAX_DISTANCE`` (2); a name of under three characters
gets no suggestion but a spelling that differs from it only under Unicode case
folding (``STRASSE`` and ``Straße``).

Cost. ``NameIndex`` keeps the known names in a trie of their folded
spellings; ``nearest`` walks it depth first in code point order, carrying one
row of the Levenshtein table per node, and leaves a subtree as soon as the
row's minimum or the subtree's name lengths put every name in it beyond the
bound. Once ``limit`` names are found the bound shrinks to one less than the
worst of them: a name met later sorts after every name met before, so it can
only win by being strictly closer. The work is counted in ``rows`` (one row a
node visited), which the tests and bench/ measure instead of time.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

MAX_SUGGESTIONS = 3
MAX_DISTANCE = 2
# Trie rows one gate run may compute for all its unknown names together (about 1.6 microseconds
# each): a few thousand names in a dense estate (web-01 ... web-417), after which a name is told
# without suggestions. See bench/suggest_cost.py.
ROW_BUDGET = 500000


def max_distance(name):
    """The largest edit distance at which a known name is suggested for ``name``: a third of its
    folded length, at most ``MAX_DISTANCE``."""
    return min(MAX_DISTANCE, len(name.casefold()) // 3)


def distance(left, right, bound=None):
    """The Levenshtein distance of two strings as given (fold them first to ignore case).

    With ``bound``, None as soon as the distance is known to exceed it (a
    banded computation that stops early); without, the exact distance.
    """
    if len(left) < len(right):
        left, right = right, left
    if bound is not None and len(left) - len(right) > bound:
        return None
    previous = list(range(len(right) + 1))
    for i, char in enumerate(left, 1):
        current = [i]
        for j, other in enumerate(right, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        if bound is not None and min(current) > bound:
            return None
        previous = current
    if bound is not None and previous[-1] > bound:
        return None
    return previous[-1]


class _Node(object):
    __slots__ = ('children', 'names', 'shortest', 'longest')

    def __init__(self, length):
        self.children = {}
        self.names = None  # the known spellings whose folded name ends here
        self.shortest = length
        self.longest = length


class NameIndex(object):
    """The names EM knows, indexed for ``nearest`` (built once, queried for each unknown name)."""

    def __init__(self, names, budget=ROW_BUDGET):
        self.root = _Node(0)
        self.size = 0
        self.rows = 0
        self.budget = budget
        for name in set(name for name in names if isinstance(name, str) and name):
            self._insert(name)
        self._order(self.root)

    def _insert(self, name):
        folded = name.casefold()
        length = len(folded)
        node = self.root
        node.shortest, node.longest = min(node.shortest, length), max(node.longest, length)
        for char in folded:
            child = node.children.get(char)
            if child is None:
                child = node.children[char] = _Node(length)
            child.shortest, child.longest = min(child.shortest, length), max(child.longest, length)
            node = child
        if node.names is None:
            node.names = []
        node.names.append(name)
        self.size += 1

    def _order(self, root):
        """Children as a list in code point order (the walk's order), spellings sorted."""
        stack = [root]
        while stack:
            node = stack.pop()
            if node.names:
                node.names.sort()
            node.children = sorted(node.children.items())
            stack.extend(child for _char, child in node.children)

    def nearest(self, name, limit=MAX_SUGGESTIONS, bound=None):
        """Up to ``limit`` known names at the smallest distance from ``name`` that any has: ``[(distance, spelling)]``,
        or None when the index's row budget ran out before the search ended.

        Only the nearest count: one name at distance 1 is suggested alone,
        not padded with names at distance 2. At equal distance the names come
        by folded name, then spelling, both in code point order (the same
        whatever order the names came in). ``bound`` (the largest distance
        looked at) defaults to ``max_distance(name)``; ``name`` itself (the
        exact spelling) is never suggested.
        """
        target = name.casefold()
        bound = max_distance(name) if bound is None else bound
        if limit < 1 or not self.size:
            return []
        for within in range(bound + 1):
            found = self._walk(name, target, within, limit)
            if found is None:
                return None
            if found:
                return [(within, spelling) for spelling in found]
        return []

    def _walk(self, name, target, bound, limit):
        """The first ``limit`` spellings (in the walk's order) within ``bound`` of ``target`` (the caller has
        found none closer, so each lies at exactly ``bound``); None when the row budget ran out."""
        width = len(target)
        found = []
        # Depth first, children pushed in reverse so that they are visited in code point order.
        stack = [(self.root, list(range(width + 1)), 0)]
        beyond = bound + 1
        while stack:
            node, row, depth = stack.pop()
            if node.names and row[width] <= bound:
                found.extend(spelling for spelling in node.names if spelling != name)
                if len(found) >= limit:
                    return found[:limit]
            for char, child in reversed(node.children):
                if child.shortest - width > bound or width - child.longest > bound:
                    continue
                if self.rows >= self.budget:
                    return None
                self.rows += 1
                # Only the band |j - depth - 1| <= bound can hold a value within bound; the rest stays beyond it
                # (a value computed from one beyond the bound is beyond it too).
                first, last = max(1, depth + 1 - bound), min(width, depth + 1 + bound)
                current = [beyond] * (width + 1)
                if depth + 1 <= bound:
                    current[0] = depth + 1
                best = current[0]
                for j in range(first, last + 1):
                    value = min(row[j] + 1, current[j - 1] + 1, row[j - 1] + (target[j - 1] != char))
                    current[j] = value
                    if value < best:
                        best = value
                if best <= bound:
                    stack.append((child, current, depth + 1))
        return found

    def suggest(self, name, limit=MAX_SUGGESTIONS):
        """The spellings of ``nearest``, without their distances (None when the budget ran out)."""
        found = self.nearest(name, limit)
        return None if found is None else [spelling for _distance, spelling in found]


def unknown_reason(name, subject, suggestions, known_count):
    """The ``unknown_vm`` reason: ``EM knows no VM named sql-prod-1 (did you mean SQL-PROD-01?)``.

    ``subject`` names what was looked for (``VM``, ``computer``, ``VM or
    computer``); ``suggestions`` are from ``NameIndex.suggest`` (None: not
    sought, the row budget ran out); ``known_count`` is how many names they
    were sought among, said when none was close.
    """
    if suggestions is None:
        return 'EM knows no {0} named {1} (no close names sought: the search reached its limit of {2} steps for ' \
               'this run)'.format(subject, name, ROW_BUDGET)
    if suggestions:
        if len(suggestions) == 1:
            shown = suggestions[0]
        else:
            shown = '{0} or {1}'.format(', '.join(suggestions[:-1]), suggestions[-1])
        return 'EM knows no {0} named {1} (did you mean {2}?)'.format(subject, name, shown)
    return 'EM knows no {0} named {1} (no close name among the {2} known name{3} read)'.format(
        subject, name, known_count, '' if known_count == 1 else 's')
