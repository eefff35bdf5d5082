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
emulator_pid=""

finish() {
    local rc=$?
    if [ -n "$emulator_pid" ]; then
        kill -TERM "$emulator_pid" 2>/dev/null || true
        wait "$emulator_pid" 2>/dev/null || true
    fi
    if [ $rc -ne 0 ]; then
        echo "demo: FAILED while $step (exit $rc)" >&2
        [ -s "$work/emulator.log" ] && tail -n 20 "$work/emulator.log" >&2
    fi
    exit $rc
}
trap finish EXIT

rm -rf "$work" && mkdir -p "$work"

step="building and installing the collection"
ansible-galaxy collection build --force --output-path "$work" "$repo" >/dev/null
ansible-galaxy collection install --force -p "$work/collections" "$work"/vbem-enterprise_manager-*.tar.gz >/dev/null
export ANSIBLE_COLLECTIONS_PATH=$work/collections

step="starting the emulator"
python "$repo/tests/emulator" --port 0 --seed "${DEMO_SEED:-42}" >"$work/listening.json" 2>"$work/emulator.log" &
emulator_pid=$!
for _ in $(seq 1 300); do
    [ -s "$work/listening.json" ] && break
    kill -0 "$emulator_pid" 2>/dev/null || exit 1
    sleep 0.1
done
[ -s "$work/listening.json" ] || exit 1

step="choosing VMs from the emulator's catalog"
python - "$work" <<'PY'
import json, os, ssl, sys, urllib.request
work = sys.argv[1]
listening = json.load(open(os.path.join(work, 'listening.json')))
context = ssl.create_default_context(cafile=listening['ca_file']) if listening['ca_file'] else None
catalog = json.load(urllib.request.urlopen(listening['url'] + '/_emulator/catalog', context=context, timeout=10))
# The VMs of the first backup jobs, like a change ticket's host list, plus
# one VM that no job protects.
vms = []
for job in catalog['jobs']:
    if job['type'] == 'Backup':
        vms.extend(vm for vm in job['vms'] if vm not in vms)
    if len(vms) >= 12:
        break
vms = vms[:12] + ['vm-not-in-any-backup-job']
with open(os.path.join(work, 'gate_vars.json'), 'w', encoding='utf-8') as handle:
    json.dump({'backup_gate_vms': vms, 'backup_gate_enforce': False}, handle)
with open(os.path.join(work, 'env.sh'), 'w', encoding='utf-8') as handle:
    for name, key in (('URL', 'url'), ('USERNAME', 'username'), ('PASSWORD', 'password'), ('CA_PATH', 'ca_file')):
        handle.write("export VEEAM_EM_%s='%s'\n" % (name, str(listening[key]).replace("'", "'\\''")))
PY
# shellcheck disable=SC1091
source "$work/env.sh"
echo "demo: emulator listening on $VEEAM_EM_URL"

step="running the backup gate playbook"
ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_CALLBACK_RESULT_FORMAT=yaml ANSIBLE_NOCOLOR=${ANSIBLE_NOCOLOR:-} \
    ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$venv/bin/python" \
    -e "@$work/gate_vars.json" "$repo/playbooks/backup_gate.yml"

step="checking that every logon was logged off"
python - "$VEEAM_EM_URL" "$VEEAM_EM_CA_PATH" <<'PY'
import json, ssl, sys, urllib.request
url, ca = sys.argv[1], sys.argv[2]
stats = json.load(urllib.request.urlopen(url + '/_emulator/stats', context=ssl.create_default_context(cafile=ca), timeout=10))
print('demo: emulator saw %(logons)s logon(s), %(logoffs)s logoff(s), %(active_sessions)s left open' % stats)
sys.exit(0 if stats['active_sessions'] == 0 else 1)
PY
step="finishing"
echo "demo: done"
