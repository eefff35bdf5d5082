"""Sessions that change while the emulator runs: scheduled and requested finishes, added sessions."""

from __future__ import annotations

import random
import threading
import time
from urllib.parse import quote

import pytest

from emulator.data import _FAILED_REASONS, _WARNING_REASONS, Dataset, format_utc
from emulator.live import ControlError, Live, _finish_outcome
from emulator.query import compile_filter, parse_datetime

from conftest import NOW

NOW_US = parse_datetime(NOW)
SECOND = 1000000
RESULTS = ('Success', 'Warning', 'Failed')
ORDER = {'Success': 0, 'Warning': 1, 'Failed': 2}


class FakeClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self):
        self.value = 1000.0

    def __call__(self):
        return self.value


def make_live(finish_after=None, sessions=1500, seed=7):
    """A fresh data set (never the shared one: these tests change it) with a hand-moved clock."""
    clock = FakeClock()
    return Live(Dataset(seed, sessions, NOW_US), finish_after, NOW_US, clock), clock


def running(dataset, kind):
    return [row for row in dataset.rows[kind] if row['end'] is None]


def tasks_of(dataset, kind, parent):
    return [row for row in dataset.rows[kind] if row['job_session_uid'] == parent['uid']]


def worst(rows):
    return max((row['result'] for row in rows), key=ORDER.get)


def select(dataset, kind, text):
    predicate = compile_filter(text, kind)
    return [row for row in dataset.rows[kind] if predicate(row)]


# -- --running-finish-after -----------------------------------------------------------------

def test_running_sessions_finish_on_schedule():
    live, clock = make_live(30)
    data = live.dataset
    tasks = running(data, 'BackupTaskSession')
    jobs = running(data, 'BackupJobSession')
    cdp = running(data, 'CdpReplicaTaskSession')
    policies = running(data, 'CdpReplicaSession')
    assert len(tasks) > 2 and jobs and cdp and policies
    clock.value += 29.999
    live.tick()
    assert running(data, 'BackupTaskSession') == tasks
    clock.value += 0.001
    live.tick()
    end = NOW_US + 30 * SECOND
    assert not running(data, 'BackupTaskSession') and not running(data, 'BackupJobSession')
    for old in tasks:
        row = data.by_id['BackupTaskSession'][old['id']]
        # The published row is replaced, never changed in place: a query holding it keeps a consistent view.
        assert old['state'] == 'InProgress' and old['result'] == 'None' and row is not old
        assert (row['end'], row['state']) == (end, 'Completed') and row['result'] in RESULTS
        assert row['reason'] in (_WARNING_REASONS if row['result'] == 'Warning' else _FAILED_REASONS if row['result'] == 'Failed'
                                 else ('',))
    for old in jobs:
        job = data.by_id['BackupJobSession'][old['id']]
        children = tasks_of(data, 'BackupTaskSession', job)
        assert (job['state'], job['end'], job['progress']) == ('Stopped', end, 100)
        assert job['result'] == worst(children) and bool(job['failure_message']) == (job['result'] == 'Failed')
    # CDP is continuous: its running sessions keep running with their live Result.
    assert running(data, 'CdpReplicaTaskSession') == cdp and all(row['result'] in RESULTS for row in cdp)
    assert running(data, 'CdpReplicaSession') == policies
    assert [row['creation'] for row in data.rows['BackupTaskSession']] == sorted(row['creation'] for row in data.rows['BackupTaskSession'])
    assert select(data, 'BackupTaskSession', 'EndTime=="%s"' % format_utc(end)) == [data.by_id['BackupTaskSession'][t['id']] for t in tasks]
    # Outcomes are drawn at start, so they do not depend on when (or whether) requests arrive.
    other, other_clock = make_live(30)
    other_clock.value += 3600
    other.tick()
    assert [(r['id'], r['result'], r['reason'], r['end']) for r in other.dataset.rows['BackupTaskSession']] == \
        [(r['id'], r['result'], r['reason'], r['end']) for r in data.rows['BackupTaskSession']]


def test_finish_outcomes_are_mostly_success_with_realistic_reasons():
    rng = random.Random(5)
    outcomes = [_finish_outcome(rng) for _attempt in range(3000)]
    share = {result: sum(1 for r, _reason in outcomes if r == result) / len(outcomes) for result in RESULTS}
    assert 0.7 < share['Success'] < 0.8 and share['Warning'] > 0.1 and share['Failed'] > 0.06
    assert all(reason in _FAILED_REASONS for result, reason in outcomes if result == 'Failed')


