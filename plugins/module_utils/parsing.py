# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Turn EM response bodies into plain Python structures (pure, no I/O).

EM answers in JSON when asked, but older servers, proxies and Veeam's own
documentation speak XML. Both are turned into the same shape: the shape EM's
JSON has (PascalCase keys, ``Links`` as a list of Rel/Href/Name/Type dicts,
collections as lists, query results double wrapped). Everything downstream
therefore handles one shape only.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json
import re
import threading
import xml.etree.ElementTree as ET

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError

_XSI_NIL = '{http://www.w3.org/2001/XMLSchema-instance}nil'
_BOM = b'\xef\xbb\xbf'

# Keys whose canonical spelling is not "first letter upper-cased": a v13
# server that answers in camelCase sends "uid" for "UID" and so on.
_CANONICAL_KEYS = dict((k.lower(), k) for k in (
    'UID', 'Id', 'SessionId', 'UserName', 'VmDisplayName', 'VmUid', 'CreationTimeUTC', 'EndTimeUTC',
    'JobSessionUid', 'PolicySessionUid', 'JobUid', 'PolicyUid', 'BackupServerUid', 'IsRetry', 'PagingInfo',
    'PageNum', 'PageSize', 'PagesCount', 'FirstChanceExceptionMessage', 'StackTrace', 'StatusCode',
    'Href', 'Links', 'Rel', 'Refs', 'Entities', 'TotalSize', 'FailureMessage',
))

# Values EM types as numbers or booleans; XML carries everything as text.
# The lists are the fields Veeam's reference pages type (or show) as numbers
# and booleans, so that raw entities read from XML equal their JSON twins.
_INT_KEYS = frozenset((
    'PageNum', 'PageSize', 'PagesCount', 'Progress', 'TotalSize', 'StatusCode', 'Port',
    'Quota', 'UsedQuota', 'BackupCount', 'ServerBackupCount', 'WorkStationBackupCount', 'ReplicaCount',
    'PublicIpCount', 'MaxConcurrentTasks', 'ThrottlingSpeedLimit', 'RetentionPeriod', 'RetainDays',
    'RetainDaysToKeep', 'RetainCycles', 'RetryTimes', 'RetryTimeout', 'FullPeriod', 'DayOfMonth',
    'BackupProtectionPeriod', 'BackupLogsFrequencyMin', 'BackupCompetitionWaitingPeriodMin', 'TimeOffsetUtc',
    'StorageUsageGb', 'StorageLimitGb', 'MemoryUsageMb', 'CpuUsageMhz', 'CPUCount',
))
_BOOL_KEYS = frozenset((
    'IsRetry', 'Enabled', 'ScheduleEnabled', 'ScheduleConfigured', 'ThrottlingEnabled', 'BackupProtectionEnabled',
    'UseDbBackupRetention', 'UseNetworkFailoverResources', 'WaitForBackupCompletion',
))

# Collection elements whose child is not simply the singular of the parent.
_COLLECTION_ALIASES = {
    ('EntityReferences', 'Ref'): 'Refs',
    ('CdpReplicaSessions', 'CdpPolicySession'): 'CdpReplicaSessions',
}

_LINK_KEYS = ('Rel', 'Href', 'Name', 'Type')
_LINK_KEY_SET = frozenset(_LINK_KEYS)
# Veeam's documentation prints hrefs with a raw "&"; a real server escapes it.
_BARE_AMPERSAND = re.compile(br'&(?!(?:[A-Za-z][A-Za-z0-9]*|#[0-9]+|#x[0-9A-Fa-f]+);)')


def canonical_key(key):
    """Return the PascalCase spelling of a JSON or XML key (``sessionId`` -> ``SessionId``)."""
    if not isinstance(key, str) or not key:
        return key
    known = _CANONICAL_KEYS.get(key.lower())
    if known:
        return known
    return key[0].upper() + key[1:]


# Keys seen to be already canonical. A page of 1,000 sessions holds some
# 40,000 keys drawn from a few dozen names, so one C-level subset test per
# dict replaces a Python call per key (profiled: rewriting every key was the
# client's largest single cost). Bounded, because keys come from the server.
_CANONICAL_SEEN = set()
_CANONICAL_SEEN_MAX = 4096
# lower-cased key -> the spellings of it in _CANONICAL_SEEN (for ci_get).
_SEEN_BY_LOWER = {}
_SEEN_LOCK = threading.Lock()


