"""Wire-level behaviour: documented examples, auth, query paging/sorting, formats, errors."""

from __future__ import annotations

import base64
import re
import time
import xml.etree.ElementTree as ET
from urllib.parse import quote

from emulator.filterexpr import quote_value

NS = '{http://www.veeam.com/ent/v1.0}'


def xml(reply):
    """Parse an XML reply, checking the declaration and namespace."""
    assert reply.header('Content-Type').startswith('application/xml')
    assert reply.body.startswith(b'<?xml version="1.0" encoding="utf-8"?>')
    root = ET.fromstring(reply.body)
    assert root.tag.startswith(NS)
    return root


def q(**params):
    """Build a /api/query URL with a percent-encoded filter."""
    parts = []
    for name, value in params.items():
        parts.append('%s=%s' % (name, quote(str(value), safe='')))
    return '/api/query?' + '&'.join(parts)


# -- documented examples --------------------------------------------------------------

def test_entry_point_xml_and_json(emulator):
    client = emulator.client()
    root = xml(client.get('/api/'))
    assert root.tag == NS + 'EnterpriseManager'
    versions = [v.get('Name') for v in root.iter(NS + 'SupportedVersion')]
    assert versions == ['v1_5', 'v1_6', 'v1_7']
    reply = client.get_json('/api/')
    assert reply.header('Server') == 'Microsoft-HTTPAPI/2.0'
    data = reply.json()
    assert [v['Name'] for v in data['SupportedVersions']['SupportedVersions']] == versions
    assert data['Links'][1] == {'Rel': 'Create', 'Href': emulator.url + '/api/sessionMngr/?v=latest', 'Name': None,
                                'Type': 'LogonSession'}


def test_seed_replica_task_query_shape(client):
    reply = client.get(q(type='ReplicaTaskSession', format='Entities', sortDesc='CreationTime',
                         filter='Result==Success;VmDisplayName==web-01'))
    root = xml(reply)
    assert root.tag == NS + 'QueryResult'
    items = root.findall('%sEntities/%sReplicaTaskSessions/%sReplicaTaskSession' % (NS, NS, NS))
    assert items
    first = items[0]
    assert set(first.attrib) == {'Href', 'Type', 'Name', 'UID', 'VmDisplayName'}
    assert first.get('VmDisplayName') == 'web-01' and first.get('Href').endswith('?format=Entity')
    assert [c.tag[len(NS):] for c in first] == ['Links', 'JobSessionUid', 'CreationTimeUTC', 'EndTimeUTC', 'State', 'Result',
                                                'Reason', 'TotalSize']
    assert b'<Reason />' in reply.body
    times = [i.find(NS + 'CreationTimeUTC').text for i in items]
    assert times == sorted(times, reverse=True)
    rels = [link.get('Type') for link in first.find(NS + 'Links')]
    assert rels == ['BackupServerReference', 'ReplicaJobSessionReference', 'ReplicaTaskSessionReference']
    paging = root.find(NS + 'PagingInfo')
    assert paging.get('PageSize') == '100' and paging.get('PageNum') == '1'
    assert [link.get('Rel') for link in paging.find(NS + 'Links')] == ['First', 'Last']


def test_seed_backup_task_entity(client):
    ref = client.get(q(type='BackupTaskSession', pageSize=1, filter='Result==Success')).body
    href = re.search(rb'Href="https://[^/]+(/api/backupTaskSessions/[0-9a-f-]+)"', ref).group(1).decode()
    entity = xml(client.get(href + '?format=Entity'))
    assert entity.tag == NS + 'BackupTaskSession'
    assert [c.tag[len(NS):] for c in entity] == ['Links', 'JobSessionUid', 'CreationTimeUTC', 'EndTimeUTC', 'State', 'Result',
                                                 'Reason', 'TotalSize', 'VmUid']
    assert entity.find(NS + 'VmUid').text.startswith('urn:VMware:Vm:')
    reference = xml(client.get(href))
    assert reference.tag == NS + 'EntityRef' and reference.get('Type') == 'BackupTaskSessionReference'
    data = client.get_json(href + '?format=entity').json()
    assert list(data) == ['JobSessionUid', 'CreationTimeUTC', 'EndTimeUTC', 'State', 'Result', 'Reason', 'TotalSize', 'VmUid',
                          'VmDisplayName', 'Name', 'UID', 'Links', 'Href', 'Type']
    assert data['Reason'] is None and isinstance(data['TotalSize'], int)


