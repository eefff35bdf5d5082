# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The session report: aggregate a window of task sessions and render it (pure, no HTTP).

``plan`` checks the report's inputs before anything talks to EM; ``build``
turns the sessions the query returned into totals plus three renderings: a
self-contained HTML page (inline CSS and SVG, bad news first), an RFC 4180
CSV safe to open in a spreadsheet, and a fixed-width terminal table. One
pass over the sessions does all the counting, so tens of thousands of
sessions cost well under a second.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import csv
import io
import os
import re
import unicodedata
from datetime import datetime, timedelta
from html import escape

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import query, sources as sources_table
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.parsing import BIDI_CONTROLS
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.sessions import is_running, parse_em_time

SOURCES = sources_table.SESSION_NAMES
QUERY_TYPES = dict((name, sources_table.get(name).query_type) for name in SOURCES)
SOURCE_LABELS = dict((name, sources_table.get(name).label) for name in SOURCES)
# Worst first: the order of every table and of the chart's stacks.
OUTCOMES = ('Failed', 'Warning', 'Success', 'Running')
OUTCOME_LABELS = {'Failed': 'Failed', 'Warning': 'Warning', 'Success': 'Success', 'Running': 'No result yet'}
COLOURS = {'Failed': '#c62828', 'Warning': '#e09b00', 'Success': '#2e7d32', 'Running': '#1565c0'}
CSV_COLUMNS = ('type', 'vm_name', 'job_name', 'start_utc', 'end_utc', 'state', 'result', 'reason', 'size_bytes')
DEFAULT_MAX_ROWS = 500
# Spreadsheets run a cell that starts with one of these as a formula (OWASP "CSV injection").
_FORMULA_FIRST = frozenset(('=', '+', '-', '@', '\t', '\r'))
_TIME_FORMAT = '%Y-%m-%dT%H:%M:%SZ'


def _shown(value, limit=60):
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def plan(sources, window, now=None):
    """Check the report's inputs and return what to query, before any logon.

    ``sources``: one source name (a string) or a list of them, from
    ``backup``, ``replica``, ``cdp``. ``window``: a relative age (``7d``) or
    an ISO-8601 start. Returns ``{'sources', 'query_types', 'window',
    'created_after', 'created_before'}`` with both times as
    ``YYYY-MM-DDTHH:MM:SSZ``; raises EmError with one sentence on bad input.
    """
    if isinstance(sources, str):
        sources = [sources]
    if not isinstance(sources, (list, tuple)) or not sources:
        raise EmError('report_sources must be a list holding some of {0}, not {1}.'.format(', '.join(SOURCES), _shown(sources)))
    chosen = []
    for source in sources:
        if source not in SOURCES:
            raise EmError('report_sources holds {0}; each source must be one of {1}.'.format(_shown(source), ', '.join(SOURCES)))
        if source in chosen:
            raise EmError('report_sources names {0} twice; name each source once.'.format(source))
        chosen.append(source)
    if window is None or str(window).strip() == '':
        raise EmError('report_window is empty; give a relative age such as 7d or an ISO-8601 start time.')
    now = query.parse_time(now) if now is not None else query.utcnow()
    try:
        start = query.parse_time(window, now)
    except query.TimeZoneError as exc:
        raise EmError('report_window {0!r} {1}.'.format(str(window), exc.detail))
    except EmError:
        raise EmError('report_window {0!r} is neither a relative age such as 24h, 7d or 2w nor an ISO-8601 start time '
                      '(2026-11-01T00:00:00Z).'.format(str(window)))
    if start >= now:
        raise EmError('report_window {0!r} starts at {1}, which is not in the past.'.format(str(window), query.format_time(start)))
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
            _shown(value)))
    if '\x00' in value:
        raise EmError('report_dir {0} holds a NUL character, which no path can hold.'.format(_shown(value)))
    path = os.path.realpath(os.path.join(cwd or os.getcwd(), os.path.expanduser(value)))
    if os.path.exists(path) and not os.path.isdir(path):
        raise EmError('report_dir {0} is a file, not a folder; give a folder to write report.html and sessions.csv '
                      'into.'.format(_shown(value)))
    existing = path
    while not os.path.exists(existing):
        existing = os.path.dirname(existing)
    if not os.path.isdir(existing):
        raise EmError('report_dir {0} cannot be created: {1} is a file, not a folder.'.format(_shown(value), _shown(existing)))
    if not os.access(existing, os.W_OK | os.X_OK):
        what = 'is not writable' if existing == path else 'cannot be created: {0} is not writable'.format(_shown(existing))
        raise EmError('report_dir {0} {1} by this user.'.format(_shown(value), what))
    return path


