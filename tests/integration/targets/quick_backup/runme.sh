#!/usr/bin/env bash
# quick_backup against the emulator: parallel across jobs and serial within one (proven by the
# emulator's action times), skip when fresh, a failing backup, VMs no job covers, 403 for accounts without the
# role, timeout, check mode without a POST, a name twice backed up once, cancellation while polling.
set -eux -o pipefail
# Runs last until the driver ends them (POST /_emulator/actions finish_now): no proof depends on how fast requests are served.
export EMULATOR_ARGS="--vms 40 --sessions 400 --action-duration 3600 --users operator:op-pw:PortalUser,restorer:re-pw:RestoreOperator"
source ../setup_emulator/emulator.sh
"$EMULATOR_PYTHON" scenarios.py "$EMULATOR_DIR" quick_backup
