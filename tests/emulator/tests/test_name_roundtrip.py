"""Any VM or job name round-trips through the collection's filter builder and the emulator's parser.

Property tests: a name (unicode, spaces, quotes, the grammar's own ``;,"()=<>&``)
given as a string or in a list goes through ``validate.names``, the
collection's filter builder and URL encoder (``plugins/module_utils``), the
emulator's query-string decoding and filter parser, and must come out as
exactly the names given, selecting exactly the rows of those names
(case-insensitively, as EM compares). A raw filter the collection accepts
can never escape the parentheses it is wrapped in.
"""

from __future__ import annotations

import os
import sys
import types
from urllib.parse import parse_qsl, urlsplit

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from emulator.filterexpr import BoolOp, Comparison, FilterError, parse_filter
from emulator.query import compile_filter

pytest.importorskip('ansible')

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))


def _collection_modules():
    """Import the collection's module_utils from this checkout, whatever the checkout's folder is called."""
    # The checkout is the collection root; give Python the ansible_collections.vbem.enterprise_manager
    # package path it would have when installed, unless a real one is importable already.
    try:
        from ansible_collections.vbem.enterprise_manager.plugins.module_utils import info, query, sessions, validate
    except ImportError:
        for name, path in (('ansible_collections', []), ('ansible_collections.vbem', []),
                           ('ansible_collections.vbem.enterprise_manager', [REPO])):
            if name not in sys.modules:
                package = types.ModuleType(name)
                package.__path__ = path
                sys.modules[name] = package
        from ansible_collections.vbem.enterprise_manager.plugins.module_utils import info, query, sessions, validate
    return info, query, sessions, validate


info, em_query, em_sessions, validate = _collection_modules()