def utc_key(value):
    """``YYYY-MM-DDTHH:MM:SS`` (UTC) of an EM timestamp, or None when unreadable.

    EM sends UTC as ``2026-11-29T21:40:02.628536Z``: those are cut, not
    parsed, because the report handles every session of a window; other forms
    (an offset, no zone) go through ``parse_em_time``. Keys of one width sort
    as the instants they name.
    """
    if isinstance(value, str) and len(value) >= 20 and value[-1] == 'Z' and value[10] == 'T' and value[4] == '-' \
            and value[13] == ':' and value[16] == ':' and (len(value) == 20 or value[19] == '.'):
        return value[:19]
    moment = parse_em_time(value)
    return moment.strftime('%Y-%m-%dT%H:%M:%S') if moment is not None else None


def outcome(session):
    """The report's category of a session: its result, or ``Running`` while EM reports none (``None``)."""
    result = session.get('result')
    return result if result in ('Success', 'Warning', 'Failed') else 'Running'


def _counts():
    return dict((o, 0) for o in OUTCOMES)


def _fold(name):
    # EM compares names case-insensitively, so one VM is one row whatever the case.
    return (name or '').casefold()


class Aggregate(object):
    """Everything the renderings need, counted in one pass over the sessions.

    Attributes: ``start``/``end``/``generated`` (naive UTC datetimes),
    ``sources``, ``total``, ``totals`` and ``by_source`` (outcome counts),
    ``by_day`` (list of ``(date, counts)`` covering the whole window),
    ``by_job`` (dicts, worst first), ``problems`` (failed and warning
    sessions, worst and newest first), ``vms`` (one entry per VM and source
    whose newest session is not a success, worst first), ``vms_not_ok``
    (distinct VMs with a failed or warning newest session) and ``rows``
    (``(source, session, start key)`` for the CSV, newest first); session
    times are ``utc_key`` strings.
    """

    def __init__(self, sessions_by_source, sources, start, end, generated):
        self.sources = list(sources)
        self.start, self.end, self.generated = start, end, generated
        self.totals = _counts()
        self.by_source = dict((s, _counts()) for s in self.sources)
        days = {}
        jobs = {}
        newest = {}
        completed = {}
        problems = []
        rows = []
        undated = 0
        for source in self.sources:
            for session in sessions_by_source.get(source) or []:
                when = utc_key(session.get('creation_time'))
                category = outcome(session)
                self.totals[category] += 1
                self.by_source[source][category] += 1
                rows.append((source, session, when))
                job = session.get('job_name') or '(no job name)'
                job_counts = jobs.get((source, job))
                if job_counts is None:
                    job_counts = jobs[(source, job)] = _counts()
                job_counts[category] += 1
                if when is None:
                    undated += 1
                    continue
                day = when[:10]
                day_counts = days.get(day)
                if day_counts is None:
                    day_counts = days[day] = _counts()
                day_counts[category] += 1
                if category in ('Failed', 'Warning'):
                    problems.append((source, session, when))
                key = (source, _fold(session.get('vm_name')))
                seen = newest.get(key)
                if seen is None or when > seen[1]:
                    newest[key] = (session, when)
                if not is_running(session):
                    seen = completed.get(key)
                    if seen is None or when > seen[1]:
                        completed[key] = (session, when)
        self.total = len(rows)
        self.undated = undated
        self.by_day = self._days(dict((datetime.strptime(day, '%Y-%m-%d').date(), counts) for day, counts in days.items()))
        self.by_job = self._jobs(jobs)
        severity = dict((o, i) for i, o in enumerate(OUTCOMES))
        problems.sort(key=lambda item: item[2], reverse=True)
        problems.sort(key=lambda item: severity[outcome(item[1])])
        self.problems = problems
        vms = []
        for key, (session, when) in newest.items():
            category = outcome(session)
            if category == 'Success':
                continue
            last = completed.get(key)
            vms.append({'source': key[0], 'session': session, 'when': when, 'outcome': category,
                        'last_completed': last[0] if last and last[0] is not session else None})
        vms.sort(key=lambda item: (severity[item['outcome']], _fold(item['session'].get('vm_name')), item['source']))
        self.vms = vms
        # A VM backed up and replicated is still one VM in the headline.
        self.vms_not_ok = len(set(_fold(vm['session'].get('vm_name')) for vm in vms if vm['outcome'] in ('Failed', 'Warning')))
        rows.sort(key=lambda item: item[2] or '', reverse=True)
        self.rows = rows

    def _days(self, days):
        """Every calendar day (UTC) of the window, empty days included, oldest first."""
        first = self.start.date()
        last = self.end.date()
        if days:
            first, last = min([first] + list(days)), max([last] + list(days))
        result = []
        day = first
        while day <= last:
            result.append((day, days.get(day) or _counts()))
            day += timedelta(days=1)
        return result

    def _jobs(self, jobs):
        """Jobs worst first: most failed, then most warnings, then by name."""
        result = []
        for (source, job), counts in jobs.items():
            item = {'source': source, 'job_name': job, 'total': sum(counts.values())}
            item.update(counts)
            result.append(item)
        result.sort(key=lambda j: (-j['Failed'], -j['Warning'], _fold(j['job_name']), j['source']))
        return result


