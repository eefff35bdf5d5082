# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright (c) 2026, vbem.enterprise_manager contributors
"""Write the playbook that runs the bad-input catalogue (refusals.yml) against the emulator.

Usage: python make_playbook.py refusals.yml OUTPUT.yml

Every case becomes a block of two tasks: the call exactly as a user writes
it (literal module arguments, or a lookup in a template), with
``ignore_errors``; then an assert that it failed with one sentence naming the
option and matching the case's expectation, and that EM received no request
at all (the emulator's request count is still the one read before the first
case, or re-read after the last failing one), so the refusal came before
logging on. Failing cases are collected and reported together at the end.
The inventory files of the em_inventory cases are written beside OUTPUT.
"""

import os
import re
import sys

import yaml

COLLECTION = 'vbem.enterprise_manager'
# The file an em_inventory case's options are written to (by main(), beside the playbook) and built from.
INVENTORY_FILE = '{0}_em.yml'
STATS = "lookup('ansible.builtin.url', em_url ~ '/_emulator/stats', ca_path=em_ca, split_lines=false) | from_json"


def call_task(label, group, case):
    """The task that makes the bad call."""
    if group == 'em_inventory':
        # An inventory runs in its own process: build the file main() wrote with ansible-inventory as a user would
        # (a failed build made an error), and take the plugin's sentence, the one line after the file's name.
        name = INVENTORY_FILE.format(label)
        path = "{{ lookup('ansible.builtin.env', 'EMULATOR_DIR') }}/" + name
        return {
            'name': '{0} {1} with {2}'.format(label, group, yaml.safe_dump(case['file'], default_flow_style=True).strip()),
            'block': [
                {'name': '{0} build the inventory'.format(label),
                 'ansible.builtin.command': {'argv': ['ansible-inventory', '-i', path, '--list']},
                 'environment': {'ANSIBLE_INVENTORY_UNPARSED_FAILED': 'true'},
                 'register': 'listing', 'changed_when': False, 'failed_when': False},
                {'name': '{0} keep what the plugin said'.format(label),
                 'ansible.builtin.set_fact': {'outcome': {
                     'failed': '{{ listing.rc != 0 }}',
                     'msg': ("{{ listing.stderr | regex_search('%s: ([^\\n]*)', '\\1')"
                             " | default(['the build did not fail: ' ~ listing.stdout[:200]], true) | first }}") % re.escape(name)}}},
            ],
        }
    if group == 'backup_gate':
        # A role fails in one of its own tasks: catch that task's result as the outcome.
        return {
            'name': '{0} {1} role with {2}'.format(label, group, yaml.safe_dump(case['vars'], default_flow_style=True).strip()),
            'block': [
                {'name': '{0} run the role'.format(label),
                 'ansible.builtin.include_role': {'name': '{0}.{1}'.format(COLLECTION, group)},
                 'vars': case['vars']},
                {'name': '{0} the role let the host through'.format(label),
                 'ansible.builtin.set_fact': {'outcome': {'failed': False, 'msg': 'the role let the host through'}}},
            ],
            'rescue': [{'name': '{0} keep what the role said'.format(label),
                        'ansible.builtin.set_fact': {'outcome': "{{ ansible_failed_result | combine({'failed': true}) }}"}}],
        }
    if group == 'session_report_query':
        return {
            'name': '{0} {1} filter with {2}'.format(label, group, yaml.safe_dump(
                dict(case['options'], window=case['window']), default_flow_style=True).strip()),
            'ansible.builtin.set_fact': {
                'outcome_value': "{{ case_input | %s.session_report_query(case_window, **case_options) }}" % COLLECTION},
            'vars': {'case_input': case['input'], 'case_window': case['window'], 'case_options': case['options']},
            'register': 'outcome',
            'ignore_errors': True,
        }
    if group == 'em_query':
        return {
            'name': '{0} {1} lookup with {2}'.format(label, group, yaml.safe_dump(case['options'], default_flow_style=True).strip()),
            'ansible.builtin.set_fact': {'outcome_value': "{{ query('%s.em_query', *case_terms, **case_options) }}" % COLLECTION},
            'vars': {'case_terms': case['terms'], 'case_options': case['options']},
            'register': 'outcome',
            'ignore_errors': True,
        }
    return {
        'name': '{0} {1} with {2}'.format(label, group, yaml.safe_dump(case['args'], default_flow_style=True).strip()),
        '{0}.{1}'.format(COLLECTION, group): case['args'],
        'register': 'outcome',
        'ignore_errors': True,
    }


