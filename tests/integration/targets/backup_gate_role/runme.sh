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
grep -E '"FAILED ghost\.corp\.example\.com \(VM ghost\.corp\.example\.com\): EM knows no VM named ghost\.corp\.example\.com \(no close name among the [0-9]+ known names read\)"' "$log"
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
# The error once in the summary and once per host, in its failure (ansible-core 2.19
# and later print a failure twice: an [ERROR] block and the fatal line).
per_host=$(grep -cE "fatal: \[[^]]+\]: FAILED! => .*fails closed because no host could be judged: POST https://127\.0\.0\.1:$closed_port/api/sessionMngr/\?v=latest failed: .*refused" "$log")
[ "$per_host" -eq 8 ]
grep -E "\"No host was judged, so every host fails: POST https://127\.0\.0\.1:$closed_port/api/sessionMngr/\?v=latest failed: .*refused" "$log"
copies=$(grep -cE "POST https://127\.0\.0\.1:$closed_port/api/sessionMngr/\?v=latest failed" "$log")
# 2.16 prints each failure once, later cores twice; the summary once.
[ "$copies" -eq 9 ] || [ "$copies" -eq 17 ]
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

# Two gate runs in one playbook: Warning accepted, then not (fs01 passes the
# first run only), and the other way round; a later play on backup_gate_passed
# reaches exactly the hosts the latest run passed.  A host the first run
# passed and the second did not fails whatever backup_gate_fail says, because
# Ansible cannot take a host out of a group.
play gate_twice.yml -e '{"first_accept": ["Success", "Warning"], "second_accept": ["Success"]}' -e expected_revoked=1
[ "$rc" -eq 2 ]
check recap "$log" fs01.corp.example.com
grep -F 'fs01.corp.example.com (VM fs-01) did not pass: Warning at ' "$log"
grep -F 'it passed an earlier run of the gate and Ansible cannot take a host out of backup_gate_passed' "$log"
grep -F '"Stopped because an earlier run passed them and this one did not: fs01.corp.example.com"' "$log"
check logons 2
play gate_twice.yml -e '{"first_accept": ["Success"], "second_accept": ["Success", "Warning"]}' -e expected_revoked=0
[ "$rc" -eq 0 ]
check recap "$log" -
check logons 2

# Host names Ansible itself uses (localhost with an ssh connection that cannot
# connect, all, ungrouped): every host gets a verdict, the gate connects to none.
play gate_only.yml -i odd_inventory.yml
[ "$rc" -eq 2 ]
check recap "$log" "$failing,all,ungrouped"
grep -F '"Backup gate: 5 of 11 hosts passed (backup: Success within 24h)",' "$log"
grep -E '"FAILED all \(VM all\): EM knows no VM named all \(no close name among the [0-9]+ known names read\)",' "$log"
grep -E '"FAILED ungrouped \(VM ungrouped\): EM knows no VM named ungrouped \(no close name among the [0-9]+ known names read\)"' "$log"
check logons 1

# A running backup: the job log names the VM and the deadline before waiting,
# and says how the wait ended; the verdict is the finished session's.
check sessions <(echo '[{"type": "BackupTaskSession", "vm_name": "waiting.corp.example.com", "job_name": "Wait Test", "created": "now", "state": "InProgress"}]')
# The backup finishes once the log says the gate waits for it.
rc=0
# Unbuffered, as a terminal or ansible-runner's pty sees it: a file gets Python's output in blocks.
PYTHONUNBUFFERED=1 ansible-playbook -i inventory.yml wait_visible.yml -i waiting.corp.example.com, >"$log" 2>&1 &
gate_pid=$!
until grep -qF 'Backup gate: waiting up to' "$log"; do kill -0 "$gate_pid" 2>/dev/null || break; sleep 0.2; done
check finish waiting.corp.example.com
wait "$gate_pid" || rc=$?
cat "$log"
[ "$rc" -eq 0 ]
grep -E 'Backup gate: waiting up to 2 min \(until [0-9]{2}:[0-9]{2} UTC\) for the running backups of waiting\.corp\.example\.com\.' "$log"
grep -E 'Backup gate: the running backups finished after [0-9]+ s; judging them now\.' "$log"
grep -F '"Backup gate: 1 of 1 host passed (backup: Success within 24h)"' "$log"
check logons 1
# ... and a wait that times out says so too.
check sessions <(echo '[{"type": "BackupTaskSession", "vm_name": "waiting.corp.example.com", "job_name": "Wait Test", "created": "now", "state": "InProgress"}]')
play wait_visible.yml -i waiting.corp.example.com, -e wait_timeout=2
[ "$rc" -eq 2 ]
grep -E 'Backup gate: stopped waiting after [0-9]+ s; still running: waiting\.corp\.example\.com \(judged wait_timeout\)\.' "$log"
grep -F 'did not pass: backup still running after waiting 2 s' "$log"
check logons 1

# The connection from the task's environment and from module_defaults, with no
# VEEAM_EM_URL in the environment of ansible-playbook itself.
rc=0
env -u VEEAM_EM_URL ansible-playbook -i inventory.yml gate_connection.yml -e em_url="$VEEAM_EM_URL" >"$log" 2>&1 || rc=$?
cat "$log"
[ "$rc" -eq 0 ]
[ "$(grep -cF '"Backup gate: 4 of 8 hosts passed (backup: Success within 24h)",' "$log")" -eq 2 ]
check logons 2

# A host that became unreachable before the gate shows as unreachable in the
# recap; the others are judged (rc 4: a host was unreachable).
play gate_unreachable.yml -i odd_inventory.yml
[ "$rc" -eq 4 ]
grep -E '^localhost +: ok=0 +changed=0 +unreachable=1 ' "$log"
grep -F '"Backup gate: 4 of 10 hosts passed (backup: Success within 24h)",' "$log"
check logons 1
