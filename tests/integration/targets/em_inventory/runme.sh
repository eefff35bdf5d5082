#!/usr/bin/env bash
# em_inventory against the emulator, the connection from VEEAM_EM_* only:
# hosts, newest sessions and keyed groups compared with a direct query of the
# API, verdicts with the gate module, a play on a keyed group; a cached second
# build makes no EM request; bad options are refused before any request.
set -eux -o pipefail
source ../setup_emulator/emulator.sh

em_stat() {  # KEY of /_emulator/stats
    emulator_control stats --key "$1"
}

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

add_session() {  # VM_NAME RESULT [REASON]: a backup session two hours old, the JSON written by Python (any name)
    emulator_control sessions set "$("$EMULATOR_PYTHON" -c 'import json, sys
body = {"type": "BackupTaskSession", "vm_name": sys.argv[1], "job_name": "SQL Daily", "result": sys.argv[2], "created": "-2h"}
if len(sys.argv) > 3:
    body["reason"] = sys.argv[3]
print(json.dumps(body))' "$@")" >/dev/null
}

# Text that looks like a template must stay text everywhere (the lookup
# would write the output of id into the inventory if templated): in a
# reason, and in VM names, which cannot be host names as they are (left out
# with the others below) but can be through hostnames.
add_session '{{ 7 * 191 }}' Failed
# shellcheck disable=SC2016  # a template for Ansible, never for the shell
piped="{{ lookup('pipe', 'id') }}"
add_session "$piped" Failed "$piped"
add_session jinja-reason-01 Failed "$piped"
# Name twins (EM matches names case-insensitively): one host, judged ambiguous as the gate judges it.
add_session CaseDup Success
add_session casedup Failed
# VMs that cannot be safe host names: left out with one warning, never a crash or an ssh option.
for unsafe in all ungrouped localhost "-oProxyCommand=touch $EMULATOR_DIR/ssh-ran"; do
    add_session "$unsafe" Success
done

# An absolute window start, so that the plugin and the direct query read the same sessions.
created_after=$(emulator_control window 7d)
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
compose:
  composed_name: vbem_vm_name
  composed_reason: vbem_protection.reason
cache: true
cache_plugin: ansible.builtin.jsonfile
cache_connection: $EMULATOR_DIR/inventory_cache
YAML

# First build: one logon, logged off, the answer equal to the API's; the
# unsafe names are left out with one warning that names them all.
ANSIBLE_INVENTORY_UNPARSED_FAILED=true ansible-inventory -i "$inventory" --list --output "$EMULATOR_DIR/first.json" \
    2>"$EMULATOR_DIR/first.err"
cat "$EMULATOR_DIR/first.err"
[ "$(em_stat logons)" = 1 ] && [ "$(em_stat logoffs)" = 1 ]
"$EMULATOR_PYTHON" check_inventory.py "$EMULATOR_DIR/first.json" "$created_after" backup replica cdp
first_err=$(joined "$EMULATOR_DIR/first.err")
grep -qF '6 VMs are left out of the inventory' <<<"$first_err"
grep -qF "'-oProxyCommand=touch $EMULATOR_DIR/ssh-ran': it starts with -, which ssh would read as an option" <<<"$first_err"
grep -qF "'all': Ansible reserves it; 'localhost': Ansible reserves it; 'ungrouped': Ansible reserves it" <<<"$first_err"
grep -qF "'{{ 7 * 191 }}': it could be read as a template; \"$piped\": it could be read as a template" <<<"$first_err"
[ "$(grep -oF 'left out of the inventory' <<<"$first_err" | wc -l)" = 1 ]

# The export as AWX's inventory import reads it: plain values, and only text
# that could be a template marked unsafe - with --list and --list --export.
ansible-inventory -i "$inventory" --list --export --output "$EMULATOR_DIR/export.json"
"$EMULATOR_PYTHON" check_export.py "$EMULATOR_DIR/first.json" "$EMULATOR_DIR/export.json"

# Second build from the cache: not one request reaches EM, and the answer is the same.
before=$(em_stat requests_total)
ansible-inventory -i "$inventory" --list --output "$EMULATOR_DIR/second.json"
[ "$(em_stat requests_total)" = "$before" ]
cmp "$EMULATOR_DIR/first.json" "$EMULATOR_DIR/second.json"

# Restore point sources: the VMs with points in the window become hosts too, each with its newest point and age.
points_inventory=$EMULATOR_DIR/points_em.yml
cat >"$points_inventory" <<YAML
plugin: vbem.enterprise_manager.em_inventory
sources: [backup, restore_point, replica_point]
created_after: "$created_after"
keyed_groups:
  - key: vbem_backup.result
    prefix: backup
  - key: vbem_protection.sources.restore_point.code
    prefix: restore_point
