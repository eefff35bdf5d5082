# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""actions.py: planning, scheduling per job, polling, result shaping (pure), and the client's POST over real HTTPS."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import socket
from datetime import datetime

import pytest

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import actions
from ansible_collections.vbem.enterprise_manager.plugins.module_utils import client as client_module
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError, EmInterrupted
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.options import EmOptionAdapter

NOW = datetime(2026, 12, 7, 12, 0, 0)


def plan(**params):
    params.setdefault('vms', ['web01'])
    return actions.plan_quick_backup(params, now=NOW)


# -- planning ------------------------------------------------------------------------------------

def test_plan_defaults_and_names_folded_once_in_input_order():
    planned = plan(vms=['web01', 'DB02', 'Web01', 'db02', 'web01'])
    assert planned['names'] == ['web01', 'DB02']
    assert [key for key, _name in planned['targets']] == ['web01', 'DB02', 'Web01', 'db02']
    assert (planned['wait'], planned['wait_timeout'], planned['poll_interval'], planned['concurrency'], planned['cutoff']) == (
        True, actions.DEFAULT_WAIT_TIMEOUT, actions.DEFAULT_POLL_INTERVAL, actions.DEFAULT_CONCURRENCY, None)


def test_plan_dict_keys_kept_and_string_is_one_name():
    assert plan(vms={'h1': 'web01', 'h2': 'WEB01'})['targets'] == [('h1', 'web01'), ('h2', 'WEB01')]
    assert plan(vms={'h1': 'web01', 'h2': 'WEB01'})['names'] == ['web01']
    assert plan(vms='db,02')['names'] == ['db,02']


def test_plan_max_age_relative_and_absolute():
    assert plan(max_age='4h')['cutoff'] == datetime(2026, 12, 7, 8, 0, 0)
    assert plan(max_age='4h')['max_age_phrase'] == '4 hours'
    assert plan(max_age='2026-12-07T06:00:00Z')['cutoff'] == datetime(2026, 12, 7, 6, 0, 0)


@pytest.mark.parametrize('params, words', [
    (dict(vms=[]), 'vms is an empty list'),
    (dict(vms={}), 'vms is an empty dict'),
    (dict(vms=['']), 'empty name'),
    (dict(vms=[3]), 'must hold names'),
    (dict(vms={'h': 3}), "vms['h'] must be one VM name"),
    (dict(max_age='soon'), "max_age 'soon' is neither"),
    (dict(max_age='0h'), 'is zero'),
    (dict(max_age='2099-01-01T00:00:00Z'), 'is not in the past'),
    (dict(wait_timeout=0), 'wait_timeout must be a whole number of 1 second or more'),
    (dict(concurrency=0), 'concurrency must be a whole number from 1 to 32, not 0'),
    (dict(concurrency=33), 'concurrency must be a whole number from 1 to 32, not 33'),
    (dict(poll_interval=0), 'poll_interval must be a number of seconds of 0.1 or more'),
    (dict(wait='maybe'), 'wait must be true or false'),
])
def test_plan_refuses_bad_input_in_one_sentence(params, words):
    with pytest.raises(EmError) as info:
        plan(**params)
    assert words in str(info.value) and str(info.value).endswith('.') and '\n' not in str(info.value)


def test_job_start_plan_by_name_or_uid():
    assert actions.plan_job_start({'job': 'SQL Daily'})['guid'] is None
    guid = 'a65ed389-b74d-4fb1-b2e7-06298fadc1a6'
    assert actions.plan_job_start({'job': 'urn:veeam:Job:' + guid.upper()})['guid'] == guid
    assert actions.plan_job_start({'job': guid})['guid'] == guid
    with pytest.raises(EmError, match='is a BackupJobSession UID, but a Job UID'):
        actions.plan_job_start({'job': 'urn:veeam:BackupJobSession:' + guid})
    with pytest.raises(EmError, match='job must be the name or the UID'):
        actions.plan_job_start({'job': ''})


