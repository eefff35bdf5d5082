#!/usr/bin/env bash
# The logon and logoff modules: one logon for three module tasks and a lookup,
# always logged off; failure paths; no token, SessionId or password in -vvvv
# output, nor in what ansible-runner (AWX's engine) records of the same run.
set -eux -o pipefail
# --verbose: the access log names every logon SessionId, which scan_secrets.py then looks for.
export EMULATOR_ARGS="--verbose"
source ../setup_emulator/emulator.sh
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}

ansible-playbook -i ../../inventory playbook.yml -vvvv "$@" | tee "$EMULATOR_DIR/output.log"
"$python" ../setup_emulator/scan_secrets.py "$EMULATOR_DIR/output.log"

# The registered result of logon holds the token: the documented ways to look at it print none at -vvv ...
ansible-playbook -i ../../inventory token_debug.yml -vvv "$@" >"$EMULATOR_DIR/token_debug.log"
"$python" ../setup_emulator/scan_secrets.py "$EMULATOR_DIR/token_debug.log"
# ... and debug var= without no_log prints it, as the documentation warns.
ansible-playbook -i ../../inventory token_debug.yml -vvv -e print_in_clear=true "$@" >"$EMULATOR_DIR/token_clear.log"
if "$python" ../setup_emulator/scan_secrets.py "$EMULATOR_DIR/token_clear.log" >"$EMULATOR_DIR/token_clear.scan" 2>&1; then
    echo 'debug var= printed no token: the warning in the logon documentation is out of date' >&2
    exit 1
fi
grep -q 'holds a session token' "$EMULATOR_DIR/token_clear.scan"

# AWX sends optional credential fields left empty as empty strings.
em_ca=$VEEAM_EM_CA_PATH
EM_TEST_CA=$em_ca VEEAM_EM_CA_PATH='' VEEAM_EM_VALIDATE_CERTS='' VEEAM_EM_TIMEOUT='' \
    ansible-playbook -i ../../inventory awx_empty.yml --skip-tags validate_certs_false -vvvv "$@" | tee "$EMULATOR_DIR/awx_empty.log"
VEEAM_EM_CA_PATH='' VEEAM_EM_VALIDATE_CERTS=False \
    ansible-playbook -i ../../inventory awx_empty.yml --tags validate_certs_false -vvvv "$@" | tee -a "$EMULATOR_DIR/awx_empty.log"
"$python" ../setup_emulator/scan_secrets.py "$EMULATOR_DIR/awx_empty.log"

# The same happy path under ansible-runner: its job events are what AWX stores.
runner_dir=$EMULATOR_DIR/runner
mkdir -p "$runner_dir/project" "$runner_dir/inventory"
sed -n '1,/^- name: Failure paths/p' playbook.yml | sed '$d' >"$runner_dir/project/logon.yml"
printf 'localhost ansible_connection=local ansible_python_interpreter=%s\n' "$(command -v "$python")" >"$runner_dir/inventory/hosts"
"$python" -m ansible_runner run "$runner_dir" -p logon.yml --rotate-artifacts 1 -v >"$EMULATOR_DIR/runner.log" 2>&1 || {
    cat "$EMULATOR_DIR/runner.log"
    exit 1
}
grep -q 'failed=0' "$EMULATOR_DIR/runner.log"
"$python" ../setup_emulator/scan_secrets.py "$EMULATOR_DIR/runner.log" "$runner_dir/artifacts"
