"""Logons whose answer was lost, per-route latency and scoped faults, request age, emulator-env.sh."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time

import pytest

from emulator.faults import FaultError, Faults
from emulator.server import ROUTE_LABELS

from conftest import EMULATOR_DIR

LOST = (socket.timeout, TimeoutError, http.client.RemoteDisconnected, ConnectionError)


def stats(client):
    return client.control('GET', 'stats').json()


def test_never_used_sessions(start_emulator):
    emulator = start_emulator('--no-tls', '--sessions', '200')
    used, idle, lost = emulator.client(), emulator.client(), emulator.client()
    assert used.logon().status == 201 and idle.logon().status == 201
    assert (stats(used)['never_used_sessions'], stats(used)['active_never_used']) == (2, 2)
    assert used.get('/api/querySvc').status == 200
    assert (stats(used)['never_used_sessions'], stats(used)['active_never_used']) == (1, 1)
    # The logon answer arrives after the client gave up: EM holds a session its creator never saw.
    used.control('POST', 'faults', {'logon_latency_ms': 700})
    with pytest.raises(LOST):
        lost.logon(timeout=0.2)
    time.sleep(0.7)
    after = stats(used)
    assert (after['logons'], after['never_used_sessions'], after['active_never_used']) == (3, 2, 2)
    # A dropped answer after EM did the work: the session exists, nobody has its token.
    used.control('POST', 'faults', {'clear': True, 'drop_answers': 1})
    with pytest.raises(LOST):
        lost.logon()
    after = stats(used)
    assert (after['logons'], after['dropped_answers'], after['never_used_sessions']) == (4, 1, 3)
    # A request that carried the token counts as use even when a fault ate it (the creator had the token).
    used.control('POST', 'faults', {'fail_next': 1})
    assert idle.get('/api/querySvc').status == 500
    assert stats(used)['never_used_sessions'] == 2
    assert used.logoff().status == 204 and idle.logoff().status == 204
    used.control('POST', 'faults', {'expire_sessions': True})
    after = stats(used)
    assert (after['logons'], after['logoffs'], after['expired_sessions'], after['active_sessions']) == (4, 2, 2, 0)
    assert (after['never_used_sessions'], after['active_never_used']) == (2, 0)
    used.control('POST', 'reset')
    assert (stats(used)['never_used_sessions'], stats(used)['active_never_used']) == (0, 0)


def test_never_used_counts_expired_sessions(start_emulator):
    emulator = start_emulator('--no-tls', '--sessions', '200', '--idle-timeout', '0.3')
    client = emulator.client()
    assert client.logon().status == 201
    time.sleep(0.5)
    after = stats(client)
    assert (after['expired_sessions'], after['never_used_sessions'], after['active_never_used']) == (1, 1, 0)
    # Using the token after expiry still proves the creator received it.
    assert client.get('/api/querySvc').status == 401
    assert stats(client)['never_used_sessions'] == 0


def test_per_route_latency(start_emulator):
    emulator = start_emulator('--no-tls', '--sessions', '200')
    client = emulator.client()
    client.control('POST', 'faults', {'logon_latency_ms': 400, 'logoff_latency_ms': 300})
    started = time.monotonic()
    assert client.logon().status == 201
    assert time.monotonic() - started >= 0.4
    assert client.get('/api/querySvc').status == 200
    started = time.monotonic()
    assert client.logoff().status == 204
    assert time.monotonic() - started >= 0.3
    assert client.control('GET', 'faults').json()['logon_latency_ms'] == 400
    # Which routes wait, from the decision itself rather than a clock a loaded machine slows.
    faults = Faults(1, ROUTE_LABELS)
    faults.update({'logon_latency_ms': 400, 'logoff_latency_ms': 300})
    assert [faults.decide(label)[2] for label in ('POST /api/sessionMngr/', 'GET /api/querySvc', 'DELETE /api/logonSessions/{id}')] \
        == [0.4, 0, 0.3]


def test_scoped_errors_and_drops(start_emulator):
    emulator = start_emulator('--no-tls', '--sessions', '200')
    client = emulator.client()
    assert client.control('GET', 'faults').json()['error_routes'] is None
    reply = client.control('POST', 'faults', {'fail_next': 1, 'error_routes': ['delete /api/logonSessions/{id}']})
    assert reply.json()['error_routes'] == ['DELETE /api/logonSessions/{id}']
    assert client.logon().status == 201
    assert client.get('/api/querySvc').status == 200 and client.get('/api/query?type=Job').status == 200
    token = client.token
    assert client.logoff().status == 500
    assert stats(client)['active_sessions'] == 1
    client.token = token
    assert client.logoff().status == 204
    assert stats(client)['active_sessions'] == 0 and stats(client)['injected_errors'] == 1
    client.control('POST', 'faults', {'clear': True, 'error_rate': 1.0, 'error_routes': ['GET /api/query']})
    second = emulator.client()
    assert second.logon().status == 201
    assert second.get('/api/querySvc').status == 200 and second.get('/api/query?type=Job').status == 503
    assert second.logoff().status == 204
    client.control('POST', 'faults', {'clear': True, 'drop_connections': 1, 'drop_routes': ['POST /api/sessionMngr/']})
    third = emulator.client()
    assert third.get('/api/').status == 200
    with pytest.raises(LOST):
        third.logon()
    assert third.logon().status == 201 and third.logoff().status == 204
    after = stats(client)
    assert after['dropped_connections'] == 1 and after['logons'] == 3


@pytest.mark.parametrize('body, message', [
    ({'error_routes': []}, 'non-empty list'), ({'error_routes': 'GET /api/query'}, 'non-empty list'),
    ({'error_routes': ['GET /api/nothing']}, "unknown route 'GET /api/nothing'. Known routes: GET /api/, "),
    ({'drop_routes': [5]}, 'non-empty list'), ({'logon_latency_ms': -1}, 'non-negative'), ({'logoff_latency_ms': 'x'}, 'non-negative'),
    ({'drop_answers': 1.5}, 'rate below 1'), ({'clear': 'yes'}, 'true or false'), ({'error_route': ['GET /api/']}, 'Unknown fault'),
])
def test_fault_validation(body, message):
    faults = Faults(1, ROUTE_LABELS)
    faults.update({'fail_next': 3})
    with pytest.raises(FaultError, match=message):
        faults.update(dict(body, clear=True) if 'clear' not in body else body)
    # A refused body changes nothing, not even its "clear".
    assert faults.snapshot()['fail_next'] == 3


def test_route_labels_cover_the_counters():
    assert 'POST /api/sessionMngr/' in ROUTE_LABELS and 'DELETE /api/logonSessions/{id}' in ROUTE_LABELS
    assert 'GET /api/query' in ROUTE_LABELS and 'GET /api/{collection}/{id}/{children}' in ROUTE_LABELS
    faults = Faults(1, ROUTE_LABELS)
    faults.update({'fail_next': 2, 'error_routes': ['GET /api/query'], 'drop_answers': 1, 'drop_routes': ['GET /api/']})
    assert faults.decide('GET /api/querySvc')[0] is None and faults.decide('GET /api/')[0] == 'drop_answer'
    assert [faults.decide('GET /api/query')[:2] for _attempt in range(3)] == [('fail', 500), ('fail', 500), (None, 0)]


def test_last_api_request_age(start_emulator):
    emulator = start_emulator('--no-tls', '--sessions', '200')
    client = emulator.client()
    assert stats(client)['last_api_request_monotonic_age'] is None
    # The age counts from the request: never more than the time since we sent it (no upper bound a load can break).
    sent = time.monotonic()
    assert client.get('/api/').status == 200
    assert stats(client)['last_api_request_monotonic_age'] <= time.monotonic() - sent + 0.001  # rounded to ms
    time.sleep(0.4)
    # Control calls (stats itself, catalog) are not EM requests and do not reset the age.
    client.control('GET', 'catalog')
    assert stats(client)['last_api_request_monotonic_age'] >= 0.4
    sent = time.monotonic()
    assert client.get('/nothing').status == 404
    assert stats(client)['last_api_request_monotonic_age'] <= time.monotonic() - sent + 0.001  # rounded to ms
    client.control('POST', 'reset')
    assert stats(client)['last_api_request_monotonic_age'] is None


def test_emulator_env_sh_reports_never_used_and_fails_on_leaks():
    script = r'''
set -u
source "$1/emulator-env.sh"
logon() { "$EMULATOR_PYTHON" - "$VEEAM_EM_URL" "$VEEAM_EM_CA_PATH" "$VEEAM_EM_PASSWORD" "$1" <<'PY'
import base64, json, ssl, sys, urllib.request
url, ca, password, logoff = sys.argv[1:]
context = ssl.create_default_context(cafile=ca)
auth = base64.b64encode(('administrator:' + password).encode()).decode()
request = urllib.request.Request(url + '/api/sessionMngr/?v=latest', method='POST',
                                 headers={'Authorization': 'Basic ' + auth, 'Accept': 'application/json'})
with urllib.request.urlopen(request, context=context, timeout=10) as answer:
    token, session = answer.headers['X-RestSvcSessionId'], json.load(answer)['SessionId']
if logoff == 'yes':
    urllib.request.urlopen(urllib.request.Request(url + '/api/logonSessions/' + session, method='DELETE',
                                                  headers={'X-RestSvcSessionId': token}), context=context, timeout=10)
PY
}
emulator_start --sessions 200 && logon yes && emulator_stop; echo "clean rc=$?"
emulator_start --sessions 200 && logon no && emulator_stop; echo "leak rc=$?"
'''
    env = dict(os.environ, EMULATOR_PYTHON=sys.executable)
    result = subprocess.run(['bash', '-c', script, 'bash', EMULATOR_DIR], capture_output=True, text=True, env=env, timeout=120,
                            check=False)
    assert 'emulator: logons=1 logoffs=1 expired_sessions=0 active_sessions=0 never_used_sessions=0\nclean rc=0' in result.stdout
    assert 'leak rc=1' in result.stdout, result.stdout + result.stderr
    assert 'logon sessions were left open: logons=1 logoffs=0 expired_sessions=0 active_sessions=1 never_used_sessions=1' \
        in result.stderr
