#!/usr/bin/env bash
# Stage tests/ee/execution-environment.yml with the collection built from this
# checkout and write an ansible-builder build context into OUTDIR/context.
#
#   tests/ee/make-context.sh OUTDIR
#   podman build -t vbem-ee:test OUTDIR/context    # needs podman or docker
#
# ansible-builder itself must be on PATH (requirements-dev.txt pins it).
set -euo pipefail

[ $# -eq 1 ] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
out=$1
mkdir -p "$out/stage"
stage=$(cd "$out/stage" && pwd)

# The definition names the tarball without its version, so it stays valid
# release after release.
built=$(mktemp -d "${TMPDIR:-/tmp}/vbem-ee-build.XXXXXX")
trap 'rm -rf "$built"' EXIT
ansible-galaxy collection build --force --output-path "$built" "$root" >/dev/null
cp "$built"/vbem-enterprise_manager-*.tar.gz "$stage/vbem-enterprise_manager.tar.gz"
cp "$here/execution-environment.yml" "$here/requirements.yml" "$stage/"

ansible-builder create --file "$stage/execution-environment.yml" --context "$out/context" --output-filename Containerfile
