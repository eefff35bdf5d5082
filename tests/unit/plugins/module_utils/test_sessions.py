# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

import pytest

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.parsing import extract_items, parse_body
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.sessions import (
    KINDS, kind_for_query_type, normalise, parse_em_time, parse_uid, summarise,
)

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')
GUID = '88322206-a645-4aa3-9228-028ce51e7c0f'


def load(name):
    with open(os.path.join(FIXTURES, name), 'rb') as handle:
        return parse_body(handle.read())


def test_backup_task_session_is_normalised():
    session = normalise(load('backup_task_session_entity.xml'), KINDS['backup_task'])
    expected = {
        'uid': 'urn:veeam:BackupTaskSession:' + GUID, 'id': GUID, 'name': 'AnT_VM2@2021-10-11 20:06:09',
        'type': 'BackupTaskSession', 'vm_name': 'AnT_VM2', 'job_name': 'vCD Job Template',
        'job_session_uid': 'urn:veeam:BackupJobSession:0d3a8230-3db1-4cc1-a7b2-3b0b5c8f784c',
        'backup_server': 'enterprise01.tech.local', 'creation_time': '2021-10-11T20:06:09.627Z',
        'end_time': '2021-10-11T20:07:09.347Z', 'duration_seconds': 59.72, 'state': 'Completed', 'result': 'Success',
        'reason': None, 'total_size': 12884901888, 'progress': None,
    }
    assert dict((k, session[k]) for k in expected) == expected
    assert session['links'][0]['type'] == 'BackupServerReference'


def test_xml_and_json_twins_normalise_identically():
    kind = KINDS['backup_task']
    assert normalise(load('backup_task_session_entity.xml'), kind) == normalise(load('backup_task_session_entity.json'), kind)


def test_running_cdp_task_has_no_end_time_or_duration():
    session = normalise(load('cdp_task_session_entity.xml'), KINDS['cdp_task'])
    assert session['end_time'] is None and session['duration_seconds'] is None
    assert session['state'] == 'InProgress'
    assert session['job_name'] == 'CDP Policy 1'
    assert session['job_session_uid'] == 'urn:veeam:CdpReplicaSession:6b872a71-51e8-437a-8d45-5c6494b92f3f'


def test_running_cdp_job_session_result_is_none_string():
    items = extract_items(load('cdp_replica_session_query.xml'), 'CdpReplicaSessions')
    session = normalise(items[0], KINDS['cdp_job'])
    assert session['result'] == 'None' and session['state'] == 'Working'
    assert session['job_name'] == 'CDP Policy 1' and session['progress'] == 0 and session['failure_message'] is None
    assert session['job_uid'] == 'urn:veeam:CdpPolicy:145f3365-6ec0-44e9-9538-8c8c34ebdcce'


def test_job_session_takes_job_name_from_its_element():
    session = normalise(load('replica_job_session_entity.xml'), KINDS['replica_job'])
    assert session['job_name'] == 'Fileserver02 Replication' and session['job_type'] == 'Replica'
    assert session['is_retry'] is False and session['duration_seconds'] == 964.0


def test_task_job_name_keeps_at_signs_inside_the_job_name():
    entity = {'UID': 'urn:veeam:BackupTaskSession:' + GUID, 'Links': [
        {'Rel': 'Up', 'Type': 'BackupJobSessionReference', 'Href': 'h', 'Name': 'ops@corp job@2025-08-15 20:00:24.003406'}]}
    assert normalise(entity, KINDS['backup_task'])['job_name'] == 'ops@corp job'


def test_camel_case_entity_normalises_like_pascal_case():
    camel = parse_body(b'{"uid": "urn:veeam:BackupTaskSession:' + GUID.encode() + b'", "vmDisplayName": "vm1", '
                       b'"creationTimeUTC": "2025-01-01T00:00:00Z", "state": "Completed", "result": "Failed", "totalSize": "42", "reason": "  "}')
    session = normalise(camel, KINDS['backup_task'])
    assert session['vm_name'] == 'vm1' and session['total_size'] == 42 and session['reason'] is None and session['id'] == GUID


def test_missing_fields_are_none_not_errors():
    session = normalise({}, KINDS['backup_task'])
    assert session['uid'] is None and session['id'] is None and session['links'] == [] and session['total_size'] is None


def test_parse_em_time_accepts_seven_fraction_digits():
    assert parse_em_time('2025-08-16T05:17:38.2214271Z').microsecond == 221427


def test_parse_em_time_of_garbage_is_none():
    assert parse_em_time('soon') is None and parse_em_time(None) is None


