# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Input checks that need no EM: run before logging on, one sentence each.

Every check raises EmError with a sentence that names the option, says what
was wrong and what is expected. Nothing here ever changes the meaning of a
value: a string is one name, never split on commas; an empty value where a
value is required is an error, never "not given" (only None is).
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import difflib
import math
import re
from datetime import date, datetime

from ansible.module_utils.parsing.convert_bool import boolean

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import query, sessions
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError

DEFAULT_PAGE_SIZE = 1000
# EM documents no upper bound; beyond this a single answer gets large enough
# to hit proxy and HTTP.sys limits, and paging is the right tool anyway.
PAGE_SIZE_MAX = 10000
TIMEOUT_MAX = 3600.0
RETRIES_MAX = 10
ORDERS = ('ascending', 'descending')
# Options that select sessions: ``id`` names one session and excludes them all.
SELECTORS = ('vm_name', 'job_name', 'result', 'state', 'created_after', 'created_before', 'filter', 'latest_per_vm', 'latest_per_job')
BOOLEAN_OPTIONS = ('missing_ok', 'wait', 'latest_per_vm', 'latest_per_job', 'raw')
_INTEGER_RE = re.compile(r'^\s*[+-]?\d+\s*$')
_FIELD_RE = re.compile(r'^[A-Za-z_][A-Za-z0-9_]*$')
# How a minimum is worded where a bare number would not say what it means (every entry point words it so).
_MINIMUM_WORDS = {
    ('limit', 0): '0 (no limit) or more',
    ('wait_timeout', 1): '1 second or more',
    ('wait_sleep', 1): '1 second or more (0 would poll EM without a pause)',
}
_TIME_FORMS = 'an ISO-8601 date-time (2025-08-15T06:00:00Z) or a relative age such as 30m, 24h, 7d or 2w'


def shown(value, limit=60):
    """A short, safe rendering of a user value for an error sentence (``null`` for None, as YAML says)."""
    text = 'null' if value is None else repr(value)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def _kind(value):
    """What a value is, in a user's words (YAML's, not Python's type names)."""
    if value is None:
        return 'null'
    if isinstance(value, bool):
        return 'a boolean'
    if isinstance(value, (int, float)):
        return 'a number'
    if isinstance(value, str):
        return 'a string'
    if isinstance(value, dict):
        return 'a dict'
    if isinstance(value, (list, tuple)):
        return 'a list'
    return 'a ' + type(value).__name__


def names(value, option, required=False):
    """Return a list of names from one name (a string) or a list of names.

    A string is exactly one name: ``"db,02"`` stays ``["db,02"]``. Names are
    kept as given (no trimming); empty names, non-strings and an empty list
    where a value is required are refused. ``None`` means "not given".
    """
    if value is None:
        if required:
            raise EmError('{0} is required: give a name or a list of names.'.format(option))
        return []
    if isinstance(value, (bytes, bytearray)):
        value = value.decode('utf-8')
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise EmError('{0} must be a name or a list of names, not {1} ({2}).'.format(option, _kind(value), shown(value)))
    if not items:
        raise EmError('{0} is an empty list; give at least one name, or leave the option out.'.format(option))
    result = []
    for item in items:
        if not isinstance(item, str) or isinstance(item, bool):
            raise EmError('{0} must hold names (strings), not {1} ({2}).'.format(option, _kind(item), shown(item)))
        if item == '':
            raise EmError('{0} holds an empty name; every name must have at least one character.'.format(option))
        result.append(item)
    return result


def flag(value, option):
    """Return a strict boolean: true/false, yes/no, on/off, 1/0 (any case), never a guess."""
    if isinstance(value, bool):
        return value
    try:
        return boolean(value, strict=True)
    except TypeError:
        raise EmError('{0} must be true or false (yes/no, on/off and 1/0 work too), not {1}.'.format(option, shown(value)))


