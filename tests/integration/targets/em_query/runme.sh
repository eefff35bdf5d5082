#!/usr/bin/env bash
# The em_query lookup against the emulator: connection from the environment,
# then from host variables with the environment cleared.
set -eux -o pipefail
source ../setup_emulator/emulator.sh
ansible-playbook -i ../../inventory playbook.yml "$@"

"${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}" - "$EMULATOR_DIR/hostvars.yml" <<'PY'
import json, os, sys
host = {
    'ansible_connection': 'local',
    'ansible_python_interpreter': os.environ.get('ANSIBLE_TEST_PYTHON_INTERPRETER', 'python'),
    'veeam_em_url': os.environ['VEEAM_EM_URL'],
    'veeam_em_username': os.environ['VEEAM_EM_USERNAME'],
    'veeam_em_password': os.environ['VEEAM_EM_PASSWORD'],
    'veeam_em_ca_path': os.environ['VEEAM_EM_CA_PATH'],
}
with open(sys.argv[1], 'w', encoding='utf-8') as handle:
    json.dump({'all': {'hosts': {'localhost': host}}}, handle)
PY
env -u VEEAM_EM_URL -u VEEAM_EM_USERNAME -u VEEAM_EM_PASSWORD -u VEEAM_EM_CA_PATH \
    ansible-playbook -i "$EMULATOR_DIR/hostvars.yml" vars_only.yml "$@"
