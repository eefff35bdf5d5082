# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The em_query lookup refuses bad input before logging on.

The lookup is pointed at a port where nothing listens: a lookup that tried to
log on would fail with a connection error naming that URL, so a refusal of
ours proves the check ran first (the last test shows the contrast).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

import pytest

from ansible.errors import AnsibleLookupError
from ansible.plugins.loader import lookup_loader

GUID = '88322206-a645-4aa3-9228-028ce51e7c0f'
# Port 9 (discard) on loopback: nothing listens, so a logon attempt is refused at once.
NOWHERE = dict(url='https://127.0.0.1:9', username='svc', password='not-a-real-password', timeout=3, retries=0)
PYTHON_WORDS = re.compile(r'Traceback|invalid literal|NoneType|object has no attribute|KeyError|ValueError|TypeError')


@pytest.fixture(name='loaded', scope='module')
def fixture_loaded():
    """The plugin as Ansible loads it (option definitions from its docs); loading takes a second, so once."""
    lookup = lookup_loader.get('vbem.enterprise_manager.em_query')
    assert lookup is not None
    return lookup


@pytest.fixture(name='em_query')
def fixture_em_query(loaded, monkeypatch):
    """The lookup with no VEEAM_EM_* environment, so only the options a test gives count."""
    for name in ('VEEAM_EM_URL', 'VEEAM_EM_USERNAME', 'VEEAM_EM_PASSWORD', 'VEEAM_EM_SESSION_TOKEN', 'VEEAM_EM_CA_PATH',
                 'VEEAM_EM_VALIDATE_CERTS', 'VEEAM_EM_TIMEOUT'):
        monkeypatch.delenv(name, raising=False)
    return loaded


def refused(em_query, terms, **options):
    """Run the lookup, expect our one-sentence refusal, and return it."""
    kwargs = dict(NOWHERE)
    kwargs.update(options)
    with pytest.raises(AnsibleLookupError) as info:
        em_query.run(terms, variables={}, **kwargs)
    message = str(info.value.message if hasattr(info.value, 'message') else info.value)
    assert '127.0.0.1' not in message and 'onnect' not in message, message  # it never tried to log on
    assert not PYTHON_WORDS.search(message), message
    assert NOWHERE['password'] not in message
    return message


