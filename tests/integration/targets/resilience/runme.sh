#!/usr/bin/env bash
# Retries of idempotent GETs on 503 and a new logon after the session expired.
set -eux -o pipefail
source ../setup_emulator/emulator.sh
# One async folder for the module that waits and for async_status, whatever
# HOME the test runner gives each of them.
export ANSIBLE_ASYNC_DIR=$EMULATOR_DIR/async
ansible-playbook -i ../../inventory playbook.yml "$@"
