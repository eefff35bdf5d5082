# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os

import pytest

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.parsing import (
    ci_get, error_message, extract_items, link_dicts, paging_info, parse_body, parse_xml,
)

FIXTURES = os.path.join(os.path.dirname(__file__), 'fixtures')


def fixture(name, mode='rb'):
    with open(os.path.join(FIXTURES, name), mode) as handle:
        return handle.read()


def drop_nulls(value):
    """JSON carries null for what XML simply omits: compare without them."""
    if isinstance(value, dict):
        return dict((k, drop_nulls(v)) for k, v in value.items() if v is not None)
    if isinstance(value, list):
        return [drop_nulls(v) for v in value]
    return value


@pytest.mark.parametrize('name', [
    'backup_task_session_entity',
    'cdp_task_session_entity',
    'replica_job_session_entity',
    'replica_task_session_query',
    'cdp_replica_session_query',
])
def test_documentation_xml_parses_like_its_json_twin(name):
    from_xml = parse_body(fixture(name + '.xml'))
    from_json = parse_body(fixture(name + '.json'))
    assert drop_nulls(from_xml) == drop_nulls(from_json)


def test_xml_links_keep_all_four_keys_with_none_for_missing():
    doc = parse_body(fixture('replica_job_session_entity.xml'))
    down = doc['Links'][3]
    assert down == {'Rel': 'Down', 'Type': 'ReplicaTaskSessionReferenceList', 'Name': None,
                    'Href': 'https://localhost:9398/api/replicaSessions/0bcf5a1e-866c-4b40-8bc3-ce64753b9a6b/repicaTaskSessions'}


def test_xml_numbers_and_booleans_are_typed_like_json():
    doc = parse_body(fixture('replica_job_session_entity.xml'))
    assert doc['Progress'] == 100
    assert doc['IsRetry'] is False
    assert parse_body(fixture('backup_task_session_entity.xml'))['TotalSize'] == 12884901888


def test_xml_backup_server_port_and_job_flags_are_typed_like_json():
    server = parse_xml(b'<BackupServer xmlns="http://www.veeam.com/ent/v1.0" Name="vbr01"><Port>9392</Port><Version>13.0.1.1071</Version></BackupServer>')
    assert server == {'Name': 'vbr01', 'Port': 9392, 'Version': '13.0.1.1071'}
    job = parse_xml(b'<Job xmlns="http://www.veeam.com/ent/v1.0"><ScheduleEnabled>true</ScheduleEnabled><ScheduleConfigured>false</ScheduleConfigured></Job>')
    assert job == {'ScheduleEnabled': True, 'ScheduleConfigured': False}


def test_xml_names_that_look_like_numbers_stay_strings():
    doc = parse_xml(b'<BackupTaskSession xmlns="http://www.veeam.com/ent/v1.0" Name="12345" VmDisplayName="007"><Reason>42</Reason></BackupTaskSession>')
    assert doc == {'Name': '12345', 'VmDisplayName': '007', 'Reason': '42'}


def test_xml_empty_element_is_none():
    assert parse_body(fixture('backup_task_session_entity.xml'))['Reason'] is None


def test_xml_escaped_ampersand_in_href_is_unescaped():
    doc = parse_body(fixture('cdp_replica_session_query.xml'))
    first = doc['PagingInfo']['Links'][0]['Href']
    assert '&format=Entities&' in first and '&amp;' not in first


def test_xml_raw_ampersand_from_documentation_is_tolerated():
    doc = parse_body(fixture('replica_task_session_query.xml'))
    assert doc['PagingInfo']['Links'][0]['Href'].endswith('page=1&filter=Result==Success;VmDisplayName==apache02')


def test_xml_paging_info_attribute_order_does_not_matter():
    one = parse_body(b'<QueryResult xmlns="http://www.veeam.com/ent/v1.0"><PagingInfo PageNum="2" PageSize="5" PagesCount="3"/></QueryResult>')
    two = parse_body(b'<QueryResult xmlns="http://www.veeam.com/ent/v1.0"><PagingInfo PagesCount="3" PageSize="5" PageNum="2"/></QueryResult>')
    assert paging_info(one) == paging_info(two) == (2, 5, 3)


def test_xml_cdp_policy_session_child_lands_in_cdp_replica_sessions():
    items = extract_items(parse_body(fixture('cdp_replica_session_query.xml')), 'CdpReplicaSessions')
    assert [i['Type'] for i in items] == ['CdpReplicaSession']


def test_xml_collection_root_is_single_wrapped():
    doc = parse_body(b'<BackupJobSessions xmlns="http://www.veeam.com/ent/v1.0"><BackupJobSession Name="a"/></BackupJobSessions>')
    assert doc == {'BackupJobSessions': [{'Name': 'a'}]}


