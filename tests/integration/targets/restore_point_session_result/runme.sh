#!/usr/bin/env bash
# vm_protection_info's require_session_result and collect against the emulator, each verdict compared with a
# direct query of the API: a restore point whose producing backup task session Failed, a point no session made,
# an agent computer whose newest Veeam Agent session Failed, and a point EM has not collected yet made visible by
# collect (not in check mode). The connection comes from VEEAM_EM_* only.
set -eux -o pipefail
export EMULATOR_ARGS="--vms 12 --sessions 300"
source ../setup_emulator/emulator.sh
ansible-playbook -i ../../inventory playbook.yml "$@"
