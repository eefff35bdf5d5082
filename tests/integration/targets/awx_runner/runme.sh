#!/usr/bin/env bash
# An AWX job without AWX: the collection's credential type (extensions/awx)
# rendered as AWX renders it, the gate playbook run through the pipeline AWX
# runs jobs with on its execution nodes,
#   ansible-runner transmit | ansible-runner worker | ansible-runner process,
# with the connection coming only from what the credential injected.
set -eux -o pipefail
# --verbose: the access log names every logon SessionId, which check_job.py looks for.
export EMULATOR_ARGS="--verbose"
source ../setup_emulator/emulator.sh
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}
python=$(command -v "$python")
# shellcheck disable=SC2154  # collection_root: set by setup_emulator/emulator.sh
credential_type=$collection_root/extensions/awx/credential_type.yml
work=$EMULATOR_DIR/awx

# 1. AWX would accept the credential type, and the AWX guide shows it as it is.
"$python" "$collection_root/extensions/awx/try_credential.py" validate "$credential_type"
"$python" - "$credential_type" "$collection_root/docs/docsite/rst/awx.rst" <<'PY'
import re, sys
definition = open(sys.argv[1]).read()
guide = open(sys.argv[2]).read()
blocks = [re.sub(r'^  ', '', block, flags=re.M) for block in re.findall(r'\.\. code-block:: yaml\n\n((?:  .*\n|\n)+)', guide)]
if not any(block.strip() == definition.strip() for block in blocks):
    sys.exit('docs/docsite/rst/awx.rst does not show extensions/awx/credential_type.yml as it is')
print('the AWX guide shows the credential type verbatim')
PY

# 2. Optional fields left empty, and a boolean the credential does not carry
#    (AWX renders it False): nothing optional is set, certificates are validated.
mkdir -p "$work/minimal"
printf '{"url": "https://em.example.com", "username": "svc", "password": "pw", "ca_certificate": ""}' >"$work/minimal.json"
"$python" "$collection_root/extensions/awx/try_credential.py" inject "$credential_type" "$work/minimal.json" "$work/minimal" /runner >"$work/minimal.safe_env"
"$python" - "$work/minimal/env/envvars" "$work/minimal.safe_env" <<'PY'
import json, sys, yaml
env = yaml.safe_load(open(sys.argv[1]))
safe_env = json.load(open(sys.argv[2]))
expected = {'VEEAM_EM_URL': 'https://em.example.com', 'VEEAM_EM_USERNAME': 'svc', 'VEEAM_EM_PASSWORD': 'pw',
            'VEEAM_EM_VALIDATE_CERTS': 'True', 'VEEAM_EM_CA_PATH': ''}
assert env == expected, env
assert safe_env['VEEAM_EM_PASSWORD'] == '**********', safe_env
print('minimal credential: %s' % json.dumps(safe_env, sort_keys=True))
PY

# 3. Hosts whose VMs have exactly the sessions we add: two pass, one failed.
emulator_control sessions set '{"type": "BackupTaskSession", "vm_name": "awx-web01", "job_name": "AWX Daily", "result": "Success", "created": "-2h"}' >/dev/null
emulator_control sessions set '{"type": "BackupTaskSession", "vm_name": "AWX-DB01", "job_name": "AWX Daily", "result": "Success", "created": "-3h"}' >/dev/null
emulator_control sessions set '{"type": "BackupTaskSession", "vm_name": "awx-app01", "job_name": "AWX Daily", "result": "Failed", "created": "-1h", "reason": "Disk full on the repository."}' >/dev/null

# AWX's project sync installs the project's collections into the job's
# private data dir (requirements_collections) and points the job there; so do we,
# from the tarball of this collection.
ansible-galaxy collection build --force --output-path "$work" "$collection_root" >/dev/null
tarball=$(ls "$work"/vbem-enterprise_manager-*.tar.gz)

# stats_of prints "logons logoffs active" from the emulator.
stats_of() {
    echo "$(emulator_control stats --key logons) $(emulator_control stats --key logoffs) $(emulator_control stats --key active_sessions)"
}

# The job's inventory: two hosts whose VMs pass, one whose VM fails.
fleet_inventory() {
    cat <<EOF
[passing]
web01.example.com backup_gate_vm_name=awx-web01
db01.example.com backup_gate_vm_name=awx-db01
[failing]
app01.example.com backup_gate_vm_name=awx-app01
[all:vars]
ansible_connection=local
ansible_python_interpreter=$python
EOF
}

