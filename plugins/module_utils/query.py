# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Build EM Query Service requests and walk their pages (pure, no HTTP).

EM's filter grammar: ``Field==value``, operators ``== != < <= > >=``, ``;``
is AND, ``,`` is OR, parentheses group, string values are quoted with ``"``
and a literal ``"`` is doubled. Everything here always quotes strings and
always parenthesises OR groups and raw user filters, because EM documents no
precedence between ``;`` and ``,``.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import gc
import re
from contextlib import contextmanager
from datetime import date, datetime, timedelta, timezone

from collections import deque
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote as _url_quote

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError

OPERATORS = ('==', '!=', '<', '<=', '>', '>=')
# Pages in flight at once after the first. Over a WAN each page costs a round
# trip, so four at once pay about a quarter of the latency a sequential reader
# pays; more buys little on a LAN and loads EM. 1 reads pages one by one.
DEFAULT_CONCURRENCY = 4
MAX_CONCURRENCY = 16

_UNITS = {'s': 1, 'm': 60, 'h': 3600, 'd': 86400, 'w': 604800}
_RELATIVE_RE = re.compile(r'^\s*(\d+)\s*([smhdw])\s*$', re.IGNORECASE)
_ISO_RE = re.compile(
    r'^\s*(\d{4})-(\d{2})-(\d{2})'
    r'(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?'
    r'\s*(Z|z|[+-]\d{2}:?\d{2})?\s*$'
)


def quote(value):
    """Quote a string for an EM filter: ``a"b`` -> ``"a""b"``.

    Quoting is unconditional so that spaces, ``;``, ``,``, ``=``, parentheses
    and unicode can never change the meaning of the filter.
    """
    return '"' + str(value).replace('"', '""') + '"'


class TimeRangeError(EmError):
    """A well-formed time that lies outside what a datetime can hold (before year 1 or after 9999)."""


# Every time zone on Earth lies within these offsets (Pacific/Kiritimati +14:00, Etc/GMT+12 -12:00).
MAX_UTC_OFFSET = timedelta(hours=14)


class TimeZoneError(EmError):
    """A well-formed time whose UTC offset no time zone has (beyond +-14:00, or 60 minutes or more).

    ``detail`` completes a sentence that starts with the option's name and value.
    """

    def __init__(self, text, zone):
        self.detail = ('has the UTC offset {0}, which no time zone has (they lie between -14:00 and +14:00); write '
                       'the time in UTC with Z or with its zone\'s real offset').format(zone)
        super(TimeZoneError, self).__init__('The time {0!r} {1}.'.format(text, self.detail))


def _out_of_range(text):
    return TimeRangeError('The time {0!r} reaches outside the years 1 to 9999; give a date or an age within them.'.format(text))


def utcnow():
    """The current time as a naive UTC datetime (the one clock query code reads)."""
    return datetime.now(timezone.utc).replace(tzinfo=None, microsecond=0)


def format_time(moment):
    """Render a naive-UTC or aware datetime as EM wants it: ``YYYY-MM-DDTHH:MM:SSZ``."""
    if moment.tzinfo is not None:
        moment = moment.replace(tzinfo=None) - moment.utcoffset()
    return moment.strftime('%Y-%m-%dT%H:%M:%SZ')


