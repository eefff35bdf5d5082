# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""What counts as protection: the gate's sources as one table.

A source is either a kind of task session (``backup``, ``replica``, ``cdp``:
judged on the newest session's state and result) or a kind of restore point
(``restore_point``, ``replica_point``, ``agent``: judged on the newest
point's time). Everything that names sources - the gate's ``sources``
choices, the role's and the session report's, the query type each reads, the
label a report shows - is derived from ``TABLE``; adding a source is one
entry here.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import sessions


class Source(object):
    """One entry of the table.

    ``name``: the option value; ``kind``: ``sessions`` or ``points``;
    ``session_kind``: the ``sessions.KINDS`` entry it reads (which holds the
    EM query type, the identity field - the name field filtered and matched
    on - and the time field); ``label``: how reports and reasons name it;
    ``live``: a running session with a result is judged on that result (CDP
    replicates continuously and its sessions run for a whole day);
    ``subject``: what a name is (``VM`` or ``computer``); ``noun``: the label
    inside a sentence (``backup``, but ``CDP``).
    ``running``/``accept`` apply to session sources only: a restore point is
    never running and has no result.
    ``producer``: for a restore point source, the ``sessions.KINDS`` entry of
    the sessions ``require_session_result`` judges (``backup_task``: the task
    session whose ``Related`` link names the point; ``backup_job``: the
    computer's newest ``AgentManagement`` job session), None where EM
    documents no link from a session to the point (``replica_point``).
    """

    def __init__(self, name, kind, session_kind, label, live=False, subject='VM', noun=None, producer=None):
        self.name = name
        self.noun = noun or label.lower()
        self.kind = kind
        self.session_kind = sessions.KINDS[session_kind]
        self.label = label
        self.live = live
        self.subject = subject
        self.producer = sessions.KINDS[producer] if producer else None

    @property
    def query_type(self):
        return self.session_kind.query_type

    @property
    def identity_field(self):
        return self.session_kind.field('vm_name')

    @property
    def time_field(self):
        return self.session_kind.field('creation_time')

    @property
    def points(self):
        """True for a restore point source (no state, no result: ``running`` and ``accept`` do not apply)."""
        return self.kind == 'points'

    def is_live(self, session):
        """Whether a running session of this source is judged on its live result now."""
        return self.live and session.get('result') not in (None, 'None')

    def __repr__(self):
        return 'Source({0})'.format(self.name)


TABLE = (
    Source('backup', 'sessions', 'backup_task', 'Backup'),
    Source('replica', 'sessions', 'replica_task', 'Replica'),
    Source('cdp', 'sessions', 'cdp_task', 'CDP', live=True, noun='CDP'),
    Source('restore_point', 'points', 'vm_restore_point', 'Restore point', producer='backup_task'),
    Source('replica_point', 'points', 'vm_replica_point', 'Replica point'),
    Source('agent', 'points', 'agent_restore_point', 'Agent restore point', subject='computer', producer='backup_job'),
)
BY_NAME = dict((source.name, source) for source in TABLE)
# Every source the gate (vm_protection_info, the role) judges.
NAMES = tuple(source.name for source in TABLE)
# The session sources: what the session report and the inventory read.
SESSION_NAMES = tuple(source.name for source in TABLE if source.kind == 'sessions')
# The point sources require_session_result applies to (EM links their points to the sessions that made them).
PRODUCED_NAMES = tuple(source.name for source in TABLE if source.producer is not None)


def get(name):
    """The ``Source`` of a name (KeyError for an unknown one: callers validate first)."""
    return BY_NAME[name]