def whole_number(value, option, minimum=None, maximum=None):
    """Return ``value`` as an int within ``[minimum, maximum]``; EmError naming the option otherwise.

    Accepts ints, floats with no fraction and strings of digits (what
    templating produces); refuses booleans, fractions and anything else. A
    value of the wrong kind and one out of range get the same sentence, which
    says the whole range (``_MINIMUM_WORDS`` words some minimums: ``0 (no limit) or more``).
    """
    number = None
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, float) and value.is_integer():
        number = int(value)
    elif isinstance(value, str) and _INTEGER_RE.match(value):
        number = int(value)
    if number is not None and (minimum is None or number >= minimum) and (maximum is None or number <= maximum):
        return number
    lower_text = _MINIMUM_WORDS.get((option, minimum))
    if minimum is not None and maximum is not None and lower_text is None:
        expected = ' from {0} to {1}'.format(minimum, maximum)
    elif minimum is not None:
        expected = ' of {0}'.format(lower_text or '{0} or more'.format(minimum))
    else:
        expected = ''
    raise EmError('{0} must be a whole number{1}, not {2}.'.format(option, expected, shown(value)))


def given_number(params, option, default, minimum=1, maximum=None):
    """``params[option]`` (``default`` when None) as a whole number in range (see ``whole_number``)."""
    value = params.get(option)
    return whole_number(default if value is None else value, option, minimum, maximum)


def page_size(value):
    """The page size of a query: a whole number from 1 to ``PAGE_SIZE_MAX``, ``DEFAULT_PAGE_SIZE`` when None."""
    return given_number({'page_size': value}, 'page_size', DEFAULT_PAGE_SIZE, 1, PAGE_SIZE_MAX)


def limit(value):
    """How many results a query returns at most: a whole number, 0 meaning no limit."""
    return whole_number(value, 'limit', 0)


def retries(value, option='retries'):
    """How often a failed request is tried again: a whole number from 0 to ``RETRIES_MAX``."""
    return whole_number(value, option, 0, RETRIES_MAX)


def seconds(value, option='timeout', maximum=TIMEOUT_MAX):
    """A number of seconds greater than 0 and at most ``maximum``, as a float."""
    number = None
    if not isinstance(value, bool):
        try:
            number = float(value.strip() if isinstance(value, str) else value)
        except (TypeError, ValueError):
            number = None
    if number is None or not math.isfinite(number) or number <= 0 or number > maximum:
        raise EmError('{0} must be a number of seconds greater than 0 and at most {1:g}, not {2}.'.format(
            option, maximum, shown(value)))
    return number


def number(value, option):
    """Return a number (int, float or a numeric string) as a float; EmError naming the option otherwise."""
    if not isinstance(value, bool):
        if isinstance(value, (int, float)):
            return float(value)
        if isinstance(value, str):
            try:
                return float(value.strip())
            except ValueError:
                pass
    raise EmError('{0} must be a number, not {1}.'.format(option, shown(value)))


# Options whose plugin values are checked by their own checker, as every other entry point checks them.
_PLUGIN_CHECKS = {
    'validate_certs': flag,
    'timeout': seconds,
    'retries': retries,
    'page_size': lambda value, option: page_size(value),
}


def plugin_option_values(given, definitions, skip=()):
    """Check directly given plugin option values against their documented type and choices.

    Ansible's own conversion would take ``validate_certs='maybe'`` as false
    and answer a bad number with a message naming no expectation, so a
    plugin checks its direct keyword values here first. ``definitions`` are
    the plugin's option definitions; options in ``skip`` are checked elsewhere.
    """
    for option in sorted(given):
        value = given[option]
        if option in skip or option not in definitions or value is None:
            continue
        definition = definitions[option]
        kind = definition.get('type') or 'str'
        plugin_value(value, option, kind)
        if kind in ('str', 'string', 'path'):
            text(value, option, 'a value')
            if definition.get('choices'):
                one_of(value, option, definition['choices'])