YAML
ansible-inventory -i "$points_inventory" --list --output "$EMULATOR_DIR/points.json"
"$EMULATOR_PYTHON" check_inventory.py "$EMULATOR_DIR/points.json" "$created_after" backup restore_point replica_point
"$EMULATOR_PYTHON" - "$EMULATOR_DIR/points.json" <<'PY'
import json, sys
listing = json.load(open(sys.argv[1], encoding='utf-8'))
hostvars = listing['_meta']['hostvars']
with_points = [h for h, v in hostvars.items() if v.get('vbem_restore_point')]
fresh = [h for h in with_points if hostvars[h]['vbem_restore_point']['age_seconds'] < 86400]
assert with_points and fresh, (with_points, fresh)
# A VM passes its restore_point source exactly when its newest point is younger than max_age (24h); the
# name twins (CaseDup/casedup: two VMs, one name to EM) are ambiguous, never judged on either's point.
ambiguous = [h for h in with_points if hostvars[h]['vbem_protection']['sources']['restore_point']['code'] == 'ambiguous']
assert ambiguous == ['CaseDup'], ambiguous
for host in set(with_points) - set(ambiguous):
    judged = hostvars[host]['vbem_protection']['sources']['restore_point']
    assert judged['passed'] == (host in fresh), (host, judged, hostvars[host]['vbem_restore_point'])
assert sorted(listing.get('restore_point_passed', {}).get('hosts', [])) == sorted(set(fresh) - set(ambiguous))
print('{0} hosts with restore points, {1} fresh'.format(len(with_points), len(fresh)))
PY

# Verdicts against the gate module; a play on backup_Failed.
ansible-playbook -i "$inventory" -i ../../inventory playbook.yml \
    -e "em_created_after=$created_after" -e "{\"em_sources\": $sources}" "$@"

# hostnames: hosts named by the first expression that gives a name; EM's name
# stays in vbem_vm_name; two VMs that would share a name are both left out.
add_session 'Dup Host' Failed
add_session dup-host Success
fqdn=$EMULATOR_DIR/fqdn_em_inventory.yml  # the em_inventory.yml ending
cat >"$fqdn" <<YAML
plugin: vbem.enterprise_manager.em_inventory
sources: $sources
created_after: "$created_after"
hostnames:
  - "'braces-' ~ vbem_backup.uid[-12:] if '{' in vbem_vm_name else ''"
  - "vbem_cdp.vm_name | default('', true) | upper"
  - "vbem_vm_name | lower | replace(' ', '-') ~ '.corp.example.com'"
keyed_groups:
  - key: vbem_backup.result
    prefix: backup
compose:
  composed_name: vbem_vm_name
YAML
ANSIBLE_INVENTORY_UNPARSED_FAILED=true ansible-inventory -i "$fqdn" --list --output "$EMULATOR_DIR/fqdn.json" 2>"$EMULATOR_DIR/fqdn.err"
cat "$EMULATOR_DIR/fqdn.err"
"$EMULATOR_PYTHON" check_export.py "$EMULATOR_DIR/fqdn.json"
"$EMULATOR_PYTHON" - "$EMULATOR_DIR/fqdn.json" "$EMULATOR_DIR/first.json" <<'PY'
import json, sys
hostvars = json.load(open(sys.argv[1]))['_meta']['hostvars']
plain = json.load(open(sys.argv[2]))['_meta']['hostvars']
def text(value):
    return value['__ansible_unsafe'] if isinstance(value, dict) else value
expected = {}
for variables in hostvars.values():
    vm = text(variables['vbem_vm_name'])
    cdp = variables.get('vbem_cdp')
    if '{' in vm:
        expected[vm] = 'braces-' + text(variables['vbem_backup']['uid'])[-12:]
    else:
        expected[vm] = text(cdp['vm_name']).upper() if cdp else vm.lower().replace(' ', '-') + '.corp.example.com'