# -- small formatting helpers ------------------------------------------------------

def _e(value):
    """HTML-escape anything EM sent (names such as ``lab<test>`` and ``exchange&mail`` exist)."""
    return escape('' if value is None else str(value), quote=True)


_BIDI = re.compile('[' + BIDI_CONTROLS + ']')
# First-strong isolate and pop directional isolate: plain-text isolation, for attributes.
_FSI, _PDI = u'\u2068', u'\u2069'


def _em(value):
    """EM text as element content: escaped and inside ``<bdi>``, so its bidi controls (U+202E...) reorder nothing around it."""
    text = _e(value)
    return '<bdi>' + text + '</bdi>' if text else ''


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


def _iso(moment):
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
            running = len(set(_fold(vm['session'].get('vm_name')) for vm in agg.vms))
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
            _iso(when),
            _iso(utc_key(session.get('end_time'))),
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

# Desktop: tables. Phones (<= 760px): every table row becomes a card whose
# cells flow as text (name and result first, then when/type/job, then EM's
# reason), and each day of the chart puts its bar on a line of its own.
_CSS = '''
:root{--fg:#1d2327;--muted:#5f6b76;--line:#dde3e8;--bg:#f6f8fa;--card:#fff;
--failed:#c62828;--warning:#e09b00;--success:#2e7d32;--running:#1565c0}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,
"Noto Sans","Helvetica Neue",Arial,sans-serif;-webkit-text-size-adjust:100%}
main{max-width:1180px;margin:0 auto;padding:20px 24px 40px}
header h1{font-size:1.55rem;line-height:1.25;margin:0 0 6px}
header p{margin:0;color:var(--muted)}
.bad h1{color:var(--failed)}.ok h1{color:var(--success)}
.tiles{display:grid;grid-template-columns:repeat(5,1fr);gap:12px;margin:18px 0 8px}
.tile{background:var(--card);border:1px solid var(--line);border-left:6px solid var(--muted);border-radius:8px;padding:10px 14px}
.tile b{display:block;font-size:1.7rem;line-height:1.1;font-variant-numeric:tabular-nums}
.tile span{color:var(--muted);font-size:.9rem}
.tile.Failed{border-left-color:var(--failed)}.tile.Warning{border-left-color:var(--warning)}
.tile.Success{border-left-color:var(--success)}.tile.Running{border-left-color:var(--running)}
.tile.vms{border-left-color:#6a1b9a}
.tile.zero b{color:var(--muted)}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 18px;margin:16px 0}
h2{font-size:1.15rem;margin:2px 0 10px}
h2 small{font-weight:400;color:var(--muted);font-size:.9rem}
.note{color:var(--muted);font-size:.9rem;margin:8px 0 0}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:6px 8px;border-bottom:1px solid var(--line);vertical-align:top}
th{font-size:.8rem;text-transform:uppercase;letter-spacing:.03em;color:var(--muted);font-weight:600}
td.num,th.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.when{white-space:nowrap;font-variant-numeric:tabular-nums}
td.reason{color:#37434d;overflow-wrap:break-word;min-width:16em}
td.lead,td.job{overflow-wrap:break-word;min-width:7em}
td.lead{font-weight:600}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-size:.8rem;font-weight:600;color:#fff;white-space:nowrap}
.badge.Failed{background:var(--failed)}.badge.Warning{background:var(--warning);color:#1d1d1d}
.badge.Success{background:var(--success)}.badge.Running{background:var(--running)}
.was{display:block;color:var(--muted);font-size:.8rem}
td.zero{color:#9aa5ae}
td.sum{display:none}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;margin:0 0 10px;padding:0;list-style:none;font-size:.9rem}
.legend i{display:inline-block;width:12px;height:12px;border-radius:2px;margin-right:6px;vertical-align:-1px}
.days{display:grid;grid-template-columns:max-content 1fr max-content;gap:5px 12px;align-items:center}
.day{display:contents}
.day .d{font-variant-numeric:tabular-nums;white-space:nowrap;font-size:.9rem}
.day .t{text-align:right;font-variant-numeric:tabular-nums;font-size:.9rem;white-space:nowrap}
.day .t em{font-style:normal;color:var(--failed);font-weight:600}
svg.bar{display:block;width:100%;height:18px;background:#eef1f4;border-radius:3px}
svg.mini{display:block;width:100%;min-width:80px;height:10px;background:#eef1f4;border-radius:2px}
footer{color:var(--muted);font-size:.85rem;margin-top:20px}
@media (max-width:760px){
main{padding:14px 12px 32px}
header h1{font-size:1.25rem}
.tiles{grid-template-columns:repeat(2,1fr);gap:8px}
.tile b{font-size:1.4rem}
section{padding:12px}
table.cards thead{display:none}
table.cards,table.cards tbody{display:block;width:100%}
table.cards tr{display:flex;flex-wrap:wrap;align-items:baseline;gap:3px 10px;border:1px solid var(--line);border-radius:6px;
padding:8px 10px;margin:0 0 10px}
table.cards td{display:block;border:0;padding:0;min-width:0}
table.cards td.lead{order:1;flex:0 1 auto}
table.cards td.res{order:2}
table.cards td.meta{display:none}
table.cards td.sum{display:block;order:3;flex-basis:100%;font-size:.85rem;color:var(--muted)}
table.cards td.kind{order:3;font-size:.85rem;color:var(--muted)}
table.cards td.reason{order:4;flex-basis:100%;min-width:0}
table.cards td.num{order:3;font-size:.9rem}
table.cards td.num::before{content:attr(data-label) " ";color:var(--muted);font-size:.8rem}
table.cards td.zero,table.cards td.empty{display:none}
table.cards td.barcell{order:5;flex-basis:100%;padding-top:4px}
table.cards td.lead.job{flex-basis:100%}
.was{display:inline;margin-left:6px}
.days{display:block}
.day{display:grid;grid-template-columns:1fr max-content;grid-template-areas:"d t" "b b";gap:2px 8px;margin:0 0 8px}
.day .d{grid-area:d}.day .t{grid-area:t}
.day svg.bar{grid-area:b;height:14px}
.tile.vms{grid-column:1/-1}
}
'''


