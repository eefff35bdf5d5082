# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright (c) 2026, vbem.enterprise_manager contributors
"""Hundreds of module and lookup calls under seeded random faults, then the emulator's books must balance.

Usage: python fault_matrix.py RESULTS_JSON [SEED]
(emulator from VEEAM_EM_URL / _USERNAME / _PASSWORD / _CA_PATH; collections from ANSIBLE_COLLECTIONS_PATH)

The calls run the collection's real modules and lookup in four worker
processes: a module through AnsibleModule with its arguments patched in (as
``ansible.module_utils.testing`` does), the lookup through Ansible's plugin
loader. Phases set the emulator's faults - every 5xx, 500s on the logoff,
503s on the logon, dropped connections and dropped answers, latency below
and above ``timeout``, sessions expired mid-run, the logon cap reached -
and a seeded RNG picks each phase's calls.

Then: every logon must be logged off or expired on purpose, except those
whose answer was lost on the way (injected on purpose, counted apart as
"lost"): ``logons == logoffs + expired + lost`` and no session we received
is left open. Every failure must be one sentence: one line, no traceback, no
secret, at most about 200 characters of any URL.
"""

import base64
import contextlib
import io
import json
import multiprocessing
import os
import random
import re
import ssl
import sys
import threading
import time
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, '..', 'setup_emulator'))
import scan_secrets  # noqa: E402  pylint: disable=wrong-import-position
sys.path.insert(0, os.path.dirname(os.environ['EMULATOR_CONTROL']))
from control import control  # noqa: E402  pylint: disable=wrong-import-position  # the one emulator control client

URL = os.environ['VEEAM_EM_URL']
USERNAME = os.environ['VEEAM_EM_USERNAME']
PASSWORD = os.environ['VEEAM_EM_PASSWORD']
CONTEXT = ssl.create_default_context(cafile=os.environ['VEEAM_EM_CA_PATH'])
COLLECTION = 'ansible_collections.vbem.enterprise_manager.plugins.modules.'
LOGON_ROUTE = 'POST /api/sessionMngr/'
LOGOFF_ROUTE = 'DELETE /api/logonSessions/{id}'
QUERY_ROUTE = 'GET /api/query'
WORKERS = 8
URL_IN_TEXT = re.compile(r'https?://\S+')


def faults(**settings):
    settings['clear'] = True
    return control('faults', settings)


# -- what one call is, run in a worker process ---------------------------------------------------------

_LOOKUP = []


def _lookup():
    if not _LOOKUP:
        from ansible.parsing.dataloader import DataLoader
        from ansible.plugins.loader import lookup_loader
        _LOOKUP.append(lookup_loader.get('vbem.enterprise_manager.em_query', loader=DataLoader(), templar=None))
    return _LOOKUP[0]


def run_module(name, args):
    """Run a module's main() in this process; returns its result dict (a traceback becomes a result too)."""
    import importlib
    from ansible.module_utils.testing import patch_module_args
    out = io.StringIO()
    try:
        with patch_module_args(args), contextlib.redirect_stdout(out):
            try:
                importlib.import_module(COLLECTION + name).main()
            except SystemExit:
                pass
        return json.loads(out.getvalue())
    except Exception as exc:  # pylint: disable=broad-except  # a crash is a finding, not an abort
        import traceback
        return {'failed': True, 'msg': 'CRASH ' + traceback.format_exc(), 'crash': True, 'stdout': out.getvalue()[:500]}


def run_lookup(terms, kwargs):
    """Run the lookup in this process; returns a result dict shaped like a module's."""
    from ansible.errors import AnsibleError
    try:
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            found = _lookup().run(terms, variables={}, **kwargs)
        return {'failed': False, 'count': len(found)}
    except AnsibleError as exc:
        return {'failed': True, 'msg': str(exc)}
    except Exception:  # pylint: disable=broad-except
        import traceback
        return {'failed': True, 'msg': 'CRASH ' + traceback.format_exc(), 'crash': True}


