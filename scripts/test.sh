#!/usr/bin/env bash
# Every test of the project, in one command (`make test`), or one stage by name
# (`make sanity`, `scripts/test.sh units`, ...).  Each stage is timed; the run
# ends with one line "stages: N passed, N failed" and a non-zero exit code if
# any stage failed.
set -uo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-$repo/.venv}
case "$venv" in /*) ;; *) venv=$repo/$venv ;; esac
export VENV=$venv
export PATH=$venv/bin:$PATH
cd "$repo" || exit 1

stage_sanity() {
    # The standard is zero ignore entries: fail if anyone adds one.
    if cat tests/sanity/ignore-*.txt 2>/dev/null | grep -q -v '^[[:space:]]*$'; then
        echo "tests/sanity/ignore-*.txt has entries; fix the code instead" >&2
        return 1
    fi
    scripts/in-collection-tree.sh ansible-test sanity --venv --color no
}

stage_units() {
    scripts/in-collection-tree.sh ansible-test units --venv --color no
}

stage_emulator-test() {
    # No allowance for pytest's exit 5 ("no tests collected") here: the
    # emulator has tests, and losing them all must fail the run.
    python -m pytest -q -p no:cacheprovider tests/emulator/tests
}

# The integration stages (integration, integration-2.16, integration-2.21)
# run through one queue of targets, $JOBS at a time: see run_integration.

stage_lint() {
    NO_COLOR=1 scripts/in-collection-tree.sh ansible-lint --profile production --offline --nocolor
}

stage_docs-lint() {
    scripts/in-collection-tree.sh antsibull-docs lint-collection-docs --plugin-docs .
}

stage_changelog-lint() {
    antsibull-changelog lint
}

stage_build() {
    # The built tarball must hold the collection and nothing generated.
    local out
    out=$(mktemp -d "${TMPDIR:-/tmp}/vbem-build.XXXXXX")
    ansible-galaxy collection build --force --output-path "$out" . >/dev/null || { rm -rf "$out"; return 1; }
    local version tarball
    version=$(python -c 'import yaml; print(yaml.safe_load(open("galaxy.yml"))["version"])')
    tarball=$out/vbem-enterprise_manager-$version.tar.gz
    local bad
    bad=$(tar -tzf "$tarball" | grep -E '(^|/)(\.venv|\.cache|\.ansible|collections|tests/output|__pycache__)(/|$)' | head -n 5)
    rm -rf "$out"
    if [ -n "$bad" ]; then
        echo "the built tarball holds generated files:" >&2
        echo "$bad" >&2
        return 1
    fi
    echo "built $(basename "$tarball"): clean"
}

stage_docs() {
    # The HTML site `make docs` builds; it lands in .cache/docs.
    scripts/in-collection-tree.sh docs/build.sh "$repo/.cache/docs"
}

stage_ee() {
    # ansible-builder's build context and introspection, and the EE smoke
    # playbook; building the image itself needs podman or docker.
    tests/ee/check-ee.sh
}

# Every supported ansible-core: the oldest (2.16, meta/runtime.yml) and the
# newest (2.21) run the unit and integration tests too, each from its own
# pinned venv under .cache/ (tests/requirements-core-<version>.txt); the
# pinned 2.19 of .venv runs everything else.
SKIPPED=77
# The integration targets 2.16 and 2.21 run: those that exercise what changes
# between ansible-core versions - module argument handling, the lookup,
# inventory, action and filter plugin APIs, roles with argument specs, and
# ansible-runner. The targets for faults, wire formats, bad input and the
# emulator drive our own client the same way whatever the core, so the
# pinned 2.19 runs them (stage integration), which keeps `make test` short.
CORE_INTEGRATION_TARGETS=(backup_task_session_info em_query em_inventory logon_logoff connection_sources
                          session_report backup_gate_role awx_runner awx_slicing)

core_python() {
    # The interpreter of a core version's venv, or nothing.  2.16 runs on the
    # Python 3.11 of .venv; 2.20 and later need 3.12 or later on the
    # controller, which pyenv provides on these machines (its python3.12
    # shim fails, the binaries under versions/ work).
    local version=$1 candidate
    local -a candidates
    case $version in
        2.16) candidates=("${CORE_2_16_PYTHON:-}" "$venv/bin/python") ;;
        *) candidates=("${CORE_PYTHON_312:-}" python3.12 python3.13 "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3) ;;
    esac
    for candidate in "${candidates[@]}"; do
        [ -n "$candidate" ] || continue
        if [ "$version" = 2.16 ]; then
            "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))' 2>/dev/null || continue
        else
            "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null || continue
        fi
        command -v "$candidate"
        return 0
    done
    return 1
}

core_venv() {
    # Build (or reuse) .cache/core-<version> from its pinned requirements;
    # print its path.  A changed interpreter or requirements file rebuilds it.
    local version=$1 python=$2
    local dir=$repo/.cache/core-$version requirements=$repo/tests/requirements-core-$version.txt stamp
    stamp="$("$python" -c 'import sys; print(sys.version.split()[0])') $(sha256sum "$requirements" | cut -c1-64)"
    if [ "$(cat "$dir/.installed" 2>/dev/null)" != "$stamp" ]; then
        echo "building $dir (ansible-core $version on $python)" >&2
        rm -rf "$dir"
        "$python" -m venv "$dir" >&2 || return 1
        "$dir/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" 2>&1 \
            | { grep -v '^WARNING: Location' || true; } >&2
        "$dir/bin/python" -c 'import ansible, ansible_runner, requests, jmespath' >&2 || return 1
        echo "$stamp" >"$dir/.installed"
    fi
    echo "$dir"
}

core_setup() {
    # core_setup VERSION: print the pinned venv of that ansible-core (built or
    # reused); return $SKIPPED when no suitable Python is found.
    local version=$1 python
    if ! python=$(core_python "$version"); then
        echo "skipped: ansible-core $version needs Python $([ "$version" = 2.16 ] && echo 3.11 || echo '3.12 or later'), and none was found" \
             "(set $([ "$version" = 2.16 ] && echo CORE_2_16_PYTHON || echo CORE_PYTHON_312) to one)" >&2
        return $SKIPPED
    fi
    core_venv "$version" "$python"
}

run_on_core() {
    # run_on_core VERSION units
    local version=$1 core_venv_dir target_python rc
    core_venv_dir=$(core_setup "$version") || { rc=$?; return $rc; }
    target_python=$("$core_venv_dir/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    echo "ansible-core $("$core_venv_dir/bin/python" -c 'import ansible.release; print(ansible.release.__version__)') on Python $target_python"
    # --local: pytest comes from the pinned core venv, so no venv is built per run.
    VENV=$core_venv_dir scripts/in-collection-tree.sh ansible-test units --local --python "$target_python" --color no
}

stage_core-venvs() {
    # The pinned venvs of the other cores (.cache/core-2.16, .cache/core-2.21),
    # built beside sanity so that their unit and integration stages start at
    # once; a core whose Python is missing is reported, and skipped by those stages.
    local version rc status=0
    for version in 2.16 2.21; do
        core_setup "$version"
        rc=$?
        [ "$rc" -eq 0 ] || [ "$rc" -eq "$SKIPPED" ] || status=1
    done
    return $status
}

stage_units-2.16() { run_on_core 2.16 units; }
stage_units-2.21() { run_on_core 2.21 units; }

# How many stages or integration targets run side by side.  An integration
# target keeps about one core busy (ansible-playbook, its module and the
# emulator take turns) and some mostly wait (cancellation waits for signals
# to be handled), so two at a time use both cores of a two-core machine.
# Every target starts its own emulator on a free port with its own scratch
# folder, so none sees another's state.
JOBS=${TEST_JOBS:-2}
# The integration targets that take longest, started first so that the
# workers finish together (only the order depends on this list).
SLOW_TARGETS=(bad_input fault_matrix module_examples cancellation vm_protection_info logon_logoff backup_gate_role
              em_inventory tamper_answers quick_backup)
# cancellation mostly waits (for ansible-playbook to reach EM, for signals to
# be handled, for EM to stay quiet), so it shares the queue: its bound, every
# logon logged off within the 10 s AWX's Receptor grants before SIGKILL
# (tooling-notes.md), held with a wide margin on a loaded machine: beside two
# busy loops and fault_matrix on two cores (load 3.2) the slowest logoff took
# 3.7 s, 4.2 s alone (ansible-runner's own cancel polling is 3 s of it).

# Every run keeps each stage's and each integration target's output in its own
# file, so that what runs side by side stays readable (each log is printed
# whole once it ends) and the summary can quote what failed.
log_dir=${TEST_LOG_DIR:-$repo/tests/output/test-logs}
export TEST_LOG_DIR=$log_dir
lock=$log_dir/.print.lock

outcome() {
    # outcome EXIT_CODE: ok, skipped or FAILED (exit N).
    case $1 in
        0) echo ok ;;
        "$SKIPPED") echo skipped ;;
        *) echo "FAILED (exit $1)" ;;
    esac
}

print_log() {
    # print_log TITLE LOG RESULT: a finished log, whole, never interleaved with another.
    local title=$1 log=$2 result=$3
    {
        flock 9
        echo "=== $title"
        cat "$log"
        echo "=== $title: $result"
    } 9>>"$lock"
}

integration_target() {
    # integration_target STAGE VENV TARGET (xargs runs this through `test.sh --job`):
    # one target with the given venv's ansible-test; its log, exit code and seconds under $log_dir/STAGE/.
    local stage=$1 target_venv=$2 target=$3 start=$SECONDS rc
    local log=$log_dir/$stage/$target.log
    VENV=$target_venv scripts/in-collection-tree.sh ansible-test integration --local --color no "$target" >"$log" 2>&1
    rc=$?
    echo "$rc $((SECONDS - start))" >"$log_dir/$stage/$target.result"
    print_log "$stage: $target" "$log" "$(outcome $rc) ($((SECONDS - start)) s)"
    return 0
}

integration_targets() {
    # integration_targets STAGE: the targets of an integration stage, one a line.
    local stage=$1 target
    if [ "$stage" = integration ] && [ -n "${INTEGRATION_TARGETS:-}" ]; then
        # A developer's choice: `INTEGRATION_TARGETS="em_query bad_input" make integration`.
        local -a chosen
        read -r -a chosen <<<"$INTEGRATION_TARGETS"
        printf '%s\n' "${chosen[@]}"
        return
    fi
    if [ "$stage" = integration ]; then
        # ansible-test's own choice: every target that is not hidden, disabled or unsupported.
        scripts/in-collection-tree.sh ansible-test integration --local --color no --list-targets 2>/dev/null | grep -E '^[a-z0-9_]+$'
        return
    fi
    for target in "${CORE_INTEGRATION_TARGETS[@]}"; do
        [ -d "tests/integration/targets/$target" ] || { echo "no integration target $target: update CORE_INTEGRATION_TARGETS" >&2; return 1; }
        echo "$target"
    done
}

run_pool() {
    # run_pool STAGE...: the unit and integration stages through one queue, $JOBS
    # at a time: `units` first (the longest single job), then the slow targets of
    # every integration stage, the units of the other cores, and the rest; so no
    # core waits for the stage beside it to end.  Each stage's result under $log_dir.
    local stage target version stage_venv queue=$log_dir/pool.queue
    local -a stages_run=() unit_stages=()
    declare -A targets_of=()
    : >"$queue"
    for stage in "$@"; do
        case $stage in
            units*)
                # Build (or reuse) the core's venv now, before anything runs side by
                # side: two builds of one venv at once would collide.
                [ "$stage" = units ] || core_setup "${stage#units-}" >/dev/null 2>&1
                unit_stages+=("$stage")
                continue ;;
        esac
        mkdir -p "$log_dir/$stage"
        stage_venv=$venv
        if [ "$stage" != integration ]; then
            version=${stage#integration-}
            stage_venv=$(core_setup "$version" 2>"$log_dir/$stage.log")
            case $? in
                0) ;;
                "$SKIPPED") echo "$SKIPPED 0" >"$log_dir/$stage.result"; continue ;;
                *) echo "1 0" >"$log_dir/$stage.result"; continue ;;
            esac
        fi
        if ! targets_of[$stage]=$(integration_targets "$stage" 2>>"$log_dir/$stage.log") || [ -z "${targets_of[$stage]}" ]; then
            echo "no integration targets found" >>"$log_dir/$stage.log"
            echo "1 0" >"$log_dir/$stage.result"
            continue
        fi
        echo "$stage: $(echo "${targets_of[$stage]}" | wc -l) targets, ansible-core $("$stage_venv/bin/python" -c 'import ansible.release; print(ansible.release.__version__)')" >>"$log_dir/$stage.log"
        stages_run+=("$stage")
        declare -g "venv_of_${stage//[.-]/_}=$stage_venv"
    done
    enqueue() { printf '%s\0%s\0%s\0' "$1" "$2" "$3" >>"$queue"; }
    [[ " ${unit_stages[*]} " != *" units "* ]] || enqueue units - -
    local pass slow
    for pass in slow units rest; do
        if [ $pass = units ]; then
            for stage in "${unit_stages[@]}"; do [ "$stage" = units ] || enqueue "$stage" - -; done
            continue
        fi
        for stage in "${stages_run[@]}"; do
            stage_venv=venv_of_${stage//[.-]/_}
            while IFS= read -r target; do
                slow=rest
                [[ " ${SLOW_TARGETS[*]} " == *" $target "* ]] && slow=slow
                [ $pass = $slow ] && enqueue "$stage" "${!stage_venv}" "$target"
            done <<<"${targets_of[$stage]}"
        done
    done
    if [ -s "$queue" ]; then
        xargs -0 -n 3 -P "$JOBS" "$repo/scripts/test.sh" --job <"$queue"
    fi
    for stage in "${stages_run[@]}"; do
        local failed_targets=() seconds=0 rc result
        while IFS= read -r target; do
            result=$(cat "$log_dir/$stage/$target.result" 2>/dev/null) || result="1 0"
            rc=${result% *}
            seconds=$((seconds + ${result#* }))
            [ "$rc" -eq 0 ] || failed_targets+=("$target")
        done <<<"${targets_of[$stage]}"
        echo "$(echo "${targets_of[$stage]}" | wc -l) targets, $seconds s of target time" >"$log_dir/$stage.note"
        if [ ${#failed_targets[@]} -eq 0 ]; then
            echo "0 $seconds" >"$log_dir/$stage.result"
        else
            echo "failed targets: ${failed_targets[*]}" >>"$log_dir/$stage.log"
            printf '%s\n' "${failed_targets[@]}" >"$log_dir/$stage.failed"
            echo "1 $seconds" >"$log_dir/$stage.result"
        fi
        print_log "$stage" "$log_dir/$stage.log" "$(cat "$log_dir/$stage.note")"
    done
}

run_stage() {
    # run_stage STAGE [live]: one stage, its output into its log (and onto the
    # terminal as it comes when live, else whole once it ends); its exit code
    # and seconds under $log_dir.
    local stage=$1 live=${2:-} start=$SECONDS rc
    if [ -n "$live" ]; then
        echo "=== $stage"
        "stage_$stage" 2>&1 | tee "$log_dir/$stage.log"
        rc=${PIPESTATUS[0]}
    else
        "stage_$stage" >"$log_dir/$stage.log" 2>&1
        rc=$?
        print_log "$stage" "$log_dir/$stage.log" "$(outcome $rc)"
    fi
    echo "$rc $((SECONDS - start))" >"$log_dir/$stage.result"
}

run_lanes() {
    # run_lanes "STAGE..." "STAGE..." ...: each argument a lane of stages run one
    # after the other; the lanes run side by side ($JOBS at most).
    local -a lanes=("$@")
    if [ ${#lanes[@]} -eq 1 ] && [ "$(wc -w <<<"${lanes[0]}")" -eq 1 ]; then
        run_stage "${lanes[0]}" live
        return
    fi
    local lane stage running=0
    for lane in "${lanes[@]}"; do
        if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
        # shellcheck disable=SC2086  # a lane is a list of stage names
        ( for stage in $lane; do run_stage "$stage"; done ) &
        running=$((running + 1))
    done
    wait
}

if [ "${1:-}" = --job ]; then
    # One job of run_pool's queue (xargs runs these): a whole stage, or one integration target.
    shift
    if [ "$3" = - ]; then run_stage "$1"; else integration_target "$@"; fi
    exit 0
fi

all_stages=(sanity lint docs-lint changelog-lint build docs ee emulator-test core-venvs units
            units-2.16 units-2.21 integration integration-2.16 integration-2.21)
# The order `make test` runs them in: the stages of one step run side by side
# (lanes separated by |); the last step's unit and integration stages share one
# queue (run_pool).
steps=("sanity | core-venvs lint docs-lint changelog-lint build docs ee emulator-test"
       "units units-2.16 units-2.21 integration integration-2.16 integration-2.21")
pool_stages=" units units-2.16 units-2.21 integration integration-2.16 integration-2.21 "
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=("${all_stages[@]}")
for stage in "${stages[@]}"; do
    if ! declare -F "stage_$stage" >/dev/null && [[ " integration integration-2.16 integration-2.21 " != *" $stage "* ]]; then
        echo "unknown stage '$stage'; stages are: ${all_stages[*]}" >&2
        exit 2
    fi
done
rm -rf "$log_dir"
mkdir -p "$log_dir"
wanted() { [[ " ${stages[*]} " == *" $1 "* ]]; }

started=$SECONDS
for step in "${steps[@]}"; do
    if [[ $pool_stages == *" ${step%% *} "* ]]; then
        chosen=()
        for stage in $step; do wanted "$stage" && chosen+=("$stage"); done
        if [ ${#chosen[@]} -eq 1 ] && [[ ${chosen[0]} == units* ]]; then
            run_stage "${chosen[0]}" live
        elif [ ${#chosen[@]} -gt 0 ]; then
            echo "=== ${chosen[*]}: $JOBS jobs at a time"
            step_start=$SECONDS
            run_pool "${chosen[@]}"
            echo "=== ${chosen[*]}: $((SECONDS - step_start)) s"
        fi
        continue
    fi
    lanes=()
    IFS='|' read -r -a parts <<<"$step"
    for part in "${parts[@]}"; do
        lane=""
        for stage in $part; do wanted "$stage" && lane="$lane $stage"; done
        [ -z "$lane" ] || lanes+=("${lane# }")
    done
    [ ${#lanes[@]} -eq 0 ] || run_lanes "${lanes[@]}"
done

# The summary comes last, where a CI log's tail shows it: what failed, with
# the end of its output (per target for the integration stages), then one
# line per stage and the count.
passed=0
failed=0
skipped=0
summary=()
for stage in "${all_stages[@]}"; do
    wanted "$stage" || continue
    result=$(cat "$log_dir/$stage.result" 2>/dev/null) || result="1 0"
    rc=${result% *}
    seconds=${result#* }
    note=""
    shown="$seconds s"
    [ ! -s "$log_dir/$stage.note" ] || shown=$(cat "$log_dir/$stage.note")
    if [ "$rc" -eq 0 ]; then
        passed=$((passed + 1))
        summary+=("ok      $stage ($shown)")
    elif [ "$rc" -eq $SKIPPED ]; then
        skipped=$((skipped + 1))
        summary+=("skipped $stage ($shown)")
    else
        failed=$((failed + 1))
        if [ -s "$log_dir/$stage.failed" ]; then
            note=": $(tr '\n' ' ' <"$log_dir/$stage.failed" | sed 's/ $//')"
            while IFS= read -r target; do
                echo "=== FAILED $stage: $target (last 40 lines; whole log above and in ${log_dir#"$repo"/}/$stage/$target.log)"
                tail -n 40 "$log_dir/$stage/$target.log"
            done <"$log_dir/$stage.failed"
        else
            echo "=== FAILED $stage (last 40 lines; whole log above and in ${log_dir#"$repo"/}/$stage.log)"
            tail -n 40 "$log_dir/$stage.log"
        fi
        summary+=("FAILED  $stage ($shown)$note")
    fi
done

echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "stages: $passed passed, $failed failed$([ $skipped -eq 0 ] || echo ", $skipped skipped") in $((SECONDS - started)) s"
[ "$failed" -eq 0 ]
