# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Close names for an unknown one: the distance, the index's choice and the reason sentence."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import itertools
import random

import pytest

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import suggest
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.suggest import NameIndex, distance, max_distance


def reference(left, right):
    """The textbook full-table Levenshtein distance (the oracle)."""
    table = [[0] * (len(right) + 1) for _unused in range(len(left) + 1)]
    for i in range(len(left) + 1):
        table[i][0] = i
    for j in range(len(right) + 1):
        table[0][j] = j
    for i in range(1, len(left) + 1):
        for j in range(1, len(right) + 1):
            table[i][j] = min(table[i - 1][j] + 1, table[i][j - 1] + 1,
                              table[i - 1][j - 1] + (left[i - 1] != right[j - 1]))
    return table[-1][-1]


def brute_nearest(name, known, limit=3, bound=None):
    """The specification of NameIndex.nearest, by comparing with every name."""
    bound = max_distance(name) if bound is None else bound
    scored = sorted((reference(name.casefold(), k.casefold()), k.casefold(), k) for k in set(known) if k != name)
    scored = [s for s in scored if s[0] <= bound]
    if not scored:
        return []
    best = scored[0][0]
    return [(d, k) for d, _f, k in scored if d == best][:limit]


@pytest.mark.parametrize('left, right, expected', [
    ('', '', 0), ('', 'ab', 2), ('abc', '', 3), ('abc', 'abc', 0), ('kitten', 'sitting', 3), ('flaw', 'lawn', 2),
    ('sql-prod-1', 'sql-prod-01', 1), ('ab', 'ba', 2), ('a', 'abcde', 4),
])
def test_distance_is_levenshtein(left, right, expected):
    assert distance(left, right) == expected == reference(left, right)
    assert distance(right, left) == expected


@pytest.mark.parametrize('left, right, bound, expected', [
    ('sql-prod-1', 'sql-prod-01', 1, 1), ('abc', 'xyz', 2, None), ('abc', 'xyz', 3, 3), ('kitten', 'sitting', 2, None),
    ('a', 'abcde', 3, None), ('', 'ab', 2, 2), ('', 'ab', 1, None), ('same', 'same', 0, 0),
])
def test_distance_with_a_bound_stops_beyond_it(left, right, bound, expected):
    assert distance(left, right, bound) == expected


def test_distance_with_a_bound_agrees_with_the_oracle_on_random_strings():
    rng = random.Random(7)
    for _unused in range(2000):
        left = ''.join(rng.choice('abc') for _unused in range(rng.randint(0, 7)))
        right = ''.join(rng.choice('abc') for _unused in range(rng.randint(0, 7)))
        bound = rng.randint(0, 4)
        exact = reference(left, right)
        assert distance(left, right, bound) == (exact if exact <= bound else None), (left, right, bound)


@pytest.mark.parametrize('name, expected', [
    ('', 0), ('ab', 0), ('abc', 1), ('abcde', 1), ('abcdef', 2), ('sql-prod-1', 2), ('x' * 60, 2), ('STRASSE', 2),
])
def test_max_distance_is_a_third_of_the_length_at_most_two(name, expected):
    assert max_distance(name) == expected


def test_the_issue_example_is_suggested_whatever_the_case():
    index = NameIndex(['SQL-PROD-01', 'sql-prod-02', 'web01', 'exch-01'])
    assert index.nearest('sql-prod-1') == [(1, 'SQL-PROD-01')]
    assert index.suggest('SQL-PROD-1') == ['SQL-PROD-01']


def test_only_the_nearest_distance_is_suggested_at_most_three_alphabetically():
    index = NameIndex(['web-04', 'WEB-03', 'web-02', 'web-01', 'web-1', 'app-01'])
    # web-0 is at distance 1 from all five web names: the first three by folded name.
    assert index.nearest('web-0') == [(1, 'web-01'), (1, 'web-02'), (1, 'WEB-03')]
    # One name at distance 1: it alone, not padded with the ones at distance 2.
    assert index.nearest('web-1x') == [(1, 'web-1')]
    assert index.nearest('web-0', limit=1) == [(1, 'web-01')]
    assert index.nearest('web-0', limit=0) == []


def test_ties_are_ordered_by_folded_name_then_spelling_whatever_the_input_order():
    known = ['Host-b', 'host-B', 'host-a', 'HOST-C', 'host-d']
    expected = [(1, 'host-a'), (1, 'Host-b'), (1, 'host-B')]
    for order in itertools.permutations(known):
        assert NameIndex(order).nearest('host-') == expected


