#!/usr/bin/env bash
# job_session_info against the emulator, compared with direct
# queries of the API.  The connection comes from VEEAM_EM_* only.
set -eux -o pipefail
source ../setup_emulator/emulator.sh
# The window start from the emulator's clock, not from the module's answer.
window_start=$(emulator_control window 7d)
ansible-playbook -i ../../inventory playbook.yml -e "window_start=$window_start" "$@"
