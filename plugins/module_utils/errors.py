# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The one error type of the collection.

It lives in its own file, free of third-party imports, so the pure helpers
(parsing, query, sessions) can raise it without importing requests.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class EmError(Exception):
    """A failure talking to Enterprise Manager or using its data.

    The message is always one sentence meant for a human: it names the URL,
    the HTTP status and EM's own message where there is one, and never a
    password, a session token or a traceback.
    """

    def __init__(self, message, url=None, status=None, em_message=None):
        super(EmError, self).__init__(message)
        self.message = message
        self.url = url
        self.status = status
        self.em_message = em_message

    def __str__(self):
        return self.message


def scrub(text, secrets):
    """Return ``text`` with every non-empty secret replaced by ``********``.

    EM sometimes echoes request data back in its error text; this keeps the
    password and the session token out of every message we raise.
    """
    if text is None:
        return text
    for secret in secrets:
        if secret and len(str(secret)) >= 3:
            text = text.replace(str(secret), '********')
    return text
