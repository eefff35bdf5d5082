# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The backup_gate role's batch logic, on the controller: its variables checked, its verdicts turned into hosts.

Pure functions over plain data, shared by the ``backup_gate_batch`` action
plugin and its unit tests:

* ``role_variables`` reads the role's one list of variables (its
  ``meta/argument_specs.yml``), which ``defaults/main.yml`` follows;
* ``batch_problem`` finds what makes the batch's variables unusable (an
  unknown ``backup_gate_*`` variable, a VM name given for the play, a policy
  that differs between hosts) before Enterprise Manager is asked;
* ``remediation_hosts`` and ``merge_remediation`` decide which failed hosts
  get a quick backup (``backup_gate_remediate: quick_backup``) and fold the
  backups and the second judgement into the report;
* ``batch_outcome`` turns the gate's report (or the one error that stopped
  it) into what the role's tasks need: an ``add_host`` item per host, the
  summary, the summary's lines, the hosts that fail and each one's message.

The verdicts themselves come from ``module_utils.verdict``, as for the gate
module and the inventory plugin; nothing here judges a VM.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import json

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.verdict import CODES

PREFIX = 'backup_gate_'
# Set per host in the inventory; every other variable of the role is play-wide.
PER_HOST = 'backup_gate_vm_name'
# What the role sets; an earlier run of the role leaves them behind.
OUTPUTS = ('backup_gate_result', 'backup_gate_summary')
PASSED_GROUP = 'backup_gate_passed'
FAILED_GROUP = 'backup_gate_failed'
# The code of every host when the batch could not be judged at all.
NOT_JUDGED = 'not_judged'
SHOWN_HOSTS = 5


class _NotSet(object):
    """A variable that is not set (None is a value a variable can have)."""

    def __repr__(self):
        return 'NOT_SET'


NOT_SET = _NotSet()


def role_variables(argument_specs):
    """``(names, defaults)`` from the role's parsed ``meta/argument_specs.yml``: the role's one list of variables."""
    options = argument_specs['argument_specs']['main']['options']
    names = tuple(sorted(options))
    defaults = dict((name, spec['default']) for name, spec in options.items() if 'default' in spec)
    return names, defaults


def module_options(names, module_options_known):
    """``{variable: module option}`` for the role's variables the gate module takes (``backup_gate_max_age`` -> ``max_age``)."""
    return dict((name, name[len(PREFIX):]) for name in names if name[len(PREFIX):] in module_options_known)


def _json(value):
    return json.dumps(value, sort_keys=True, default=str)


def batch_problem(names, defaults, given, this_host, effective, host_values):
    """The one sentence that stops the batch before EM is asked, or None.

    ``names`` are the role's variables, ``given`` every variable name this
    host sees that starts with ``backup_gate_``, ``effective`` the values
    this host's task sees (role defaults, play, role and extra variables
    applied; NOT_SET when unset), ``host_values`` per host of the batch the
    values its inventory sets (absent when unset): the inventory alone, as
    ``hostvars`` shows it.
    """
    known = set(names) | set(OUTPUTS)
    unknown = sorted(name for name in given if not name.startswith(PREFIX + '_') and name not in known)
    if unknown:
        return '{0} {1} of the backup_gate role; its variables are {2}.'.format(
            ', '.join(unknown), 'is not a variable' if len(unknown) == 1 else 'are not variables', ', '.join(sorted(names)))
    own = host_values.get(this_host, {})
    own_vm = own.get(PER_HOST, this_host)
    if effective.get(PER_HOST, NOT_SET) not in (NOT_SET, own_vm):
        return ('backup_gate_vm_name is set for the play or the role ({0} for {1}), where the gate cannot read it per host; '
                'set it per host in the inventory (host_vars, group_vars or the compose option of an inventory plugin), '
                'or leave it unset to use inventory_hostname.'.format(_json(effective[PER_HOST]), this_host))
    # A value the inventory gives some hosts counts only where no play-level value overrides it;
    # this host's own value tells which case applies.
    checked = {}
    for name in names:
        if name == PER_HOST:
            continue
        current = effective.get(name, NOT_SET)
        if current == own.get(name, defaults.get(name, NOT_SET)):
            checked[name] = current
    for host, values in host_values.items():
        for name, current in sorted(checked.items()):
            if name in values and values[name] != current:
                return ('{0} is {1} for {2} but {3} for {4}, and one policy judges the whole batch; set {0} once for the '
                        'play (play or role variables, extra vars or group_vars/all).'.format(
                            name, _json(values[name]), host, _json(current), this_host))
    return None


