"""Logon sessions: Basic logon, tokens, idle expiry, the concurrent-session cap."""

from __future__ import annotations

import base64
import binascii
import threading
import time
import uuid

# EM's roles (ug_em_about_accounts_and_roles): what the emulator checks on actions.
ROLES = ('PortalAdministrator', 'PortalUser', 'RestoreOperator')
_ROLES_LOWER = {role.lower(): role for role in ROLES}


def parse_users(text):
    """``name:password:role,...`` -> ``[(name, password, role)]``; ValueError with one sentence when malformed.

    Roles: PortalAdministrator, PortalUser, RestoreOperator (any case, spaces ignored: "Portal User").
    """
    users = []
    for item in (text or '').split(','):
        if not item.strip():
            continue
        parts = item.strip().split(':')
        if len(parts) < 3 or not parts[0] or not parts[-1]:
            raise ValueError('each --users entry is name:password:role, not %r' % item.strip())
        name, password, role = parts[0], ':'.join(parts[1:-1]), parts[-1]
        canonical = _ROLES_LOWER.get(role.replace(' ', '').lower())
        if canonical is None:
            raise ValueError('role %r of user %r is not one of %s' % (role, name, ', '.join(ROLES)))
        users.append((name, password, canonical))
    return users


class AuthError(Exception):
    """An authentication failure with the HTTP status and EM message to send."""

    def __init__(self, status, message, challenge=False):
        super().__init__(message)
        self.status = status
        self.message = message
        self.challenge = challenge


class LogonSession:
    """One logon session; ``token`` is what clients send, ``session_id`` the GUID in URLs.

    ``used`` tells whether any request after the logon carried the token: a
    session never used is one whose 201 answer its creator probably never got.
    """

    __slots__ = ('session_id', 'token', 'username', 'last_used', 'created', 'used', 'state', 'role')

    def __init__(self, session_id, username, now, role='PortalAdministrator'):
        self.role = role
        self.session_id = session_id
        self.token = base64.b64encode(session_id.encode('ascii')).decode('ascii')
        self.username = username
        self.created = now
        self.last_used = now
        self.used = False
        self.state = 'active'


class SessionStore:
    """Thread-safe registry of logon sessions and the counters about them."""

    def __init__(self, username, password, idle_timeout=900.0, max_sessions=50, clock=time.monotonic, users=()):
        self.username = username
        self.password = password
        # name (lower case) -> (name as configured, password, role); the --username account is a Portal Administrator.
        self.accounts = {username.lower(): (username, password, 'PortalAdministrator')}
        for name, user_password, role in users:
            self.accounts[name.lower()] = (name, user_password, role)
        self.idle_timeout = float(idle_timeout)
        self.max_sessions = int(max_sessions)
        self.clock = clock
        self._lock = threading.Lock()
        self._by_token = {}
        self._records = {}
        self.reset()

    def reset(self):
        """Forget every session and zero the counters."""
        with self._lock:
            self._by_token.clear()
            self._records.clear()
            self.logons = 0
            self.logoffs = 0
            self.failed_logons = 0
            self.expired = 0
            self.peak = 0

    def _end(self, session, state):
        del self._by_token[session.token]
        session.state = state
        if state == 'expired':
            self.expired += 1
        else:
            self.logoffs += 1

    def _purge(self, now):
        for session in list(self._by_token.values()):
            if now - session.last_used > self.idle_timeout:
                self._end(session, 'expired')

    def mark_used(self, tokens):
        """Record that a request carried these tokens (whatever became of the request)."""
        with self._lock:
            for token in tokens:
                session = self._records.get(token)
                if session is not None:
                    session.used = True

    def logon(self, authorization):
        """Validate a Basic ``Authorization`` header and create a session."""
        user, password = _parse_basic(authorization)
        account = self.accounts.get(user.lower()) if user is not None else None
        with self._lock:
            if account is None or password != account[1]:
                self.failed_logons += 1
                raise AuthError(401, 'Authentication failed: the user name or password is incorrect.' if user is not None
                                else 'Authorization header expected but not found.', challenge=True)
            now = self.clock()
            self._purge(now)
            if len(self._by_token) >= self.max_sessions:
                self.failed_logons += 1
                raise AuthError(503, 'The maximum number of concurrent logon sessions (%d) has been reached. '
                                'Log off unused sessions or wait until they expire.' % self.max_sessions)
            session = LogonSession(str(uuid.uuid4()), account[0], now, account[2])
            self._by_token[session.token] = session
            self._records[session.token] = session
            self.logons += 1
            self.peak = max(self.peak, len(self._by_token))
            return session

    def authenticate(self, token):
        """Return the live session for ``token`` (refreshing its idle timer) or raise 401."""
        if not token:
            raise AuthError(401, 'Authorization token expected but not found. Log on with POST /api/sessionMngr/?v=latest '
                            'and send the X-RestSvcSessionId header.')
        with self._lock:
            session = self._by_token.get(token)
            now = self.clock()
            if session is not None and now - session.last_used > self.idle_timeout:
                self._end(session, 'expired')
                session = None
                message = 'The logon session has expired. Log on again.'
            else:
                message = 'The logon session was not found or has expired. Log on again.'
            if session is None:
                raise AuthError(401, message)
            session.last_used = now
            return session

    def find(self, caller, session_id):
        """The caller's own session by SessionId, or None (other users' sessions are invisible)."""
        with self._lock:
            if caller.session_id.lower() == (session_id or '').lower() and caller.token in self._by_token:
                return caller
        return None

    def logoff(self, caller, session_id):
        """Delete the caller's session; False when the id is unknown or not the caller's."""
        with self._lock:
            if caller.session_id.lower() != (session_id or '').lower() or caller.token not in self._by_token:
                return False
            self._end(caller, 'logged_off')
            return True

    def expire_all(self):
        """Expire every session now (fault injection)."""
        with self._lock:
            for session in list(self._by_token.values()):
                self._end(session, 'expired')

    def stats(self):
        """Counters for ``/_emulator/stats``."""
        with self._lock:
            self._purge(self.clock())
            never_used = [session for session in self._records.values() if not session.used]
            return {'logons': self.logons, 'logoffs': self.logoffs, 'failed_logons': self.failed_logons,
                    'expired_sessions': self.expired, 'active_sessions': len(self._by_token),
                    'peak_active_sessions': self.peak, 'never_used_sessions': len(never_used),
                    'active_never_used': sum(1 for session in never_used if session.state == 'active')}


def _parse_basic(header):
    """(user, password) from a Basic header, or (None, None) when absent/malformed."""
    if not header or not header[:6].lower() == 'basic ':
        return None, None
    try:
        decoded = base64.b64decode(header[6:].strip(), validate=True).decode('utf-8')
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None, None
    if ':' not in decoded:
        return None, None
    user, password = decoded.split(':', 1)
    return user, password
