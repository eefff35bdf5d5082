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
    OPERATORS, TimeRangeError, TimeZoneError, build_filter, condition, encoded_length, fetch_pages, format_time, parse_time,
    query_url, quote, split_conditions,
)
from ansible_collections.vbem.enterprise_manager.tests.unit.plugins.module_utils.fake_em import matches, predicate

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
        return ({1: ['a', 'b'], 2: ['b', 'c']}.get(page, []), 2)
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


# --- URL-length splitting ---

BASE = 'https://em.example.com:9398/api'


def url_length(filter_text):
    return len(query_url(BASE, 'BackupTaskSession', filter_text, 'CreationTime', True, 1000, 1))


def names_condition(names, field='VmDisplayName'):
    return (field, '==', list(names))


def split_lengths(parts, raw=None):
    return [url_length(build_filter(part, raw)) for part in parts]


@pytest.mark.parametrize('text, length', [
    ('abc', 3), ('a b', 5), ('"', 3), ('==', 6), (';', 3), (',', 3), ('(', 3), (u'\u00fc', 6), (u'\u6570', 9), (u'\U0001F600', 12),
])
def test_encoded_length_counts_percent_encoded_utf8_bytes(text, length):
    assert encoded_length(text) == length


def test_encoded_length_is_what_the_request_url_grows_by():
    empty = len(query_url(BASE, 'BackupTaskSession', 'x'))
    for text in ('web;01', 'sql "prod"', u'B\u00fccher-DB', u'\u6570\u636e\u5e93-01', 'a==b', 'app (old)'):
        assert len(query_url(BASE, 'BackupTaskSession', 'x' + text)) - empty == encoded_length(text)


def test_a_filter_that_fits_is_not_split():
    conditions = [names_condition(['a', 'b']), ('CreationTime', '>=', NOW)]
    assert split_conditions(conditions, None, url_length, 10000) == [conditions]


def test_a_list_exactly_at_the_limit_is_one_request_and_one_character_less_splits_it():
    names = ['vm%03d' % i for i in range(50)]
    conditions = [names_condition(names), ('CreationTime', '>=', NOW)]
    exact = url_length(build_filter(conditions))
    assert split_conditions(conditions, None, url_length, exact) == [conditions]
    parts = split_conditions(conditions, None, url_length, exact - 1)
    assert [part[0][2] for part in parts] == [names[:49], names[49:]]
    assert [part[1] for part in parts] == [conditions[1], conditions[1]]


def test_a_batch_that_ends_exactly_at_the_limit_is_kept_whole():
    names = ['vm%03d' % i for i in range(50)]
    limit = url_length(build_filter([names_condition(names[:10])]))
    parts = split_conditions([names_condition(names)], None, url_length, limit)
    assert [len(part[0][2]) for part in parts] == [10] * 5
    assert split_lengths(parts) == [limit] * 5


def test_batches_are_as_full_as_the_limit_allows():
    names = ['server-%d.%s' % (i, 'x' * (i % 17)) for i in range(400)]
    parts = split_conditions([names_condition(names), ('Result', '==', ['Failed', 'Warning'])], None, url_length, 2000)
    assert all(length <= 2000 for length in split_lengths(parts))
    for part, following in zip(parts, parts[1:]):
        grown = [names_condition(part[0][2] + following[0][2][:1]), part[1]]
        assert url_length(build_filter(grown)) > 2000
    assert [name for part in parts for name in part[0][2]] == names


def entities(vm_names, job_names):
    rows = [{'VmDisplayName': vm, 'JobName': job} for vm in vm_names for job in job_names]
    return rows + [{'VmDisplayName': 'other', 'JobName': job_names[0]}, {'VmDisplayName': vm_names[0], 'JobName': 'other job'}]


def test_split_batches_select_exactly_what_the_whole_filter_selects():
    vms = [u'vm-%03d;"q",(x)==y \u00fc' % i for i in range(120)]
    jobs = ['Job A', 'Job B']
    conditions = [names_condition(vms), names_condition(jobs, 'JobName'), ('Result', '!=', 'Success')]
    parts = split_conditions(conditions, 'TotalSize>0,Result==Failed', url_length, 1500)
    assert len(parts) > 3 and all(length <= 1500 for length in split_lengths(parts, 'TotalSize>0,Result==Failed'))
    whole = predicate(build_filter(conditions))
    tests = [predicate(build_filter(part)) for part in parts]
    rows = [dict(row, Result='Failed', TotalSize='1') for row in entities(vms, jobs + ['Job C'])]
    for row in rows:
        assert sum(1 for test in tests if test(row)) == (1 if whole(row) else 0), row