def test_no_schedule_means_running_forever():
    live, clock = make_live()
    before = running(live.dataset, 'BackupTaskSession')
    clock.value += 10 ** 6
    live.tick()
    assert before and running(live.dataset, 'BackupTaskSession') == before and live.catalog()['running_finish_at'] is None


# -- POST /_emulator/finish -----------------------------------------------------------------

def test_finish_by_vm_name_with_chosen_result():
    live, clock = make_live()
    data = live.dataset
    task = running(data, 'BackupTaskSession')[0]
    job = task['job_session']
    clock.value += 5
    answer = live.finish({'vm_names': [task['vm_name']], 'result': 'failed', 'reason': 'Disk full.'})
    row = data.by_id['BackupTaskSession'][task['id']]
    assert task['uid'] in answer['finished'] and answer['not_running'] == []
    assert (row['state'], row['result'], row['reason'], row['end']) == ('Completed', 'Failed', 'Disk full.', NOW_US + 5 * SECOND)
    parent = data.by_id['BackupJobSession'][job['id']]
    still = [t for t in tasks_of(data, 'BackupTaskSession', parent) if t['end'] is None]
    assert (parent['uid'] in answer['finished']) == (not still) == (parent['state'] == 'Stopped')
    if still:
        done = len(tasks_of(data, 'BackupTaskSession', parent)) - len(still)
        assert parent['progress'] == done * 100 // len(tasks_of(data, 'BackupTaskSession', parent))
    assert live.finish({'vm_names': [task['vm_name']]}) == {'finished': [], 'not_running': [task['vm_name']]}


def test_finish_by_job_session_uid_and_partial_progress():
    live, clock = make_live()
    data = live.dataset
    job = next(j for j in running(data, 'BackupJobSession') if len(running_tasks(data, j)) >= 2)
    first, *rest = running_tasks(data, job)
    answer = live.finish({'uids': [first['uid']], 'result': 'Success'})
    assert answer['finished'] == [first['uid']]
    parent = data.by_id['BackupJobSession'][job['id']]
    children = tasks_of(data, 'BackupTaskSession', parent)
    assert parent['state'] == 'Working' and parent['result'] == 'None'
    assert parent['progress'] == (len(children) - len(rest)) * 100 // len(children) > job['progress']
    clock.value += 60
    answer = live.finish({'uids': [job['uid'].upper()]})
    assert answer['finished'] == [t['uid'] for t in rest] + [job['uid']]
    parent = data.by_id['BackupJobSession'][job['id']]
    assert parent['state'] == 'Stopped' and parent['result'] == worst(tasks_of(data, 'BackupTaskSession', parent))
    assert live.finish({'uids': [job['uid']]}) == {'finished': [], 'not_running': [job['uid']]}


def running_tasks(data, job):
    return [t for t in tasks_of(data, 'BackupTaskSession', job) if t['end'] is None]


def test_finish_cdp_by_uid_keeps_live_result_and_ends_policy_session_last():
    live, _clock = make_live()
    data = live.dataset
    policy_session = running(data, 'CdpReplicaSession')[0]
    tasks = tasks_of(data, 'CdpReplicaTaskSession', policy_session)
    assert len(tasks) >= 2
    answer = live.finish({'uids': [tasks[0]['uid']]})
    row = data.by_id['CdpReplicaTaskSession'][tasks[0]['id']]
    assert answer['finished'] == [tasks[0]['uid']] and row['state'] == 'Completed' and row['result'] == tasks[0]['result']
    assert data.by_id['CdpReplicaSession'][policy_session['id']]['state'] == 'Working'
    answer = live.finish({'uids': [policy_session['uid']], 'result': 'Warning'})
    assert answer['finished'][-1] == policy_session['uid'] and len(answer['finished']) == len(tasks)
    ended = data.by_id['CdpReplicaSession'][policy_session['id']]
    assert ended['state'] == 'Stopped' and ended['result'] == worst(tasks_of(data, 'CdpReplicaTaskSession', ended))