# run_job NAME GATE_HOSTS RC EXPECTATIONS_JSON
run_job() {
    local name=$1 gate_hosts=$2 rc=$3 expectations=$4
    local private=$work/$name/private job=$work/$name/job
    mkdir -p "$private/env" "$private/inventory" "$private/project"

    # The credential, as an AWX admin would fill it in: the CA as PEM text.
    "$python" - "$work/$name/credential.json" <<'PY'
import json, os, sys
json.dump({'url': os.environ['VEEAM_EM_URL'], 'username': os.environ['VEEAM_EM_USERNAME'],
           'password': os.environ['VEEAM_EM_PASSWORD'], 'ca_certificate': open(os.environ['VEEAM_EM_CA_PATH']).read()},
          open(sys.argv[1], 'w'))
PY
    printf 'ANSIBLE_COLLECTIONS_PATH: %s/requirements_collections\n' "$job" >"$private/env/envvars"
    "$python" "$collection_root/extensions/awx/try_credential.py" inject "$credential_type" "$work/$name/credential.json" "$private" "$job" >"$work/$name/safe_env"
    ANSIBLE_COLLECTIONS_PATH="$private/requirements_collections" \
        ansible-galaxy collection install --offline -p "$private/requirements_collections" "$tarball" >/dev/null

    fleet_inventory >"$private/inventory/hosts"
    # What a survey would hand over.
    printf 'gate_hosts: %s\nbackup_gate_max_age: 24h\nbackup_gate_fail: host\n' "$gate_hosts" >"$private/env/extravars"
    cat >"$private/project/pre_change_gate.yml" <<'EOF'
---
- name: Pre-change backup gate
  ansible.builtin.import_playbook: vbem.enterprise_manager.pre_change_gate
EOF
    printf '%s\n' "$expectations" >"$work/$name/expected.json"

    local before after
    before=$(stats_of)
    # Nothing of this shell's connection reaches the job: only the credential does.
    local -a clean=(env -u VEEAM_EM_URL -u VEEAM_EM_USERNAME -u VEEAM_EM_PASSWORD -u VEEAM_EM_CA_PATH
                    -u VEEAM_EM_VALIDATE_CERTS -u ANSIBLE_COLLECTIONS_PATH)
    set +e
    "${clean[@]}" "$python" -m ansible_runner transmit "$private" -p pre_change_gate.yml \
        | "${clean[@]}" "$python" -m ansible_runner worker --private-data-dir "$job" \
        | "${clean[@]}" "$python" -m ansible_runner process "$private" >"$work/$name/process.log" 2>&1
    local -a codes=("${PIPESTATUS[@]}")
    set -e
    # The worker exits with the job's return code; transmit and process with 0.
    if [ "${codes[0]}" -ne 0 ] || [ "${codes[1]}" -ne "$rc" ] || [ "${codes[2]}" -ne 0 ]; then
        cat "$work/$name/process.log"
        echo "$name: transmit, worker and process exited ${codes[*]}, expected 0 $rc 0" >&2
        return 1
    fi
    after=$(stats_of)
    # The CA reached the job as AWX hands it over: a private file under the
    # job's env/, named by VEEAM_EM_CA_PATH, holding the credential's PEM.
    "$python" - "$private/env/envvars" "$job" "$VEEAM_EM_CA_PATH" <<'PY'
import os, sys, yaml
envvars, job, ca = sys.argv[1:]
path = yaml.safe_load(open(envvars))['VEEAM_EM_CA_PATH']
assert os.path.dirname(path) == os.path.join(job, 'env'), path
assert open(path).read() == open(ca).read(), 'the injected CA file does not hold the credential PEM'
assert oct(os.stat(path).st_mode & 0o777) == oct(0o600), oct(os.stat(path).st_mode)
print('VEEAM_EM_CA_PATH: the file injector, %s' % path)
PY
    "$python" check_job.py "$private" "$work/$name/expected.json" || { cat "$work/$name/process.log"; return 1; }
    "$python" - "$name" "$before" "$after" <<'PY'
import sys
name, before, after = sys.argv[1], [int(n) for n in sys.argv[2].split()], [int(n) for n in sys.argv[3].split()]
logons, logoffs, active = after[0] - before[0], after[1] - before[1], after[2]
print('%s: emulator saw %d logon(s), %d logoff(s), %d open' % (name, logons, logoffs, active))
if (logons, logoffs, active) != (1, 1, 0):
    sys.exit('%s: expected exactly one logon, logged off, and nothing open' % name)
PY
}

# 4. Every host passes: the job succeeds.
run_job passing passing 0 '{"status": "successful", "rc": 0, "ok": ["web01.example.com", "db01.example.com"], "failed": [],
    "summary": {"total": 2, "passed": 2, "failed": 0}}'

