# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """The VMs a module acts on, documented once: gate.targets reads them the same way for quick_backup and vm_protection_info."""

    DOCUMENTATION = r'''
options:
  vms:
    description:
      - The VMs, by their names in EM (the VM display names), matched case-insensitively as EM compares names.
      - 'A list of names, one name as a string (a string is always one name, commas included), or a dict
        C({key: VM name}) whose keys come back as given - the backup_gate role passes C({inventory_hostname: VM name}).'
    type: raw
    required: true
'''
