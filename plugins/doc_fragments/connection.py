# -*- coding: utf-8 -*-
# Copyright (c) 2026, vbem.enterprise_manager contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import absolute_import, division, print_function
__metaclass__ = type


class ModuleDocFragment(object):
    """Connection options of every module and plugin of the collection."""

    # Modules read these through argument_spec env fallbacks; plugins add the
    # env/ini/vars sources of the PLUGINS fragment below.
    DOCUMENTATION = r'''
options:
  url:
    description:
      - URL of the Veeam Backup Enterprise Manager REST API, for example V(https://em.example.com:9398).
      - The C(/api) suffix and a trailing slash are optional; port C(9398) is assumed when none is given.
      - Only C(https://) and C(http://) are accepted, and the URL must not carry a user name or password.
      - For modules, falls back to the E(VEEAM_EM_URL) environment variable.
      - Required, either as an option or through the environment.
    type: str
  username:
    description:
      - EM user (C(DOMAIN\user) or C(user@domain)) holding the Portal Administrator, Portal User or Restore Operator role.
      - Required with O(password) unless O(session_token) is given.
      - For modules, falls back to the E(VEEAM_EM_USERNAME) environment variable.
    type: str
  password:
    description:
      - Password of O(username). Never logged and never part of an error message.
      - For modules, falls back to the E(VEEAM_EM_PASSWORD) environment variable.
    type: str
  session_token:
    description:
      - An existing EM logon session token (the C(X-RestSvcSessionId) value) to reuse instead of logging on.
      - A token given here belongs to the caller and is never logged off; when it expires the task fails.
      - For modules, falls back to the E(VEEAM_EM_SESSION_TOKEN) environment variable.
    type: str
  validate_certs:
    description:
      - Whether to verify the TLS certificate of EM. Set O(ca_path) for a private CA rather than disabling this.
      - For modules, falls back to the E(VEEAM_EM_VALIDATE_CERTS) environment variable.
    type: bool
    default: true
  ca_path:
    description:
      - Path to a PEM CA bundle, or to a folder of hashed CA certificates, used to verify the EM certificate
        (overrides E(REQUESTS_CA_BUNDLE)).
      - It is checked before connecting. It must be a readable regular file holding at least one PEM certificate, or a
        readable folder; anything else (a FIFO, a device, a file without a certificate) is refused with one sentence.
      - For modules, falls back to the E(VEEAM_EM_CA_PATH) environment variable.
    type: path
  timeout:
    description:
      - Seconds EM may take to answer one request, retries included. Connecting gets at most 10 seconds of it.
      - The logon may take twice as long (at least 30 seconds), because if we stopped waiting for its answer, EM could still
        create a logon session that nobody can log off.
      - The logoff of a session we own is retried for O(timeout) seconds, but for at least 5 and at most 15 seconds.
      - A number greater than 0 and at most 3600.
      - For modules, falls back to the E(VEEAM_EM_TIMEOUT) environment variable.
    type: float
    default: 30
  retries:
    description:
      - How many times a read request is retried after a connection error, a timeout or HTTP 502, 503 or 504, a whole
        number from 0 to 10.
      - The logon is retried only where EM cannot have created a session - the connection could not be made, or EM
        answered 503 - never after a timeout or a connection dropped after sending.
      - The logoff of a session we own is retried on any 5xx and any connection error, whatever this option says,
        until its own time budget (see O(timeout)) is spent.
      - Retries back off exponentially with jitter and stop when O(timeout) is spent.
    type: int
    default: 3
  api_version:
    description:
      - EM REST API version to log on with; V(latest) lets EM pick its newest.
    type: str
    default: latest
    choices: [latest, v1_5, v1_6, v1_7]
notes:
  - Proxies are taken from the standard E(HTTPS_PROXY), E(HTTP_PROXY) and E(NO_PROXY) environment variables.
  - An environment variable set to an empty string counts as not set, as AWX and AAP credentials send optional fields
    left empty; for plugins, so does an empty variable or C(ansible.cfg) entry. An empty value given directly to the
    task or lookup is an error.
  - Every run logs on to EM once and logs off at the end, on success and on failure, unless O(session_token) was given.
  - On SIGINT or SIGTERM, and when the process that started it has gone (ansible-runner and AWX cancel a job by
    killing ansible-playbook), a run logs its own session off within a few seconds and then stops with one sentence.
  - What cannot be logged off expires after EM's idle timeout (15 minutes) - at most one logon session per running
    module or lookup - in two cases. A process killed with SIGKILL cannot act (AWX and AAP send it 10 seconds after
    cancelling, and a job timeout ends the same way). A logon whose answer never arrives (EM slower than twice
    O(timeout), or the connection lost after the logon was sent) leaves a session nobody can name.
  - Messages never show the password, the session token or the logon SessionId (the token is base64 of it); a
    SessionId is shown by its first 8 characters at most, and a long URL by its start and length.
requirements:
  - requests >= 2.25
'''

    PLUGINS = r'''
options:
  url:
    env:
      - name: VEEAM_EM_URL
    ini:
      - section: vbem_enterprise_manager
        key: url
    vars:
      - name: veeam_em_url
  username:
    env:
      - name: VEEAM_EM_USERNAME
    ini:
      - section: vbem_enterprise_manager
        key: username
    vars:
      - name: veeam_em_username
  password:
    env:
      - name: VEEAM_EM_PASSWORD
    vars:
      - name: veeam_em_password
  session_token:
    env:
      - name: VEEAM_EM_SESSION_TOKEN
    vars:
      - name: veeam_em_session_token
  validate_certs:
    env:
      - name: VEEAM_EM_VALIDATE_CERTS
    ini:
      - section: vbem_enterprise_manager
        key: validate_certs
    vars:
      - name: veeam_em_validate_certs
  ca_path:
    env:
      - name: VEEAM_EM_CA_PATH
    ini:
      - section: vbem_enterprise_manager
        key: ca_path
    vars:
      - name: veeam_em_ca_path
  timeout:
    env:
      - name: VEEAM_EM_TIMEOUT
    ini:
      - section: vbem_enterprise_manager
        key: timeout
    vars:
      - name: veeam_em_timeout
  retries:
    ini:
      - section: vbem_enterprise_manager
        key: retries
    vars:
      - name: veeam_em_retries
  api_version:
    ini:
      - section: vbem_enterprise_manager
        key: api_version
    vars:
      - name: veeam_em_api_version
'''
