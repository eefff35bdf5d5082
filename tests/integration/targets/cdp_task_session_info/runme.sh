#!/usr/bin/env bash
# cdp_task_session_info against the emulator, compared with direct
# queries of the API.  The connection comes from VEEAM_EM_* only.
set -eux -o pipefail
source ../setup_emulator/emulator.sh
ansible-playbook -i ../../inventory playbook.yml "$@"