def test_two_long_lists_are_both_split_and_every_pair_is_asked_exactly_once():
    vms = ['vm-%03d' % i for i in range(150)]
    jobs = ['Nightly backup job for department %02d' % i for i in range(40)]
    conditions = [names_condition(vms), names_condition(jobs, 'JobName')]
    # The job list alone takes more room than the limit: no request can carry it whole.
    assert url_length(build_filter([names_condition(vms[:1]), names_condition(jobs, 'JobName')])) > 1500
    parts = split_conditions(conditions, None, url_length, 1500)
    assert all(length <= 1500 for length in split_lengths(parts))
    assert any(len(part[0][2]) < len(vms) for part in parts) and all(len(part[1][2]) < len(jobs) for part in parts)
    # Both lists get room: not one request per VM (or two), as when only the VM list gave way.
    assert len(parts) <= 80 and min(len(part[0][2]) for part in parts) > 5
    asked = [(vm, job) for part in parts for vm in part[0][2] for job in part[1][2]]
    assert sorted(asked) == sorted((vm, job) for vm in vms for job in jobs)
    whole = predicate(build_filter(conditions))
    tests = [predicate(build_filter(part)) for part in parts]
    for row in entities(vms[::7], jobs[::5]):
        assert sum(1 for test in tests if test(row)) == (1 if whole(row) else 0), row


def test_unicode_names_are_measured_by_their_encoded_bytes():
    vms = [u'\u6570\u636e\u5e93-%03d' % i for i in range(100)]
    parts = split_conditions([names_condition(vms)], None, url_length, 1000)
    lengths = split_lengths(parts)
    assert all(length <= 1000 for length in lengths) and max(lengths) > 900
    # Counted in characters the batches would look far shorter than the URL they make.
    assert all(len(build_filter(part)) < 500 for part in parts)
    assert [name for part in parts for name in part[0][2]] == vms


def test_a_name_no_request_can_carry_is_one_sentence_naming_the_option_without_the_url():
    long_name = 'x' * 500
    with pytest.raises(EmError) as info:
        split_conditions([names_condition(['web01', long_name]), ('CreationTime', '>=', NOW)], None, url_length, 400,
                         labels={0: 'vm_name', 1: 'created_after'})
    message = str(info.value)
    assert message == ("The vm_name value 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx...' (500 characters) is too long for one EM "
                       "request: the request URL would be {0} characters, over max_url_length=400; EM (HTTP.sys) refuses "
                       "long URLs with HTTP 414.".format(url_length(build_filter([names_condition([long_name]), ('CreationTime', '>=', NOW)]))))
    assert '://' not in message and '%' not in message and len(message) < 250


def test_without_labels_the_error_names_the_em_field():
    with pytest.raises(EmError, match=r"^The JobName value 'j+\.\.\.' \(300 characters\)"):
        split_conditions([names_condition(['j' * 300], 'JobName')], None, url_length, 300)


def test_a_unicode_name_too_long_is_counted_in_characters_and_shown_short():
    with pytest.raises(EmError) as info:
        split_conditions([names_condition([u'\u00fc' * 100])], None, url_length, 400, labels={0: 'vm_name'})
    assert u"The vm_name value '" + u'\u00fc' * 37 + u"...' (100 characters)" in str(info.value)


def test_a_raw_filter_too_long_for_one_request_names_the_filter_option():
    raw = 'Name=="' + 'x' * 400 + '"'
    with pytest.raises(EmError) as info:
        split_conditions([names_condition(['a', 'b'])], raw, url_length, 300)
    message = str(info.value)
    assert message.startswith('The filter option is too long for one EM request: the request URL would be ')
    assert message.endswith('over max_url_length=300; shorten the filter or raise max_url_length.')
    assert 'x' * 50 not in message


def test_splitting_keeps_the_raw_filter_in_every_request():
    names = ['vm%03d' % i for i in range(100)]
    parts = split_conditions([names_condition(names)], 'TotalSize>0', url_length, 1200)
    assert len(parts) > 1
    assert all(build_filter(part, 'TotalSize>0').endswith(';(TotalSize>0)') for part in parts)
    assert all(length <= 1200 for length in split_lengths(parts, 'TotalSize>0'))


def test_fake_em_reads_the_grammar_as_em_does():
    row = {'VmDisplayName': 'web;01', 'JobName': 'a "b"', 'Result': 'Failed', 'CreationTimeUTC': '2025-08-16T10:00:00Z'}
    assert matches('VmDisplayName=="WEB;01"', row)
    assert matches('JobName=="A ""B"""', row)
    assert matches('Result==Success,VmDisplayName=="web;01";Result==Failed', row)
    assert not matches('(Result==Success,VmDisplayName=="web;01");Result==Warning', row)
    assert matches('CreationTime>="2025-08-16T09:00:00Z";CreationTime<"2025-08-16T11:00:00Z"', row)
    assert not matches('CreationTime>="2025-08-16T10:00:01Z"', row)


