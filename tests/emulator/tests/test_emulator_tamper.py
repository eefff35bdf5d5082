"""Tamper mode: answers rewritten by rule (order, times, bodies, wrappers, PagingInfo) and the control client."""

from __future__ import annotations

import json
import subprocess
import sys
import os

import pytest

from emulator import control

EMULATOR_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUERY = '/api/query?type=BackupTaskSession&format=Entities&sortDesc=CreationTime&pageSize=%d&page=%d'


def _uids(reply):
    return [item['UID'] for item in reply.json()['Entities']['BackupTaskSessions']['BackupTaskSessions']]


def _all_pages(client, size, pages):
    return [uid for page in range(1, pages + 1) for uid in _uids(client.get_json(QUERY % (size, page)))]


@pytest.fixture(name='tclient')
def fixture_tclient(start_emulator):
    emulator = start_emulator('--no-tls')
    client = emulator.client()
    assert client.logon().status == 201
    yield client
    client.control('DELETE', 'tamper')
    client.logoff()


def _set(client, *rules):
    reply = client.control('POST', 'tamper', {'rules': list(rules)})
    assert reply.status == 200, reply.text()
    return reply.json()


def test_reverse_across_pages_reverses_the_whole_result(tclient):
    honest = _all_pages(tclient, 5, 3)
    total = tclient.get_json(QUERY % (5, 1)).json()['PagingInfo']['PagesCount']
    everything = _all_pages(tclient, 5, total)
    _set(tclient, {'order': 'reverse', 'query_type': 'BackupTaskSession'})
    assert _all_pages(tclient, 5, 3) == list(reversed(everything))[:15]
    assert _all_pages(tclient, 5, 3) != honest
    assert tclient.control('GET', 'tamper').json()['tampered'] == 6


def test_reverse_page_reverses_each_page_only(tclient):
    honest = [_uids(tclient.get_json(QUERY % (4, page))) for page in (1, 2)]
    _set(tclient, {'order': 'reverse_page'})
    assert [_uids(tclient.get_json(QUERY % (4, page))) for page in (1, 2)] == [list(reversed(p)) for p in honest]


def test_shuffle_is_consistent_across_pages_of_one_query(tclient):
    total = tclient.get_json(QUERY % (50, 1)).json()['PagingInfo']['PagesCount']
    everything = _all_pages(tclient, 50, total)
    _set(tclient, {'order': 'shuffle'})
    shuffled = _all_pages(tclient, 50, total)
    assert sorted(shuffled) == sorted(everything) and shuffled != everything
    assert _all_pages(tclient, 50, 1) == shuffled[:50]


def test_shuffle_page_keeps_the_page_members(tclient):
    honest = _uids(tclient.get_json(QUERY % (20, 2)))
    _set(tclient, {'order': 'shuffle_page'})
    shuffled = _uids(tclient.get_json(QUERY % (20, 2)))
    assert sorted(shuffled) == sorted(honest) and shuffled != honest


def test_shift_seconds_moves_every_time(tclient):
    honest = tclient.get_json(QUERY % (3, 1)).json()['Entities']['BackupTaskSessions']['BackupTaskSessions']
    _set(tclient, {'shift_seconds': 86400})
    moved = tclient.get_json(QUERY % (3, 1)).json()['Entities']['BackupTaskSessions']['BackupTaskSessions']
    for before, after in zip(honest, moved):
        assert after['UID'] == before['UID']
        day, rest = before['CreationTimeUTC'].split('T')
        assert after['CreationTimeUTC'].split('T')[0] != day and after['CreationTimeUTC'].split('T')[1][:8] == rest[:8]


def test_set_time_and_time_fields(tclient):
    _set(tclient, {'set_time': '9999-12-31T00:00:00Z', 'time_fields': ['CreationTimeUTC']})
    items = tclient.get_json(QUERY % (3, 1)).json()['Entities']['BackupTaskSessions']['BackupTaskSessions']
    assert {item['CreationTimeUTC'] for item in items} == {'9999-12-31T00:00:00Z'}
    assert all(item['EndTimeUTC'] != '9999-12-31T00:00:00Z' for item in items)