def test_unicode_names_are_compared_under_casefold():
    index = NameIndex(['Straße-01', 'MÜNCHEN-DC', 'Ωmega-01'])
    # Equal under casefold only (ß = ss): distance 0, suggested since EM may not fold so.
    assert index.nearest('STRASSE-01') == [(0, 'Straße-01')]
    assert index.nearest('münchen-dx') == [(1, 'MÜNCHEN-DC')]
    assert index.nearest('ωMEGA-1') == [(1, 'Ωmega-01')]


def test_the_name_itself_is_never_suggested_but_another_spelling_is():
    index = NameIndex(['web01', 'WEB01'])
    assert index.nearest('web01') == [(0, 'WEB01')]


def test_nothing_beyond_the_bound_and_nothing_from_an_empty_index():
    assert NameIndex([]).nearest('sql-prod-1') == []
    assert NameIndex(['zzzzzzzzzz']).nearest('sql-prod-1') == []
    assert NameIndex(['sql-prod-123']).nearest('sql-prod-1') == [(2, 'sql-prod-123')]  # distance 2: within
    index = NameIndex(['sql-prod-1234'])
    assert index.nearest('sql-prod-1') == []  # distance 3, beyond the bound of 2
    assert index.nearest('sql-prod-1', bound=3) == [(3, 'sql-prod-1234')]
    assert NameIndex(['ab']).nearest('ac') == []  # two characters: bound 0


def test_the_index_agrees_with_comparing_every_name():
    rng = random.Random(11)
    alphabet = 'abAB-1ß'
    for _unused in range(300):
        known = [''.join(rng.choice(alphabet) for _unused in range(rng.randint(1, 7))) for _unused in range(rng.randint(0, 30))]
        name = ''.join(rng.choice(alphabet) for _unused in range(rng.randint(1, 8)))
        bound = rng.randint(0, 3)
        limit = rng.randint(1, 4)
        assert NameIndex(known).nearest(name, limit, bound) == brute_nearest(name, known, limit, bound), (name, known)


def test_names_that_are_not_strings_or_empty_are_not_indexed():
    index = NameIndex(['web01', None, '', 42, 'web01'])
    assert index.size == 1


def test_the_row_budget_bounds_the_work_and_is_said():
    known = ['web-%03d' % i for i in range(1000)]
    index = NameIndex(known, budget=50)
    assert index.suggest('web-00x') is None
    assert index.rows == 50
    assert NameIndex(known).suggest('web-00x') == ['web-000', 'web-001', 'web-002']


def test_dense_estate_cost_is_counted_and_stays_far_below_comparing_every_pair():
    # 5,000 names like the emulator's (web-01 ... k8s-node-417); 5,000 unknown ones, each a typo away.
    prefixes = ('web', 'app', 'db', 'sql', 'fs', 'dc', 'exch', 'k8s-node', 'proxy', 'erp', 'crm', 'mon')
    known = ['%s-%02d' % (prefixes[i % 12], i // 12 + 1) for i in range(5000)]
    unknown = [name.upper() + 'z' for name in known]
    index = NameIndex(known, budget=10 ** 9)
    suggested = [index.suggest(name) for name in unknown]
    assert all(s and s[0] == k for s, k in zip(suggested, known))
    # Every pair compared would be 25,000,000 distance computations of about 8 rows each: the walk computes
    # about 200 rows a name (989,650 in all, the same on every run).
    assert index.rows < 5000 * 250


def test_the_reason_names_the_subject_and_the_suggestions():
    reason = suggest.unknown_reason
    assert reason('sql-prod-1', 'VM', ['SQL-PROD-01'], 5) == 'EM knows no VM named sql-prod-1 (did you mean SQL-PROD-01?)'
    assert reason('w', 'computer', ['a', 'b'], 5) == 'EM knows no computer named w (did you mean a or b?)'
    assert reason('w', 'VM or computer', ['a', 'b', 'c'], 5) == 'EM knows no VM or computer named w (did you mean a, b or c?)'
    assert reason('zz', 'VM', [], 1) == 'EM knows no VM named zz (no close name among the 1 known name read)'
    assert reason('zz', 'VM', [], 0) == 'EM knows no VM named zz (no close name among the 0 known names read)'
    assert reason('zz', 'VM', None, 9) == ('EM knows no VM named zz (no close names sought: the search reached its limit '
                                           'of {0} steps for this run)'.format(suggest.ROW_BUDGET))
