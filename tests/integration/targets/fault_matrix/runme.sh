#!/usr/bin/env bash
# Over 300 module and lookup calls under seeded random faults (every 5xx, 500s
# on the logoff, dropped connections and answers, latency below and above
# timeout, expiry mid-run, the logon cap), then the emulator's books must
# balance, and every failure must be one sentence; then the same faults through
# ansible-playbook at -vvvv, whose output must hold no traceback and no secret.
set -eux -o pipefail
# --verbose: the access log names every logon SessionId for scan_secrets.py.
export EMULATOR_ARGS="--sessions 1500 --max-logon-sessions 12 --verbose"
source ../setup_emulator/emulator.sh
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}

"$python" fault_matrix.py "$EMULATOR_DIR/fault_matrix.json" "${FAULT_MATRIX_SEED:-7}"

ansible-playbook -i ../../inventory playbook.yml -vvvv "$@" >"$EMULATOR_DIR/playbook.log" 2>&1 || {
    tail -50 "$EMULATOR_DIR/playbook.log"
    exit 1
}
if grep -n 'Traceback' "$EMULATOR_DIR/playbook.log"; then
    echo 'a traceback reached the output' >&2
    exit 1
fi
"$python" ../setup_emulator/scan_secrets.py "$EMULATOR_DIR/playbook.log"
