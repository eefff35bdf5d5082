#!/usr/bin/env bash
# vm_protection_info's restore point sources (restore_point, replica_point, agent) against the emulator:
# each VM's (computer's) verdict compared with the newest point a direct query of the API returns, for VMs
# with fresh points, VMs with points but no session in 30 days (old-app-NN), agent computers (a stale one
# included) and names EM has no point of. The connection comes from VEEAM_EM_* only.
set -eux -o pipefail
export EMULATOR_ARGS="--vms 12 --sessions 300"
source ../setup_emulator/emulator.sh
ansible-playbook -i ../../inventory playbook.yml "$@"
