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

all_stages=(sanity lint docs-lint changelog-lint build units emulator-test integration)
stages=("$@")
[ ${#stages[@]} -gt 0 ] || stages=("${all_stages[@]}")

passed=0
failed=0
summary=()
for stage in "${stages[@]}"; do
    if ! declare -F "stage_$stage" >/dev/null; then
        echo "unknown stage '$stage'; stages are: ${all_stages[*]}" >&2
        exit 2
    fi
    echo "=== $stage"
    start=$SECONDS
    if "stage_$stage"; then
        passed=$((passed + 1))
        summary+=("ok      $stage ($((SECONDS - start)) s)")
    else
        failed=$((failed + 1))
        summary+=("FAILED  $stage ($((SECONDS - start)) s)")
    fi
done

echo "=== summary"
printf '%s\n' "${summary[@]}"
echo "stages: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
