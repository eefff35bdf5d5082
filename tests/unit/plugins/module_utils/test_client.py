# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The client: pure parts (messages, masking, backoff, retry decisions, process watching) and, over real HTTPS
against the bundled emulator, retries, timeouts, lost answers, signals and a parent that went away."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import atexit
import base64
import json
import os
import signal
import ssl
import subprocess
import sys
import time
import urllib.request

import pytest

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import client as client_module
from ansible_collections.vbem.enterprise_manager.plugins.module_utils import lifecycle
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import (
    EmError, EmInterrupted, mask_guids_after, mask_session_id, scrub, shorten_url,
)
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.options import EmOptionAdapter

pytestmark = pytest.mark.skipif(not client_module.HAS_REQUESTS, reason='requests is not installed')

PASSWORD = 'Pa55-w0rd;"secret"'
SESSION_ID = '44cfbdbe-5a95-4156-8867-91f069b7c2cc'
TOKEN = 'NDRjZmJkYmUtNWE5NS00MTU2LTg4NjctOTFmMDY5YjdjMmNj'
COLLECTION_ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..', '..'))
EMULATOR = os.path.join(COLLECTION_ROOT, 'tests', 'emulator')


class StubResponse(object):
    """Just the attributes EmClient reads from a response, to test message building."""

    def __init__(self, status, content, reason='Reason'):
        self.status_code = status
        self.content = content
        self.reason = reason


def make_client(**kwargs):
    options = dict(url='https://em.example.com', username='admin', password=PASSWORD)
    options.update(kwargs)
    return client_module.get_client(EmOptionAdapter.from_dict(options))


# -- messages -------------------------------------------------------------------------------

def test_error_names_url_status_and_em_message_in_one_sentence():
    client = make_client()
    body = b'{"FirstChanceExceptionMessage":null,"Message":"Query type NoSuchType is unknown.","StackTrace":null,"StatusCode":400}'
    error = client._error('GET', 'https://em.example.com:9398/api/query?type=NoSuchType', StubResponse(400, body))
    text = str(error)
    assert text == 'GET https://em.example.com:9398/api/query?type=NoSuchType failed with HTTP 400: Query type NoSuchType is unknown.'
    assert error.status == 400 and error.em_message == 'Query type NoSuchType is unknown.'
    assert '\n' not in text


def test_error_reads_xml_envelope():
    client = make_client()
    body = b'<Error Message="Access denied." StatusCode="403" xmlns="http://www.veeam.com/ent/v1.0"/>'
    assert 'HTTP 403: Access denied.' in str(client._error('GET', 'https://em/api/x', StubResponse(403, body)))


def test_error_never_contains_the_password_even_when_em_echoes_it():
    client = make_client()
    body = ('{"Message": "Logon failed for admin with password ' + PASSWORD.replace('"', '\\"') + '"}').encode()
    text = str(client._error('POST', 'https://em.example.com:9398/api/sessionMngr/?v=latest', StubResponse(401, body)))
    assert PASSWORD not in text and 'HTTP 401' in text and 'credentials were rejected' in text


def test_error_never_contains_the_session_token_nor_its_session_id():
    client = make_client(session_token=TOKEN)
    body = ('{"Message": "Token ' + TOKEN + ' of session ' + SESSION_ID.upper() + ' expired"}').encode()
    text = str(client._error('GET', 'https://em/api/logonSessions/' + SESSION_ID, StubResponse(401, body)))
    assert TOKEN not in text and SESSION_ID not in text.lower()
    assert 'logonSessions/44cfbdbe... failed' in text and 'session token is invalid or expired' in text


def test_error_without_response_names_the_reason():
    client = make_client()
    assert str(client._error('GET', 'https://em/api/query', reason='ConnectTimeout after 4 attempt(s)')) == \
        'GET https://em/api/query failed: ConnectTimeout after 4 attempt(s).'


def test_error_for_a_huge_query_url_shows_at_most_about_200_characters_of_it():
    client = make_client()
    url = 'https://em.example.com:9398/api/query?type=BackupTaskSession&format=Entities&filter=' + 'VmDisplayName%3D%3D%22vm%22%2C' * 400
    text = str(client._error('GET', url, StubResponse(414, b'<HTML>Request URL Too Long</HTML>', 'Request-URI Too Long')))
    assert text.startswith('GET https://em.example.com:9398/api/query?type=BackupTaskSession&... ({0} characters) failed with HTTP 414'.format(len(url)))
    assert len(text) < 260