def test_xml_entity_references_root_becomes_refs():
    doc = parse_body(b'<EntityReferences xmlns="http://www.veeam.com/ent/v1.0"><Ref Name="a" UID="urn:veeam:BackupServer:x"/></EntityReferences>')
    assert extract_items(doc) == [{'Name': 'a', 'UID': 'urn:veeam:BackupServer:x'}]


def test_xml_with_doctype_is_refused():
    with pytest.raises(EmError, match='DOCTYPE'):
        parse_body(b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><x>&a;</x>')


def test_bom_is_stripped_from_json():
    assert parse_body(b'\xef\xbb\xbf{"SessionId": "abc"}') == {'SessionId': 'abc'}


def test_bom_is_stripped_from_xml():
    assert parse_body(b'\xef\xbb\xbf<LogonSession xmlns="http://www.veeam.com/ent/v1.0"><SessionId>abc</SessionId></LogonSession>') == {'SessionId': 'abc'}


def test_camel_case_json_keys_become_pascal_case():
    doc = parse_body(json.dumps({'sessionId': 'x', 'uid': 'urn:veeam:BackupTaskSession:y', 'creationTimeUTC': 't',
                                 'links': [{'rel': 'Up', 'href': 'h', 'name': None, 'type': 'T'}]}))
    assert doc == {'SessionId': 'x', 'UID': 'urn:veeam:BackupTaskSession:y', 'CreationTimeUTC': 't',
                   'Links': [{'Rel': 'Up', 'Href': 'h', 'Name': None, 'Type': 'T'}]}


def test_ci_get_ignores_case():
    assert ci_get({'VmDisplayName': 'a'}, 'vmdisplayname') == 'a'
    assert ci_get(None, 'x', 'default') == 'default'


def test_empty_body_is_none():
    assert parse_body(b'') is None
    assert parse_body(b'  \n') is None


def test_garbage_body_is_one_clear_error():
    with pytest.raises(EmError, match='neither JSON nor XML'):
        parse_body(b'Service Unavailable')


def test_query_result_double_wrapped_json():
    doc = {'Refs': None, 'Entities': {'BackupJobSessions': None, 'BackupTaskSessions': {'BackupTaskSessions': [{'Name': 'a'}]}}}
    assert extract_items(doc, 'BackupTaskSessions') == [{'Name': 'a'}]


def test_collection_single_wrapped_json():
    assert extract_items({'BackupTaskSessions': [{'Name': 'a'}]}, 'BackupTaskSessions') == [{'Name': 'a'}]


def test_null_collection_is_empty_list():
    assert extract_items({'Entities': {'BackupTaskSessions': None}}, 'BackupTaskSessions') == []
    assert extract_items({'Entities': {'BackupTaskSessions': {'BackupTaskSessions': None}}}, 'BackupTaskSessions') == []
    assert extract_items({'BackupTaskSessions': None}, 'BackupTaskSessions') == []
    assert extract_items(None) == []


def test_other_query_types_use_the_first_populated_slot():
    doc = {'Entities': {'Jobs': {'Jobs': [{'Name': 'j'}]}, 'Backups': None}}
    assert extract_items(doc) == [{'Name': 'j'}]


def test_references_query_result_is_extracted():
    assert extract_items({'Refs': {'Refs': [{'Name': 'r'}]}, 'Entities': None}) == [{'Name': 'r'}]


def test_paging_info_absent_gives_nones():
    assert paging_info({'Entities': None}) == (None, None, None)


def test_json_error_envelope_message():
    body = b'{"FirstChanceExceptionMessage":null,"Message":"Node [root] does not exist.","StackTrace":null,"Status":null,"StatusCode":400}'
    assert error_message(body) == 'Node [root] does not exist.'


def test_xml_error_envelope_message():
    body = (b'<?xml version="1.0" encoding="utf-8"?>\n<Error Message="Object reference not set to an instance of an object." StatusCode="500" '
            b'xmlns="http://www.veeam.com/ent/v1.0"><FirstChanceExceptionMessage>inner</FirstChanceExceptionMessage></Error>')
    assert error_message(body) == 'Object reference not set to an instance of an object.'


def test_error_envelope_falls_back_to_first_chance_message():
    assert error_message(b'{"Message": "", "FirstChanceExceptionMessage": "inner"}') == 'inner'


def test_error_message_of_html_is_none():
    assert error_message(b'<html><body>Bad gateway</body') is None
    assert error_message(b'') is None


def test_link_dicts_are_snake_case():
    entity = parse_body(fixture('backup_task_session_entity.json'))
    assert link_dicts(entity)[0] == {'rel': 'Up', 'href': 'https://localhost:9398/api/backupServers/a490c017-2c1c-40ee-8bcf-73bcce6ab36f',
                                     'name': 'enterprise01.tech.local', 'type': 'BackupServerReference'}
