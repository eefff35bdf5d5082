# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The session report's renderings of an ``Aggregate``: HTML page, CSV and terminal table (pure, no HTTP).

``render_html`` writes a self-contained page (inline CSS and SVG, bad news
first), ``render_csv`` an RFC 4180 CSV safe to open in a spreadsheet,
``render_table`` fixed-width terminal lines; ``headline`` is the one
sentence all three lead with.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import csv
import io
import os
import re
import unicodedata

import jinja2
import jinja2.meta

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import sources as sources_table
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.parsing import BIDI_CONTROLS
from ansible_collections.vbem.enterprise_manager.plugins.plugin_utils.report_aggregate import OUTCOMES, fold, outcome, utc_key

SOURCE_LABELS = dict((name, sources_table.get(name).label) for name in sources_table.SESSION_NAMES)
OUTCOME_LABELS = {'Failed': 'Failed', 'Warning': 'Warning', 'Success': 'Success', 'Running': 'No result yet'}
COLOURS = {'Failed': '#c62828', 'Warning': '#e09b00', 'Success': '#2e7d32', 'Running': '#1565c0'}
CSV_COLUMNS = ('type', 'vm_name', 'job_name', 'start_utc', 'end_utc', 'state', 'result', 'reason', 'size_bytes')
DEFAULT_MAX_ROWS = 500
# Spreadsheets run a cell that starts with one of these as a formula (OWASP "CSV injection").
_FORMULA_FIRST = frozenset(('=', '+', '-', '@', '\t', '\r'))
_TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'


# -- small formatting helpers ------------------------------------------------------

_BIDI = re.compile('[' + BIDI_CONTROLS + ']')
# First-strong isolate and pop directional isolate: plain-text isolation, for attributes.
_FSI, _PDI = u'\u2068', u'\u2069'


def _em_plain(value):
    """EM text inside an attribute (no element can isolate it there): bidi controls dropped, the rest isolated by FSI/PDI."""
    return _FSI + _BIDI.sub('', '' if value is None else str(value)) + _PDI


def _n(number):
    return '{0:,}'.format(number)


def _minute(moment):
    """``2026-11-29 21:40`` from a datetime or a ``utc_key``."""
    if not moment:
        return ''
    if isinstance(moment, str):
        return moment[:10] + ' ' + moment[11:16]
    return moment.strftime('%Y-%m-%d %H:%M')


def _plural(count, word, plural=None):
    return '{0} {1}'.format(_n(count), word if count == 1 else (plural or word + 's'))


def _first_upper(text):
    return text[:1].upper() + text[1:]


def iso(moment):
    """``2026-11-29T21:40:02Z`` from a datetime or a ``utc_key``."""
    if not moment:
        return ''
    if isinstance(moment, str):
        return moment + 'Z'
    return moment.strftime(_TIME_FORMAT)


def _sources_text(sources):
    labels = [sources_table.get(s).noun for s in sources]
    if len(labels) == 1:
        return labels[0]
    return ', '.join(labels[:-1]) + ' and ' + labels[-1]


def headline(agg):
    """One sentence with the bad news first, for the page title and the terminal."""
    failed, warning = agg.totals['Failed'], agg.totals['Warning']
    if not agg.total:
        return 'No {0} task sessions in the window'.format(_sources_text(agg.sources))
    if not failed and not warning:
        if agg.vms:
            running = len(set(fold(vm['session'].get('vm_name')) for vm in agg.vms))
            return '{0}, no failures or warnings; {1} without a result yet'.format(
                _plural(agg.total, 'task session'), _plural(running, 'VM'))
        return 'All {0} succeeded'.format(_plural(agg.total, 'task session'))
    bad = [s for s in (_plural(failed, 'failed session') if failed else '',
                       _plural(warning, 'warning') if warning else '') if s]
    text = ' and '.join(bad) + ' in ' + _plural(agg.total, 'task session')
    if agg.vms_not_ok:
        text = '{0} not protected by a clean last run: '.format(_plural(agg.vms_not_ok, 'VM')) + text
    return text


