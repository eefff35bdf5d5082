# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Ending a logon we own when the run is stopped: SIGINT, SIGTERM, or the process that started us gone.

While an EmClient holds a logon session it owns, a ``Guard``:

* handles SIGINT and SIGTERM (main thread only, previous handlers restored
  afterwards): the logon is logged off within a few seconds, then the work
  stops with ``EmInterrupted``, which modules turn into a failure of one
  sentence and lookups into an error;
* watches the processes that started it (the parent, and up through the
  Ansible worker to ansible-playbook itself): when one of them has gone,
  as when ansible-runner or AWX cancel a job with SIGKILL to
  ansible-playbook's process group, it logs off and stops the work.

SIGKILL cannot be handled by anyone: a process killed by it leaves its
logon session open until EM's idle timeout (15 minutes) ends it.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
import signal
import threading
import time

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmInterrupted

WATCH_INTERVAL = 0.5
# How long a signal that arrives while the logon is on the wire waits for
# EM's answer: with the answer we know the session and can log it off.
LOGON_GRACE = 3.0
ANCESTORS_MAX = 4
_SIGNAL_NAMES = ('SIGINT', 'SIGTERM')
_ENDED_STATES = ('Z', 'X', 'x')


class ProcStat(object):
    """The fields of ``/proc/<pid>/stat`` the watcher needs."""

    __slots__ = ('pid', 'state', 'ppid', 'session', 'start')

    def __init__(self, pid, state, ppid, session, start):
        self.pid = pid
        self.state = state
        self.ppid = ppid
        self.session = session
        self.start = start


def parse_proc_stat(pid, text):
    """Parse the text of ``/proc/<pid>/stat``; returns a ProcStat or None when malformed.

    The command name may hold spaces and parentheses, so the fields are read
    after its last closing parenthesis.
    """
    try:
        fields = text[text.rindex(')') + 2:].split()
        return ProcStat(pid, fields[0], int(fields[1]), int(fields[3]), int(fields[19]))
    except (ValueError, IndexError):
        return None


def read_proc_stat(pid, root='/proc'):
    """ProcStat of a running process, or None when it does not exist (or /proc is not there)."""
    try:
        with open('{0}/{1}/stat'.format(root, pid), 'rb') as handle:
            text = handle.read().decode('utf-8', 'replace')
    except (IOError, OSError):
        return None
    return parse_proc_stat(pid, text)


def watched_ancestors(pid, reader=read_proc_stat, limit=ANCESTORS_MAX):
    """The processes whose end means whoever started ``pid`` has gone: a list of ``(pid, start_time)``.

    Walks up from the parent to the first session leader and includes that
    leader's parent. An Ansible worker calls setsid, so a module (under its
    ``/bin/sh -c``) watches the shell, the worker and ansible-playbook, and a
    lookup (in the worker itself) watches ansible-playbook. pexpect (under
    ansible-runner) and sshd make session leaders too. Never pid 1, at most
    ``limit`` processes; empty when /proc cannot tell.
    """
    own = reader(pid)
    if own is None:
        return []
    chain = []
    leader_seen = own.session == pid
    current = own.ppid
    while current > 1 and len(chain) < limit:
        info = reader(current)
        if info is None or info.state in _ENDED_STATES:
            break
        chain.append((current, info.start))
        if leader_seen:
            break
        leader_seen = info.session == current
        current = info.ppid
    return chain


def first_gone(chain, reader=read_proc_stat):
    """The pid of the first process of ``chain`` that has ended (or been replaced by a new one), else None.

    A process killed by SIGKILL stays a zombie until its parent reaps it, so
    a zombie counts as ended; a different start time means the pid was reused.
    """
    for pid, start in chain:
        info = reader(pid)
        if info is None or info.start != start or info.state in _ENDED_STATES:
            return pid
    return None


def _signal_name(signum):
    for name in _SIGNAL_NAMES:
        if getattr(signal, name, None) == signum:
            return name
    return 'signal {0}'.format(signum)


