"""The one client of the emulator's /_emulator control endpoints, for shell scripts, drivers and integration targets.

    python tests/emulator/control.py tamper set '{"rules": [{"order": "reverse"}]}'
    python tests/emulator/control.py tamper show
    python tests/emulator/control.py tamper clear
    python tests/emulator/control.py faults set '{"fail_next": 1}'
    python tests/emulator/control.py faults clear
    python tests/emulator/control.py stats
    python tests/emulator/control.py stats --key logons
    python tests/emulator/control.py catalog
    python tests/emulator/control.py sessions set '{"type": "BackupTaskSession", "vm_name": "db-07"}'
    python tests/emulator/control.py window 7d

The emulator is found through ``--url`` and ``--ca-file`` or, by default,
``VEEAM_EM_URL`` and ``VEEAM_EM_CA_PATH`` (what ``emulator-env.sh`` exports).
The answer's JSON goes to stdout (``--key K``: only its key K, text as it
is); a refused request prints the emulator's sentence on stderr and exits 1.
``window AGE`` prints the emulator's clock minus AGE (``7d``, ``12h``, ``30m``)
as EM writes times: a window start that a module and a direct query can
share. Standard library only, and no package imports, so it runs as a plain
script from anywhere; Python code imports it and calls :func:`control`.
"""

import argparse
import datetime
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
    ('actions', 'show'): 'GET', ('actions', 'set'): 'POST', ('window', None): 'GET',
}
_AGE_UNITS = {'w': 'weeks', 'd': 'days', 'h': 'hours', 'm': 'minutes', 's': 'seconds'}


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


def control(endpoint, body=None, method=None, url=None, ca_file=None):
    """One control request to the emulator of ``VEEAM_EM_URL`` (or ``url``); returns the answer, raises on a refusal.

    ``method`` defaults to POST with a body and GET without one.
    """
    url = url or os.environ['VEEAM_EM_URL']
    ca_file = ca_file or os.environ.get('VEEAM_EM_CA_PATH')
    method = method or ('GET' if body is None else 'POST')
    status, answer = call(url, endpoint, method, body, ca_file)
    if status != 200:
        raise RuntimeError('emulator %s /_emulator/%s refused (HTTP %d): %s' % (method, endpoint, status, answer.get('error', answer)))
    return answer


def window_start(age, url=None, ca_file=None):
    """The emulator's clock minus ``age`` (``7d``, ``12h``, ``1d12h``), as ``YYYY-MM-DDTHH:MM:SSZ``."""
    parts = {}
    number = ''
    for char in age.strip():
        if char.isdigit():
            number += char
        elif char in _AGE_UNITS and number:
            parts[_AGE_UNITS[char]] = int(number)
            number = ''
        else:
            raise ValueError('the age %r is not a whole number of w, d, h, m or s' % age)
    if number or not parts:
        raise ValueError('the age %r is not a whole number of w, d, h, m or s' % age)
    clock = datetime.datetime.strptime(control('catalog', url=url, ca_file=ca_file)['clock'][:19], '%Y-%m-%dT%H:%M:%S')
    return (clock - datetime.timedelta(**parts)).strftime('%Y-%m-%dT%H:%M:%SZ')


def main(argv=None):
    parser = argparse.ArgumentParser(prog='control.py', description='Drive the EM emulator\'s control endpoints.')
    parser.add_argument('--url', default=os.environ.get('VEEAM_EM_URL'), help='emulator URL (default: $VEEAM_EM_URL)')
    parser.add_argument('--ca-file', default=os.environ.get('VEEAM_EM_CA_PATH'),
                        help='CA of the emulator certificate (default: $VEEAM_EM_CA_PATH)')
    parser.add_argument('endpoint', choices=sorted({endpoint for endpoint, _action in _ACTIONS}))
    parser.add_argument('action', nargs='?', help='set, show or clear (window: the age, such as 7d)')
    parser.add_argument('body', nargs='?', help='JSON body for "set"')
    parser.add_argument('--key', help='print only this key of the answer')
    args = parser.parse_args(argv)
    if not args.url:
        parser.error('give --url or set VEEAM_EM_URL')
    if args.endpoint == 'window':
        if not args.action or args.body is not None:
            parser.error('window takes one age, such as 7d')
        try:
            sys.stdout.write(window_start(args.action, args.url, args.ca_file) + '\n')
        except (ValueError, RuntimeError) as exc:
            sys.stderr.write('%s\n' % exc)
            return 1
        return 0
    action = args.action
    if action not in (None, 'set', 'show', 'clear'):
        parser.error('the action must be set, show or clear, not %r' % action)
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
    if args.key is not None:
        if args.key not in answer:
            sys.stderr.write('the %s answer has no key %r\n' % (args.endpoint, args.key))
            return 1
        answer = answer[args.key]
        if isinstance(answer, str):
            sys.stdout.write(answer + '\n')
            return 0
    sys.stdout.write(json.dumps(answer, indent=2, ensure_ascii=False) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