def batch_vms(batch, host_values):
    """``{host: VM name}`` in batch order: each host's ``backup_gate_vm_name`` or its inventory name."""
    return dict((host, host_values.get(host, {}).get(PER_HOST, host)) for host in batch)


def _as_list(value):
    if value is None or value is NOT_SET:
        return []
    return [value] if isinstance(value, str) else list(value)


def policy_phrase(policy):
    """``backup or replica: Success or Warning within 24h in jobs A, B``: the policy as the summary's first line names it.

    With ``require_session_result`` it ends ``, and so the session that made each restore point``.
    """
    joiner = ' or ' if policy.get('require', 'any') == 'any' else ' and '
    jobs = _as_list(policy.get('job_name'))
    sources = joiner.join(_as_list(policy.get('sources')))
    phrase = '{0}: {1} within {2}'.format(sources, ' or '.join(_as_list(policy.get('accept'))), policy.get('max_age'))
    if jobs:
        phrase += '{0}{1}'.format(' in job ' if len(jobs) == 1 else ' in jobs ', ', '.join(jobs))
    if policy.get('require_session_result'):
        phrase += ', and so the session that made each restore point'
    return phrase


# What a quick backup can fix: a missing, too old or failed backup. Never an unknown or ambiguous name
# (a backup of another machine) nor a running backup (EM refuses a second run in its job).
REMEDIABLE = ('no_session', 'stale', 'failed_result')
REMEDIATE_MODES = ('none', 'quick_backup')


def remediation_hosts(vms, report):
    """The hosts (in batch order) whose verdict a quick backup can fix: codes in REMEDIABLE."""
    return [host for host in vms if not report['vms'][host]['passed'] and report['vms'][host]['code'] in REMEDIABLE]


def _clock(text):
    """``14:32 UTC`` from an EM timestamp (``2026-12-07T14:32:05.1Z``); the text itself when it is not one."""
    if isinstance(text, str) and len(text) >= 16 and text[10:11] in ('T', ' '):
        return text[11:16] + ' UTC'
    return str(text)


def merge_remediation(report, hosts, backup, rejudged, check_mode=False):
    """Fold the quick backups (the quick_backup result over ``{host: VM}``) and the second judgement into ``report``.

    ``rejudged`` is the gate's report over the hosts that got a backup
    (None in check mode or when none did). Each remediated host's reason says
    what was done; the returned dict goes into the summary as ``remediation``.
    """
    outcome = {'mode': 'quick_backup', 'hosts': list(hosts), 'backed_up': [], 'passed_after': [], 'not_fixed': [],
               'planned': [], 'check_mode': bool(check_mode)}
    for host in hosts:
        row = backup['vms'][host]
        verdict = dict(report['vms'][host])
        if row['status'] == 'planned':
            outcome['planned'].append(host)
            verdict['reason'] = '{0}; a quick backup would run (check mode)'.format(verdict['reason'])
        elif row['status'] == 'created':
            outcome['backed_up'].append(host)
            if rejudged is not None and host in rejudged['vms']:
                verdict = dict(rejudged['vms'][host])
            moment = _clock((row.get('restore_point') or {}).get('time'))
            if verdict['passed']:
                outcome['passed_after'].append(host)
                verdict['reason'] = 'passed after a quick backup at {0} ({1})'.format(moment, verdict['reason'])
            else:
                outcome['not_fixed'].append(host)
                verdict['reason'] = 'still fails after a quick backup at {0}: {1}'.format(moment, verdict['reason'])
        else:
            outcome['not_fixed'].append(host)
            verdict['reason'] = '{0}; the quick backup {1}: {2}'.format(
                verdict['reason'], 'timed out' if row['status'] == 'timeout' else 'failed',
                (row.get('message') or 'no message').rstrip('.'))
        verdict['remediation'] = {'status': row['status'], 'restore_point': row.get('restore_point'),
                                  'message': row.get('message')}
        report['vms'][host] = verdict
    return outcome


