"""What the gate must say of a few names, from direct queries of the emulator (no collection code).

Writes ``{"names": [...], "agent_names": [...], "expected": {name: {"code", "reason"}}, "expected_agent": {...}}``
for the playbook. A name is unknown when EM has no backup task session of it in the last 30 days and no
VmRestorePoint or VmReplicaPoint at all; its suggestions are the point names at the smallest
case-insensitive Levenshtein distance (at most a third of its length, at most 2), three at most, by folded
name then spelling: computed here over every pair, as the specification the gate's index must meet.
"""

import base64
import datetime
import json
import os
import ssl
import sys
import urllib.parse
import urllib.request

sys.path.insert(0, os.path.dirname(os.environ['EMULATOR_CONTROL']))
from control import control  # noqa: E402  pylint: disable=wrong-import-position  # the one emulator control client

URL = os.environ['VEEAM_EM_URL'].rstrip('/')
CONTEXT = ssl.create_default_context(cafile=os.environ['VEEAM_EM_CA_PATH'])


def request(method, path, token=None, auth=None):
    headers = {'Accept': 'application/json'}
    if token:
        headers['X-RestSvcSessionId'] = token
    if auth:
        headers['Authorization'] = 'Basic ' + base64.b64encode(auth.encode('utf-8')).decode('ascii')
    req = urllib.request.Request(URL + '/api/' + path, method=method, headers=headers)
    with urllib.request.urlopen(req, context=CONTEXT, timeout=60) as answer:
        body = answer.read().decode('utf-8-sig')
        return answer.headers, (json.loads(body) if body else None)


def query(token, query_type, filter_text=None):
    params = {'type': query_type, 'format': 'Entities', 'pageSize': 10000, 'page': 1, 'sortDesc': 'CreationTime'}
    if filter_text:
        params['filter'] = filter_text
    _headers, body = request('GET', 'query?' + urllib.parse.urlencode(params), token)
    entities = body['Entities']
    lists = [v[k] for k, v in entities.items() if isinstance(v, dict) and isinstance(v.get(k), list)]
    return [item for found in lists for item in found]


def levenshtein(left, right):
    previous = list(range(len(right) + 1))
    for i, char in enumerate(left, 1):
        current = [i]
        for j, other in enumerate(right, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other)))
        previous = current
    return previous[-1]


def unknown_reason(name, subject, pool):
    bound = min(2, len(name.casefold()) // 3)
    scored = sorted((levenshtein(name.casefold(), k.casefold()), k.casefold(), k) for k in pool if k != name)
    scored = [s for s in scored if s[0] <= bound]
    close = [k for d, _f, k in scored if d == scored[0][0]][:3] if scored else []
    if close:
        shown = close[0] if len(close) == 1 else '{0} or {1}'.format(', '.join(close[:-1]), close[-1])
        return 'EM knows no {0} named {1} (did you mean {2}?)'.format(subject, name, shown)
    return 'EM knows no {0} named {1} (no close name among the {2} known name{3} read)'.format(
        subject, name, len(pool), '' if len(pool) == 1 else 's')


def quoted(name):
    return '"{0}"'.format(name.replace('"', '""'))


def main(out):
    auth = '{0}:{1}'.format(os.environ['VEEAM_EM_USERNAME'], os.environ['VEEAM_EM_PASSWORD'])
    headers, logon = request('POST', 'sessionMngr/?v=latest', auth=auth)
    token = headers['X-RestSvcSessionId']
    try:
        catalog = control('catalog')
        points = query(token, 'VmRestorePoint') + query(token, 'VmReplicaPoint')
        point_names = set(p.get('VmName') or p.get('VmDisplayName') for p in points)
        active = sorted(set(vm for job in catalog['jobs'] if job.get('type', 'Backup') == 'Backup' for vm in job['vms']))
        retired = catalog['retired_vms'][0]
        computer = catalog['agent_jobs'][0]['computers'][0]
        names = [active[0], active[0].upper() + 'X', retired, retired.upper()[:-2] + retired[-1],
                 'nothing-like-this-at-all', 'gate-twin-Straße']
        since = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(days=30)).strftime('%Y-%m-%dT%H:%M:%SZ')
        found = {}
        for name in names:
            sessions = query(token, 'BackupTaskSession', 'VmDisplayName=={0};CreationTime>="{1}"'.format(quoted(name), since))
            own_points = [p for p in points if (p.get('VmName') or p.get('VmDisplayName')).casefold() == name.casefold()]
            found[name] = (sessions, own_points)
        # The gate's pool: the names its queries returned (sessions of the names asked) and the newest points' names.
        pool = set(point_names)
        for sessions, _p in found.values():
            pool.update(s['VmDisplayName'] for s in sessions)
        expected = {}
        for name in names:
            sessions, own_points = found[name]
            if sessions or own_points:
                expected[name] = {'code': 'known'}
                continue
            expected[name] = {'code': 'unknown_vm', 'reason': unknown_reason(name, 'VM', pool)}
        # Agent points name no computer, and no VM source is judged: the pool is the computers asked that have points.
        agent_names = [computer, computer.upper() + '-X']
        with_points = [name for name in agent_names
                       if query(token, 'AgentRestorePoint', 'ComputerName=={0}'.format(quoted(name)))]
        expected_agent = dict((name, {'code': 'known'} if name in with_points else
                               {'code': 'unknown_vm', 'reason': unknown_reason(name, 'computer', set(with_points))})
                              for name in agent_names)
    finally:
        request('DELETE', 'logonSessions/{0}'.format(logon['SessionId']), token)
    with open(out, 'w') as handle:
        json.dump({'names': names, 'retired': retired, 'agent_names': agent_names, 'expected': expected,
                   'expected_agent': expected_agent}, handle, indent=1)
    print(json.dumps(expected, indent=1))
    print(json.dumps(expected_agent, indent=1))


if __name__ == '__main__':
    main(sys.argv[1])