def run_workflow(connection):
    """logon, three module calls and a lookup on its token, logoff: five calls on one logon."""
    results = [('module logon', run_module('logon', dict(connection)))]
    token = results[0][1].get('session_token')
    if token:
        with_token = dict(connection, session_token=token)
        results.append(('module backup_task_session_info', run_module('backup_task_session_info', dict(with_token, limit=10))))
        results.append(('module job_session_info', run_module('job_session_info', dict(with_token, type='replica', limit=5))))
        results.append(('module cdp_task_session_info', run_module('cdp_task_session_info', dict(with_token, limit=5))))
        results.append(('lookup em_query', run_lookup(['BackupJobSession'], dict(connection, session_token=token, limit=5))))
        results.append(('module logoff', run_module('logoff', dict(connection, session_token=token))))
    for _name, result in results:
        result.pop('session_token', None)  # the driver never keeps a token
    return results


def run_call(call):
    """One call of the matrix: ``(phase, kind, name, args)``; returns a list of (label, result, seconds)."""
    phase, kind, name, args = call
    started = time.monotonic()
    if kind == 'workflow':
        results = run_workflow(args)
    elif kind == 'module':
        results = [('module ' + name, run_module(name, args))]
    else:
        results = [('lookup em_query', run_lookup(name, args))]
    seconds = time.monotonic() - started
    return [dict(phase=phase, call=label, failed=bool(result.get('failed')), msg=result.get('msg'),
                 warnings=result.get('warnings') or [], crash=bool(result.get('crash')), seconds=round(seconds, 2))
            for label, result in results]


# -- the matrix ------------------------------------------------------------------------------------------

def pick_calls(rng, phase, count, timeout=5, retries=2, **extra):
    """``count`` calls of random kinds for a phase; ``extra`` options go to every call."""
    calls = []
    for _index in range(count):
        roll = rng.random()
        if roll < 0.15:
            kind, name = 'module', 'backup_task_session_info'
            args = dict(result=['Failed', 'Warning'], limit=rng.choice([5, 20, 40]), page_size=10)
        elif roll < 0.27:
            kind, name, args = 'module', 'replica_task_session_info', dict(limit=10, page_size=5)
        elif roll < 0.37:
            kind, name, args = 'module', 'cdp_task_session_info', dict(limit=10)
        elif roll < 0.5:
            kind, name, args = 'module', 'job_session_info', dict(type=rng.choice(['backup', 'replica', 'cdp']), limit=10)
        elif roll < 0.85:
            kind, name = 'lookup', [rng.choice(['BackupTaskSession', 'ReplicaTaskSession', 'BackupJobSession'])]
            args = dict(limit=rng.choice([5, 30]), page_size=5)
        else:
            kind, name, args = 'lookup', ['Job'], dict(limit=10)
        args.update(timeout=timeout, retries=retries)
        args.update(extra)
        calls.append((phase, kind, name, args))
    return calls


class Holder(object):
    """Logon sessions the driver holds itself, to fill EM's cap; logged off by the driver."""

    def __init__(self):
        self.sessions = []

    def logon(self):
        auth = base64.b64encode(('%s:%s' % (USERNAME, PASSWORD)).encode()).decode()
        request = urllib.request.Request(URL + '/api/sessionMngr/?v=latest', data=b'', method='POST',
                                         headers={'Authorization': 'Basic ' + auth, 'Accept': 'application/json'})
        try:
            with urllib.request.urlopen(request, context=CONTEXT, timeout=10) as answer:
                body = json.loads(answer.read().decode('utf-8-sig'))
                self.sessions.append((answer.headers['X-RestSvcSessionId'], body['SessionId']))
                return True
        except urllib.error.HTTPError:
            return False

    def fill(self):
        while self.logon():
            pass

    def release(self, count=None):
        for _index in range(len(self.sessions) if count is None else count):
            token, session_id = self.sessions.pop()
            request = urllib.request.Request(URL + '/api/logonSessions/' + session_id, method='DELETE',
                                             headers={'X-RestSvcSessionId': token})
            urllib.request.urlopen(request, context=CONTEXT, timeout=10).close()


def run_phase(pool, calls, during=None):
    """Run calls across the workers; ``during`` runs in a thread meanwhile and is told when they are done."""
    done = threading.Event()
    helper = threading.Thread(target=during, args=(done,)) if during else None
    if helper:
        helper.start()
    rows = []
    for part in pool.imap_unordered(run_call, calls):
        rows.extend(part)
    done.set()
    if helper:
        helper.join()
    return rows