def test_a_job_list_longer_than_a_request_does_not_multiply_the_requests_per_vm():
    vms = ['server-%05d.corp.example.com' % i for i in range(2000)]
    jobs = ['Nightly backup job for department %03d' % i for i in range(200)]
    parts = split_conditions([names_condition(vms), names_condition(jobs, 'JobName')], None, url_length, 8000)
    assert all(length <= 8000 for length in split_lengths(parts))
    assert sorted((vm, job) for part in parts for vm in part[0][2] for job in part[1][2]) == sorted((vm, job) for vm in vms for job in jobs)
    # 2,000 x 200 names need about 60 KB of terms per job batch: on the order of 100 requests, not thousands.
    assert len(parts) < 150


@pytest.mark.parametrize('text', ['99999999999w', '9999-12-31T23:00:00-05:00', '0001-01-01T00:00:00+01:00'])
def test_times_beyond_what_a_datetime_holds_get_one_sentence(text):
    with pytest.raises(TimeRangeError) as caught:
        parse_time(text, datetime(2026, 11, 30, 12, 0, 0))
    assert str(caught.value) == 'The time {0!r} reaches outside the years 1 to 9999; give a date or an age within them.'.format(text)


class LyingPages(Pages):
    """Pages whose count claims fewer pages than the items fill."""

    def __init__(self, total, page_size, claimed):
        super(LyingPages, self).__init__(total, page_size)
        self.claimed = claimed

    def __call__(self, page):
        items, _count = super(LyingPages, self).__call__(page)
        return items, self.claimed


@pytest.mark.parametrize('concurrency', [1, 4])
def test_full_page_claiming_to_be_last_is_followed_until_a_short_page(concurrency):
    pages = LyingPages(35, 10, claimed=1)
    result = fetch_pages(pages, 10, concurrency=concurrency)
    assert result.items == pages.items and sorted(pages.requested) == [1, 2, 3, 4]
    assert result.truncated is False


def test_exact_multiple_costs_one_empty_page_and_is_complete():
    pages = Pages(30, 10)
    result = fetch_pages(pages, 10)
    assert result.items == pages.items and sorted(pages.requested) == [1, 2, 3, 4]


def test_short_last_page_is_not_followed():
    pages = Pages(25, 10)
    fetch_pages(pages, 10)
    assert sorted(pages.requested) == [1, 2, 3]


def test_limit_reached_on_a_full_claimed_last_page_probes_once_for_truncation():
    lying = LyingPages(35, 10, claimed=2)
    result = fetch_pages(lying, 10, limit=20)
    assert result.items == lying.items[:20] and result.truncated is True and sorted(lying.requested) == [1, 2, 3]
    honest = Pages(20, 10)
    result = fetch_pages(honest, 10, limit=20)
    assert result.truncated is False and sorted(honest.requested) == [1, 2, 3]


@pytest.mark.parametrize('count', [1, None])
def test_a_page_repeated_forever_is_refused_not_looped(count):
    def fetch(page):
        return ['x%d' % i for i in range(10)], count
    with pytest.raises(EmError, match='only items already read'):
        fetch_pages(fetch, 10, key=lambda item: item)
    with pytest.raises(EmError, match='only items already read'):
        fetch_pages(fetch, 10)


# -- UTC offsets no time zone has are refused, never converted ------------------------------------------

@pytest.mark.parametrize('text, zone', [
    ('2026-01-01T00:00:00+15:00', '+15:00'),
    ('2026-01-01T00:00:00-14:01', '-14:01'),
    ('2026-01-01T00:00:00+1401', '+1401'),
    ('2026-01-01T00:00:00+05:60', '+05:60'),
    ('2026-01-01T00:00:00-23:59', '-23:59'),
    ('2026-01-01T00:00+99:99', '+99:99'),
    ('2026-01-01 00:00:00 +24:00', '+24:00'),
])
def test_an_offset_no_time_zone_has_is_refused(text, zone):
    with pytest.raises(TimeZoneError) as info:
        parse_time(text)
    assert 'has the UTC offset {0}, which no time zone has'.format(zone) in str(info.value)
    assert info.value.detail.startswith('has the UTC offset ' + zone)


@pytest.mark.parametrize('text, expected', [
    ('2026-01-01T00:00:00+14:00', datetime(2025, 12, 31, 10, 0)),
    ('2026-01-01T00:00:00-14:00', datetime(2026, 1, 1, 14, 0)),
    ('2026-01-01T00:00:00+05:45', datetime(2025, 12, 31, 18, 15)),
    ('2026-01-01T00:00:00-0930', datetime(2026, 1, 1, 9, 30)),
    ('2026-01-01T00:00:00+00:00', datetime(2026, 1, 1)),
])
def test_every_real_offset_is_converted(text, expected):
    assert parse_time(text) == expected


def test_an_aware_datetime_beyond_fourteen_hours_is_refused():
    with pytest.raises(TimeZoneError, match=r'\+1500'):
        parse_time(datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=15))))
    assert parse_time(datetime(2026, 1, 1, tzinfo=timezone(timedelta(hours=-14)))) == datetime(2026, 1, 1, 14, 0)
