#!/usr/bin/env bash
# The gate over 500 inventory hosts against the emulator: one logon, as few
# queries as the URL limit allows, one logoff; a verdict, a group and the
# summary for every host.  No timing is asserted (see the role's README for
# the benchmark).
set -eux -o pipefail
export EMULATOR_ARGS="--vms 520 --running-finish-after 0"
source ../setup_emulator/emulator.sh
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}
check() { "$python" ../setup_backup_gate/gatecheck.py "$@"; }
log=$EMULATOR_DIR/play.log

check inventory 500 "$EMULATOR_DIR/inventory.json"
# A fresh backup for most VMs, so that the run shows passes and failures alike.
"$python" - "$EMULATOR_DIR/inventory.json" "$EMULATOR_DIR/sessions.json" <<'PY'
import json, sys
hosts = json.load(open(sys.argv[1]))['all']['children']['fleet']['hosts']
names = [variables['backup_gate_vm_name'] for variables in hosts.values()]
json.dump([{'type': 'BackupTaskSession', 'vm_name': name.lower(), 'created': 'now',
            'result': 'Failed' if index % 25 == 0 else 'Success'} for index, name in enumerate(names)
           if name.lower() == name.lower().strip() and name.isascii() and name.lower().replace('-', '').isalnum()],
          open(sys.argv[2], 'w'))
PY
check sessions "$EMULATOR_DIR/sessions.json"

rc=0
ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_SHOW_CUSTOM_STATS=true \
    ansible-playbook -i "$EMULATOR_DIR/inventory.json" gate.yml -e gate_hosts=fleet -e backup_gate_fail=none >"$log" 2>&1 || rc=$?
grep -E 'Backup gate: [0-9]+ of 500 hosts passed|gate scale checks passed|fatal|ERROR' "$log" || true
[ "$rc" -eq 0 ]
grep -F 'gate scale checks passed' "$log"
# The bound, whatever the hour the emulator's data was generated at: 500
# names fill three 8000-character query URLs for the window.  The look back
# then reads names again in two lists, those with nothing in the window and
# those EM spells otherwise than asked (the inventory spells every name in
# upper case, so most of them: read in full to see whether a second VM
# answers to the same name, which would be ambiguous).  The two lists hold
# each name at most once, so they need at most one URL more than the window:
# 3 + 4.  (How many names fall in each list depends on the hour: the
# generated sessions follow the jobs' daily schedules.)
check requests 7
