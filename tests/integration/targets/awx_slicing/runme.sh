#!/usr/bin/env bash
# A sliced AWX job template without AWX: the inventory split into slices the
# way AWX splits it, each slice run as its own job through ansible-runner with
# the collection's credential type rendered as AWX renders it
# (extensions/awx/try_credential.py, the tool the AWX guide documents) and the
# extra variables AWX gives a slice job, the slices' set_stats artifacts merged
# the way AWX merges them for the workflow's next node, in every finish order,
# and the next node of the AWX guide's slicing section run on the result.
set -eux -o pipefail
source ../setup_emulator/emulator.sh
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}
# shellcheck disable=SC2154  # collection_root: set by setup_emulator/emulator.sh
"$python" slices.py "$collection_root" "$EMULATOR_DIR/slicing"
