#!/usr/bin/env bash
# The backup_gate role against the emulator: backup_gate_fail host / play /
# none, serial, --limit through playbooks/pre_change_gate.yml, check mode,
# job and result filters, Enterprise Manager unreachable, and input refused
# before any request.  Each run is checked on its exit code, its PLAY RECAP,
# its output and the emulator's logon count.  The connection comes from
# VEEAM_EM_* only.
set -eux -o pipefail
# Sessions running at start finish at once: the role must not wait on them.
export EMULATOR_ARGS="--running-finish-after 0"
source ../setup_emulator/emulator.sh
python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}
check() { "$python" ../setup_backup_gate/gatecheck.py "$@"; }
playbook_dir=${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/vbem/enterprise_manager/playbooks
log=$EMULATOR_DIR/play.log
failing=db01.corp.example.com,fs01.corp.example.com,erp01.corp.example.com,ghost.corp.example.com
everyone=web01.corp.example.com,db01.corp.example.com,APP-01,fs01.corp.example.com,sql-prod.corp.example.com,erp01.corp.example.com,web-semicolon.corp.example.com,ghost.corp.example.com
export ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_SHOW_CUSTOM_STATS=true

# play ARGS...: ansible-playbook over the fleet, output in $log (and shown), exit code in $rc.
play() { rc=0; ansible-playbook -i inventory.yml "$@" >"$log" 2>&1 || rc=$?; cat "$log"; }

check sessions sessions.json
check logons 0

# host (the default): the failing hosts fail and leave the play, the others run the next task.
play gate.yml
[ "$rc" -eq 2 ]
check recap "$log" "$failing"
grep -F 'gate checks passed: backup_gate_fail=host serial=none' "$log"
grep -F '"Backup gate: 4 of 8 hosts passed (backup: Success within 24h)",' "$log"
grep -E '"FAILED db01\.corp\.example\.com \(VM db-01\): Failed at .+ UTC in job .+: Error: Access is denied\.",' "$log"
grep -E '"FAILED ghost\.corp\.example\.com \(VM ghost\.corp\.example\.com\): no backup session in the last 30 days"' "$log"
grep -E 'fatal: \[erp01\.corp\.example\.com\]: FAILED! => .*Backup gate: erp01\.corp\.example\.com \(VM erp-legacy-01\) did not pass: newest backup .+ is older than 24h' "$log"
[ "$(grep -c 'hosts passed' "$log")" -eq 1 ]
check logons 1

# play: one failure fails every host; nobody runs the next task.
play gate.yml -e backup_gate_fail=play
[ "$rc" -eq 2 ]
check recap "$log" "$everyone"
grep -F 'Backup gate: 4 of 8 hosts did not pass (db01.corp.example.com, fs01.corp.example.com, erp01.corp.example.com, ghost.corp.example.com) and backup_gate_fail is play, so every host stops.' "$log"
[ "$(grep -cF 'TASK [The next task]' "$log")" -eq 0 ]
check logons 1

# none, in check mode: nothing fails, everybody runs the next task; facts and groups as always.
play gate.yml -e backup_gate_fail=none --check
[ "$rc" -eq 0 ]
check recap "$log" -
grep -F 'gate checks passed: backup_gate_fail=none serial=none' "$log"
check logons 1

# serial: one query per batch of 3, each batch judged and summed up on its own.
play gate.yml -e gate_serial=3
[ "$rc" -eq 2 ]
check recap "$log" "$failing"
grep -F 'gate checks passed: backup_gate_fail=host serial=3' "$log"
grep -F '"Backup gate: 2 of 3 hosts passed (backup: Success within 24h)",' "$log"
grep -F '"Backup gate: 1 of 3 hosts passed (backup: Success within 24h)",' "$log"
grep -F '"Backup gate: 1 of 2 hosts passed (backup: Success within 24h)",' "$log"
check logons 3

# --limit through the shipped playbook: only the limited hosts are judged, and
# set_stats publishes the summary although a host failed.
play "$playbook_dir/pre_change_gate.yml" -e gate_hosts=fleet --limit 'web01.corp.example.com,db01.corp.example.com'
[ "$rc" -eq 2 ]
check recap "$log" db01.corp.example.com
check stats "$log" | "$python" -c '
import json, sys
summary = json.load(sys.stdin)["backup_gate_summary"]
assert summary["total"] == 2 and summary["passed"] == 1 and summary["error"] is None, summary
assert summary["passed_hosts"] == ["web01.corp.example.com"], summary
assert summary["failed_hosts"] == ["db01.corp.example.com"], summary
assert summary["by_code"]["failed_result"] == 1, summary
'
check logons 1

# Warning accepted, and job filters: one string is one job name, commas included
# (split, "Web Farm" would pass APP-01); a list matches case-insensitively.
play gate_only.yml -e backup_gate_fail=none -e '{"backup_gate_accept": ["Success", "Warning"], "backup_gate_job_name": "Web Farm, Legacy ERP"}'
[ "$rc" -eq 0 ]
grep -F '"Backup gate: 0 of 8 hosts passed (backup: Success or Warning within 24h in job Web Farm, Legacy ERP)",' "$log"
check logons 1
play gate_only.yml -e backup_gate_fail=none -e '{"backup_gate_accept": ["Success", "Warning"]}' \
    -e '{"backup_gate_job_name": ["web farm", "Legacy ERP"]}' --limit 'APP-01,fs01*,erp01*'
[ "$rc" -eq 0 ]
grep -F '"Backup gate: 2 of 3 hosts passed (backup: Success or Warning within 24h in jobs web farm, Legacy ERP)",' "$log"
grep -E '"FAILED erp01\.corp\.example\.com \(VM erp-legacy-01\): newest backup .+ is older than 24h"' "$log"
check logons 1

# Enterprise Manager unreachable: every host fails closed with the client's own
# message, even with none.
closed_port=$("$python" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')
VEEAM_EM_URL=https://127.0.0.1:$closed_port play gate_only.yml -e backup_gate_fail=none
[ "$rc" -eq 2 ]
check recap "$log" "$everyone"
[ "$(grep -cE "fatal: \[[^]]+\]: FAILED! => .*fails closed because no host could be judged: POST https://127\.0\.0\.1:$closed_port/api/sessionMngr/\?v=latest failed: .*refused" "$log")" -eq 8 ]
grep -F '"Backup gate: 0 of 8 hosts passed (backup: Success within 24h)",' "$log"
check logons 0

# Input refused before any request: by the argument spec ...
play gate_only.yml -e backup_gate_fail=maybe -e '{"backup_gate_accept": ["Failed"]}' -e backup_gate_wait_timeout=soon
[ "$rc" -eq 2 ]
check recap "$log" "$everyone"
grep -F 'value of backup_gate_fail must be one of: host, play, none, got: maybe' "$log"
grep -F 'value of backup_gate_accept must be one or more of: Success, Warning. Got no match for: Failed' "$log"
# ansible-core 2.16 names the type <class 'str'>, later ones str.
grep -E "argument 'backup_gate_wait_timeout' is of type (str|<class 'str'>) and we were unable to convert to int" "$log"
check logons 0
# ... by the gate: a VM name given for the role instead of per host ...
play gate_vm_param.yml
[ "$rc" -eq 2 ]
check recap "$log" "$everyone"
grep -F 'backup_gate_vm_name is set for the play or the role (\"WEB01.CORP.EXAMPLE.COM\" for web01.corp.example.com)' "$log"
check logons 0
# ... a policy that differs between the hosts of one batch ...
play gate_only.yml -i policy_per_host.yml
[ "$rc" -eq 2 ]
check recap "$log" "$everyone"
grep -F 'backup_gate_max_age is \"48h\" for db01.corp.example.com but \"24h\" for web01.corp.example.com, and one policy judges the whole batch' "$log"
check logons 0
# ... and by the module, whose sentence every host fails closed with.
play gate_only.yml -e backup_gate_max_age=soon
[ "$rc" -eq 2 ]
check recap "$log" "$everyone"
grep -F "max_age 'soon' is neither a relative age" "$log"
check logons 0