def parse_time(value, now=None):
    """Parse a time option into a naive UTC datetime.

    Accepts ISO-8601 (``2025-08-15T06:00:00Z``, with an offset, without a zone
    = UTC, or a date only = midnight UTC), a datetime/date, or a relative age
    ``30s``, ``30m``, ``24h``, ``7d``, ``2w`` meaning ``now`` minus that.
    Raises EmError with one sentence on anything else.
    """
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            if abs(value.utcoffset()) > MAX_UTC_OFFSET:
                raise TimeZoneError(value.isoformat(), value.strftime('%z'))
            return value.replace(tzinfo=None) - value.utcoffset()
        return value
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day)
    text = '' if value is None else str(value)
    relative = _RELATIVE_RE.match(text)
    if relative:
        now = now if now is not None else utcnow()
        try:
            return parse_time(now) - timedelta(seconds=int(relative.group(1)) * _UNITS[relative.group(2).lower()])
        except OverflowError:
            raise _out_of_range(text)
    match = _ISO_RE.match(text)
    if match:
        year, month, day, hour, minute, second, fraction, zone = match.groups()
        try:
            moment = datetime(int(year), int(month), int(day), int(hour or 0), int(minute or 0), int(second or 0),
                              int((fraction or '0')[:6].ljust(6, '0')))
            if zone and zone not in ('Z', 'z'):
                digits = zone[1:].replace(':', '')
                if int(digits[2:]) >= 60:
                    raise TimeZoneError(text.strip(), zone)
                offset = timedelta(hours=int(digits[:2]), minutes=int(digits[2:]))
                if offset > MAX_UTC_OFFSET:
                    raise TimeZoneError(text.strip(), zone)
                moment = moment - offset if zone[0] == '+' else moment + offset
            return moment
        except OverflowError:
            raise _out_of_range(text)
        except ValueError:
            pass  # no such date (month 13, February 30): refused below like any other text
    raise EmError('The time {0!r} is neither an ISO-8601 date-time (2025-08-15T06:00:00Z) nor a relative age such as 30m, 24h, 7d or 2w.'.format(text))


def relative_age(value):
    """``(count, unit)`` of a relative age such as ``24h`` (unit lower-case), or None for anything else."""
    match = _RELATIVE_RE.match(value) if isinstance(value, str) else None
    return (int(match.group(1)), match.group(2).lower()) if match else None


def format_value(value):
    """Render one filter value: strings quoted, datetimes as quoted UTC, booleans lower-case, numbers bare."""
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, (int, float)):
        return str(value)
    if isinstance(value, datetime):
        return quote(format_time(value))
    return quote(value)


def condition(field, operator, value):
    """One comparison, or a parenthesised OR group when ``value`` is a list.

    ``condition('VmDisplayName', '==', ['a', 'b'])`` -> ``(VmDisplayName=="a",VmDisplayName=="b")``.
    """
    if operator not in OPERATORS:
        raise EmError('The filter operator {0!r} is not one EM knows; use one of {1}.'.format(operator, ' '.join(OPERATORS)))
    if not re.match(r'^[A-Za-z_][A-Za-z0-9_]*$', field or ''):
        raise EmError('The filter field {0!r} is not a valid EM field name.'.format(field))
    if isinstance(value, (list, tuple)):
        values = list(value)
        if not values:
            raise EmError('The filter on {0} was given an empty list of values.'.format(field))
        if len(values) == 1:
            return field + operator + format_value(values[0])
        return '(' + ','.join(field + operator + format_value(v) for v in values) + ')'
    return field + operator + format_value(value)


def build_filter(conditions, raw=None):
    """AND (``;``) a list of ``(field, operator, value)`` conditions and a raw user filter.

    The raw filter is wrapped in parentheses so its own ``,`` cannot escape
    into the AND. Returns None when there is nothing to filter on.
    """
    parts = [condition(f, op, v) for f, op, v in conditions]
    if raw is not None and str(raw).strip():
        parts.append('(' + str(raw).strip() + ')')
    return ';'.join(parts) if parts else None


