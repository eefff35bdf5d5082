# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Input that could only be a mistake: UTC offsets no zone has in every time option, and report folders (pure checks)."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import os
from datetime import datetime

import pytest

from ansible_collections.vbem.enterprise_manager.plugins.module_utils import validate, verdict
from ansible_collections.vbem.enterprise_manager.plugins.plugin_utils import inventory, report
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError

NOW = datetime(2026, 11, 30, 12, 0, 0)
BAD = '2026-11-01T00:00:00+15:00'
SENTENCE = "has the UTC offset +15:00, which no time zone has (they lie between -14:00 and +14:00)"


def refused(call, *words):
    with pytest.raises(EmError) as info:
        call()
    message = str(info.value)
    for word in words:
        assert word in message
    assert '\n' not in message and message.endswith('.')
    return message


@pytest.mark.parametrize('option', ['created_after', 'created_before'])
def test_module_and_lookup_time_options_name_the_option_and_the_offset(option):
    refused(lambda: validate.moment(BAD, option, NOW), "{0} '{1}' {2}".format(option, BAD, SENTENCE))


@pytest.mark.parametrize('option', ['max_age', 'lookback'])
def test_gate_time_options_name_the_option_and_the_offset(option):
    refused(lambda: verdict.Policy(now=NOW, **{option: BAD}), "{0} '{1}' {2}".format(option, BAD, SENTENCE))


def test_inventory_created_after_names_the_offset():
    refused(lambda: inventory.plan({'created_after': BAD}, NOW), "created_after '{0}' {1}".format(BAD, SENTENCE))


def test_report_window_names_the_offset():
    refused(lambda: report.plan(['backup'], BAD, NOW), "report_window '{0}' {1}".format(BAD, SENTENCE))


def test_a_real_offset_still_works_everywhere():
    good = '2026-11-01T00:00:00+14:00'
    assert validate.moment(good, 'created_after', NOW) == datetime(2026, 10, 31, 10, 0)
    assert report.plan(['backup'], good, NOW)['created_after'] == '2026-10-31T10:00:00Z'
    assert inventory.plan({'created_after': good, 'max_age': '24h'}, NOW)['created_after']


# -- report_dir ---------------------------------------------------------------------------------------

def test_report_dir_resolves_relative_paths_and_new_folders(tmp_path):
    assert report.check_report_dir('reports', cwd=str(tmp_path)) == os.path.join(str(tmp_path), 'reports')
    assert report.check_report_dir('a/b/c', cwd=str(tmp_path)) == os.path.join(str(tmp_path), 'a', 'b', 'c')
    assert report.check_report_dir(str(tmp_path)) == str(tmp_path)
    os.symlink(str(tmp_path), str(tmp_path / 'link'))
    assert report.check_report_dir('link', cwd=str(tmp_path)) == str(tmp_path)


@pytest.mark.parametrize('value, words', [
    ('', "report_dir must be the folder to write report.html and sessions.csv into, not ''"),
    ('   ', "not '   '"),
    (None, 'not null'),
    (5, 'not 5'),
    (['a'], "not ['a']"),
    ('a\x00b', 'holds a NUL character'),
])
def test_report_dir_that_is_no_path_is_refused(value, words):
    refused(lambda: report.check_report_dir(value), words)


def test_report_dir_that_is_a_file_or_under_one_is_refused(tmp_path):
    (tmp_path / 'report.html').write_text('x')
    refused(lambda: report.check_report_dir('report.html', cwd=str(tmp_path)), "report_dir 'report.html' is a file, not a folder")
    refused(lambda: report.check_report_dir('report.html/new', cwd=str(tmp_path)),
            "report_dir 'report.html/new' cannot be created:", 'is a file, not a folder')
    # A dangling link names the folder to create: where it points.
    os.symlink(str(tmp_path / 'gone'), str(tmp_path / 'dangling'))
    assert report.check_report_dir('dangling', cwd=str(tmp_path)) == str(tmp_path / 'gone')


@pytest.mark.skipif(os.geteuid() == 0, reason='root may write anywhere')
def test_report_dir_that_cannot_be_written_is_refused(tmp_path):
    locked = tmp_path / 'locked'
    locked.mkdir()
    locked.chmod(0o500)
    try:
        refused(lambda: report.check_report_dir(str(locked)), 'is not writable by this user')
        refused(lambda: report.check_report_dir(str(locked / 'new')), 'cannot be created:', 'is not writable')
    finally:
        locked.chmod(0o700)