def test_finish_all_leaves_cdp_running():
    live, _clock = make_live()
    data = live.dataset
    cdp = running(data, 'CdpReplicaTaskSession')
    answer = live.finish({'all': True, 'result': 'Warning'})
    assert answer['finished'] and not running(data, 'BackupTaskSession') and not running(data, 'BackupJobSession')
    assert not running(data, 'RestoreSession') and running(data, 'CdpReplicaTaskSession') == cdp
    assert all(data.by_id['BackupTaskSession'][uid.split(':')[-1]]['result'] == 'Warning'
               for uid in answer['finished'] if ':BackupTaskSession:' in uid)


@pytest.mark.parametrize('body, message', [
    ([], 'JSON object'), ({}, 'exactly one'), ({'vm_names': ['web-01'], 'all': True}, 'exactly one'),
    ({'vm_names': []}, 'non-empty list'), ({'vm_names': 'web-01'}, 'non-empty list'), ({'uids': [1]}, 'non-empty list'),
    ({'vm_names': ['WEB-01']}, "Unknown VM name.*'WEB-01'"), ({'uids': ['urn:veeam:Job:abc']}, 'Unknown session UID'),
    ({'uids': ['nonsense']}, 'Unknown session UID'), ({'all': False}, 'must be true'), ({'all': 1}, 'must be true'),
    ({'all': True, 'result': 'None'}, 'result must be one of'), ({'all': True, 'reason': 'x'}, 'reason needs result'),
    ({'all': True, 'result': 'Failed', 'reason': 5}, 'must be a string'), ({'all': True, 'when': 'now'}, 'Unknown key'),
])
def test_finish_refuses_bad_bodies(body, message):
    live, _clock = make_live(sessions=300)
    before = [dict(row) for row in live.dataset.rows['BackupTaskSession']]
    with pytest.raises(ControlError, match=message):
        live.finish(body)
    assert live.dataset.rows['BackupTaskSession'] == before


# -- POST /_emulator/sessions ---------------------------------------------------------------

def test_add_stale_session_for_a_new_vm_and_job():
    live, _clock = make_live()
    data = live.dataset
    jobs = len(data.rows['Job'])
    answer = live.add_session({'type': 'BackupTaskSession', 'vm_name': 'gate "stale";01', 'job_name': 'Gate Jobs',
                               'created': '-3d'})
    created = NOW_US - 3 * 86400 * SECOND
    assert answer['created'] == format_utc(created) and answer['end'] == format_utc(created + 300 * SECOND)
    assert (answer['state'], answer['result'], answer['job_name'], answer['finish_at']) == ('Completed', 'Success', 'Gate Jobs', None)
    task = data.by_id['BackupTaskSession'][answer['uid'].split(':')[-1]]
    assert select(data, 'BackupTaskSession', 'VmDisplayName=="gate ""stale"";01"') == [task]
    assert (task['reason'], task['job_name'], task['job_uid']) == ('', 'Gate Jobs', data.rows['Job'][-1]['uid'])
    parent = data.by_id['BackupJobSession'][answer['job_session_uid'].split(':')[-1]]
    assert parent['state'] == 'Stopped' and parent['result'] == 'Success' and parent['creation'] < created < parent['end']
    assert live.children.children('BackupTaskSession', 'job_session', parent['id']) == [task]
    assert len(data.rows['Job']) == jobs + 1 and data.by_id['Job'][data.rows['Job'][-1]['id']]['name'] == 'Gate Jobs'
    assert [row['creation'] for row in data.rows['BackupTaskSession']] == sorted(r['creation'] for r in data.rows['BackupTaskSession'])
    catalog = live.catalog()
    assert {'name': 'Gate Jobs', 'type': 'Backup', 'uid': data.rows['Job'][-1]['uid'], 'backup_server': 'vbr01.corp.example.com',
            'vms': ['gate "stale";01']} in catalog['jobs']
    assert catalog['counts']['BackupTaskSession'] == len(data.rows['BackupTaskSession'])
    # The same job again, spelt differently: no second job; an existing VM keeps its UID and size.
    again = live.add_session({'type': 'BackupTaskSession', 'vm_name': 'web-01', 'job_name': 'gate JOBS', 'result': 'Failed',
                              'created': '2025-08-15T21:40:00Z', 'end': '2025-08-15T22:10:00Z', 'reason': 'Boom.'})
    row = data.by_id['BackupTaskSession'][again['uid'].split(':')[-1]]
    known = next(r for r in data.rows['BackupTaskSession'] if r['vm_name'] == 'web-01' and r is not row)
    assert len(data.rows['Job']) == jobs + 1 and again['job_name'] == 'Gate Jobs'
    assert (row['result'], row['reason'], format_utc(row['end'])) == ('Failed', 'Boom.', '2025-08-15T22:10:00Z')
    assert (row['vm_uid'], row['total_size']) == (known['vm_uid'], known['total_size'])
    assert data.by_id['BackupJobSession'][row['job_session']['id']]['failure_message']
    assert live.catalog()['vm_count'] == catalog['vm_count']


