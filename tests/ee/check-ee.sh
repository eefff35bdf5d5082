#!/usr/bin/env bash
# The execution-environment test (`scripts/test.sh ee`), everything short of a
# container engine:
#  1. make-context.sh writes the ansible-builder build context;
#  2. the context holds the collection built from this checkout, with its
#     requirements and meta/execution-environment.yml, and a Containerfile
#     that installs it and runs ansible-builder's introspection;
#  3. that introspection, run here with the context's own script on the
#     collection installed from the context's tarball, yields our Python
#     requirements, as it will inside the build;
#  4. the EE smoke playbook (all.yml) passes against that installed copy.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/vbem-ee.XXXXXX")
trap 'rm -rf "$work"' EXIT

"$here/make-context.sh" "$work" >/dev/null
context=$work/context
tarball=$context/_build/src/vbem-enterprise_manager.tar.gz

python - "$root" "$context" "$tarball" <<'PY'
import sys, tarfile, yaml
root, context, tarball = sys.argv[1:]
problems = []
requirements = yaml.safe_load(open(context + '/_build/requirements.yml'))
if requirements != {'collections': [{'name': 'src/vbem-enterprise_manager.tar.gz', 'type': 'file'}]}:
    problems.append('_build/requirements.yml does not install the staged collection: %r' % requirements)
containerfile = open(context + '/Containerfile').read()
for needle in ('ansible-galaxy collection install $ANSIBLE_GALAXY_CLI_COLLECTION_OPTS -r requirements.yml',
               'introspect.py introspect', 'ansible-core==2.19.14', 'ansible-runner==2.4.3'):
    if needle not in containerfile:
        problems.append('the Containerfile lacks %r' % needle)
with tarfile.open(tarball) as tar:
    names = set(tar.getnames())
    for member in ('MANIFEST.json', 'meta/execution-environment.yml', 'requirements.txt', 'meta/runtime.yml'):
        if member not in names:
            problems.append('the collection tarball lacks %s' % member)
        elif member != 'MANIFEST.json' and tar.extractfile(member).read() != open(root + '/' + member, 'rb').read():
            problems.append('%s in the tarball differs from the checkout' % member)
for problem in problems:
    print('ee: ' + problem, file=sys.stderr)
print('ee: build context: Containerfile, _build/requirements.yml and the collection tarball check out')
sys.exit(1 if problems else 0)
PY

# Installed where the Containerfile's galaxy stage puts it, in a folder of
# our own; a configured path keeps ansible-galaxy from warning about it.
collections=$work/collections
ANSIBLE_COLLECTIONS_PATH=$collections ansible-galaxy collection install --offline -p "$collections" "$tarball" >/dev/null
python "$context/_build/scripts/introspect.py" introspect --write-pip="$work/pip.txt" --write-bindep="$work/bindep.txt" "$collections" >/dev/null
python - "$root/requirements.txt" "$work/pip.txt" "$work/bindep.txt" <<'PY'
import sys
ours, pip, bindep = sys.argv[1:]
def lines(path):
    try:
        with open(path) as handle:
            return [line.split('#')[0].strip() for line in handle if line.split('#')[0].strip()]
    except FileNotFoundError:  # introspection writes no file when it finds nothing
        return []
expected, found = lines(ours), lines(pip)
print('ee: introspection of the built collection: python %s, system %s' % (found, lines(bindep)))
if sorted(found) != sorted(expected):
    print('ee: introspection found %r, requirements.txt says %r' % (found, expected), file=sys.stderr)
    sys.exit(1)
PY

# The smoke playbook must pass against the built collection only.
(cd "$here" && ANSIBLE_COLLECTIONS_PATH=$collections ansible-playbook all.yml)
