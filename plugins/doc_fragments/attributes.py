# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """Module attributes, described once for every module of the collection."""

    DOCUMENTATION = r'''
options: {}
attributes:
  check_mode:
    description: Can run in check mode and return the same result as without it.
  diff_mode:
    description: Will return details on what has changed (or would change in check mode), when in diff mode.
  action_group:
    description: Use C(group/vbem.enterprise_manager.enterprise_manager) in C(module_defaults) to set defaults for this module.
'''

    # Every module of the collection only reads from Enterprise Manager.
    INFO_MODULE = r'''
options: {}
attributes:
  check_mode:
    support: full
    details: This module never changes anything on Enterprise Manager.
  diff_mode:
    support: N/A
    details: This module never changes anything on Enterprise Manager.
  action_group:
    support: full
    membership:
      - vbem.enterprise_manager.enterprise_manager
'''
