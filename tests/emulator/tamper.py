"""Tamper mode: rewrite EM's answers the way a broken EM or a meddling proxy would.

Rules are set with ``POST /_emulator/tamper`` and apply to the JSON answers of
``GET /api/query`` and the entity GETs (``GET /api/{collection}/{id}``), or to
the routes a rule names. Each rule can reverse or shuffle the order (within one
page or across all pages), shift or overwrite the times, lie in ``PagingInfo``,
take the entity wrapper away (or put the items under another type's wrapper),
or replace the whole answer with a chosen status, content type and body. The
README's "Tamper mode" section is the reference; ``control.py`` sets rules from
a shell.
"""

from __future__ import annotations

import copy
import datetime
import random
import re
import threading
from urllib.parse import parse_qsl, quote

from .query import canonical_type
from .resources import COLLECTIONS

QUERY_ROUTE = 'GET /api/query'
ENTITY_ROUTE = 'GET /api/{collection}/{id}'
DEFAULT_ROUTES = (QUERY_ROUTE, ENTITY_ROUTE)
ORDERS = ('reverse', 'shuffle', 'reverse_page', 'shuffle_page')
WRAPPERS = ('none', 'null', 'bare_list', 'other')
PAGING_KEYS = ('PageNum', 'PageSize', 'PagesCount')
_RULE_KEYS = frozenset((
    'routes', 'query_type', 'times', 'order', 'shift_seconds', 'set_time', 'time_fields', 'body', 'content_type',
    'status', 'wrapper', 'other_slot', 'paging', 'drop_paging',
))
_TIME_KEY = re.compile(r'(?:Time|TimeUTC)$', re.IGNORECASE)
_ISO = re.compile(r'^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,7}))?Z$')


class TamperError(ValueError):
    """A tamper rule that cannot be applied (the control endpoint answers 400 with it)."""


class Raw:
    """An answer that replaces EM's: status, content type and body as given."""

    def __init__(self, status, content_type, body):
        self.status = status
        self.content_type = content_type
        self.body = body


def _parse_time(text, what):
    """``YYYY-MM-DDTHH:MM:SS[.f]Z`` -> aware datetime; TamperError naming ``what`` otherwise."""
    match = _ISO.match(text) if isinstance(text, str) else None
    if not match:
        raise TamperError('%s must be a UTC time such as 2025-08-16T06:00:00Z, not %r.' % (what, text))
    parts = [int(p) for p in match.groups()[:6]]
    fraction = (match.group(7) or '0')[:6].ljust(6, '0')
    try:
        return datetime.datetime(*parts, microsecond=int(fraction), tzinfo=datetime.timezone.utc)
    except ValueError as exc:
        raise TamperError('%s is not a valid time (%s).' % (what, exc)) from None


def _format_time(moment):
    text = moment.strftime('%Y-%m-%dT%H:%M:%S')
    if moment.microsecond:
        text += ('.%06d' % moment.microsecond).rstrip('0')
    return text.rjust(19, '0') + 'Z'


