#!/usr/bin/env bash
# Where else the connection may come from: the standard proxy variables
# (HTTPS_PROXY) for modules and the lookup, and ansible.cfg for the lookup.
set -eux -o pipefail
source ../setup_emulator/emulator.sh
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}

# --- through an HTTPS proxy ---
"$python" ../setup_emulator/connect_proxy.py "$EMULATOR_DIR/tunnels.log" >"$EMULATOR_DIR/proxy.port" 2>"$EMULATOR_DIR/proxy.log" &
export EMULATOR_CHILD_PIDS=$!
for _ in $(seq 1 100); do [ -s "$EMULATOR_DIR/proxy.port" ] && break; sleep 0.1; done
HTTPS_PROXY=http://127.0.0.1:$(cat "$EMULATOR_DIR/proxy.port") NO_PROXY='' no_proxy='' \
    ansible-playbook -i ../../inventory proxy.yml "$@"
# The module's and the lookup's connections went through the proxy.
grep -c "^CONNECT 127.0.0.1:" "$EMULATOR_DIR/tunnels.log"
[ "$(grep -c "^CONNECT 127.0.0.1:" "$EMULATOR_DIR/tunnels.log")" -ge 2 ]

# --- lookup options from ansible.cfg; only the credentials in the environment ---
cat >"$EMULATOR_DIR/ansible.cfg" <<CFG
[vbem_enterprise_manager]
url = $VEEAM_EM_URL/api/
ca_path = $VEEAM_EM_CA_PATH
validate_certs = yes
timeout = 20
CFG
ANSIBLE_CONFIG=$EMULATOR_DIR/ansible.cfg env -u VEEAM_EM_URL -u VEEAM_EM_CA_PATH \
    ansible-playbook -i ../../inventory ini.yml "$@"
