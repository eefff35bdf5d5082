# shellcheck shell=bash
# Sourced by integration targets' runme.sh: start the bundled Enterprise
# Manager emulator with VEEAM_EM_* exported for it, and fail the target at
# exit if a logon session was left open.  Extra emulator options:
# EMULATOR_ARGS; helper processes to stop with it: EMULATOR_CHILD_PIDS.

# ansible-test runs each target from a copy of tests/integration, so find the
# emulator through the collection search path it exports.
collection_root=${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/vbem/enterprise_manager
[ -d "$collection_root/tests/emulator" ] || collection_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
# shellcheck source=../../../emulator/emulator-env.sh
source "$collection_root/tests/emulator/emulator-env.sh"
export EMULATOR_PYTHON=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}
# The one control client (tests/emulator/control.py): emulator_control in
# runme.sh, ``import control`` (from dirname $EMULATOR_CONTROL) in drivers.
export EMULATOR_CONTROL=$collection_root/tests/emulator/control.py

emulator_control() {  # ENDPOINT [ACTION] [JSON BODY] [--key KEY], or window AGE: see control.py
    "$EMULATOR_PYTHON" "$EMULATOR_CONTROL" "$@"
}

# A password found nowhere else, with characters that need care in Basic
# auth, so that a leak scan of the output cannot miss it or misfire.
emulator_password=$("$EMULATOR_PYTHON" -c 'import secrets; print("em;" + secrets.token_hex(12) + "\":pw")')

# shellcheck disable=SC2086  # EMULATOR_ARGS is a list of options
emulator_start --seed "${EMULATOR_SEED:-42}" --password "$emulator_password" ${EMULATOR_ARGS:-}

emulator_exit() {
    local rc=$?
    emulator_stop || rc=1
    exit $rc
}
trap emulator_exit EXIT
