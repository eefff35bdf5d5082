#!/usr/bin/env bash
# Connection handling: module_defaults through the action group with no
# environment, TLS validation, bad credentials and a caller-owned token.
set -eux -o pipefail
source ../setup_emulator/emulator.sh
env -u VEEAM_EM_URL -u VEEAM_EM_USERNAME -u VEEAM_EM_PASSWORD -u VEEAM_EM_CA_PATH \
    ansible-playbook -i ../../inventory playbook.yml \
    -e "em_url=$VEEAM_EM_URL" -e "em_username=$VEEAM_EM_USERNAME" \
    -e "em_password=$VEEAM_EM_PASSWORD" -e "em_ca=$VEEAM_EM_CA_PATH" -vvvv "$@" | tee "$EMULATOR_DIR/output.log"
# Not the password, not a session token, at any verbosity (-vvvv above).
"${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}" ../setup_emulator/scan_secrets.py "$EMULATOR_DIR/output.log"