def check_raw_filter(text, option='filter'):
    """Return a raw user filter, stripped, when wrapping it in parentheses keeps it inside them.

    ``build_filter`` ANDs the raw filter as ``(raw)``. A ``)`` that closes
    before it opens, a ``(`` never closed or a ``"`` never closed would let
    the filter's own ``,`` (OR) escape that AND, or swallow the conditions
    after it, so such a filter is refused with one sentence instead.
    Parentheses inside quoted values do not count; ``""`` is a literal quote.
    """
    value = str(text).strip()
    depth, quote_at, opened = 0, None, []
    for index, char in enumerate(value):
        if char == '"':
            # Toggling on every quote also handles "" (two toggles): the
            # characters between the two are none, so nothing is misread.
            quote_at = index if quote_at is None else None
        elif quote_at is not None:
            continue
        elif char == '(':
            depth += 1
            opened.append(index)
        elif char == ')':
            if depth == 0:
                raise EmError('{0} closes a parenthesis at position {1} that was never opened; give a filter whose parentheses '
                              'pair up, such as (Result==Failed,Result==Warning);TotalSize>0.'.format(option, index + 1))
            depth -= 1
            opened.pop()
    if quote_at is not None:
        raise EmError('{0} opens a quoted value at position {1} that is never closed; end every value with " (write a " '
                      'inside a value as "").'.format(option, quote_at + 1))
    if depth:
        raise EmError('{0} opens a parenthesis at position {1} that is never closed; give a filter whose parentheses '
                      'pair up, such as (Result==Failed,Result==Warning);TotalSize>0.'.format(option, opened[-1] + 1))
    return value


def encoded_length(text):
    """Length of ``text`` once percent-encoded as ``query_url`` encodes it (additive per character)."""
    return len(_url_quote(text, safe=''))


def split_conditions(conditions, raw, url_length, max_length, labels=None):
    """Split list-valued conditions so that every request URL fits ``max_length``.

    ``conditions`` are ``(field, operator, value)`` as for ``build_filter``;
    ``url_length(filter_text)`` returns the length of the request URL that
    would carry ``filter_text``. Returns a list of condition lists, each of
    which ANDs to one filter whose URL fits: together they select exactly
    what the unsplit conditions select (an OR list split into batches, the
    rest repeated). ``labels`` maps a condition's index to the option name
    used in errors. HTTP.sys refuses long request targets with 414 before EM
    sees them, so an unsplit long name list would fail outright.

    Raises EmError, naming the option and never quoting the URL, when even
    one value cannot fit.
    """
    labels = labels or {}

    def measure(conds):
        return url_length(build_filter(conds, raw))

    def splittable(conds):
        return [i for i, (_f, _op, value) in enumerate(conds) if isinstance(value, (list, tuple)) and len(value) > 1]

    def room(conds, index):
        """What the list at ``index`` adds to the URL, encoded (the terms; separators are minor)."""
        field, operator, values = conds[index]
        return sum(encoded_length(_term(field, operator, v)) for v in values)

    def split(conds):
        total = measure(conds)
        if total <= max_length:
            return [conds]
        candidates = splittable(conds)
        if not candidates:
            raise _too_long(conds, raw, total, max_length, labels)
        # Split the list that takes most room; the others stay whole unless they must give way.
        index = max(candidates, key=lambda i: room(conds, i))
        others = [i for i in candidates if i != index]
        if others:
            # When another list takes more than half of what the lists may use, the batches of this
            # one would hold a value or two each (or none: then every value of it would take
            # requests of its own). Halve that list first, so that both get room.
            cut = [(f, op, [v[0]]) if i in candidates else (f, op, v) for i, (f, op, v) in enumerate(conds)]
            usable = max_length - measure(cut)
            other = max(others, key=lambda i: room(conds, i))
            if usable > 0 and room(conds, other) * 2 > usable:
                return [part for half in _halves(conds, other) for part in split(half)]
        field, operator, values = conds[index]
        values = list(values)
        # URL length with this list cut to its first value; the other batch
        # lengths follow by adding encoded terms (percent-encoding is per character).
        first_term = encoded_length(_term(field, operator, values[0]))
        base = measure(conds[:index] + [(field, operator, [values[0]])] + conds[index + 1:]) - first_term
        separator, parens = encoded_length(','), encoded_length('()')
        batches, batch, size = [], [], 0
        for value in values:
            term = encoded_length(_term(field, operator, value))
            grown = size + term + (separator if batch else 0)
            if batch and base + grown + parens > max_length:
                batches.append(batch)
                batch, grown = [], term
            batch.append(value)
            size = grown
        batches.append(batch)
        result = []
        for chunk in batches:
            part = conds[:index] + [(field, operator, chunk)] + conds[index + 1:]
            if len(chunk) == 1 and measure(part) > max_length:
                # One value alone overflows: the other lists must give way.
                result.extend(split(part))
            else:
                result.append(part)
        return result

    return split(list(conditions))


