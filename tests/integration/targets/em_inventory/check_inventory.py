# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Compare `ansible-inventory --list` of em_inventory with a direct query of the API.

Usage: python check_inventory.py INVENTORY_JSON CREATED_AFTER SOURCE...
(emulator from VEEAM_EM_URL, _USERNAME, _PASSWORD, _CA_PATH)

The direct query uses nothing of the collection: urllib, one logon, one
query per source sorted newest first, logoff. For each source the first
session (restore point) of a VM is its newest. Checks: the hosts are exactly the VMs with a
session in the window, but for names that cannot be safe host names; each
host's vbem_<source> is that VM's newest session (or null) and vbem_vm_name its
name; backup_<Result> groups hold exactly the VMs whose newest backup has that
result; every host has vbem_protection.
"""

import base64
import json
import os
import ssl
import sys
import urllib.parse
import urllib.request

# source: (query type, time filter field, UID key, the entity's VM name key)
TYPES = {'backup': ('BackupTaskSession', 'CreationTime', 'UID', 'VmDisplayName'),
         'replica': ('ReplicaTaskSession', 'CreationTime', 'UID', 'VmDisplayName'),
         'cdp': ('CdpReplicaTaskSession', 'CreationTimeUTC', 'Id', 'VmDisplayName'),
         'restore_point': ('VmRestorePoint', 'CreationTime', 'UID', 'VmName'),
         'replica_point': ('VmReplicaPoint', 'CreationTime', 'UID', 'VmDisplayName')}
POINTS = ('restore_point', 'replica_point')


def direct_newest(created_after, sources):
    """{source: {folded vm_name: newest entity}} read straight from the API."""
    base = os.environ['VEEAM_EM_URL'].rstrip('/') + '/api'
    context = ssl.create_default_context(cafile=os.environ['VEEAM_EM_CA_PATH'])
    credentials = base64.b64encode('{0}:{1}'.format(os.environ['VEEAM_EM_USERNAME'], os.environ['VEEAM_EM_PASSWORD']).encode()).decode()
    request = urllib.request.Request(base + '/sessionMngr/?v=latest', method='POST',
                                     headers={'Authorization': 'Basic ' + credentials, 'Accept': 'application/json'})
    with urllib.request.urlopen(request, context=context, timeout=30) as answer:
        token = answer.headers['X-RestSvcSessionId']
        session_id = json.load(answer)['SessionId']
    headers = {'X-RestSvcSessionId': token, 'Accept': 'application/json'}
    newest = {}
    try:
        for source in sources:
            query_type, time_field, _uid, name_key = TYPES[source]
            query = urllib.parse.urlencode({'type': query_type, 'format': 'Entities', 'pageSize': 100000,
                                            'sortDesc': time_field, 'filter': '{0}>="{1}"'.format(time_field, created_after)})
            with urllib.request.urlopen(urllib.request.Request(base + '/query?' + query, headers=headers), context=context, timeout=60) as answer:
                doc = json.load(answer)
            assert doc['PagingInfo']['PagesCount'] <= 1, 'the direct query needs one page'
            found = newest[source] = {}
            # EM compares names case-insensitively: CaseDup and casedup are one name (and one host, judged ambiguous).
            for entity in doc['Entities'][query_type + 's'][query_type + 's'] or []:
                found.setdefault(entity[name_key].casefold(), dict(entity, VmDisplayName=entity[name_key]))
    finally:
        request = urllib.request.Request(base + '/logonSessions/' + session_id, method='DELETE', headers=headers)
        urllib.request.urlopen(request, context=context, timeout=30).close()
    return newest


def moment(text):
    """An EM time (0-7 fraction digits, Z) as a sortable tuple."""
    whole, _dot, fraction = text.rstrip('Z').partition('.')
    return whole, int((fraction or '0')[:6].ljust(6, '0'))


def host_spellings(newest):
    """{folded name: the spelling of the newest session or point of any source} - the plugin's rule for host names."""
    best = {}
    for found in newest.values():
        for key, entity in found.items():
            when = moment(entity['CreationTimeUTC'])
            if key not in best or when > best[key][0]:
                best[key] = (when, entity['VmDisplayName'])
    return dict((key, name) for key, (_when, name) in best.items())