def _svg_segments(counts, total, scale, height):
    """Stacked rects, worst outcome first, each with a hover title."""
    parts = []
    x = 0.0
    for name in OUTCOMES:
        value = counts.get(name, 0)
        if not value:
            continue
        width = value * scale
        parts.append('<rect x="{0:.2f}" y="0" width="{1:.2f}" height="{2}" fill="{3}"><title>{4} {5}</title></rect>'.format(
            x, width, height, COLOURS[name], _n(value), _e(OUTCOME_LABELS[name].lower())))
        x += width
    return ''.join(parts)


def _legend():
    return '<ul class="legend">' + ''.join(
        '<li><i style="background:{0}"></i>{1}</li>'.format(COLOURS[o], _e(OUTCOME_LABELS[o])) for o in OUTCOMES) + '</ul>'


def _capped(items, max_rows):
    return items[:max_rows] if max_rows and len(items) > max_rows else items


def _cap_note(shown, total, what):
    if shown >= total:
        return ''
    return '<p class="note">Showing {0} of {1} {2}; sessions.csv lists every session.</p>'.format(_n(shown), _n(total), what)


def _badge(category):
    return '<span class="badge {0}">{1}</span>'.format(category, _e(OUTCOME_LABELS[category]))


def _td(label, content, cls=None, raw=False, em=False):
    """A table cell; ``em`` marks content EM sent, which is isolated (``<bdi>``)."""
    text = content if raw else (_em(content) if em else _e(content))
    classes = [cls] if cls else []
    if text == '':
        classes.append('empty')
    return '<td data-label="{0}"{1}>{2}</td>'.format(_e(label), ' class="{0}"'.format(' '.join(classes)) if classes else '', text)


