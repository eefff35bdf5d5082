"""The filter grammar and evaluator, exercised directly against the generated data."""

from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st

from emulator.filterexpr import BoolOp, Comparison, FilterError, parse_filter, quote_value
from emulator.query import compile_filter, parse_datetime


def run(dataset, qtype, text):
    """Rows of ``qtype`` matching ``text``."""
    predicate = compile_filter(text, qtype)
    return [row for row in dataset.rows[qtype] if predicate(row)]


@pytest.mark.parametrize('name', ['web;01', 'db,02', 'sql "prod"', 'app (old)', 'a==b', 'file server 01',
                                  'B\u00fccher-DB', '\u6570\u636e\u5e93-01', 'exchange&mail', 'lab<test>'])
def test_quoted_special_names_match_exactly(dataset, name):
    rows = run(dataset, 'BackupTaskSession', 'VmDisplayName==' + quote_value(name))
    assert rows and all(row['vm_name'] == name for row in rows)


def test_docs_doubled_quote_form():
    node = parse_filter('Name==""Backup""')
    assert node.value == '"Backup"'
    assert parse_filter('Name=="""Backup"""').value == '"Backup"'
    assert parse_filter('Name==""').value == ''


def test_unquoted_values_ignore_spaces():
    assert parse_filter('JobName==File Servers').value == 'FileServers'
    assert parse_filter(' Result == Failed ').value == 'Failed'


@pytest.mark.parametrize('op, check', [
    ('==', lambda o: o == 2), ('!=', lambda o: o != 2), ('<', lambda o: o < 2),
    ('<=', lambda o: o <= 2), ('>', lambda o: o > 2), ('>=', lambda o: o >= 2)])
def test_enum_ordinals(dataset, op, check):
    order = ['None', 'Success', 'Warning', 'Failed']
    rows = run(dataset, 'BackupTaskSession', 'Result%sWarning' % op)
    expected = [row for row in dataset.rows['BackupTaskSession'] if check(order.index(row['result']))]
    assert rows == expected and rows


def test_enum_case_insensitive_and_none(dataset):
    assert run(dataset, 'BackupTaskSession', 'result==FAILED') == run(dataset, 'BackupTaskSession', 'Result==Failed')
    running = run(dataset, 'BackupTaskSession', 'Result==None')
    assert running and all(row['end'] is None and row['state'] == 'InProgress' for row in running)
    assert not [r for r in run(dataset, 'BackupTaskSession', 'Result<Success') if r['result'] != 'None']


@pytest.mark.parametrize('op', ['==', '!=', '<', '<=', '>', '>='])
def test_string_operators_case_insensitive(dataset, op):
    rows = run(dataset, 'BackupTaskSession', 'VmDisplayName%s"WEB-01"' % op)
    import operator as ops  # pylint: disable=import-outside-toplevel
    fn = {'==': ops.eq, '!=': ops.ne, '<': ops.lt, '<=': ops.le, '>': ops.gt, '>=': ops.ge}[op]
    expected = [r for r in dataset.rows['BackupTaskSession'] if fn(r['vm_name'].casefold(), 'web-01')]
    assert rows == expected and rows


@pytest.mark.parametrize('literal', ['2025-08-10T00:00:00Z', '"2025-08-10T00:00:00Z"', '2025-08-10T00:00:00',
                                     '"2025-08-10"', '2025-08-10', '2025-08-10T00:00:00.0000000Z', '"2025-08-10T02:00:00+02:00"'])
def test_date_literal_forms_are_equivalent(dataset, literal):
    rows = run(dataset, 'BackupTaskSession', 'CreationTime>=' + literal)
    cut = parse_datetime('2025-08-10T00:00:00Z')
    assert rows == [r for r in dataset.rows['BackupTaskSession'] if r['creation'] >= cut] and rows