def remediation_line(outcome):
    """The summary line that says what the remediation did, or None when it had nothing to do."""
    if not outcome or not outcome['hosts']:
        return None
    not_fixed = ', {0} not fixed ({1})'.format(len(outcome['not_fixed']), _hosts_phrase(outcome['not_fixed'])) if outcome['not_fixed'] else ''
    if outcome['check_mode']:
        return 'Would take a quick backup of {0} host{1} (check mode): {2}{3}'.format(
            len(outcome['planned']), '' if len(outcome['planned']) == 1 else 's', _hosts_phrase(outcome['planned']) or 'none',
            not_fixed.replace(', ', '; ', 1))
    return 'Quick backup of {0} host{1}: {2} backed up, {3} passed after it{4}'.format(
        len(outcome['hosts']), '' if len(outcome['hosts']) == 1 else 's', len(outcome['backed_up']),
        len(outcome['passed_after']), not_fixed or ', 0 not fixed')


def _not_judged(vm, error):
    return {'vm_name': vm, 'requested_name': vm, 'passed': False, 'code': NOT_JUDGED, 'reason': error, 'sources': {}}


def _hosts_phrase(hosts):
    shown = ', '.join(hosts[:SHOWN_HOSTS])
    return shown + (', ...' if len(hosts) > SHOWN_HOSTS else '')


def batch_outcome(vms, report, error, policy, fail, earlier_passed=(), implicit_localhost=None, remediation=None):
    """What the role's tasks need once the batch is judged (``report``, the gate's result) or stopped (``error``).

    ``vms`` is ``{host: VM name}`` in batch order, ``policy`` the play-wide
    variables by module option name (for the summary's first line), ``fail``
    the role's ``backup_gate_fail``, ``earlier_passed`` the hosts already in
    backup_gate_passed from an earlier run of the role, ``implicit_localhost``
    the ``add_host`` variables that keep an implicit localhost local (None
    when localhost is an inventory host), ``remediation`` what
    ``merge_remediation`` returned (None: no remediation asked).

    Returns ``{'hosts', 'summary', 'lines', 'failing', 'messages'}``:
    ``hosts`` the ``add_host`` items, ``summary`` the role's
    ``backup_gate_summary``, ``lines`` the summary as the output shows it,
    ``failing`` the hosts the last task fails and ``messages`` their
    messages (by host). The hosts whose verdict did not pass all fail when
    no host could be judged; a host that passed an earlier run and does not
    pass this one fails whatever ``fail`` says: Ansible cannot take a host
    out of a group, and a later play on backup_gate_passed must not reach it.
    """
    hosts = list(vms)
    verdicts = {}
    for host, vm in vms.items():
        verdicts[host] = report['vms'][host] if error is None else _not_judged(vm, error)
    passed = [host for host in hosts if verdicts[host]['passed']]
    failed = [host for host in hosts if not verdicts[host]['passed']]
    by_code = dict((code, 0) for code in CODES)
    by_code[NOT_JUDGED] = 0
    for host in hosts:
        by_code[verdicts[host]['code']] = by_code.get(verdicts[host]['code'], 0) + 1
    summary = {'total': len(hosts), 'passed': len(passed), 'failed': len(failed), 'by_code': by_code,
               'passed_hosts': passed, 'failed_hosts': failed, 'error': error}
    if remediation is not None:
        summary['remediation'] = remediation

    items = []
    for host in hosts:
        item = {'name': host, 'groups': PASSED_GROUP if verdicts[host]['passed'] else FAILED_GROUP,
                'backup_gate_result': verdicts[host]}
        if host == 'localhost' and implicit_localhost is not None:
            # add_host turns the implicit localhost into an inventory host without its local
            # connection, and every later delegate_to: localhost would then try ssh.
            item.update(implicit_localhost)
        items.append(item)

    total = '{0} of {1} host{2}'.format(len(passed), len(hosts), '' if len(hosts) == 1 else 's')
    lines = ['Backup gate: {0} passed ({1})'.format(total, policy_phrase(policy))]
    if remediation_line(remediation):
        lines.append(remediation_line(remediation))
    earlier = set(earlier_passed)
    revoked = [host for host in failed if host in earlier]
    messages = {}
    if error is not None:
        lines.append('No host was judged, so every host fails: {0}'.format(error))
        failing = list(hosts)
        for host in hosts:
            messages[host] = 'Backup gate: {0} fails closed because no host could be judged: {1}'.format(host, error)
        return {'hosts': items, 'summary': summary, 'lines': lines, 'failing': failing, 'messages': messages}

    for host in failed:
        lines.append('FAILED {0} (VM {1}): {2}'.format(host, verdicts[host]['vm_name'], verdicts[host]['reason']))
        messages[host] = 'Backup gate: {0} (VM {1}) did not pass: {2}'.format(host, verdicts[host]['vm_name'], verdicts[host]['reason'])
    for host in revoked:
        messages[host] += ('; it passed an earlier run of the gate and Ansible cannot take a host out of {0}, so it stops '
                           'here whatever backup_gate_fail says.'.format(PASSED_GROUP))
    if fail == 'host':
        failing = list(failed)
    elif fail == 'play' and failed:
        failing = list(hosts)
        for host in passed:
            messages[host] = ('Backup gate: {0} of {1} hosts did not pass ({2}) and backup_gate_fail is play, so every host '
                              'stops.'.format(len(failed), len(hosts), _hosts_phrase(failed)))
    else:
        failing = list(revoked)
    if revoked:
        lines.append('Stopped because an earlier run passed them and this one did not: {0}'.format(_hosts_phrase(revoked)))
    messages = dict((host, messages[host]) for host in failing)
    return {'hosts': items, 'summary': summary, 'lines': lines, 'failing': failing, 'messages': messages}