def _halves(conds, index):
    """``conds`` twice, the list at ``index`` cut into two halves of about the same encoded size."""
    field, operator, values = conds[index]
    sizes = [encoded_length(_term(field, operator, v)) for v in values]
    total, running, middle = sum(sizes), 0, 1
    for position, size in enumerate(sizes[:-1], 1):
        running += size
        middle = position
        if running * 2 >= total:
            break
    return [conds[:index] + [(field, operator, list(values[:middle]))] + conds[index + 1:],
            conds[:index] + [(field, operator, list(values[middle:]))] + conds[index + 1:]]


def _term(field, operator, value):
    """One comparison as text (``VmDisplayName=="a"``), for measuring."""
    return field + operator + format_value(value)


def _too_long(conds, raw, total, max_length, labels):
    """The EmError for a filter that cannot be split to fit one request."""
    longest = None
    for i, (field, operator, value) in enumerate(conds):
        for item in (value if isinstance(value, (list, tuple)) else [value]):
            size = encoded_length(_term(field, operator, item))
            if longest is None or size > longest[0]:
                longest = (size, labels.get(i, field), item)
    if raw is not None and str(raw).strip() and (longest is None or encoded_length(str(raw)) > longest[0]):
        return EmError('The filter option is too long for one EM request: the request URL would be {0} characters, '
                       'over max_url_length={1}; shorten the filter or raise max_url_length.'.format(total, max_length))
    shown = str(longest[2])
    shown = shown if len(shown) <= 40 else shown[:37] + '...'
    return EmError('The {0} value {1!r} ({2} characters) is too long for one EM request: the request URL would be {3} '
                   'characters, over max_url_length={4}; EM (HTTP.sys) refuses long URLs with HTTP 414.'.format(
                       longest[1], shown, len(str(longest[2])), total, max_length))


def query_url(base_api_url, query_type, filter_text=None, sort_field=None, descending=True, page_size=100, page=1):
    """Return the full ``/api/query`` URL with every parameter percent-encoded.

    ``pageSize`` is always sent: EM's default page size differs by version.
    The filter is encoded whole (``quote(filter, safe='')``) so ``;``, ``"``
    and ``=`` survive any proxy.
    """
    params = [('type', query_type), ('format', 'Entities')]
    if filter_text:
        params.append(('filter', filter_text))
    if sort_field:
        params.append(('sortDesc' if descending else 'sortAsc', sort_field))
    params.append(('pageSize', str(int(page_size))))
    params.append(('page', str(int(page))))
    return base_api_url.rstrip('/') + '/query?' + '&'.join(k + '=' + _url_quote(str(v), safe='') for k, v in params)


class PageResult(object):
    """What ``fetch_pages`` found: ``items`` in page order, ``truncated``, ``pages_fetched``, ``pages_count``."""

    def __init__(self, items, truncated, pages_fetched, pages_count):
        self.items = items
        self.truncated = truncated
        self.pages_fetched = pages_fetched
        self.pages_count = pages_count