def test_summary_counts_every_result_and_state_with_zeros():
    sessions = [{'result': 'Failed', 'state': 'Completed'}, {'result': 'Success', 'state': 'Completed'}, {'result': 'None', 'state': 'InProgress'}]
    assert summarise(sessions, KINDS['backup_task']) == {
        'total': 3,
        'by_result': {'Success': 1, 'Warning': 0, 'Failed': 1, 'None': 1},
        'by_state': {'InProgress': 1, 'Pending': 0, 'Completed': 2},
    }


def test_summary_of_nothing_is_all_zero():
    summary = summarise([], KINDS['backup_job'])
    assert summary['total'] == 0 and set(summary['by_state']) == set(KINDS['backup_job'].states)


def test_uid_accepts_plain_guid():
    assert parse_uid(GUID.upper(), 'BackupTaskSession') == GUID


def test_uid_accepts_full_urn():
    assert parse_uid('urn:veeam:BackupTaskSession:' + GUID, 'BackupTaskSession') == GUID


def test_uid_of_wrong_type_is_one_clear_sentence():
    with pytest.raises(EmError, match='is a ReplicaTaskSession UID, but a BackupTaskSession UID or GUID is expected'):
        parse_uid('urn:veeam:ReplicaTaskSession:' + GUID, 'BackupTaskSession')


@pytest.mark.parametrize('value', ['', 'abc', GUID + 'x', 'urn:veeam:BackupTaskSession:', 'urn:veeam::' + GUID])
def test_malformed_uid_is_rejected(value):
    with pytest.raises(EmError, match='neither a GUID nor a UID'):
        parse_uid(value, 'BackupTaskSession')


def test_every_kind_has_the_fields_the_modules_filter_on():
    for kind in KINDS.values():
        if kind.level == 'point':
            # Restore points: no end, state, result or job (the docs' get_query_<type> pages list none).
            assert sorted(set(kind.fields) & set(('uid', 'name', 'creation_time', 'vm_name'))) == [
                'creation_time', 'name', 'uid', 'vm_name'], kind.name
            assert not set(kind.fields) & set(('end_time', 'state', 'result', 'job_name')), kind.name
            continue
        for option in ('uid', 'name', 'creation_time', 'end_time', 'state'):
            assert option in kind.fields, (kind.name, option)
        assert 'result' in kind.fields or 'result' in kind.local_fields
        assert 'job_name' in kind.fields or 'job_name' in kind.local_fields


def test_cdp_types_use_id_and_utc_field_names():
    assert KINDS['cdp_task'].fields['uid'] == 'Id' and KINDS['cdp_task'].fields['creation_time'] == 'CreationTimeUTC'
    assert KINDS['cdp_job'].fields['job_name'] == 'PolicyName'


def test_unknown_field_of_a_kind_is_one_clear_sentence():
    with pytest.raises(EmError, match='cannot be filtered or sorted by vm_name'):
        KINDS['backup_job'].field('vm_name')


def test_query_type_lookup_is_case_insensitive():
    assert kind_for_query_type('backuptasksession') is KINDS['backup_task']
    assert kind_for_query_type('Job') is None


def test_repeated_values_are_one_object_per_scan():
    """State, result, VM, job and server repeat across sessions: one string object each, whatever the parser made."""
    kind = KINDS['backup_task']
    first, second = normalise(load('backup_task_session_entity.json'), kind), normalise(load('backup_task_session_entity.xml'), kind)
    for key in ('type', 'state', 'result', 'vm_name', 'job_name', 'job_session_uid', 'backup_server'):
        assert first[key] == second[key]
        assert first[key] is second[key], key


@pytest.mark.parametrize('name, kind', [
    ('backup_task_session_entity', 'backup_task'), ('cdp_task_session_entity', 'cdp_task'),
    ('replica_job_session_entity', 'replica_job'),
])
@pytest.mark.parametrize('suffix', ['.json', '.xml'])
def test_without_links_only_the_links_key_differs(name, kind, suffix):
    entity = load(name + suffix)
    full = normalise(entity, KINDS[kind])
    lean = normalise(entity, KINDS[kind], links=False)
    assert 'links' not in lean
    assert dict((k, v) for k, v in full.items() if k != 'links') == lean
    assert full['backup_server'] and full['job_name']


def test_up_links_match_in_any_case_and_only_as_up():
    entity = {'Links': [
        {'Rel': 'Alternate', 'Type': 'BackupServerReference', 'Name': 'not this one'},
        {'rel': 'UP', 'type': 'backupserverreference', 'name': 'srv1'},
    ], 'Name': 'vm@2026-01-01'}
    for links in (True, False):
        assert normalise(entity, KINDS['backup_task'], links=links)['backup_server'] == 'srv1'
