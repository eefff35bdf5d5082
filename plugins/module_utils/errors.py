# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The error types of the collection, and what keeps secrets and huge URLs out of their text.

It lives in its own file, free of third-party imports, so the pure helpers
(parsing, query, sessions) can raise it without importing requests.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import re

# Longest URL an error message or warning carries: a query URL can hold
# thousands of characters of filter, which would bury the one sentence.
URL_SHOWN_MAX = 200
# How much of a logon SessionId may be shown: enough to tell sessions apart
# in a log, far too little to rebuild the token (base64 of the whole id).
SESSION_ID_SHOWN = 8

# A GUID as EM writes it (session ids, UIDs): the one pattern every module matches GUIDs with.
GUID_PATTERN = r'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'


class EmError(Exception):
    """A failure talking to Enterprise Manager or using its data.

    The message is always one sentence meant for a human: it names the URL,
    the HTTP status and EM's own message where there is one, and never a
    password, a session token, a SessionId or a traceback.
    """

    def __init__(self, message, url=None, status=None, em_message=None):
        super(EmError, self).__init__(message)
        self.message = message
        self.url = url
        self.status = status
        self.em_message = em_message

    def __str__(self):
        return self.message


class EmInterrupted(EmError):
    """The work was stopped on purpose: SIGINT, SIGTERM, or the process that started us went away.

    It is an EmError so that every module and lookup turns it into one
    sentence (modules fail, lookups raise) without knowing about signals.
    ``signum`` is the signal that stopped us (None when the parent went away),
    for a caller that wants to pass it on, as KeyboardInterrupt for SIGINT.
    """

    def __init__(self, message, signum=None):
        super(EmInterrupted, self).__init__(message)
        self.signum = signum


def mask_session_id(session_id):
    """The first characters of a SessionId followed by ``...``: never enough to rebuild a token."""
    text = str(session_id or '')
    return text[:SESSION_ID_SHOWN] + '...' if text else text


def scrub(text, secrets, session_ids=()):
    """Return ``text`` with every secret replaced by ``********`` and every SessionId shortened.

    ``secrets`` are removed wherever they appear (EM sometimes echoes request
    data in its error text); ``session_ids`` are logon SessionIds, shown by
    their first characters only (case-insensitively, since a GUID may come
    back in either case), because the session token is base64 of the id.
    """
    if text is None:
        return text
    for secret in secrets:
        if secret and len(str(secret)) >= 3:
            text = text.replace(str(secret), '********')
    for session_id in session_ids:
        if session_id and len(str(session_id)) > SESSION_ID_SHOWN:
            text = re.sub(re.escape(str(session_id)), mask_session_id(session_id), text, flags=re.IGNORECASE)
    return text


def mask_guids_after(text, marker='logonSessions/'):
    """Shorten any GUID that follows ``marker`` (a logon session path) to its first characters.

    Used for URLs of sessions the client does not know the id of in advance,
    such as EM's own links to a logon session.
    """
    if text is None:
        return text
    pattern = re.compile(re.escape(marker) + r'(' + GUID_PATTERN + r')', re.IGNORECASE)
    return pattern.sub(lambda match: marker + mask_session_id(match.group(1)), text)


def shorten_url(url, limit=URL_SHOWN_MAX):
    """Return ``url`` itself when it is at most ``limit`` characters, else a readable stand-in.

    The stand-in keeps the scheme, host and path, the first query parameter
    (``type=BackupTaskSession`` says which query failed) and the full length:
    ``https://em:9398/api/query?type=BackupTaskSession&... (12345 characters)``.
    """
    text = str(url)
    if len(text) <= limit:
        return text
    base, _sep, query_string = text.partition('?')
    suffix = ' ({0} characters)'.format(len(text))
    first = query_string.split('&', 1)[0]
    kept = base + '?' + first + '&...' if query_string else base
    if len(kept) + len(suffix) > limit:
        kept = text[:max(limit - len(suffix) - 3, 20)] + '...'
    return kept + suffix
