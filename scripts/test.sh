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

stage_integration() {
    scripts/in-collection-tree.sh ansible-test integration --local --color no
}

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

run_on_core() {
    # run_on_core VERSION units|integration
    local version=$1 kind=$2 python core_venv_dir target_python
    if ! python=$(core_python "$version"); then
        echo "skipped: ansible-core $version needs Python $([ "$version" = 2.16 ] && echo 3.11 || echo '3.12 or later'), and none was found" \
             "(set $([ "$version" = 2.16 ] && echo CORE_2_16_PYTHON || echo CORE_PYTHON_312) to one)"
        return $SKIPPED
    fi
    core_venv_dir=$(core_venv "$version" "$python") || return 1
    target_python=$("$core_venv_dir/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
    echo "ansible-core $("$core_venv_dir/bin/python" -c 'import ansible.release; print(ansible.release.__version__)') on Python $target_python"
    if [ "$kind" = units ]; then
        # --local: pytest comes from the pinned core venv, so no venv is built per run.
        VENV=$core_venv_dir scripts/in-collection-tree.sh ansible-test units --local --python "$target_python" --color no
    else
        local target
        for target in "${CORE_INTEGRATION_TARGETS[@]}"; do
            [ -d "tests/integration/targets/$target" ] || { echo "no integration target $target: update CORE_INTEGRATION_TARGETS" >&2; return 1; }
        done
        VENV=$core_venv_dir scripts/in-collection-tree.sh ansible-test integration --local --color no "${CORE_INTEGRATION_TARGETS[@]}"
    fi
}

stage_units-2.16() { run_on_core 2.16 units; }
stage_integration-2.16() { run_on_core 2.16 integration; }
stage_units-2.21() { run_on_core 2.21 units; }
stage_integration-2.21() { run_on_core 2.21 integration; }

all_stages=(sanity lint docs-lint changelog-lint build docs ee units emulator-test integration
            units-2.16 integration-2.16 units-2.21 integration-2.21)
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=("${all_stages[@]}")

passed=0
failed=0
skipped=0
summary=()
for stage in "${stages[@]}"; do
    if ! declare -F "stage_$stage" >/dev/null; then
        echo "unknown stage '$stage'; stages are: ${all_stages[*]}" >&2
        exit 2
    fi
    echo "=== $stage"
    start=$SECONDS
    "stage_$stage"
    rc=$?
    if [ $rc -eq 0 ]; then
        passed=$((passed + 1))
        summary+=("ok      $stage ($((SECONDS - start)) s)")
    elif [ $rc -eq $SKIPPED ]; then
        skipped=$((skipped + 1))
        summary+=("skipped $stage ($((SECONDS - start)) s)")
    else
        failed=$((failed + 1))
        summary+=("FAILED  $stage ($((SECONDS - start)) s)")
    fi
done

echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "stages: $passed passed, $failed failed$([ $skipped -eq 0 ] || echo ", $skipped skipped")"
[ "$failed" -eq 0 ]
