# shellcheck shell=bash
# Run the emulator around a shell job (a CI step, a test, the demo).
#
#   source tests/emulator/emulator-env.sh
#   emulator_start [emulator options]   # background emulator on a free port
#   ansible-playbook site.yml            # VEEAM_EM_* point at it
#   emulator_stop                        # non-zero if a logon was left open
#
# emulator_start exports VEEAM_EM_URL, VEEAM_EM_USERNAME, VEEAM_EM_PASSWORD,
# VEEAM_EM_CA_PATH and EMULATOR_DIR, a scratch folder removed by
# emulator_stop.  emulator_stop also stops the processes listed in
# EMULATOR_CHILD_PIDS.  EMULATOR_PYTHON picks the interpreter (python3).

emulator_home=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

emulator_start() {
    local python=${EMULATOR_PYTHON:-python3}
    EMULATOR_DIR=$(mktemp -d "${TMPDIR:-/tmp}/vbem-emulator.XXXXXX")
    export EMULATOR_DIR
    "$python" "$emulator_home" --port 0 "$@" >"$EMULATOR_DIR/listening.json" 2>"$EMULATOR_DIR/stderr.log" &
    emulator_pid=$!
    # Wait for as long as the emulator lives: on a loaded machine generating
    # its data can take a while, and a start-up deadline would fail a run for
    # no defect.  The 10-minute guard only stops a hung start from hanging CI.
    local _
    for _ in $(seq 1 6000); do
        [ -s "$EMULATOR_DIR/listening.json" ] && break
        if ! kill -0 "$emulator_pid" 2>/dev/null; then
            cat "$EMULATOR_DIR/stderr.log" >&2
            echo "emulator: did not start" >&2
            return 1
        fi
        sleep 0.1
    done
    [ -s "$EMULATOR_DIR/listening.json" ] || { cat "$EMULATOR_DIR/stderr.log" >&2; echo "emulator: hung for 10 minutes without reporting its address" >&2; return 1; }
    local fields
    fields=$("$python" -c 'import json, sys
listening = json.load(open(sys.argv[1]))
print("\n".join(str(listening[key] or "") for key in ("url", "username", "password", "ca_file")))' "$EMULATOR_DIR/listening.json")
    {
        IFS= read -r VEEAM_EM_URL
        IFS= read -r VEEAM_EM_USERNAME
        IFS= read -r VEEAM_EM_PASSWORD
        IFS= read -r VEEAM_EM_CA_PATH
    } <<<"$fields"
    export VEEAM_EM_URL VEEAM_EM_USERNAME VEEAM_EM_PASSWORD VEEAM_EM_CA_PATH
}

# Every logon must have been logged off, or have expired when a test expired
# sessions on purpose: a leaked EM logon session is a production incident.
emulator_stop() {
    [ -n "${emulator_pid:-}" ] || return 0
    local python=${EMULATOR_PYTHON:-python3} rc=0 verdict
    verdict=$("$python" - "$emulator_home" <<'PY'
import sys
sys.path.insert(0, sys.argv[1])
from control import control  # the emulator of VEEAM_EM_URL
stats = control('stats')
print('logons=%(logons)s logoffs=%(logoffs)s expired_sessions=%(expired_sessions)s active_sessions=%(active_sessions)s '
      'never_used_sessions=%(never_used_sessions)s' % stats)
closed = stats['logoffs'] + stats['expired_sessions']
sys.exit(0 if stats['logons'] == closed and stats['active_sessions'] == 0 else 3)
PY
    ) || rc=1
    if [ $rc -eq 0 ]; then echo "emulator: $verdict"; else echo "emulator: logon sessions were left open: $verdict" >&2; fi
    local pid
    for pid in ${EMULATOR_CHILD_PIDS:-}; do kill -TERM "$pid" 2>/dev/null || true; done
    kill -TERM "$emulator_pid" 2>/dev/null
    wait "$emulator_pid" 2>/dev/null
    emulator_pid=""
    rm -rf "$EMULATOR_DIR"
    return $rc
}
