# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Input checks that need no EM: run before logging on, one sentence each.

Every check raises EmError with a sentence that names the option, says what
was wrong and what is expected. Nothing here ever changes the meaning of a
value: a string is one name, never split on commas.
"""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError


def _shown(value, limit=60):
    """A short, safe rendering of a user value for an error sentence."""
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + '...'


def names(value, option, required=False):
    """Return a list of names from one name (a string) or a list of names.

    A string is exactly one name: ``"db,02"`` stays ``["db,02"]``. Names are
    kept as given (no trimming); empty names, non-strings and an empty list
    where a value is required are refused. ``None`` means "not given".
    """
    if value is None:
        if required:
            raise EmError('{0} is required: give a name or a list of names.'.format(option))
        return []
    if isinstance(value, (bytes, bytearray)):
        value = value.decode('utf-8')
    if isinstance(value, str):
        items = [value]
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise EmError('{0} must be a name or a list of names, not {1} ({2}).'.format(option, type(value).__name__, _shown(value)))
    if not items:
        raise EmError('{0} is an empty list; give at least one name, or leave the option out.'.format(option))
    result = []
    for item in items:
        if not isinstance(item, str) or isinstance(item, bool):
            raise EmError('{0} must hold names (strings), not {1} ({2}).'.format(option, type(item).__name__, _shown(item)))
        if item == '':
            raise EmError('{0} holds an empty name; every name must have at least one character.'.format(option))
        result.append(item)
    return result