# The job log shows the wait at least this often (seconds), whatever backup_gate_wait_sleep is.
PROGRESS_EVERY = 60
SHOWN_NAMES = 2


def _duration(seconds):
    """``30 min``, ``1 min 5 s``, ``45 s``: a wait as a person reads it."""
    seconds = int(round(max(seconds, 0)))
    minutes, rest = divmod(seconds, 60)
    if not minutes:
        return '{0} s'.format(rest)
    return '{0} min'.format(minutes) + (' {0} s'.format(rest) if rest else '')


def _names_phrase(names):
    shown = ', '.join(names[:SHOWN_NAMES])
    return shown + (' ({0} more)'.format(len(names) - SHOWN_NAMES) if len(names) > SHOWN_NAMES else '')


def wait_message(event, names, seconds, sources, deadline_text=None):
    """One line of the job log about the gate's wait for running sessions (see gate.protection_report's progress)."""
    what = 'backups' if list(sources) == ['backup'] else 'sessions'
    if event == 'start':
        return 'Backup gate: waiting up to {0}{1} for the running {2} of {3}.'.format(
            _duration(seconds), ' (until {0})'.format(deadline_text) if deadline_text else '', what, _names_phrase(names))
    if event == 'wait':
        return 'Backup gate: still waiting for the running {0} of {1}; {2} left.'.format(what, _names_phrase(names), _duration(seconds))
    if event == 'done':
        return 'Backup gate: the running {0} finished after {1}; judging them now.'.format(what, _duration(seconds))
    return 'Backup gate: stopped waiting after {0}; still running: {1} (judged wait_timeout).'.format(
        _duration(seconds), _names_phrase(names))


class WaitReporter(object):
    """Turns the gate's wait events into job-log lines: every start and end, and progress at least once a minute.

    ``show(line)`` prints; ``clock`` is monotonic seconds. A ``wait`` event
    is shown when waiting for the next one could leave more than
    ``PROGRESS_EVERY`` seconds without a line.
    """

    def __init__(self, show, clock, sources, wait_sleep, deadline_text=None):
        self._show = show
        self._clock = clock
        self._sources = sources
        self._wait_sleep = wait_sleep
        self._deadline_text = deadline_text
        self._last = None

    def __call__(self, event, names, seconds):
        now = self._clock()
        if event == 'wait' and self._last is not None and now - self._last + self._wait_sleep < PROGRESS_EVERY:
            return
        self._last = now
        self._show(wait_message(event, names, seconds, self._sources,
                                self._deadline_text if event == 'start' else None))
