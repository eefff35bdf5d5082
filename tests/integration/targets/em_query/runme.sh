#!/usr/bin/env bash
# The em_query lookup against the emulator: connection from the environment,
# then from ansible.cfg-style variables with the environment cleared.
set -eux -o pipefail
source ../setup_emulator/emulator.sh
ansible-playbook -i ../../inventory playbook.yml "$@"
env -u VEEAM_EM_URL -u VEEAM_EM_USERNAME -u VEEAM_EM_PASSWORD -u VEEAM_EM_CA_PATH \
    ansible-playbook -i ../../inventory vars_only.yml \
    -e "veeam_em_url=$VEEAM_EM_URL" -e "veeam_em_username=$VEEAM_EM_USERNAME" \
    -e "veeam_em_password=$VEEAM_EM_PASSWORD" -e "veeam_em_ca_path=$VEEAM_EM_CA_PATH" "$@"
