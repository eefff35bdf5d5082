# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""docs/architecture.md stays true: every path it names exists."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import glob
import os
import re

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..'))
DOC = os.path.join(ROOT, 'docs', 'architecture.md')


def _named_paths():
    with open(DOC) as handle:
        text = handle.read()
    spans = re.findall(r'`([^`\s]+)`', text)
    return sorted(set(span for span in spans if '/' in span and not span.startswith(('group/', 'http'))))


def test_the_map_names_paths():
    assert len(_named_paths()) >= 20


def test_every_path_the_map_names_exists():
    missing = [path for path in _named_paths() if not glob.glob(os.path.join(ROOT, path))]
    assert missing == []
