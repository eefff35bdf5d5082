#!/usr/bin/env bash
# Run a command (ansible-test, antsibull-docs, ...) in a copy of this checkout
# laid out as an installed collection.
#
# ansible-test has two needs that a plain git checkout does not meet:
#  1. It only runs from .../ansible_collections/<namespace>/<name>, and it
#     resolves symlinks, so we copy the files git knows about into such a
#     tree in a temporary folder, run there, and copy tests/output back.
#  2. Every venv it creates first downloads get-pip.py from a host that is
#     unreachable here.  It uses a cached copy when one exists, so we install
#     our offline stand-in (scripts/get_pip_standin.py) into that cache.
# The cache lives under a project-local HOME (.cache/home), so nothing is
# written to the user's home folder and ansible-test's venvs are reused
# between runs.
#
# Usage: scripts/in-collection-tree.sh ansible-test sanity --venv
#        scripts/in-collection-tree.sh antsibull-docs lint-collection-docs --plugin-docs .
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=${VENV:-$repo/.venv}
# Interpreters for the target Pythons module code must run on: put the real
# binaries on PATH (pyenv's shims depend on HOME, which changes below).  Any
# that are missing are skipped by ansible-test with a warning.
extra_path=$venv/bin
pyenv_root=${PYENV_ROOT:-$HOME/.pyenv}
for bin in "$pyenv_root"/versions/3.*/bin; do
    [ -x "$bin/python3" ] && extra_path=$extra_path:$bin
done
export HOME=$repo/.cache/home
cache=$HOME/.ansible/test/cache
mkdir -p "$cache"
# The pip version ansible-test bootstraps (24.2 for ansible-core 2.19) names the
# cache file; read it from the installed ansible-test rather than hard-code it.
pip_versions=$("$venv/bin/python" - <<'PY'
import pathlib, re
import ansible_test
text = pathlib.Path(ansible_test.__file__).parent.joinpath('_internal', 'python_requirements.py').read_text()
print(' '.join(sorted(set(re.findall(r"\bpip='([0-9.]+)'", text)))) or '24.2')
PY
)
for version in $pip_versions; do
    # Written whole or not at all: several of these scripts may run at once.
    target=$cache/get_pip_${version//./_}.py
    cmp -s "$repo/scripts/get_pip_standin.py" "$target" \
        || { cp "$repo/scripts/get_pip_standin.py" "$target.$$" && mv -f "$target.$$" "$target"; }
done

tree=$(mktemp -d "${TMPDIR:-/tmp}/vbem-ansible-test.XXXXXX")
trap 'rm -rf "$tree"' EXIT
dest=$tree/ansible_collections/vbem/enterprise_manager
mkdir -p "$dest"
# git also lists files deleted from the work tree but not yet from the index.
(cd "$repo" && git ls-files -z --cached --others --exclude-standard \
    | while IFS= read -r -d '' path; do [ -e "$path" ] && printf '%s\0' "$path"; done \
    | tar --null -T - -cf -) | tar -xf - -C "$dest"

# Tools other than ansible-test (ansible-lint, antsibull-docs) find the
# collection through the search path.
export ANSIBLE_COLLECTIONS_PATH=$tree
status=0
(cd "$dest" && PATH="$extra_path:$PATH" "$@") || status=$?

if [ -d "$dest/tests/output" ]; then
    mkdir -p "$repo/tests/output"
    # One copy at a time: scripts/test.sh runs integration targets side by side.
    (
        flock 9
        (cd "$dest/tests/output" && tar --exclude=./.tmp -cf - .) | tar -xf - -C "$repo/tests/output"
    ) 9>>"$repo/tests/output/.copy.lock"
fi
exit $status