def _canonical_dict(mapping):
    """Return ``mapping`` itself when its keys are canonical, else a copy with canonical keys."""
    if mapping.keys() <= _CANONICAL_SEEN:
        return mapping
    result = {}
    changed = False
    for key, value in mapping.items():
        canonical = canonical_key(key)
        if canonical != key:
            changed = True
        elif isinstance(key, str) and key not in _CANONICAL_SEEN:
            _remember_canonical(key)
        result[canonical] = value
    return result if changed else mapping


def _remember_canonical(key):
    """Add a canonical key to the seen set (pages are parsed in several threads)."""
    with _SEEN_LOCK:
        if key in _CANONICAL_SEEN or len(_CANONICAL_SEEN) >= _CANONICAL_SEEN_MAX:
            return
        lowered = key.lower()
        # Readers test membership without the lock: publish the spelling before the key.
        _SEEN_BY_LOWER[lowered] = _SEEN_BY_LOWER.get(lowered, ()) + (key,)
        _CANONICAL_SEEN.add(key)


def normalise_keys(value):
    """Recursively rewrite dict keys to their canonical PascalCase spelling.

    Dicts whose keys are already canonical are returned as they are (not
    copied); others are rebuilt. Lists are rebuilt only when an item changed.
    """
    if isinstance(value, dict):
        changed = False
        items = {}
        for key, item in value.items():
            normalised = normalise_keys(item)
            changed = changed or normalised is not item
            items[key] = normalised
        return _canonical_dict(items if changed else value)
    if isinstance(value, list):
        normalised = [normalise_keys(v) for v in value]
        if any(a is not b for a, b in zip(normalised, value)):
            return normalised
        return value
    return value


def ci_get(mapping, key, default=None):
    """Look ``key`` up in ``mapping`` ignoring case; ``default`` when absent or not a dict."""
    if not isinstance(mapping, dict):
        return default
    if key in mapping:
        return mapping[key]
    lowered = key.lower()
    if mapping.keys() <= _CANONICAL_SEEN:
        # Every key is one seen before, so the only keys that can match are
        # the seen spellings of this one: no scan of the mapping needed.
        spellings = _SEEN_BY_LOWER.get(lowered, ())
        if len(spellings) < 2:
            for spelling in spellings:
                return mapping.get(spelling, default)
            return default
    for k, v in mapping.items():
        if isinstance(k, str) and k.lower() == lowered:
            return v
    return default


def _scalar(key, text):
    """Convert XML text to the type EM's JSON would carry; lenient, keeps text on doubt."""
    if key in _INT_KEYS:
        try:
            return int(text)
        except ValueError:
            return text
    if key in _BOOL_KEYS or (key.startswith('Is') and key[2:3].isupper()):
        if text.lower() in ('true', 'false'):
            return text.lower() == 'true'
    return text


def _local(name):
    """Strip an XML namespace: ``{ns}Tag`` -> ``Tag``."""
    return name.rsplit('}', 1)[-1]


def _collection_key(element):
    """The JSON key of an XML collection element, or None when it is not one."""
    children = list(element)
    if element.attrib or not children:
        return None
    tag = _local(element.tag)
    child_tags = set(_local(c.tag) for c in children)
    if len(child_tags) != 1:
        return None
    child = child_tags.pop()
    alias = _COLLECTION_ALIASES.get((tag, child))
    if alias:
        return alias
    if tag in (child + 's', child + 'es') or (child.endswith('y') and tag == child[:-1] + 'ies'):
        return tag
    return None


def _links(element):
    """``<Links><Link .../></Links>`` -> list of dicts with all four link keys."""
    result = []
    for link in element:
        attrs = dict((_local(k), v) for k, v in link.attrib.items())
        result.append(dict((k, attrs.get(k)) for k in _LINK_KEYS))
    return result