@contextmanager
def _collector_paused():
    """Pause Python's cyclic garbage collector, restoring it as it was.

    A page of 1,000 sessions allocates some 30,000 dicts and lists that all
    stay alive, and every few thousand allocations the collector walks the
    older ones again: measured, 40 % of the CPU of a 100,000-session scan.
    Nothing a scan allocates forms a cycle, so the pause frees nothing late.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _repeated_page(claimed_last, page):
    said = 'said page {0} was the last, yet'.format(claimed_last) if claimed_last is not None else 'sent no PagingInfo and'
    return EmError('EM {0} page {1} came back with only items already read, so its paging cannot be trusted.'.format(
        said, page))


def fetch_pages(fetch_page, page_size, limit=0, concurrency=DEFAULT_CONCURRENCY, accept=None, key=None):
    """Walk a paged query and return a PageResult.

    ``fetch_page(n)`` returns ``(items, pages_count)`` for 1-based page ``n``
    (``pages_count`` None when EM sent no PagingInfo). Page 1 comes first; then
    up to ``concurrency`` of pages 2..N are in flight at once through a thread
    pool (a sliding window: a new page starts as soon as the oldest one is
    consumed), consumed in page order, and only as many as ``limit`` needs
    (0 = no limit). ``concurrency`` 1 reads one page after another.
    ``accept(item)`` drops items client-side (it may keep state: it sees items
    in order); ``key(item)`` de-duplicates items that moved between pages
    while paging. ``truncated`` is True when ``limit`` cut the result or pages
    were left unread; it is never silently False.
    """
    with _collector_paused():
        return _walk_pages(fetch_page, page_size, limit, max(1, int(concurrency or 1)), accept, key)


def _walk_pages(fetch_page, page_size, limit, concurrency, accept, key):
    """``fetch_pages`` without the collector pause."""
    collected = []
    seen = set()

    def consume(items):
        """Take a page's items; returns how many were new (not seen on an earlier page)."""
        new = 0
        for item in items or []:
            marker = key(item) if key else None
            if marker is not None:
                if marker in seen:
                    continue
                seen.add(marker)
            new += 1
            if accept is None or accept(item):
                collected.append(item)
        return new

    items, pages_count = fetch_page(1)
    consume(items)
    fetched = 1
    last_items = items
    last_full = len(items or []) >= page_size
    known = pages_count is not None

    def more_pages():
        if known:
            return fetched < pages_count
        return last_full

    def want_more(in_flight=0):
        # Without client-side filtering every page in flight brings page_size
        # items, so pages past the limit are never started.
        if not limit:
            return True
        expected = in_flight * page_size if accept is None else 0
        return len(collected) + expected < limit

    if not known or concurrency == 1:
        # Without a page count only the last page read tells whether another exists.
        while more_pages() and want_more():
            page_items, _count = fetch_page(fetched + 1)
            fetched += 1
            if not known and page_items and (page_items == last_items or consume(page_items) == 0):
                raise _repeated_page(None, fetched)
            if known:
                consume(page_items)
            last_items = page_items
            last_full = len(page_items or []) >= page_size
    else:
        pending = deque()
        next_page = fetched + 1
        pool = None
        try:
            while True:
                while len(pending) < concurrency and next_page <= pages_count and want_more(len(pending)):
                    if pool is None:
                        pool = ThreadPoolExecutor(max_workers=concurrency)
                    pending.append(pool.submit(fetch_page, next_page))
                    next_page += 1
                if not pending:
                    break
                page_items, _count = pending.popleft().result()
                consume(page_items)
                last_items = page_items
                last_full = len(page_items or []) >= page_size
                fetched += 1
        finally:
            for future in pending:
                future.cancel()
            if pool is not None:
                pool.shutdown(wait=True)

    hidden = False
    if known and fetched >= pages_count and last_full:
        # A full page that claims to be the last may hide more (PagesCount is
        # EM's word, not a fact): read on until a short page. With an honest EM
        # and an exact multiple of page_size this costs one empty page.
        while True:
            page_items, _count = fetch_page(fetched + 1)
            fetched += 1
            if not want_more():
                # The limit is reached: this page only tells whether there was more.
                hidden = bool(page_items)
                break
            if page_items and (page_items == last_items or consume(page_items) == 0):
                raise _repeated_page(pages_count, fetched)
            if len(page_items or []) < page_size:
                break
            last_items = page_items

    truncated = bool(limit) and (len(collected) > limit or more_pages() or hidden)
    if limit:
        collected = collected[:limit]
    return PageResult(collected, truncated, fetched, pages_count)