def main():
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 7
    rng = random.Random(seed)
    from ansible.plugins.loader import init_plugin_loader
    init_plugin_loader()
    # Import what every call needs once, here: the forked workers then start warm.
    _lookup()
    for name in ('backup_task_session_info', 'replica_task_session_info', 'cdp_task_session_info', 'job_session_info', 'logon', 'logoff'):
        __import__(COLLECTION + name)
    import ansible.module_utils.testing  # noqa: F401  pylint: disable=unused-import
    control('reset', {})
    started = time.monotonic()
    rows = []
    lost_injected = 0
    phases = []
    pool = multiprocessing.get_context('fork').Pool(WORKERS)
    try:
        def phase(name, settings, calls, during=None):
            if settings is not None:
                faults(**settings)
            before = time.monotonic()
            part = run_phase(pool, calls, during)
            faults()
            phases.append(dict(phase=name, calls=len(part), failures=sum(1 for row in part if row['failed']),
                               seconds=round(time.monotonic() - before, 1)))
            rows.extend(part)

        phase('no fault', {}, pick_calls(rng, 'no fault', 24))
        for status in (500, 501, 502, 503, 504, 505):
            name = 'random %d on every route' % status
            phase(name, dict(error_rate=0.2, error_status=status), pick_calls(rng, name, 16, retries=2))
        # 501 to 505 reach the logoff in the phases above too.
        for status in (500, 503):
            name = '%d on the logoff, 40%% of the time' % status
            # The default timeout (30 s) gives the logoff its full 15 s: enough for some 17 attempts.
            phase(name, dict(error_routes=[LOGOFF_ROUTE], error_rate=0.4, error_status=status), pick_calls(rng, name, 12, timeout=30))
        phase('503 on the logon', dict(error_routes=[LOGON_ROUTE], error_rate=0.4, error_status=503),
              pick_calls(rng, '503 on the logon', 16))
        phase('connections dropped before EM reads', dict(drop_connections=0.12), pick_calls(rng, 'dropped connections', 24))
        phase('answers dropped on queries and logoffs', dict(drop_routes=[QUERY_ROUTE, LOGOFF_ROUTE], drop_answers=0.15),
              pick_calls(rng, 'dropped answers', 20))
        # One at a time, so that each logon's answer is the one dropped: the logons EM made that nobody saw.
        for _index in range(4):
            lost_injected += 1
            phase('logon answer lost', dict(drop_routes=[LOGON_ROUTE], drop_answers=1), pick_calls(rng, 'logon answer lost', 1))
        phase('latency below timeout', dict(latency_ms=250), pick_calls(rng, 'latency 0.25 s, timeout 1 s', 12, timeout=1))
        phase('latency above timeout', dict(latency_ms=1300), pick_calls(rng, 'latency 1.3 s, timeout 1 s', 8, timeout=1, retries=1))
        phase('logon latency above timeout', dict(logon_latency_ms=1500),
              pick_calls(rng, 'logon latency 1.5 s, timeout 1 s', 8, timeout=1))

        def expire_repeatedly(done):
            while not done.wait(0.35):
                control('faults', {'expire_sessions': True})
        phase('sessions expire mid-run', dict(latency_ms=40), pick_calls(rng, 'sessions expire mid-run', 24, page_size=5),
              during=expire_repeatedly)

        holder = Holder()
        holder.fill()
        phase('logon cap reached', None, pick_calls(rng, 'logon cap reached', 8, retries=2))

        def release_some(done):
            time.sleep(0.3)
            holder.release(WORKERS)
        phase('logon cap, freed during retries', None, pick_calls(rng, 'logon cap freed', 8, retries=3), during=release_some)
        holder.release()

        workflows = [('logon, 3 modules, lookup, logoff', 'workflow', None, dict(timeout=5, retries=3)) for _index in range(10)]
        phase('one logon for five calls, 5xx on every route',
              dict(error_rate=0.15, error_status=rng.choice([500, 502, 503, 504])), workflows)
        phase('one logon for five calls, 500 on the logoff',
              dict(error_routes=[LOGOFF_ROUTE], error_rate=0.4, error_status=500),
              [(name, kind, names, dict(args, timeout=30)) for name, kind, names, args in workflows[:6]])
        mixed = pick_calls(rng, 'everything at once', 40, timeout=2)
        phase('everything at once', dict(error_rate=0.1, error_status=rng.choice([500, 502, 503, 504]), drop_connections=0.05,
                                         latency_ms=60), mixed)
    finally:
        pool.close()
        pool.join()
        faults()

    time.sleep(0.5)
    stats = control('stats')
    # A logon whose answer was dropped on purpose is never used: EM made it, nobody saw it. Some of them
    # may have been expired by the expiry phase since, so they are taken out of the expired count.
    lost = stats['never_used_sessions']
    expired_on_purpose = stats['expired_sessions'] - (lost - stats['active_never_used'])
    leaked = stats['logons'] - stats['logoffs'] - expired_on_purpose - lost
    balanced = leaked == 0 and stats['active_sessions'] == stats['active_never_used']
    session_ids = scan_secrets.session_ids_from_access_log(os.path.join(os.environ.get('EMULATOR_DIR', '.'), 'stderr.log'))
    problems = []
    for row in rows:
        texts = ([row['msg']] if row['failed'] and row['msg'] else []) + list(row['warnings'])
        if row['crash']:
            problems.append('%s (%s) crashed: %s' % (row['call'], row['phase'], row['msg']))
            continue
        if row['failed'] and not row['msg']:
            problems.append('%s (%s) failed without a message' % (row['call'], row['phase']))
        for text in texts:
            if '\n' in text or 'Traceback' in text:
                problems.append('%s (%s): not one sentence: %r' % (row['call'], row['phase'], text[:300]))
            for url in URL_IN_TEXT.findall(text):
                if len(url) > 220:
                    problems.append('%s (%s): a URL of %d characters in %r' % (row['call'], row['phase'], len(url), text[:120]))
            for leak in scan_secrets.leaks(text, PASSWORD, session_ids):
                problems.append('%s (%s): %s' % (row['call'], row['phase'], leak.replace('line 1 ', '')))
    failures = [row for row in rows if row['failed']]
    summary = {
        'seed': seed, 'calls': len(rows), 'module_calls': sum(1 for row in rows if row['call'].startswith('module')),
        'lookup_calls': sum(1 for row in rows if row['call'].startswith('lookup')), 'failures': len(failures),
        'logons': stats['logons'], 'logoffs': stats['logoffs'], 'expired_on_purpose': expired_on_purpose,
        'reported_unclosed': sum(1 for row in rows for text in [row['msg'] or ''] + row['warnings']
                                 if 'may stay open' in text or 'could not be logged off' in text),
        'lost_answer_logons': lost, 'lost_answer_logons_injected': lost_injected, 'leaked_logons': leaked,
        'books_balance': balanced, 'seconds': round(time.monotonic() - started, 1),
        'requests': stats['requests_total'], 'injected_errors': stats['injected_errors'],
        'dropped_connections': stats['dropped_connections'], 'dropped_answers': stats.get('dropped_answers'),
        'phases': phases, 'problems': problems,
        'failure_kinds': sorted(set(re.sub(r'https?://\S+', 'URL', row['msg'] or '')[:110] for row in failures)),
    }
    with open(sys.argv[1], 'w') as handle:
        json.dump(dict(summary, rows=rows), handle, indent=2)

    print('%-45s %6s %9s %8s' % ('phase', 'calls', 'failures', 'seconds'))
    for item in phases:
        print('%-45s %6d %9d %8.1f' % (item['phase'][:45], item['calls'], item['failures'], item['seconds']))
    print('calls=%(calls)d (modules %(module_calls)d, lookups %(lookup_calls)d) failures=%(failures)d logons=%(logons)d '
          'logoffs=%(logoffs)d expired_on_purpose=%(expired_on_purpose)d lost_answer_logons=%(lost_answer_logons)d '
          '(injected %(lost_answer_logons_injected)d) leaked=%(leaked_logons)d reported_unclosed=%(reported_unclosed)d '
          'requests=%(requests)d seconds=%(seconds)s' % summary)
    print('kinds of failure:')
    for kind in summary['failure_kinds']:
        print('  ' + kind)
    # Expire what was lost on purpose, so the emulator's own leak check at the end balances too.
    control('faults', {'clear': True, 'expire_sessions': True})
    verdict = []
    if summary['calls'] < 300:
        verdict.append('only %d calls' % summary['calls'])
    if leaked or not balanced:
        verdict.append('the books do not balance: %d leaked' % leaked)
    if lost != lost_injected:
        verdict.append('%d logons lost, %d injected' % (lost, lost_injected))
    verdict.extend(problems)
    for item in verdict:
        print('FAILED ' + item, file=sys.stderr)
    return 1 if verdict else 0


if __name__ == '__main__':
    sys.exit(main())