def _element_value(element):
    """Convert one XML element into the value its JSON twin carries."""
    tag = _local(element.tag)
    if tag == 'Links':
        return _links(element)
    if element.attrib.get(_XSI_NIL) == 'true':
        return None
    collection = _collection_key(element)
    if collection:
        return {collection: [_element_value(c) for c in element]}
    children = list(element)
    attrs = dict((_local(k), v) for k, v in element.attrib.items() if not k.startswith('{http://www.w3.org/'))
    if not attrs and not children:
        text = (element.text or '').strip()
        return _scalar(tag, text) if text else None
    result = dict((k, _scalar(k, v)) for k, v in attrs.items())
    for child in children:
        key = _local(child.tag)
        value = _element_value(child)
        if key in result and key not in attrs:
            # A repeated child outside a recognised collection: keep them all.
            if not isinstance(result[key], list) or key == 'Links':
                result[key] = [result[key]]
            result[key].append(value)
        else:
            result[key] = value
    return result


def parse_xml(body):
    """Parse an EM XML document (bytes) into the shape its JSON twin has.

    The root element's own name is dropped, as in JSON: an entity becomes its
    dict, a collection root becomes ``{"<Plural>": [...]}`` (single wrap) and a
    ``QueryResult`` keeps ``Entities -> <Plural> -> <Plural> -> [...]``.
    """
    if isinstance(body, str):
        body = body.encode('utf-8')
    if body.startswith(_BOM):
        body = body[len(_BOM):]
    if b'<!DOCTYPE' in body or b'<!ENTITY' in body:
        raise EmError('The server answered with an XML document carrying a DOCTYPE, which EM never sends; refusing to parse it.')
    body = _BARE_AMPERSAND.sub(b'&amp;', body)
    try:
        root = ET.fromstring(body)
    except ET.ParseError as exc:
        raise EmError('The server answered with XML that cannot be parsed ({0}).'.format(exc))
    return _element_value(root)


def parse_body(body):
    """Parse a response body (bytes or str): JSON first, XML when it starts with ``<``.

    Returns None for an empty body. Keys come back in canonical PascalCase.
    Raises EmError when the body is neither JSON nor XML.
    """
    if body is None:
        return None
    if isinstance(body, str):
        body = body.encode('utf-8')
    if body.startswith(_BOM):
        body = body[len(_BOM):]
    stripped = body.strip()
    if not stripped:
        return None
    if stripped.startswith(b'<'):
        return normalise_keys(parse_xml(stripped))
    try:
        # The hook sees every object once, innermost first, as json builds it:
        # the same result as normalise_keys afterwards, at a fraction of the cost.
        return json.loads(stripped.decode('utf-8'), object_hook=_canonical_dict)
    except (ValueError, UnicodeDecodeError):
        raise EmError('The server answered with a body that is neither JSON nor XML.')


def error_message(body):
    """Return EM's own message from an error envelope (JSON or XML), or None.

    Falls back to ``FirstChanceExceptionMessage`` when ``Message`` is empty.
    Never raises: an unparseable error body just yields None.
    """
    try:
        doc = parse_body(body)
    except EmError:
        return None
    if not isinstance(doc, dict):
        return None
    for key in ('Message', 'FirstChanceExceptionMessage'):
        value = ci_get(doc, key)
        if isinstance(value, str) and value.strip():
            return value.strip()
    return None


def _unwrap_list(value, key=None):
    """Accept ``[...]``, ``{"X": [...]}`` (double wrap) or None; return a list."""
    if value is None:
        return []
    if isinstance(value, list):
        return value
    if isinstance(value, dict):
        if key is not None and ci_get(value, key, False) is not False:
            inner = ci_get(value, key)
            return inner if isinstance(inner, list) else _unwrap_list(inner)
        for inner in value.values():
            if isinstance(inner, list):
                return inner
        if any(ci_get(value, k) is not None for k in ('UID', 'Href', 'Type')):
            # A lone entity where a list was expected (XML with one odd child).
            return [value]
    return []