def test_seed_cdp_task_entity_href_quirk(client):
    data = client.get_json(q(type='CdpReplicaTaskSession', format='Entities', pageSize=1, filter='State==InProgress')).json()
    item = data['Entities']['CdpReplicaTaskSessions']['CdpReplicaTaskSessions'][0]
    assert '/api/replicaTaskSessions/' in item['Href'] and item['EndTimeUTC'] is None
    guid = item['UID'].split(':')[-1]
    root = xml(client.get('/api/cdpReplicaTaskSessions/%s?format=Entity' % guid))
    assert root.tag == NS + 'CdpReplicaTaskSession' and root.find(NS + 'EndTimeUTC') is None
    assert root.find(NS + 'PolicySessionUid').text.startswith('urn:veeam:CdpReplicaSession:')


def test_cdp_session_query_uses_cdp_policy_session_element(client):
    root = xml(client.get(q(type='CdpReplicaSession', format='Entities', filter='CreationTimeUTC>="2025-08-15"')))
    items = root.findall('%sEntities/%sCdpReplicaSessions/%sCdpPolicySession' % (NS, NS, NS))
    assert items and items[0].get('Type') == 'CdpReplicaSession'
    running = [i for i in items if i.find(NS + 'State').text == 'Working']
    assert running and running[0].find(NS + 'Result').text == 'None' and running[0].find(NS + 'EndTimeUTC') is None
    guid = items[0].get('UID').split(':')[-1]
    tasks = client.get_json('/api/cdpReplicaSessions/%s/cdpReplicaTaskSessions' % guid).json()
    assert list(tasks) == ['Refs'] and tasks['Refs']


def test_job_session_json_entities_double_wrapped(client):
    data = client.get_json(q(type='BackupJobSession', format='Entities', filter='CreationTime>=2025-08-15T00:00:00')).json()
    assert list(data) == ['Refs', 'Entities', 'Resources', 'Links', 'PagingInfo']
    slots = data['Entities']
    assert len(slots) == 50 and [k for k, v in slots.items() if v is not None] == ['BackupJobSessions']
    session = slots['BackupJobSessions']['BackupJobSessions'][0]
    assert list(session)[:2] == ['IsRetry', 'JobUid'] and list(session)[-5:] == ['Name', 'UID', 'Links', 'Href', 'Type']
    # backupSessions/{ID} docs example: a finished session links the RestorePoint it made (Rel="Related") after Stop.
    related = ['Related'] if session['Result'] in ('Success', 'Warning') else []
    assert [link['Rel'] for link in session['Links']] == ['Up', 'Up', 'Alternate', 'Down', 'Stop'] + related
    guid = session['UID'].split(':')[-1]
    children = client.get_json('/api/backupSessions/%s/taskSessions?format=Entity' % guid).json()
    assert list(children) == ['BackupTaskSessions'] and children['BackupTaskSessions']


def test_references_and_collections(client):
    data = client.get_json(q(type='BackupServer', pageSize=1)).json()
    assert data['Entities'] is None and len(data['Refs']['Refs']) == 1
    ref = data['Refs']['Refs'][0]
    assert list(ref) == ['Links', 'UID', 'Name', 'Href', 'Type'] and ref['Type'] == 'BackupServerReference'
    assert data['PagingInfo']['PagesCount'] == 3
    assert client.get_json(ref['Href'][len(client.emulator.url):]).json()['UID'] == ref['UID']
    jobs = client.get_json(q(type='job', filter='jobtype==backup;platform==vmware', sortAsc='name')).json()['Refs']['Refs']
    assert [j['Name'] for j in jobs] == sorted((j['Name'] for j in jobs), key=str.casefold)
    grouped = client.get_json(q(type='job', filter='(jobtype==replica;scheduleconfigured==false),(jobtype==backup;scheduleconfigured==true)'))
    assert grouped.status == 200
    root = xml(client.get('/api/replicaSessions?format=Entity'))
    assert root.tag == NS + 'ReplicaJobSessions' and root.find(NS + 'ReplicaJobSession') is not None
    assert xml(client.get('/api/backupTaskSessions')).tag == NS + 'EntityReferences'


