# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Benchmark timing callback: task start and result times, one JSON line each."""

from __future__ import absolute_import, division, print_function
__metaclass__ = type

DOCUMENTATION = r'''
name: bench_timing
type: aggregate
short_description: Record task timings for the benchmark
description:
  - Writes one JSON line per play start, task start and task result, with a monotonic clock, to the file named by
    the environment variable E(BENCH_EVENTS). The results of tasks named C(BENCH REPORT) are written whole.
  - Used by C(bench/run.py) only; it never touches other results, so it adds no work Ansible would not do anyway.
options: {}
'''

import json
import os
import time

from ansible.plugins.callback import CallbackBase

REPORT_TASK = 'BENCH REPORT'


class CallbackModule(CallbackBase):
    """Append timing events to $BENCH_EVENTS."""

    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'bench_timing'
    CALLBACK_NEEDS_ENABLED = True

    def __init__(self, *args, **kwargs):
        super(CallbackModule, self).__init__(*args, **kwargs)
        path = os.environ.get('BENCH_EVENTS')
        self._out = open(path, 'a') if path else None

    def _write(self, **event):
        if self._out is None:
            return
        event['t'] = time.monotonic()
        self._out.write(json.dumps(event) + '\n')
        self._out.flush()

    def v2_playbook_on_play_start(self, play):
        self._write(event='play_start', name=play.get_name())

    def v2_playbook_on_task_start(self, task, is_conditional):
        self._write(event='task_start', name=task.get_name(), uuid=task._uuid)

    def _result(self, result, status):
        task = result.task
        event = dict(event='result', name=task.get_name(), uuid=task._uuid, status=status, host=result.host.get_name())
        if task.get_name() == REPORT_TASK:
            # Only the small report task's result is read: reading a result makes Ansible convert it.
            event['data'] = result.result.get('msg')
        self._write(**event)

    def v2_runner_on_ok(self, result):
        self._result(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._result(result, 'failed')

    def v2_runner_on_unreachable(self, result):
        self._result(result, 'unreachable')

    def v2_runner_on_skipped(self, result):
        self._result(result, 'skipped')

    def v2_playbook_on_stats(self, stats):
        self._write(event='play_end')