class Guard(object):
    """Signal handlers and a parent watcher around one EmClient's owned logon.

    The client provides ``interrupt(reason)`` (stop further requests, log off
    within a few seconds, return the sentence to report), ``cancel(reason)``
    (stop further requests only), ``cut_logoff()`` (shorten a logoff already
    under way) and ``logon_in_flight``.
    """

    def __init__(self, client, interval=WATCH_INTERVAL, grace=LOGON_GRACE, reader=read_proc_stat):
        self._client = client
        self._interval = interval
        self._grace = grace
        self._reader = reader
        self._lock = threading.Lock()
        self._state = 'idle'  # idle -> active -> closing -> stopped
        self._previous = {}
        self._main = None
        self._raised = False
        self._wake = False
        self._force = False
        self._deferred = None
        self._deferred_at = None
        self._closing_signal = None
        self._late_signal = None
        self._halt = threading.Event()
        self._thread = None
        self._ppid = None
        self._chain = []

    def start(self):
        """Install the handlers (main thread only) and start watching the parent processes."""
        self._ppid = os.getppid()
        self._chain = watched_ancestors(os.getpid(), self._reader)
        self._state = 'active'
        if threading.current_thread() is threading.main_thread():
            self._main = threading.main_thread().ident
            for name in _SIGNAL_NAMES:
                signum = getattr(signal, name, None)
                if signum is None:
                    continue
                try:
                    previous = signal.signal(signum, self._on_signal)
                except (ValueError, OSError, RuntimeError):
                    continue
                self._previous[signum] = previous
        self._thread = threading.Thread(target=self._watch, name='vbem-em-guard')
        self._thread.daemon = True
        self._thread.start()

    def closing(self):
        """The client is logging off on its own: from now on a signal only shortens that logoff."""
        with self._lock:
            if self._state == 'active':
                self._state = 'closing'

    @property
    def closing_signal(self):
        """The signal that arrived while the client was logging off on its own, or None."""
        return self._closing_signal

    def stop(self):
        """Stop watching and restore the previous handlers; returns the signal name received while closing, if any.

        A signal that arrived after our work was done goes on to the handler
        that was there before ours.
        """
        with self._lock:
            self._state = 'stopped'
        self._halt.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(self._grace + 10)
        late = self._late_signal
        for signum, previous in self._previous.items():
            try:
                signal.signal(signum, previous if previous is not None else signal.SIG_DFL)
            except (ValueError, OSError, RuntimeError):
                pass
        self._previous = {}
        if late is not None:
            os.kill(os.getpid(), late)
        return _signal_name(self._closing_signal) if self._closing_signal is not None else None

    # -- in the main thread, between two bytecodes of whatever it was doing ----------
    def _on_signal(self, signum, frame):
        state = self._state
        if self._wake and state in ('active', 'closing'):
            self._wake = False
            if not self._raised and state == 'active':
                self._raised = True
                raise EmInterrupted(self._client.interrupt(self._client.cancel_reason or 'Stopped'))
            return
        if state == 'closing':
            self._closing_signal = signum
            self._client.cut_logoff()
            return
        if state != 'active':
            if not self._wake:
                self._late_signal = signum
            return
        if self._raised:
            return
        reason = 'Interrupted by {0}'.format(_signal_name(signum))
        if self._client.logon_in_flight and not self._force:
            # Raising now would lose EM's answer and the session in it: wait for it, within a grace period.
            self._client.cancel(reason)
            self._deferred, self._deferred_at = signum, time.monotonic()
            return
        self._raised = True
        raise EmInterrupted(self._client.interrupt(reason), signum=signum)

    # -- the watcher thread -------------------------------------------------------------
    def _wake_main(self, signum):
        """Make the main thread run our handler now, even while it waits in a socket or a sleep."""
        with self._lock:
            if self._state != 'active' or not self._previous or self._main is None:
                return
            self._wake = True
            try:
                signal.pthread_kill(self._main, signum)
            except (AttributeError, OSError, ValueError):
                self._wake = False

    def _parent_gone(self):
        if os.getppid() != self._ppid:
            return self._ppid
        return first_gone(self._chain, self._reader)

    def _watch(self):
        while not self._halt.wait(self._interval):
            if self._state != 'active':
                continue
            if self._deferred is not None and self._client.logon_in_flight and not self._force:
                if time.monotonic() - self._deferred_at >= self._grace:
                    self._force = True
                    with self._lock:
                        if self._state == 'active' and self._previous and self._main is not None:
                            try:
                                signal.pthread_kill(self._main, self._deferred)
                            except (AttributeError, OSError, ValueError):
                                pass
                continue
            gone = self._parent_gone()
            if gone is None:
                continue
            reason = 'Stopped because the process that started this task (pid {0}) has gone, as when the job is cancelled'.format(gone)
            self._client.cancel(reason)
            waited = time.monotonic()
            while self._client.logon_in_flight and time.monotonic() - waited < self._grace and not self._halt.is_set():
                time.sleep(0.05)
            if self._state != 'active':
                return
            self._client.interrupt(reason)
            self._wake_main(getattr(signal, 'SIGTERM', None) or signal.SIGINT)
            return