named = dict((text(v['vbem_vm_name']), host) for host, v in hostvars.items())
assert named == expected, sorted(set(named.items()) ^ set(expected.items()))[:10]
# Every VM of the plain build is a host, and so are those whose EM names were unsafe but whose
# host names are not; the two that share dup-host.corp.example.com and the one whose name still
# starts with - are left out.
unsafe_vm = [vm for vm in named if vm.startswith('-')]
piped = "{{ lookup('pipe', 'id') }}"
assert set(named) == set(plain) | {'all', 'ungrouped', 'localhost', '{{ 7 * 191 }}', piped}, sorted(set(named) ^ set(plain))
assert text(hostvars[named[piped]]['vbem_backup']['reason']) == piped
assert not unsafe_vm and 'Dup Host' not in named and 'dup-host' not in named
assert any(name.isupper() for name in hostvars) and any(name.endswith('.corp.example.com') for name in hostvars)
assert all(text(v['composed_name']) == text(v['vbem_vm_name']) for v in hostvars.values())
print('hostnames: {0} hosts named as the expressions say'.format(len(hostvars)))
PY
fqdn_err=$(joined "$EMULATOR_DIR/fqdn.err")
grep -qF '3 VMs are left out of the inventory' <<<"$fqdn_err"
grep -qF "'Dup Host': its host name 'dup-host.corp.example.com' is also that of 'dup-host'" <<<"$fqdn_err"
grep -qF "'dup-host': its host name 'dup-host.corp.example.com' is also that of 'Dup Host'" <<<"$fqdn_err"
grep -qF "is refused: it starts with -, which ssh would read as an option" <<<"$fqdn_err"