class Rule:
    """One validated tamper rule and how often it has been applied."""

    def __init__(self, body, route_labels):
        if not isinstance(body, dict):
            raise TamperError('Each tamper rule must be a JSON object.')
        unknown = set(body) - _RULE_KEYS
        if unknown:
            raise TamperError('Unknown tamper rule key(s): %s. Known: %s.' % (', '.join(sorted(unknown)),
                                                                                ', '.join(sorted(_RULE_KEYS))))
        self.spec = copy.deepcopy(body)
        self.applied = 0
        routes = body.get('routes')
        if routes is None:
            self.routes = DEFAULT_ROUTES
        else:
            known = {label.lower(): label for label in route_labels}
            if not isinstance(routes, list) or not routes or not all(isinstance(r, str) for r in routes):
                raise TamperError('routes must be a non-empty list of route labels such as "GET /api/query".')
            self.routes = []
            for item in routes:
                label = known.get(' '.join(item.split()).lower())
                if label is None:
                    raise TamperError('routes: unknown route %r. Known routes: %s.' % (item, ', '.join(route_labels)))
                self.routes.append(label)
        self.query_type = body.get('query_type')
        if self.query_type is not None and (not isinstance(self.query_type, str) or not self.query_type.strip()):
            raise TamperError('query_type must be a query type name such as "BackupTaskSession".')
        self.times = body.get('times')
        if self.times is not None and (isinstance(self.times, bool) or not isinstance(self.times, int) or self.times < 1):
            raise TamperError('times must be a positive integer (how many answers the rule rewrites).')
        self.order = body.get('order')
        if self.order is not None and self.order not in ORDERS:
            raise TamperError('order must be one of %s.' % ', '.join(ORDERS))
        self.shift = body.get('shift_seconds')
        if self.shift is not None and (isinstance(self.shift, bool) or not isinstance(self.shift, (int, float))):
            raise TamperError('shift_seconds must be a number of seconds (negative moves times back).')
        self.set_time = body.get('set_time')
        if self.set_time is not None:
            _parse_time(self.set_time, 'set_time')
        if self.shift is not None and self.set_time is not None:
            raise TamperError('Give shift_seconds or set_time, not both.')
        self.time_fields = body.get('time_fields')
        if self.time_fields is not None and (not isinstance(self.time_fields, list) or not self.time_fields
                                             or not all(isinstance(f, str) for f in self.time_fields)):
            raise TamperError('time_fields must be a non-empty list of field names such as "CreationTimeUTC".')
        self.body = body.get('body')
        if self.body is not None and not isinstance(self.body, str):
            raise TamperError('body must be a string (the exact answer body; use "" for an empty body).')
        self.content_type = body.get('content_type', 'text/html; charset=utf-8' if self.body is not None else None)
        if self.content_type is not None and not isinstance(self.content_type, str):
            raise TamperError('content_type must be a string (or "" for no Content-Type header).')
        self.status = body.get('status', 200)
        if isinstance(self.status, bool) or not isinstance(self.status, int) or not 100 <= self.status <= 599:
            raise TamperError('status must be an HTTP status (100-599).')
        if 'status' in body and self.body is None:
            raise TamperError('status only applies with body.')
        self.wrapper = body.get('wrapper')
        if self.wrapper is not None and self.wrapper not in WRAPPERS:
            raise TamperError('wrapper must be one of %s.' % ', '.join(WRAPPERS))
        self.other_slot = body.get('other_slot')
        if self.other_slot is not None and (self.wrapper != 'other' or not isinstance(self.other_slot, str)):
            raise TamperError('other_slot names the slot (e.g. "ReplicaTaskSessions") for wrapper "other" only.')
        self.paging = body.get('paging')
        if self.paging is not None:
            if not isinstance(self.paging, dict) or not self.paging:
                raise TamperError('paging must be an object such as {"PagesCount": "page"}.')
            for key, value in self.paging.items():
                if key not in PAGING_KEYS:
                    raise TamperError('paging: unknown key %r. Known: %s.' % (key, ', '.join(PAGING_KEYS)))
                if not (value == 'page' or (isinstance(value, int) and not isinstance(value, bool))):
                    raise TamperError('paging.%s must be an integer or "page" (the requested page number).' % key)
        self.drop_paging = body.get('drop_paging', False)
        if not isinstance(self.drop_paging, bool):
            raise TamperError('drop_paging must be true or false.')
        if self.body is not None and any(body.get(k) is not None for k in (
                'order', 'shift_seconds', 'set_time', 'wrapper', 'paging')):
            raise TamperError('body replaces the whole answer: it cannot be combined with order, times, wrapper or paging.')
        if not any(body.get(k) not in (None, False) for k in (
                'order', 'shift_seconds', 'set_time', 'body', 'wrapper', 'paging', 'drop_paging')):
            raise TamperError('A tamper rule needs at least one of order, shift_seconds, set_time, body, wrapper, '
                              'paging, drop_paging.')

    def matches(self, label, kind):
        if label not in self.routes:
            return False
        if self.times is not None and self.applied >= self.times:
            return False
        return self.query_type is None or (kind or '').lower() == self.query_type.lower()


class Tamper:
    """The current rules; the server calls :meth:`rewrite` on every /api answer."""

    def __init__(self, route_labels):
        self.route_labels = tuple(route_labels)
        self._lock = threading.Lock()
        self.rules = []
        self.tampered = 0

    def clear(self):
        with self._lock:
            self.rules = []
            self.tampered = 0

    def update(self, body):
        """``{"rules": [...]}`` replaces the rules; ``{}`` or ``{"clear": true}`` removes them all."""
        if not isinstance(body, dict):
            raise TamperError('The tamper body must be a JSON object such as {"rules": [...]}.')
        unknown = set(body) - {'rules', 'clear'}
        if unknown:
            raise TamperError('Unknown tamper setting(s): %s. Known: rules, clear.' % ', '.join(sorted(unknown)))
        if 'clear' in body and not isinstance(body['clear'], bool):
            raise TamperError('clear must be true or false.')
        rules = body.get('rules', [])
        if not isinstance(rules, list):
            raise TamperError('rules must be a list of rule objects.')
        built = [Rule(rule, self.route_labels) for rule in rules]
        with self._lock:
            self.rules = built
            if not body or body.get('clear') or not rules:
                self.tampered = 0

    def snapshot(self):
        with self._lock:
            return {'rules': [dict(rule.spec, applied=rule.applied) for rule in self.rules], 'tampered': self.tampered}

    def _take(self, label, kind):
        with self._lock:
            for rule in self.rules:
                if rule.matches(label, kind):
                    rule.applied += 1
                    self.tampered += 1
                    return rule
        return None

    def rewrite(self, label, kind, response, page, page_size, whole, query_key):
        """Return ``response`` (possibly rewritten in place) or a :class:`Raw` answer.

        ``kind`` is the query type or the entity's kind; ``page`` and
        ``page_size`` the requested page; ``whole()`` answers the same query
        with every row on one page (for orders across pages); ``query_key``
        seeds the shuffle so that every page of one query agrees.
        """
        if not self.rules:
            return response
        rule = self._take(label, kind)
        if rule is None:
            return response
        if rule.body is not None:
            return Raw(rule.status, rule.content_type, rule.body.encode('utf-8'))
        data = response.data
        if data is None:
            # XML answers pass unchanged: the rules rewrite EM's JSON shape.
            return response
        data = copy.deepcopy(data)
        items, put = _items(data, kind)
        if items is not None:
            if rule.order is not None and label == QUERY_ROUTE:
                items = _reorder(rule.order, items, page, page_size, whole, query_key)
            if rule.shift is not None or rule.set_time is not None:
                for item in items:
                    _retime(item, rule)
            put(items)
        elif rule.shift is not None or rule.set_time is not None:
            _retime(data, rule)
        if label == QUERY_ROUTE and isinstance(data, dict):
            if rule.paging:
                info = data.get('PagingInfo') or {}
                for key, value in rule.paging.items():
                    info[key] = page if value == 'page' else value
                data['PagingInfo'] = info
            if rule.drop_paging:
                data.pop('PagingInfo', None)
            if rule.wrapper is not None:
                data = _rewrap(rule, data, items or [], kind)
        response.data = data
        return response


