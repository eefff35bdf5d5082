#!/usr/bin/env bash
# The bad-input catalogue against the emulator: first every refusal (which
# must come before logon), then the inputs that once changed meaning,
# compared with direct queries.
set -eux -o pipefail
source ../setup_emulator/emulator.sh
"${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}" make_playbook.py refusals.yml "$EMULATOR_DIR/refusals_playbook.yml"
ansible-playbook -i ../../inventory "$EMULATOR_DIR/refusals_playbook.yml" "$@"
ansible-playbook -i ../../inventory results.yml "$@"