def test_a_long_em_message_is_cut():
    client = make_client()
    body = json.dumps({'Message': 'Unknown field ' + 'x' * 5000}).encode()
    text = str(client._error('GET', 'https://em/api/query', StubResponse(400, body)))
    assert len(text) < 330 and text.endswith('xxx... (5014 characters).')


def test_scrub_replaces_every_secret():
    assert scrub('a hunter2 b hunter2', ['hunter2', None, '']) == 'a ******** b ********'


def test_scrub_shortens_session_ids_in_any_case():
    text = 'DELETE /logonSessions/{0} and {1}'.format(SESSION_ID, SESSION_ID.upper())
    assert scrub(text, [], [SESSION_ID]) == 'DELETE /logonSessions/44cfbdbe... and 44cfbdbe...'


def test_mask_session_id_keeps_eight_characters():
    assert mask_session_id(SESSION_ID) == '44cfbdbe...' and mask_session_id(None) == ''


def test_guids_after_logon_sessions_are_masked_even_when_unknown():
    text = 'see https://em/api/logonSessions/0F9A5C1E-0000-4000-8000-000000000001 and backupSessions/' + SESSION_ID
    assert mask_guids_after(text) == 'see https://em/api/logonSessions/0F9A5C1E... and backupSessions/' + SESSION_ID


@pytest.mark.parametrize('url', ['https://em:9398/api/query?type=Job', 'x' * 200])
def test_short_urls_are_shown_whole(url):
    assert shorten_url(url) == url


def test_long_url_keeps_scheme_host_path_first_parameter_and_length():
    url = 'https://em:9398/api/query?type=BackupTaskSession&filter=' + 'a' * 12345
    assert shorten_url(url) == 'https://em:9398/api/query?type=BackupTaskSession&... ({0} characters)'.format(len(url))


def test_long_url_without_query_is_cut_to_the_limit():
    url = 'https://em:9398/api/' + 'p' * 500
    shown = shorten_url(url)
    assert len(shown) <= 200 and shown.endswith('... (520 characters)') and shown.startswith('https://em:9398/api/ppp')


def test_retry_warning_for_a_logoff_masks_the_session_id():
    client = make_client()
    client._session_ids.append(SESSION_ID)
    client._note_retry('DELETE', 'https://em:9398/api/logonSessions/' + SESSION_ID, 'HTTP 500', 0)
    assert client.warnings == ['Retrying DELETE https://em:9398/api/logonSessions/44cfbdbe... after HTTP 500 (attempt 2).']


@pytest.mark.parametrize('text, expected', [
    ("('Connection aborted.', RemoteDisconnected('Remote end closed connection without response'))",
     'RemoteDisconnected: Remote end closed connection without response'),
    ("('Connection aborted.', ConnectionResetError(104, 'Connection reset by peer'))", 'Connection reset by peer'),
])
def test_dropped_connections_are_reduced_to_their_reason(text, expected):
    assert expected in client_module._short(Exception(text))


# -- backoff, time budgets and retry decisions ------------------------------------------------------

def test_backoff_grows_exponentially_and_is_capped():
    delays = [client_module.backoff_delay(n, base=0.5, maximum=10, rand=lambda: 0) for n in range(8)]
    assert delays[:4] == [0.5, 1.0, 2.0, 4.0] and max(delays) == 10


def test_backoff_adds_bounded_jitter():
    assert client_module.backoff_delay(1, base=0.5, maximum=10, rand=lambda: 0.999) < 1.5
    assert client_module.backoff_delay(1, base=0.5, maximum=10, rand=lambda: 0.0) == 1.0


@pytest.mark.parametrize('attempt', range(12))
def test_logoff_backoff_never_exceeds_its_cap(attempt):
    delay = client_module.backoff_delay(attempt, client_module.LOGOFF_BACKOFF_BASE, client_module.LOGOFF_BACKOFF_MAX,
                                        rand=lambda: 0.999999)
    assert client_module.LOGOFF_BACKOFF_BASE <= delay <= client_module.LOGOFF_BACKOFF_MAX


@pytest.mark.parametrize('timeout, logon, connect, logoff', [
    (30, 60, 10, 15), (1, 30, 1, 5), (0.5, 30, 0.5, 5), (8, 30, 8, 8), (100, 200, 10, 15),
])
def test_time_budgets(timeout, logon, connect, logoff):
    assert client_module.logon_read_timeout(timeout) == logon
    assert client_module.connect_timeout(timeout) == connect
    assert client_module.logoff_budget(timeout) == logoff


LOGON, READ, LOGOFF = client_module.may_retry_logon, client_module.may_retry_read, client_module.may_retry_logoff


