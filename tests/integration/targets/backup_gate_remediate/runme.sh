#!/usr/bin/env bash
# backup_gate with backup_gate_remediate: quick_backup against the emulator: the hosts with no, an old or a failed
# backup get a quick backup (never twice, never the unknown, warning or passing ones) and pass when judged again;
# check mode sends nothing; one logon to judge and one to back up and judge again.
set -eux -o pipefail
export EMULATOR_ARGS="--running-finish-after 0 --action-duration 0.5"
source ../setup_emulator/emulator.sh
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}
check() { "$python" ../setup_backup_gate/gatecheck.py "$@"; }
check sessions sessions.json
check logons 0

ansible-playbook -i inventory.yml remediate.yml --check -e expect_backups=false "$@"
check logons 2

ansible-playbook -i inventory.yml remediate.yml -e expect_backups=true "$@"
check logons 2
