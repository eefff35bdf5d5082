#!/usr/bin/env bash
# Answers that are not what was asked (emulator tamper mode): an HTML page,
# {}, an empty body, JSON without the entity wrapper or under another type's,
# and pages that contradict their own PagingInfo are one sentence naming what
# EM sent from a module, the lookup, the gate and the inventory, never an empty
# result; a full page that claims to be the last is read past; every logon is
# logged off (emulator_stop checks it).
set -eux -o pipefail
export EMULATOR_ARGS="--sessions 600"
source ../setup_emulator/emulator.sh
control() { emulator_control "$@"; }

ansible-playbook -i ../../inventory playbook.yml "$@"

# The inventory: a build from a tampered answer fails (and says what EM sent), never a partial inventory.
inventory=$EMULATOR_DIR/vbem_em.yml
cat >"$inventory" <<'YAML'
plugin: vbem.enterprise_manager.em_inventory
sources: [backup]
created_after: 2d
page_size: 5
YAML
honest=$EMULATOR_DIR/honest.json
ansible-inventory -i "$inventory" --list --output "$honest"
for rule in \
    '{"body": "<html><body>Proxy: maintenance</body></html>"}' \
    '{"body": "{}", "content_type": "application/json"}' \
    '{"body": "", "content_type": "application/json"}' \
    '{"wrapper": "other"}' \
    '{"wrapper": "none"}' \
    '{"paging": {"PageNum": 1}}' \
    '{"paging": {"PagesCount": 0}}'; do
    control tamper set "{\"rules\": [$rule]}"
    if ANSIBLE_INVENTORY_UNPARSED_FAILED=true ansible-inventory -i "$inventory" --list \
            >"$EMULATOR_DIR/out.json" 2>"$EMULATOR_DIR/err.txt"; then
        echo "the inventory was built from a tampered answer: $rule" >&2
        exit 1
    fi
    grep -q 'not the answer asked for' "$EMULATOR_DIR/err.txt" || { cat "$EMULATOR_DIR/err.txt"; exit 1; }
    grep -q 'EM sent' "$EMULATOR_DIR/err.txt"
    if grep -n Traceback "$EMULATOR_DIR/err.txt"; then exit 1; fi
done

# Every page claims to be the last: the inventory reads on and is complete.
control tamper set '{"rules": [{"paging": {"PagesCount": "page"}}]}'
ansible-inventory -i "$inventory" --list --output "$EMULATOR_DIR/lied.json"
control tamper show | "$EMULATOR_PYTHON" -c 'import json, sys; assert json.load(sys.stdin)["tampered"] > 1'
control tamper clear
"$EMULATOR_PYTHON" - "$honest" "$EMULATOR_DIR/lied.json" <<'PY'
import json, sys
honest, lied = (json.load(open(path, encoding='utf-8')) for path in sys.argv[1:3])
hosts = sorted(honest['_meta']['hostvars'])
assert len(hosts) > 5, "too few hosts to need several pages: %d" % len(hosts)
assert sorted(lied['_meta']['hostvars']) == hosts, 'a page that claimed to be the last cut the inventory short'
PY