CASES = [
    # (terms, options, words of the sentence)
    (['BackupTaskSession'], {'vmname': 'web01'}, 'has no option vmname (did you mean vm_name?); its options are: '),
    (['BackupTaskSession'], {'limt': 5}, 'has no option limt (did you mean limit?)'),
    (['BackupTaskSession'], {'zzz': 'red', 'qqq': 1}, 'has no options qqq, zzz; its options are: '),
    (['BackupTaskSession'], {'vm_name': ''}, 'vm_name holds an empty name'),
    (['BackupTaskSession'], {'vm_name': []}, 'vm_name is an empty list'),
    (['BackupTaskSession'], {'vm_name': 7}, 'vm_name must be a name or a list of names'),
    (['BackupTaskSession'], {'job_name': ['a', '']}, 'job_name holds an empty name'),
    (['BackupTaskSession'], {'id': ''}, 'id is empty'),
    (['BackupTaskSession'], {'id': 'urn:veeam:ReplicaTaskSession:' + GUID}, 'but a BackupTaskSession UID or GUID is expected'),
    (['BackupTaskSession'], {'id': GUID, 'vm_name': 'web01'}, 'id names one session, so it cannot be combined with vm_name'),
    (['BackupTaskSession', 'ReplicaTaskSession'], {'id': GUID}, 'give exactly one session query type as the term, not 2'),
    (['Job'], {'vm_name': 'web01'}, 'The option(s) vm_name apply to session query types only, not to Job'),
    (['BackupServer'], {'id': GUID}, 'The option(s) id apply to session query types only, not to BackupServer'),
    (['Job'], {'wait': True, 'latest_per_vm': True}, 'The option(s) latest_per_vm, wait apply to session query types only'),
    (['BackupJobSession'], {'latest_per_vm': True}, 'latest_per_vm applies to task sessions and restore points only, not to BackupJobSession'),
    (['BackupTaskSession'], {'latest_per_job': True}, 'latest_per_job applies to job sessions only, not to BackupTaskSession'),
    (['BackupJobSession'], {'vm_name': 'web01'}, 'vm_name applies to task sessions and restore points only'),
    (['BackupTaskSession'], {'result': 'failed'}, 'result must be one or more of Success, Warning, Failed, None'),
    (['BackupTaskSession'], {'result': []}, 'result is empty'),
    (['BackupTaskSession'], {'state': 'Working'}, 'state must be one or more of InProgress, Pending, Completed'),
    (['ReplicaJobSession'], {'state': 'InProgress'}, 'state must be one or more of Starting, Stopping, Working'),
    (['BackupTaskSession'], {'created_after': ''}, 'created_after is empty'),
    (['BackupTaskSession'], {'created_after': 'last week'},
     "created_after 'last week' is neither a relative age such as 30m, 24h, 7d or 2w nor an ISO-8601 date-time"),
    (['BackupTaskSession'], {'created_after': '2h', 'created_before': '3h'}, 'is not before created_before'),
    (['BackupTaskSession'], {'filter': ''}, 'filter is empty'),
    (['BackupTaskSession'], {'filter': 'Result==Failed),(Result==Success'}, 'filter closes a parenthesis at position 15'),
    (['Job'], {'filter': 'Name=="x'}, 'filter opens a quoted value at position 7 that is never closed'),
    (['BackupTaskSession'], {'sort': ''}, 'sort is empty'),
    (['BackupTaskSession'], {'sort': 'colour'}, 'sort must be one of'),
    (['CdpReplicaTaskSession'], {'sort': 'result'}, 'CdpReplicaTaskSession sessions cannot be sorted by result'),
    (['Job'], {'sort': 'Name desc'}, 'sort must be an EM field name'),
    (['BackupTaskSession'], {'order': 'newest'}, 'order must be one of ascending, descending'),
    (['BackupTaskSession'], {'limit': -1}, 'limit must be a whole number of 0 (no limit) or more, not -1'),
    (['Job'], {'limit': 'many'}, 'limit must be a whole number of 0 (no limit) or more'),
    (['BackupTaskSession'], {'page_size': 0}, 'page_size must be a whole number from 1 to 10000, not 0'),
    (['BackupTaskSession'], {'page_size': 50000}, 'page_size must be a whole number from 1 to 10000, not 50000'),
    (['BackupTaskSession'], {'wait': 'maybe'}, 'wait must be true or false'),
    (['BackupTaskSession'], {'wait': True, 'wait_timeout': 0}, 'wait_timeout must be a whole number of 1 second or more, not 0'),
    (['BackupTaskSession'], {'wait': True, 'wait_sleep': 0}, 'wait_sleep must be a whole number of 1 second or more (0 would poll EM without a pause)'),
    (['BackupTaskSession'], {'missing_ok': 'perhaps'}, 'missing_ok must be true or false'),
    (['BackupTaskSession'], {'raw': 'yes please'}, 'raw must be true or false'),
    (['BackupTaskSession'], {'validate_certs': 'maybe'}, 'validate_certs must be true or false'),
    (['BackupTaskSession'], {'timeout': 'soon'}, 'timeout must be a number'),
    (['BackupTaskSession'], {'retries': 'twice'}, 'retries must be a whole number'),
    (['BackupTaskSession'], {'api_version': 'v2'}, 'api_version must be one of latest, v1_5, v1_6, v1_7'),
    (['BackupTaskSession'], {'jmespath': '[.'}, "jmespath '[.' is not a valid JMESPath expression"),
    (['BackupTaskSession'], {'jmespath': ''}, 'jmespath is empty'),
    (['AgentRestorePoint'], {'latest_per_vm': True}, 'latest_per_vm on AgentRestorePoint needs the computer names (vm_name)'),
    (['VmRestorePoint'], {'job_name': 'SQL Daily'},
     'job_name filters sessions, but EM documents no job field for VmRestorePoint restore points; leave job_name unset.'),
    (['VmReplicaPoint'], {'result': 'Failed'}, 'VmReplicaPoint restore points cannot be filtered or sorted by result'),
    (['AgentRestorePoint'], {'state': 'Completed'}, 'state applies to sessions only; AgentRestorePoint restore points have no state'),
    (['VmRestorePoint'], {'latest_per_job': True}, 'latest_per_job applies to job sessions only, not to VmRestorePoint'),
    (['VmRestorePoint'], {'sort': 'end_time'}, 'sort must be one of algorithm, backup_server, creation_time, name'),
    ([], {}, 'needs at least one term'),
    ([''], {}, 'An empty term was given'),
    (['Backup Task Session'], {}, 'is not an EM query type name'),
    ([['BackupTaskSession']], {}, 'Every term must be an EM query type'),
]


@pytest.mark.parametrize('terms, options, words', CASES)
def test_bad_input_is_refused_before_logon(em_query, terms, options, words):
    assert words in refused(em_query, terms, **options)


def test_unknown_options_list_every_valid_one(em_query):
    message = refused(em_query, ['BackupTaskSession'], vmname='x')
    for name in ('vm_name', 'job_name', 'id', 'missing_ok', 'latest_per_vm', 'latest_per_job', 'wait', 'wait_timeout',
                 'wait_sleep', 'jmespath', 'url', 'session_token'):
        assert name in message.split('its options are: ')[1]


def test_good_input_does_try_to_log_on(em_query):
    """The contrast that makes the tests above meaningful: valid input reaches the (absent) server."""
    with pytest.raises(AnsibleLookupError) as info:
        em_query.run(['BackupTaskSession'], variables={}, vm_name='db,02', **NOWHERE)
    assert '127.0.0.1:9' in str(info.value)


@pytest.mark.parametrize('term, field', [('VmRestorePoint', 'VmDisplayName'), ('vmreplicapoint', 'VmDisplayName'),
                                         ('AgentRestorePoint', 'ComputerName')])
def test_point_types_are_planned_as_sessions_are(em_query, term, field):
    """Each restore point type gets the session treatment: its kind, our option names, its own filter field."""
    plans, client, _expression = em_query._prepare([term], {}, dict(NOWHERE, vm_name=['web01', 'db,02'], latest_per_vm=True,
                                                                    created_after='2026-11-01T00:00:00Z'))
    try:
        [(query_type, kind, params, plan)] = plans
        assert kind is not None and kind.level == 'point' and kind.query_type.lower() == term.lower()
        assert params['sort'] == 'creation_time' and params['latest_per_vm'] is True
        assert plan['filter'] == '({0}=="web01",{0}=="db,02");CreationTime>="2026-11-01T00:00:00Z"'.format(field)
        # An agent point names no computer: one request a name, each point attributed to the name asked.
        assert plan['names'] == (['web01', 'db,02'] if term == 'AgentRestorePoint' else [None])
        assert client.session_id is None  # planned, not logged on
    finally:
        client.close()
