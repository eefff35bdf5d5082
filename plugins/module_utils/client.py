# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one REST client for the Veeam Backup Enterprise Manager API.

Modules and lookups never speak HTTP themselves: they get a client from
``get_client(adapter)`` and use it as a context manager, which guarantees
the logoff. EM limits concurrent logon sessions, so a leaked one is an
incident, not a nit.

What the client promises about the logon session it owns:

* the logoff is retried on any 5xx and on connection errors, with backoff
  and jitter, for up to 15 seconds;
* the logon is retried only where EM cannot have created a session: the
  connection could not be made (nothing was sent) or EM answered 503;
* the logon and the logoff get more time to answer than other requests,
  because a logon whose answer is lost leaves a session nobody can name;
* SIGINT, SIGTERM and a parent process that went away log it off within a
  few seconds (see ``lifecycle``);
* no message carries the password, the token or the SessionId (the token is
  base64 of the SessionId): a SessionId is shown by its first 8 characters.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import json
import random
import re
import threading
import time
import traceback
from http.cookiejar import DefaultCookiePolicy

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import (
    EmError, EmInterrupted, mask_guids_after, scrub, shorten_url,
)
from ansible_collections.vbem.enterprise_manager.plugins.module_utils import lifecycle, parsing, query, sessions

REQUESTS_IMPORT_ERROR = None
try:
    import requests
    from requests.adapters import HTTPAdapter
    from requests.auth import HTTPBasicAuth
    HAS_REQUESTS = True
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

try:
    from urllib3.exceptions import ConnectTimeoutError as _ConnectTimeoutError
except ImportError:
    _ConnectTimeoutError = None

TOKEN_HEADER = 'X-RestSvcSessionId'
RETRY_STATUSES = frozenset((502, 503, 504))
BACKOFF_BASE = 0.5
BACKOFF_MAX = 10.0
# Connecting is quick wherever EM is reachable at all; a long connect wait only delays the error.
CONNECT_TIMEOUT_MAX = 10.0
# The logon (and the logoff) may take longer than other requests: if we stop
# waiting for the logon's answer, EM may still create a session we cannot name.
LOGON_READ_FACTOR = 2.0
LOGON_READ_MIN = 30.0
# The logoff of our own session is idempotent, so it is retried on anything
# transient, within a budget of timeout seconds clamped to these bounds.
LOGOFF_BUDGET_MIN = 5.0
LOGOFF_BUDGET_MAX = 15.0
LOGOFF_BACKOFF_BASE = 0.25
LOGOFF_BACKOFF_MAX = 1.0
# On SIGINT/SIGTERM or a vanished parent: AWX sends SIGKILL 10 s after its SIGINT.
INTERRUPT_LOGOFF_BUDGET = 5.0
IDLE_TIMEOUT = "EM's idle timeout (15 minutes)"
IDLE_EXPIRY_NOTE = 'expires after ' + IDLE_TIMEOUT

# How a failed attempt ended, which decides whether it may be retried.
NOT_SENT = 'not_sent'   # no connection: EM saw nothing
TIMED_OUT = 'timed_out'  # sent, no answer in time: EM may have acted
DROPPED = 'dropped'     # sent, connection closed without an answer: EM may have acted
TLS = 'tls'             # handshake failed: retrying will not help
OTHER = 'other'


class BlockAllCookies(DefaultCookiePolicy):
    """A cookie policy that neither stores nor returns any cookie.

    EM sets ``X-RestSvcSessionId`` as a cookie too, and when a cookie and the
    header disagree EM believes the cookie: a stale cookie after a re-logon
    would silently authenticate us as the old session.
    """

    def set_ok(self, cookie, request):
        return False

    def return_ok(self, cookie, request):
        return False

    def domain_return_ok(self, domain, request):
        return False

    def path_return_ok(self, path, request):
        return False


def _no_auth(request):
    """Requests auth hook that adds nothing: stops requests from reading ~/.netrc."""
    return request


def backoff_delay(attempt, base=BACKOFF_BASE, maximum=BACKOFF_MAX, rand=random.random):
    """Exponential backoff with jitter: ``min(base * 2**attempt + jitter, maximum)``, jitter in ``[0, base)``."""
    return min(base * (2 ** attempt) + rand() * base, maximum)