# -- auth -----------------------------------------------------------------------------

def test_logon_contract(emulator):
    client = emulator.client()
    reply = client.logon(accept='application/xml')
    assert reply.status == 201 and reply.reason == 'Created'
    token = reply.header('X-RestSvcSessionId')
    assert reply.header('Set-Cookie') == 'X-RestSvcSessionId=%s; Path=/api;' % token
    root = xml(reply)
    session_id = root.find(NS + 'SessionId').text
    assert base64.b64decode(token).decode('ascii') == session_id
    assert root.find(NS + 'UserName').text == emulator.username
    client.session_id = session_id
    sessions = client.get_json('/api/logonSessions').json()['LogonSessions']
    assert [s['SessionId'] for s in sessions] == [session_id]
    assert client.get_json('/api/logonSessions/' + session_id).json()['SessionId'] == session_id
    assert client.request('DELETE', '/api/logonSessions/00000000-0000-4000-8000-000000000000').status == 404
    reply = client.logoff()
    assert reply.status == 204 and reply.body == b''
    assert client.get('/api/query?type=BackupJobSession', token=token).status == 401


def test_bad_logons(emulator):
    client = emulator.client()
    for reply in (client.logon(password='wrong'), client.request('POST', '/api/sessionMngr/?v=latest', token='')):
        assert reply.status == 401 and reply.header('WWW-Authenticate') == 'Basic Realm=RestSvc'
        assert reply.json()['StatusCode'] == 401 if reply.body.startswith(b'{') else xml(reply).tag == NS + 'Error'
    reply = client.logon(version='v9_9')
    assert reply.status == 400 and 'Unsupported' in reply.json()['Message']
    assert client.logon(version='v1_5').status == 201
    client.logoff()
    assert client.request('GET', '/api/sessionMngr/').status == 405


def test_token_rules(emulator):
    first, second = emulator.client(), emulator.client()
    first.logon()
    second.logon()
    path = '/api/logonSessions'
    assert first.get(path, token='bogus').status == 401
    assert first.get(path, token='').status == 401
    # The cookie wins over the header: a valid header with a bogus cookie fails and vice versa.
    assert first.get(path, headers={'Cookie': 'X-RestSvcSessionId=bogus'}).status == 401
    reply = first.get_json(path, token='bogus', headers={'Cookie': 'X-RestSvcSessionId=' + second.token})
    assert reply.status == 200 and reply.json()['LogonSessions'][0]['SessionId'] == second.session_id
    assert first.request('DELETE', '/api/logonSessions/' + second.session_id).status == 404
    first.logoff()
    second.logoff()


def test_idle_expiry_and_cap(start_emulator):
    emulator = start_emulator('--idle-timeout', '0.5', '--max-logon-sessions', '2', '--no-tls')
    assert emulator.url.startswith('http://') and emulator.ca_file is None
    a, b, c = emulator.client(), emulator.client(), emulator.client()
    assert a.logon().status == 201 and b.logon().status == 201
    refused = c.logon()
    assert refused.status == 503 and 'maximum number of concurrent logon sessions' in refused.json()['Message']
    time.sleep(0.8)
    assert a.get('/api/logonSessions').status == 401
    assert c.logon().status == 201
    stats = c.control('GET', 'stats').json()
    assert stats['expired_sessions'] >= 2 and stats['failed_logons'] == 1 and stats['peak_active_sessions'] == 2


# -- query: paging, sorting, errors ---------------------------------------------------

