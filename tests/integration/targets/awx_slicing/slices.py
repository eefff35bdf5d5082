# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright (c) 2026, vbem.enterprise_manager contributors
"""A sliced AWX job template, simulated with ansible-runner.

Usage: slices.py COLLECTION_ROOT WORK_DIR   (the emulator's VEEAM_EM_* set)

What AWX does, read in its sources, and what this file does the same way:

* Slicing (``Inventory.get_script_data``): the enabled hosts ordered by name,
  slice N of C (N from 1) gets ``hosts[N - 1::C]``; groups keep only the
  slice's hosts; ``JobTemplate.get_effective_slice_ct`` runs
  ``min(job_slice_count, number of hosts)`` slices.
* A slice job's extra variables (``Job.awx_meta_vars``, then the template's
  extra variables and survey answers): ``awx_job_id`` and ``tower_job_id``
  (each slice its own job), ``awx_workflow_job_id`` and ``awx_workflow_job_name``
  (the workflow the slices belong to), ``awx_job_template_id`` and
  ``awx_job_template_name``.  AWX hands a slice job no slice number or count:
  ``job_slice_number`` and ``job_slice_count`` exist only in the API.
* The next workflow node's extra variables (``WorkflowJob.get_effective_artifacts``):
  the artifacts of the slice jobs whose status is successful or failed,
  ordered by finish time (then id), merged with ``dict.update``: top-level
  keys only, the last job to finish wins a key they share.

Each slice runs through extensions/awx/try_credential.py run (ansible-runner
with the credential injected as AWX injects it); the merge is then done for
every finish order, and the AWX guide's next node
(``next_node.yml``, shown verbatim in the guide) runs on the merged
artifacts through the same tool.
"""

import itertools
import json
import os
import re
import subprocess
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.environ['EMULATOR_CONTROL']))
from control import control  # noqa: E402  pylint: disable=wrong-import-position  # the one emulator control client

# Hosts and the sessions their VMs have: 'Success' passes, 'Failed' fails,
# None has no session at all (fails: no backup in the window).
HOSTS = {
    'app01.example.com': 'Success',
    'app02.example.com': 'Failed',
    'db01.example.com': 'Success',
    'db02.example.com': None,
    'erp01.example.com': 'Success',
    'fs01.example.com': 'Failed',
    'web01.example.com': 'Success',
    'web02.example.com': 'Success',
}
GROUPS = {'web': ['web01.example.com', 'web02.example.com'], 'db': ['db01.example.com', 'db02.example.com']}
WORKFLOW_JOB_ID = 700
TEMPLATE = {'id': 42, 'name': 'Pre-change backup gate'}
SURVEY = {'gate_hosts': 'all', 'backup_gate_max_age': '24h', 'backup_gate_fail': 'host'}


def vm_name(host):
    return 'slicing-' + host.split('.')[0]


def awx_slices(hosts, groups, all_vars, slice_count):
    """The inventories AWX gives the slice jobs: Inventory.get_script_data per slice."""
    names = sorted(hosts)
    count = min(slice_count, len(names))
    inventories = []
    for number in range(1, count + 1):
        members = names[number - 1::count]
        inventory = {'all': {'vars': dict(all_vars), 'hosts': {}, 'children': {}}}
        grouped = set()
        for group, group_hosts in groups.items():
            inside = [host for host in group_hosts if host in members]
            grouped.update(inside)
            inventory['all']['children'][group] = {'hosts': dict((host, hosts[host]) for host in inside)}
        for host in members:
            if host not in grouped:
                inventory['all']['hosts'][host] = hosts[host]
        inventories.append((number, count, members, inventory))
    return inventories


def effective_artifacts(finished_jobs):
    """WorkflowJob.get_effective_artifacts over jobs given in finish order."""
    artifacts = {}
    for job in finished_jobs:
        if job['status'] in ('successful', 'failed'):
            artifacts.update(job['artifacts'])
    return artifacts


