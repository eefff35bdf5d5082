"""Fault injection for /api routes: latency, random errors, dropped connections, forced failures."""

from __future__ import annotations

import random
import threading

_DEFAULTS = {'latency_ms': 0, 'error_rate': 0.0, 'error_status': 503, 'drop_connections': 0, 'fail_next': 0, 'fail_status': 500}


class FaultError(ValueError):
    """A fault configuration that cannot be applied."""


class Faults:
    """Current fault settings; decisions come from a seeded RNG so runs are reproducible."""

    def __init__(self, seed=0):
        self.seed = seed
        self._lock = threading.Lock()
        self.clear()

    def clear(self):
        """Remove every fault and reseed the RNG."""
        with self._lock:
            self.settings = dict(_DEFAULTS)
            self.rng = random.Random(self.seed)

    def update(self, body):
        """Merge a JSON object into the settings; returns True when it asked to expire sessions."""
        if not isinstance(body, dict):
            raise FaultError('The fault body must be a JSON object.')
        unknown = set(body) - set(_DEFAULTS) - {'clear', 'expire_sessions'}
        if unknown:
            raise FaultError('Unknown fault setting(s): %s. Known: %s, clear, expire_sessions.' % (
                ', '.join(sorted(unknown)), ', '.join(sorted(_DEFAULTS))))
        if not body or body.get('clear'):
            self.clear()
        new = {}
        for key, value in body.items():
            if key in ('clear', 'expire_sessions'):
                continue
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0:
                raise FaultError('Fault setting %s must be a non-negative number.' % key)
            if key == 'error_rate' and value > 1:
                raise FaultError('error_rate must be between 0 and 1.')
            if key.endswith('_status') and not 400 <= value <= 599:
                raise FaultError('%s must be an HTTP error status (400-599).' % key)
            if key in ('fail_next', 'error_status', 'fail_status') and not float(value).is_integer():
                raise FaultError('%s must be an integer.' % key)
            new[key] = int(value) if key in ('fail_next', 'error_status', 'fail_status') else value
        with self._lock:
            self.settings.update(new)
        return bool(body.get('expire_sessions'))

    def snapshot(self):
        """A copy of the current settings."""
        with self._lock:
            return dict(self.settings)

    def decide(self):
        """Decide this request's fate: ('drop'|'fail'|None, status, latency_seconds)."""
        with self._lock:
            settings = self.settings
            latency = settings['latency_ms'] / 1000.0
            drop = settings['drop_connections']
            if isinstance(drop, int) and drop >= 1:
                settings['drop_connections'] = drop - 1
                return 'drop', 0, latency
            if isinstance(drop, float) and drop > 0 and self.rng.random() < drop:
                return 'drop', 0, latency
            if settings['fail_next'] > 0:
                settings['fail_next'] -= 1
                return 'fail', settings['fail_status'], latency
            if settings['error_rate'] > 0 and self.rng.random() < settings['error_rate']:
                return 'fail', settings['error_status'], latency
            return None, 0, latency
