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
import re
import unicodedata
from html import escape

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import sources as sources_table
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
            _e(window), _e(_sources_text(agg.sources) + ' task sessions'), _e(iso(agg.generated)),
            _plural(agg.total, 'session')),
        '</main></body></html>\n',
    ]
    return ''.join(parts)