# -- scheduling ------------------------------------------------------------------------------------

def entry(name, job, ref=None, server='srv-1', status=None):
    return {'name': name, 'job_uid': job, 'vm_ref': ref or 'urn:VMware:Vm:root.' + name, 'backup_server_id': server,
            'status': status, 'same_as': None}


def test_schedule_one_lane_per_job_in_input_order():
    resolved = [entry('a1', 'A'), entry('b1', 'B'), entry('a2', 'A'), entry('c1', 'C'), entry('b2', 'B'), entry('a3', 'A')]
    lanes = actions.schedule(resolved)
    assert [(job, [item['name'] for item in lane]) for job, lane in lanes] == [
        ('A', ['a1', 'a2', 'a3']), ('B', ['b1', 'b2']), ('C', ['c1'])]


def test_schedule_leaves_out_decided_and_jobless_and_the_same_vm_twice():
    resolved = [entry('a1', 'A'), entry('skip', 'A', status='skipped'), entry('nojob', None, status='failed'),
                entry('alias', 'A', ref='URN:VMWARE:VM:ROOT.A1', server='SRV-1'), entry('other-server', 'A', ref='urn:VMware:Vm:root.a1', server='srv-2')]
    lanes = actions.schedule(resolved)
    assert [(job, [item['name'] for item in lane]) for job, lane in lanes] == [('A', ['a1', 'other-server'])]
    assert resolved[3]['same_as'] == 'a1' and resolved[4]['same_as'] is None


# -- polling and task results ------------------------------------------------------------------------

class FakeTasks(object):
    """Just ``get`` and ``_check_cancelled`` of EmClient, answering a scripted sequence of Task states."""

    def __init__(self, states, cancel_after=None):
        self.states = list(states)
        self.gets = 0
        self.cancel_after = cancel_after

    def get(self, path):
        assert path == 'tasks/task-1'
        self.gets += 1
        state = self.states.pop(0) if len(self.states) > 1 else self.states[0]
        return {'TaskId': 'task-1', 'State': state, 'Result': {'Success': True, 'Message': 'Ok'} if state == 'Finished' else None}

    def _check_cancelled(self):
        if self.cancel_after is not None and self.gets >= self.cancel_after:
            raise EmInterrupted('Interrupted by SIGTERM; logged off from Enterprise Manager.')


class Clock(object):
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now

    def sleep(self, seconds):
        self.now += seconds


def test_poll_waits_through_operation_finished_until_finished():
    clock = Clock()
    tasks = FakeTasks(['Running', 'Running', 'OperationFinished', 'Finished'])
    done = actions.poll_task(tasks, 'task-1', 100.0, 1.0, clock, clock.sleep)
    assert done['State'] == 'Finished' and tasks.gets == 4 and clock.now == pytest.approx(3.0)


def test_poll_gives_up_at_the_deadline_counted_in_polls():
    clock = Clock()
    tasks = FakeTasks(['Running'])
    assert actions.poll_task(tasks, 'task-1', 10.0, 2.0, clock, clock.sleep) is None
    # Polls at 0, 2, 4, 6, 8 and 10: the last one at the deadline itself, none after it.
    assert tasks.gets == 6 and clock.now == pytest.approx(10.0)


def test_poll_stops_at_once_when_cancelled():
    clock = Clock()
    tasks = FakeTasks(['Running'], cancel_after=2)
    with pytest.raises(EmInterrupted):
        actions.poll_task(tasks, 'task-1', 1000.0, 5.0, clock, clock.sleep)
    assert tasks.gets == 2


@pytest.mark.parametrize('result, outcome', [
    ({'Success': True, 'Message': 'Ok'}, (True, 'Ok')),
    ({'Success': 'true', 'Message': 'Ok'}, (True, 'Ok')),
    ({'Success': 'False', 'Message': 'Disk full.'}, (False, 'Disk full.')),
    (None, (False, 'EM finished the task without a Result')),
])
def test_task_outcome_reads_json_and_xml_forms(result, outcome):
    assert actions.task_outcome({'State': 'Finished', 'Result': result}) == outcome


