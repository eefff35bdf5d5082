"""Restore points, backups, hierarchy roots, the lookup service and Veeam Agent protection.

The ``docs_examples`` directory holds Veeam's own XML examples (EM REST reference, v13), one file a
representation, each naming the page it comes from; the emulator must parse the request examples and
serve the same shapes (root tag, attributes, links by Rel and Type, child elements in order).
"""

from __future__ import annotations

import hashlib
import os
import uuid
import xml.etree.ElementTree as ET
from urllib.parse import quote

import pytest

from emulator.data import Dataset
from emulator.live import Live
from emulator.points import derived_id
from emulator.query import parse_datetime

from conftest import NOW

DOCS = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'docs_examples')
NS = '{http://www.veeam.com/ent/v1.0}'
SESSION_KINDS = ('BackupTaskSession', 'ReplicaTaskSession', 'CdpReplicaSession', 'CdpReplicaTaskSession', 'RestoreSession',
                 'ReplicaJobSession')


def docs_example(name):
    """A documented example, parsed."""
    return ET.parse(os.path.join(DOCS, name)).getroot()


def shape(element):
    """(tag, attribute names, [(Rel, Type)] of the links, child element names in order) of a representation."""
    links = element.find(NS + 'Links')
    rels = [(link.get('Rel'), link.get('Type')) for link in links] if links is not None else []
    children = [child.tag.replace(NS, '') for child in element if child.tag != NS + 'Links']
    return element.tag.replace(NS, ''), sorted(element.attrib), rels, children


def api_path(href):
    """The path of an absolute EM link, for the test client."""
    return '/api' + href.split('/api', 1)[1]


def xml(client, path):
    reply = client.get(path)
    assert reply.status == 200, reply.text()
    return ET.fromstring(reply.body)


def query_json(client, qtype, filter_text=None, **params):
    path = '/api/query?type=%s&format=Entities' % qtype
    if filter_text:
        path += '&filter=' + quote(filter_text, safe='')
    for name, value in params.items():
        path += '&%s=%s' % (name, quote(str(value), safe=''))
    reply = client.get_json(path)
    assert reply.status == 200, reply.text()
    slot = {'AgentBackupJob': 'AgentBackupJob'}.get(qtype, qtype + 's')
    return reply.json()['Entities'][slot][slot]


def first_id(client, qtype, filter_text=None):
    return query_json(client, qtype, filter_text, pageSize=1)[0]['UID'].split(':')[-1]


# The docs' table lists VmName for a VmRestorePoint, its (older) example does not: the emulator sends it after
# CreationTimeUTC. The job examples' NextRun, JobScheduleOptions and JobInfo are not emulated.
_EXTRA_CHILDREN = {'VmRestorePoint': ['VmName']}
_MISSING_CHILDREN = {'AgentBackupJob': ['NextRun', 'JobScheduleOptions', 'JobInfo'], 'Job': ['NextRun', 'JobScheduleOptions']}
_ENTITIES = (
    ('VmRestorePoint', 'vmRestorePoints', None),
    ('VmReplicaPoint', 'vmReplicaPoints', None),
    ('RestorePoint', 'restorePoints', None),
    ('BackupFile', 'backupFiles', None),
    ('AgentRestorePoint', 'agents/agentRestorePoints', None),
    ('HierarchyRoot', 'hierarchyRoots', None),
    ('AgentBackupJob', 'agents/jobs', None),
    ('BackupTaskSession', 'backupTaskSessions', 'Result==Success'),
    ('BackupJobSession', 'backupSessions', 'Result==Success;JobType==Backup'),
    ('BackupServer', 'backupServers', None),
    ('Job', 'jobs', 'JobType==Backup'),
)


@pytest.mark.parametrize('kind,path,filter_text', _ENTITIES, ids=[entry[0] for entry in _ENTITIES])
def test_entity_has_the_shape_of_the_docs_example(client, kind, path, filter_text):
    documented = shape(docs_example(kind + '.xml'))
    served = shape(xml(client, '/api/%s/%s?format=Entity' % (path, first_id(client, kind, filter_text))))
    tag, attrs, links, children = documented
    children = [name for name in children if name not in _MISSING_CHILDREN.get(kind, ())]
    for extra in _EXTRA_CHILDREN.get(kind, ()):
        children.insert(1, extra)
    if kind == 'BackupTaskSession':
        children.append('VmUid')  # the emulator's existing extension (see Assumptions)
        attrs = sorted(attrs)
    assert served == (tag, attrs, links, children)