def test_entity_get_is_retimed(tclient):
    item = tclient.get_json(QUERY % (1, 1)).json()['Entities']['BackupTaskSessions']['BackupTaskSessions'][0]
    guid = item['UID'].rsplit(':', 1)[-1]
    _set(tclient, {'set_time': '1990-01-01T00:00:00Z', 'routes': ['GET /api/{collection}/{id}']})
    entity = tclient.get_json('/api/backupTaskSessions/%s?format=Entity' % guid).json()
    assert entity['CreationTimeUTC'] == '1990-01-01T00:00:00Z' and entity['UID'] == item['UID']
    # The query route is not named by the rule: untouched.
    assert tclient.get_json(QUERY % (1, 1)).json()['Entities']['BackupTaskSessions']['BackupTaskSessions'][0] == item


@pytest.mark.parametrize('body, content_type', [
    ('<html><body>Maintenance</body></html>', 'text/html; charset=utf-8'),
    ('{}', 'application/json'),
    ('', 'application/json'),
])
def test_body_replaces_the_answer(tclient, body, content_type):
    _set(tclient, {'body': body, 'content_type': content_type})
    reply = tclient.get_json(QUERY % (3, 1))
    assert reply.status == 200 and reply.body == body.encode() and reply.header('Content-Type') == content_type


def test_body_with_status(tclient):
    _set(tclient, {'body': 'gateway says no', 'content_type': 'text/plain', 'status': 502})
    assert tclient.get_json(QUERY % (3, 1)).status == 502


@pytest.mark.parametrize('wrapper, check', [
    ('none', lambda doc: 'Entities' not in doc and 'Refs' not in doc and 'PagingInfo' in doc),
    ('null', lambda doc: doc['Entities'] is None and doc['Refs'] is None),
    ('bare_list', lambda doc: isinstance(doc, list) and len(doc) == 3),
    ('other', lambda doc: doc['Entities']['BackupTaskSessions'] is None
     and len(doc['Entities']['ReplicaTaskSessions']['ReplicaTaskSessions']) == 3),
])
def test_wrappers(tclient, wrapper, check):
    _set(tclient, {'wrapper': wrapper})
    assert check(tclient.get_json(QUERY % (3, 1)).json())


def test_paging_lies(tclient):
    _set(tclient, {'paging': {'PagesCount': 'page', 'PageNum': 7}})
    info = tclient.get_json(QUERY % (5, 2)).json()['PagingInfo']
    assert info['PagesCount'] == 2 and info['PageNum'] == 7 and info['PageSize'] == 5
    _set(tclient, {'drop_paging': True})
    assert 'PagingInfo' not in tclient.get_json(QUERY % (5, 2)).json()


def test_query_type_and_times_limit_a_rule(tclient):
    _set(tclient, {'body': '{}', 'content_type': 'application/json', 'query_type': 'ReplicaTaskSession'},
         {'body': 'once', 'content_type': 'text/plain', 'query_type': 'backuptasksession', 'times': 1})
    assert tclient.get_json(QUERY % (3, 1)).body == b'once'
    assert tclient.get_json(QUERY % (3, 1)).json()['PagingInfo']['PageNum'] == 1
    assert tclient.get_json('/api/query?type=ReplicaTaskSession&format=Entities').body == b'{}'
    state = tclient.control('GET', 'tamper').json()
    assert [rule['applied'] for rule in state['rules']] == [1, 1] and state['tampered'] == 2


def test_xml_answers_pass_unchanged_except_body(tclient):
    honest = tclient.get(QUERY % (3, 1)).body
    _set(tclient, {'order': 'reverse_page'})
    assert tclient.get(QUERY % (3, 1)).body == honest


def test_reset_and_delete_clear_the_rules(tclient):
    _set(tclient, {'body': 'x'})
    assert tclient.control('POST', 'reset').status == 200
    assert tclient.control('GET', 'tamper').json() == {'rules': [], 'tampered': 0}