@pytest.mark.parametrize('outcome, status, logon, read, logoff', [
    (None, 503, True, True, True),
    (None, 500, False, False, True),
    (None, 502, False, True, True),
    (None, 504, False, True, True),
    (None, 501, False, False, True),
    (None, 400, False, False, False),
    (None, 401, False, False, False),
    (None, 404, False, False, False),
    (client_module.NOT_SENT, None, True, True, True),
    (client_module.TIMED_OUT, None, False, True, True),
    (client_module.DROPPED, None, False, True, True),
    (client_module.TLS, None, False, False, False),
    (client_module.OTHER, None, False, False, False),
])
def test_retry_decisions(outcome, status, logon, read, logoff):
    assert (LOGON(outcome, status), READ(outcome, status), LOGOFF(outcome, status)) == (logon, read, logoff)


# -- client state ----------------------------------------------------------------------------------

def test_cookie_policy_blocks_everything():
    policy = client_module.BlockAllCookies()
    assert not policy.set_ok(None, None) and not policy.return_ok(None, None)


def test_client_session_never_stores_cookies():
    client = make_client()
    assert isinstance(client._http.cookies.get_policy(), client_module.BlockAllCookies)


def test_verify_prefers_ca_path_then_validate_certs(tmp_path):
    bundle = tmp_path / 'ca.pem'
    bundle.write_text(u'-----BEGIN CERTIFICATE-----\n')
    assert make_client(ca_path=str(bundle)).verify == str(bundle)
    assert make_client(validate_certs=False).verify is False
    assert make_client().verify is True


def test_caller_token_is_not_owned():
    assert make_client(session_token=TOKEN, username=None, password=None).owns_session is False
    assert make_client().owns_session is True


def test_token_decodes_to_session_id_on_v10_plus():
    assert client_module._token_to_session_id(TOKEN) == SESSION_ID
    assert client_module._token_to_session_id('O9Msj3rq7EGUhtSMBQx+mw==') is None


def test_get_client_rejects_bad_options_before_any_request():
    with pytest.raises(EmError, match='Either username and password or session_token'):
        client_module.get_client(EmOptionAdapter.from_dict({'url': 'https://em'}))


UNTRUSTED = ("HTTPSConnectionPool(host='127.0.0.1', port=41545): Max retries exceeded with url: /api/sessionMngr/?v=latest "
             "(Caused by SSLError(SSLCertVerificationError(1, '[SSL: CERTIFICATE_VERIFY_FAILED] certificate verify failed: "
             "unable to get local issuer certificate (_ssl.c:1006)')))")
WRONG_PROTOCOL = ("HTTPSConnectionPool(host='127.0.0.1', port=9399): Max retries exceeded with url: /api/ "
                  "(Caused by SSLError(SSLError(1, '[SSL: WRONG_VERSION_NUMBER] wrong version number (_ssl.c:1006)')))")


def test_untrusted_certificate_names_openssl_reason_and_the_fix():
    message = client_module._tls_failure(Exception(UNTRUSTED))
    assert message.startswith('TLS certificate verification failed (certificate verify failed: unable to get local issuer certificate)')
    assert 'ca_path' in message and 'validate_certs' in message


def test_tls_failure_that_is_not_about_certificates_does_not_suggest_ca_path():
    message = client_module._tls_failure(Exception(WRONG_PROTOCOL))
    assert message == 'TLS handshake failed (wrong version number)'


def test_tls_failure_without_openssl_text_keeps_first_line():
    assert client_module._tls_failure(Exception('EOF occurred\nmore')) == 'TLS handshake failed (EOF occurred)'


REFUSED = ("HTTPSConnectionPool(host='127.0.0.1', port=1): Max retries exceeded with url: /api/sessionMngr/?v=latest "
           "(Caused by NewConnectionError(\"HTTPSConnection(host='127.0.0.1', port=1): Failed to establish a new connection: "
           "[Errno 111] Connection refused\"))")
UNRESOLVED = ("HTTPSConnectionPool(host='em.invalid', port=9398): Max retries exceeded with url: /api/ (Caused by "
              "NameResolutionError(\"<urllib3.connection.HTTPSConnection object at 0x7f>: Failed to resolve 'em.invalid' "
              "([Errno -2] Name or service not known)\"))")


def test_connection_failure_is_reduced_to_the_operating_system_reason():
    assert client_module._short(Exception(REFUSED)) == 'Connection refused'
    assert client_module._short(Exception(UNRESOLVED)) == 'Name or service not known'


