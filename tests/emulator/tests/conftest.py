"""Fixtures: start the emulator as a subprocess and talk to it with http.client only."""

from __future__ import annotations

import base64
import http.client
import json
import os
import signal
import ssl
import subprocess
import sys
import time
from urllib.parse import urlsplit

import pytest

EMULATOR_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.dirname(EMULATOR_DIR))

# A fixed anchor keeps every run of the suite on identical data.
NOW = '2025-08-16T06:00:00Z'
BASE_ARGS = ('--seed', '7', '--sessions', '1500', '--now', NOW)


class Emulator:
    """A running emulator subprocess and what its start-up line said."""

    def __init__(self, args, timeout=60.0):
        self.started = time.monotonic()
        self.proc = subprocess.Popen(  # pylint: disable=consider-using-with
            [sys.executable, EMULATOR_DIR, '--port', '0'] + list(args),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        line = self.proc.stdout.readline()
        self.startup_seconds = time.monotonic() - self.started
        if not line:
            self.proc.kill()
            raise RuntimeError('emulator did not start: %s' % self.proc.stderr.read().decode('utf-8', 'replace'))
        self.info = json.loads(line)
        self.timeout = timeout
        self.url = self.info['url']
        self.username = self.info['username']
        self.password = self.info['password']
        self.ca_file = self.info['ca_file']

    def stop(self):
        """SIGTERM and wait; returns the exit code."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        return self.proc.returncode

    def client(self):
        """A new :class:`Client` for this emulator."""
        return Client(self)


class Reply:
    """Status, headers and body of one response."""

    def __init__(self, status, reason, headers, body):
        self.status = status
        self.reason = reason
        self.headers = headers
        self.body = body

    def header(self, name):
        """Case-insensitive single header value."""
        return self.headers.get(name.lower())

    def json(self):
        """Body decoded as JSON (a BOM is tolerated)."""
        return json.loads(self.body.decode('utf-8-sig'))

    def text(self):
        """Body as text."""
        return self.body.decode('utf-8')


class Client:
    """Tiny stdlib HTTP client; one connection per request keeps tests independent."""

    def __init__(self, emulator):
        self.emulator = emulator
        parts = urlsplit(emulator.url)
        self.scheme = parts.scheme
        self.host = parts.hostname
        self.port = parts.port
        self.token = None
        self.session_id = None
        self.context = None
        if self.scheme == 'https':
            self.context = ssl.create_default_context(cafile=emulator.ca_file)

    def request(self, method, path, headers=None, token=None, body=None, timeout=30):
        """Send one request; ``token`` defaults to the logged-on token."""
        if self.scheme == 'https':
            conn = http.client.HTTPSConnection(self.host, self.port, context=self.context, timeout=timeout)
        else:
            conn = http.client.HTTPConnection(self.host, self.port, timeout=timeout)
        all_headers = dict(headers or {})
        token = self.token if token is None else token
        if token and 'X-RestSvcSessionId' not in all_headers:
            all_headers['X-RestSvcSessionId'] = token
        try:
            conn.request(method, path, body=body, headers=all_headers)
            response = conn.getresponse()
            data = response.read()
            return Reply(response.status, response.reason, {k.lower(): v for k, v in response.getheaders()}, data)
        finally:
            conn.close()

    def get(self, path, accept=None, **kwargs):
        """GET with an optional Accept header."""
        headers = kwargs.pop('headers', {})
        if accept:
            headers['Accept'] = accept
        return self.request('GET', path, headers=headers, **kwargs)

    def get_json(self, path, **kwargs):
        """GET with Accept: application/json."""
        return self.get(path, accept='application/json', **kwargs)

    def logon(self, username=None, password=None, version='latest', accept='application/json', timeout=30):
        """POST /api/sessionMngr and remember the token and SessionId."""
        creds = '%s:%s' % (username or self.emulator.username, password or self.emulator.password)
        headers = {'Authorization': 'Basic ' + base64.b64encode(creds.encode('utf-8')).decode('ascii'), 'Accept': accept}
        reply = self.request('POST', '/api/sessionMngr/?v=%s' % version, headers=headers, token='', timeout=timeout)
        if reply.status == 201:
            self.token = reply.header('X-RestSvcSessionId')
            if accept == 'application/json':
                data = reply.json()
                self.session_id = data.get('SessionId') or data.get('sessionId')
        return reply

    def logoff(self):
        """DELETE the logon session."""
        reply = self.request('DELETE', '/api/logonSessions/%s' % self.session_id)
        self.token = None
        return reply

    def control(self, method, name, payload=None):
        """Call a /_emulator control endpoint."""
        body = json.dumps(payload).encode('utf-8') if payload is not None else None
        headers = {'Content-Type': 'application/json'} if body is not None else {}
        return self.request(method, '/_emulator/' + name, headers=headers, token='', body=body)


@pytest.fixture(name='start_emulator')
def fixture_start_emulator():
    """Factory starting extra emulators with custom options; all are stopped afterwards."""
    started = []

    def start(*args, base=True):
        emulator = Emulator((BASE_ARGS if base else ()) + tuple(args))
        started.append(emulator)
        return emulator
    yield start
    for emulator in started:
        emulator.stop()


@pytest.fixture(name='emulator', scope='session')
def fixture_emulator():
    """The shared emulator (fixed seed and anchor time)."""
    emulator = Emulator(BASE_ARGS)
    yield emulator
    emulator.stop()


@pytest.fixture(name='client')
def fixture_client(emulator):
    """A logged-on JSON client of the shared emulator; logs off afterwards."""
    client = emulator.client()
    assert client.logon().status == 201
    yield client
    if client.token:
        client.logoff()


@pytest.fixture(name='dataset', scope='session')
def fixture_dataset():
    """The same data set the shared emulator serves, in-process, for direct engine tests."""
    from emulator.data import Dataset  # pylint: disable=import-outside-toplevel
    from emulator.query import parse_datetime  # pylint: disable=import-outside-toplevel
    return Dataset(7, 1500, parse_datetime(NOW))
