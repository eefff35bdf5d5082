# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one REST client for the Veeam Backup Enterprise Manager API.

Modules and lookups never speak HTTP themselves: they get a client from
``get_client(adapter)`` and use it as a context manager, which guarantees
the logoff. EM limits concurrent logon sessions, so a leaked one is an
incident, not a nit.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import base64
import random
import re
import threading
import time
import traceback
from http.cookiejar import DefaultCookiePolicy

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError, scrub
from ansible_collections.vbem.enterprise_manager.plugins.module_utils import parsing, query, sessions

REQUESTS_IMPORT_ERROR = None
try:
    import requests
    from requests.adapters import HTTPAdapter
    from requests.auth import HTTPBasicAuth
    HAS_REQUESTS = True
except ImportError:
    HAS_REQUESTS = False
    REQUESTS_IMPORT_ERROR = traceback.format_exc()

__all__ = ['EmError', 'EmClient', 'get_client', 'HAS_REQUESTS', 'REQUESTS_IMPORT_ERROR']

TOKEN_HEADER = 'X-RestSvcSessionId'
RETRY_STATUSES = frozenset((502, 503, 504))
BACKOFF_BASE = 0.5
BACKOFF_MAX = 10.0


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
    """Exponential backoff with jitter: ``min(base * 2**attempt + jitter, maximum)``."""
    return min(base * (2 ** attempt) + rand() * base, maximum)


def _token_to_session_id(token):
    """EM v10+ tokens are base64 of the SessionId; decode when the body did not tell us."""
    try:
        decoded = base64.b64decode(token.encode('ascii'), validate=True).decode('ascii')
    except (ValueError, UnicodeError):
        return None
    return decoded if sessions.is_guid(decoded) else None