# -- watching the processes that started us (pure: a fake /proc) -----------------------------------

def test_proc_stat_is_read_after_the_last_parenthesis_of_the_command_name():
    text = '4242 (python3 (x) y) S 4000 4242 4100 0 -1 4194560 1 0 0 0 0 0 0 0 20 0 1 0 987654 1 1'
    info = lifecycle.parse_proc_stat(4242, text)
    assert (info.state, info.ppid, info.session, info.start) == ('S', 4000, 4100, 987654)
    assert lifecycle.parse_proc_stat(1, 'garbage') is None


def fake_proc(table):
    """A reader over {pid: (state, ppid, session, start)}."""
    def reader(pid):
        row = table.get(pid)
        return lifecycle.ProcStat(pid, *row) if row else None
    return reader


# ansible-playbook 100 (session 50, from a shell), worker 200 (setsid), /bin/sh 300, module 400.
ANSIBLE = {50: ('S', 10, 50, 1), 100: ('S', 50, 50, 2), 200: ('S', 100, 200, 3), 300: ('S', 200, 200, 4), 400: ('R', 300, 200, 5)}


def test_a_module_watches_its_shell_the_worker_and_ansible_playbook():
    assert lifecycle.watched_ancestors(400, fake_proc(ANSIBLE)) == [(300, 4), (200, 3), (100, 2)]


def test_a_lookup_in_the_worker_watches_ansible_playbook_only():
    assert lifecycle.watched_ancestors(200, fake_proc(ANSIBLE)) == [(100, 2)]


def test_the_walk_stops_before_pid_1_and_at_the_limit():
    orphan = {400: ('R', 1, 400, 5)}
    assert lifecycle.watched_ancestors(400, fake_proc(orphan)) == []
    chain = dict((pid, ('S', pid - 1, 1, pid)) for pid in range(2, 30))
    assert len(lifecycle.watched_ancestors(29, fake_proc(chain), limit=4)) == 4


def test_without_proc_nothing_is_watched_but_the_parent_pid():
    assert lifecycle.watched_ancestors(400, lambda pid: None) == []


@pytest.mark.parametrize('change, gone', [
    ({}, None),
    ({100: None}, 100),
    ({100: ('Z', 50, 50, 2)}, 100),
    ({200: ('S', 100, 200, 99)}, 200),
])
def test_first_gone_sees_an_ended_a_zombie_or_a_reused_pid(change, gone):
    table = dict(ANSIBLE)
    for pid, row in change.items():
        if row is None:
            del table[pid]
        else:
            table[pid] = row
    assert lifecycle.first_gone([(300, 4), (200, 3), (100, 2)], fake_proc(table)) == gone


# -- against the emulator, over real HTTPS --------------------------------------------------------------

def _die_with_parent():
    """In the emulator's process, before exec: ask Linux for SIGTERM when the test process ends, however it ends."""
    try:
        import ctypes
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


class Emulator(object):
    """The bundled emulator in a subprocess, and its control endpoints."""

    def __init__(self):
        self.proc = subprocess.Popen([sys.executable, EMULATOR, '--port', '0', '--seed', '5', '--sessions', '300'],
                                     stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL,
                                     preexec_fn=_die_with_parent if sys.platform.startswith('linux') else None)
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError('the emulator did not start')
        self.info = json.loads(line.decode('utf-8'))
        self.url = self.info['url']
        self.port = int(self.url.rsplit(':', 1)[1])
        self._context = ssl.create_default_context(cafile=self.info['ca_file'])

    def control(self, name, body=None, method=None):
        data = json.dumps(body).encode('utf-8') if body is not None else None
        request = urllib.request.Request(self.url + '/_emulator/' + name, data=data, method=method or ('POST' if data else 'GET'))
        with urllib.request.urlopen(request, context=self._context, timeout=10) as answer:
            return json.loads(answer.read().decode('utf-8'))

    def faults(self, **settings):
        settings['clear'] = True
        return self.control('faults', settings)

    def stats(self):
        return self.control('stats')

    def options(self, **kwargs):
        options = dict(url=self.url, username=self.info['username'], password=self.info['password'], ca_path=self.info['ca_file'])
        options.update(kwargs)
        return options

    def client(self, **kwargs):
        sleep = kwargs.pop('sleep', time.sleep)
        return client_module.get_client(EmOptionAdapter.from_dict(self.options(**kwargs)), sleep=sleep)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()


_RUNNING = []


