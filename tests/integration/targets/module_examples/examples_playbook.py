# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright (c) 2026, vbem.enterprise_manager contributors
"""Write a playbook that runs every module's EXAMPLES against the emulator.

Usage: python examples_playbook.py OUTPUT.yml

The examples are taken from ansible-doc as users read them.  The one change
made to them: the documentation's example server is pointed at the emulator.
Tasks of this collection must succeed as written; other tasks (assertions
that gate on real data, fail, debug) may fail, since their outcome depends on
the emulator's data rather than on the collection.
"""

import json
import os
import subprocess
import sys

import yaml

COLLECTION = 'vbem.enterprise_manager'
EXAMPLE_URL = 'https://em.example.com:9398'


def module_names():
    """The collection's modules, as ansible-doc lists them."""
    listing = subprocess.run(['ansible-doc', '--list', '--json', COLLECTION], check=True, capture_output=True, text=True)
    return sorted(json.loads(listing.stdout))


def example_tasks(module):
    """The EXAMPLES of one module as a list of tasks."""
    doc = subprocess.run(['ansible-doc', '--json', module], check=True, capture_output=True, text=True)
    examples = json.loads(doc.stdout)[module]['examples']
    examples = examples.replace(EXAMPLE_URL, os.environ['VEEAM_EM_URL'])
    tasks = yaml.safe_load(examples)
    if not tasks:
        raise SystemExit('%s has no EXAMPLES' % module)
    for task in tasks:
        if not any(key.startswith(COLLECTION + '.') for key in task):
            task['ignore_errors'] = True
    return tasks


def main():
    """Write the playbook."""
    plays = [{
        'name': 'EXAMPLES of %s' % module,
        'hosts': 'localhost',
        'gather_facts': False,
        'vars': {
            'em_password': os.environ['VEEAM_EM_PASSWORD'],
            'vault_em_password': os.environ['VEEAM_EM_PASSWORD'],
            'em_username': os.environ['VEEAM_EM_USERNAME'],
        },
        'tasks': example_tasks(module),
    } for module in module_names()]
    with open(sys.argv[1], 'w', encoding='utf-8') as handle:
        yaml.safe_dump(plays, handle, sort_keys=False, allow_unicode=True)
    print('%d plays, %d tasks' % (len(plays), sum(len(play['tasks']) for play in plays)))


if __name__ == '__main__':
    main()