@pytest.mark.parametrize('op', ['==', '!=', '<', '<=', '>', '>='])
def test_date_and_number_operators(dataset, op):
    rows = run(dataset, 'BackupTaskSession', 'TotalSize%s%d' % (op, 100 * 1024 ** 3))
    assert rows or op == '=='
    dates = run(dataset, 'BackupJobSession', 'EndTime%s"2025-08-15T21:00:00.5Z"' % op)
    if op in ('<', '<=', '>', '>='):
        assert all(row['end'] is not None for row in dates)


def test_cdp_fields_and_fractional_seconds(dataset):
    rows = run(dataset, 'CdpReplicaSession', 'CreationTimeUTC>="2025-08-15";State==Working')
    assert rows and all(row['end'] is None for row in rows)
    with pytest.raises(FilterError, match='Unknown field'):
        compile_filter('CreationTime>="2025-08-15"', 'CdpReplicaSession')
    with pytest.raises(FilterError, match='Unknown field'):
        compile_filter('UID=="x"', 'CdpReplicaTaskSession')
    assert run(dataset, 'CdpReplicaTaskSession', 'id!="x"')


def test_and_binds_tighter_than_or(dataset):
    text = 'Result==Failed;VmDisplayName=="web;01",Result==Warning'
    grouped = '(Result==Failed;VmDisplayName=="web;01"),Result==Warning'
    other = 'Result==Failed;(VmDisplayName=="web;01",Result==Warning)'
    assert run(dataset, 'BackupTaskSession', text) == run(dataset, 'BackupTaskSession', grouped)
    assert run(dataset, 'BackupTaskSession', text) != run(dataset, 'BackupTaskSession', other)
    tree = parse_filter(text)
    assert isinstance(tree, BoolOp) and tree.kind == 'or' and tree.children[0].kind == 'and'


def test_bool_and_uid_fields(dataset):
    retries = run(dataset, 'BackupJobSession', 'isretry==TRUE')
    assert retries and all(row['is_retry'] for row in retries)
    session = dataset.rows['BackupJobSession'][0]
    tasks = run(dataset, 'BackupTaskSession', 'JobSessionUid==' + session['uid'].upper())
    assert tasks and all(row['job_session'] is session for row in tasks)


@pytest.mark.parametrize('text, message', [
    ('Foo==1', 'Unknown field'), ('Result=Failed', 'comparison operator'), ('Result==Failed;', 'ended'),
    ('(Result==Failed', 'Expected "\\)"'), ('Result==Failed)', 'Unexpected'), ('Name=="abc', 'Unterminated'),
    ('Name=="a"b', 'after a quoted value'), ('Result==Maybe', 'Possible values'), ('CreationTime>yesterday', 'DateTime'),
    ('TotalSize>big', 'numeric'), ('', 'empty'), ('==x', 'field name'), ('Name==a(b)', 'parentheses'),
])
def test_errors(text, message):
    with pytest.raises(FilterError, match=message):
        compile_filter(text, 'BackupTaskSession')


@settings(max_examples=300, deadline=None, database=None)
@given(st.text())
def test_parser_never_crashes(text):
    try:
        parse_filter(text)
    except FilterError:
        pass


@settings(max_examples=300, deadline=None, database=None)
@given(st.text(alphabet=st.sampled_from('Name=!<>;,()" \tabc\u00fc')))
def test_parser_never_crashes_on_grammar_soup(text):
    try:
        compile_filter(text, 'BackupTaskSession')
    except FilterError:
        pass


@settings(max_examples=500, deadline=None, database=None)
@given(st.text())
def test_quote_round_trip(value):
    node = parse_filter('Name==' + quote_value(value))
    assert isinstance(node, Comparison) and node.value == value and node.quoted
    both = parse_filter('(Name==%s;Name!=%s),Reason==%s' % (quote_value(value), quote_value(value), quote_value(value)))
    assert [leaf.value for leaf in both.children[0].children] == [value, value]