# -- CSV ------------------------------------------------------------------------------

def _cell(value):
    """A text cell a spreadsheet shows as text: formula starters get a leading apostrophe."""
    if value is None:
        return ''
    text = value if isinstance(value, str) else str(value)
    first = text[:1]
    if first in _FORMULA_FIRST or (first == ' ' and text.lstrip(' ')[:1] in _FORMULA_FIRST):
        return "'" + text
    return text


def render_csv(agg):
    """RFC 4180 CSV (CRLF, quotes doubled, fields with separators quoted): one row per session, newest first."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator='\r\n', quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_COLUMNS)
    for source, session, when in agg.rows:
        size = session.get('total_size')
        writer.writerow((
            source,
            _cell(session.get('vm_name')),
            _cell(session.get('job_name')),
            iso(when),
            iso(utc_key(session.get('end_time'))),
            _cell(session.get('state')),
            _cell(session.get('result')),
            _cell(session.get('reason')),
            '' if size is None else str(int(size)),
        ))
    return buffer.getvalue()


# -- terminal table ----------------------------------------------------------------

def _width(text):
    """Columns a string takes in a terminal (CJK characters take two)."""
    return sum(2 if unicodedata.east_asian_width(ch) in ('W', 'F') else 0 if unicodedata.combining(ch) else 1 for ch in text)


def _clip(text, width):
    if _width(text) <= width:
        return text
    out = ''
    for ch in text:
        if _width(out + ch) > width - 1:
            break
        out += ch
    return out + '~'


def _table(header, rows, numeric_from):
    """Fixed-width lines; columns from ``numeric_from`` on are right-aligned."""
    cells = [list(header)] + [[str(c) for c in row] for row in rows]
    widths = [max(_width(row[i]) for row in cells) for i in range(len(header))]
    lines = []
    for row in cells:
        parts = []
        for i, cell in enumerate(row):
            pad = ' ' * (widths[i] - _width(cell))
            parts.append(pad + cell if i >= numeric_from else cell + pad)
        lines.append('  '.join(parts).rstrip())
    return lines


def render_table(agg, job_width=36):
    """The totals as fixed-width terminal lines: headline, window, per source, per job."""
    lines = [headline(agg) + '.',
             'Window: {0} to {1} UTC ({2} task sessions).'.format(_minute(agg.start), _minute(agg.end), _sources_text(agg.sources))]
    header = ('source', 'sessions') + tuple(OUTCOME_LABELS[o] for o in OUTCOMES) + ('VMs not OK',)
    rows = []
    for source in agg.sources:
        counts = agg.by_source[source]
        vms = sum(1 for vm in agg.vms if vm['source'] == source and vm['outcome'] in ('Failed', 'Warning'))
        rows.append([source, _n(sum(counts.values()))] + [_n(counts[o]) for o in OUTCOMES] + [_n(vms)])
    if len(agg.sources) > 1:
        rows.append(['all', _n(agg.total)] + [_n(agg.totals[o]) for o in OUTCOMES] + [_n(agg.vms_not_ok)])
    lines.append('')
    lines.extend(_table(header, rows, 1))
    if agg.by_job:
        lines.append('')
        header = ('job', 'source', 'sessions') + tuple(OUTCOME_LABELS[o] for o in OUTCOMES)
        rows = [[_clip(j['job_name'], job_width), j['source'], _n(j['total'])] + [_n(j[o]) for o in OUTCOMES] for j in agg.by_job]
        lines.extend(_table(header, rows, 2))
    return lines


# -- HTML -----------------------------------------------------------------------------

TEMPLATES = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'templates')
# The built-in page, by the name a user's template extends it with (the prefix names the built-in templates' folder).
_BUILT_IN = 'vbem.enterprise_manager'
PAGE_TEMPLATE = _BUILT_IN + '/session_report.html.j2'
# A line break and the indentation after it, between two tags: layout of the template, not of the page.
_LAYOUT_BREAK = re.compile(r'(?<=[>}])\n[ \t]+(?=[<{])')
_ENVIRONMENTS = {}


class _PageLoader(jinja2.FileSystemLoader):
    """Templates from one folder, with the line breaks that only lay out the markup dropped (see the built-in's head)."""

    def get_source(self, environment, template):
        source, filename, uptodate = super(_PageLoader, self).get_source(environment, template)
        return _LAYOUT_BREAK.sub('', source), filename, uptodate


def _environment(folder):
    """The Jinja2 environment of the built-in page (under PAGE_TEMPLATE's prefix) and, when given, a user's folder."""
    environment = _ENVIRONMENTS.get(folder)
    if environment is None:
        loaders = [jinja2.PrefixLoader({_BUILT_IN: _PageLoader(TEMPLATES)})]
        if folder:
            loaders.append(_PageLoader(folder))
        environment = jinja2.Environment(loader=jinja2.ChoiceLoader(loaders), autoescape=True, keep_trailing_newline=True,
                                         undefined=jinja2.StrictUndefined)
        environment.filters['number'] = _n
        environment.filters['isolated'] = _em_plain
        environment.globals['plural'] = _plural
        _ENVIRONMENTS[folder] = environment
    return environment


def page_template(path=None):
    """The compiled page template: the user's file at ``path``, or the built-in page; EmError with one sentence when it cannot be used."""
    if path is None:
        return _environment(None).get_template(PAGE_TEMPLATE)
    environment = _environment(os.path.dirname(path))
    try:
        page = environment.get_template(os.path.basename(path))
        # extends/include/import load their templates only when the page renders: load each named one now.
        source = environment.loader.get_source(environment, os.path.basename(path))[0]
        for name in jinja2.meta.find_referenced_templates(environment.parse(source)):
            if name is not None:
                environment.get_template(name)
        return page
    except jinja2.TemplateSyntaxError as exc:
        raise EmError('report_template {0!r} is not a Jinja2 template, line {1}: {2}.'.format(
            path, exc.lineno, (exc.message or 'syntax error').rstrip('.')))
    except jinja2.TemplateNotFound as exc:
        raise EmError('report_template {0!r} names the template {1!r}, which does not exist; the built-in page is {2}.'.format(
            path, exc.name, PAGE_TEMPLATE))
    except (OSError, UnicodeError) as exc:
        raise EmError('report_template {0!r} cannot be read: {1}.'.format(path, exc))


def _segments(counts, scale):
    """The stacked bar of one day or job, worst outcome first: ``x`` and ``width`` in a 1000-wide view box."""
    segments = []
    x = 0.0
    for name in OUTCOMES:
        value = counts.get(name, 0)
        if value:
            segments.append({'outcome': _OUTCOME_VIEW[name], 'count': value, 'x': x, 'width': value * scale})
            x += value * scale
    return segments


_OUTCOME_VIEW = dict((o, {'name': o, 'label': OUTCOME_LABELS[o], 'colour': COLOURS[o]}) for o in OUTCOMES)


def _capped(items, max_rows):
    return items[:max_rows] if max_rows and len(items) > max_rows else items


def page_context(agg, max_rows=DEFAULT_MAX_ROWS):
    """What the page template gets as ``page``: every value the page shows, as plain text and numbers (no markup).

    ``headline``, ``bad`` (any failed or warning session), ``sources_text``
    (``backup and CDP``), ``sources_heading`` (capitalised), ``window``,
    ``generated`` (minute) and ``generated_iso``, ``total``, ``failed``,
    ``warning``, ``undated``; ``outcomes`` (``name``, ``label``, ``colour``,
    worst first); ``tiles`` (``kind``, ``value``, ``label``); ``vms`` and
    ``problems``, at most ``max_rows`` rows each (0 = all; ``vms_total``,
    ``vms_bad`` and ``problems_total`` count them all), each row with
    ``outcome``, ``vm_name``, ``when``, ``type``, ``job_name``, ``reason``,
    and for a VM still running ``last_completed`` (its last completed
    session); ``days`` (``date``, ``weekday``, ``total``, ``counts`` per
    outcome name, ``segments``); ``jobs`` (``job_name``, ``type``,
    ``total``, ``counts``, ``segments``). Segments are ``outcome``,
    ``count``, ``x`` and ``width`` in a 1000-wide bar. VM, job and reason
    text is EM's, as EM sent it.
    """
    vms = []
    for vm in _capped(agg.vms, max_rows):
        session, last = vm['session'], vm['last_completed']
        running_after = last is not None and vm['outcome'] == 'Running'
        vms.append({'outcome': _OUTCOME_VIEW[vm['outcome']], 'vm_name': session.get('vm_name'), 'when': _minute(vm['when']),
                    'type': SOURCE_LABELS[vm['source']], 'job_name': session.get('job_name'),
                    'reason': session.get('reason') or (last.get('reason') if running_after else ''),
                    'last_completed': {'result': last.get('result')} if running_after else None})
    problems = [{'outcome': _OUTCOME_VIEW[outcome(session)], 'vm_name': session.get('vm_name'), 'when': _minute(when),
                 'type': SOURCE_LABELS[source], 'job_name': session.get('job_name'), 'reason': session.get('reason')}
                for source, session, when in _capped(agg.problems, max_rows)]
    peak = max([sum(c.values()) for _d, c in agg.by_day] or [0]) or 1
    days = [{'date': day.isoformat(), 'weekday': day.strftime('%a'), 'total': sum(counts.values()), 'counts': counts,
             'segments': _segments(counts, 1000.0 / peak)} for day, counts in agg.by_day]
    jobs = [{'job_name': job['job_name'], 'type': SOURCE_LABELS[job['source']], 'total': job['total'],
             'counts': dict((o, job[o]) for o in OUTCOMES), 'segments': _segments(job, 1000.0 / (job['total'] or 1))}
            for job in agg.by_job]
    sources_text = _sources_text(agg.sources)
    return {
        'headline': headline(agg), 'bad': bool(agg.totals['Failed'] or agg.totals['Warning']),
        'sources_text': sources_text, 'sources_heading': _first_upper(sources_text),
        'window': '{0} to {1} UTC'.format(_minute(agg.start), _minute(agg.end)),
        'generated': _minute(agg.generated), 'generated_iso': iso(agg.generated),
        'total': agg.total, 'failed': agg.totals['Failed'], 'warning': agg.totals['Warning'], 'undated': agg.undated,
        'outcomes': [_OUTCOME_VIEW[o] for o in OUTCOMES],
        'tiles': [{'kind': 'vms', 'value': agg.vms_not_ok, 'label': 'VMs not OK (newest session)'}] + [
            {'kind': o, 'value': agg.totals[o], 'label': OUTCOME_LABELS[o] + ' sessions'} for o in OUTCOMES],
        'vms': vms, 'vms_total': len(agg.vms), 'vms_bad': sum(1 for vm in agg.vms if vm['outcome'] in ('Failed', 'Warning')),
        'problems': problems, 'problems_total': len(agg.problems),
        'days': days, 'jobs': jobs,
    }


def render_html(agg, max_rows=DEFAULT_MAX_ROWS, template=None):
    """One self-contained page: inline CSS and SVG, no script, nothing fetched (its CSP forbids it).

    The page is the Jinja2 template ``templates/session_report.html.j2``
    (autoescaped), or the user's template at ``template`` (an absolute path,
    as ``check_report_template`` returned it), given ``page_context``. Order
    of the built-in page: headline and tiles, VMs whose newest session is not
    a success, failed and warning sessions with EM's reasons, results per
    day, results per job, then the window and when the report was made.
    ``max_rows`` caps each of the two lists (0 = no cap), with a note
    pointing at sessions.csv.
    """
    page = page_template(template)
    context = page_context(agg, max_rows)
    if template is None:
        return page.render(page=context)
    try:
        return page.render(page=context)
    except Exception as exc:  # pylint: disable=broad-except  # a user's template: any error is one sentence, never a traceback
        raise EmError('report_template {0!r} failed to render the report: {1}: {2}.'.format(
            template, type(exc).__name__, str(exc).rstrip('.')))