def safe_host_name(name):
    """The plugin's documented rule, restated: VMs with these names are left out of the inventory."""
    reserved = ('all', 'ungrouped', 'localhost', '127.0.0.1', '::1')
    return (name.strip() != '' and name.casefold().rstrip('.') not in reserved and not name.startswith('-')
            and not any(ord(ch) < 32 or 127 <= ord(ch) < 160 for ch in name)
            and '{' not in name and '}' not in name and not name.startswith('#jinja2:'))


def untrusted_as_text(value):
    """ansible-inventory writes text that could be a template as {"__ansible_unsafe": "..."} (check_export.py checks which)."""
    return value['__ansible_unsafe'] if list(value) == ['__ansible_unsafe'] else value


def main():
    with open(sys.argv[1], encoding='utf-8') as handle:
        listing = json.load(handle, object_hook=untrusted_as_text)
    created_after, sources = sys.argv[2], sys.argv[3:]
    hostvars = listing['_meta']['hostvars']
    newest = direct_newest(created_after, sources)
    spelling = host_spellings(newest)
    expected_hosts = set(name for name in spelling.values() if safe_host_name(name))
    problems = []
    if set(hostvars) != expected_hosts:
        problems.append('hosts differ: only in the inventory {0}, only in the API {1}'.format(
            sorted(set(hostvars) - expected_hosts), sorted(expected_hosts - set(hostvars))))
    for host in sorted(expected_hosts & set(hostvars)):
        variables = hostvars[host]
        for source in TYPES:
            entity = newest.get(source, {}).get(host.casefold())
            session = variables.get('vbem_' + source)
            if entity is None:
                if session is not None:
                    problems.append('{0}: vbem_{1} should be null, is {2}'.format(host, source, session.get('uid')))
                continue
            uid = entity.get(TYPES[source][2]) or entity.get('UID')
            if source in POINTS:
                # The newest point: EM's own, its creation time as sent, and its age a whole number of seconds.
                if session is None or session['uid'] != uid or session['creation_time'] != entity['CreationTimeUTC'] \
                        or not isinstance(session.get('age_seconds'), int) or session['age_seconds'] < 0:
                    problems.append('{0}: vbem_{1} is {2}, the API says {3} ({4})'.format(
                        host, source, session and (session['uid'], session['creation_time'], session.get('age_seconds')),
                        uid, entity['CreationTimeUTC']))
                continue
            if session is None or session['uid'] != uid or session['result'] != entity['Result'] or session['state'] != entity['State']:
                problems.append('{0}: vbem_{1} is {2}, the API says {3} ({4}, {5})'.format(
                    host, source, session and (session['uid'], session['result'], session['state']), uid, entity['Result'], entity['State']))
            # The host is named by the newest evidence of any source: with restore points beside sessions, a
            # case twin's host (CaseDup/casedup, one name to EM) may carry the other spelling's newest session.
            twin_spelling = any(p in sources for p in POINTS) and session and session['vm_name'].casefold() == host.casefold()
            if session and session['vm_name'] != host and not twin_spelling:
                problems.append('{0}: vbem_{1}.vm_name is {2!r}'.format(host, source, session['vm_name']))
        if variables.get('vbem_vm_name') != host:
            problems.append('{0}: vbem_vm_name is {1!r}'.format(host, variables.get('vbem_vm_name')))
        protection = variables.get('vbem_protection') or {}
        if set(protection) != {'passed', 'code', 'reason', 'sources'} or not protection['reason']:
            problems.append('{0}: vbem_protection is {1!r}'.format(host, protection))
    if 'backup' in sources:
        results = set(entity['Result'] for entity in newest['backup'].values())
        for result in sorted(results):
            group = listing.get('backup_' + result, {}).get('hosts', [])
            wanted = sorted(spelling[key] for key, entity in newest['backup'].items()
                            if entity['Result'] == result and safe_host_name(spelling[key]))
            if sorted(group) != wanted:
                problems.append('group backup_{0} holds {1}, the API says {2}'.format(result, sorted(group), wanted))
        if not {'Success', 'Failed', 'Warning', 'None'} <= results:
            problems.append('the data should hold every backup result, not only {0}'.format(sorted(results)))
    for problem in problems:
        print(problem)
    print('{0} hosts checked against the API ({1}); {2} problem(s)'.format(len(hostvars), ', '.join(sources), len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
