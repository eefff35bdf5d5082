# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The session report's aggregation: a window of task sessions counted in one pass (pure, no HTTP, no markup).

``Aggregate`` holds everything the renderings (``report_render``) need:
totals per outcome and source, every day of the window, jobs worst first,
the failed and warning sessions, and per VM and source the newest session
and the newest completed one. One pass does all the counting, so tens of
thousands of sessions cost well under a second.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from datetime import datetime, timedelta

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import verdict
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.sessions import is_running, parse_em_time

# Worst first: the order of every table and of the chart's stacks.
OUTCOMES = ('Failed', 'Warning', 'Success', 'Running')


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


def fold(name):
    """A VM or job name as EM compares it (case-insensitively), so one VM is one row whatever the case; None as ''."""
    return verdict.fold(name or '')


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
                key = (source, fold(session.get('vm_name')))
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
        vms.sort(key=lambda item: (severity[item['outcome']], fold(item['session'].get('vm_name')), item['source']))
        self.vms = vms
        # A VM backed up and replicated is still one VM in the headline.
        self.vms_not_ok = len(set(fold(vm['session'].get('vm_name')) for vm in vms if vm['outcome'] in ('Failed', 'Warning')))
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
        result.sort(key=lambda j: (-j['Failed'], -j['Warning'], fold(j['job_name']), j['source']))
        return result