def check_task(label, case):
    """The assert: refused, one sentence of the expected kind, EM never asked."""
    return {
        'name': '{0} is refused before logon with one sentence naming {1}'.format(label, case['option']),
        'ansible.builtin.assert': {
            'that': [
                'outcome is failed',
                'case_option in outcome.msg',
                'outcome.msg is search(case_says)',
                # Ansible's role argument validation puts its own heading on a line of its own.
                "outcome.msg | regex_replace('^Validation of arguments failed:\\n', '') is not search('\\n|Traceback|Module failed')",
                "lookup('ansible.builtin.env', 'VEEAM_EM_PASSWORD') not in outcome.msg",
                # set_fact keeps the count a number on ansible-core 2.19, but makes it its text on 2.16.
                '({0}).requests_total == requests_before | int'.format(STATS),
            ],
            'fail_msg': '{{ case_label }} expected /{{ case_says }}/ before logon; got: {{ outcome.msg | default(outcome) }}',
            'quiet': True,
        },
        'vars': {'case_label': label, 'case_option': case['option'], 'case_says': case['says']},
    }


def main():
    """Write the playbook; print the number of cases per group on stdout."""
    with open(sys.argv[1], encoding='utf-8') as handle:
        catalogue = yaml.safe_load(handle)
    # A refusal sends EM nothing, so the count read here holds for every case; a case that failed (perhaps by
    # sending a request) re-reads it, so that the cases after it are judged on their own requests.
    tasks = [{'name': 'No case has failed yet; count the requests EM has had',
              'ansible.builtin.set_fact': {'catalogue_failures': [], 'requests_before': '{{ (%s).requests_total }}' % STATS}}]
    folder = os.path.dirname(os.path.abspath(sys.argv[2]))
    number = 0
    counts = {}
    for group, cases in catalogue.items():
        if group.startswith('x-'):
            continue
        counts[group] = len(cases)
        for case in cases:
            number += 1
            label = 'R{0:03d}'.format(number)
            if group == 'em_inventory':
                # 0600, as a user keeps a file that may hold a password.
                path = os.path.join(folder, INVENTORY_FILE.format(label))
                with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), 'w', encoding='utf-8') as handle:
                    yaml.safe_dump(dict({'plugin': COLLECTION + '.em_inventory'}, **case['file']), handle)
            # A failing case is collected, not fatal: one run reports every case that fails.
            tasks.append({
                'name': '{0} {1}'.format(label, group),
                'block': [call_task(label, group, case), check_task(label, case)],
                'rescue': [{
                    'name': '{0} failed; collect it, and count the requests EM has had again'.format(label),
                    'ansible.builtin.set_fact': {'catalogue_failures': '{{ catalogue_failures + [ansible_failed_result.msg] }}',
                                                 'requests_before': '{{ (%s).requests_total }}' % STATS},
                }],
            })
    tasks.append({
        'name': 'Every case was refused before logon with the expected sentence',
        'ansible.builtin.assert': {
            'that': ['catalogue_failures == []'],
            'fail_msg': "{{ catalogue_failures | length }} of %d cases failed: {{ catalogue_failures | join(' | ') }}" % number,
            'success_msg': 'All %d cases were refused before logon with the expected sentence.' % number,
        },
    })
    play = {
        'name': 'Bad input is refused before logon, with one sentence',
        'hosts': 'localhost',
        'gather_facts': False,
        'vars': {'em_url': "{{ lookup('ansible.builtin.env', 'VEEAM_EM_URL') }}",
                 'em_ca': "{{ lookup('ansible.builtin.env', 'VEEAM_EM_CA_PATH') }}"},
        'tasks': tasks,
    }
    with open(sys.argv[2], 'w', encoding='utf-8') as handle:
        yaml.safe_dump([play], handle, sort_keys=False, allow_unicode=True, width=200)
    for group, count in counts.items():
        print('{0}: {1} cases'.format(group, count))
    print('total: {0} cases'.format(number))


if __name__ == '__main__':
    main()
