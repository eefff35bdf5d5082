# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The sessions behind restore points: what the gate's ``require_session_result`` judges.

A restore point proves that data exists; ``require_session_result`` also asks
how the run that made it ended. What EM documents, and this code relies on:

* ``restore_point``: a ``BackupTaskSession`` carries a ``Related`` link to the
  ``VmRestorePoint`` it created (em-docs ``get_backuptasksessions_id``); the
  point carries no link back. So the producing session of a VM's newest point
  is found by reading the VM's backup task sessions (names split to fit EM's
  URL limit, as every gate query), newest first, until each point's session
  is seen: with the sessions of one night on one page, one page per request.
* ``agent``: an ``AgentManagement`` job session ("a Veeam Agent protected
  machine backup state ... contains links for restore points", em-docs
  ``get_backupsessions_id``) is the run of one computer. EM documents no
  computer field for it and no filter by computer, so the agent sessions of
  the look back are read (``JobType==AgentManagement``, newest first, every
  computer in one paged query) until every computer asked for has a completed
  one. A session is the computer's when its ``Related`` link names the
  computer's newest point, or when its job name ends in `` - <computer>``
  (how the emulator, after the docs' agent backup file names, names the child
  sessions; the docs show no example: an assumption, stated in the README of
  the emulator and in the gate guide). A failed run made no point, so only its
  name can tie it to its computer.
* ``replica_point``: EM documents no link from a ``ReplicaTaskSession`` to
  the ``VmReplicaPoint`` it made; ``require_session_result`` is refused with it.

