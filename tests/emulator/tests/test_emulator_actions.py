"""Quick backup, job start, data collection, tasks and accounts with roles.

Waiting tests poll until a state changes (never a wall-clock upper bound); the emulator's action log
(``GET /_emulator/actions``) gives the emulator-clock times that prove what overlapped.
"""

from __future__ import annotations

import json
import os
import time
import xml.etree.ElementTree as ET

import pytest

from emulator.query import parse_datetime

from test_emulator_protection import DOCS, NS, api_path, docs_example, query_json, shape

USERS = ('--users', 'operator:op-pw:PortalUser,restorer:re-pw:Restore Operator')
POLL_LIMIT = 120.0


def start(start_emulator, *args):
    emulator = start_emulator('--no-tls', *(USERS + args))
    admin = emulator.client()
    assert admin.logon().status == 201
    return emulator, admin


def idle_backup_targets(admin, count=2):
    """(job, vm name, VmRef, backup server id) for ``count`` VMs in different backup jobs that are not running."""
    catalog = admin.control('GET', 'catalog').json()
    running = {row['job_name'] for row in catalog['running']}
    servers = {server['name']: server['uid'].split(':')[-1] for server in catalog['backup_servers']}
    targets = []
    for job in catalog['jobs']:
        if job['type'] == 'Backup' and job['name'] not in running:
            vm_name = job['vms'][-1]
            task = query_json(admin, 'BackupTaskSession', 'VmDisplayName=="%s"' % vm_name, pageSize=1)[0]
            targets.append((job, vm_name, task['VmUid'], servers[job['backup_server']]))
    assert len(targets) >= count
    return targets[:count]


def quick_backup(client, server_id, vm_ref, body=None, content_type='application/json'):
    headers = {'Accept': 'application/json'}
    if content_type:
        headers['Content-Type'] = content_type
    if body is None:
        body = json.dumps({'VmRef': vm_ref})
    return client.request('POST', '/api/backupServers/%s?action=quickbackup' % server_id, headers=headers,
                          body=body.encode('utf-8'))


def task_of(client, task_id):
    reply = client.get_json('/api/tasks/' + task_id)
    assert reply.status == 200, reply.text()
    return reply.json()


def wait_task(client, task_id, state):
    deadline = time.monotonic() + POLL_LIMIT
    while True:
        task = task_of(client, task_id)
        if task['State'] == state:
            return task
        assert time.monotonic() < deadline, 'task %s stayed %s' % (task_id, task['State'])
        time.sleep(0.05)


def related(entity, rel='Related'):
    return [api_path(link['Href']) for link in entity['Links'] if link['Rel'] == rel]


def test_quick_backup_runs_and_leaves_a_restore_point(start_emulator):
    _emulator, admin = start(start_emulator, '--action-duration', '0.3')
    job, vm_name, vm_ref, server_id = idle_backup_targets(admin, 1)[0]
    reply = quick_backup(admin, server_id, vm_ref)
    assert reply.status == 202 and reply.reason == 'Accepted'
    task = reply.json()
    assert (task['TaskId'], task['State'], task['Operation'], task['Result']) == ('task-1', 'Running', 'QuickBackup', None)
    assert [(link['Rel'], link['Type']) for link in task['Links']] == [('Delete', 'Task')]
    done = wait_task(admin, task['TaskId'], 'Finished')
    assert done['Result'] == {'Success': True, 'Message': 'Ok'}
    session = admin.get_json(related(done)[0]).json()
    assert (session['JobName'], session['State'], session['Result']) == (job['name'], 'Stopped', 'Success')
    tasks = admin.get_json(related(session, 'Down')[0] + '?format=Entity').json()['BackupTaskSessions']
    assert [row['VmDisplayName'] for row in tasks] == [vm_name]
    point = admin.get_json(related(tasks[0])[0]).json()
    log = admin.control('GET', 'actions').json()['actions']
    assert [(entry['operation'], entry['task_id'], entry['vm_names'], entry['result']) for entry in log] == [
        ('QuickBackup', 'task-1', [vm_name], 'Success')]
    assert parse_datetime(point['CreationTimeUTC']) == parse_datetime(log[0]['finished']) == parse_datetime(tasks[0]['EndTimeUTC'])
    assert (point['VmName'], point['HierarchyObjRef'], point['PointType']) == (vm_name, vm_ref, 'Increment')
    newest = query_json(admin, 'VmRestorePoint', 'VmDisplayName=="%s"' % vm_name, pageSize=1, sortDesc='CreationTime')[0]
    assert newest['UID'] == point['UID']


