#!/usr/bin/env bash
# em_inventory against the emulator, the connection from VEEAM_EM_* only:
# hosts, newest sessions and keyed groups compared with a direct query of the
# API, verdicts with the gate module, a play on a keyed group; a cached second
# build makes no EM request; bad options are refused before any request.
set -eux -o pipefail
source ../setup_emulator/emulator.sh

emulator() {  # METHOD PATH [JSON BODY]: a control endpoint; prints the JSON answer
    "$EMULATOR_PYTHON" - "$@" <<'PY'
import json, os, ssl, sys, urllib.error, urllib.request
data = sys.argv[3].encode() if len(sys.argv) > 3 else None
request = urllib.request.Request(os.environ['VEEAM_EM_URL'] + sys.argv[2], data=data, method=sys.argv[1],
                                 headers={'Content-Type': 'application/json'})
context = ssl.create_default_context(cafile=os.environ['VEEAM_EM_CA_PATH'])
try:
    print(json.dumps(json.load(urllib.request.urlopen(request, context=context, timeout=30))))
except urllib.error.HTTPError as exc:
    sys.exit('emulator refused {0} {1}: {2}'.format(sys.argv[1], sys.argv[2], exc.read().decode()))
PY
}
em_stat() {  # KEY of /_emulator/stats
    emulator GET /_emulator/stats | "$EMULATOR_PYTHON" -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"
}

# A VM whose name looks like a template: it must stay text everywhere.
emulator POST /_emulator/sessions '{"type": "BackupTaskSession", "vm_name": "{{ 7 * 191 }}", "job_name": "SQL Daily", "result": "Failed", "created": "-2h"}'

# An absolute window start, so that the plugin and the direct query read the same sessions.
created_after=$(emulator GET /_emulator/catalog | "$EMULATOR_PYTHON" -c '
import datetime, json, sys
clock = datetime.datetime.strptime(json.load(sys.stdin)["clock"][:19], "%Y-%m-%dT%H:%M:%S")
print((clock - datetime.timedelta(days=7)).strftime("%Y-%m-%dT%H:%M:%SZ"))')
sources='["backup", "replica", "cdp"]'  # JSON: YAML flow syntax and an extra var alike
inventory=$EMULATOR_DIR/vbem_em.yml
cat >"$inventory" <<YAML
plugin: vbem.enterprise_manager.em_inventory
sources: $sources
created_after: "$created_after"
keyed_groups:
  - key: vbem_backup.result
    prefix: backup
  - key: vbem_protection.code
    prefix: protection
groups:
  em_vms: true
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: $EMULATOR_DIR/inventory_cache
YAML

# First build: one logon, logged off, the answer equal to the API's.
ansible-inventory -i "$inventory" --list --output "$EMULATOR_DIR/first.json"
[ "$(em_stat logons)" = 1 ] && [ "$(em_stat logoffs)" = 1 ]
"$EMULATOR_PYTHON" check_inventory.py "$EMULATOR_DIR/first.json" "$created_after" backup replica cdp

# Second build from the cache: not one request reaches EM, and the answer is the same.
before=$(em_stat requests_total)
ansible-inventory -i "$inventory" --list --output "$EMULATOR_DIR/second.json"
[ "$(em_stat requests_total)" = "$before" ]
cmp "$EMULATOR_DIR/first.json" "$EMULATOR_DIR/second.json"

# Verdicts against the gate module; a play on backup_Failed.
ansible-playbook -i "$inventory" -i ../../inventory playbook.yml \
    -e "em_created_after=$created_after" -e "{\"em_sources\": $sources}" "$@"

# ansible-core 2.16 wraps warnings and errors at 80 columns, whatever the
# terminal; the sentences are checked in the output with its lines joined
# again, and a secret in it with its lines run together (a line may break
# inside it, after a hyphen). Here-strings, not pipes: grep -q stops
# reading early, and pipefail would count the writer's SIGPIPE as a failure.
joined() {  # FILE
    tr '\n' ' ' <"$1" | tr -s ' '
}
run_together() {  # FILE
    tr -d '\n' <"$1"
}

# Bad options: one sentence each, and no request to EM.
refused() {  # EXPECTED_TEXT, then inventory lines
    local expected=$1 file=$EMULATOR_DIR/bad_em.yml before rc=0
    shift
    printf '%s\n' 'plugin: vbem.enterprise_manager.em_inventory' "$@" >"$file"
    before=$(em_stat requests_total)
    ANSIBLE_INVENTORY_UNPARSED_FAILED=true ansible-inventory -i "$file" --list >"$EMULATOR_DIR/bad.out" 2>&1 || rc=$?
    cat "$EMULATOR_DIR/bad.out"
    [ "$rc" -ne 0 ]
    grep -qF -- "$expected" <<<"$(joined "$EMULATOR_DIR/bad.out")"
    if grep -q Traceback "$EMULATOR_DIR/bad.out"; then exit 1; fi
    [ "$(em_stat requests_total)" = "$before" ]
}
refused 'unknown option max_agee (did you mean max_age?)' 'max_agee: 24h'
refused 'created_after (12h) must reach at least as far back as max_age (24h)' 'created_after: 12h'
refused "created_after 'last week' is neither a relative age" 'created_after: last week'
refused "max_age 'tomorrow' is neither a relative age" 'max_age: tomorrow'
# A value outside an option's choices is refused by ansible-core itself, which
# words it its own way on 2.16; each core must give its own full sentence.
core_2_16=false
case "$(ansible --version | head -n 1)" in *'[core 2.16.'*) core_2_16=true ;; esac
choice_refused() {  # OPTION, the value as 2.17+ shows it, as 2.16 shows it, then inventory lines
    local option=$1 shown=$2 shown_2_16=$3
    shift 3
    if $core_2_16; then
        refused "Invalid value \"$shown_2_16\" for configuration option \"plugin_type: inventory plugin: ansible_collections.vbem.enterprise_manager.plugins.inventory.em_inventory setting: $option \", valid values are:" "$@"
    else
        refused "Invalid value $shown for config '$option'" "$@"
    fi
}
choice_refused running "'wait'" wait 'running: wait'
choice_refused sources "['tape']" "['tape']" 'sources: [tape]'
refused 'page_size must be a whole number from 1 to 10000' 'page_size: 0'
refused 'The EM url must start with https:// (or http://), not ftp://' 'url: ftp://em.example.com'
VEEAM_EM_PASSWORD='' VEEAM_EM_USERNAME='' \
    refused 'Either username and password or session_token is required' 'sources: [backup]'

# Rejected credentials: EM's answer in one sentence, the password nowhere, no logon left open.
printf '%s\n' 'plugin: vbem.enterprise_manager.em_inventory' >"$EMULATOR_DIR/denied_em.yml"
rc=0
VEEAM_EM_PASSWORD='not;the-password' ANSIBLE_INVENTORY_UNPARSED_FAILED=true \
    ansible-inventory -i "$EMULATOR_DIR/denied_em.yml" --list >"$EMULATOR_DIR/denied.out" 2>&1 || rc=$?
cat "$EMULATOR_DIR/denied.out"
[ "$rc" -ne 0 ]
grep -qF 'failed with HTTP 401 (the credentials were rejected)' <<<"$(joined "$EMULATOR_DIR/denied.out")"
if grep -qF 'not;the-password' <<<"$(run_together "$EMULATOR_DIR/denied.out")"; then exit 1; fi
