#!/usr/bin/env bash
# vm_protection_info against the emulator: VMs in exact states (added through
# the emulator's control endpoints), verdicts compared with direct queries of
# the API, running sessions that finish while the module waits, 5,000 names.
# The connection comes from VEEAM_EM_* only.
set -eux -o pipefail
# A small estate keeps the emulator quick with 5,000-name filters; the special VM names are always there.
export EMULATOR_ARGS="--vms 24 --sessions 500"
source ../setup_emulator/emulator.sh
"$EMULATOR_PYTHON" add_sessions.py gate_sessions.yml
ansible-playbook -i ../../inventory playbook.yml "$@"
# EM that lies about order, times and names (the emulator's tamper mode): module and role.
ansible-playbook -i ../../inventory tampered.yml "$@"
ansible-playbook -i inventory_tampered.yml tampered_role.yml "$@"
