# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type

import threading
from datetime import datetime, timedelta, timezone

import pytest

from ansible_collections.vbem.enterprise_manager.plugins.module_utils.errors import EmError
from ansible_collections.vbem.enterprise_manager.plugins.module_utils.query import (
    OPERATORS, build_filter, condition, fetch_pages, format_time, parse_time, query_url, quote,
)

NOW = datetime(2025, 8, 16, 12, 0, 0)


@pytest.mark.parametrize('value, expected', [
    ('web;01', '"web;01"'),
    ('a,b', '"a,b"'),
    ('say "hi"', '"say ""hi"""'),
    ('f(x)', '"f(x)"'),
    ('a==b', '"a==b"'),
    ('two words', '"two words"'),
    (u'sérveur-ü', u'"sérveur-ü"'),
    ('', '""'),
])
def test_quote_wraps_and_doubles_quotes(value, expected):
    assert quote(value) == expected


def test_filter_value_with_semicolon_is_quoted():
    assert condition('VmDisplayName', '==', 'web;01') == 'VmDisplayName=="web;01"'


def test_filter_value_with_comma_is_quoted():
    assert condition('JobName', '==', 'a,b') == 'JobName=="a,b"'


def test_filter_value_with_double_quote_is_doubled():
    assert condition('VmDisplayName', '==', 'x"y') == 'VmDisplayName=="x""y"'


def test_filter_value_with_parentheses_and_equals_is_quoted():
    assert condition('Name', '==', '(a)=b') == 'Name=="(a)=b"'


def test_filter_value_with_unicode_is_quoted():
    assert condition('VmDisplayName', '==', u'Überserver') == u'VmDisplayName=="Überserver"'


@pytest.mark.parametrize('operator', OPERATORS)
def test_every_operator_is_accepted(operator):
    assert condition('TotalSize', operator, 5) == 'TotalSize' + operator + '5'


def test_unknown_operator_is_one_clear_error():
    with pytest.raises(EmError, match="operator '=~'"):
        condition('Name', '=~', 'x')


def test_field_name_with_spaces_is_rejected():
    with pytest.raises(EmError, match='field name'):
        condition('Vm Name', '==', 'x')


def test_list_value_becomes_parenthesised_or_group():
    assert condition('VmDisplayName', '==', ['a', 'b']) == '(VmDisplayName=="a",VmDisplayName=="b")'


def test_single_item_list_needs_no_group():
    assert condition('Result', '==', ['Failed']) == 'Result=="Failed"'


def test_empty_list_is_an_error():
    with pytest.raises(EmError, match='empty list'):
        condition('Result', '==', [])


def test_booleans_are_lower_case_and_numbers_bare():
    assert condition('IsRetry', '==', True) == 'IsRetry==true'
    assert condition('TotalSize', '>', 1024) == 'TotalSize>1024'


def test_datetime_values_are_quoted_utc():
    assert condition('CreationTime', '>=', datetime(2025, 8, 15, 6, 0, 0, 123)) == 'CreationTime>="2025-08-15T06:00:00Z"'


def test_conditions_are_anded_with_semicolon():
    assert build_filter([('Result', '==', 'Failed'), ('VmDisplayName', '==', 'db')]) == 'Result=="Failed";VmDisplayName=="db"'


def test_raw_filter_is_parenthesised_and_anded():
    assert build_filter([('Result', '==', 'Failed')], 'JobName==a,JobName==b') == 'Result=="Failed";(JobName==a,JobName==b)'


def test_raw_filter_alone_is_parenthesised():
    assert build_filter([], '  Result==Failed ') == '(Result==Failed)'


def test_no_conditions_means_no_filter():
    assert build_filter([]) is None
    assert build_filter([], '   ') is None


def test_format_time_of_aware_datetime_is_utc():
    moment = datetime(2025, 8, 15, 8, 0, 0, tzinfo=timezone(timedelta(hours=2)))
    assert format_time(moment) == '2025-08-15T06:00:00Z'


@pytest.mark.parametrize('text, expected', [
    ('2025-08-15T06:00:00Z', datetime(2025, 8, 15, 6, 0, 0)),
    ('2025-08-15T06:00:00.389954Z', datetime(2025, 8, 15, 6, 0, 0, 389954)),
    ('2025-08-15T06:00:00', datetime(2025, 8, 15, 6, 0, 0)),
    ('2025-08-15 06:00', datetime(2025, 8, 15, 6, 0, 0)),
    ('2025-08-15T08:00:00+02:00', datetime(2025, 8, 15, 6, 0, 0)),
    ('2025-08-15T01:00:00-0500', datetime(2025, 8, 15, 6, 0, 0)),
    ('2025-08-15', datetime(2025, 8, 15, 0, 0, 0)),
])
def test_iso_times_are_parsed_to_utc(text, expected):
    assert parse_time(text, NOW) == expected


