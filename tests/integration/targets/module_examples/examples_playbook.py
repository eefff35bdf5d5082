# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright (c) 2026, vbem.enterprise_manager contributors
"""Write a playbook that runs the EXAMPLES of every module and lookup against the emulator.

Usage: python examples_playbook.py OUTPUT.yml

The examples are taken from ansible-doc as users read them.  The one change
made to them: the documentation's example server is pointed at the emulator.
Tasks that use the collection must succeed as written; other tasks (gates
that assert on the data) may fail, since their outcome depends on the
emulator's data rather than on the collection.  Variables the examples take
from the user (credentials, a logon token) are provided.
"""

import json
import os
import subprocess
import sys

import yaml

COLLECTION = 'vbem.enterprise_manager'
EXAMPLE_URL = 'https://em.example.com:9398'


def plugin_names(plugin_type):
    """The collection's plugins of one type, as ansible-doc lists them."""
    listing = subprocess.run(['ansible-doc', '-t', plugin_type, '--list', '--json', COLLECTION],
                             check=True, capture_output=True, text=True)
    return sorted(json.loads(listing.stdout))


def example_tasks(plugin_type, name):
    """The EXAMPLES of one plugin as a list of tasks."""
    doc = subprocess.run(['ansible-doc', '-t', plugin_type, '--json', name], check=True, capture_output=True, text=True)
    examples = json.loads(doc.stdout)[name]['examples']
    examples = examples.replace(EXAMPLE_URL, os.environ['VEEAM_EM_URL'])
    tasks = yaml.safe_load(examples)
    if not tasks:
        raise SystemExit('%s has no EXAMPLES' % name)
    for task in tasks:
        # A gate (assert, fail) judges the emulator's data, whatever collection code feeds it.
        gate = any(key in task for key in ('ansible.builtin.assert', 'ansible.builtin.fail'))
        if gate or COLLECTION + '.' not in yaml.safe_dump(task):
            task['ignore_errors'] = True
    return tasks


def uri_task(name, path, method, status, extra):
    """An ansible.builtin.uri task against the emulator's API."""
    args = {'url': os.environ['VEEAM_EM_URL'] + path, 'method': method, 'ca_path': os.environ['VEEAM_EM_CA_PATH'],
            'status_code': status, 'headers': {'Accept': 'application/json'}}
    args.update(extra)
    return {'name': name, 'ansible.builtin.uri': args, 'no_log': True}


# Examples that reuse someone else's logon get a real one, logged off after.
LOGON = dict(uri_task('Log on for the examples that reuse a token', '/api/sessionMngr/?v=latest', 'POST', 201, {
    'url_username': os.environ['VEEAM_EM_USERNAME'], 'url_password': os.environ['VEEAM_EM_PASSWORD'],
    'force_basic_auth': True}), register='em_logon')
SET_TOKEN = {'name': 'Keep the token', 'ansible.builtin.set_fact': {'em_token': '{{ em_logon.x_restsvcsessionid }}'}, 'no_log': True}
LOGOFF = uri_task("Log off the examples' logon", '/api/logonSessions/{{ em_logon.json.SessionId }}', 'DELETE', 204, {
    'headers': {'X-RestSvcSessionId': '{{ em_token }}'}})


def main():
    """Write the playbook."""
    plays = []
    for plugin_type in ('module', 'lookup'):
        for name in plugin_names(plugin_type):
            plays.append({
                'name': 'EXAMPLES of %s' % name,
                'hosts': 'localhost',
                'gather_facts': False,
                'vars': {'em_user': os.environ['VEEAM_EM_USERNAME'], 'em_password': os.environ['VEEAM_EM_PASSWORD'],
                         'vault_em_password': os.environ['VEEAM_EM_PASSWORD']},
                'pre_tasks': [LOGON, SET_TOKEN],
                'tasks': example_tasks(plugin_type, name),
                'post_tasks': [LOGOFF],
            })
    with open(sys.argv[1], 'w', encoding='utf-8') as handle:
        yaml.safe_dump(plays, handle, sort_keys=False, allow_unicode=True)
    print('%d plays, %d example tasks' % (len(plays), sum(len(play['tasks']) for play in plays)))


if __name__ == '__main__':
    main()
