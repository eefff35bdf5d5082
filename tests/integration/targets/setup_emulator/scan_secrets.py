# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright (c) 2026, vbem.enterprise_manager contributors
"""Fail if output holds the EM password, a session token or a logon SessionId.

Usage: python scan_secrets.py FILE_OR_FOLDER...  (password from VEEAM_EM_PASSWORD)

A folder is scanned file by file (ansible-runner artifacts, for example).

* The password: anywhere.
* A session token: EM tokens are base64 of the logon session's GUID, so any
  run of base64 that decodes to a GUID counts as a leaked token.
* A SessionId: with the token being base64 of it, a SessionId is as good as
  the token. The logon SessionIds of the run are read from the emulator's
  access log (``$EMULATOR_DIR/stderr.log``, written when the emulator runs
  with ``--verbose``): more than 8 characters of any of them is a leak. Any
  GUID right after ``logonSessions/`` or ``SessionId`` counts too, so the
  scan works without that log.
"""

import base64
import binascii
import os
import re
import sys

GUID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', re.IGNORECASE)
GUID_ANYWHERE = r'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'
BASE64_RUN = re.compile(r'[A-Za-z0-9+/]{48}')
SESSION_CONTEXT = re.compile(r'(?:logonSessions/|SessionId\W{0,6})(' + GUID_ANYWHERE + ')', re.IGNORECASE)
ACCESS_LOG_ID = re.compile(r'/api/logonSessions/(' + GUID_ANYWHERE + ')', re.IGNORECASE)
# What may be shown of a SessionId: its first 8 characters. Nine or more in a row is a leak.
SHOWN_MAX = 8


def session_ids_from_access_log(path):
    """The logon SessionIds named in the emulator's access log, lower-case."""
    try:
        with open(path, encoding='utf-8', errors='replace') as handle:
            return sorted(set(match.lower() for match in ACCESS_LOG_ID.findall(handle.read())))
    except OSError:
        return []


def _id_fragments(session_ids):
    """Every run of SHOWN_MAX + 1 characters of every SessionId, mapped to its id."""
    fragments = {}
    for session_id in session_ids:
        for start in range(len(session_id) - SHOWN_MAX):
            fragments[session_id[start:start + SHOWN_MAX + 1]] = session_id
    return fragments


def leaks(text, password, session_ids=()):
    """Return a description of every secret found in text."""
    found = []
    fragments = _id_fragments([sid.lower() for sid in session_ids])
    width = SHOWN_MAX + 1
    for number, line in enumerate(text.splitlines(), 1):
        if password and password in line:
            found.append('line %d holds the password' % number)
        for run in BASE64_RUN.findall(line):
            try:
                decoded = base64.b64decode(run).decode('ascii')
            except (binascii.Error, UnicodeDecodeError, ValueError):
                continue
            if GUID.match(decoded):
                found.append('line %d holds a session token' % number)
        if SESSION_CONTEXT.search(line):
            found.append('line %d holds a logon SessionId' % number)
            continue
        lowered = line.lower()
        # A whole GUID that is not the SessionId (a session's uid, say) may share nine characters with one
        # by chance (about one run in forty, with hundreds of logons and thousands of GUIDs in the output):
        # that is no leak. A SessionId shown whole, or cut anywhere but after 8 characters, still is.
        guids = [(match.start(), match.end(), match.group(0)) for match in re.finditer(GUID_ANYWHERE, lowered)]
        for start in range(len(lowered) - width + 1):
            session_id = fragments.get(lowered[start:start + width])
            if session_id is None:
                continue
            if any(first <= start and start + width <= end and guid != session_id for first, end, guid in guids):
                continue
            found.append('line %d holds more than %d characters of a logon SessionId' % (number, SHOWN_MAX))
            break
    return found


def _files(paths):
    for path in paths:
        if os.path.isdir(path):
            for folder, _dirs, names in os.walk(path):
                for name in sorted(names):
                    yield os.path.join(folder, name)
        else:
            yield path


def main():
    """Scan the files and folders named on the command line."""
    password = os.environ.get('VEEAM_EM_PASSWORD', '')
    session_ids = []
    if os.environ.get('EMULATOR_DIR'):
        session_ids = session_ids_from_access_log(os.path.join(os.environ['EMULATOR_DIR'], 'stderr.log'))
    total_lines = 0
    total = 0
    for path in _files(sys.argv[1:]):
        with open(path, encoding='utf-8', errors='replace') as handle:
            text = handle.read()
        total_lines += len(text.splitlines())
        for item in leaks(text, password, session_ids):
            print('secret leaked in %s: %s' % (path, item), file=sys.stderr)
            total += 1
    print('scanned %d lines against the password, tokens and %d logon SessionIds: %d secrets found' % (
        total_lines, len(session_ids), total))
    return 1 if total else 0


if __name__ == '__main__':
    sys.exit(main())
