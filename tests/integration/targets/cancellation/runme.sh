#!/usr/bin/env bash
# Cancel running modules and lookups with SIGINT, SIGTERM and SIGKILL, aimed at
# ansible-playbook, its process group, the module process and an ansible-runner
# job (AWX's engine): every logon must be logged off within 10 s, and EM must
# receive nothing after that.
set -eux -o pipefail
# --verbose: the access log names every logon SessionId for scan_secrets.py.
export EMULATOR_ARGS="--sessions 3000 --verbose"
source ../setup_emulator/emulator.sh
"${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}" cancel.py "$EMULATOR_DIR/cancellation.json"
# What the cancelled runs printed (-vvvv) and what ansible-runner recorded holds no secret.
"${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}" ../setup_emulator/scan_secrets.py "$EMULATOR_DIR"/scenario-*.log "$EMULATOR_DIR"/runner-*