def _summary(when, source, session):
    """When, type and job in one line (HTML, the job isolated): what a phone shows instead of three narrow cells."""
    parts = [_e(_minute(when) + ' UTC') if when else '', _e(SOURCE_LABELS[source]), _em(session.get('job_name'))]
    return ' \u00b7 '.join(part for part in parts if part)


def _tiles(agg):
    tiles = [('vms', agg.vms_not_ok, 'VMs not OK (newest session)')]
    tiles += [(o, agg.totals[o], OUTCOME_LABELS[o] + ' sessions') for o in OUTCOMES]
    out = ['<div class="tiles">']
    for cls, value, label in tiles:
        out.append('<div class="tile {0}{1}"><b>{2}</b><span>{3}</span></div>'.format(
            cls, ' zero' if not value else '', _n(value), _e(label)))
    out.append('</div>')
    return ''.join(out)


def _vm_section(agg, max_rows):
    vms = agg.vms
    bad = sum(1 for vm in vms if vm['outcome'] in ('Failed', 'Warning'))
    counts = ', '.join(part for part in (
        '{0} failed or warning'.format(_n(bad)) if bad else '',
        '{0} without a result yet'.format(_n(len(vms) - bad)) if len(vms) > bad else '') if part)
    out = ['<section id="vms"><h2>VMs whose newest session is not a success{0}</h2>'.format(
        ' <small>({0}; one row per VM and type)</small>'.format(counts) if counts else '')]
    if not vms:
        out.append('<p>Every VM\'s newest session in the window succeeded.</p></section>')
        return ''.join(out)
    shown = _capped(vms, max_rows)
    out.append('<table class="cards"><thead><tr><th>VM</th><th>Newest result</th><th>When (UTC)</th><th>Type</th>'
               '<th>Job</th><th>Reason</th></tr></thead><tbody>')
    for vm in shown:
        session = vm['session']
        result = _badge(vm['outcome'])
        last = vm['last_completed']
        if vm['outcome'] == 'Running' and last is not None:
            result += '<span class="was">last completed: {0}</span>'.format(_em(last.get('result')))
        reason = session.get('reason') or (last.get('reason') if last is not None and vm['outcome'] == 'Running' else '')
        out.append('<tr>' + ''.join((
            _td('VM', session.get('vm_name'), 'lead', em=True),
            _td('Result', result, 'res', raw=True),
            _td('When (UTC)', _minute(vm['when']), 'when meta'),
            _td('Type', SOURCE_LABELS[vm['source']], 'meta'),
            _td('Job', session.get('job_name'), 'job meta', em=True),
            _td('Summary', _summary(vm['when'], vm['source'], session), 'sum', raw=True),
            _td('Reason', reason, 'reason', em=True),
        )) + '</tr>')
    out.append('</tbody></table>')
    out.append(_cap_note(len(shown), len(vms), 'VM rows'))
    out.append('</section>')
    return ''.join(out)


