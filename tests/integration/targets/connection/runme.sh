#!/usr/bin/env bash
# Connection handling: module_defaults through the action group with no
# environment, TLS validation, bad credentials and a caller-owned token.
set -eux -o pipefail
source ../setup_emulator/emulator.sh
# The playbook reads the connection from EM_TEST_* (not from -e, which -vvvv
# would echo) and sets it through module_defaults.
EM_TEST_URL=$VEEAM_EM_URL EM_TEST_USERNAME=$VEEAM_EM_USERNAME EM_TEST_PASSWORD=$VEEAM_EM_PASSWORD EM_TEST_CA=$VEEAM_EM_CA_PATH \
    env -u VEEAM_EM_URL -u VEEAM_EM_USERNAME -u VEEAM_EM_PASSWORD -u VEEAM_EM_CA_PATH \
    ansible-playbook -i ../../inventory playbook.yml -vvvv "$@" | tee "$EMULATOR_DIR/output.log"
# Not the password, not a session token, at any verbosity (-vvvv above).
"${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}" ../setup_emulator/scan_secrets.py "$EMULATOR_DIR/output.log"