def logon_read_timeout(timeout):
    """Seconds the logon (and the logoff) may wait for EM's answer: twice ``timeout``, at least 30."""
    return max(float(timeout) * LOGON_READ_FACTOR, LOGON_READ_MIN)


def connect_timeout(timeout):
    """Seconds allowed to establish a connection: ``timeout``, at most 10."""
    return min(float(timeout), CONNECT_TIMEOUT_MAX)


def logoff_budget(timeout):
    """Seconds the logoff of our own session may take, retries included: ``timeout`` clamped to 5..15."""
    return min(max(float(timeout), LOGOFF_BUDGET_MIN), LOGOFF_BUDGET_MAX)


def may_retry_logon(outcome, status=None):
    """Whether a failed logon attempt may be sent again without risking a second, unknown session.

    Only when nothing reached EM (the connection could not be made) or EM
    answered 503 (it was unavailable or at its cap of logon sessions, and
    created nothing). Never after a timeout or a dropped connection: EM may
    have created a session whose token we never saw.
    """
    if status is not None:
        return status == 503
    return outcome == NOT_SENT


def may_retry_read(outcome, status=None):
    """Whether a failed GET may be sent again: any connection trouble, a timeout, or HTTP 502/503/504."""
    if status is not None:
        return status in RETRY_STATUSES
    return outcome in (NOT_SENT, TIMED_OUT, DROPPED)


def may_retry_logoff(outcome, status=None):
    """Whether a failed logoff may be sent again: deleting our own session is idempotent, so on any 5xx or connection trouble."""
    if status is not None:
        return 500 <= status <= 599
    return outcome in (NOT_SENT, TIMED_OUT, DROPPED)


def classify_failure(exc):
    """How a requests exception ended the attempt: NOT_SENT, TIMED_OUT, DROPPED, TLS or OTHER."""
    if isinstance(exc, requests.exceptions.SSLError):
        return TLS
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return NOT_SENT
    if isinstance(exc, requests.exceptions.Timeout):
        return TIMED_OUT
    if isinstance(exc, requests.exceptions.ProxyError):
        return NOT_SENT
    if isinstance(exc, requests.exceptions.ConnectionError):
        cause = exc.args[0] if exc.args else None
        reason = getattr(cause, 'reason', None)
        if _ConnectTimeoutError is not None and isinstance(reason, _ConnectTimeoutError):
            return NOT_SENT  # NewConnectionError (refused, no route, name not resolved) is a ConnectTimeoutError
        return DROPPED
    if isinstance(exc, (requests.exceptions.ChunkedEncodingError, requests.exceptions.ContentDecodingError)):
        return DROPPED
    return OTHER


def _token_to_session_id(token):
    """EM v10+ tokens are base64 of the SessionId; decode when the body did not tell us."""
    try:
        decoded = base64.b64decode(token.encode('ascii'), validate=True).decode('ascii')
    except (ValueError, UnicodeError, AttributeError):
        return None
    return decoded if sessions.is_guid(decoded) else None


class _Attempt(object):
    """The end of one HTTP attempt: a response, or how it failed."""

    __slots__ = ('response', 'outcome', 'exc')

    def __init__(self, response=None, outcome=None, exc=None):
        self.response = response
        self.outcome = outcome
        self.exc = exc