def test_task_lifecycle_waits_for_data_collection(start_emulator):
    _emulator, admin = start(start_emulator, '--action-duration', '0.2', '--collection-lag', '3600')
    _job, vm_name, vm_ref, server_id = idle_backup_targets(admin, 1)[0]
    before = query_json(admin, 'VmRestorePoint', 'VmDisplayName=="%s"' % vm_name, pageSize=1, sortDesc='CreationTime')[0]
    task = quick_backup(admin, server_id, vm_ref).json()
    waiting = wait_task(admin, task['TaskId'], 'OperationFinished')
    assert waiting['Result'] == {'Success': True, 'Message': 'OperationFinished'} and not related(waiting)
    # Finished on the backup server, not collected: EM still shows the session running and no new point.
    assert query_json(admin, 'VmRestorePoint', 'VmDisplayName=="%s"' % vm_name, pageSize=1,
                      sortDesc='CreationTime')[0]['UID'] == before['UID']
    collect = admin.request('POST', '/api/backupServers/%s?action=collect' % server_id, headers={'Accept': 'application/json'})
    assert collect.status == 202 and collect.json()['Operation'] == 'CollectingBackupServer'
    assert task_of(admin, collect.json()['TaskId'])['Result'] == {
        'Success': True, 'Message': 'Data collection started. To view results, go to Sessions.'}
    assert task_of(admin, task['TaskId'])['State'] == 'Finished'
    newest = query_json(admin, 'VmRestorePoint', 'VmDisplayName=="%s"' % vm_name, pageSize=1, sortDesc='CreationTime')[0]
    assert newest['UID'] != before['UID']


def test_one_quick_backup_per_job_at_a_time_and_jobs_in_parallel(start_emulator):
    # Runs last until finish_now ends them, so the proof does not depend on how fast requests are served.
    _emulator, admin = start(start_emulator, '--action-duration', '3600')
    (job_a, vm_a, ref_a, server_a), (job_b, _vm_b, ref_b, server_b) = idle_backup_targets(admin, 2)
    other_vm = [name for name in job_a['vms'] if name != vm_a][0]
    other_ref = query_json(admin, 'BackupTaskSession', 'VmDisplayName=="%s"' % other_vm, pageSize=1)[0]['VmUid']
    first = quick_backup(admin, server_a, ref_a).json()['TaskId']
    refused = quick_backup(admin, server_a, other_ref)
    assert refused.status == 409 and job_a['name'] in refused.json()['Message']
    parallel = quick_backup(admin, server_b, ref_b)
    assert parallel.status == 202
    assert task_of(admin, first)['State'] == 'Running'
    assert admin.control('POST', 'actions', {'finish_now': True}).status == 200
    wait_task(admin, first, 'Finished')
    second = quick_backup(admin, server_a, other_ref)
    assert second.status == 202
    admin.control('POST', 'actions', {'finish_now': True})
    wait_task(admin, second.json()['TaskId'], 'Finished')
    wait_task(admin, parallel.json()['TaskId'], 'Finished')
    log = {entry['task_id']: entry for entry in admin.control('GET', 'actions').json()['actions']}
    times = {task_id: (parse_datetime(entry['started']), parse_datetime(entry['finished'])) for task_id, entry in log.items()}
    one, two, across = times[first], times[second.json()['TaskId']], times[parallel.json()['TaskId']]
    assert two[0] >= one[1], 'serial within one job'
    assert across[0] < one[1] and one[0] < across[1], 'parallel across jobs'
    assert {log[first]['job_name'], log[parallel.json()['TaskId']]['job_name']} == {job_a['name'], job_b['name']}