def test_lookup_answer_has_the_shape_of_the_docs_example(client):
    catalog = client.control('GET', 'catalog').json()
    root = catalog['hierarchy_roots'][0]
    vm_name = catalog['jobs'][0]['vms'][0]
    reply = xml(client, '/api/lookup?host=%s&name=%s&type=Vm' % (root['uid'], quote(vm_name, safe='')))
    documented = docs_example('HierarchyItems.xml')
    assert shape(reply)[0] == shape(documented)[0] == 'HierarchyItems'
    assert [shape(item) for item in reply] == [shape(item) for item in documented]


def test_task_session_related_link_leads_to_its_restore_point(client):
    task = query_json(client, 'BackupTaskSession', 'Result==Warning', pageSize=1)[0]
    related = [link for link in task['Links'] if link['Rel'] == 'Related']
    assert [(link['Type'], link['Name'].split('@')[0]) for link in related] == [('VmRestorePoint', task['VmDisplayName'])]
    point = client.get_json(api_path(related[0]['Href'])).json()
    assert point['VmName'] == task['VmDisplayName'] and point['HierarchyObjRef'] == task['VmUid']
    assert parse_datetime(point['CreationTimeUTC']) == parse_datetime(task['EndTimeUTC'])
    assert list(point) == ['CreationTimeUTC', 'VmName', 'Algorithm', 'PointType', 'HierarchyObjRef', 'Name', 'UID', 'Links',
                           'Href', 'Type']


def test_failed_and_running_task_sessions_link_no_restore_point(client):
    for filter_text in ('Result==Failed', 'State==InProgress'):
        for task in query_json(client, 'BackupTaskSession', filter_text, pageSize=20):
            assert 'Related' not in [link['Rel'] for link in task['Links']]
            assert query_json(client, 'VmRestorePoint', 'UID=="urn:veeam:VmRestorePoint:%s"' % task['UID'].split(':')[-1]) == []


def test_restore_points_outlive_the_session_window(client):
    oldest_task = query_json(client, 'BackupTaskSession', pageSize=1, sortAsc='CreationTime')[0]
    oldest_point = query_json(client, 'VmRestorePoint', 'VmDisplayName==%s' % oldest_task['VmDisplayName'], pageSize=1,
                              sortAsc='CreationTime')[0]
    assert parse_datetime(oldest_point['CreationTimeUTC']) < parse_datetime(oldest_task['CreationTimeUTC'])
    assert (oldest_point['Algorithm'], oldest_point['PointType']) == ('Full', 'Full')


def test_retired_vms_have_points_but_no_session(client):
    retired = client.control('GET', 'catalog').json()['retired_vms']
    assert retired
    month_ago = '2025-07-17T06:00:00Z'
    for name in retired:
        assert query_json(client, 'BackupTaskSession', 'VmDisplayName=="%s"' % name) == []
        points = query_json(client, 'VmRestorePoint', 'VmDisplayName=="%s"' % name, sortDesc='CreationTime')
        assert points and parse_datetime(points[0]['CreationTimeUTC']) < parse_datetime(month_ago)
    agent = client.control('GET', 'catalog').json()['retired_computers'][0]
    assert query_json(client, 'BackupJobSession', 'Name=="%s"' % agent) == []
    assert query_json(client, 'AgentRestorePoint', 'ComputerName=="%s";CreationTime<%s' % (agent, month_ago))


def test_point_query_filters_follow_the_docs_tables(client):
    assert all(point['FileType'] == 'vbk' for point in query_json(client, 'BackupFile', 'FileType==vbk', pageSize=50))
    assert query_json(client, 'BackupFile', 'CompressRatio>1.5', pageSize=5)
    fulls = query_json(client, 'VmRestorePoint', 'Type==Full;Algorithm==SyntheticFull', pageSize=5)
    assert fulls and all((p['PointType'], p['Algorithm']) == ('Full', 'SyntheticFull') for p in fulls)
    point = query_json(client, 'RestorePoint', pageSize=1)[0]
    assert 'BackupDateUTC' in point and query_json(client, 'RestorePoint', 'CreationTime==%s' % point['BackupDateUTC'])
    replica = query_json(client, 'VmReplicaPoint', pageSize=1)[0]
    assert query_json(client, 'VmReplicaPoint', 'VmDisplayName=="%s"' % replica['VmDisplayName'])
    # Not in the docs' VmRestorePoint table: a filter on it is refused, as for any unknown field.
    reply = client.get_json('/api/query?type=VmRestorePoint&filter=' + quote('HierarchyObjRef==x', safe=''))
    assert reply.status == 400 and 'HierarchyObjRef' in reply.json()['Message']


