# shellcheck shell=bash
# Sourced by integration targets' runme.sh: start the bundled Enterprise
# Manager emulator on a free loopback port, export the collection's
# environment variables for it, and on exit check that every logon was logged
# off before stopping it.  Extra emulator options: EMULATOR_ARGS.

# ansible-test runs each target from a copy of tests/integration, so find the
# emulator through the collection search path it exports.
collection_root=${ANSIBLE_COLLECTIONS_PATH%%:*}/ansible_collections/vbem/enterprise_manager
[ -d "$collection_root/tests/emulator" ] || collection_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../../../.." && pwd)
emulator_python=${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}
EMULATOR_DIR=$(mktemp -d "${TMPDIR:-/tmp}/vbem-emulator.XXXXXX")
# Targets may keep scratch files here; it is removed when the target ends.
export EMULATOR_DIR

# A password found nowhere else, with characters that need care in Basic
# auth, so that a leak scan of the output cannot miss it or misfire.
emulator_password=$("$emulator_python" -c 'import secrets; print("em;" + secrets.token_hex(12) + "\":pw")')

# shellcheck disable=SC2086  # EMULATOR_ARGS is a list of options
"$emulator_python" "$collection_root/tests/emulator" --port 0 --seed "${EMULATOR_SEED:-42}" \
    --password "$emulator_password" ${EMULATOR_ARGS:-} \
    >"$EMULATOR_DIR/listening.json" 2>"$EMULATOR_DIR/stderr.log" &
emulator_pid=$!

for _ in $(seq 1 300); do
    [ -s "$EMULATOR_DIR/listening.json" ] && break
    kill -0 "$emulator_pid" 2>/dev/null || { cat "$EMULATOR_DIR/stderr.log" >&2; echo "the emulator did not start" >&2; exit 1; }
    sleep 0.1
done
[ -s "$EMULATOR_DIR/listening.json" ] || { echo "the emulator did not report its address within 30 s" >&2; exit 1; }

emulator_field() {
    "$emulator_python" -c 'import json, sys; print(json.load(open(sys.argv[1]))[sys.argv[2]] or "")' "$EMULATOR_DIR/listening.json" "$1"
}
EMULATOR_URL=$(emulator_field url)
export EMULATOR_URL
export VEEAM_EM_URL=$EMULATOR_URL
VEEAM_EM_USERNAME=$(emulator_field username)
VEEAM_EM_PASSWORD=$(emulator_field password)
VEEAM_EM_CA_PATH=$(emulator_field ca_file)
export VEEAM_EM_USERNAME VEEAM_EM_PASSWORD VEEAM_EM_CA_PATH

# Every logon the run made must have been logged off (or have expired, when
# a test expires sessions on purpose): a leaked EM logon session is a
# production incident, so one still open fails the target.
emulator_check_and_stop() {
    local rc=$?
    local verdict
    verdict=$("$emulator_python" - "$EMULATOR_URL" "$VEEAM_EM_CA_PATH" <<'PY'
import json, ssl, sys, urllib.request
url, ca = sys.argv[1], sys.argv[2]
context = ssl.create_default_context(cafile=ca) if url.startswith('https') else None
stats = json.load(urllib.request.urlopen(url + '/_emulator/stats', context=context, timeout=10))
print('logons=%(logons)s logoffs=%(logoffs)s expired_sessions=%(expired_sessions)s active_sessions=%(active_sessions)s' % stats)
closed = stats['logoffs'] + stats['expired_sessions']
sys.exit(0 if stats['logons'] == closed and stats['active_sessions'] == 0 else 3)
PY
    ) || { echo "emulator: logon sessions were left open: $verdict" >&2; rc=1; }
    [ $rc -ne 0 ] || echo "emulator: $verdict"
    # Helpers a target started (a proxy, say) go with the emulator; a target
    # registers them in EMULATOR_CHILD_PIDS.
    for pid in ${EMULATOR_CHILD_PIDS:-}; do kill -TERM "$pid" 2>/dev/null || true; done
    kill -TERM "$emulator_pid" 2>/dev/null
    wait "$emulator_pid" 2>/dev/null
    rm -rf "$EMULATOR_DIR"
    exit $rc
}
trap emulator_check_and_stop EXIT
