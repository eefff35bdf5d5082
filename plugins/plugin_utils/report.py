# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The session report: its inputs checked before any logon, and the whole report built (pure, no HTTP).

``plan`` checks the report's sources and window, ``check_report_dir`` its
folder; ``build`` takes the sessions the query returned, counts them
(``report_aggregate``) and renders them (``report_render``): a
self-contained HTML page, an RFC 4180 CSV and a fixed-width terminal table.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import query, sources as sources_table, validate
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.plugin_utils.report_aggregate import Aggregate
from ansible_collections.vbem.enterprise_manager.plugins.plugin_utils.report_render import (
    DEFAULT_MAX_ROWS, headline, iso, page_template, render_csv, render_html, render_table,
)

SOURCES = sources_table.SESSION_NAMES
QUERY_TYPES = dict((name, sources_table.get(name).query_type) for name in SOURCES)


def plan(sources, window, now=None):
    """Check the report's inputs and return what to query, before any logon.

    ``sources``: one source name (a string) or a list of them, from
    ``backup``, ``replica``, ``cdp``. ``window``: a relative age (``7d``) or
    an ISO-8601 start. Returns ``{'sources', 'query_types', 'window',
    'created_after', 'created_before'}`` with both times as
    ``YYYY-MM-DDTHH:MM:SSZ``; raises EmError with one sentence on bad input.
    """
    chosen = list(validate.distinct_choices(sources, 'report_sources', SOURCES))
    if not isinstance(sources, str) and len(chosen) < len(sources):
        twice = next(source for source in chosen if list(sources).count(source) > 1)
        raise EmError('report_sources names {0} twice; name each source once.'.format(twice))
    now = query.parse_time(now) if now is not None else query.utcnow()
    start, _age = validate.past_moment(window, 'report_window', now)
    return {
        'sources': chosen,
        'query_types': [QUERY_TYPES[s] for s in chosen],
        'window': str(window),
        'created_after': query.format_time(start),
        'created_before': query.format_time(now),
    }


def check_report_dir(value, cwd=None):
    """The absolute, resolved folder a report is written to; EmError with one sentence when it cannot be.

    Checked before any logon: an empty or non-string value, a NUL byte, an
    existing file (not a folder), a folder that cannot be written, or a new
    folder whose nearest existing parent is not a writable folder. A relative
    path is taken from ``cwd`` (default: the current directory); symbolic
    links are resolved (a dangling one names the folder to create).
    """
    if not isinstance(value, str) or not value.strip():
        raise EmError('report_dir must be the folder to write report.html and sessions.csv into, not {0}.'.format(
            validate.shown(value)))
    if '\x00' in value:
        raise EmError('report_dir {0} holds a NUL character, which no path can hold.'.format(validate.shown(value)))
    path = os.path.realpath(os.path.join(cwd or os.getcwd(), os.path.expanduser(value)))
    if os.path.exists(path) and not os.path.isdir(path):
        raise EmError('report_dir {0} is a file, not a folder; give a folder to write report.html and sessions.csv '
                      'into.'.format(validate.shown(value)))
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise EmError('report_dir {0} cannot be created: {1} is a file, not a folder.'.format(validate.shown(value), validate.shown(existing)))
    if not os.access(existing, os.W_OK | os.X_OK):
        what = 'is not writable' if existing == path else 'cannot be created: {0} is not writable'.format(validate.shown(existing))
        raise EmError('report_dir {0} {1} by this user.'.format(validate.shown(value), what))
    return path


def check_report_template(value, cwd=None):
    """The absolute path of a user's page template, read and compiled; EmError with one sentence when it cannot be used.

    Checked before any logon: an empty or non-string value, a NUL byte, a
    path that is not a readable file, a file that is not a Jinja2 template
    (or extends one that does not exist). A relative path is taken from
    ``cwd`` (default: the current directory).
    """
    if not isinstance(value, str) or not value.strip():
        raise EmError('report_template must be the path of a Jinja2 page template, not {0}.'.format(validate.shown(value)))
    if '\x00' in value:
        raise EmError('report_template {0} holds a NUL character, which no path can hold.'.format(validate.shown(value)))
    path = os.path.realpath(os.path.join(cwd or os.getcwd(), os.path.expanduser(value)))
    if not os.path.isfile(path):
        raise EmError('report_template {0} is not a file{1}.'.format(validate.shown(value), '' if os.path.exists(path) else ' (it does not exist)'))
    page_template(path)
    return path


# -- the whole report --------------------------------------------------------------

