# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright (c) 2026, vbem.enterprise_manager contributors
"""Fail if a playbook's output holds the EM password or a session token.

Usage: python scan_secrets.py OUTPUT_FILE  (password from VEEAM_EM_PASSWORD)

EM session tokens are base64 of the logon session's GUID, so any run of
base64 that decodes to a GUID counts as a leaked token.
"""

import base64
import binascii
import os
import re
import sys

GUID = re.compile(r'^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$', re.IGNORECASE)
BASE64_RUN = re.compile(r'[A-Za-z0-9+/]{48}')


def leaks(text, password):
    """Return a description of every secret found in text."""
    found = []
    for number, line in enumerate(text.splitlines(), 1):
        if password and password in line:
            found.append('line %d holds the password' % number)
        for run in BASE64_RUN.findall(line):
            try:
                decoded = base64.b64decode(run).decode('ascii')
            except (binascii.Error, UnicodeDecodeError):
                continue
            if GUID.match(decoded):
                found.append('line %d holds a session token' % number)
    return found


def main():
    """Scan the file named on the command line."""
    with open(sys.argv[1], encoding='utf-8', errors='replace') as handle:
        text = handle.read()
    found = leaks(text, os.environ.get('VEEAM_EM_PASSWORD', ''))
    for item in found:
        print('secret leaked: ' + item, file=sys.stderr)
    print('scanned %d lines: %d secrets found' % (len(text.splitlines()), len(found)))
    return 1 if found else 0


if __name__ == '__main__':
    sys.exit(main())
