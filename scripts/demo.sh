#!/usr/bin/env bash
# The main job (`make demo`): build and install the collection, start the
# bundled Enterprise Manager emulator, run the pre-change backup gate for a
# set of its VMs in report mode, and stop the emulator.  It exits non-zero
# only when the demo itself breaks, and says which step broke.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-$repo/.venv}
case "$venv" in /*) ;; *) venv=$repo/$venv ;; esac
export PATH=$venv/bin:$PATH
work=$repo/.cache/demo
step="starting"
# shellcheck source=../tests/emulator/emulator-env.sh
source "$repo/tests/emulator/emulator-env.sh"
export EMULATOR_PYTHON=python

finish() {
    local rc=$?
    # Stops the emulator if a failed step left it running.
    emulator_stop >/dev/null 2>&1 || true
    [ $rc -eq 0 ] || echo "demo: FAILED while $step (exit $rc)" >&2
    exit $rc
}
trap finish EXIT

rm -rf "$work" && mkdir -p "$work"

step="building and installing the collection"
ansible-galaxy collection build --force --output-path "$work" "$repo" >/dev/null
ansible-galaxy collection install --force -p "$work/collections" "$work"/vbem-enterprise_manager-*.tar.gz >/dev/null
export ANSIBLE_COLLECTIONS_PATH=$work/collections

step="starting the emulator"
emulator_start --seed "${DEMO_SEED:-42}"
echo "demo: emulator listening on $VEEAM_EM_URL"

step="choosing VMs from the emulator's catalog"
python - "$work/gate_vars.json" <<'PY'
import json, os, ssl, sys, urllib.request
context = ssl.create_default_context(cafile=os.environ['VEEAM_EM_CA_PATH'])
catalog = json.load(urllib.request.urlopen(os.environ['VEEAM_EM_URL'] + '/_emulator/catalog', context=context, timeout=10))
# The VMs of the first backup jobs, like a change ticket's host list, plus
# one VM that no job protects.
vms = []
for job in catalog['jobs']:
    if job['type'] == 'Backup':
        vms.extend(vm for vm in job['vms'] if vm not in vms)
    if len(vms) >= 12:
        break
vms = vms[:12] + ['vm-not-in-any-backup-job']
with open(sys.argv[1], 'w', encoding='utf-8') as handle:
    json.dump({'backup_gate_vms': vms, 'backup_gate_enforce': False}, handle)
PY

step="running the backup gate playbook"
ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_CALLBACK_RESULT_FORMAT=yaml \
    ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$venv/bin/python" \
    -e "@$work/gate_vars.json" "$repo/playbooks/backup_gate.yml"

step="checking that every logon was logged off"
emulator_stop
echo "demo: done"