def _problem_section(agg, max_rows):
    problems = agg.problems
    failed = agg.totals['Failed']
    warning = agg.totals['Warning']
    out = ['<section id="problems"><h2>Failed and warning sessions <small>({0} failed, {1} warning; worst and newest first)'
           '</small></h2>'.format(_n(failed), _n(warning))]
    if not problems:
        out.append('<p>No session in the window failed or ended with a warning.</p></section>')
        return ''.join(out)
    shown = _capped(problems, max_rows)
    out.append('<table class="cards"><thead><tr><th>Result</th><th>VM</th><th>When (UTC)</th><th>Type</th><th>Job</th>'
               '<th>EM\'s reason</th></tr></thead><tbody>')
    for source, session, when in shown:
        out.append('<tr>' + ''.join((
            _td('Result', _badge(outcome(session)), 'res', raw=True),
            _td('VM', session.get('vm_name'), 'lead', em=True),
            _td('When (UTC)', _minute(when), 'when meta'),
            _td('Type', SOURCE_LABELS[source], 'meta'),
            _td('Job', session.get('job_name'), 'job meta', em=True),
            _td('Summary', _summary(when, source, session), 'sum', raw=True),
            _td('Reason', session.get('reason') or '(EM gave no reason)', 'reason', em=True),
        )) + '</tr>')
    out.append('</tbody></table>')
    out.append(_cap_note(len(shown), len(problems), 'failed and warning sessions'))
    out.append('</section>')
    return ''.join(out)


def _day_section(agg):
    peak = max([sum(c.values()) for _d, c in agg.by_day] or [0]) or 1
    out = ['<section id="days"><h2>Results per day <small>(UTC)</small></h2>', _legend(), '<div class="days">']
    for day, counts in agg.by_day:
        total = sum(counts.values())
        label = '{0}, {1}'.format(day.strftime('%a'), day.isoformat())
        bad = []
        if counts['Failed']:
            bad.append('{0} failed'.format(_n(counts['Failed'])))
        if counts['Warning']:
            bad.append('{0} warning'.format(_n(counts['Warning'])))
        summary = '{0} sessions on {1}: '.format(_n(total), day.isoformat()) + ', '.join(
            '{0} {1}'.format(_n(counts[o]), OUTCOME_LABELS[o].lower()) for o in OUTCOMES)
        out.append('<div class="day"><span class="d">{0}</span>'.format(_e(label)))
        out.append('<svg class="bar" viewBox="0 0 1000 10" preserveAspectRatio="none" role="img" aria-label="{0}">{1}</svg>'.format(
            _e(summary), _svg_segments(counts, total, 1000.0 / peak, 10)))
        out.append('<span class="t">{0}{1}</span></div>'.format(
            _n(total), (' <em>' + _e(', '.join(bad)) + '</em>') if bad else ''))
    out.append('</div>')
    if agg.undated:
        out.append('<p class="note">{0} without a readable start time are counted in the totals but not in this chart.</p>'.format(
            _plural(agg.undated, 'session')))
    out.append('</section>')
    return ''.join(out)


def _job_section(agg):
    out = ['<section id="jobs"><h2>Results per job <small>({0}; worst first)</small></h2>'.format(_n(len(agg.by_job)))]
    if not agg.by_job:
        out.append('<p>No job ran in the window.</p></section>')
        return ''.join(out)
    out.append('<table class="cards"><thead><tr><th>Job</th><th>Type</th><th class="num">Sessions</th>' + ''.join(
        '<th class="num">{0}</th>'.format(_e(OUTCOME_LABELS[o])) for o in OUTCOMES) + '<th>Share</th></tr></thead><tbody>')
    for job in agg.by_job:
        cells = [_td('Job', job['job_name'], 'lead job', em=True), _td('Type', SOURCE_LABELS[job['source']], 'kind'),
                 _td('Sessions', _n(job['total']), 'num')]
        for name in OUTCOMES:
            value = job[name]
            cells.append('<td data-label="{0}" class="num{1}">{2}</td>'.format(
                _e(OUTCOME_LABELS[name]), '' if value else ' zero', _n(value)))
        label = '{0}: '.format(_em_plain(job['job_name'])) + ', '.join('{0} {1}'.format(_n(job[o]), OUTCOME_LABELS[o].lower()) for o in OUTCOMES)
        cells.append('<td data-label="Share" class="barcell"><svg class="mini" viewBox="0 0 1000 10" preserveAspectRatio="none" '
                     'role="img" aria-label="{0}">{1}</svg></td>'.format(
                         _e(label), _svg_segments(job, job['total'], 1000.0 / (job['total'] or 1), 10)))
        out.append('<tr>' + ''.join(cells) + '</tr>')
    out.append('</tbody></table></section>')
    return ''.join(out)