def run_job(root, work, name, playbook, inventory_file, extra_vars):
    """One job through try_credential.py run; returns status, rc and artifacts as AWX keeps them."""
    vars_file = os.path.join(work, name + '.vars.json')
    with open(vars_file, 'w') as stream:
        json.dump(extra_vars, stream)
    private = os.path.join(work, name)
    command = [sys.executable, os.path.join(root, 'extensions', 'awx', 'try_credential.py'), 'run',
               os.path.join(root, 'extensions', 'awx', 'credential_type.yml'), os.path.join(work, 'credential.json'),
               playbook, '-i', inventory_file, '-e', vars_file, '--private-data-dir', private]
    process = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, universal_newlines=True, check=False)
    print(process.stdout)
    sys.path.insert(0, os.path.join(root, 'extensions', 'awx'))
    import try_credential  # pylint: disable=import-outside-toplevel
    artifact_dir = os.path.join(private, 'artifacts', 'job')
    with open(os.path.join(artifact_dir, 'status')) as stream:
        status = stream.read().strip()
    # The job's stdout must not hold the password (the command artifact does, by design).
    with open(os.path.join(artifact_dir, 'stdout')) as stream:
        if os.environ['VEEAM_EM_PASSWORD'] in stream.read():
            sys.exit('%s: the job output holds the password' % name)
    return {'name': name, 'status': status, 'rc': process.returncode, 'artifacts': try_credential.job_artifacts(artifact_dir),
            'stdout': process.stdout}