def plugin_value(value, option, kind):
    """Check one boolean or number a plugin was given (``kind`` its documented type), before Ansible converts it.

    An option with a checker of its own (``validate_certs``, ``timeout``,
    ``retries``, ``page_size``) gets the sentence every entry point gives;
    other values of other types are left alone.
    """
    if option in _PLUGIN_CHECKS:
        _PLUGIN_CHECKS[option](value, option)
    elif kind in ('bool', 'boolean'):
        flag(value, option)
    elif kind in ('int', 'integer'):
        whole_number(value, option)
    elif kind == 'float':
        number(value, option)


def text(value, option, expected):
    """Return a non-empty string; ``expected`` completes "give ..." in the error."""
    if not isinstance(value, str):
        raise EmError('{0} must be a string, {1}, not {2} ({3}).'.format(option, expected, _kind(value), shown(value)))
    if not value.strip():
        raise EmError('{0} is empty; give {1}, or leave the option out.'.format(option, expected))
    return value


def moment(value, option, now=None):
    """Return the naive-UTC datetime of a time option (ISO-8601 or a relative age)."""
    if isinstance(value, (datetime, date)):
        return query.parse_time(value)
    text('' if value is None else value, option, _TIME_FORMS)
    try:
        return query.parse_time(value, now)
    except query.TimeRangeError:
        raise EmError('{0} {1} reaches outside the years 1 to 9999; give a date or an age within them.'.format(
            option, shown(value)))
    except query.TimeZoneError as exc:
        raise EmError('{0} {1} {2}.'.format(option, shown(value), exc.detail))
    except EmError:
        raise EmError('{0} {1} is neither a relative age such as 30m, 24h, 7d or 2w nor an ISO-8601 date-time '
                      '(2025-08-15T06:00:00Z).'.format(option, shown(value)))


def past_moment(value, option, now):
    """A time option that must lie in the past (a window's start, ``max_age``): ``(moment, age)``.

    ``age`` is ``(count, unit)`` for a relative age (``(24, 'h')``), None for
    a date-time. A time not before ``now`` is refused: an age of zero, or a
    date-time in the future, would make a window no session can be in.
    """
    start = moment(value, option, now)
    age = query.relative_age(value)
    if age is not None and age[0] == 0:
        raise EmError('{0} {1} is zero; give a positive age such as 24h.'.format(option, shown(value)))
    if start >= now:
        raise EmError('{0} {1} is not in the past; give a past time or a relative age such as 24h.'.format(option, shown(value)))
    return start, age


def choice_list(value, option, choices):
    """Return a list of allowed values from one value, a comma-separated string or a list.

    Splitting on commas is safe here: no allowed value contains one, so the
    meaning cannot change (and modules' ``list`` type does the same).
    """
    if isinstance(value, str):
        value = [item.strip() for item in value.split(',')]
    return list(_choice_items(value, option, choices))


def distinct_choices(value, option, choices):
    """A tuple of allowed values in the order given, duplicates dropped; a string is one value (never split)."""
    return tuple(dict.fromkeys(_choice_items([value] if isinstance(value, str) else value, option, choices)))


def _choice_items(items, option, choices):
    if not isinstance(items, (list, tuple)):
        raise EmError('{0} must be one or more of {1}, not {2}.'.format(option, ', '.join(choices), shown(items)))
    if not items or list(items) == ['']:
        raise EmError('{0} is empty; give one or more of {1}, or leave the option out.'.format(option, ', '.join(choices)))
    for item in items:
        if item not in choices:
            raise EmError('{0} must be one or more of {1}; {2} is not one of them.'.format(option, ', '.join(choices), shown(item)))
    return items


def one_of(value, option, choices):
    """Return ``value`` when it is one of ``choices`` (case-sensitive, as modules' choices are)."""
    if value not in choices:
        raise EmError('{0} must be one of {1}, not {2}.'.format(option, ', '.join(choices), shown(value)))
    return value


def raw_filter(value, option='filter'):
    """Return a raw EM filter that can be safely parenthesised and ANDed with the rest."""
    text(value, option, 'an EM filter expression such as Result==Failed')
    return query.check_raw_filter(value, option)