def render_html(agg, max_rows=DEFAULT_MAX_ROWS):
    """One self-contained page: inline CSS and SVG, no script, nothing fetched (its CSP forbids it).

    Order: headline and tiles, VMs whose newest session is not a success,
    failed and warning sessions with EM's reasons, results per day, results
    per job, then the window and when the report was made. Every EM string
    is HTML-escaped. ``max_rows`` caps each of the two lists (0 = no cap),
    with a note pointing at sessions.csv.
    """
    line = headline(agg)
    bad = agg.totals['Failed'] or agg.totals['Warning']
    window = '{0} to {1} UTC'.format(_minute(agg.start), _minute(agg.end))
    parts = [
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'">',
        '<title>{0}</title>'.format(_e('EM session report: ' + line)),
        '<style>{0}</style></head><body><main>'.format(_CSS.strip()),
        '<header class="{0}"><h1>{1}</h1><p>{2} task sessions, {3}. Made {4} UTC.</p></header>'.format(
            'bad' if bad else 'ok', _e(line), _e(_first_upper(_sources_text(agg.sources))), _e(window), _e(_minute(agg.generated))),
        _tiles(agg),
        _vm_section(agg, max_rows),
        _problem_section(agg, max_rows),
        _day_section(agg),
        _job_section(agg),
        '<footer>Window: {0} ({1}). Report made {2} UTC by vbem.enterprise_manager. '
        'sessions.csv next to this page lists all {3}.</footer>'.format(
            _e(window), _e(_sources_text(agg.sources) + ' task sessions'), _e(_iso(agg.generated)),
            _plural(agg.total, 'session')),
        '</main></body></html>\n',
    ]
    return ''.join(parts)


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
                _shown(unknown[0]), ', '.join(sources)))
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
                _shown(item)))
    if result is not None:
        return result
    result = dict((s, []) for s in sources)
    for item in items:
        source = source_of(item)
        if source is None and len(sources) == 1:
            source = sources[0]
        if source not in result:
            raise EmError('A session of type {0} ({1}) is not one of the report\'s sources ({2}); query one task session type per '
                          'planned source.'.format(_shown(item.get('type')), _shown(item.get('uid')), ', '.join(sources)))
        result[source].append(item)
    return result


def build(sessions, report_plan, now=None, max_rows=DEFAULT_MAX_ROWS):
    """Aggregate and render a report.

    ``sessions``: the em_query answer (one flat list of normalised task
    sessions, each told apart by its ``type``) or ``{source: [sessions]}``; ``report_plan``: what ``plan`` returned;
    ``now``: when the report is made (default: the current UTC time).
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
        raise EmError('max_rows must be a whole number (0 for no cap), not {0}.'.format(_shown(max_rows)))
    if max_rows < 0:
        raise EmError('max_rows must be 0 (no cap) or more, not {0}.'.format(max_rows))
    agg = Aggregate(_by_source(sessions, sources), sources, start, end, generated)
    return {
        'headline': headline(agg),
        'window': {'text': report_plan.get('window'), 'start': _iso(start), 'end': _iso(end)},
        'generated': _iso(generated),
        'sources': sources,
        'total': agg.total,
        'totals': dict(agg.totals),
        'by_source': dict((s, dict(c)) for s, c in agg.by_source.items()),
        'by_day': [dict(date=d.isoformat(), **c) for d, c in agg.by_day],
        'by_job': agg.by_job,
        'vms_not_ok': [{'vm_name': v['session'].get('vm_name'), 'source': v['source'], 'outcome': v['outcome'],
                        'result': v['session'].get('result'), 'creation_time': _iso(v['when']),
                        'job_name': v['session'].get('job_name'), 'reason': v['session'].get('reason')} for v in agg.vms],
        'html': render_html(agg, max_rows),
        'csv': render_csv(agg),
        'table': render_table(agg),
    }
