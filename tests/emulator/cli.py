"""Command line: parse options, generate data, serve until SIGTERM/SIGINT."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time

from .auth import parse_users
from .data import Dataset, data_anchor
from .query import parse_datetime
from .server import EmulatorServer, make_ssl_context

CERT_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'certs')
DEFAULT_USERNAME = 'administrator'
DEFAULT_PASSWORD = 'emulator'


def _now(text):
    try:
        return parse_datetime(text)
    except ValueError:
        raise argparse.ArgumentTypeError('expected an ISO-8601 UTC time such as 2025-08-15T06:00:00Z') from None


def _users(text):
    try:
        return parse_users(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def build_parser():
    """The argument parser (also used by the README's option list)."""
    parser = argparse.ArgumentParser(prog='python tests/emulator', description='Veeam Backup Enterprise Manager REST API emulator.')
    add = parser.add_argument
    add('--host', default='127.0.0.1', help='address to listen on (default 127.0.0.1; use ::1 for IPv6)')
    add('--port', type=int, default=0, help='TCP port; 0 picks a free one (default 0)')
    add('--seed', type=int, default=1, help='seed of the generated data and of fault decisions (default 1)')
    add('--sessions', type=int, default=2000, help='approximate number of task sessions to generate (default 2000)')
    add('--vms', type=int, default=None,
        help='number of distinct VMs, all in nightly backup jobs (default: about 2.5 %% of --sessions); '
             '--sessions then sets the nights of history (3 to 28)')
    add('--running-finish-after', type=float, default=None, metavar='SECONDS',
        help='sessions running at start finish this many seconds after start (default: never)')
    add('--now', type=_now, default=None, help='anchor time of the data, ISO-8601 UTC (default: now, truncated to the hour)')
    add('--data-lag', type=float, default=0.0, metavar='HOURS',
        help='anchor the generated data this many hours before --now (or the current hour) while the clock keeps '
             'running from --now or the wall clock: rows a test adds minutes or an hour ago are then newer than '
             'every generated one (default 0)')
    add('--username', default=DEFAULT_USERNAME, help='accepted user name, case-insensitive (default %s)' % DEFAULT_USERNAME)
    add('--password', default=DEFAULT_PASSWORD, help='accepted password (default %s)' % DEFAULT_PASSWORD)
    add('--users', type=_users, default=(), metavar='NAME:PASSWORD:ROLE,...',
        help='more accounts with EM roles: PortalAdministrator, PortalUser (may run Quick Backup) or RestoreOperator '
             '(neither quick backup nor job start); --username/--password stay a Portal Administrator')
    add('--action-duration', type=float, default=5.0, metavar='SECONDS',
        help='seconds a quick backup or a started job runs on the backup server (default 5; also POST /_emulator/actions)')
    add('--collection-lag', type=float, default=0.0, metavar='SECONDS',
        help='seconds before EM sees a finished quick backup or job run (task OperationFinished, no restore point yet) '
             'unless ?action=collect runs (default 0)')
    add('--no-tls', action='store_true', help='serve plain HTTP instead of HTTPS')
    add('--cert', default=os.path.join(CERT_DIR, 'server.pem'), help='server certificate (PEM)')
    add('--key', default=os.path.join(CERT_DIR, 'server-key.pem'), help='server private key (PEM)')
    add('--ca-file', default=os.path.join(CERT_DIR, 'ca.pem'), help='CA certificate reported in the start-up line')
    add('--idle-timeout', type=float, default=900.0, help='seconds before an unused logon session expires (default 900)')
    add('--max-logon-sessions', type=int, default=50, help='concurrent logon sessions before logons are refused (default 50)')
    add('--default-page-size', type=int, default=100, help='query page size when pageSize is not sent (default 100)')
    add('--empty-pages-count', type=int, choices=(0, 1), default=0, help='PagesCount of an empty query result (default 0)')
    add('--url-max-length', type=int, default=16384, help='longest accepted request target; longer gets 414 (default 16384)')
    add('--bom', action='store_true', help='prefix JSON bodies with a UTF-8 byte order mark')
    add('--camel-case', action='store_true', help='emit camelCase JSON keys (the EM 13 hypothesis)')
    add('--xml-only', action='store_true', help='answer XML even when JSON is asked for, as pre-9.5 U4 servers and some proxies do')
    add('--fix-cdp-href', action='store_true', help='give CDP task session entities a /cdpReplicaTaskSessions/ Href')
    add('--verbose', action='store_true', help='access log and start-up timing on stderr')
    return parser


def main(argv=None):
    """Run the emulator; returns the process exit code."""
    parser = build_parser()
    options = parser.parse_args(argv)
    for name in ('sessions', 'max_logon_sessions', 'default_page_size', 'url_max_length'):
        if getattr(options, name) < 1:
            parser.error('--%s must be at least 1' % name.replace('_', '-'))
    if options.idle_timeout <= 0:
        parser.error('--idle-timeout must be positive')
    if options.vms is not None and options.vms < 10:
        parser.error('--vms must be at least 10 (the ten special VM names are always generated)')
    for name in ('action_duration', 'collection_lag'):
        if not 0 <= getattr(options, name) < 86400:
            parser.error('--%s must be a number of seconds from 0 to 86400' % name.replace('_', '-'))
    if options.running_finish_after is not None and not 0 <= options.running_finish_after < float('inf'):
        parser.error('--running-finish-after must be a number of seconds, 0 or more')
    if not 0 <= options.data_lag <= 240:
        parser.error('--data-lag must be a number of hours from 0 to 240')
    started = time.monotonic()
    dataset = Dataset(options.seed, options.sessions, data_anchor(options.now, options.data_lag), options.vms)
    context = None if options.no_tls else make_ssl_context(options.cert, options.key)
    server = EmulatorServer((options.host, options.port), dataset, options, context)
    host = server.server_address[0]
    shown = '[%s]' % host if ':' in host else host
    scheme = 'http' if options.no_tls else 'https'
    if options.verbose:
        tasks = sum(len(dataset.rows[kind]) for kind in ('BackupTaskSession', 'ReplicaTaskSession', 'CdpReplicaTaskSession'))
        sys.stderr.write('emulator: %d task sessions generated, listening after %.2f s\n' % (tasks, time.monotonic() - started))
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_args: stop.set())
    signal.signal(signal.SIGINT, lambda *_args: stop.set())
    thread = threading.Thread(target=server.serve_forever, kwargs={'poll_interval': 0.2}, daemon=True)
    thread.start()
    line = {'url': '%s://%s:%d' % (scheme, shown, server.server_address[1]), 'username': options.username,
            'password': options.password, 'ca_file': None if options.no_tls else os.path.abspath(options.ca_file)}
    try:
        sys.stdout.write(json.dumps(line) + '\n')
        sys.stdout.flush()
        while not stop.wait(0.5):
            pass
    finally:
        server.shutdown()
        server.server_close()
    return 0
