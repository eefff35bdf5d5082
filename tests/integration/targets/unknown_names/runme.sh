#!/usr/bin/env bash
# Unknown names against the emulator: a name EM knows nothing of (no session in 30 days, no restore or
# replica point) is unknown_vm, with close names EM knows suggested; a VM EM knows only by old points
# stays no_session. oracle.py reads the emulator's answers directly (its own REST calls, its own
# edit distance) and writes what each verdict must be; the playbook compares the module's with it.
set -eux -o pipefail
export EMULATOR_ARGS="--vms 24 --sessions 300"
source ../setup_emulator/emulator.sh
expected=${OUTPUT_DIR:-.}/unknown_names_expected.json
"$EMULATOR_PYTHON" oracle.py "$expected"
ansible-playbook -i ../../inventory playbook.yml -e "@$expected" "$@"