# 5. One host's VM failed its backup: that host fails, the job fails, and the
#    summary AWX keeps as the job's artifacts says so.
run_job mixed all 2 '{"status": "failed", "rc": 2, "ok": ["web01.example.com", "db01.example.com"], "failed": ["app01.example.com"],
    "summary": {"total": 3, "passed": 2, "failed": 1, "failed_hosts": ["app01.example.com"]}}'

# 6. A gate_hosts that matches no host is a failure, not an empty success: the
#    job fails (rc 2, so a workflow's failure path fires) with one sentence,
#    before any Enterprise Manager request.  Through the documented
#    try_credential.py run (ansible-runner with the credential), and through
#    ansible-playbook, with patterns that only look like they match.
mkdir -p "$work/zero"
fleet_inventory >"$work/zero/hosts"
"$python" - "$work/zero/credential.json" <<'PY'
import json, os, sys
json.dump({'url': os.environ['VEEAM_EM_URL'], 'username': os.environ['VEEAM_EM_USERNAME'],
           'password': os.environ['VEEAM_EM_PASSWORD'], 'ca_certificate': open(os.environ['VEEAM_EM_CA_PATH']).read()},
          open(sys.argv[1], 'w'))
PY
# zero_hosts NAME GATE_HOSTS EXPECTED_SENTENCE [ansible-playbook options]: expects
# the refusal and no logon; without options, through try_credential.py run.
zero_hosts() {
    local name=$1 gate_hosts=$2 sentence=$3 before after rc
    shift 3
    before=$(stats_of)
    "$python" -c 'import json, sys; json.dump({"gate_hosts": sys.argv[1]}, open(sys.argv[2], "w"))' "$gate_hosts" "$work/zero/$name.json"
    rc=0
    if [ $# -eq 0 ]; then
        "$python" "$collection_root/extensions/awx/try_credential.py" run "$credential_type" "$work/zero/credential.json" \
            "$collection_root/playbooks/pre_change_gate.yml" -i "$work/zero/hosts" -e "$work/zero/$name.json" >"$work/zero/$name.log" 2>&1 || rc=$?
        cat "$work/zero/$name.log"
        grep -F 'job status: failed, rc 2' "$work/zero/$name.log"
        grep -F 'job artifacts (set_stats): {}' "$work/zero/$name.log"
    else
        ansible-playbook -i "$work/zero/hosts" "$collection_root/playbooks/pre_change_gate.yml" -e "@$work/zero/$name.json" "$@" \
            >"$work/zero/$name.log" 2>&1 || rc=$?
        cat "$work/zero/$name.log"
    fi
    [ "$rc" -eq 2 ] || { echo "$name: exit code $rc, expected 2" >&2; return 1; }
    # ansible-core 2.19 prints the message as text, 2.16 only inside the JSON result.
    grep -F -e "$sentence" -e "${sentence//\"/\\\"}" "$work/zero/$name.log"
    after=$(stats_of)
    [ "${before%% *}" = "${after%% *}" ] || { echo "$name: the gate logged on although gate_hosts matches no host" >&2; return 1; }
}
zero_hosts runner-typo webz 'gate_hosts "webz" matches no host of the inventory; expected a host pattern that names at least one host.'
zero_hosts runner-intersection 'passing:&failing' 'gate_hosts "passing:&failing" matches no host of the inventory;'
zero_hosts playbook-typo webz 'gate_hosts "webz" matches no host of the inventory;' -e backup_gate_fail=host
zero_hosts playbook-exclusion 'passing:!web01.example.com:!db01.example.com' \
    'gate_hosts "passing:!web01.example.com:!db01.example.com" matches no host of the inventory;' -e backup_gate_fail=host
zero_hosts playbook-limit passing 'gate_hosts "passing" matches no host of the inventory within --limit "app01.example.com";' \
    --limit app01.example.com
zero_hosts playbook-empty '' 'gate_hosts must be a host pattern (text such as all, webservers or web*:&prod), not "".' -e backup_gate_fail=host
# One sentence: no traceback anywhere.
if grep -l -E 'Traceback|Unexpected Exception' "$work"/zero/*.log; then exit 1; fi

# A pattern that matches is not refused: localhost, implicit (not in the
# inventory), is a host the play runs on, so it is gated like any other.
rc=0
ansible-playbook -i "$work/zero/hosts" "$collection_root/playbooks/pre_change_gate.yml" -e gate_hosts=localhost \
    >"$work/zero/localhost.log" 2>&1 || rc=$?
cat "$work/zero/localhost.log"
[ "$rc" -eq 2 ]
if grep -F 'gate_hosts "localhost" matches no host' "$work/zero/localhost.log"; then exit 1; fi
grep -F 'localhost (VM localhost)' "$work/zero/localhost.log"