def test_add_running_session_that_finishes_later():
    live, clock = make_live()
    data = live.dataset
    answer = live.add_session({'type': 'BackupTaskSession', 'vm_name': 'db-01', 'state': 'inprogress', 'created': '-30m',
                               'finish_after': 10, 'finish_result': 'Failed'})
    assert (answer['state'], answer['result'], answer['end']) == ('InProgress', 'None', None)
    assert answer['finish_at'] == format_utc(NOW_US + 10 * SECOND)
    entry = next(r for r in live.catalog()['running'] if r['uid'] == answer['uid'])
    assert entry == {'type': 'BackupTaskSession', 'uid': answer['uid'], 'vm_name': 'db-01', 'job_name': answer['job_name'],
                     'created': format_utc(NOW_US - 1800 * SECOND), 'finish_at': answer['finish_at']}
    guid = answer['uid'].split(':')[-1]
    assert data.by_id['BackupJobSession'][answer['job_session_uid'].split(':')[-1]]['state'] == 'Working'
    clock.value += 9.5
    live.tick()
    assert data.by_id['BackupTaskSession'][guid]['state'] == 'InProgress'
    clock.value += 0.5
    live.tick()
    row = data.by_id['BackupTaskSession'][guid]
    assert (row['state'], row['result'], row['end']) == ('Completed', 'Failed', NOW_US + 10 * SECOND)
    assert row['reason'] in _FAILED_REASONS
    parent = data.by_id['BackupJobSession'][answer['job_session_uid'].split(':')[-1]]
    assert (parent['state'], parent['result'], parent['end']) == ('Stopped', 'Failed', NOW_US + 10 * SECOND)
    # Without finish_after it runs until /finish says otherwise; it is not part of --running-finish-after either.
    other = live.add_session({'type': 'ReplicaTaskSession', 'vm_name': 'web-01', 'state': 'InProgress'})
    clock.value += 10 ** 6
    live.tick()
    assert data.by_id['ReplicaTaskSession'][other['uid'].split(':')[-1]]['state'] == 'InProgress'
    assert data.by_id['ReplicaTaskSession'][other['uid'].split(':')[-1]]['job_name'] in {
        j['name'] for j in data.rows['Job'] if j['job_type'] == 'Replica' and 'web-01' in [vm['name'] for vm in j['vms']]}


def test_add_cdp_sessions():
    live, _clock = make_live()
    data = live.dataset
    policy = data.rows['CdpPolicy'][0]
    answer = live.add_session({'type': 'CdpReplicaTaskSession', 'vm_name': 'web;01', 'job_name': policy['name'],
                               'state': 'InProgress', 'result': 'Failed', 'reason': 'RPO is not met.'})
    row = data.by_id['CdpReplicaTaskSession'][answer['uid'].split(':')[-1]]
    assert (row['state'], row['result'], row['reason'], row['end']) == ('InProgress', 'Failed', 'RPO is not met.', None)
    parent = data.by_id['CdpReplicaSession'][answer['job_session_uid'].split(':')[-1]]
    assert (parent['state'], parent['result'], parent['policy']['id']) == ('Working', 'None', policy['id'])
    assert 'web;01' in [vm['name'] for vm in policy['vms']]
    new = live.add_session({'type': 'CdpReplicaTaskSession', 'vm_name': 'cdp-new', 'job_name': 'CDP Gate', 'result': 'Warning'})
    assert data.rows['CdpPolicy'][-1]['name'] == 'CDP Gate' and data.by_id['CdpReplicaTaskSession'][new['uid'].split(':')[-1]]
    assert {'name': 'CDP Gate', 'uid': data.rows['CdpPolicy'][-1]['uid'], 'backup_server': 'vbr01.corp.example.com',
            'vms': ['cdp-new']} in live.catalog()['cdp_policies']


