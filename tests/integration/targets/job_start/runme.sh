#!/usr/bin/env bash
# job_start against the emulator: check mode sends no POST, a Portal User gets the 403 sentence naming the role,
# a run by name is followed from EM's task to its stopped job session and its task sessions.
set -eux -o pipefail
export EMULATOR_ARGS="--vms 40 --sessions 400 --action-duration 3600 --users operator:op-pw:PortalUser,restorer:re-pw:RestoreOperator"
source ../setup_emulator/emulator.sh
"$EMULATOR_PYTHON" ../quick_backup/scenarios.py "$EMULATOR_DIR" job_start