@pytest.mark.parametrize('text, delta', [
    ('30s', timedelta(seconds=30)),
    ('30m', timedelta(minutes=30)),
    ('24h', timedelta(hours=24)),
    ('7d', timedelta(days=7)),
    ('2w', timedelta(weeks=2)),
    (' 7D ', timedelta(days=7)),
])
def test_relative_ages_count_back_from_now(text, delta):
    assert parse_time(text, NOW) == NOW - delta


@pytest.mark.parametrize('text', ['yesterday', '7 days', '-7d', '2025-13-01', '2025-08-15T25:00:00Z', '', '7y', '1.5h'])
def test_bad_times_are_one_clear_sentence(text):
    with pytest.raises(EmError) as info:
        parse_time(text, NOW)
    message = str(info.value)
    assert 'ISO-8601' in message and '24h' in message
    assert message.count('.') >= 1 and '\n' not in message


def test_query_url_percent_encodes_the_whole_filter():
    url = query_url('https://em:9398/api', 'BackupTaskSession', 'VmDisplayName=="a b;c";Result=="Failed"', 'CreationTime', True, 50, 2)
    assert url == ('https://em:9398/api/query?type=BackupTaskSession&format=Entities'
                   '&filter=VmDisplayName%3D%3D%22a%20b%3Bc%22%3BResult%3D%3D%22Failed%22'
                   '&sortDesc=CreationTime&pageSize=50&page=2')


def test_query_url_always_sends_page_size_and_sorts_ascending_on_request():
    url = query_url('https://em:9398/api/', 'Job', None, 'Name', False, 100, 1)
    assert url == 'https://em:9398/api/query?type=Job&format=Entities&sortAsc=Name&pageSize=100&page=1'


def test_query_url_encodes_unicode_values():
    assert '%C3%BC' in query_url('https://em/api', 'BackupTaskSession', u'VmDisplayName=="ü"')


class Pages(object):
    """A fake EM result set of ``total`` items served ``page_size`` at a time."""

    def __init__(self, total, page_size, with_count=True):
        self.items = ['item%03d' % i for i in range(total)]
        self.page_size = page_size
        self.with_count = with_count
        self.requested = []
        self.lock = threading.Lock()

    def __call__(self, page):
        with self.lock:
            self.requested.append(page)
        start = (page - 1) * self.page_size
        count = -(-len(self.items) // self.page_size) if self.with_count else None
        return self.items[start:start + self.page_size], count


def test_all_pages_are_fetched_in_order_without_limit():
    pages = Pages(95, 10)
    result = fetch_pages(pages, 10, limit=0, concurrency=4)
    assert result.items == pages.items
    assert result.truncated is False
    assert sorted(pages.requested) == list(range(1, 11))


def test_limit_fetches_only_the_pages_it_needs_and_says_truncated():
    pages = Pages(95, 10)
    result = fetch_pages(pages, 10, limit=25, concurrency=4)
    assert result.items == pages.items[:25]
    assert result.truncated is True
    assert sorted(pages.requested) == [1, 2, 3]


def test_limit_equal_to_total_is_not_truncated():
    pages = Pages(30, 10)
    result = fetch_pages(pages, 10, limit=30)
    assert len(result.items) == 30 and result.truncated is False


def test_limit_larger_than_total_is_not_truncated():
    result = fetch_pages(Pages(7, 10), 10, limit=1000)
    assert len(result.items) == 7 and result.truncated is False


def test_limit_cut_within_first_page_is_truncated():
    result = fetch_pages(Pages(7, 10), 10, limit=3)
    assert result.items == ['item000', 'item001', 'item002'] and result.truncated is True


def test_missing_paging_info_pages_until_a_short_page():
    pages = Pages(25, 10, with_count=False)
    result = fetch_pages(pages, 10)
    assert result.items == pages.items and pages.requested == [1, 2, 3]


def test_empty_result_with_zero_pages():
    assert fetch_pages(lambda page: ([], 0), 10).items == []


def test_accept_filters_client_side_and_limit_counts_accepted_items():
    pages = Pages(95, 10)
    result = fetch_pages(pages, 10, limit=5, accept=lambda item: item.endswith('0'))
    assert result.items == ['item000', 'item010', 'item020', 'item030', 'item040']
    assert result.truncated is True


def test_duplicates_that_moved_between_pages_are_dropped():
    def fetch(page):
        return ({1: ['a', 'b'], 2: ['b', 'c']}[page], 2)
    assert fetch_pages(fetch, 2, key=lambda item: item).items == ['a', 'b', 'c']


def test_concurrency_one_still_fetches_everything():
    pages = Pages(35, 10)
    assert fetch_pages(pages, 10, concurrency=1).items == pages.items


def test_page_errors_propagate():
    def fetch(page):
        if page == 3:
            raise EmError('boom')
        return ['x'] * 10, 5
    with pytest.raises(EmError, match='boom'):
        fetch_pages(fetch, 10)