def extract_items(doc, collection_key=None):
    """Return the list of entities or references a query or collection answered.

    Handles ``{"Entities": {"X": {"X": [...]}}}`` (query, entities),
    ``{"Refs": {"Refs": [...]}}`` (query, references), ``{"X": [...]}`` (plain
    collection), ``null`` slots and absent lists. ``collection_key`` (e.g.
    ``BackupTaskSessions``) picks the slot; without it the first non-empty
    slot is used, which is how other query types (Job, BackupServer...) work.
    """
    if isinstance(doc, list):
        return doc
    if not isinstance(doc, dict):
        return []
    entities = ci_get(doc, 'Entities')
    if isinstance(entities, dict):
        if collection_key is not None:
            slot = ci_get(entities, collection_key)
            if slot is not None:
                return _unwrap_list(slot, collection_key)
        for key, slot in entities.items():
            if slot is not None:
                return _unwrap_list(slot, key)
        return []
    refs = ci_get(doc, 'Refs')
    if refs is not None:
        return _unwrap_list(refs, 'Refs')
    if collection_key is not None:
        slot = ci_get(doc, collection_key)
        if slot is not None:
            return _unwrap_list(slot, collection_key)
    if 'Entities' in doc or 'PagingInfo' in doc:
        return []
    for value in doc.values():
        if isinstance(value, list) and not _looks_like_links(value):
            return value
    return []


def _looks_like_links(value):
    """True when ``value`` is a list of link dicts, which is never the payload."""
    return bool(value) and isinstance(value[0], dict) and 'Rel' in value[0] and set(value[0].keys()) <= set(_LINK_KEYS)


def paging_info(doc):
    """Return ``(page_num, page_size, pages_count)`` from a query result; Nones when absent."""
    info = ci_get(doc, 'PagingInfo') if isinstance(doc, dict) else None
    if not isinstance(info, dict):
        return None, None, None

    def _int(key):
        try:
            return int(ci_get(info, key))
        except (TypeError, ValueError):
            return None
    return _int('PageNum'), _int('PageSize'), _int('PagesCount')


def href_id(href):
    """The last path segment of an EM link (a GUID or ``task-N``), without the query string."""
    return href.split('?', 1)[0].rstrip('/').rsplit('/', 1)[-1]


def link_dicts(entity, rel=None):
    """Return an entity's links as snake_case dicts ``{rel, href, name, type}``; with ``rel``, only those of that Rel."""
    wanted = rel.lower() if rel else None
    result = []
    for link in _unwrap_list(ci_get(entity, 'Links'), 'Links'):
        if not isinstance(link, dict):
            continue
        if wanted is not None:
            link_rel = ci_get(link, 'Rel')
            if link_rel != rel and (not isinstance(link_rel, str) or link_rel.lower() != wanted):
                continue
        if link.keys() <= _LINK_KEY_SET:
            # Canonical keys (what parse_body yields): plain gets, no case-folding scan.
            get = link.get
            result.append({'rel': get('Rel'), 'href': get('Href'), 'name': get('Name'), 'type': get('Type')})
        else:
            result.append(dict((k.lower(), ci_get(link, k)) for k in _LINK_KEYS))
    return result


class AnswerError(EmError):
    """An answer that is not what was asked (not a query result, a contradictory page, another entity).

    The message is a phrase saying what is wrong with it; the client turns it
    into one sentence that also names the URL and what EM sent.
    """


# Shown characters of a body in a sentence: enough to recognise a proxy page or an error text.
BODY_SHOWN = 60
# Bidirectional marks, embeddings, overrides and isolates (a regex character class body): in EM text they
# could reorder what surrounds them wherever it is shown.
BIDI_CONTROLS = '\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069'
# What a message never shows as it is: control characters, bidi controls and other invisibles.
_UNSAFE_CHARS = re.compile('[\x00-\x1f\x7f-\x9f\u200b-\u200d\ufeff' + BIDI_CONTROLS + ']')


def describe_body(content, content_type):
    """What EM sent, as a phrase for a sentence: ``text/html, starting '<html><body>...'``.

    The content type is the header as sent (``no content type`` when absent);
    the body is shown by its first ``BODY_SHOWN`` characters with whitespace
    runs folded, control and bidirectional characters replaced by ``?``.
    """
    shown_type = ' '.join(str(content_type).split()) if content_type else 'no content type'
    if len(shown_type) > BODY_SHOWN:
        shown_type = shown_type[:BODY_SHOWN] + '...'
    shown_type = _UNSAFE_CHARS.sub('?', shown_type)
    # Only the start matters; a proxy page can be megabytes.
    content = content or b''
    longer = len(content) > BODY_SHOWN * 64
    content = content[:BODY_SHOWN * 64]
    if isinstance(content, bytes):
        content = content.decode('utf-8', 'replace')
    text = ' '.join(content.lstrip('\ufeff').split())
    if not text and not longer:
        return '{0} with an empty body'.format(shown_type)
    cut = text[:BODY_SHOWN]
    return "{0}, starting '{1}{2}'".format(shown_type, _UNSAFE_CHARS.sub('?', cut), '...' if longer or len(text) > BODY_SHOWN else '')


