"""A tiny client of the emulator's /_emulator control endpoints, for shell scripts and integration targets.

    python tests/emulator/control.py tamper set '{"rules": [{"order": "reverse"}]}'
    python tests/emulator/control.py tamper show
    python tests/emulator/control.py tamper clear
    python tests/emulator/control.py faults set '{"fail_next": 1}'
    python tests/emulator/control.py faults clear
    python tests/emulator/control.py stats
    python tests/emulator/control.py catalog

The emulator is found through ``--url`` and ``--ca-file`` or, by default,
``VEEAM_EM_URL`` and ``VEEAM_EM_CA_PATH`` (what ``emulator-env.sh`` exports).
The answer's JSON goes to stdout; a refused request prints the emulator's
sentence on stderr and exits 1. Standard library only, and no package
imports, so it runs as a plain script from anywhere.
"""

import argparse
import json
import os
import ssl
import sys
import urllib.error
import urllib.request

# (endpoint, action) -> HTTP method; "set" sends the JSON argument as the body.
_ACTIONS = {
    ('tamper', 'set'): 'POST', ('tamper', 'show'): 'GET', ('tamper', 'clear'): 'DELETE',
    ('faults', 'set'): 'POST', ('faults', 'show'): 'GET', ('faults', 'clear'): 'DELETE',
    ('stats', None): 'GET', ('catalog', None): 'GET', ('reset', None): 'POST',
    ('finish', 'set'): 'POST', ('sessions', 'set'): 'POST', ('points', 'set'): 'POST', ('agent_sessions', 'set'): 'POST',
}


def call(url, endpoint, method='GET', body=None, ca_file=None, timeout=30):
    """Send one control request; returns ``(status, decoded JSON answer)``."""
    target = url.rstrip('/') + '/_emulator/' + endpoint
    data = None if body is None else json.dumps(body).encode('utf-8')
    request = urllib.request.Request(target, data=data, method=method, headers={'Content-Type': 'application/json'})
    context = None
    if target.startswith('https://'):
        context = ssl.create_default_context(cafile=ca_file) if ca_file else ssl.create_default_context()
    try:
        with urllib.request.urlopen(request, timeout=timeout, context=context) as answer:
            return answer.status, json.loads(answer.read().decode('utf-8'))
    except urllib.error.HTTPError as exc:
        text = exc.read().decode('utf-8', 'replace')
        try:
            return exc.code, json.loads(text)
        except ValueError:
            return exc.code, {'error': text.strip()}


def main(argv=None):
    parser = argparse.ArgumentParser(prog='control.py', description='Drive the EM emulator\'s control endpoints.')
    parser.add_argument('--url', default=os.environ.get('VEEAM_EM_URL'), help='emulator URL (default: $VEEAM_EM_URL)')
    parser.add_argument('--ca-file', default=os.environ.get('VEEAM_EM_CA_PATH'),
                        help='CA of the emulator certificate (default: $VEEAM_EM_CA_PATH)')
    parser.add_argument('endpoint', choices=sorted({endpoint for endpoint, _action in _ACTIONS}))
    parser.add_argument('action', nargs='?', choices=('set', 'show', 'clear'))
    parser.add_argument('body', nargs='?', help='JSON body for "set"')
    args = parser.parse_args(argv)
    if not args.url:
        parser.error('give --url or set VEEAM_EM_URL')
    action = args.action
    if (args.endpoint, action) not in _ACTIONS:
        parser.error('%s does not take the action %r' % (args.endpoint, action))
    body = None
    if action == 'set':
        if args.body is None:
            parser.error('"set" needs a JSON body')
        try:
            body = json.loads(args.body)
        except ValueError as exc:
            parser.error('the body is not valid JSON (%s)' % exc)
    elif args.body is not None:
        parser.error('only "set" takes a body')
    status, answer = call(args.url, args.endpoint, _ACTIONS[(args.endpoint, action)], body, args.ca_file)
    if status != 200:
        sys.stderr.write('emulator %s %s refused (HTTP %d): %s\n' % (args.endpoint, action or '', status,
                                                                     answer.get('error', answer)))
        return 1
    sys.stdout.write(json.dumps(answer, indent=2, ensure_ascii=False) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