def unknown_options(given, known, owner):
    """Refuse option names that ``owner`` does not know, naming the valid ones (and the likely one)."""
    unknown = sorted(str(name) for name in given if name not in known)
    if not unknown:
        return
    valid = sorted(name for name in known if not str(name).startswith('_'))
    hints = []
    for name in unknown:
        close = difflib.get_close_matches(name, valid, n=1)
        if close:
            hints.append('{0} (did you mean {1}?)'.format(name, close[0]))
        else:
            hints.append(name)
    raise EmError('{0} has no option{1} {2}; its options are: {3}.'.format(
        owner, 's' if len(unknown) > 1 else '', ', '.join(hints), ', '.join(valid)))


def query_type(term):
    """Return an EM query type name given as a lookup term (``BackupTaskSession``, ``Job``...)."""
    if not isinstance(term, str):
        raise EmError('Every term must be an EM query type such as BackupTaskSession, not {0} ({1}).'.format(
            _kind(term), shown(term)))
    name = term.strip()
    if not name:
        raise EmError('An empty term was given; name an EM query type such as BackupTaskSession.')
    if not _FIELD_RE.match(name):
        raise EmError('The term {0} is not an EM query type name (letters and digits only), such as BackupTaskSession.'.format(
            shown(term)))
    return name


def _paging_params(params, result):
    """Validate the options every query has (paging, order, limit); write them into ``result``."""
    if params.get('limit') is not None:
        result['limit'] = limit(params['limit'])
    if params.get('page_size') is not None:
        result['page_size'] = page_size(params['page_size'])
    if params.get('concurrency') is not None:
        result['concurrency'] = whole_number(params['concurrency'], 'concurrency', 1, query.MAX_CONCURRENCY)
    if params.get('order') is not None:
        result['order'] = one_of(params['order'], 'order', ORDERS)
    if params.get('filter') is not None:
        result['filter'] = raw_filter(params['filter'])
    if params.get('raw') is not None:
        result['raw'] = flag(params['raw'], 'raw')


def query_params(params):
    """Check the options of a query of any EM type (``Job``, ``BackupServer``...); return a new dict.

    ``sort`` must then be an EM field name. None means "not given" and is
    kept, so defaults stay where they are applied.
    """
    result = dict(params)
    _paging_params(params, result)
    if params.get('sort') is not None:
        sort = text(params['sort'], 'sort', 'an EM field name such as Name')
        if not _FIELD_RE.match(sort):
            raise EmError('sort must be an EM field name (letters, digits and _), such as Name, not {0}.'.format(shown(sort)))
    return result


def _check_sort(kind, sort):
    """``sort`` is one of our field names or an EM field name the kind can be sorted by."""
    ours = sorted(name for name in kind.fields if name not in kind.local_fields)
    text(sort, 'sort', 'one of ' + ', '.join(ours))
    if sort in kind.local_fields:
        raise EmError('sort: {0} sessions cannot be sorted by {1}, as EM has no such query field for them; use one of {2}.'.format(
            kind.query_type, sort, ', '.join(ours)))
    if sort in kind.fields or any(field.lower() == sort.lower() for field in kind.fields.values()):
        return sort
    raise EmError('sort must be one of {0} (or an EM field name of {1}), not {2}.'.format(', '.join(ours), kind.query_type, shown(sort)))


