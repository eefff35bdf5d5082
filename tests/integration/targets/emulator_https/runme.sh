#!/usr/bin/env bash
# The emulator answers real HTTPS that Ansible validates with the CA it
# prints, and speaks EM's logon, query and logoff protocol.
set -eux -o pipefail
source ../setup_emulator/emulator.sh
ansible-playbook -i ../../inventory playbook.yml "$@"