def test_paging_links(client):
    flt = 'Result!=Success;VmDisplayName!="a b"'
    path = '/api/query?type=BackupTaskSession&filter=%s&sortDesc=CreationTime' % quote(flt, safe='')
    first = client.get_json(path + '&pageSize=7').json()['PagingInfo']
    count = first['PagesCount']
    assert count > 2 and first['PageNum'] == 1 and first['PageSize'] == 7
    assert [link['Rel'] for link in first['Links']] == ['First', 'Next', 'Last']
    middle = client.get_json(path + '&pageSize=7&page=2').json()['PagingInfo']
    assert [link['Rel'] for link in middle['Links']] == ['First', 'Previous', 'Next', 'Last']
    links = {link['Rel']: link['Href'] for link in middle['Links']}
    assert links['Next'].endswith('&pageSize=7&page=3') and links['Previous'].endswith('&pageSize=7&page=1')
    assert 'filter=Result!%3dSuccess%3bVmDisplayName!%3d%22a+b%22&sortDesc=CreationTime&' in links['Next']
    last = client.get_json(links['Last'][len(client.emulator.url):]).json()['PagingInfo']
    assert [link['Rel'] for link in last['Links']] == ['First', 'Previous', 'Last'] and last['PageNum'] == count
    raw = client.get(path + '&pageSize=7&page=2').body.decode()
    assert '&amp;pageSize=7&amp;page=3' in raw
    seen = []
    href = links['First'][len(client.emulator.url):]
    while href:
        page = client.get_json(href).json()
        seen += [r['UID'] for r in page['Refs']['Refs']]
        href = next((link['Href'][len(client.emulator.url):] for link in page['PagingInfo']['Links'] if link['Rel'] == 'Next'), None)
    assert len(seen) == len(set(seen)) and len(seen) > 14


def test_default_page_size_and_empty_result(client):
    info = client.get_json('/api/query?type=BackupTaskSession').json()['PagingInfo']
    assert info['PageSize'] == 100 and info['PagesCount'] > 1
    empty = client.get_json(q(type='BackupTaskSession', format='Entities', filter='VmDisplayName=="no such vm"')).json()
    assert empty['Entities']['BackupTaskSessions'] == {'BackupTaskSessions': []}
    assert empty['PagingInfo']['PagesCount'] == 0 and empty['PagingInfo']['PageNum'] == 1
    assert b'<Refs />' in client.get(q(type='BackupTaskSession', filter='VmDisplayName=="none"')).body


def test_sorting(client):
    data = client.get_json(q(type='BackupJobSession', format='Entities', sortdesc='endtime', pageSize=500)).json()
    sessions = data['Entities']['BackupJobSessions']['BackupJobSessions']
    ends = [s['EndTimeUTC'] for s in sessions]
    done = [e for e in ends if e]
    assert done == sorted(done, reverse=True) and ends[-1] is None
    asc = client.get_json(q(type='BackupTaskSession', SORTASC='TotalSize', pageSize=50, format='entities')).json()
    sizes = [s['TotalSize'] for s in asc['Entities']['BackupTaskSessions']['BackupTaskSessions']]
    assert sizes == sorted(sizes)


def test_query_errors(client):
    for path, status, text in [
            ('/api/query?type=Nope', 400, 'Unknown query type'), ('/api/query', 400, 'not specified'),
            (q(type='BackupTaskSession', filter='Bogus==1'), 400, 'Unknown field'),
            (q(type='BackupTaskSession', filter='Result=='), 400, 'Possible values'),
            (q(type='BackupTaskSession', sortAsc='Bogus'), 400, 'Unknown sort field'),
            (q(type='BackupTaskSession', pageSize=0), 400, 'positive integer'),
            (q(type='BackupTaskSession', format='Weird'), 400, 'format'),
            ('/api/backupSessions/00000000-0000-4000-8000-000000000000', 404, 'not found'),
            ('/api/nothingHere', 404, 'not found')]:
        reply = client.get_json(path)
        body = reply.json()
        assert reply.status == status and body['StatusCode'] == status and text in body['Message'], path
        assert list(body) == ['FirstChanceExceptionMessage', 'Message', 'StackTrace', 'Status', 'StatusCode']
    reply = client.request('DELETE', '/api/query?type=BackupJobSession')
    assert reply.status == 405 and xml(reply).get('StatusCode') == '405'
    error = xml(client.get('/api/query?type=Nope'))
    assert error.tag == NS + 'Error' and error.find(NS + 'FirstChanceExceptionMessage').text.startswith('Unknown query type')