def session_params(kind, params, now=None):
    """Check every session query option that needs no EM; return a new, normalised dict.

    ``kind`` is a SessionKind or its name, ``params`` the module options (or
    the lookup's). Names become lists (a string is one name), results and
    states lists of allowed values, booleans and numbers real ones; None
    still means "not given" so that defaults, and the truncation warning
    (see ``truncation_warnings``), can tell. Idempotent: checking a checked
    dict changes nothing. Raises EmError with one sentence.
    """
    if not isinstance(kind, sessions.SessionKind):
        kind = sessions.KINDS[kind]
    result = dict(params)
    _paging_params(params, result)
    for option in BOOLEAN_OPTIONS:
        if params.get(option) is not None:
            result[option] = flag(params[option], option)
    for option in ('wait_timeout', 'wait_sleep'):
        if params.get(option) is not None:
            result[option] = whole_number(params[option], option, 1)
    for option in ('vm_name', 'job_name'):
        if params.get(option) is not None:
            if option not in kind.fields and option not in kind.local_fields:
                if kind.level == 'point':
                    raise EmError('{0} filters sessions, but EM documents no job field for {1} restore points; leave {0} '
                                  'unset.'.format(option, kind.query_type))
                raise EmError('{0} applies to task sessions{2} only, not to {1}.'.format(
                    option, kind.query_type, ' and restore points' if option == 'vm_name' else ''))
            result[option] = names(params[option], option)
    if params.get('fields') is not None:
        if result.get('raw'):
            raise EmError('fields picks keys of the normalised sessions, so it cannot be combined with raw, which returns EM\'s own entities.')
        known = tuple(sessions.normalise({}, kind))
        result['fields'] = list(dict.fromkeys(choice_list(params['fields'], 'fields', known)))
    if params.get('result') is not None:
        result['result'] = choice_list(params['result'], 'result', sessions.RESULTS)
    if params.get('state') is not None:
        if not kind.states:
            raise EmError('state applies to sessions only; {0} {1} have no state.'.format(kind.query_type, kind.plural()))
        result['state'] = choice_list(params['state'], 'state', kind.states)
    now = now if now is not None else query.utcnow()
    window = {}
    for option in ('created_after', 'created_before'):
        if params.get(option) is not None:
            window[option] = moment(params[option], option, now)
    if len(window) == 2 and window['created_after'] >= window['created_before']:
        raise EmError('created_after ({0}) is not before created_before ({1}), so no session could match; swap or widen them.'.format(
            query.format_time(window['created_after']), query.format_time(window['created_before'])))
    if params.get('sort') is not None:
        result['sort'] = _check_sort(kind, params['sort'])
    if result.get('latest_per_vm') and kind.level not in ('task', 'point'):
        raise EmError('latest_per_vm applies to task sessions and restore points only, not to {0}; use latest_per_job.'.format(
            kind.query_type))
    if result.get('latest_per_vm') and not kind.named and not result.get('vm_name'):
        raise EmError('latest_per_vm on {0} needs the computer names (vm_name): EM\'s {0} does not name its computer, so '
                      'each point is read for, and attributed to, a name asked for.'.format(kind.query_type))
    if result.get('latest_per_job') and kind.level != 'job':
        raise EmError('latest_per_job applies to job sessions only, not to {0}; use latest_per_vm.'.format(kind.query_type))
    if params.get('id') is not None:
        text(params['id'], 'id', 'the GUID or the UID (urn:veeam:{0}:<GUID>) of one session'.format(kind.uid_type))
        sessions.parse_uid(params['id'], kind.uid_type)
        given = [name for name in SELECTORS if result.get(name) not in (None, False)]
        if given:
            raise EmError('id names one session, so it cannot be combined with {0}; give either id or the options that select sessions.'.format(
                ', '.join(given)))
    return result


def truncation_warnings(query_type, params, limit):
    """The warning for a result cut by the default limit (a list of one), or ``[]`` when the user chose ``limit``.

    A limit the user set is a request, not an accident: the result's
    ``truncated`` flag still tells, but nothing warns. With ``latest_per_vm``
    (``latest_per_job``) the limit counts VMs (jobs), and so does the warning.
    """
    if params.get('limit') is not None:
        return []
    if params.get('latest_per_vm') or params.get('latest_per_job'):
        unit = 'VMs' if params.get('latest_per_vm') else 'jobs'
        return ['{0} sessions of more than {1} {2} matched and only the latest session of each of the first {1} {2} is returned; '
                'set limit (0 for all) to choose the number of {2} and silence this warning.'.format(query_type, limit, unit)]
    return ['More than {1} {0} results matched and only the first {1} are returned; '
            'set limit (0 for all) to choose the number and silence this warning.'.format(query_type, limit)]