def test_quick_backup_refusals(start_emulator):
    _emulator, admin = start(start_emulator)
    catalog = admin.control('GET', 'catalog').json()
    _job, _vm, vm_ref, server_id = idle_backup_targets(admin, 1)[0]
    root = catalog['hierarchy_roots'][0]['uid']
    retired = admin.get_json('/api/lookup?host=%s&type=Vm&name=%s' % (root, catalog['retired_vms'][0])).json()
    retired_ref = retired['HierarchyItems'][0]['ObjectRef']
    first_server = catalog['backup_servers'][0]['uid'].split(':')[-1]
    cases = [
        (quick_backup(admin, server_id, vm_ref, content_type=None), 400, 'Content-Type'),
        (quick_backup(admin, server_id, vm_ref, content_type='text/plain'), 415, 'text/plain'),
        (quick_backup(admin, server_id, vm_ref, body='{"VmRef": '), 400, 'could not be read'),
        (quick_backup(admin, server_id, vm_ref, body='{"VmRef": "web-01"}'), 400, 'HierarchyObjRef'),
        (quick_backup(admin, server_id, vm_ref, body='{}'), 400, 'exactly one VmRef'),
        (quick_backup(admin, first_server, retired_ref), 400, 'not processed by any backup job'),
        (quick_backup(admin, '00000000-0000-4000-8000-000000000000', vm_ref), 404, 'BackupServer'),
        (admin.request('POST', '/api/backupServers/%s?action=bogus' % server_id, headers={'Accept': 'application/json'}),
         400, 'Unknown action'),
        (admin.request('POST', '/api/backupSessions/%s?action=stop' % server_id, headers={'Accept': 'application/json'}),
         405, 'not allowed'),
    ]
    for reply, status, words in cases:
        assert reply.status == status and words in reply.json()['Message'], reply.text()
    # A VM in a job that never made a backup of it: no full backup to add an increment to.
    body = {'type': 'BackupTaskSession', 'vm_name': 'fresh-vm-01', 'job_name': 'Fresh Job', 'result': 'Failed', 'created': '-1h'}
    added = admin.control('POST', 'sessions', body).json()
    fresh = query_json(admin, 'BackupTaskSession', 'UID=="%s"' % added['uid'])[0]
    reply = quick_backup(admin, first_server, fresh['VmUid'])
    assert reply.status == 400 and 'no full backup' in reply.json()['Message']
    assert admin.control('GET', 'actions').json()['actions'] == []


def test_docs_request_body_is_parsed(start_emulator):
    _emulator, admin = start(start_emulator, '--action-duration', '0.1')
    _job, _vm, vm_ref, server_id = idle_backup_targets(admin, 1)[0]
    with open(os.path.join(DOCS, 'QuickBackupStartupSpec.xml'), encoding='utf-8') as handle:
        documented = handle.read()
    unknown = quick_backup(admin, server_id, None, body=documented, content_type='application/xml')
    assert unknown.status == 400 and 'urn:VMware:Vm:02bd0847-f522-4670-90eb-10312498809d.vm-80225' in unknown.json()['Message']
    reply = admin.request('POST', '/api/backupServers/%s?action=quickbackup' % server_id,
                          headers={'Content-Type': 'application/xml'},
                          body=documented.replace('urn:VMware:Vm:02bd0847-f522-4670-90eb-10312498809d.vm-80225', vm_ref).encode())
    assert reply.status == 202 and reply.header('Content-Type') == 'application/xml'
    served = ET.fromstring(reply.body)
    assert shape(served) == shape(docs_example('Task-QuickBackup-Running.xml'))
    task_id = served.find(NS + 'TaskId').text
    wait_task(admin, task_id, 'Finished')
    finished = ET.fromstring(admin.get('/api/tasks/' + task_id).body)
    assert shape(finished) == shape(docs_example('Task-QuickBackup-Finished.xml'))
    assert finished.find(NS + 'Result').get('Success') == 'true'