def test_replica_points_keep_only_the_retention(client):
    for point in query_json(client, 'VmReplicaPoint', pageSize=3):
        points = query_json(client, 'VmReplicaPoint', 'VmDisplayName=="%s"' % point['VmDisplayName'], pageSize=100)
        assert 1 <= len(points) <= 7


def test_containers_list_their_points(client):
    point = query_json(client, 'VmRestorePoint', pageSize=1, sortDesc='CreationTime')[0]
    ups = {link['Type']: api_path(link['Href']) for link in point['Links'] if link['Rel'] == 'Up'}
    for parent in (ups['RestorePointReference'], ups['BackupFileReference']):
        children = client.get_json(parent + '/vmRestorePoints').json()['Refs']
        assert point['UID'] in [ref['UID'] for ref in children]
    restore_point = client.get_json(ups['RestorePointReference'] + '?format=Entity').json()
    backup = [api_path(link['Href']) for link in restore_point['Links'] if link['Type'] == 'BackupReference'][0]
    assert restore_point['UID'] in [ref['UID'] for ref in client.get_json(backup + '/restorePoints').json()['Refs']]
    assert client.get_json(backup + '?format=Entity').json()['BackupType'] == 'Standard'


def test_agent_jobs_sessions_and_points(client):
    catalog = client.control('GET', 'catalog').json()
    job = catalog['agent_jobs'][0]
    computer = job['computers'][0]
    children = query_json(client, 'BackupJobSession', 'JobType==AgentManagement;JobName=="%s - %s"' % (job['name'], computer),
                          sortDesc='CreationTime')
    assert children and all(row['JobUid'] == job['uid'] for row in children)
    done = [row for row in children if row['Result'] in ('Success', 'Warning')][0]
    links = {link['Rel'] + ' ' + (link['Type'] or ''): api_path(link['Href']) for link in done['Links']}
    point = client.get_json(links['Related AgentRestorePointReference'] + '?format=Entity').json()
    assert point['Name'].startswith(computer + '@') and parse_datetime(point['CreationTimeUTC']) == parse_datetime(
        done['EndTimeUTC'])
    assert query_json(client, 'AgentRestorePoint', 'ComputerName=="%s";UID=="%s"' % (computer, point['UID']))
    parent = client.get_json(links['Up BackupJobSessionReference'] + '?format=Entity').json()
    assert parent['JobType'] == 'AgentBackup' and parent['JobName'] == job['name']
    siblings = client.get_json(links['Up BackupJobSessionReference'] + '/agentManagementSessions').json()['Refs']
    assert done['UID'] in [ref['UID'] for ref in siblings] and len(siblings) == len(job['computers'])
    listed = client.get_json('/api/agents/backupSessions').json()['Refs']
    assert {ref['UID'] for ref in listed} >= {done['UID'], parent['UID']}
    assert all(ref['UID'] not in {r['UID'] for r in listed} for ref in query_json(client, 'BackupJobSession', 'JobType==Backup'))
    agent_job = client.get_json('/api/agents/jobs/%s?format=Entity' % job['uid'].split(':')[-1]).json()
    assert (agent_job['JobType'], agent_job['Platform']) == ('AgentBackup', job['platform'])
    sessions = client.get_json('/api/agents/jobs/%s/backupSessions' % job['uid'].split(':')[-1]).json()['Refs']
    assert parent['UID'] in [ref['UID'] for ref in sessions]
    assert query_json(client, 'AgentBackupJob', 'Platform==%s' % job['platform'])[0]['UID'] == job['uid']


