#!/usr/bin/env bash
# The main job (`make demo`): build and install the collection, start the
# bundled Enterprise Manager emulator, gate a generated inventory of a few
# hundred hosts with playbooks/pre_change_gate.yml (report only:
# backup_gate_fail=none), print the gate's summary as a user sees it and the
# emulator's logon count, write the session report, and stop the emulator.
# It exits non-zero only when the demo itself breaks or the gate's verdicts are
# not the ones the data calls for, and says which step broke.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-$repo/.venv}
case "$venv" in /*) ;; *) venv=$repo/$venv ;; esac
export PATH=$venv/bin:$PATH
work=$repo/.cache/demo
hosts=${DEMO_HOSTS:-200}
step="starting"
# shellcheck source=../tests/emulator/emulator-env.sh
source "$repo/tests/emulator/emulator-env.sh"
export EMULATOR_PYTHON=python

finish() {
    local rc=$?
    # Stops the emulator and the playbook if a failed step left them running.
    [ -z "${playbook_pid:-}" ] || kill "$playbook_pid" 2>/dev/null || true
    emulator_stop >/dev/null 2>&1 || true
    [ $rc -eq 0 ] || echo "demo: FAILED while $step (exit $rc)" >&2
    exit $rc
}
trap finish EXIT

rm -rf "$work" && mkdir -p "$work"

step="building and installing the collection"
# Installed where ANSIBLE_COLLECTIONS_PATH points, so ansible-galaxy finds
# the target among the configured collection paths and does not warn.
export ANSIBLE_COLLECTIONS_PATH=$work/collections
ansible-galaxy collection build --force --output-path "$work" "$repo" >/dev/null
ansible-galaxy collection install --force -p "$ANSIBLE_COLLECTIONS_PATH" "$work"/vbem-enterprise_manager-*.tar.gz >/dev/null

step="starting the emulator"
# Sessions running at start finish at once; the demo adds the one it waits for.
emulator_start --seed "${DEMO_SEED:-42}" --vms "$((hosts + 20))" --running-finish-after 0
echo "demo: emulator listening on $VEEAM_EM_URL"

step="generating the inventory and the sessions it calls for"
python "$repo/scripts/demo_fleet.py" prepare "$hosts" "$work"

step="running playbooks/pre_change_gate.yml over $hosts hosts"
echo "demo: gating $hosts hosts (full output: $work/gate.log)"
ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_SHOW_CUSTOM_STATS=true ANSIBLE_FORCE_COLOR=false \
    ansible-playbook -i "$work/inventory.json" "$repo/playbooks/pre_change_gate.yml" \
    -e backup_gate_fail=none -e backup_gate_wait_sleep=1 >"$work/gate.log" 2>&1 &
playbook_pid=$!
# One VM is backing up while the gate runs: finish it once the gate waits for it.
python "$repo/scripts/demo_fleet.py" finish-running "$work"
playbook_rc=0
wait "$playbook_pid" || playbook_rc=$?
playbook_pid=""
[ "$playbook_rc" -eq 0 ] || { tail -n 40 "$work/gate.log" >&2; exit "$playbook_rc"; }

step="showing the gate's summary and its EM logons"
python "$repo/scripts/demo_fleet.py" report "$work"

step="writing the session report with playbooks/session_report.yml"
ANSIBLE_STDOUT_CALLBACK=default ANSIBLE_FORCE_COLOR=false \
    ansible-playbook -i localhost, -c local -e "ansible_python_interpreter=$venv/bin/python" \
    "$repo/playbooks/session_report.yml" -e "report_dir=$work/report" \
    -e '{"report_sources": ["backup", "replica", "cdp"]}' >"$work/report.log" 2>&1 ||
    { tail -n 40 "$work/report.log" >&2; exit 1; }
echo "demo: session report of the last 7 days: $work/report/report.html (sessions.csv next to it, totals in $work/report.log)"

step="checking that every logon was logged off"
emulator_stop
echo "demo: done"