def test_tasks_belong_to_the_logon_session_that_made_them(start_emulator):
    emulator, admin = start(start_emulator, '--action-duration', '600')
    _job, _vm, vm_ref, server_id = idle_backup_targets(admin, 1)[0]
    task_id = quick_backup(admin, server_id, vm_ref).json()['TaskId']
    other = emulator.client()
    assert other.logon().status == 201
    hidden = other.get_json('/api/tasks/' + task_id)
    assert hidden.status == 404 and task_id in hidden.json()['Message']
    assert other.get_json('/api/tasks').json() == {'Tasks': []}
    assert [task['TaskId'] for task in admin.get_json('/api/tasks').json()['Tasks']] == [task_id]
    assert other.request('DELETE', '/api/tasks/' + task_id).status == 404
    assert admin.request('DELETE', '/api/tasks/' + task_id).status == 204
    assert admin.get_json('/api/tasks/' + task_id).status == 404


def test_roles_decide_who_may_back_up_and_start_jobs(start_emulator):
    emulator, admin = start(start_emulator, '--action-duration', '600')
    (job, _vm, vm_ref, server_id), (_job_b, _vm_b, ref_b, server_b) = idle_backup_targets(admin, 2)
    restorer = emulator.client()
    assert restorer.logon('restorer', 're-pw').status == 201
    refused = quick_backup(restorer, server_id, vm_ref)
    assert refused.status == 403 and 'Restore' in refused.json()['Message'] and 'PortalUser' in refused.json()['Message']
    operator = emulator.client()
    assert operator.logon('operator', 'op-pw').status == 201
    assert quick_backup(operator, server_b, ref_b).status == 202
    job_id = job['uid'].split(':')[-1]
    for path in ('/api/jobs/%s?action=start' % job_id, '/api/backupServers/%s?action=collect' % server_id):
        reply = operator.request('POST', path, headers={'Accept': 'application/json'})
        assert reply.status == 403 and 'PortalAdministrator' in reply.json()['Message']
    assert operator.logon('operator', 'wrong').status == 401
    assert admin.request('POST', '/api/jobs/%s?action=start' % job_id).status == 202


def test_job_start_runs_every_vm_with_chosen_outcomes(start_emulator):
    _emulator, admin = start(start_emulator, '--action-duration', '3600')
    job = idle_backup_targets(admin, 1)[0][0]
    failing = job['vms'][0]
    assert admin.control('POST', 'actions', {'outcomes': {failing: 'Failed'}}).json()['outcomes'] == {failing: 'Failed'}
    reply = admin.request('POST', '/api/jobs/%s?action=start' % job['uid'].split(':')[-1], headers={'Accept': 'application/json'})
    assert reply.status == 202 and reply.json()['Operation'] == 'StartJob'
    again = admin.request('POST', '/api/jobs/%s?action=start' % job['uid'].split(':')[-1], headers={'Accept': 'application/json'})
    assert again.status == 409
    task = wait_task(admin, reply.json()['TaskId'], 'Finished')
    assert admin.get_json(related(task)[0]).json()['State'] == 'Working'
    admin.control('POST', 'actions', {'finish_now': True})
    assert task['Result'] == {'Success': True, 'Message': 'Job "%s" triggered to start.' % job['name']}
    session_path = related(task)[0]
    deadline = time.monotonic() + POLL_LIMIT
    while admin.get_json(session_path).json()['State'] != 'Stopped':
        assert time.monotonic() < deadline
        time.sleep(0.05)
    session = admin.get_json(session_path).json()
    assert session['Result'] == 'Failed' and session['JobName'] == job['name']
    tasks = admin.get_json(related(session, 'Down')[0] + '?format=Entity').json()['BackupTaskSessions']
    assert sorted(row['VmDisplayName'] for row in tasks) == sorted(job['vms'])
    for row in tasks:
        expected = 'Failed' if row['VmDisplayName'] == failing else 'Success'
        assert row['Result'] == expected and bool(related(row)) == (expected == 'Success')
    assert 'Related' not in [link['Rel'] for link in session['Links']]


