# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The floor of a scan: a plain keep-alive requests loop over exactly the pages needed.

Logon, page 1, 2, ... until PagingInfo says the last one, logoff; every page
parsed with json.loads and its sessions counted, nothing else. No Ansible,
no normalisation, one connection, one page at a time: what the wire and EM
allow a sequential client.

    python bench/floor.py PAGE_SIZE [QUERY_TYPE]   (VEEAM_EM_URL, _USERNAME, _PASSWORD, _CA_PATH from the environment)

Prints one JSON line: {"seconds": ..., "count": ..., "pages": ...}.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import os
import sys
import time

import requests


def scan(base, username, password, ca_path, page_size, query_type):
    """Return (seconds, sessions, pages) of one full sequential scan."""
    http = requests.Session()
    http.headers['Accept'] = 'application/json'
    started = time.perf_counter()
    response = http.post(base + '/api/sessionMngr/?v=latest', auth=(username, password), verify=ca_path)
    response.raise_for_status()
    token = response.headers['X-RestSvcSessionId']
    session_id = response.json()['SessionId']
    headers = {'X-RestSvcSessionId': token}
    count = 0
    page = 1
    try:
        while True:
            response = http.get(base + '/api/query', headers=headers, verify=ca_path, params=[
                ('type', query_type), ('format', 'Entities'), ('sortDesc', 'CreationTime'),
                ('pageSize', page_size), ('page', page)])
            response.raise_for_status()
            doc = response.json()
            slot = doc['Entities'][query_type + 's']
            count += len(slot[query_type + 's'] or [])
            if page >= doc['PagingInfo']['PagesCount']:
                break
            page += 1
    finally:
        http.delete(base + '/api/logonSessions/' + session_id, headers=headers, verify=ca_path)
        http.close()
    return time.perf_counter() - started, count, page


def main():
    page_size = int(sys.argv[1])
    query_type = sys.argv[2] if len(sys.argv) > 2 else 'BackupTaskSession'
    seconds, count, pages = scan(os.environ['VEEAM_EM_URL'], os.environ['VEEAM_EM_USERNAME'], os.environ['VEEAM_EM_PASSWORD'],
                                 os.environ['VEEAM_EM_CA_PATH'], page_size, query_type)
    print(json.dumps({'seconds': seconds, 'count': count, 'pages': pages}))


if __name__ == '__main__':
    main()