Sessions reach back about 30 days (EM's session history); a point with no
producing session in that history fails closed (``no_session``), as the gate
never passes on evidence it cannot see.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import info, parsing, query, sessions
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError

AGENT_JOB_TYPE = 'AgentManagement'
# Between a job name and the computer in the name of an agent child session ("Physical Servers - PHYS-SQL-01").
AGENT_NAME_SEPARATOR = ' - '


def related_ids(entity):
    """The lower-case GUIDs a raw session entity's ``Related`` links point at (what the session produced)."""
    found = set()
    for link in parsing.link_dicts(entity, rel='Related'):
        href = link.get('href')
        if not isinstance(href, str):
            continue
        last = parsing.href_id(href)
        if sessions.is_guid(last):
            found.add(last.lower())
    return found


def point_guid(point):
    """The lower-case GUID of a normalised restore point, or None."""
    guid = sessions.guid_of(point.get('uid')) if point else None
    return guid.lower() if guid and sessions.is_guid(guid) else None


def agent_computer(session, wanted):
    """The folded computer name (one of ``wanted``) an agent child session runs for, by its name, or None.

    The job name (or the session name before ``@``) is ``<job> - <computer>``;
    job names may hold the separator too, so every split is tried and the
    longest computer name asked for wins.
    """
    for text in (session.get('job_name'), _before_at(session.get('name'))):
        if not isinstance(text, str) or AGENT_NAME_SEPARATOR not in text:
            continue
        parts = text.split(AGENT_NAME_SEPARATOR)
        for start in range(1, len(parts)):
            candidate = AGENT_NAME_SEPARATOR.join(parts[start:]).casefold()
            if candidate in wanted:
                return candidate
    return None


def _before_at(name):
    return name.rsplit('@', 1)[0] if isinstance(name, str) and '@' in name else name


class Producers(object):
    """Per folded name, the session that decides ``require_session_result``, from sessions seen in any order.

    ``by_point`` maps a point GUID to the folded name whose newest point it
    is. A session counts for a name when a ``Related`` link of it names that
    point; with ``by_name`` (agent sessions), also when ``agent_computer``
    attributes it to one of those names. Per name the newest session by
    ``sessions.newest_rank`` wins, a running one excepted when ``completed``
    (an agent run still going proves nothing yet; the last finished one is
    judged).
    """

    def __init__(self, by_point, now, by_name=False, completed=False, wanted=None):
        self.by_point = dict(by_point)
        self.wanted = frozenset(self.by_point.values() if wanted is None else wanted)
        self.now = now
        self.by_name = by_name
        self.completed = completed
        self.found = {}
        self._ranks = {}

    def see(self, session, related):
        """Take one normalised session with its ``related`` GUIDs; returns the name it counted for, or None."""
        key = None
        for guid in related:
            if guid in self.by_point:
                key = self.by_point[guid]
                break
        if key is None and self.by_name:
            key = agent_computer(session, self.wanted)
        if key is None or (self.completed and sessions.is_running(session)):
            return None
        rank = sessions.newest_rank(session, self.now)
        if key not in self._ranks or rank > self._ranks[key]:
            self.found[key], self._ranks[key] = session, rank
        return key

    def missing(self, keys=None):
        """The names (of ``keys``, default all) with no session found yet."""
        return [key for key in (self.wanted if keys is None else keys) if key not in self.found]


def find(client, source, newest_points, names, plan, check):
    """``{folded name: session or None}`` for the names whose newest point of ``source`` is given.

    ``newest_points`` maps a folded name to its newest point (only names
    whose point would pass are worth asking about); ``names`` maps a folded
    name to the name as requested; ``plan`` is the gate's
    plan; ``check(kind, params, session)`` refuses a session outside the
    asked times. Reads as described in the module docstring and never more
    than the look back (``lookback``) of sessions.
    """
    policy = plan['policy']
    by_point = dict((point_guid(point), key) for key, point in newest_points.items() if point_guid(point))
    agent = source.producer.name == 'backup_job'
    producers = Producers(by_point, policy.now, by_name=agent, completed=agent, wanted=newest_points)
    if not newest_points:
        return {}
    kind = source.producer
    params = {'created_after': policy.lookback_start, 'sort': 'creation_time', 'order': 'descending', 'limit': 0,
              'page_size': plan['page_size'], 'max_url_length': plan['max_url_length']}
    if agent:
        params['filter'] = 'JobType=={0}'.format(AGENT_JOB_TYPE)
        requests, _logical, _local = info.split_session_requests(client, kind, params, policy.now)
        requests = [(filter_text, list(newest_points)) for filter_text, _values in requests]
    else:
        params['vm_name'] = [names[key] for key in newest_points]
        requests, _logical, _local = info.split_session_requests(client, kind, params, policy.now,
                                                                 {'vm_name': 'vms', 'created_after': 'lookback'})
        requests = [(filter_text, [name.casefold() for name in values.get('vm_name', [])]) for filter_text, values in requests]
    for filter_text, keys in requests:
        _read(client, kind, dict(params, now=policy.now), plan, filter_text, producers, keys, check, agent)
    return dict((key, producers.found.get(key)) for key in newest_points)


def _read(client, kind, params, plan, filter_text, producers, keys, check, agent):
    """One request, newest first, until every name in ``keys`` has its session (while EM's order holds)."""
    order = sessions.OrderCheck(params['now'])
    sort_field = kind.field('creation_time')

    def done():
        return order.holds and not producers.missing(keys)

    def fetch_page(page):
        if page > 1 and done():
            return [], None  # every name has its session and nothing unread can be newer: no request
        items, pages_count = client.query_page(kind.query_type, filter_text, sort_field, True, plan['page_size'], page,
                                               collection_key=kind.collection_key)
        return [(sessions.normalise(item, kind, links=False), related_ids(item)) for item in items], pages_count

    def accept(pair):
        session, related = pair
        check(kind, params, session)
        if agent and session.get('job_type') != AGENT_JOB_TYPE:
            raise EmError('EM answered a query for {0} job sessions with a {1} session ({2}): the answer is not what was '
                          'asked, so no computer is judged on it.'.format(
                              AGENT_JOB_TYPE, session.get('job_type'), session.get('name')))
        order.see(session)
        producers.see(session, related)
        return False

    query.fetch_pages(fetch_page, plan['page_size'], 0, plan['concurrency'], accept=accept,
                      key=lambda pair: pair[0].get('uid'))