def _emulator():
    """The one emulator of this test process, started on first use and stopped when the process ends.

    ansible-test runs every test in a forked child whose fixture teardown
    never runs, so the emulator belongs to the process that forks: it is
    started at import time (see below), and dies with that process.
    """
    if not _RUNNING:
        _RUNNING.append(Emulator())
        atexit.register(_RUNNING[0].stop)
    return _RUNNING[0]


if client_module.HAS_REQUESTS:
    _emulator()


@pytest.fixture
def em():
    emulator = _emulator()
    emulator.control('reset', {})
    return emulator


def no_sleep(_seconds):
    """Retries without waiting: the decisions are under test, not the clock."""


def test_logoff_is_retried_through_500s(em):
    em.faults(error_routes=['DELETE /api/logonSessions/{id}'], fail_next=3, fail_status=500)
    client = em.client(sleep=no_sleep)
    with client:
        session_id = client.session_id
        client.query_page('BackupTaskSession', page_size=1)
    stats = em.stats()
    assert (stats['logons'], stats['logoffs'], stats['active_sessions']) == (1, 1, 0)
    assert stats['requests']['DELETE /api/logonSessions/{id}'] == 4
    assert len(client.warnings) == 3 and all('logonSessions/' + session_id[:8] + '... after HTTP 500' in w for w in client.warnings)
    assert not any(session_id in w for w in client.warnings)


def test_logoff_retries_any_5xx_and_dropped_connections(em):
    em.faults(error_routes=['DELETE /api/logonSessions/{id}'], fail_next=1, fail_status=501,
              drop_routes=['DELETE /api/logonSessions/{id}'], drop_connections=1)
    with em.client(sleep=no_sleep) as client:
        client.query_page('BackupTaskSession', page_size=1)
    assert em.stats()['logoffs'] == 1 and len(client.warnings) == 2


def test_logoff_that_keeps_failing_gives_up_within_its_budget_and_warns(em, monkeypatch):
    monkeypatch.setattr(client_module, 'LOGOFF_BUDGET_MIN', 1.5)
    em.faults(error_routes=['DELETE /api/logonSessions/{id}'], error_rate=1.0, error_status=500)
    slept = []

    def sleep(seconds):
        slept.append(seconds)
        time.sleep(seconds)

    client = em.client(timeout=0.5, sleep=sleep)
    with client:
        session_id = client.session_id
    em.faults(expire_sessions=True)
    # The client's own decisions, not the wall clock: it retried, and planned no pause beyond its 1.5 s budget.
    assert em.stats()['requests']['DELETE /api/logonSessions/{id}'] == len(slept) + 1 >= 2
    assert sum(slept) < 1.5
    assert client.warnings[-1].startswith('DELETE {0}/api/logonSessions/{1}... failed with HTTP 500'.format(em.url, session_id[:8]))
    assert client.warnings[-1].endswith("may stay open until EM's idle timeout (15 minutes) ends it.")


def test_logon_is_retried_after_503(em):
    em.faults(error_routes=['POST /api/sessionMngr/'], fail_next=2, fail_status=503)
    with em.client(sleep=no_sleep) as client:
        client.query_page('BackupTaskSession', page_size=1)
    stats = em.stats()
    assert stats['requests']['POST /api/sessionMngr/'] == 3 and stats['logons'] == stats['logoffs'] == 1
    assert [w.split(' after ')[1] for w in client.warnings] == ['HTTP 503 (attempt 2 of 4).', 'HTTP 503 (attempt 3 of 4).']


@pytest.mark.parametrize('status', [500, 502, 504])
def test_logon_is_not_retried_after_other_5xx(em, status):
    em.faults(error_routes=['POST /api/sessionMngr/'], fail_next=1, fail_status=status)
    with pytest.raises(EmError, match='failed with HTTP {0}'.format(status)):
        with em.client(sleep=no_sleep):
            pass
    assert em.stats()['requests']['POST /api/sessionMngr/'] == 1


@pytest.mark.parametrize('fault', ['drop_connections', 'drop_answers'])
def test_logon_is_not_retried_after_the_connection_drops(em, fault):
    em.faults(drop_routes=['POST /api/sessionMngr/'], **{fault: 1})
    with pytest.raises(EmError) as info:
        with em.client(sleep=no_sleep):
            pass
    assert 'the connection closed before EM answered' in str(info.value)
    assert 'the logon is not retried because EM may have created a session' in str(info.value)
    stats = em.stats()
    assert stats['requests']['POST /api/sessionMngr/'] == 1
    # A dropped answer is the lost logon the emulator counts apart: created, never used.
    assert stats['active_never_used'] == (1 if fault == 'drop_answers' else 0)