def test_name_rule_fails_a_vm_and_no_point_is_made(start_emulator):
    _emulator, admin = start(start_emulator, '--action-duration', '0.1')
    job = idle_backup_targets(admin, 1)[0][0]
    body = {'type': 'BackupTaskSession', 'vm_name': 'app-fail-01', 'job_name': job['name'], 'created': '-1d'}
    added = admin.control('POST', 'sessions', body).json()
    row = query_json(admin, 'BackupTaskSession', 'UID=="%s"' % added['uid'])[0]
    before = query_json(admin, 'VmRestorePoint', 'VmDisplayName==app-fail-01')
    assert len(before) == 1
    server_id = [s['uid'] for s in admin.control('GET', 'catalog').json()['backup_servers']
                 if s['name'] == job['backup_server']][0].split(':')[-1]
    task = wait_task(admin, quick_backup(admin, server_id, row['VmUid']).json()['TaskId'], 'Finished')
    assert task['Result']['Success'] is False and task['Result']['Message']
    assert query_json(admin, 'VmRestorePoint', 'VmDisplayName==app-fail-01') == before


def test_points_control_endpoint(start_emulator):
    _emulator, admin = start(start_emulator)
    answer = admin.control('POST', 'points', {'type': 'VmRestorePoint', 'vm_name': 'archive-01', 'created': '-45d',
                                              'point_type': 'Full'}).json()
    point = query_json(admin, 'VmRestorePoint', 'VmDisplayName==archive-01')
    assert [p['UID'] for p in point] == [answer['uid']] and point[0]['PointType'] == 'Full'
    assert query_json(admin, 'BackupTaskSession', 'VmDisplayName==archive-01') == []
    agent = admin.control('POST', 'points', {'type': 'AgentRestorePoint', 'computer_name': 'PHYS-SQL-01', 'created': '-1h'}).json()
    assert query_json(admin, 'AgentRestorePoint', 'ComputerName==PHYS-SQL-01;UID=="%s"' % agent['uid'])
    for bad in ({'type': 'Nope', 'vm_name': 'x'}, {'type': 'VmRestorePoint'}, {'type': 'VmRestorePoint', 'vm_name': 'x',
                'created': '+1d'}, {'type': 'AgentRestorePoint', 'vm_name': 'x'}, {'type': 'VmReplicaPoint', 'vm_name': 'x'},
                {'type': 'VmRestorePoint', 'vm_name': 'x', 'job_name': 'No Such Job'}, {'type': 'VmRestorePoint', 'vm_name': 'x',
                                                                                        'extra': 1}):
        reply = admin.control('POST', 'points', bad)
        assert reply.status == 400 and reply.json()['error'], bad


def test_actions_control_endpoint_validates(start_emulator):
    _emulator, admin = start(start_emulator)
    settings = admin.control('GET', 'actions').json()
    assert (settings['duration'], settings['collection_lag'], settings['actions']) == (5.0, 0.0, [])
    for bad in ({'duration': -1}, {'duration': 'soon'}, {'collection_lag': True}, {'outcomes': {'web-01': 'Maybe'}},
                {'outcomes': []}, {'speed': 1}, {'finish_now': 'yes'}, []):
        reply = admin.control('POST', 'actions', bad)
        assert reply.status == 400 and reply.json()['error'], bad
    assert admin.control('POST', 'actions', {'duration': 2, 'collection_lag': 1.5}).json()['duration'] == 2.0
    assert admin.control('POST', 'actions', {'outcomes': {'web-01': None}}).json()['outcomes'] == {}