# The FQDN names intersect with another inventory's groups.
failed_host=$("$EMULATOR_PYTHON" -c 'import json, sys
listing = json.load(open(sys.argv[1]))
print(sorted(h for h in listing["backup_Failed"]["hosts"] if h.endswith(".corp.example.com"))[0])' "$EMULATOR_DIR/fqdn.json")
printf '[db]\n%s\nnot-in-em.corp.example.com\n' "$failed_host" >"$EMULATOR_DIR/hosts.ini"
ansible -i "$fqdn" -i "$EMULATOR_DIR/hosts.ini" 'backup_Failed:&db' --list-hosts >"$EMULATOR_DIR/intersect.out"
cat "$EMULATOR_DIR/intersect.out"
grep -qF 'hosts (1):' "$EMULATOR_DIR/intersect.out"
grep -qF "$failed_host" "$EMULATOR_DIR/intersect.out"

# A file that names the plugin but ends otherwise: a warning with the endings, and no request.
cp "$fqdn" "$EMULATOR_DIR/fqdn.yml"
before=$(em_stat requests_total)
rc=0
ANSIBLE_INVENTORY_UNPARSED_FAILED=true ansible-inventory -i "$EMULATOR_DIR/fqdn.yml" --list >"$EMULATOR_DIR/misnamed.out" 2>&1 || rc=$?
cat "$EMULATOR_DIR/misnamed.out"
[ "$rc" -ne 0 ]
grep -qF 'reads only files whose names end in em.yml, em.yaml, em_inventory.yml, em_inventory.yaml' <<<"$(joined "$EMULATOR_DIR/misnamed.out")"
[ "$(em_stat requests_total)" = "$before" ]

# A damaged cache entry is ignored with a warning and read again; the next build uses the new entry.
# The jsonfile cache writes the entry as JSON (2.19+ inside a "__payload__" string): drop one VM's sessions.
"$EMULATOR_PYTHON" - "$EMULATOR_DIR"/inventory_cache/* <<'PY'
import json, sys
for name in sys.argv[1:]:
    with open(name, encoding='utf-8') as handle:
        stored = json.load(handle)
    data = json.loads(stored['__payload__']) if '__payload__' in stored else stored
    del data['vms'][0]['sessions']
    if '__payload__' in stored:
        stored['__payload__'] = json.dumps(data)
    else:
        stored = data
    with open(name, 'w', encoding='utf-8') as handle:
        json.dump(stored, handle)
PY
logons=$(em_stat logons)
ansible-inventory -i "$inventory" --list --output "$EMULATOR_DIR/recached.json" 2>"$EMULATOR_DIR/recached.err"
cat "$EMULATOR_DIR/recached.err"
grep -qF "the cached inventory is ignored and read again from EM: VM '" \
    <<<"$(joined "$EMULATOR_DIR/recached.err" | grep -F "' has no sessions of the sources read")"
[ "$(em_stat logons)" = $((logons + 1)) ]
"$EMULATOR_PYTHON" check_export.py "$EMULATOR_DIR/recached.json"
before=$(em_stat requests_total)
ansible-inventory -i "$inventory" --list --output "$EMULATOR_DIR/cached_again.json"
[ "$(em_stat requests_total)" = "$before" ]
cmp "$EMULATOR_DIR/recached.json" "$EMULATOR_DIR/cached_again.json"

# With ansible-core's defaults a failed build is a warning and exit code 0;
# ANSIBLE_INVENTORY_UNPARSED_FAILED makes it an error, and beside another
# source only ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED does.
printf '%s\n' 'plugin: vbem.enterprise_manager.em_inventory' 'cache: maybe' >"$EMULATOR_DIR/maybe_em.yml"
ANSIBLE_INVENTORY_UNPARSED_FAILED=false ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=false \
    ansible-inventory -i "$EMULATOR_DIR/maybe_em.yml" --list >/dev/null
ANSIBLE_INVENTORY_UNPARSED_FAILED=true ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=false \
    ansible-inventory -i "$EMULATOR_DIR/maybe_em.yml" -i ../../inventory --list >/dev/null
rc=0
ANSIBLE_INVENTORY_UNPARSED_FAILED=false ANSIBLE_INVENTORY_ANY_UNPARSED_IS_FAILED=true \
    ansible-inventory -i "$EMULATOR_DIR/maybe_em.yml" -i ../../inventory --list >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ]
rc=0
ANSIBLE_INVENTORY_UNPARSED_FAILED=true ansible-inventory -i "$EMULATOR_DIR/maybe_em.yml" --list >/dev/null 2>&1 || rc=$?
[ "$rc" -ne 0 ]
[ ! -e "$EMULATOR_DIR/ssh-ran" ]


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
refused "cache must be true or false (yes/no, on/off and 1/0 work too), not 'maybe'" 'cache: maybe'
refused "strict must be true or false (yes/no, on/off and 1/0 work too), not 'perhaps'" 'strict: perhaps'
refused "compose['last'] 'vbem_backup.end_time |' is not a Jinja expression" 'compose: {last: "vbem_backup.end_time |"}'
refused "keyed_groups[0].key 'vbem_backup.result | nosuchfilter' uses the filter nosuchfilter, which Ansible does not know" \
    'keyed_groups: [{key: "vbem_backup.result | nosuchfilter", prefix: backup}]'
refused 'keyed_groups[0] holds prefx; an entry may hold only' 'keyed_groups: [{key: vbem_backup.result, prefx: backup}]'
refused "groups['bad'] 'vbem_backup is nosuchtest' uses the test nosuchtest" 'groups: {bad: "vbem_backup is nosuchtest"}'
refused 'hostnames must be a non-empty list of Jinja expressions' 'hostnames: []'
refused "hostnames[0] 'vbem_vm_name | lower ~' is not a Jinja expression" 'hostnames: ["vbem_vm_name | lower ~"]'
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

# EM answers that are not a query result, or a page that lies about being
# the last: the build fails and adds no host, or (a lie the client sees
# through) gives the same hosts as an honest answer.
control() { emulator_control "$@" >/dev/null; }
printf '%s\n' 'plugin: vbem.enterprise_manager.em_inventory' 'page_size: 10' >"$EMULATOR_DIR/paged_em.yml"
ansible-inventory -i "$EMULATOR_DIR/paged_em.yml" --list --output "$EMULATOR_DIR/honest.json"
tampered() {  # RULE (JSON)
    local rc=0
    control tamper set "{\"rules\": [$1]}"
    ANSIBLE_INVENTORY_UNPARSED_FAILED=true ansible-inventory -i "$EMULATOR_DIR/paged_em.yml" --list \
        >"$EMULATOR_DIR/tampered.json" 2>"$EMULATOR_DIR/tampered.err" || rc=$?
    control tamper clear
    cat "$EMULATOR_DIR/tampered.err"
    if grep -q Traceback "$EMULATOR_DIR/tampered.err"; then exit 1; fi
    # One EM error, said once by the plugin (ansible-core 2.19+ prints a warning and its cause: two copies at most).
    [ "$(grep -oF "paged_em.yml: GET " <<<"$(joined "$EMULATOR_DIR/tampered.err")" | wc -l)" -le 2 ]
    "$EMULATOR_PYTHON" - "$rc" "$EMULATOR_DIR/tampered.json" "$EMULATOR_DIR/honest.json" <<'PY'
import json, sys
rc, tampered, honest = int(sys.argv[1]), sys.argv[2], sys.argv[3]
if rc != 0:
    print('refused, rc', rc)
    sys.exit(0)
hosts = set(json.load(open(tampered))['_meta']['hostvars'])
assert hosts == set(json.load(open(honest))['_meta']['hostvars']), 'a partial inventory: {0} hosts'.format(len(hosts))
print('complete despite the tampering: {0} hosts'.format(len(hosts)))
PY
}
tampered '{"query_type": "BackupTaskSession", "body": "<html><body>Maintenance</body></html>"}'
tampered '{"query_type": "BackupTaskSession", "body": "{}", "content_type": "application/json"}'
tampered '{"query_type": "BackupTaskSession", "body": ""}'
tampered '{"query_type": "BackupTaskSession", "wrapper": "none"}'
tampered '{"query_type": "BackupTaskSession", "paging": {"PagesCount": "page"}}'
tampered '{"query_type": "BackupTaskSession", "paging": {"PageSize": 2}}'
[ "$(em_stat logons)" = "$(em_stat logoffs)" ]
