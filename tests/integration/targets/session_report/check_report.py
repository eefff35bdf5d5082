# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Check what playbooks/session_report.yml wrote against a direct query of the API.

Usage: python check_report.py REPORT_DIR PLAY_OUTPUT CREATED_AFTER SOURCE...
(emulator from VEEAM_EM_URL, _USERNAME, _PASSWORD, _CA_PATH)

The direct query uses nothing of the collection (urllib, one logon, logoff).
sessions.csv must hold exactly the window's task sessions, RFC 4180-quoted
and safe from formula injection; report.html must be self-contained, escape
every EM string and list the VMs whose newest session failed; the play's
output must show the same totals.
"""

import base64
import csv
import html
import io
import json
import os
import re
import ssl
import sys
import urllib.parse
import urllib.request

TYPES = {'backup': ('BackupTaskSession', 'CreationTime'), 'replica': ('ReplicaTaskSession', 'CreationTime'),
         'cdp': ('CdpReplicaTaskSession', 'CreationTimeUTC')}


def escaped(text):
    """Text as the page's autoescaping writes it (markupsafe: quotes as numeric references)."""
    return html.escape(text, quote=True).replace('&quot;', '&#34;').replace('&#x27;', '&#39;')


def direct_sessions(created_after, sources):
    """{source: [entity, ...]} newest first, straight from the API."""
    base = os.environ['VEEAM_EM_URL'].rstrip('/') + '/api'
    context = ssl.create_default_context(cafile=os.environ['VEEAM_EM_CA_PATH'])
    credentials = base64.b64encode('{0}:{1}'.format(os.environ['VEEAM_EM_USERNAME'], os.environ['VEEAM_EM_PASSWORD']).encode()).decode()
    request = urllib.request.Request(base + '/sessionMngr/?v=latest', method='POST',
                                     headers={'Authorization': 'Basic ' + credentials, 'Accept': 'application/json'})
    with urllib.request.urlopen(request, context=context, timeout=30) as answer:
        token = answer.headers['X-RestSvcSessionId']
        session_id = json.load(answer)['SessionId']
    headers = {'X-RestSvcSessionId': token, 'Accept': 'application/json'}
    found = {}
    try:
        for source in sources:
            query_type, time_field = TYPES[source]
            query = urllib.parse.urlencode({'type': query_type, 'format': 'Entities', 'pageSize': 100000,
                                            'sortDesc': time_field, 'filter': '{0}>="{1}"'.format(time_field, created_after)})
            with urllib.request.urlopen(urllib.request.Request(base + '/query?' + query, headers=headers), context=context, timeout=60) as answer:
                found[source] = json.load(answer)['Entities'][query_type + 's'][query_type + 's'] or []
    finally:
        request = urllib.request.Request(base + '/logonSessions/' + session_id, method='DELETE', headers=headers)
        urllib.request.urlopen(request, context=context, timeout=30).close()
    return found


def utc(value):
    return value[:19] + 'Z' if value else ''


def main():
    report_dir, play_output, created_after, sources = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
    problems = []
    found = direct_sessions(created_after, sources)
    with open(os.path.join(report_dir, 'sessions.csv'), 'rb') as handle:
        raw = handle.read()
    text = raw.decode('utf-8')
    rows = list(csv.reader(io.StringIO(text, newline='')))

    # sessions.csv: RFC 4180 and exactly the API's sessions.
    if not text.endswith('\r\n') or re.search(r'(?<!\r)\n', text.replace('\r\n', '')):
        problems.append('sessions.csv lines must end in CRLF, and only CRLF')
    if rows[0] != ['type', 'vm_name', 'job_name', 'start_utc', 'end_utc', 'state', 'result', 'reason', 'size_bytes']:
        problems.append('sessions.csv header is {0}'.format(rows[0]))

    def shown(name):
        return "'" + name if name[:1] in '=+-@\t\r' else name

    expected = sorted((source, shown(e['VmDisplayName']), utc(e.get('CreationTimeUTC') or e.get('CreationTime')), e['Result'], e['State'])
                      for source in sources for e in found[source])
    written = sorted((r[0], r[1], r[3], r[6], r[5]) for r in rows[1:])
    if written != expected:
        problems.append('sessions.csv holds {0} rows, the API {1} sessions; first difference: {2}'.format(
            len(written), len(expected), next(((w, e) for w, e in zip(written, expected) if w != e), None)))
    formula = [r for r in rows[1:] if r[1] == "'=cmd"]
    if not formula or formula[0][7] != "'=HYPERLINK(\"http://x\")" or any(r[1].startswith('=') or r[7].startswith('=') for r in rows[1:]):
        problems.append('formula cells are not neutralised: {0}'.format(formula))
    if b'"sql ""prod"""' not in raw:
        problems.append('sql "prod" is not RFC 4180-quoted')

    # report.html: self-contained, escaped, bad news listed.
    with open(os.path.join(report_dir, 'report.html'), encoding='utf-8') as handle:
        page = handle.read()
    tags = re.findall(r'<[^>]*>', page)
    outside = r'(?i)^<(script|link|img|iframe|object)|\b(src|href)\s*=|https?://'
    if re.search(r'(?i)@import|url\(', page) or any(re.search(outside, tag) for tag in tags):
        problems.append('report.html refers to something outside itself or carries markup from EM')
    # EM's own text, such as a reason =HYPERLINK("http://x"), is shown escaped, never as markup.
    if escaped('=HYPERLINK("http://x")') not in page:
        problems.append('report.html does not show the planted reason as escaped text')
    bad_names = set(e['VmDisplayName'] for source in sources for e in found[source] if e['Result'] in ('Failed', 'Warning'))
    for name in ('lab<test>', 'exchange&mail', 'sql "prod"', '<img src=x onerror=alert(1)>', '=cmd'):
        if name in bad_names and escaped(name) not in page:
            problems.append('report.html lacks the escaped name {0!r}'.format(name))
    if '<img src=x onerror=alert(1)>' not in bad_names:
        problems.append('the planted VM <img src=x onerror=alert(1)> is not among the warning sessions')
    vms_part = page[page.index('id="vms"'):page.index('id="problems"')]
    for source in sources:
        newest = {}
        for entity in found[source]:
            newest.setdefault(entity['VmDisplayName'], entity)
        for name, entity in newest.items():
            if entity['Result'] == 'Failed' and '>' + escaped(name) + '<' not in vms_part:
                problems.append('report.html does not list {0!r} among the VMs whose newest {1} session failed'.format(name, source))
    failed = sum(1 for source in sources for e in found[source] if e['Result'] == 'Failed')
    if '<b>{0:,}</b><span>Failed sessions</span>'.format(failed) not in page:
        problems.append('report.html does not count {0} failed sessions'.format(failed))

    # The play's terminal table.
    with open(play_output, encoding='utf-8') as handle:
        output = handle.read()
    total = sum(len(found[s]) for s in sources)
    if not re.search(r'all\s+{0:,}\s+{1:,}\s'.format(total, failed), output):
        problems.append('the play output has no totals line for {0} sessions, {1} failed'.format(total, failed))
    if 'report.html' not in output:
        problems.append("the play output does not name the report's path")
    for problem in problems:
        print(problem)
    print('{0} sessions checked against the API ({1}); {2} problem(s)'.format(total, ', '.join(sources), len(problems)))
    return 1 if problems else 0


if __name__ == '__main__':
    sys.exit(main())