def _plural(query_type):
    """EM's wrapper name for a query type: ``BackupTaskSession`` -> ``BackupTaskSessions``, ``Repository`` -> ``Repositories``."""
    if query_type.endswith('y') and query_type[-2:-1] not in 'aeiou':
        return query_type[:-1] + 'ies'
    return query_type + 's'


def _kind_of(value):
    if value is None:
        return 'null'
    if isinstance(value, list):
        return 'a list of {0} item{1}'.format(len(value), '' if len(value) == 1 else 's')
    if isinstance(value, dict):
        return 'an object'
    return 'a {0}'.format(type(value).__name__.replace('str', 'string').replace('int', 'number').replace('float', 'number'))


def _slot_items(slot, key):
    """The list in one ``Entities`` slot: ``null``, ``[...]``, ``{"X": [...]}`` or ``{"X": null}``; AnswerError otherwise."""
    if slot is None:
        return []
    if isinstance(slot, list):
        return slot
    if isinstance(slot, dict):
        inner = ci_get(slot, key, False)
        if inner is None:
            return []
        if isinstance(inner, list):
            return inner
        if inner is False and not slot:
            return []
        others = ', '.join(sorted(str(k) for k in slot)) or 'nothing'
        raise AnswerError('its {0} wrapper holds {1} instead of a {0} list'.format(
            key, _kind_of(inner) if inner is not False else others))
    raise AnswerError('its {0} wrapper is {1}, not a list'.format(key, _kind_of(slot)))


def _non_empty(slot):
    """True when an Entities slot carries at least one item."""
    if isinstance(slot, list):
        return bool(slot)
    if isinstance(slot, dict):
        return any(_non_empty(value) if isinstance(value, (list, dict)) else value is not None for value in slot.values())
    return slot is not None


def _paging_numbers(doc):
    """``(page_num, page_size, pages_count)`` of a page's PagingInfo, None when absent; AnswerError when malformed."""
    if 'PagingInfo' not in doc and ci_get(doc, 'PagingInfo', False) is False:
        return None
    info = ci_get(doc, 'PagingInfo')
    if not isinstance(info, dict):
        raise AnswerError('its PagingInfo is {0}, not an object'.format(_kind_of(info)))
    numbers = []
    for key in ('PageNum', 'PageSize', 'PagesCount'):
        value = ci_get(info, key)
        if isinstance(value, bool) or not isinstance(value, (int, str)) or not str(value).strip().isdigit():
            raise AnswerError('its PagingInfo has {0} {1} instead of a whole number'.format(
                key, 'no' if value is None else repr(value)))
        numbers.append(int(value))
    return tuple(numbers)


