#!/usr/bin/env bash
# vm_protection_info's require_session_result and collect against the emulator, each verdict compared with a
# direct query of the API: a restore point whose producing backup task session Failed, a point no session made,
# an agent computer whose newest Veeam Agent session Failed, and a point EM has not collected yet made visible by
# collect (not in check mode). The connection comes from VEEAM_EM_* only.
#
# The rows this test adds ("-1h", "-10m", ...) must be newer than everything the emulator generated. Its data is
# anchored at the start of the current hour by default, and last night's agent runs or a still-running job's
# first VM can end minutes before that anchor: run just after the hour (CI did, at 00:05) and a generated session
# is newer than the test's. Anchoring the data two hours back puts all of it at least two hours in the past.
set -eux -o pipefail
anchor=$(date -u -d '-2 hours' +%Y-%m-%dT%H:00:00Z)
export EMULATOR_ARGS="--vms 12 --sessions 300 --now $anchor"
source ../setup_emulator/emulator.sh
ansible-playbook -i ../../inventory playbook.yml "$@"