def test_role_hint_names_the_role_on_403_only():
    refused = EmError('POST x failed with HTTP 403: No.', status=403, em_message='No permission.')
    assert actions._role_hint(refused, 'job_start', "to start job 'J'") == (
        "EM refused to start job 'J' with HTTP 403: No permission (starting a job needs an EM account with the Portal "
        "Administrator role).")
    busy = EmError('POST x failed with HTTP 409: Busy.', status=409, em_message='Busy.')
    assert actions._role_hint(busy, 'quick_backup', 'the quick backup') == 'EM refused the quick backup with HTTP 409: Busy.'


# -- result shaping ------------------------------------------------------------------------------------

def row(name, status, task_id=None, same_as=None, message=None):
    item = dict((key, None) for key in actions._RESULT_KEYS)
    item.update(name=name, status=status, task_id=task_id, same_as=same_as, message=message)
    return item


def test_shape_result_keys_as_given_lists_counts_and_changed():
    planned = plan(vms={'h1': 'a', 'h2': 'B', 'h3': 'c', 'h4': 'A'})
    by_name = {'a': row('a', 'created', 'task-1'), 'b': row('B', 'skipped'), 'c': row('c', 'failed', message='Busy.')}
    result = actions.shape_result(planned, by_name, ['line'])
    assert list(result['vms']) == ['h1', 'h2', 'h3', 'h4']
    assert result['vms']['h4']['name'] == 'A' and result['vms']['h4']['status'] == 'created'
    assert (result['created_vms'], result['skipped_vms'], result['failed_vms']) == (['h1', 'h4'], ['h2'], ['h3'])
    assert result['summary'] == {'total': 4, 'by_status': {'created': 2, 'skipped': 1, 'failed': 1, 'timeout': 0, 'started': 0,
                                                           'planned': 0}, 'backups_started': 1}
    assert result['changed'] is True and result['log'] == ['line']
    assert actions.failure_message(result) == '1 of 4 VMs got no new restore point: h3 (failed: Busy).'


def test_shape_result_unchanged_when_all_skipped_and_no_failure_message():
    planned = plan(vms=['a', 'b'])
    result = actions.shape_result(planned, {'a': row('a', 'skipped'), 'b': row('b', 'skipped')}, [])
    assert result['changed'] is False and actions.failure_message(result) is None


def test_shape_result_check_mode_planned_is_a_change():
    planned = plan(vms=['a'])
    assert actions.shape_result(planned, {'a': row('a', 'planned')}, [])['changed'] is True


# -- the client's POST ---------------------------------------------------------------------------------

pytestmark_requests = pytest.mark.skipif(not client_module.HAS_REQUESTS, reason='requests is not installed')


@pytestmark_requests
def test_post_is_retried_only_when_it_never_reached_em():
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    port = listener.getsockname()[1]
    listener.close()  # nothing listens: connection refused, nothing was sent
    slept = []
    options = dict(url='https://127.0.0.1:%d' % port, username='u', password='p', retries=2)
    client = client_module.get_client(EmOptionAdapter.from_dict(options), sleep=slept.append, guard=False)
    with pytest.raises(EmError) as info:
        client.post('backupServers/x?action=quickbackup', {'VmRef': 'urn:VMware:Vm:r.vm-1'})
    assert len(slept) == 2 and sum('Retrying POST' in warning for warning in client.warnings) == 2
    assert 'may have received it' not in str(info.value)