@pytest.mark.parametrize('body, message', [
    ('x', 'JSON object'), ({'vm_name': 'a'}, 'type must be one of'), ({'type': 'BackupJobSession', 'vm_name': 'a'}, 'type must be'),
    ({'type': 'BackupTaskSession', 'vm_name': ''}, 'vm_name must be'), ({'type': 'BackupTaskSession'}, 'vm_name must be'),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': 'DR Replica - SQL'}, 'is a Replica job'),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': 'CDP Policy 1'}, 'is a CDP policy'),
    ({'type': 'CdpReplicaTaskSession', 'vm_name': 'a', 'job_name': 'SQL Daily'}, 'is a Backup job'),
    ({'type': 'BackupTaskSession', 'vm_name': 'nowhere'}, "'nowhere' is in no Backup"),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': ''}, 'job_name must be'),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': 'J', 'state': 'Running'}, 'state must be'),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': 'J', 'state': 'InProgress', 'result': 'Failed'}, 'Result None'),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': 'J', 'state': 'InProgress', 'reason': 'x'}, 'no reason'),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': 'J', 'state': 'InProgress', 'end': 'now'}, 'no end'),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': 'J', 'finish_after': 1}, 'apply to running'),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': 'J', 'state': 'InProgress', 'finish_result': 'Failed'},
     'need finish_after'),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': 'J', 'state': 'InProgress', 'finish_after': -1}, 'finish_after must'),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': 'J', 'state': 'InProgress', 'finish_after': True}, 'finish_after must'),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': 'J', 'state': 'InProgress', 'finish_after': 1,
      'finish_result': 'Maybe'}, 'finish_result must be one of'),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': 'J', 'created': 'yesterday'}, 'created must be'),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': 'J', 'created': '+2d'}, 'created must be'),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': 'J', 'created': '-5'}, 'created must be'),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': 'J', 'created': '2999-01-01'}, 'later than'),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': 'J', 'created': '-1d', 'end': '-2d'}, 'before created'),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': 'J', 'result': 'Maybe'}, 'result must be one of'),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': 'J', 'result': ''}, 'result must be one of'),
    ({'type': 'BackupTaskSession', 'vm_name': 'a', 'job_name': 'J', 'color': 'red'}, 'Unknown key'),
])
def test_add_refuses_bad_bodies(body, message):
    live, _clock = make_live(sessions=300)
    counts = {kind: len(rows) for kind, rows in live.dataset.rows.items()}
    with pytest.raises(ControlError, match=message):
        live.add_session(body)
    assert {kind: len(rows) for kind, rows in live.dataset.rows.items()} == counts


# -- over HTTP --------------------------------------------------------------------------------

def q(**params):
    return '/api/query?' + '&'.join('%s=%s' % (name, quote(str(value), safe='')) for name, value in params.items())


def entities(reply, slot='BackupTaskSessions'):
    assert reply.status == 200, reply.body
    return reply.json()['Entities'][slot][slot]


def test_running_finish_after_over_http(start_emulator):
    emulator = start_emulator('--no-tls', '--running-finish-after', '1.5')
    client = emulator.client()
    assert client.logon().status == 201
    catalog = client.control('GET', 'catalog').json()
    assert catalog['running_finish_at'] == '2025-08-16T06:00:01.5Z'
    assert parse_datetime(NOW) <= parse_datetime(catalog['clock']) < parse_datetime('2025-08-16T06:00:01.5Z')
    flt = 'State==InProgress'
    before = entities(client.get_json(q(type='BackupTaskSession', format='Entities', filter=flt)))
    jobs = entities(client.get_json(q(type='BackupJobSession', format='Entities', filter='State==Working')), 'BackupJobSessions')
    assert len(before) > 2 and jobs and all(r['Result'] == 'None' for r in before)
    assert {r['uid'] for r in catalog['running'] if r['type'] == 'BackupTaskSession'} == {r['UID'] for r in before}
    deadline = time.monotonic() + 15
    while entities(client.get_json(q(type='BackupTaskSession', format='Entities', filter=flt))):
        assert time.monotonic() < deadline, 'running sessions did not finish'
        time.sleep(0.2)
    assert time.monotonic() - emulator.started >= 1.5
    uids = ','.join('UID==' + r['UID'] for r in before)
    after = entities(client.get_json(q(type='BackupTaskSession', format='Entities', filter=uids, pageSize=500)))
    assert len(after) == len(before)
    assert all(r['State'] == 'Completed' and r['EndTimeUTC'] == '2025-08-16T06:00:01.5Z' and r['Result'] in RESULTS for r in after)
    for job in jobs:
        ended = client.get_json('/api/backupSessions/%s?format=Entity' % job['UID'].split(':')[-1]).json()
        children = entities_list(client.get_json('/api/backupSessions/%s/taskSessions?format=Entity' % job['UID'].split(':')[-1]))
        assert ended['State'] == 'Stopped' and ended['EndTimeUTC'] == '2025-08-16T06:00:01.5Z'
        assert ended['Result'] == max((c['Result'] for c in children), key=ORDER.get)
    assert entities(client.get_json(q(type='CdpReplicaTaskSession', format='Entities', filter='State==InProgress')),
                    'CdpReplicaTaskSessions')
    assert client.logoff().status == 204