@pytest.mark.parametrize('users', ['nobody', 'a:b:Superuser', ':pw:PortalUser'])
def test_bad_users_option_is_refused(start_emulator, users):
    with pytest.raises(RuntimeError, match='--users'):
        start_emulator('--no-tls', '--users', users)


def test_agent_start_link_is_documented_but_not_emulated(client):
    job = client.control('GET', 'catalog').json()['agent_jobs'][0]
    reply = client.request('POST', '/api/agents/jobs/%s?action=start' % job['uid'].split(':')[-1],
                           headers={'Accept': 'application/json'})
    assert reply.status == 405 and '/api/agents/jobs/' in reply.json()['Message']


def test_agent_sessions_control_endpoint(start_emulator):
    _emulator, admin = start(start_emulator)
    query_json(admin, 'AgentRestorePoint', pageSize=1)  # points exist before the session is added
    failed = admin.control('POST', 'agent_sessions', {'computer_name': 'PHYS-SQL-01', 'result': 'Failed', 'created': '-2h'})
    assert failed.status == 200, failed.text()
    newest = query_json(admin, 'BackupJobSession', 'JobType==AgentManagement;JobName=="Physical Servers - PHYS-SQL-01"',
                        pageSize=1, sortDesc='CreationTime')[0]
    assert (newest['UID'], newest['Result'], newest['State']) == (failed.json()['uid'], 'Failed', 'Stopped')
    assert 'Related' not in [link['Rel'] for link in newest['Links']]
    made = admin.control('POST', 'agent_sessions', {'computer_name': 'phys-new-01', 'job_name': 'linux agents'}).json()
    assert (made['job_name'], made['result']) == ('Linux Agents', 'Success')
    point = query_json(admin, 'AgentRestorePoint', 'ComputerName==phys-new-01')
    assert len(point) == 1 and parse_datetime(point[0]['CreationTimeUTC']) == parse_datetime(made['end'])
    parent = query_json(admin, 'BackupJobSession', 'UID=="%s"' % made['parent_uid'])[0]
    assert (parent['JobType'], parent['Result']) == ('AgentBackup', 'Success')
    catalog = admin.control('GET', 'catalog').json()
    assert 'phys-new-01' in [job for job in catalog['agent_jobs'] if job['name'] == 'Linux Agents'][0]['computers']
    for bad in ({'computer_name': ''}, {'computer_name': 'x', 'result': 'Meh'}, {'computer_name': 'x', 'job_name': 'Nope'},
                {'computer_name': 'x', 'created': 'tomorrow'}, {'computer_name': 'x', 'state': 'InProgress'}):
        reply = admin.control('POST', 'agent_sessions', bad)
        assert reply.status == 400 and reply.json()['error'], bad


def test_job_start_and_collect_tasks_have_the_shape_of_the_docs_examples(start_emulator):
    _emulator, admin = start(start_emulator, '--action-duration', '0.1')
    job, _vm, _ref, server_id = idle_backup_targets(admin, 1)[0]
    collect = ET.fromstring(admin.request('POST', '/api/backupServers/%s?action=collect' % server_id).body)
    finished = ET.fromstring(admin.get('/api/tasks/' + collect.find(NS + 'TaskId').text).body)
    assert shape(finished) == shape(docs_example('Task-Collect-Finished.xml'))
    started = ET.fromstring(admin.request('POST', '/api/jobs/%s?action=start' % job['uid'].split(':')[-1]).body)
    task_id = started.find(NS + 'TaskId').text
    assert started.find(NS + 'Operation').text == 'StartJob'
    wait_task(admin, task_id, 'Finished')
    served = ET.fromstring(admin.get('/api/tasks/' + task_id).body)
    tag, attrs, links, children = shape(docs_example('Task-StartJob-Finished.xml'))
    # The emulator adds the Related link to the job session (only the quick backup example shows one).
    assert shape(served) == (tag, attrs, links + [('Related', 'BackupJobSession')], children)
    assert served.find(NS + 'Result').find(NS + 'Message').text == 'Job "%s" triggered to start.' % job['name']


