"""Fault injection for /api routes: latency, random errors, dropped connections and answers, forced failures."""

from __future__ import annotations

import random
import threading

LOGON_ROUTE = 'POST /api/sessionMngr/'
LOGOFF_ROUTE = 'DELETE /api/logonSessions/{id}'
_DEFAULTS = {
    'latency_ms': 0, 'logon_latency_ms': 0, 'logoff_latency_ms': 0,
    'error_rate': 0.0, 'error_status': 503, 'fail_next': 0, 'fail_status': 500, 'error_routes': None,
    'drop_connections': 0, 'drop_answers': 0, 'drop_routes': None,
}
_INTEGERS = ('fail_next', 'error_status', 'fail_status')
_ROUTE_LISTS = ('error_routes', 'drop_routes')
_DROPS = ('drop_connections', 'drop_answers')


class FaultError(ValueError):
    """A fault configuration that cannot be applied."""


class Faults:
    """Current fault settings; decisions come from a seeded RNG so runs are reproducible.

    ``routes`` are the labels (``"GET /api/query"``...) that ``error_routes``
    and ``drop_routes`` may name.
    """

    def __init__(self, seed=0, routes=()):
        self.seed = seed
        self.routes = tuple(routes)
        self._routes_lower = {label.lower(): label for label in self.routes}
        self._lock = threading.Lock()
        self.clear()

    def clear(self):
        """Remove every fault and reseed the RNG."""
        with self._lock:
            self.settings = dict(_DEFAULTS)
            self.rng = random.Random(self.seed)

    def _route_list(self, key, value):
        if value is None:
            return None
        if not isinstance(value, list) or not value or not all(isinstance(item, str) for item in value):
            raise FaultError('%s must be a non-empty list of route labels such as "GET /api/query", or null for every '
                             '/api route.' % key)
        labels = []
        for item in value:
            label = self._routes_lower.get(' '.join(item.split()).lower())
            if label is None:
                raise FaultError('%s: unknown route %r. Known routes: %s.' % (key, item, ', '.join(self.routes)))
            if label not in labels:
                labels.append(label)
        return labels

    def update(self, body):
        """Merge a JSON object into the settings; returns True when it asked to expire sessions."""
        if not isinstance(body, dict):
            raise FaultError('The fault body must be a JSON object.')
        unknown = set(body) - set(_DEFAULTS) - {'clear', 'expire_sessions'}
        if unknown:
            raise FaultError('Unknown fault setting(s): %s. Known: %s, clear, expire_sessions.' % (
                ', '.join(sorted(unknown)), ', '.join(sorted(_DEFAULTS))))
        for flag in ('clear', 'expire_sessions'):
            if flag in body and not isinstance(body[flag], bool):
                raise FaultError('%s must be true or false.' % flag)
        new = {}
        for key, value in body.items():
            if key in ('clear', 'expire_sessions'):
                continue
            if key in _ROUTE_LISTS:
                new[key] = self._route_list(key, value)
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise FaultError('Fault setting %s must be a non-negative number.' % key)
            if key == 'error_rate' and value > 1:
                raise FaultError('error_rate must be between 0 and 1.')
            if key in _DROPS and isinstance(value, float) and value >= 1:
                raise FaultError('%s must be an integer count or a rate below 1.' % key)
            if key.endswith('_status') and not 400 <= value <= 599:
                raise FaultError('%s must be an HTTP error status (400-599).' % key)
            if key in _INTEGERS and not float(value).is_integer():
                raise FaultError('%s must be an integer.' % key)
            new[key] = int(value) if key in _INTEGERS else value
        # Validate everything before changing anything, so a 400 leaves the settings as they were.
        if not body or body.get('clear'):
            self.clear()
        with self._lock:
            self.settings.update(new)
        return bool(body.get('expire_sessions'))

    def snapshot(self):
        """A copy of the current settings."""
        with self._lock:
            return {key: list(value) if isinstance(value, list) else value for key, value in self.settings.items()}

    def _take(self, key):
        """Consume one unit of a drop setting (a count) or roll its rate; True when this request is hit."""
        value = self.settings[key]
        if isinstance(value, int) and value >= 1:
            self.settings[key] = value - 1
            return True
        return isinstance(value, float) and value > 0 and self.rng.random() < value

    def decide(self, route):
        """Decide the fate of a request to ``route`` (``"GET /api/query"``).

        Returns ``(fate, status, latency_seconds)``; fate is ``'drop'`` (close
        before processing), ``'drop_answer'`` (process, then close without an
        answer), ``'fail'`` (answer ``status``) or None.
        """
        with self._lock:
            settings = self.settings
            latency = settings['latency_ms']
            if route == LOGON_ROUTE:
                latency += settings['logon_latency_ms']
            elif route == LOGOFF_ROUTE:
                latency += settings['logoff_latency_ms']
            latency /= 1000.0
            drop_scope = settings['drop_routes']
            if drop_scope is None or route in drop_scope:
                if self._take('drop_connections'):
                    return 'drop', 0, latency
                if self._take('drop_answers'):
                    return 'drop_answer', 0, latency
            error_scope = settings['error_routes']
            if error_scope is None or route in error_scope:
                if settings['fail_next'] > 0:
                    settings['fail_next'] -= 1
                    return 'fail', settings['fail_status'], latency
                if settings['error_rate'] > 0 and self.rng.random() < settings['error_rate']:
                    return 'fail', settings['error_status'], latency
            return None, 0, latency