def entities_list(reply):
    assert reply.status == 200
    return reply.json()['BackupTaskSessions']


def test_sessions_and_finish_endpoints_over_http(start_emulator):
    emulator = start_emulator('--no-tls')
    client = emulator.client()
    add = {'type': 'BackupTaskSession', 'vm_name': 'gate;vm', 'job_name': 'Gate Jobs'}
    uids = {}
    for created, result in (('-1d', 'Success'), ('-3d', 'Failed'), ('-2d', 'Warning')):
        reply = client.control('POST', 'sessions', dict(add, created=created, result=result))
        assert reply.status == 200, reply.body
        uids[created] = reply.json()['uid']
    client.logon()
    flt = 'VmDisplayName=="gate;vm"'
    first = client.get_json(q(type='BackupTaskSession', format='Entities', filter=flt, sortDesc='CreationTime', pageSize=2)).json()
    second = client.get_json(q(type='BackupTaskSession', format='Entities', filter=flt, sortDesc='CreationTime', pageSize=2,
                               page=2)).json()
    assert first['PagingInfo']['PagesCount'] == 2
    rows = first['Entities']['BackupTaskSessions']['BackupTaskSessions'] + second['Entities']['BackupTaskSessions']['BackupTaskSessions']
    assert [r['UID'] for r in rows] == [uids['-1d'], uids['-2d'], uids['-3d']]
    assert [r['Result'] for r in rows] == ['Success', 'Warning', 'Failed'] and rows[1]['Reason'] and rows[2]['Reason']
    plain = client.get_json(q(type='BackupTaskSession', filter=flt)).json()['Refs']['Refs']
    assert [r['UID'] for r in plain] == [uids['-3d'], uids['-2d'], uids['-1d']]
    assert [r['UID'] for r in entities(client.get_json(q(type='BackupTaskSession', format='Entities',
                                                         filter=flt + ';Result>Success')))] == [uids['-3d'], uids['-2d']]
    guid = uids['-3d'].split(':')[-1]
    entity = client.get_json('/api/backupTaskSessions/%s?format=Entity' % guid).json()
    assert entity['VmDisplayName'] == 'gate;vm' and entity['Result'] == 'Failed'
    parent = client.get_json('/api/backupSessions/%s?format=Entity' % entity['JobSessionUid'].split(':')[-1]).json()
    assert parent['JobName'] == 'Gate Jobs' and parent['Result'] == 'Failed' and parent['FailureMessage']
    children = client.get_json('/api/backupSessions/%s/taskSessions' % entity['JobSessionUid'].split(':')[-1]).json()['Refs']
    assert [c['UID'] for c in children] == [uids['-3d']]
    job = client.get_json(q(type='Job', format='Entities', filter='Name=="Gate Jobs"')).json()['Entities']['Jobs']['Jobs']
    assert len(job) == 1 and job[0]['JobType'] == 'Backup'
    catalog = client.control('GET', 'catalog').json()
    assert next(j for j in catalog['jobs'] if j['name'] == 'Gate Jobs')['vms'] == ['gate;vm']
    running = client.control('POST', 'sessions', dict(add, state='InProgress')).json()
    assert client.get_json('/api/backupTaskSessions/%s?format=Entity' % running['uid'].split(':')[-1]).json()['Result'] == 'None'
    reply = client.control('POST', 'finish', {'vm_names': ['gate;vm'], 'result': 'Failed', 'reason': 'Quiesce failed.'})
    assert reply.status == 200 and reply.json() == {'finished': [running['uid'], running['job_session_uid']], 'not_running': []}
    done = client.get_json('/api/backupTaskSessions/%s?format=Entity' % running['uid'].split(':')[-1]).json()
    assert (done['State'], done['Result'], done['Reason']) == ('Completed', 'Failed', 'Quiesce failed.') and done['EndTimeUTC']
    for name, body in (('finish', {'vm_names': ['no such vm']}), ('sessions', {'type': 'Nope'})):
        reply = client.control('POST', name, body)
        assert reply.status == 400 and reply.json()['error']
    for body in (b'{not json', b'', b'\xff'):
        reply = client.request('POST', '/_emulator/finish', body=body, token='')
        assert reply.status == 400 and ('JSON' in reply.json()['error'] or 'UTF-8' in reply.json()['error'])
    reply = client.control('GET', 'finish')
    assert reply.status == 404 and 'POST finish, POST sessions' in reply.json()['error']
    assert client.logoff().status == 204


