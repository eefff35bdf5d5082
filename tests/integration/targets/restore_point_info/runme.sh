#!/usr/bin/env bash
# restore_point_info against the emulator: each answer compared with a direct query of the API, for VMs of a
# backup job, VMs with points but no session in 30 days (old-app-NN, and one whose only point was added now),
# replica points, agent computers (one added now, a stale one, a name in other case), windows computed from
# the seeded data, and latest_per_vm while the emulator answers in reversed or shuffled order.
set -eux -o pipefail
export EMULATOR_ARGS="--vms 12 --sessions 300"
source ../setup_emulator/emulator.sh
# A VM EM knows only by a point (no job, no session) and a computer added by a Veeam Agent run, both fresh.
emulator_control points set '{"type": "VmRestorePoint", "vm_name": "rp-only-01", "created": "-2h"}'
emulator_control agent_sessions set '{"computer_name": "phys-new-01", "created": "-3h"}'
ansible-playbook -i ../../inventory playbook.yml "$@"