def _items(data, kind):
    """The item list of a JSON query answer and a setter for it; ``(None, None)`` for an entity."""
    if not isinstance(data, dict):
        return None, None
    entities = data.get('Entities')
    if isinstance(entities, dict):
        for slot, holder in entities.items():
            if isinstance(holder, dict) and isinstance(holder.get(slot), list):
                return holder[slot], lambda items, holder=holder, slot=slot: holder.__setitem__(slot, items)
    refs = data.get('Refs')
    if isinstance(refs, dict) and isinstance(refs.get('Refs'), list):
        return refs['Refs'], lambda items: refs.__setitem__('Refs', items)
    return None, None


def _reorder(order, items, page, page_size, whole, query_key):
    if order == 'reverse_page':
        return list(reversed(items))
    if order == 'shuffle_page':
        shuffled = list(items)
        random.Random('%s|%d' % (query_key, page)).shuffle(shuffled)
        return shuffled
    everything, _put = _items(whole().data, None)
    everything = list(everything or [])
    if order == 'reverse':
        everything.reverse()
    else:
        random.Random(query_key).shuffle(everything)
    return everything[(page - 1) * page_size:page * page_size]


def _retime(node, rule):
    if not isinstance(node, dict):
        return
    for key, value in node.items():
        wanted = key in rule.time_fields if rule.time_fields else bool(_TIME_KEY.search(key))
        if not wanted or not isinstance(value, str):
            continue
        if rule.set_time is not None:
            node[key] = rule.set_time
            continue
        try:
            moment = _parse_time(value, key) + datetime.timedelta(seconds=rule.shift)
        except (TamperError, OverflowError):
            continue
        node[key] = _format_time(moment)


def _rewrap(rule, data, items, kind):
    if rule.wrapper == 'bare_list':
        return items
    if rule.wrapper == 'none':
        data.pop('Entities', None)
        data.pop('Refs', None)
        return data
    if rule.wrapper == 'null':
        data['Entities'] = None
        data['Refs'] = None
        return data
    # 'other': the items under another type's slot, the asked type's slot empty.
    entities = data.get('Entities')
    if not isinstance(entities, dict):
        entities = data['Entities'] = {}
        data['Refs'] = None
    own = (kind or '') + 's'
    other = rule.other_slot or ('ReplicaTaskSessions' if own != 'ReplicaTaskSessions' else 'BackupTaskSessions')
    for slot in list(entities):
        entities[slot] = None
    entities[other] = {other: items}
    return data



def apply(tamper, label, sub_path, query_string, default_page_size, call, response):
    """The server's hook: rewrite one /api answer by the current rules.

    ``call(query_string)`` answers the same route with another query string
    (used to read every page of a query at once).
    """
    params = {}
    for name, value in parse_qsl(query_string, keep_blank_values=True):
        params.setdefault(name.lower(), value)
    if label == QUERY_ROUTE:
        kind = canonical_type(params.get('type', '')) or params.get('type')
    else:
        segments = [segment for segment in sub_path.split('/') if segment]
        kind = COLLECTIONS.get(segments[0].lower()) if segments else None
    page = _int(params.get('page'), 1)
    page_size = _int(params.get('pagesize'), default_page_size)
    kept = [(n, v) for n, v in parse_qsl(query_string, keep_blank_values=True) if n.lower() not in ('page', 'pagesize')]
    query_key = repr(sorted(kept))
    whole = '&'.join('%s=%s' % (quote(n, safe=''), quote(v, safe='')) for n, v in kept + [('pageSize', '1000000000'),
                                                                                           ('page', '1')])
    return tamper.rewrite(label, kind, response, page, page_size, lambda: call(whole), query_key)


def _int(text, default):
    try:
        value = int(text)
    except (TypeError, ValueError):
        return default
    return value if value > 0 else default