def main():
    root, work = sys.argv[1:]
    os.makedirs(work)
    for host, result in HOSTS.items():
        if result:
            control('sessions', {'type': 'BackupTaskSession', 'vm_name': vm_name(host), 'job_name': 'Slicing Daily',
                                 'result': result, 'created': '-2h', 'reason': 'Disk full.' if result == 'Failed' else ''})
    expected_failed = sorted(host for host, result in HOSTS.items() if result != 'Success')
    expected_passed = sorted(host for host, result in HOSTS.items() if result == 'Success')
    with open(os.path.join(work, 'credential.json'), 'w') as stream:
        json.dump({'url': os.environ['VEEAM_EM_URL'], 'username': os.environ['VEEAM_EM_USERNAME'],
                   'password': os.environ['VEEAM_EM_PASSWORD'], 'ca_certificate': open(os.environ['VEEAM_EM_CA_PATH']).read()},
                  stream)
    project = os.path.join(work, 'project')
    os.makedirs(project)
    with open(os.path.join(project, 'pre_change_gate.yml'), 'w') as stream:
        stream.write('---\n- name: Pre-change backup gate\n  ansible.builtin.import_playbook: vbem.enterprise_manager.pre_change_gate\n')
    hosts = dict((host, {'backup_gate_vm_name': vm_name(host)}) for host in HOSTS)
    all_vars = {'ansible_connection': 'local', 'ansible_python_interpreter': sys.executable}

    job_id = 1000
    for slice_count in (3, 2):
        print('=== job_slice_count %d' % slice_count)
        jobs = []
        seen = []
        logons_before = control('stats')['logons']
        for number, count, members, inventory in awx_slices(hosts, GROUPS, all_vars, slice_count):
            job_id += 1
            seen += members
            inventory_file = os.path.join(work, 'slice-%d-of-%d.yml' % (number, count))
            with open(inventory_file, 'w') as stream:
                yaml.safe_dump(inventory, stream)
            extra_vars = dict(SURVEY)
            for prefix in ('awx', 'tower'):
                extra_vars.update({prefix + '_job_id': job_id, prefix + '_job_launch_type': 'workflow',
                                   prefix + '_workflow_job_id': WORKFLOW_JOB_ID + slice_count,
                                   prefix + '_workflow_job_name': TEMPLATE['name'],
                                   prefix + '_job_template_id': TEMPLATE['id'], prefix + '_job_template_name': TEMPLATE['name']})
            job = run_job(root, work, 'job-%d' % job_id, os.path.join(project, 'pre_change_gate.yml'), inventory_file, extra_vars)
            job['id'], job['hosts'] = job_id, members
            failing = sorted(set(members) & set(expected_failed))
            # A slice with a held-back host fails its job (the workflow's failure
            # path); a slice whose hosts all passed succeeds.
            wanted = ('failed', 2) if failing else ('successful', 0)
            if (job['status'], job['rc']) != wanted:
                sys.exit('slice %d of %d (%s): status %s rc %d, expected %s rc %d' % (
                    number, count, ', '.join(members), job['status'], job['rc'], wanted[0], wanted[1]))
            own = job['artifacts'].get('backup_gate_summary_job_%d' % job_id)
            if own != job['artifacts'].get('backup_gate_summary') or not own:
                sys.exit('slice job %d published no backup_gate_summary_job_%d equal to its summary: %r' % (job_id, job_id, job['artifacts']))
            if sorted(own['failed_hosts']) != failing or own['total'] != len(members):
                sys.exit('slice job %d: summary %r, expected failed %r of %d hosts' % (job_id, own, failing, len(members)))
            print('slice %d of %d: hosts %s -> %s, rc %d' % (number, count, ', '.join(members), job['status'], job['rc']))
            jobs.append(job)
        if sorted(seen) != sorted(HOSTS) or len(seen) != len(set(seen)):
            sys.exit('the slices do not cover every host exactly once: %r' % seen)
        logons = control('stats')['logons'] - logons_before
        if logons != len(jobs):
            sys.exit('%d slice jobs made %d logons, expected one each' % (len(jobs), logons))

        # Every finish order: the next node must see every slice's verdicts.
        orders = list(itertools.permutations(jobs))
        last_only_misses = 0
        for order in orders:
            merged = effective_artifacts(order)
            keys = sorted(key for key in merged if re.match(r'^backup_gate_summary_job_[0-9]+$', key))
            if keys != sorted('backup_gate_summary_job_%d' % job['id'] for job in jobs):
                sys.exit('finish order %s: merged keys %s' % ([job['id'] for job in order], keys))
            failed = sorted(set(itertools.chain.from_iterable(merged[key]['failed_hosts'] for key in keys)))
            passed = sorted(set(itertools.chain.from_iterable(merged[key]['passed_hosts'] for key in keys)))
            if failed != expected_failed or passed != expected_passed:
                sys.exit('finish order %s: merged failed %s passed %s' % ([job['id'] for job in order], failed, passed))
            # backup_gate_summary alone is the last slice's: why the per-job keys exist.
            if merged['backup_gate_summary'] != order[-1]['artifacts']['backup_gate_summary']:
                sys.exit('backup_gate_summary is not the last finished slice\'s: the merge is not dict.update')
            if sorted(merged['backup_gate_summary']['failed_hosts']) != expected_failed:
                last_only_misses += 1
        print('%d finish orders: every merge names the %d failed and %d passed hosts through the per-job keys; '
              'backup_gate_summary alone missed failed hosts in %d of them' % (len(orders), len(expected_failed), len(expected_passed),
                                                                               last_only_misses))
        if last_only_misses == 0:
            sys.exit('no finish order lost a failed host through backup_gate_summary alone: the test proves nothing')

        # A slice job that ended in error (AWX status 'error', not 'failed')
        # contributes nothing; the workflow fails, and the next node's lists
        # then lack that slice's hosts, which therefore count as not passed.
        errored = dict(jobs[0], status='error')
        merged = effective_artifacts([errored] + jobs[1:])
        if 'backup_gate_summary_job_%d' % jobs[0]['id'] in merged:
            sys.exit('an errored slice job contributed artifacts')

        # The AWX guide's next node, on the artifacts of one finish order (the reverse of the run order).
        merged = effective_artifacts(list(reversed(jobs)))
        guide = open(os.path.join(root, 'docs', 'docsite', 'rst', 'awx.rst')).read()
        node = open('next_node.yml').read()
        blocks = [re.sub(r'^  ', '', block, flags=re.M) for block in re.findall(r'\.\. code-block:: yaml\n\n((?:  .*\n|\n)+)', guide)]
        if not any(block.strip() == node.strip() for block in blocks):
            sys.exit('docs/docsite/rst/awx.rst does not show next_node.yml as it is')
        merged['ansible_connection'] = 'local'
        merged['ansible_python_interpreter'] = sys.executable
        localhost = os.path.join(work, 'localhost.yml')
        with open(localhost, 'w') as stream:
            yaml.safe_dump({'all': {'hosts': {}}}, stream)
        job_id += 1
        node_job = run_job(root, work, 'job-%d' % job_id, os.path.abspath('next_node.yml'), localhost, merged)
        summary = node_job['artifacts']
        print('next node sees: %s' % json.dumps(summary, sort_keys=True))
        if node_job['rc'] != 0 or summary.get('gate_failed_hosts') != expected_failed or summary.get('gate_passed_hosts') != expected_passed:
            sys.exit('the next node saw %r (rc %d), expected failed %r and passed %r' % (summary, node_job['rc'], expected_failed,
                                                                                         expected_passed))
        if '%d gate jobs: %d hosts passed, %d held back: %s' % (len(jobs), len(expected_passed), len(expected_failed),
                                                                ', '.join(expected_failed)) not in node_job['stdout']:
            sys.exit('the next node did not say what the slices decided')
    return 0


if __name__ == '__main__':
    sys.exit(main())