@pytest.mark.parametrize('payload, words', [
    ({'rules': [{'order': 'sideways'}]}, 'order must be one of'),
    ({'rules': [{}]}, 'needs at least one of'),
    ({'rules': [{'body': 'x', 'order': 'reverse'}]}, 'cannot be combined'),
    ({'rules': [{'shift_seconds': 1, 'set_time': '2025-01-01T00:00:00Z'}]}, 'not both'),
    ({'rules': [{'set_time': 'tomorrow'}]}, 'set_time must be a UTC time'),
    ({'rules': [{'paging': {'PagesCount': 'lots'}}]}, 'paging.PagesCount'),
    ({'rules': [{'paging': {'Total': 1}}]}, "unknown key 'Total'"),
    ({'rules': [{'order': 'reverse', 'routes': ['GET /api/nowhere']}]}, 'unknown route'),
    ({'rules': [{'order': 'reverse', 'times': 0}]}, 'times must be a positive integer'),
    ({'rules': [{'order': 'reverse', 'colour': 'red'}]}, 'Unknown tamper rule key'),
    ({'rulez': []}, 'Unknown tamper setting'),
    ({'rules': [{'status': 500, 'order': 'reverse'}]}, 'status only applies with body'),
])
def test_bad_rules_are_refused_and_change_nothing(tclient, payload, words):
    _set(tclient, {'order': 'reverse_page'})
    reply = tclient.control('POST', 'tamper', payload)
    assert reply.status == 400 and words in reply.json()['error']
    assert tclient.control('GET', 'tamper').json()['rules'][0]['order'] == 'reverse_page'


def test_control_client_script(start_emulator):
    emulator = start_emulator()
    env = dict(os.environ, VEEAM_EM_URL=emulator.url, VEEAM_EM_CA_PATH=emulator.ca_file)
    script = os.path.join(EMULATOR_DIR, 'control.py')

    def run(*args):
        return subprocess.run([sys.executable, script] + list(args), env=env, capture_output=True, text=True, check=False)
    done = run('tamper', 'set', json.dumps({'rules': [{'order': 'reverse'}]}))
    assert done.returncode == 0 and json.loads(done.stdout)['rules'][0]['order'] == 'reverse'
    assert json.loads(run('tamper', 'show').stdout)['rules'][0]['applied'] == 0
    refused = run('tamper', 'set', '{"rules": [{"order": "up"}]}')
    assert refused.returncode == 1 and 'order must be one of' in refused.stderr
    assert json.loads(run('tamper', 'clear').stdout) == {'rules': [], 'tampered': 0}
    assert 'active_sessions' in json.loads(run('stats').stdout)
    assert run('stats', 'set', '{}').returncode == 2
    status, answer = control.call(emulator.url, 'faults', 'POST', {'fail_next': 1}, emulator.ca_file)
    assert status == 200 and answer['fail_next'] == 1


def test_control_client_keys_windows_and_python_calls(start_emulator):
    emulator = start_emulator('--now', '2025-08-16T06:00:00Z')
    env = dict(os.environ, VEEAM_EM_URL=emulator.url, VEEAM_EM_CA_PATH=emulator.ca_file)
    script = os.path.join(EMULATOR_DIR, 'control.py')

    def run(*args):
        return subprocess.run([sys.executable, script] + list(args), env=env, capture_output=True, text=True, check=False)
    assert run('stats', '--key', 'logons').stdout == '0\n'
    assert run('catalog', '--key', 'now').stdout == '2025-08-16T06:00:00Z\n'
    missing = run('stats', '--key', 'nope')
    assert missing.returncode == 1 and "has no key 'nope'" in missing.stderr
    # The clock runs on from --now: a week back is 9 August 06:00, plus the seconds the emulator has run.
    assert run('window', '7d').stdout.startswith('2025-08-09T06:0')
    assert run('window', '1d12h').stdout.startswith('2025-08-14T18:0')
    bad = run('window', 'a week')
    assert bad.returncode == 1 and "the age 'a week' is not a whole number of w, d, h, m or s" in bad.stderr
    assert run('window').returncode == 2
    added = control.control('sessions', {'type': 'BackupTaskSession', 'vm_name': 'ctl-01', 'job_name': 'Ctl'}, url=emulator.url, ca_file=emulator.ca_file)
    assert added['vm_name'] == 'ctl-01'
    with pytest.raises(RuntimeError, match=r'emulator POST /_emulator/sessions refused \(HTTP 400\)'):
        control.control('sessions', {'type': 'Nope'}, url=emulator.url, ca_file=emulator.ca_file)