def test_logon_to_a_closed_port_is_retried_then_names_the_reason(em):
    client = client_module.get_client(EmOptionAdapter.from_dict(em.options(url='https://127.0.0.1:1', retries=2)), sleep=no_sleep)
    with pytest.raises(EmError) as info:
        with client:
            pass
    assert str(info.value) == 'POST https://127.0.0.1:1/api/sessionMngr/?v=latest failed: ConnectionError after 3 attempts: Connection refused.'
    assert len(client.warnings) == 2


def test_a_read_timeout_names_the_timeout_option_and_still_logs_off(em):
    em.faults(latency_ms=700)
    client = em.client(timeout=0.3)
    with pytest.raises(EmError) as info:
        with client:
            client.query_page('BackupTaskSession', page_size=1)
    assert str(info.value).startswith('GET {0}/api/query?type=BackupTaskSession&'.format(em.url))
    assert str(info.value).endswith(' failed: EM did not answer within 0.3 s (the timeout option).')
    stats = em.stats()
    assert stats['logons'] == stats['logoffs'] == 1


def test_a_logon_whose_answer_never_arrives_is_reported_as_unclosable(em, monkeypatch):
    monkeypatch.setattr(client_module, 'LOGON_READ_MIN', 0.4)
    em.faults(logon_latency_ms=1200)
    with pytest.raises(EmError) as info:
        with em.client(timeout=0.2):
            pass
    assert 'EM did not answer the logon within 0.4 s (twice the timeout option, at least 0.4 s)' in str(info.value)
    assert "cannot be logged off and expires after EM's idle timeout (15 minutes)" in str(info.value)
    time.sleep(1.2)
    stats = em.stats()
    assert stats['requests']['POST /api/sessionMngr/'] == 1 and stats['active_never_used'] == 1


def test_http_against_https_hints_at_the_scheme(em):
    client = client_module.get_client(EmOptionAdapter.from_dict(em.options(url='http://127.0.0.1:{0}'.format(em.port))),
                                      sleep=no_sleep)
    with pytest.raises(EmError) as info:
        with client:
            pass
    assert 'so try https:// in url' in str(info.value)


def test_classify_real_failures(em):
    import requests
    session = requests.Session()
    with pytest.raises(requests.exceptions.RequestException) as refused:
        session.get('https://127.0.0.1:1/api/', timeout=(2, 2))
    with pytest.raises(requests.exceptions.RequestException) as untrusted:
        session.get(em.url + '/api/', timeout=(2, 2))
    em.faults(drop_connections=1)
    with pytest.raises(requests.exceptions.RequestException) as dropped:
        session.get(em.url + '/api/', timeout=(2, 2), verify=em.info['ca_file'])
    em.faults(latency_ms=600)
    with pytest.raises(requests.exceptions.RequestException) as slow:
        session.get(em.url + '/api/', timeout=(2, 0.2), verify=em.info['ca_file'])
    em.faults()
    assert [client_module.classify_failure(info.value) for info in (refused, untrusted, dropped, slow)] == [
        client_module.NOT_SENT, client_module.TLS, client_module.DROPPED, client_module.TIMED_OUT]


def test_a_caller_token_is_never_logged_off(em):
    with em.client() as owner:
        token = owner.hand_over()
    with em.client(username=None, password=None, session_token=token) as borrower:
        borrower.query_page('BackupTaskSession', page_size=1)
    assert em.stats()['logoffs'] == 0
    assert client_module.get_client(EmOptionAdapter.from_dict(em.options(session_token=token))).logoff_session() is True
    stats = em.stats()
    assert (stats['logons'], stats['logoffs'], stats['active_sessions']) == (1, 1, 0)


# -- a 401 mid-run: the old session is logged off (or proved dead) before logging on again ---------------

def test_a_401_mid_run_logs_the_old_session_off_before_logging_on_again(em):
    em.faults(error_routes=['GET /api/query'], fail_next=1, fail_status=401)
    with em.client(sleep=no_sleep) as client:
        first = client.session_id
        items, _count = client.query_page('BackupTaskSession', page_size=1)
        assert len(items) == 1 and client.session_id != first
    stats = em.stats()
    # EM still held the first session (the 401 came from elsewhere): both are logged off.
    assert (stats['logons'], stats['logoffs'], stats['expired_sessions'], stats['active_sessions']) == (2, 2, 0, 0)
    assert client.warnings == ['The EM logon session expired; logged on again.']