class EmClient(object):
    """A logged-on connection to Enterprise Manager.

    Use as ``with get_client(adapter) as client:``. On enter it logs on (or
    adopts a caller's ``session_token``); on exit, success or failure, it logs
    off the session it owns. ``client.warnings`` collects non-fatal notes
    (retries, a failed logoff) for the caller to surface.
    """

    def __init__(self, base_url, username=None, password=None, session_token=None, validate_certs=True,
                 ca_path=None, timeout=30.0, retries=3, api_version='latest', pool_size=8, sleep=time.sleep,
                 guard=True):
        if not HAS_REQUESTS:
            raise EmError('The Python library requests is required to talk to Enterprise Manager.')
        self.base_url = base_url.rstrip('/')
        self.username = username
        self._password = password
        self._token = session_token or None
        self.owns_session = not session_token
        self.session_id = None
        self.timeout = float(timeout)
        self.retries = int(retries)
        self.api_version = api_version
        # verify goes on every request: a session-level verify loses to REQUESTS_CA_BUNDLE.
        self.verify = ca_path if ca_path else bool(validate_certs)
        self.warnings = []
        self.logon_in_flight = False
        self.cancel_reason = None
        self._sleep = sleep
        self._use_guard = guard
        self._guard = None
        self._lock = threading.Lock()
        self._relogon_lock = threading.Lock()
        self._interrupt_lock = threading.RLock()
        self._interrupting = False
        self._interrupt_message = None
        self._logoff_cut = None
        self._generation = 0
        # Every token and SessionId this client has held, so none appears in any message.
        self._tokens = [self._token] if self._token else []
        self._session_ids = []
        caller_id = _token_to_session_id(self._token) if self._token else None
        if caller_id:
            self._session_ids.append(caller_id)
        self._http = self._new_http(pool_size)

    @staticmethod
    def _new_http(pool_size=2):
        http = requests.Session()
        http.cookies.set_policy(BlockAllCookies())
        http.auth = _no_auth
        http.headers.update({'Accept': 'application/json', 'User-Agent': 'vbem.enterprise_manager'})
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max(int(pool_size), 1))
        http.mount('https://', adapter)
        http.mount('http://', adapter)
        return http

    # -- context manager -------------------------------------------------
    def __enter__(self):
        if self.owns_session and self._use_guard:
            self._guard = lifecycle.Guard(self)
            self._guard.start()
        try:
            self.logon()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(self, exc_type, exc, tb):
        self.close()
        return False

    # -- helpers ---------------------------------------------------------
    def _scrub(self, text):
        """``text`` without the password, any token, or any SessionId beyond its first characters."""
        text = scrub(text, [self._password] + self._tokens, self._session_ids)
        return mask_guids_after(text)

    def _shown(self, url):
        """A URL fit for a message: secrets and SessionIds masked, at most about 200 characters."""
        return shorten_url(self._scrub(url))

    def url(self, path):
        """Absolute URL for an API path (``query`` -> ``https://em:9398/api/query``); absolute URLs pass through."""
        if path.startswith('http://') or path.startswith('https://'):
            return path
        return self.base_url + '/' + path.lstrip('/')

    def _error(self, method, url, response=None, reason=None):
        """Build the one-sentence EmError for a failed request."""
        url_shown = self._shown(url)
        if response is not None:
            em_message = parsing.error_message(response.content)
            status = response.status_code
            detail = em_message or (response.reason or 'no message')
            if len(detail) > 300:
                detail = '{0}... ({1} characters)'.format(detail[:240], len(detail))
            hint = ''
            if status == 401:
                hint = ' (the credentials were rejected)' if 'sessionMngr' in url else ' (the session token is invalid or expired)'
            elif 300 <= status < 400:
                hint = ' (a redirect: is the url pointing at the EM REST API on port 9398?)'
            message = '{0} {1} failed with HTTP {2}{3}: {4}'.format(method, url_shown, status, hint, detail.rstrip('.'))
            return EmError(self._scrub(message) + '.', url=url_shown, status=status, em_message=self._scrub(em_message))
        message = '{0} {1} failed: {2}'.format(method, url_shown, reason)
        return EmError(self._scrub(message).rstrip('.') + '.', url=url_shown)

    def _attempt(self, method, url, headers=None, auth=None, connect=None, read=None, http=None, data=None):
        """Send one request; returns an _Attempt. Never retries and never raises for HTTP or network trouble."""
        try:
            response = (http or self._http).request(method, url, headers=headers or {}, auth=auth, verify=self.verify,
                                                    timeout=(connect, read), allow_redirects=False, data=data)
        except requests.exceptions.RequestException as exc:
            return _Attempt(outcome=classify_failure(exc), exc=exc)
        except OSError as exc:
            # requests raises bare OSErrors too, for example for an unreadable CA bundle.
            return _Attempt(outcome=OTHER, exc=exc)
        return _Attempt(response=response)

    def _failure_reason(self, url, attempt, tries, read_seconds, connect_seconds):
        """The part of the sentence after "failed: " for an attempt that got no answer."""
        exc = attempt.exc
        if attempt.outcome == TLS:
            return _tls_failure(exc)
        after = ' after {0} attempts'.format(tries) if tries > 1 else ''
        if isinstance(exc, requests.exceptions.ConnectTimeout):
            return 'could not connect within {0:g} s (the timeout option, at most {1:g} s for connecting){2}'.format(
                connect_seconds, CONNECT_TIMEOUT_MAX, after)
        if attempt.outcome == TIMED_OUT:
            return 'EM did not answer within {0:g} s (the timeout option){1}'.format(read_seconds, after)
        if attempt.outcome == DROPPED:
            reason = 'the connection closed before EM answered ({0}){1}'.format(_short(exc), after)
            if url.lower().startswith('http://'):
                reason += ('; the url starts with http:// but EM serves HTTPS on port 9398 by default, '
                           'so try https:// in url')
            return reason
        return '{0}{1}: {2}'.format(type(exc).__name__, after, _short(exc))

    def _note_retry(self, method, url, why, attempt, of=None):
        self.warnings.append(self._scrub('Retrying {0} {1} after {2} (attempt {3}{4}).'.format(
            method, self._shown(url), why, attempt + 2, ' of {0}'.format(of) if of else '')))

    @staticmethod
    def _why(attempt):
        if attempt.response is not None:
            return 'HTTP {0}'.format(attempt.response.status_code)
        return type(attempt.exc).__name__

    # -- cancellation ------------------------------------------------------
    def cancel(self, reason):
        """Refuse every further request (the first reason given wins); the caller logs off."""
        if self.cancel_reason is None:
            self.cancel_reason = reason

    def cut_logoff(self):
        """Shorten a logoff already under way to a few seconds (a signal arrived while closing)."""
        cut = time.monotonic() + INTERRUPT_LOGOFF_BUDGET
        if self._logoff_cut is None or cut < self._logoff_cut:
            self._logoff_cut = cut

    def interrupt(self, reason, budget=INTERRUPT_LOGOFF_BUDGET):
        """Stop: refuse further requests, log off the session we own within ``budget`` seconds, and say so.

        Safe from any thread and from a signal handler (it uses its own HTTP
        connection). Returns one sentence: why we stopped, and what became of
        the logon session.
        """
        self.cancel(reason)
        with self._interrupt_lock:
            if self._interrupting:
                return self.cancel_reason + '.'
            if self._interrupt_message is None or (self.owns_session and self._token):
                self._interrupting = True
                try:
                    outcome = self._logoff_now(budget)
                finally:
                    self._interrupting = False
                self._interrupt_message = '{0}; {1}.'.format(self.cancel_reason, outcome)
            return self._interrupt_message

    def _check_cancelled(self):
        if self.cancel_reason is not None:
            raise EmInterrupted(self.interrupt(self.cancel_reason))

    def _take_token(self):
        """The token of the session we own, removed from the client so that only one path logs it off."""
        token, self._token = self._token, None
        return token

    def _logoff_now(self, budget):
        """Log off on a fresh connection (the pooled ones may be busy in other threads); returns the outcome phrase."""
        if not self.owns_session:
            return 'the EM logon session belongs to the caller and stays open'
        session_id = self.session_id
        token = self._take_token()
        if not token:
            if self.logon_in_flight:
                return ('the logon was still waiting for EM, so a logon session EM may create cannot be logged off and '
                        + IDLE_EXPIRY_NOTE)
            return 'no EM logon session was open'
        http = self._new_http()
        try:
            ok, detail = self._delete_session(token, session_id, budget, http, notes=False)
        finally:
            http.close()
        if ok:
            return 'logged off from Enterprise Manager' if detail is None else detail
        return 'the EM logon session could not be logged off ({0}) and {1}'.format(detail, IDLE_EXPIRY_NOTE)

    # -- session lifecycle ----------------------------------------------
    def logon(self):
        """Log on with Basic auth (``POST /api/sessionMngr/?v=<api_version>``, expect 201).

        With a caller's ``session_token`` nothing is sent: the token is used as is.
        Retried only where EM cannot have created a session (see ``may_retry_logon``).
        """
        if not self.owns_session:
            return
        self._check_cancelled()
        url = self.url('sessionMngr/') + '?v=' + self.api_version
        auth = HTTPBasicAuth((self.username or '').encode('utf-8'), (self._password or '').encode('utf-8'))
        read = logon_read_timeout(self.timeout)
        connect = connect_timeout(self.timeout)
        started = time.monotonic()
        tries = 0
        while True:
            self._check_cancelled()
            self.logon_in_flight = True
            try:
                attempt = self._attempt('POST', url, auth=auth, connect=connect, read=read)
            finally:
                self.logon_in_flight = False
            tries += 1
            status = attempt.response.status_code if attempt.response is not None else None
            if status == 201:
                break
            if may_retry_logon(attempt.outcome, status) and tries <= self.retries and self.cancel_reason is None:
                delay = backoff_delay(tries - 1)
                if time.monotonic() - started + delay < self.timeout:
                    self._note_retry('POST', url, self._why(attempt), tries - 1, self.retries + 1)
                    self._sleep(delay)
                    continue
            if attempt.response is not None:
                self._check_cancelled()
                raise self._error('POST', url, attempt.response)
            self._check_cancelled()
            raise self._error('POST', url, reason=self._logon_failure(url, attempt, tries, read, connect))
        response = attempt.response
        token = response.headers.get(TOKEN_HEADER)
        if not token:
            raise EmError('POST {0} answered HTTP 201 without an {1} header; is the url pointing at the EM REST API on port 9398?'.format(
                self._shown(url), TOKEN_HEADER), url=url, status=201)
        try:
            body = parsing.parse_body(response.content)
        except EmError:
            body = None
        session_id = parsing.ci_get(body, 'SessionId') if isinstance(body, dict) else None
        if not session_id:
            session_id = _token_to_session_id(token)
        self._tokens.append(token)
        if session_id:
            self._session_ids.append(str(session_id))
        with self._lock:
            self.session_id = session_id
            self._token = token
            self._generation += 1
        # A signal that waited for this answer, or a parent that went away meanwhile: log it off now.
        self._check_cancelled()

    def _logon_failure(self, url, attempt, tries, read, connect):
        reason = self._failure_reason(url, attempt, tries, read, connect)
        if attempt.outcome == TIMED_OUT:
            return ('EM did not answer the logon within {0:g} s (twice the timeout option, at least {1:g} s), so a logon '
                    'session EM may have created cannot be logged off and {2}').format(read, LOGON_READ_MIN, IDLE_EXPIRY_NOTE)
        if attempt.outcome == DROPPED:
            return reason + ('; the logon is not retried because EM may have created a session, which then '
                             + IDLE_EXPIRY_NOTE)
        return reason

    def _delete_session(self, token, session_id, budget, http=None, notes=True):
        """DELETE our own logon session, retried on any 5xx and connection trouble within ``budget`` seconds.

        Returns ``(True, None)`` when EM deleted it, ``(True, phrase)`` when it
        was already gone (401/404: expired or logged off before), and
        ``(False, reason)`` when it may still be open.
        """
        if not session_id:
            return False, 'EM did not tell us its SessionId'
        url = self.url('logonSessions/' + session_id)
        started = time.monotonic()
        deadline = started + budget
        headers = {TOKEN_HEADER: token}
        tries = 0
        while True:
            if self._logoff_cut is not None:
                deadline = min(deadline, self._logoff_cut)
            remaining = deadline - time.monotonic()
            read = max(remaining, 0.5)
            attempt = self._attempt('DELETE', url, headers=headers, connect=min(read, CONNECT_TIMEOUT_MAX), read=read, http=http)
            tries += 1
            status = attempt.response.status_code if attempt.response is not None else None
            if status is not None and 200 <= status < 300:
                return True, None
            if status in (401, 404):
                return True, 'the EM logon session had already ended (HTTP {0})'.format(status)
            if may_retry_logoff(attempt.outcome, status):
                delay = backoff_delay(tries - 1, LOGOFF_BACKOFF_BASE, LOGOFF_BACKOFF_MAX)
                if self._logoff_cut is not None:
                    deadline = min(deadline, self._logoff_cut)
                if time.monotonic() + delay < deadline:
                    if notes:
                        self._note_retry('DELETE', url, self._why(attempt), tries - 1)
                    self._sleep(delay)
                    continue
            if attempt.response is not None:
                detail = str(self._error('DELETE', url, attempt.response)).rstrip('.')
            else:
                detail = str(self._error('DELETE', url, reason=self._failure_reason(url, attempt, tries, read, read))).rstrip('.')
            if tries > 1:
                detail += ', after {0} attempts in {1:.1f} s'.format(tries, time.monotonic() - started)
            return False, detail

    def close(self):
        """Log off the session we own (``DELETE /api/logonSessions/{SessionId}``) and release connections.

        Never raises for a failed logoff: it becomes a warning, so it cannot
        hide the error that got us here. A caller's token is never logged
        off. Raises EmInterrupted only when SIGINT or SIGTERM arrived while
        logging off, after the logoff.
        """
        guard, self._guard = self._guard, None
        interrupted = None
        try:
            if guard is not None:
                guard.closing()
            if self.owns_session:
                session_id = self.session_id
                token = self._take_token()
                if token:
                    ok, detail = self._delete_session(token, session_id, logoff_budget(self.timeout))
                    if not ok:
                        self.warnings.append(self._scrub('{0}; the EM logon session may stay open until {1} ends it.'.format(
                            detail, IDLE_TIMEOUT)))
                    interrupted = 'logged off from Enterprise Manager' if ok else 'the EM logon session could not be logged off'
        finally:
            if guard is not None:
                name = guard.stop()
                if name is not None:
                    raise EmInterrupted('Interrupted by {0}; {1}.'.format(name, interrupted or 'no EM logon session was open'),
                                        signum=guard.closing_signal)
            self._http.close()

    def hand_over(self):
        """Give the logon session to the caller: return its token; the client no longer logs it off.

        For the logon module, whose whole job is to return a token that later
        tasks use and the logoff module ends.
        """
        self._check_cancelled()
        token = self._token
        if not token:
            raise EmError('There is no EM logon session to hand over.')
        # Our handlers go first: until the token is printed, a signal ends the run the default way.
        guard, self._guard = self._guard, None
        if guard is not None:
            guard.stop()
        self.owns_session = False
        return token

    def logoff_session(self):
        """Log off the caller's session (the logoff module): returns True when EM ended it now, False when it had already ended.

        The session is the one the caller's token authenticates, so it is
        provably theirs: its id is the token decoded, or EM's own answer to
        ``GET /api/logonSessions`` (which lists the caller's session only).
        Raises EmError when it could not be logged off.
        """
        token = self._token
        session_id = _token_to_session_id(token)
        if not session_id:
            response = self._attempt('GET', self.url('logonSessions'), headers={TOKEN_HEADER: token},
                                     connect=connect_timeout(self.timeout), read=self.timeout).response
            if response is not None and response.status_code == 401:
                return False
            if response is None or response.status_code != 200:
                raise EmError('The session token is not one EM issued (it is not base64 of a SessionId) and EM did not say '
                              'which logon session it belongs to, so nothing was logged off.')
            items = parsing.extract_items(self._parse(response.url, response))
            ids = [parsing.ci_get(item, 'SessionId') for item in items if isinstance(item, dict)]
            session_id = ids[0] if len(ids) == 1 and ids[0] else None
            if not session_id:
                raise EmError('EM did not name the logon session of this token, so nothing was logged off.')
            self._session_ids.append(str(session_id))
        ok, detail = self._delete_session(token, session_id, logoff_budget(self.timeout))
        if not ok:
            raise EmError(self._scrub('{0}; the EM logon session may stay open until {1} ends it.'.format(detail, IDLE_TIMEOUT)))
        return detail is None

    # -- requests ----------------------------------------------------------
    def _send(self, method, url, token=None):
        """One idempotent request with retries; returns the requests.Response (any status).

        Retried on connection errors, timeouts and 502/503/504 with
        exponential backoff and jitter, at most ``retries`` times and within
        ``timeout`` seconds overall.
        """
        deadline = time.monotonic() + self.timeout
        connect = connect_timeout(self.timeout)
        headers = {TOKEN_HEADER: token} if token else {}
        tries = 0
        while True:
            self._check_cancelled()
            # A retry late in the budget still gets a usable wait, but never more than the option itself.
            read = max(deadline - time.monotonic(), min(self.timeout, 1.0))
            attempt = self._attempt(method, url, headers=headers, connect=min(connect, read), read=read)
            tries += 1
            status = attempt.response.status_code if attempt.response is not None else None
            if attempt.response is not None and not may_retry_read(None, status):
                return attempt.response
            if attempt.outcome in (TLS, OTHER):
                raise self._error(method, url, reason=self._failure_reason(url, attempt, tries, read, connect))
            if tries <= self.retries and may_retry_read(attempt.outcome, status):
                delay = backoff_delay(tries - 1)
                if time.monotonic() + delay < deadline:
                    self._note_retry(method, url, self._why(attempt), tries - 1, self.retries + 1)
                    self._sleep(delay)
                    continue
            if attempt.response is not None:
                return attempt.response
            self._check_cancelled()
            raise self._error(method, url, reason=self._failure_reason(url, attempt, tries, self.timeout, connect))

    def _get_response(self, path, allow_missing=False):
        """GET an API path or URL; returns ``(url, response)`` with status 200, or ``(url, None)`` for an allowed 404.

        A 401 on a session we own means it expired (15 minutes idle): the old
        session is logged off (EM may still count it) and we log on again once
        and repeat. Any other unexpected status raises EmError.
        """
        url = self.url(path)
        with self._lock:
            token, generation = self._token, self._generation
        response = self._send('GET', url, token=token)
        if response.status_code == 401 and self.owns_session:
            self._check_cancelled()
            # Several page fetches may see the expiry at once: only the first logs on again.
            with self._relogon_lock:
                if self._generation == generation:
                    self._relogon()
                token = self._token
            response = self._send('GET', url, token=token)
        if response.status_code == 404 and allow_missing:
            return url, None
        if response.status_code != 200:
            raise self._error('GET', url, response)
        return url, response

    def _relogon(self):
        """Replace an expired session: log the old one off (tolerating its failure), then log on again.

        EM answered 401, so the session is most likely gone; but a 401 can
        also come from a proxy or a token EM lost track of for a moment, and a
        session left open counts against EM's concurrent-logon limit. The
        DELETE answers 401/404 for a session that is already gone, which is
        the proof; any other failure is only a warning.
        """
        session_id, token = self.session_id, self._take_token()
        if token:
            ok, detail = self._delete_session(token, session_id, logoff_budget(self.timeout))
            if not ok:
                self.warnings.append(self._scrub('{0}; the expired EM logon session may stay open until {1} ends it.'.format(
                    detail, IDLE_TIMEOUT)))
        self.warnings.append('The EM logon session expired; logged on again.')
        self.logon()

    def _not_an_answer(self, method, url, response, problem):
        """The one sentence for an answer that is not what was asked: the URL, what is wrong, and what EM sent."""
        sent = parsing.describe_body(response.content, response.headers.get('Content-Type'))
        message = '{0} {1} answered HTTP {2} with something that is not the answer asked for: {3}; EM sent {4}.'.format(
            method, self._shown(url), response.status_code, str(problem).rstrip('.'), sent)
        return EmError(self._scrub(message), url=self._shown(url), status=response.status_code)

    def _parse(self, url, response, method='GET'):
        try:
            return parsing.parse_body(response.content)
        except EmError as exc:
            problem = str(exc).replace('The server answered with ', 'it is ', 1)
            raise self._not_an_answer(method, url, response, problem[:1].lower() + problem[1:])

    def get(self, path, allow_missing=False):
        """GET an API path or URL and return the parsed body (JSON-shaped dict/list).

        With ``allow_missing`` a 404 returns None; any other unexpected status,
        or a body that is neither JSON nor XML, raises EmError.
        """
        url, response = self._get_response(path, allow_missing)
        if response is None:
            return None
        return self._parse(url, response)

    def get_entity(self, entity_path, guid, query_type=None):
        """GET ``/<entity_path>/<guid>?format=Entity``; returns the entity dict, or None on 404.

        The answer must be the entity asked for (an object whose UID ends in
        ``guid``); anything else is one sentence naming what EM sent.
        """
        url, response = self._get_response('{0}/{1}?format=Entity'.format(entity_path.strip('/'), guid), allow_missing=True)
        if response is None:
            return None
        doc = self._parse(url, response)
        try:
            return parsing.check_entity(doc, query_type or entity_path.strip('/'), guid)
        except parsing.AnswerError as exc:
            raise self._not_an_answer('GET', url, response, exc)

    def post(self, path, body=None, content_type='application/json', expect=(202,)):
        """POST to an API path or URL (an action such as ``?action=quickbackup``); returns ``(status, parsed body)``.

        A POST is not idempotent: EM may start a backup for every copy it
        receives. So it is sent again only when it provably never reached EM
        (the connection could not be made); never after a timeout, a dropped
        connection or any HTTP answer. ``body`` is a dict (sent as JSON) or
        text already in ``content_type``; EM requires a ``Content-Type`` even
        for an action without a body. A status outside ``expect`` raises
        EmError with EM's own message.
        """
        url = self.url(path)
        if isinstance(body, dict):
            data = json.dumps(body).encode('utf-8')
        elif body is None:
            data = b''
        else:
            data = body.encode('utf-8') if isinstance(body, str) else body
        connect = connect_timeout(self.timeout)
        started = time.monotonic()
        tries = 0
        while True:
            self._check_cancelled()
            with self._lock:
                token = self._token
            headers = {TOKEN_HEADER: token, 'Content-Type': content_type} if token else {'Content-Type': content_type}
            attempt = self._attempt('POST', url, headers=headers, connect=connect, read=self.timeout, data=data)
            tries += 1
            if attempt.response is not None:
                break
            if attempt.outcome == NOT_SENT and tries <= self.retries:
                delay = backoff_delay(tries - 1)
                if time.monotonic() - started + delay < self.timeout:
                    self._note_retry('POST', url, self._why(attempt), tries - 1, self.retries + 1)
                    self._sleep(delay)
                    continue
            self._check_cancelled()
            reason = self._failure_reason(url, attempt, tries, self.timeout, connect)
            if attempt.outcome in (TIMED_OUT, DROPPED):
                reason += '; EM may have received it, so it was not sent again'
            raise self._error('POST', url, reason=reason)
        response = attempt.response
        if response.status_code not in expect:
            raise self._error('POST', url, response)
        return response.status_code, self._parse(url, response, 'POST') if response.content else None

    def get_href(self, href):
        """GET an entity or task by the ``Href`` EM gave in a link (its query string kept); returns the parsed body.

        The path from ``/api/`` on is requested from the EM we are logged on
        to, whatever host the link names: EM builds links from its own view of
        its name, and the token must never go to another host.
        """
        match = re.search(r'/api/(.*)$', href, re.IGNORECASE | re.DOTALL)
        if not match or not match.group(1):
            raise EmError('EM gave the link {0}, which is not an EM REST API address (no /api/ in it).'.format(self._shown(href)))
        return self.get(match.group(1))

    def query_page(self, query_type, filter_text=None, sort_field=None, descending=True, page_size=100, page=1,
                   collection_key=None):
        """Fetch one page of ``/api/query``; returns ``(items, pages_count)`` (pages_count None when absent).

        The page is checked (``parsing.query_page_items``): an answer that is
        not a query result for ``query_type`` or contradicts its own
        PagingInfo is one sentence naming what EM sent, never an empty page.
        """
        url, response = self._get_response(
            query.query_url(self.base_url, query_type, filter_text, sort_field, descending, page_size, page))
        doc = self._parse(url, response)
        try:
            return parsing.query_page_items(doc, query_type, collection_key, page, page_size)
        except parsing.AnswerError as exc:
            raise self._not_an_answer('GET', url, response, exc)


