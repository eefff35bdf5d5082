#!/usr/bin/env bash
# The bad-input catalogue against the emulator: first every refusal (which
# must come before logon), then the inputs that once changed meaning,
# compared with direct queries. Both halves run, whichever fails.
set -eux -o pipefail
source ../setup_emulator/emulator.sh
"${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}" make_playbook.py refusals.yml "$EMULATOR_DIR/refusals_playbook.yml"
status=0
ansible-playbook -i ../../inventory "$EMULATOR_DIR/refusals_playbook.yml" "$@" || status=1
ansible-playbook -i ../../inventory results.yml "$@" || status=1
exit $status
