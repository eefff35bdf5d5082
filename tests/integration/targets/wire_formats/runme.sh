#!/usr/bin/env bash
# The same queries against three emulators holding the same data: JSON as
# EM 12 sends it, XML only (older servers, proxies), and camelCase JSON with
# a byte order mark (the EM 13 hypothesis, v10-era BOMs).  Every module and
# the lookup must return exactly the same results from all three.
set -eux -o pipefail
results=$(mktemp -d "${TMPDIR:-/tmp}/vbem-wire.XXXXXX")
trap 'rm -rf "$results"' EXIT
for variant in json xml camel; do
    case $variant in
        json) args="" ;;
        xml) args="--xml-only" ;;
        camel) args="--camel-case --bom" ;;
    esac
    (
        export EMULATOR_ARGS="--now 2026-01-15T12:00:00Z $args"
        source ../setup_emulator/emulator.sh
        ansible-playbook -i ../../inventory queries.yml -e "results_file=$results/$variant.json" "$@"
    )
done
"${ANSIBLE_TEST_PYTHON_INTERPRETER:-python}" - "$results" <<'PY'
import json, os, sys
folder = sys.argv[1]
loaded = {}
for name in ('json', 'xml', 'camel'):
    with open(os.path.join(folder, name + '.json'), encoding='utf-8') as handle:
        text = handle.read()
    # Each emulator listens on a port of its own, which every href carries.
    base_url = json.loads(text)['base_url']
    loaded[name] = json.loads(text.replace(base_url, 'https://em.example.com:9398'))
for name, value in loaded.items():
    assert all(value.values()), '%s: a query returned nothing, so the comparison would prove little' % name
    for query in value:
        if value[query] == loaded['json'][query]:
            continue
        if not isinstance(value[query], list) or len(value[query]) != len(loaded['json'][query]):
            sys.exit('%s differs between JSON and %s' % (query, name))
        for index, (theirs, ours) in enumerate(zip(value[query], loaded['json'][query])):
            fields = sorted(k for k in set(theirs) | set(ours) if theirs.get(k) != ours.get(k))
            if fields:
                sys.exit('%s differs between JSON and %s: item %d, %s: %r != %r' % (
                    query, name, index, fields[0], ours.get(fields[0]), theirs.get(fields[0])))
print('identical results from JSON, XML and camelCase+BOM for: ' + ', '.join(sorted(loaded['json'])))
PY
