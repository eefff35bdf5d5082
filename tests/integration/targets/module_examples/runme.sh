#!/usr/bin/env bash
# Every module's EXAMPLES run for real against the emulator.
set -eux
source ../setup_emulator/emulator.sh
"${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}" examples_playbook.py "$emulator_dir/examples.yml"
ansible-playbook -i ../../inventory "$emulator_dir/examples.yml" "$@"
