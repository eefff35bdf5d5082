#!/usr/bin/env bash
# vm_protection_info's require_session_result and collect against the emulator, each verdict compared with a
# direct query of the API: a restore point whose producing backup task session Failed, a point no session made,
# an agent computer whose newest Veeam Agent session Failed, and a point EM has not collected yet made visible by
# collect (not in check mode). The connection comes from VEEAM_EM_* only.
#
# The rows this test adds ("-1h", "-10m", ...) must be newer than everything the emulator generated. Its data is
# anchored at the start of the current hour, and last night's agent runs (ending up to 00:20) or a still-running
# job's first VM can end minutes before that anchor: run soon after the hour (CI did, at 00:05) and a generated
# session is newer than the test's. --data-lag 2 anchors the data two hours earlier while the emulator's clock,
# which the relative times count back from, stays the wall clock.
set -eux -o pipefail
export EMULATOR_ARGS="--vms 12 --sessions 300 --data-lag 2"
source ../setup_emulator/emulator.sh
ansible-playbook -i ../../inventory playbook.yml "$@"