def test_a_point_not_collected_shows_only_after_collect_which_stats_count(start_emulator):
    _emulator, admin = start(start_emulator)
    catalog = admin.control('GET', 'catalog').json()
    vm_name = catalog['retired_vms'][0]
    server_id = catalog['backup_servers'][0]['uid'].split(':')[-1]
    added = admin.control('POST', 'points', {'type': 'VmRestorePoint', 'vm_name': vm_name, 'created': '-1m',
                                             'collected': False}).json()
    assert added['collected'] is False
    uids = [row['UID'] for row in query_json(admin, 'VmRestorePoint', 'VmDisplayName=="%s"' % vm_name)]
    assert added['uid'] not in uids
    before = admin.control('GET', 'stats').json()['collections']
    reply = admin.request('POST', '/api/backupServers/%s?action=collect' % server_id)
    assert reply.status == 202
    uids = [row['UID'] for row in query_json(admin, 'VmRestorePoint', 'VmDisplayName=="%s"' % vm_name)]
    assert added['uid'] in uids
    assert admin.control('GET', 'stats').json()['collections'] == before + 1
    assert admin.control('GET', 'actions').json()['collections'] == before + 1


def test_collected_must_be_a_boolean(start_emulator):
    _emulator, admin = start(start_emulator)
    vm_name = admin.control('GET', 'catalog').json()['retired_vms'][0]
    reply = admin.control('POST', 'points', {'type': 'VmRestorePoint', 'vm_name': vm_name, 'collected': 'no'})
    assert reply.status == 400
    assert 'collected must be true or false' in reply.json()['error']


def test_a_failed_session_with_made_point_links_its_point(start_emulator):
    _emulator, admin = start(start_emulator)
    catalog = admin.control('GET', 'catalog').json()
    vm_name = next(job for job in catalog['jobs'] if job['type'] == 'Backup')['vms'][0]
    added = admin.control('POST', 'sessions', {'type': 'BackupTaskSession', 'vm_name': vm_name, 'result': 'Failed',
                                               'made_point': True, 'created': '-10m'}).json()
    task = [row for row in query_json(admin, 'BackupTaskSession', 'VmDisplayName=="%s"' % vm_name) if row['UID'] == added['uid']][0]
    related = [link['Href'] for link in task['Links'] if link['Rel'] == 'Related']
    assert task['Result'] == 'Failed' and len(related) == 1
    point_guid = related[0].split('?')[0].rsplit('/', 1)[-1]
    points = query_json(admin, 'VmRestorePoint', 'VmDisplayName=="%s"' % vm_name, sortDesc='CreationTime')
    assert points[0]['UID'].endswith(point_guid)


def test_made_point_is_refused_for_a_running_or_non_backup_session(start_emulator):
    _emulator, admin = start(start_emulator)
    catalog = admin.control('GET', 'catalog').json()
    vm_name = next(job for job in catalog['jobs'] if job['type'] == 'Backup')['vms'][0]
    for body in ({'type': 'BackupTaskSession', 'vm_name': vm_name, 'state': 'InProgress', 'made_point': True},
                 {'type': 'BackupTaskSession', 'vm_name': vm_name, 'made_point': 'yes'},
                 {'type': 'ReplicaTaskSession', 'vm_name': vm_name, 'made_point': True}):
        reply = admin.control('POST', 'sessions', body)
        assert reply.status == 400, body
        assert 'made_point applies to a completed BackupTaskSession' in reply.json()['error']