def test_a_session_expired_on_em_is_proved_dead_by_its_logoff_and_replaced(em):
    with em.client(sleep=no_sleep) as client:
        em.faults(expire_sessions=True)
        client.query_page('BackupTaskSession', page_size=1)
    stats = em.stats()
    assert (stats['logons'], stats['logoffs'], stats['expired_sessions'], stats['active_sessions']) == (2, 1, 1, 0)
    # One DELETE for the dead session (its 401 proves it gone), one at the end.
    assert stats['requests']['DELETE /api/logonSessions/{id}'] == 2
    assert client.warnings == ['The EM logon session expired; logged on again.']


def test_a_failed_logoff_of_the_replaced_session_is_a_warning_not_a_failure(em, monkeypatch):
    monkeypatch.setattr(client_module, 'LOGOFF_BUDGET_MIN', 0.5)
    monkeypatch.setattr(client_module, 'LOGOFF_BUDGET_MAX', 0.5)
    em.faults(error_routes=['GET /api/query'], fail_next=1, fail_status=401,
              drop_routes=['DELETE /api/logonSessions/{id}'], drop_connections=0.999)
    with em.client(sleep=no_sleep) as client:
        first = client.session_id
        items, _count = client.query_page('BackupTaskSession', page_size=1)
        assert len(items) == 1
    em.faults(clear=True, expire_sessions=True)
    failed = [w for w in client.warnings if w.startswith('DELETE {0}/api/logonSessions/{1}... failed'.format(em.url, first[:8]))]
    assert len(failed) == 1
    assert failed[0].endswith("the expired EM logon session may stay open until EM's idle timeout (15 minutes) ends it.")
    assert client.warnings.index(failed[0]) < client.warnings.index('The EM logon session expired; logged on again.')
    assert em.stats()['logons'] == 2


def test_a_401_on_a_caller_token_is_an_error_and_logs_nothing_off(em):
    with em.client() as owner:
        token = owner.hand_over()
    em.faults(error_routes=['GET /api/query'], fail_next=1, fail_status=401)
    with pytest.raises(EmError, match='HTTP 401'):
        with em.client(username=None, password=None, session_token=token) as borrower:
            borrower.query_page('BackupTaskSession', page_size=1)
    stats = em.stats()
    assert (stats['logons'], stats['logoffs'], stats['active_sessions']) == (1, 0, 1)
    assert 'DELETE /api/logonSessions/{id}' not in stats['requests']
    assert client_module.get_client(EmOptionAdapter.from_dict(em.options(session_token=token))).logoff_session() is True


# -- signals and a vanished parent, in a child process (handlers belong to a main thread) ----------------

CHILD = r'''
import json, os, sys, time
sys.path[:0] = json.loads(os.environ['VBEM_SYS_PATH'])
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.client import get_client
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.options import EmOptionAdapter
client = get_client(EmOptionAdapter.from_dict(json.loads(sys.argv[1])))
try:
    with client:
        print('logged-on', flush=True)
        if sys.argv[2] == 'sleep':
            time.sleep(600)
        while True:
            client.query_page('BackupTaskSession', page_size=5)
except EmError as exc:
    print('%s: %s' % (type(exc).__name__, exc), flush=True)
    sys.exit(3)
'''

LAUNCHER = r'''
import subprocess, sys, time
output = open(sys.argv.pop(1), 'w')
subprocess.Popen(sys.argv[1:], stdout=output)
time.sleep(600)
'''


def child_env():
    return dict(os.environ, VBEM_SYS_PATH=json.dumps([p for p in sys.path if p]))


@pytest.fixture
def children():
    """Processes a test starts; whatever is still running at its end is killed."""
    started = []
    yield started
    for proc in started:
        if proc.poll() is None:
            proc.kill()
        proc.wait()
        for stream in (proc.stdout, proc.stderr):
            if stream:
                stream.close()