def test_parameter_names_case_insensitive(client):
    a = client.get_json('/api/query?Type=BackupTaskSession&FORMAT=entities&Filter=Result%3d%3dFailed&PageSize=5').json()
    b = client.get_json(q(type='BackupTaskSession', format='Entities', filter='result==failed', pageSize=5)).json()
    assert a['Entities'] == b['Entities'] and a['Entities']['BackupTaskSessions']['BackupTaskSessions']


def test_url_length_limit(start_emulator):
    emulator = start_emulator('--url-max-length', '2000', '--no-tls')
    client = emulator.client()
    client.logon()
    ok = client.get_json(q(type='BackupTaskSession', filter='Name!="%s"' % ('x' * 1800)))
    assert ok.status == 200
    reply = client.get_json(q(type='BackupTaskSession', filter='Name!="%s"' % ('x' * 2100)))
    assert reply.status == 414 and b'Request URL Too Long' in reply.body
    assert reply.header('Content-Type') == 'text/html; charset=us-ascii'


def test_latest_per_vm_has_a_mix(client):
    catalog = client.control('GET', 'catalog').json()
    results = set()
    for name in catalog['special_vm_names']:
        data = client.get_json(q(type='BackupTaskSession', format='Entities', sortDesc='CreationTime', pageSize=1,
                                 filter='VmDisplayName==' + quote_value(name))).json()
        rows = data['Entities']['BackupTaskSessions']['BackupTaskSessions']
        assert rows and rows[0]['VmDisplayName'] == name
        results.add(rows[0]['Result'])
    assert {'Success', 'Warning', 'Failed', 'None'} <= results


def test_docs_example_queries(client):
    cdp = client.get_json(q(type='CdpReplicaTaskSession', format='Entities',
                            filter='CreationTimeUTC>="2025-08-14";CreationTimeUTC<="2025-08-15";VmDisplayName=="web;01"')).json()
    rows = cdp['Entities']['CdpReplicaTaskSessions']['CdpReplicaTaskSessions']
    assert rows and all(r['VmDisplayName'] == 'web;01' and r['CreationTimeUTC'].startswith('2025-08-14') for r in rows)
    servers = client.get_json('/api/query?type=backupServer&sortDesc=name').json()['Refs']['Refs']
    assert [s['Name'] for s in servers] == sorted((s['Name'] for s in servers), reverse=True)
    by_version = client.get_json(q(type='BackupServer', format='Entities', filter='Version=="13.0.1.1071"')).json()
    assert len(by_version['Entities']['BackupServers']['BackupServers']) == len(servers)
    failed = client.get(q(type='BackupTaskSession', format='Entities', sortDesc='CreationTime', pageSize=3, page=1,
                          filter='Result==Failed;VmDisplayName=="sql ""prod"""'))
    root = xml(failed)
    items = root.findall('%sEntities/%sBackupTaskSessions/%sBackupTaskSession' % (NS, NS, NS))
    assert items and all(i.get('VmDisplayName') == 'sql "prod"' and i.find(NS + 'Result').text == 'Failed' for i in items)
    assert xml(client.get('/api/logonSessions')).tag == NS + 'LogonSessions'
    assert xml(client.get('/api/querySvc')).tag == NS + 'QueryService'


def test_unimplemented_method_and_empty_pages_switch(start_emulator):
    emulator = start_emulator('--no-tls', '--empty-pages-count', '1')
    client = emulator.client()
    client.logon()
    reply = client.request('HEAD', '/api/')
    assert reply.status == 501
    empty = client.get_json(q(type='BackupJobSession', filter='JobName=="nothing"')).json()
    assert empty['PagingInfo']['PagesCount'] == 1 and empty['Refs'] == {'Refs': []}
    client.logoff()


def test_same_seed_same_answers(emulator, start_emulator):
    other = start_emulator('--no-tls')
    answers = []
    for server in (emulator, other):
        client = server.client()
        client.logon()
        body = client.get_json(q(type='BackupTaskSession', format='Entities', sortDesc='CreationTime', pageSize=50)).json()
        answers.append([(s['UID'], s['Name'], s['Result'], s['Reason']) for s in
                        body['Entities']['BackupTaskSessions']['BackupTaskSessions']])
        client.logoff()
    assert answers[0] == answers[1]