class EmClient(object):
    """A logged-on connection to Enterprise Manager.

    Use as ``with get_client(adapter) as client:``. On enter it logs on (or
    adopts a caller's ``session_token``); on exit, success or failure, it logs
    off the session it owns. ``client.warnings`` collects non-fatal notes
    (retries, a failed logoff) for the caller to surface.
    """

    def __init__(self, base_url, username=None, password=None, session_token=None, validate_certs=True,
                 ca_path=None, timeout=30.0, retries=3, api_version='latest', pool_size=8, sleep=time.sleep):
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
        self._sleep = sleep
        self._lock = threading.Lock()
        self._relogon_lock = threading.Lock()
        self._generation = 0
        self._http = requests.Session()
        self._http.cookies.set_policy(BlockAllCookies())
        self._http.auth = _no_auth
        self._http.headers.update({'Accept': 'application/json', 'User-Agent': 'vbem.enterprise_manager'})
        adapter = HTTPAdapter(pool_connections=2, pool_maxsize=max(int(pool_size), 1))
        self._http.mount('https://', adapter)
        self._http.mount('http://', adapter)

    # -- context manager -------------------------------------------------
    def __enter__(self):
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
    def _secrets(self):
        return (self._password, self._token)

    def url(self, path):
        """Absolute URL for an API path (``query`` -> ``https://em:9398/api/query``); absolute URLs pass through."""
        if path.startswith('http://') or path.startswith('https://'):
            return path
        return self.base_url + '/' + path.lstrip('/')

    def _error(self, method, url, response=None, reason=None):
        """Build the one-sentence EmError for a failed request."""
        url_shown = scrub(url, self._secrets())
        if response is not None:
            em_message = parsing.error_message(response.content)
            status = response.status_code
            detail = em_message or (response.reason or 'no message')
            hint = ''
            if status == 401:
                hint = ' (the credentials were rejected)' if 'sessionMngr' in url else ' (the session token is invalid or expired)'
            elif 300 <= status < 400:
                hint = ' (a redirect: is the url pointing at the EM REST API on port 9398?)'
            message = '{0} {1} failed with HTTP {2}{3}: {4}'.format(method, url_shown, status, hint, detail.rstrip('.'))
            return EmError(scrub(message, self._secrets()) + '.', url=url_shown, status=status,
                           em_message=scrub(em_message, self._secrets()))
        message = '{0} {1} failed: {2}'.format(method, url_shown, reason)
        return EmError(scrub(message, self._secrets()).rstrip('.') + '.', url=url_shown)

    def _send(self, method, url, idempotent, auth=None, token=None):
        """One logical request with retries; returns the requests.Response (any status).

        Idempotent requests are retried on connection errors, timeouts and
        502/503/504 with exponential backoff and jitter, bounded by ``retries``
        and by ``timeout`` overall.
        """
        deadline = time.monotonic() + self.timeout
        attempt = 0
        headers = {}
        if token:
            headers[TOKEN_HEADER] = token
        while True:
            remaining = max(deadline - time.monotonic(), 1.0)
            try:
                response = self._http.request(method, url, headers=headers, auth=auth, verify=self.verify,
                                              timeout=remaining, allow_redirects=False)
            except requests.exceptions.SSLError as exc:
                raise self._error(method, url, reason=_tls_failure(exc))
            except (requests.exceptions.ConnectionError, requests.exceptions.Timeout) as exc:
                if not idempotent or not self._may_retry(attempt, deadline):
                    raise self._error(method, url, reason='{0} after {1} attempt(s): {2}'.format(
                        type(exc).__name__, attempt + 1, _short(exc)))
                self._backoff(method, url, attempt, type(exc).__name__)
                attempt += 1
                continue
            except requests.exceptions.RequestException as exc:
                raise self._error(method, url, reason='{0}: {1}'.format(type(exc).__name__, _short(exc)))
            except OSError as exc:
                # requests raises bare OSErrors too, for example for an unreadable CA bundle.
                raise self._error(method, url, reason=_short(exc))
            if response.status_code in RETRY_STATUSES and idempotent and self._may_retry(attempt, deadline):
                self._backoff(method, url, attempt, 'HTTP {0}'.format(response.status_code))
                attempt += 1
                continue
            return response

    def _may_retry(self, attempt, deadline):
        return attempt < self.retries and time.monotonic() + backoff_delay(attempt, rand=lambda: 0) < deadline

    def _backoff(self, method, url, attempt, why):
        delay = backoff_delay(attempt)
        self.warnings.append(scrub('Retrying {0} {1} after {2} (attempt {3} of {4}).'.format(
            method, url, why, attempt + 2, self.retries + 1), self._secrets()))
        self._sleep(delay)

    # -- session lifecycle ----------------------------------------------
    def logon(self):
        """Log on with Basic auth (``POST /api/sessionMngr/?v=<api_version>``, expect 201).

        With a caller's ``session_token`` nothing is sent: the token is used as is.
        """
        if not self.owns_session:
            return
        url = self.url('sessionMngr/') + '?v=' + self.api_version
        auth = HTTPBasicAuth((self.username or '').encode('utf-8'), (self._password or '').encode('utf-8'))
        response = self._send('POST', url, idempotent=False, auth=auth)
        if response.status_code != 201:
            raise self._error('POST', url, response)
        token = response.headers.get(TOKEN_HEADER)
        if not token:
            raise EmError('POST {0} answered HTTP 201 without an {1} header; is the url pointing at the EM REST API on port 9398?'.format(
                url, TOKEN_HEADER), url=url, status=201)
        try:
            body = parsing.parse_body(response.content)
        except EmError:
            body = None
        self.session_id = parsing.ci_get(body, 'SessionId') if isinstance(body, dict) else None
        if not self.session_id:
            self.session_id = _token_to_session_id(token)
        with self._lock:
            self._token = token
            self._generation += 1

    def close(self):
        """Log off the session we own (``DELETE /api/logonSessions/{SessionId}``) and release connections.

        Never raises: a failed logoff becomes a warning so it cannot hide the
        error that got us here. A caller's token is never logged off.
        """
        try:
            if self.owns_session and self._token:
                if self.session_id:
                    url = self.url('logonSessions/' + self.session_id)
                    try:
                        response = self._send('DELETE', url, idempotent=True, token=self._token)
                        if response.status_code not in (200, 204, 401, 404):
                            self.warnings.append(str(self._error('DELETE', url, response)) + ' The EM logon session may stay open until it expires.')
                    except EmError as exc:
                        self.warnings.append(str(exc) + ' The EM logon session may stay open until it expires.')
                else:
                    self.warnings.append('EM did not tell us its SessionId, so the logon session cannot be logged off and will expire on its own.')
                self._token = None
        finally:
            self._http.close()

    # -- requests ----------------------------------------------------------
    def get(self, path, allow_missing=False):
        """GET an API path or URL and return the parsed body (JSON-shaped dict/list).

        A 401 on a session we own means it expired (15 minutes idle): log on
        again once and repeat. With ``allow_missing`` a 404 returns None; any
        other unexpected status raises EmError.
        """
        url = self.url(path)
        with self._lock:
            token, generation = self._token, self._generation
        response = self._send('GET', url, idempotent=True, token=token)
        if response.status_code == 401 and self.owns_session:
            # Several page fetches may see the expiry at once: only the first logs on again.
            with self._relogon_lock:
                if self._generation == generation:
                    self.warnings.append('The EM logon session expired; logged on again.')
                    self.logon()
                token = self._token
            response = self._send('GET', url, idempotent=True, token=token)
        if response.status_code == 404 and allow_missing:
            return None
        if response.status_code != 200:
            raise self._error('GET', url, response)
        return parsing.parse_body(response.content)

    def get_entity(self, entity_path, guid):
        """GET ``/<entity_path>/<guid>?format=Entity``; returns the entity dict, or None on 404."""
        return self.get('{0}/{1}?format=Entity'.format(entity_path.strip('/'), guid), allow_missing=True)

    def query_page(self, query_type, filter_text=None, sort_field=None, descending=True, page_size=100, page=1,
                   collection_key=None):
        """Fetch one page of ``/api/query``; returns ``(items, pages_count)`` (pages_count None when absent)."""
        url = query.query_url(self.base_url, query_type, filter_text, sort_field, descending, page_size, page)
        doc = self.get(url)
        items = parsing.extract_items(doc, collection_key)
        _num, _size, pages_count = parsing.paging_info(doc)
        return items, pages_count


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
    text = text.splitlines()[0] if text else type(exc).__name__
    return text[:300]


def get_client(adapter, **kwargs):
    """The single way to an EmClient: validate the adapter's connection options and build one.

    ``kwargs`` override client tuning (``pool_size``, ``sleep``). The client is
    not logged on yet: use it in a ``with`` block.
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