def test_queries_stay_consistent_while_sessions_change(start_emulator):
    emulator = start_emulator('--no-tls')
    writer = emulator.client()
    problems = []
    stop = threading.Event()

    def check(row):
        running = row['State'] in ('InProgress', 'Working')
        if running != (row['EndTimeUTC'] is None) or (row['Result'] == 'None') != running:
            problems.append(row)

    def read():
        client = emulator.client()
        client.logon()
        while not stop.is_set():
            for qtype, slot in (('BackupTaskSession', 'BackupTaskSessions'), ('BackupJobSession', 'BackupJobSessions')):
                reply = client.get_json(q(type=qtype, format='Entities', filter='CreationTime>="2025-08-16"', pageSize=1000))
                if reply.status != 200:
                    problems.append(reply.status)
                    continue
                for row in reply.json()['Entities'][slot][slot]:
                    check(row)
        client.logoff()

    readers = [threading.Thread(target=read) for _number in range(3)]
    for thread in readers:
        thread.start()
    try:
        added = []
        for number in range(25):
            body = {'type': 'BackupTaskSession', 'vm_name': 'vm-%02d' % number, 'job_name': 'Busy Job', 'created': '-10m'}
            if number % 2:
                body['state'] = 'InProgress'
            reply = writer.control('POST', 'sessions', body)
            assert reply.status == 200, reply.body
            added.append(reply.json()['uid'])
            if number % 5 == 4:
                assert writer.control('POST', 'finish', {'all': True}).status == 200
    finally:
        stop.set()
        for thread in readers:
            thread.join(30)
    assert not problems, problems[:3]
    writer.logon()
    seen = entities(writer.get_json(q(type='BackupTaskSession', format='Entities', filter='JobName=="Busy Job"', pageSize=100)))
    assert sorted(r['UID'] for r in seen) == sorted(added)
    writer.logoff()


def _newest(client, query_type, collection):
    """The newest entity of a query type, by CreationTime, as the API answers it."""
    answer = client.get_json('/api/query?type=%s&format=Entities&sortDesc=CreationTime&pageSize=1' % query_type).json()
    return answer['Entities'][collection][collection][0]


def test_data_lag_puts_every_generated_row_before_its_anchor_and_keeps_the_clock(start_emulator):
    # What restore_point_session_result relies on: rows a test adds an hour ago are newer than every generated one.
    before = time.time()
    emulator = start_emulator('--seed', '1', '--vms', '12', '--sessions', '300', '--data-lag', '2', base=False)
    client = emulator.client()
    assert client.logon().status == 201
    catalog = client.control('GET', 'catalog').json()
    anchor, clock = parse_datetime(catalog['now']), parse_datetime(catalog['clock'])
    # The clock is the wall clock (it does not lag with the data), the anchor at least two hours behind it.
    assert clock >= int(before) * SECOND and clock - anchor >= 2 * 3600 * SECOND
    for query_type, collection, field in (('BackupTaskSession', 'BackupTaskSessions', 'EndTimeUTC'),
                                          ('BackupJobSession', 'BackupJobSessions', 'EndTimeUTC'),
                                          ('VmRestorePoint', 'VmRestorePoints', None),
                                          ('AgentRestorePoint', 'AgentRestorePoints', None)):
        newest = _newest(client, query_type, collection)
        assert parse_datetime(newest['CreationTimeUTC']) <= anchor, (query_type, newest)
        if field and newest.get(field):
            assert parse_datetime(newest[field]) <= anchor, (query_type, newest)
    client.logoff()


def test_data_lag_refuses_what_is_not_a_number_of_hours(start_emulator):
    with pytest.raises(RuntimeError, match='--data-lag must be a number of hours from 0 to 240'):
        start_emulator('--data-lag', '-1')
