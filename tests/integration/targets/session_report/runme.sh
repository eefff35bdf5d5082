#!/usr/bin/env bash
# playbooks/session_report.yml against the emulator, the connection from
# VEEAM_EM_* only: sessions.csv, report.html and the terminal table checked
# against a direct query of the API, one logon for all sources; bad
# variables refused before any request.
set -eux -o pipefail
source ../setup_emulator/emulator.sh
collection_root=${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/vbem/enterprise_manager
playbook=$collection_root/playbooks/session_report.yml

em_stat() {  # KEY of /_emulator/stats
    emulator_control stats --key "$1"
}

# Names a spreadsheet would run or a browser would render.
emulator_control sessions set '{"type": "BackupTaskSession", "vm_name": "=cmd", "job_name": "SQL Daily", "result": "Failed", "reason": "=HYPERLINK(\"http://x\")", "created": "-3h"}'
emulator_control sessions set '{"type": "ReplicaTaskSession", "vm_name": "<img src=x onerror=alert(1)>", "job_name": "Replication Job 1", "result": "Warning", "created": "-5h"}'

# An absolute window start, so that the report and the direct query read the same sessions.
created_after=$(emulator_control window 7d)

report_dir=$EMULATOR_DIR/report
ANSIBLE_STDOUT_CALLBACK=default ansible-playbook -i ../../inventory "$playbook" -e "report_dir=$report_dir" \
    -e "report_window=$created_after" -e '{"report_sources": ["backup", "replica", "cdp"]}' "$@" | tee "$EMULATOR_DIR/play.out"
[ "$(em_stat logons)" = 1 ] && [ "$(em_stat logoffs)" = 1 ]
"$EMULATOR_PYTHON" check_report.py "$report_dir" "$EMULATOR_DIR/play.out" "$created_after" backup replica cdp

# The defaults: a backup report of the last 7 days in ./em-report.
(cd "$EMULATOR_DIR" && ansible-playbook -i "$OLDPWD/../../inventory" "$playbook" "$@") | tee "$EMULATOR_DIR/default.out"
test -s "$EMULATOR_DIR/em-report/report.html"
test -s "$EMULATOR_DIR/em-report/sessions.csv"
grep -qF "Report: $EMULATOR_DIR/em-report/report.html" "$EMULATOR_DIR/default.out"
head -n 2 "$EMULATOR_DIR/em-report/sessions.csv" | tail -n 1 | grep -q '^backup,'

# Bad variables: one sentence, nothing written, no request to EM.
refused() {  # EXPECTED_TEXT EXTRA_VARS_JSON
    local before rc=0
    before=$(em_stat requests_total)
    ansible-playbook -i ../../inventory "$playbook" -e "report_dir=$EMULATOR_DIR/refused" -e "$2" >"$EMULATOR_DIR/refused.out" 2>&1 || rc=$?
    cat "$EMULATOR_DIR/refused.out"
    [ "$rc" -ne 0 ]
    grep -qF -- "$1" "$EMULATOR_DIR/refused.out"
    [ ! -e "$EMULATOR_DIR/refused" ]
    [ "$(em_stat requests_total)" = "$before" ]
}
refused "report_sources must be one or more of backup, replica, cdp; 'tape' is not one of them." '{"report_sources": ["backup", "tape"]}'
refused 'report_sources names backup twice' '{"report_sources": ["backup", "backup"]}'
refused "report_window 'since monday' is neither a relative age such as 30m, 24h, 7d or 2w nor an ISO-8601 date-time" '{"report_window": "since monday"}'
refused 'is not in the past' '{"report_window": "2999-01-01"}'

# A page template of one's own: it extends the built-in page, and a broken one is refused before any request.
printf '%s' '{% extends "vbem.enterprise_manager/session_report.html.j2" %}{% block footer %}<footer>Ops: {{ page.total }} sessions</footer>{% endblock %}' \
    >"$EMULATOR_DIR/ops.html.j2"
(cd "$EMULATOR_DIR" && ansible-playbook -i "$OLDPWD/../../inventory" "$playbook" -e report_dir=ops-report -e report_template=ops.html.j2 "$@")
grep -qE '<footer>Ops: [0-9]+ sessions</footer></main></body></html>' "$EMULATOR_DIR/ops-report/report.html"
grep -qF 'id="problems"' "$EMULATOR_DIR/ops-report/report.html"
printf '%s' '{% if page.total %}no end' >"$EMULATOR_DIR/broken.html.j2"
refused "broken.html.j2' is not a Jinja2 template, line 1: Unexpected end of template" \
    "{\"report_template\": \"$EMULATOR_DIR/broken.html.j2\"}"