BASE_URL = 'https://em.example.com:9398/api'
GRAMMAR = ';,"()=<>&!\' \t'
# Any unicode scalar (surrogates cannot be UTF-8 encoded), with the grammar's characters made frequent.
CHARACTERS = st.one_of(st.sampled_from(GRAMMAR), st.characters(blacklist_categories=('Cs',)))
NAMES = st.text(alphabet=CHARACTERS, min_size=1, max_size=30)
SETTINGS = settings(max_examples=200, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def over_the_wire(filter_text, query_type='BackupTaskSession'):
    """The filter as the emulator receives it: built into the collection's URL, decoded as the server decodes it."""
    url = em_query.query_url(BASE_URL, query_type, filter_text, 'CreationTime', True, 100, 1)
    params = dict((name.lower(), value) for name, value in parse_qsl(urlsplit(url).query, keep_blank_values=True))
    assert params['type'] == query_type
    return params['filter']


def comparisons(node):
    """The OR group of one option as a list of comparisons (one comparison stands alone)."""
    if isinstance(node, Comparison):
        return [node]
    assert isinstance(node, BoolOp) and node.kind == 'or', node
    assert all(isinstance(child, Comparison) for child in node.children), node
    return node.children


def decoys(name):
    """Rows whose names are near misses of ``name``, and case variants that must match."""
    near = {name + ' ', ' ' + name, name + '"', '"' + name, name + name, 'x' + name, name + ',x', name + ';x', '(' + name + ')'}
    if len(name) > 1:
        near.update((name[:-1], name[1:]))
    cases = {name.upper(), name.lower(), name.swapcase(), name.casefold()}
    return sorted(near | cases)


def check_selection(filter_text, field_key, names, query_type='BackupTaskSession'):
    """The emulator's evaluator selects exactly the rows whose name equals one of ``names`` (case-insensitively)."""
    pool = set()
    for name in names:
        pool.update(decoys(name))
        pool.add(name)
    rows = [{field_key: value} for value in sorted(pool)]
    predicate = compile_filter(filter_text, query_type)
    wanted = set(name.casefold() for name in names)
    selected = [row[field_key] for row in rows if predicate(row)]
    assert selected == [row[field_key] for row in rows if row[field_key].casefold() in wanted]
    assert set(names) <= set(selected)


@SETTINGS
@given(NAMES)
def test_a_vm_name_given_as_a_string_round_trips_as_one_name(name):
    params = validate.session_params('backup_task', {'vm_name': name})
    assert params['vm_name'] == [name]
    filter_text, local = session_filter(em_sessions.KINDS['backup_task'], params)
    assert local == {}
    received = over_the_wire(filter_text)
    assert received == filter_text
    (leaf,) = comparisons(parse_filter(received))
    assert (leaf.field, leaf.op, leaf.value, leaf.quoted) == ('VmDisplayName', '==', name, True)
    check_selection(received, 'vm_name', [name])


@SETTINGS
@given(st.lists(NAMES, min_size=1, max_size=6, unique=True))
def test_vm_names_given_as_a_list_round_trip_in_order(names):
    params = validate.session_params('replica_task', {'vm_name': list(names)})
    filter_text, _local = session_filter(em_sessions.KINDS['replica_task'], params)
    received = over_the_wire(filter_text, 'ReplicaTaskSession')
    leaves = comparisons(parse_filter(received))
    assert [(leaf.field, leaf.value, leaf.quoted) for leaf in leaves] == [('VmDisplayName', name, True) for name in names]
    check_selection(received, 'vm_name', names, 'ReplicaTaskSession')


@SETTINGS
@given(st.one_of(NAMES, st.lists(NAMES, min_size=1, max_size=4, unique=True)), st.sampled_from(['backup_task', 'backup_job', 'replica_job']))
def test_job_names_round_trip_for_task_and_job_sessions(value, kind_name):
    names = [value] if isinstance(value, str) else value
    kind = em_sessions.KINDS[kind_name]
    params = validate.session_params(kind, {'job_name': value})
    assert params['job_name'] == names
    filter_text, _local = session_filter(kind, params)
    received = over_the_wire(filter_text, kind.query_type)
    leaves = comparisons(parse_filter(received))
    assert [(leaf.field, leaf.value) for leaf in leaves] == [('JobName', name) for name in names]
    check_selection(received, 'job_name', names, kind.query_type)


@SETTINGS
@given(NAMES, NAMES, st.sampled_from(['Failed', 'Success']))
def test_names_stay_inside_their_condition_next_to_other_options(vm, job, result):
    params = validate.session_params('backup_task', {'vm_name': vm, 'job_name': [job], 'result': result, 'filter': 'TotalSize>0'})
    filter_text, _local = session_filter(em_sessions.KINDS['backup_task'], params)
    tree = parse_filter(over_the_wire(filter_text))
    assert isinstance(tree, BoolOp) and tree.kind == 'and' and len(tree.children) == 4
    assert [(c.field, c.value) for c in tree.children] == [('VmDisplayName', vm), ('JobName', job), ('Result', result), ('TotalSize', '0')]


class _UrlOnly(object):
    """What split_session_filters needs of a client: its base URL (it never talks to EM)."""

    base_url = BASE_URL


def session_filter(kind, params):
    """``(filter, local filters)`` as the gate and the modules build them: ``split_session_filters``'s whole filter."""
    _filters, logical, local = info.split_session_filters(_UrlOnly(), kind, params)
    return logical, local


@settings(max_examples=100, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(NAMES, min_size=2, max_size=25, unique=True))
def test_a_long_name_list_split_to_fit_the_url_still_selects_exactly_those_names(names):
    params = validate.session_params('backup_task', {'vm_name': names, 'max_url_length': 600})
    try:
        filters, logical, _local = info.split_session_filters(_UrlOnly(), em_sessions.KINDS['backup_task'], params)
    except info.EmError:
        return  # one name alone longer than the URL allows: refused with a sentence, nothing to select
    carried = []
    for filter_text in filters:
        assert len(em_query.query_url(BASE_URL, 'BackupTaskSession', filter_text, 'CreationTime', True, 100, 10 ** 6)) <= 600
        carried.extend(leaf.value for leaf in comparisons(parse_filter(over_the_wire(filter_text))))
    assert carried == names
    check_selection(over_the_wire(logical), 'vm_name', names)


def test_every_vm_and_job_of_the_emulator_data_round_trips(dataset):
    """The data set's own names (special ones included) select exactly their sessions, in the emulator's engine."""
    rows = dataset.rows['BackupTaskSession']
    kind = em_sessions.KINDS['backup_task']
    for field_key, option in (('vm_name', 'vm_name'), ('job_name', 'job_name')):
        for name in sorted(set(row[field_key] for row in rows)):
            filter_text, _local = session_filter(kind, validate.session_params(kind, {option: name.swapcase()}))
            predicate = compile_filter(over_the_wire(filter_text), 'BackupTaskSession')
            selected = [row for row in rows if predicate(row)]
            assert selected and selected == [row for row in rows if row[field_key].casefold() == name.casefold()], name


# -- raw filters cannot escape their parentheses --------------------------------

FIELDS = st.sampled_from(['Result', 'Name', 'TotalSize', 'State'])
VALUES = st.one_of(st.sampled_from(['Failed', 'Success', '0', 'x']), NAMES.map(em_query.quote))
COMPARISONS = st.builds(lambda f, op, v: f + op + v, FIELDS, st.sampled_from(['==', '!=', '<', '>=']), VALUES)
EXPRESSIONS = st.recursive(
    COMPARISONS,
    lambda inner: st.one_of(inner.map(lambda e: '(' + e + ')'),
                            st.builds(lambda a, sep, b: a + sep + b, inner, st.sampled_from([';', ',']), inner)),
    max_leaves=6)


@st.composite
def damaged_filters(draw):
    """A valid expression with up to three parentheses or quotes inserted at random places."""
    text = draw(EXPRESSIONS)
    for _insertion in range(draw(st.integers(0, 3))):
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from(['(', ')', '"', '),(', ');('])) + text[at:]
    return text


@settings(max_examples=400, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(damaged_filters())
def test_an_accepted_raw_filter_never_escapes_its_parentheses(raw):
    try:
        checked = validate.raw_filter(raw)
    except info.EmError as exc:
        assert str(exc).startswith('filter ') and '\n' not in str(exc)
        return
    text = em_query.build_filter([('State', '==', 'Completed')], checked)
    try:
        tree = parse_filter(over_the_wire(text))
    except FilterError:
        return  # EM refuses it with its own message; nothing escaped
    # The structured condition is ANDed with the whole raw filter, whatever the raw filter says.
    assert isinstance(tree, BoolOp) and tree.kind == 'and' and len(tree.children) == 2, (raw, tree)
    assert isinstance(tree.children[0], Comparison) and tree.children[0].field == 'State'
    # ...and that one child is the raw filter's own tree, exactly as EM reads the filter alone.
    assert repr(tree.children[1]) == repr(parse_filter(checked))


def test_the_escapes_of_issue_7_are_refused():
    for raw in ('Result==Failed),(Result==Success', 'Result==Failed),(State==Completed', 'Name=="x', '(Result==Failed'):
        with pytest.raises(info.EmError):
            validate.raw_filter(raw)
