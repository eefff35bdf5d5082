# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright (c) 2026, vbem.enterprise_manager contributors
"""Add the task sessions listed in a YAML file to the emulator (POST /_emulator/sessions).

Usage: python add_sessions.py SESSIONS_YML  (emulator from VEEAM_EM_URL and VEEAM_EM_CA_PATH)

One process for all of them: a uri task per session would cost a module run each.
"""

import os
import sys

import yaml

sys.path.insert(0, os.path.dirname(os.environ['EMULATOR_CONTROL']))
from control import control  # noqa: E402  pylint: disable=wrong-import-position  # the one emulator control client


def main():
    """POST every session of the file; fail on the first one the emulator refuses."""
    with open(sys.argv[1], encoding='utf-8') as handle:
        bodies = yaml.safe_load(handle)
    for body in bodies:
        added = control('sessions', body)
        print('added %(type)s %(vm_name)s %(state)s %(result)s created %(created)s' % added)
    return 0


if __name__ == '__main__':
    sys.exit(main())