@pytestmark_requests
def test_post_is_not_retried_after_a_dropped_connection(em_for_post):
    em_for_post.faults(drop_routes=['POST /api/{collection}/{id}'], drop_connections=1)
    client = em_for_post.client(sleep=lambda _s: None)
    with client:
        with pytest.raises(EmError) as info:
            client.post('backupServers/00000000-0000-4000-8000-000000000000?action=quickbackup', {'VmRef': 'urn:VMware:Vm:r.vm-1'})
    assert 'EM may have received it, so it was not sent again' in str(info.value)
    assert em_for_post.stats()['requests']['POST /api/{collection}/{id}'] == 1
    assert not any('Retrying POST' in warning for warning in client.warnings)


@pytestmark_requests
def test_post_sends_content_type_and_reports_em_message(em_for_post):
    client = em_for_post.client()
    with client:
        with pytest.raises(EmError) as info:
            client.post('backupServers/00000000-0000-4000-8000-000000000000?action=quickbackup', {'VmRef': 'urn:VMware:Vm:r.vm-1'})
        # Not a 400 for a missing Content-Type: EM read the body and looked for the server.
        assert info.value.status == 404 and 'BackupServer' in info.value.em_message
        with pytest.raises(EmError, match='no /api/ in it'):
            client.get_href('https://elsewhere.example.com/other')


@pytest.fixture
def em_for_post():
    from ansible_collections.vbem.enterprise_manager.tests.unit.plugins.module_utils import test_client
    emulator = test_client._emulator()
    emulator.control('reset', {})
    return emulator


class FailingTasks(FakeTasks):
    """Answers the first poll, then fails as EM would after retries (an HTTP 500)."""

    def get(self, path):
        if self.gets >= 1:
            raise EmError('GET https://em/api/tasks/task-1 failed with HTTP 500: Internal error.', status=500)
        return super(FailingTasks, self).get(path)

    def post(self, path, body):
        return 202, {'TaskId': 'task-1', 'State': 'Running'}


def test_a_task_that_cannot_be_followed_fails_its_vm_only():
    clock = Clock()
    lane = [dict(entry('a1', 'A'), task_id=None, job_name='A', backup_server='srv', restore_point=None, message=None),
            dict(entry('a2', 'A', status='skipped'), task_id=None, job_name='A', backup_server='srv')]
    log = []
    actions.run_lane(FailingTasks(['Running']), plan(poll_interval=1), 'A', lane, log, clock, clock.sleep)
    assert lane[0]['status'] == 'failed' and lane[0]['message'].startswith('EM accepted the quick backup (task task-1) but following it failed: GET')
    assert lane[1]['status'] == 'skipped' and len(log) == 1


def test_a_name_two_vms_answer_to_is_not_backed_up():
    one = {'VmUid': 'urn:VMware:Vm:r.vm-1', 'VmDisplayName': 'web01'}
    assert actions._second_vm('web01', [one, dict(one)]) is None
    twin = {'VmUid': 'urn:VMware:Vm:r.vm-2', 'VmDisplayName': 'WEB01'}
    message = actions._second_vm('web01', [one, twin])
    assert message.startswith("'web01' is ambiguous in EM's backup task sessions, which name 'web01' (urn:VMware:Vm:r.vm-1), 'WEB01' (urn:VMware:Vm:r.vm-2)")
    assert 'no backup is started' in message
    renamed = {'VmUid': 'urn:VMware:Vm:r.vm-1', 'VmDisplayName': 'Web01'}
    assert 'is ambiguous' in actions._second_vm('web01', [one, renamed])


def test_the_newest_is_found_by_time_not_by_answer_order():
    older = {'VmDisplayName': 'web01', 'CreationTimeUTC': '2026-11-29T10:00:00Z', 'UID': 'a'}
    newer = {'VmDisplayName': 'web01', 'CreationTimeUTC': '2026-11-30T10:00:00Z', 'UID': 'b'}

    class Client(object):
        def query_page(self, *args, **kwargs):
            return [older, newer], 1

    newest, items = actions._newest(Client(), 'BackupTaskSession', 'WEB01')
    assert newest is newer and items == [older, newer]