def test_hierarchy_roots_and_lookup_find_the_vm_reference_of_its_sessions(client):
    task = query_json(client, 'BackupTaskSession', 'Result==Success', pageSize=1)[0]
    root_id = task['VmUid'].split(':')[3].split('.')[0]
    root = client.get_json('/api/hierarchyRoots/%s?format=Entity' % root_id).json()
    assert (root['HierarchyRootId'], root['HostType']) == (root_id, 'VC')
    assert query_json(client, 'HierarchyRoot', 'HostType==VC;UID=="%s"' % root['UID'])
    base = '/api/lookup?host=%s&type=Vm&name=' % root['UID']
    items = client.get_json(base + quote(task['VmDisplayName'].upper(), safe='')).json()['HierarchyItems']
    assert items == [{'ObjectRef': task['VmUid'], 'ObjectType': 'Vm', 'ObjectName': task['VmDisplayName'],
                      'Type': 'HierarchyItem'}]
    assert client.get_json(base + 'no-such-vm').json() == {'HierarchyItems': []}
    assert client.get_json('/api/lookup?hierarchyRef=' + quote(task['VmUid'], safe='')).json()['HierarchyItems'] == items
    for bad, status in (('/api/lookup?host=%s&name=x' % root['UID'], 400), (base.replace('type=Vm', 'type=Planet') + 'x', 400),
                        ('/api/lookup?host=urn:veeam:HierarchyRoot:00000000-0000-4000-8000-000000000000&name=x&type=Vm', 404),
                        ('/api/lookup?hierarchyRef=urn:VMware:Vm:%s.vm-1' % root_id, 404)):
        reply = client.get_json(bad)
        assert reply.status == status and reply.json()['Message']


def test_restore_points_do_not_change_the_seeded_sessions():
    plain = Dataset(7, 1500, parse_datetime(NOW))
    rows = {kind: [dict(row) for row in plain.rows[kind]] for kind in SESSION_KINDS}
    vm_sessions = [row['id'] for row in plain.rows['BackupJobSession']]
    live = Live(Dataset(7, 1500, parse_datetime(NOW)))
    live.protection.ensure()
    data = live.dataset
    for kind in SESSION_KINDS:
        assert [(r['id'], r['creation'], r['end'], r['result']) for r in data.rows[kind]] == [
            (r['id'], r['creation'], r['end'], r['result']) for r in rows[kind]]
    assert [row['id'] for row in data.rows['BackupJobSession'] if row['job_type'] == 'Backup'] == vm_sessions
    assert data.rows['VmRestorePoint'] and data.version >= 1


def test_points_are_generated_on_first_use_only():
    live = Live(Dataset(7, 1500, parse_datetime(NOW)))
    assert live.dataset.rows['VmRestorePoint'] == [] and not live.protection.ready
    live.protection.ensure()
    assert live.dataset.rows['VmRestorePoint'] and live.protection.ready


@pytest.mark.parametrize('points_first', [False, True], ids=['points-generated-after', 'points-generated-before'])
def test_added_sessions_make_points_whenever_points_are_generated(points_first):
    live = Live(Dataset(7, 1500, parse_datetime(NOW)))
    if points_first:
        live.protection.ensure()
    live.add_session({'type': 'BackupTaskSession', 'vm_name': 'fresh-vm-01', 'job_name': 'Fresh Job', 'result': 'Failed',
                      'created': '-2h'})
    made = live.add_session({'type': 'BackupTaskSession', 'vm_name': 'fresh-vm-02', 'job_name': 'Fresh Job', 'created': '-1h'})
    live.protection.ensure()
    points = {row['vm_name']: row for row in live.dataset.rows['VmRestorePoint'] if row['backup_name'] == 'Fresh Job'}
    # A job added at run time has no history: only the successful session made a point, the chain's full.
    assert list(points) == ['fresh-vm-02'] and points['fresh-vm-02']['creation'] == parse_datetime(made['end'])
    assert (points['fresh-vm-02']['algorithm'], points['fresh-vm-02']['point_type']) == ('Full', 'Full')


def test_derived_ids_are_the_version_4_guids_uuid_would_build():
    for base in ('9b414afe-e957-4d40-a144-7d02de9a041c', 'B\u00fccher', ''):
        digest = hashlib.md5(('point:' + base).encode('utf-8')).digest()  # nosec: test of an id derivation
        assert derived_id('point', base) == str(uuid.UUID(bytes=digest, version=4))


def test_backup_server_jobs_and_job_sessions_follow_their_down_links(client):
    job = query_json(client, 'Job', 'JobType==Backup', pageSize=1)[0]
    down = {link['Type']: api_path(link['Href']) for link in job['Links'] if link['Rel'] == 'Down'}
    sessions = client.get_json(down['BackupJobSessionReferenceList']).json()['Refs']
    assert sessions and {ref['UID'] for ref in sessions} == {
        row['UID'] for row in query_json(client, 'BackupJobSession', 'JobUid=="%s"' % job['UID'], pageSize=1000)}
    server = [api_path(link['Href']) for link in job['Links'] if link['Type'] == 'BackupServerReference'][0]
    jobs = client.get_json(server + '/jobs').json()['Refs']
    assert job['UID'] in [ref['UID'] for ref in jobs]