_SOURCE_OF_TYPE = dict((t.lower(), s) for s, t in QUERY_TYPES.items())


def source_of(session):
    """``backup``/``replica``/``cdp`` from a normalised session's ``type`` (or its ``urn:veeam:<Type>:`` UID), else None."""
    kind = session.get('type')
    if not kind:
        parts = str(session.get('uid') or '').split(':')
        kind = parts[2] if len(parts) == 4 and parts[0].lower() == 'urn' else None
    return _SOURCE_OF_TYPE.get(str(kind).lower()) if kind else None


def _by_source(sessions, sources):
    """Split the em_query answer (one flat list of sessions, all terms together) by source; a dict {source: [...]} passes."""
    if isinstance(sessions, dict):
        unknown = [k for k in sessions if k not in sources]
        if unknown:
            raise EmError('The sessions name source {0}, which the report plan does not hold ({1}).'.format(
                validate.shown(unknown[0]), ', '.join(sources)))
        result = dict((s, list(sessions.get(s) or [])) for s in sources)
        items = [item for s in sources for item in result[s]]
    elif isinstance(sessions, (list, tuple)):
        result = None
        items = sessions
    else:
        raise EmError('The sessions must be the em_query lookup\'s answer (a list of session dicts), not {0}.'.format(
            type(sessions).__name__))
    for item in items:
        if not isinstance(item, dict):
            raise EmError('The sessions hold {0}; expected the normalised session dicts em_query returns without raw or jmespath.'.format(
                validate.shown(item)))
    if result is not None:
        return result
    result = dict((s, []) for s in sources)
    for item in items:
        source = source_of(item)
        if source is None and len(sources) == 1:
            source = sources[0]
        if source not in result:
            raise EmError('A session of type {0} ({1}) is not one of the report\'s sources ({2}); query one task session type per '
                          'planned source.'.format(validate.shown(item.get('type')), validate.shown(item.get('uid')), ', '.join(sources)))
        result[source].append(item)
    return result


def build(sessions, report_plan, now=None, max_rows=DEFAULT_MAX_ROWS):
    """Aggregate and render a report.

    ``sessions``: the em_query answer (one flat list of normalised task
    sessions, each told apart by its ``type``) or ``{source: [sessions]}``; ``report_plan``: what ``plan`` returned;
    ``now``: when the report is made (default: the current UTC time). The
    page is the plan's ``report_template`` when it holds one (checked by
    ``check_report_template``), else the built-in page.
    Returns ``{'headline', 'window', 'generated', 'sources', 'total',
    'totals', 'by_source', 'by_day', 'by_job', 'vms_not_ok', 'html', 'csv',
    'table'}`` where ``table`` is a list of terminal lines.
    """
    if not isinstance(report_plan, dict) or not all(k in report_plan for k in ('sources', 'created_after', 'created_before')):
        raise EmError('The report plan must be what session_report_query returned (sources, created_after, created_before).')
    sources = list(report_plan['sources'])
    start = query.parse_time(report_plan['created_after'])
    end = query.parse_time(report_plan['created_before'])
    generated = query.parse_time(now) if now is not None else query.utcnow()
    try:
        max_rows = int(max_rows)
    except (TypeError, ValueError):
        raise EmError('max_rows must be a whole number (0 for no cap), not {0}.'.format(validate.shown(max_rows)))
    if max_rows < 0:
        raise EmError('max_rows must be 0 (no cap) or more, not {0}.'.format(max_rows))
    agg = Aggregate(_by_source(sessions, sources), sources, start, end, generated)
    return {
        'headline': headline(agg),
        'window': {'text': report_plan.get('window'), 'start': iso(start), 'end': iso(end)},
        'generated': iso(generated),
        'sources': sources,
        'total': agg.total,
        'totals': dict(agg.totals),
        'by_source': dict((s, dict(c)) for s, c in agg.by_source.items()),
        'by_day': [dict(date=d.isoformat(), **c) for d, c in agg.by_day],
        'by_job': agg.by_job,
        'vms_not_ok': [{'vm_name': v['session'].get('vm_name'), 'source': v['source'], 'outcome': v['outcome'],
                        'result': v['session'].get('result'), 'creation_time': iso(v['when']),
                        'job_name': v['session'].get('job_name'), 'reason': v['session'].get('reason')} for v in agg.vms],
        'html': render_html(agg, max_rows, report_plan.get('report_template')),
        'csv': render_csv(agg),
        'table': render_table(agg),
    }