def query_page_items(doc, query_type, collection_key=None, page=None, page_size=None):
    """The items and the page count of one ``/api/query?format=Entities`` page, checked; AnswerError otherwise.

    Accepted, as EM and the documentation show them: the double-wrapped
    ``{"Entities": {"X": {"X": [...]}}, "PagingInfo": {...}}`` (any key case,
    from JSON or XML), the slot single-wrapped (``"X": [...]``) or ``null``
    (no hits), and the plain collection shape ``{"X": [...]}``.
    ``collection_key`` is the wrapper the query type answers in; without it
    (types the collection has no table for) EM's plural of the type is
    expected, and an answer with exactly one non-empty slot is taken.

    Refused: no body, anything but an object, no ``Entities`` wrapper (``{}``,
    an HTML page read as XML, references), the items under another type's
    wrapper, an item that is not an object, and a page that contradicts its
    own PagingInfo: another page number than the one asked, more items than
    the page size (its own or the one asked), items on a page past
    ``PagesCount``, or a short page that claims more pages follow.

    Returns ``(items, pages_count)``; ``pages_count`` is None without
    PagingInfo (the caller then reads on until a short page).
    """
    if doc is None:
        raise AnswerError('the body is empty')
    if not isinstance(doc, dict):
        raise AnswerError('it is {0}, not a QueryResult object'.format(_kind_of(doc)))
    expected = collection_key or _plural(query_type)
    entities = ci_get(doc, 'Entities')
    numbers = _paging_numbers(doc)
    if isinstance(entities, dict):
        own = ci_get(entities, expected, False)
        others = [str(key) for key, slot in entities.items() if str(key).lower() != expected.lower() and _non_empty(slot)]
        if own is not False:
            items = _slot_items(own, expected)
            if others:
                raise AnswerError('it carries {0} {1} {2}'.format(', '.join(sorted(others)), 'besides the' if items else
                                                                  'instead of', expected + (' asked for' if items else '')))
        elif collection_key is None and len(others) <= 1:
            items = _slot_items(entities[others[0]], others[0]) if others else []
        elif others:
            raise AnswerError('it carries {0} instead of {1}'.format(', '.join(sorted(others)), expected))
        else:
            raise AnswerError('its Entities wrapper has no {0}'.format(expected))
    elif entities is None and ci_get(doc, expected) is not None:
        items = _slot_items(ci_get(doc, expected), expected)
    elif entities is None and ci_get(doc, 'Refs') is not None:
        raise AnswerError('it holds references (Refs) where entities were asked for')
    elif entities is None and 'Entities' in doc and numbers is not None and numbers[2] == 0:
        # "Entities": null with PagesCount 0: an empty result in a shape EM may use (undocumented).
        items = []
    elif entities is not None or 'Entities' in doc:
        raise AnswerError('its Entities wrapper is {0}, not an object'.format(_kind_of(entities)))
    else:
        keys = ', '.join(sorted(str(k) for k in doc)[:6])
        raise AnswerError('it has no Entities wrapper ({0})'.format('its keys: ' + keys if keys else 'it is an empty object'))
    for item in items:
        if not isinstance(item, dict):
            raise AnswerError('its {0} list holds {1} where entities belong'.format(expected, _kind_of(item)))
    if numbers is None:
        return items, None
    page_num, size, pages_count = numbers
    count = len(items)
    if page is not None and page_num != page:
        raise AnswerError('it says it is page {0} of {1} where page {2} was asked for'.format(page_num, pages_count, page))
    if page_size is not None and count > page_size:
        raise AnswerError('it holds {0} items where at most {1} (pageSize) were asked for'.format(count, page_size))
    if count > size:
        raise AnswerError('it holds {0} items but its PagingInfo says PageSize {1}'.format(count, size))
    if count and page_num > pages_count:
        raise AnswerError('it holds {0} items on page {1} but its PagingInfo says PagesCount {2}'.format(
            count, page_num, pages_count))
    if page_num < pages_count and count < min(size, page_size or size):
        raise AnswerError('page {0} holds only {1} item{2} (PageSize {3}) yet its PagingInfo says {4} pages'.format(
            page_num, count, '' if count == 1 else 's', size, pages_count))
    return items, pages_count


def check_entity(doc, query_type, guid):
    """The entity an entity GET answered, checked to be the one asked for; AnswerError otherwise.

    EM's entity is an object whose ``UID`` (or ``Id``) ends in the GUID asked
    for; anything else (an empty body, ``{}``, a list, a proxy page, another
    session) is not the answer.
    """
    if doc is None:
        raise AnswerError('the body is empty')
    if not isinstance(doc, dict):
        raise AnswerError('it is {0}, not a {1} entity'.format(_kind_of(doc), query_type))
    ids = [value for value in (ci_get(doc, 'UID'), ci_get(doc, 'Id')) if isinstance(value, str) and value.strip()]
    if not ids:
        raise AnswerError('it is not a {0} entity (no UID)'.format(query_type))
    wanted = str(guid).lower()
    if not any(value.lower().rsplit(':', 1)[-1] == wanted for value in ids):
        raise AnswerError('it is another entity ({0}) than the {1} {2} asked for'.format(ids[0][:80], query_type, guid))
    return doc