def wait_for(predicate, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


@pytest.mark.parametrize('signum', [signal.SIGTERM, signal.SIGINT])
@pytest.mark.parametrize('mode', ['sleep', 'query'])
def test_a_signal_stops_the_child_at_once_and_logs_off_in_one_sentence(em, tmp_path, children, signum, mode):
    script = tmp_path / 'child.py'
    script.write_text(CHILD)
    # The child is inside its 600 s sleep, or (every answer taking a second) inside a query, when the signal comes.
    if mode == 'query':
        em.faults(latency_ms=1000)
    proc = subprocess.Popen([sys.executable, str(script), json.dumps(em.options()), mode], stdout=subprocess.PIPE,
                            env=child_env())
    children.append(proc)
    assert proc.stdout.readline().strip() == b'logged-on'
    if mode == 'query':
        assert wait_for(lambda: em.stats()['requests'].get('GET /api/query'), 60)
    queries = em.stats()['requests'].get('GET /api/query', 0)
    proc.send_signal(signum)
    output, _err = proc.communicate(timeout=60)  # a hang guard only: the proof is in what EM saw
    name = 'SIGTERM' if signum == signal.SIGTERM else 'SIGINT'
    assert output.decode().strip() == 'EmInterrupted: Interrupted by {0}; logged off from Enterprise Manager.'.format(name)
    assert proc.returncode == 3
    stats = em.stats()
    assert stats['logons'] == stats['logoffs'] == 1 and stats['active_sessions'] == 0
    # No query after the one in flight (which one more may have started just before the signal): the child stopped at once.
    assert stats['requests'].get('GET /api/query', 0) <= queries + 1
    assert stats['requests']['DELETE /api/logonSessions/{id}'] == 1


def test_a_signal_during_the_logon_waits_for_its_answer_and_logs_it_off(em, tmp_path, children):
    script = tmp_path / 'child.py'
    script.write_text(CHILD)
    em.faults(logon_latency_ms=1500)
    proc = subprocess.Popen([sys.executable, str(script), json.dumps(em.options()), 'sleep'], stdout=subprocess.PIPE,
                            env=child_env())
    children.append(proc)
    assert wait_for(lambda: em.stats()['requests'].get('POST /api/sessionMngr/'), 60)
    proc.send_signal(signal.SIGTERM)
    output, _err = proc.communicate(timeout=60)
    assert output.decode().strip() == 'EmInterrupted: Interrupted by SIGTERM; logged off from Enterprise Manager.'
    stats = em.stats()
    assert stats['logons'] == stats['logoffs'] == 1


def test_a_vanished_parent_makes_the_child_log_off_and_stop(em, tmp_path, children):
    script = tmp_path / 'child.py'
    script.write_text(CHILD)
    launcher = tmp_path / 'launcher.py'
    launcher.write_text(LAUNCHER)
    output = tmp_path / 'child.out'
    em.faults(latency_ms=200)
    parent = subprocess.Popen([sys.executable, str(launcher), str(output), sys.executable, str(script), json.dumps(em.options()),
                               'query'], env=child_env())
    children.append(parent)
    assert wait_for(lambda: output.exists() and 'logged-on' in output.read_text(), 60)
    parent.kill()
    parent.wait()
    assert wait_for(lambda: 'EmInterrupted' in output.read_text(), 60)  # a hang guard: the child would query forever
    line = output.read_text().splitlines()[-1]
    assert line.startswith('EmInterrupted: Stopped because the process that started this task (pid {0}) has gone'.format(parent.pid))
    assert line.endswith('; logged off from Enterprise Manager.')
    requests_after = em.stats()['requests_total']
    time.sleep(1)
    stats = em.stats()
    assert stats['logons'] == stats['logoffs'] == 1 and stats['requests_total'] == requests_after


def test_signal_handlers_are_restored_after_the_client(em):
    before = signal.getsignal(signal.SIGTERM)
    with em.client() as client:
        installed = signal.getsignal(signal.SIGTERM) != before
    assert signal.getsignal(signal.SIGTERM) == before
    import threading
    assert installed == (threading.current_thread() is threading.main_thread())


def test_the_interrupt_message_names_a_logoff_that_failed(em, monkeypatch):
    monkeypatch.setattr(client_module, 'INTERRUPT_LOGOFF_BUDGET', 1.0)
    em.faults(error_routes=['DELETE /api/logonSessions/{id}'], error_rate=1.0, error_status=503)
    client = em.client()
    client.__enter__()
    try:
        message = client.interrupt('Interrupted by SIGTERM', budget=1.0)
        with pytest.raises(EmInterrupted):
            client.query_page('BackupTaskSession', page_size=1)
    finally:
        client.close()
        em.faults(expire_sessions=True)
    assert message.startswith('Interrupted by SIGTERM; the EM logon session could not be logged off (DELETE ')
    assert "HTTP 503" in message and message.endswith("expires after EM's idle timeout (15 minutes).")
    assert base64.b64encode(client.session_id.encode()).decode() not in message and client.session_id not in message


def test_an_interruption_carries_its_signal_for_callers_that_pass_it_on():
    assert EmInterrupted('Interrupted by SIGINT; logged off.', signum=signal.SIGINT).signum == signal.SIGINT
    assert EmInterrupted('Stopped because the parent went away.').signum is None
