#!/usr/bin/env bash
# Every module's EXAMPLES run for real against the emulator.
set -eux -o pipefail
source ../setup_emulator/emulator.sh
"${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}" examples_playbook.py "$EMULATOR_DIR/examples.yml"
ansible-playbook -i ../../inventory "$EMULATOR_DIR/examples.yml" "$@"