def _tls_failure(exc):
    """Why a TLS handshake failed, from OpenSSL's own words buried in requests' exception chain."""
    match = re.search(r'\] ([^\]]+?) \(_ssl\.c', str(exc))
    reason = match.group(1) if match else _short(exc)
    if 'certificate' in reason.lower():
        return ('TLS certificate verification failed ({0}); set ca_path to the CA that signed the Enterprise Manager '
                'certificate or, for a lab only, validate_certs to false'.format(reason))
    return 'TLS handshake failed ({0})'.format(reason)


def _short(exc):
    """The operating system's reason inside urllib3's long messages, else their first line, capped."""
    text = str(exc)
    match = re.search(r'\[Errno -?\d+\] ([^\'"\])]+)', text)
    if match:
        return match.group(1).strip()
    for name in ('RemoteDisconnected', 'ConnectionResetError', 'BadStatusLine', 'IncompleteRead', 'BrokenPipeError'):
        if name in text:
            found = re.search(name + r"\((?:\d+, )?'([^']*)'", text)
            return '{0}: {1}'.format(name, found.group(1)) if found and found.group(1) else name
    text = text.splitlines()[0] if text else type(exc).__name__
    return shorten_url(text, 300)


def get_client(adapter, **kwargs):
    """The single way to an EmClient: validate the adapter's connection options and build one.

    ``kwargs`` override client tuning (``pool_size``, ``sleep``, ``guard``).
    The client is not logged on yet: use it in a ``with`` block.
    """
    options = adapter.connection_options()
    return EmClient(
        base_url=options['base_url'],
        username=options.get('username'),
        password=options.get('password'),
        session_token=options.get('session_token'),
        validate_certs=options['validate_certs'],
        ca_path=options.get('ca_path'),
        timeout=options['timeout'],
        retries=options['retries'],
        api_version=options['api_version'],
        **kwargs
    )
