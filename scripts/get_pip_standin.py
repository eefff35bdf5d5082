# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# Copyright (c) 2026, vbem.enterprise_manager contributors
"""Offline stand-in for the get-pip.py that ansible-test downloads.

ansible-test bootstraps pip into every virtual environment it creates by
running ``get-pip-<version>.py`` fetched from a host these machines cannot
reach; it uses a cached copy from ``~/.ansible/test/cache`` when one exists.
``scripts/ansible-test.sh`` installs this file there.  It installs pip from the
wheel that the interpreter's own ``ensurepip`` bundles, then lets that pip
install whatever else ansible-test asked for from the package index.
"""

import glob
import os
import runpy
import sys

import ensurepip

BUNDLED = sorted(glob.glob(os.path.join(os.path.dirname(ensurepip.__file__), '_bundled', 'pip-*.whl')))
if not BUNDLED:
    sys.exit('get-pip stand-in: this Python has no bundled pip wheel under ensurepip/_bundled')

sys.path.insert(0, BUNDLED[-1])
# get-pip.py understands these two flags; pip itself does not.
ARGS = [arg for arg in sys.argv[1:] if arg not in ('--no-setuptools', '--no-wheel')]
sys.argv = ['pip', 'install', '--upgrade', '--force-reinstall'] + ARGS
runpy.run_module('pip', run_name='__main__', alter_sys=True)
