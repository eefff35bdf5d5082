"""XML and JSON representations of EM resources, query results and errors.

Every representation is first built as a neutral :class:`Node` (tag, XML
attributes, links, child elements, JSON key order) and then serialised, so
the XML and JSON forms cannot drift apart.
"""

from __future__ import annotations

import json
import re
from xml.sax.saxutils import escape, quoteattr

from .data import format_utc
from .points import derived_id, made_point, point_id, point_name, sql_time_name

NS = 'http://www.veeam.com/ent/v1.0'
_ROOT_NS = ' xmlns:xsd="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"'
XML_DECL = '<?xml version="1.0" encoding="utf-8"?>\n'

# Element policies: how an empty value is written in XML (JSON always writes null).
ALWAYS, OMIT_NONE, EMPTY_TAG, OMIT_EMPTY = 'always', 'omit-none', 'empty-tag', 'omit-empty'

# Per resource kind: URL collection, reference type, XML element inside lists, JSON/XML list slot.
KINDS = {
    'BackupJobSession': {'path': 'backupSessions', 'item': 'BackupJobSession', 'slot': 'BackupJobSessions'},
    'BackupTaskSession': {'path': 'backupTaskSessions', 'item': 'BackupTaskSession', 'slot': 'BackupTaskSessions'},
    'ReplicaJobSession': {'path': 'replicaSessions', 'item': 'ReplicaJobSession', 'slot': 'ReplicaJobSessions'},
    'ReplicaTaskSession': {'path': 'replicaTaskSessions', 'item': 'ReplicaTaskSession', 'slot': 'ReplicaTaskSessions'},
    'CdpReplicaSession': {'path': 'cdpReplicaSessions', 'item': 'CdpPolicySession', 'slot': 'CdpReplicaSessions'},
    'CdpReplicaTaskSession': {'path': 'cdpReplicaTaskSessions', 'item': 'CdpReplicaTaskSession', 'slot': 'CdpReplicaTaskSessions'},
    'RestoreSession': {'path': 'restoreSessions', 'item': 'RestoreSession', 'slot': 'RestoreSessions'},
    'BackupServer': {'path': 'backupServers', 'item': 'BackupServer', 'slot': 'BackupServers'},
    'Job': {'path': 'jobs', 'item': 'Job', 'slot': 'Jobs'},
    'CdpPolicy': {'path': 'cdpPolicies', 'item': 'CdpPolicy', 'slot': 'CdpPolicies'},
    'VmRestorePoint': {'path': 'vmRestorePoints', 'item': 'VmRestorePoint', 'slot': 'VmRestorePoints'},
    'VmReplicaPoint': {'path': 'vmReplicaPoints', 'item': 'VmReplicaPoint', 'slot': 'VmReplicaPoints'},
    'AgentRestorePoint': {'path': 'agents/agentRestorePoints', 'item': 'AgentRestorePoint', 'slot': 'AgentRestorePoints'},
    'RestorePoint': {'path': 'restorePoints', 'item': 'RestorePoint', 'slot': 'RestorePoints'},
    'BackupFile': {'path': 'backupFiles', 'item': 'BackupFile', 'slot': 'BackupFiles'},
    'Backup': {'path': 'backups', 'item': 'Backup', 'slot': 'Backups'},
    'HierarchyRoot': {'path': 'hierarchyRoots', 'item': 'HierarchyRoot', 'slot': 'HierarchyRoots'},
    # The captured v12 query envelope names this slot in the singular.
    'AgentBackupJob': {'path': 'agents/jobs', 'item': 'AgentBackupJob', 'slot': 'AgentBackupJob'},
}
# Kinds whose representations follow the restore point and agent pages (rendered by _protection_*).
PROTECTION_KINDS = ('VmRestorePoint', 'VmReplicaPoint', 'AgentRestorePoint', 'RestorePoint', 'BackupFile', 'Backup',
                    'HierarchyRoot', 'AgentBackupJob')
_AGENT_SESSION_TYPES = ('AgentBackup', 'AgentManagement')
# The "Entities" object of a JSON QueryResult lists every slot (capture from a v12 EM).
ENTITY_SLOTS = (
    'Jobs', 'FailoverPlans', 'Backups', 'Replicas', 'Repositories', 'RestorePoints', 'VmRestorePoints', 'VAppRestorePoints',
    'VmReplicaPoints', 'BackupJobSessions', 'ReplicaJobSessions', 'ReplicaTaskSessions', 'RestoreSessions', 'HierarchyRoots',
    'BackupTaskSessions', 'BackupServers', 'ManagedServers', 'EnterpiseRoles', 'EnterpiseAccounts', 'WanAccelerators',
    'CloudGateways', 'CloudTenants', 'CloudReplicas', 'VCloudOrganizationConfigs', 'BackupFiles', 'VSphereSelfServiceConfigs',
    'CloudPublicIps', 'CloudHardwarePlans', 'CloudVmReplicaPoints', 'AgentRestorePoints', 'AgentBackupJob', 'CloudGatewayPools',
    'CloudFailoverPlans', 'ExternalRepositories', 'VlanConfigurations', 'CloudFailoverSessions', 'AgentProtectionGroups',
    'DiscoveredComputers', 'FileServers', 'NASJobs', 'CdpReplicas', 'CdpReplicaVms', 'CdpPolicies', 'CdpReplicaSessions',
    'CdpReplicaTaskSessions', 'VAppReplicaPoints', 'VmCdpReplicas', 'VAppCdpReplicas', 'VAppCdpReplicaVms', 'SystemSessions',
)
_HTTP_STATUS_NAMES = {
    200: 'OK', 201: 'Created', 202: 'Accepted', 204: 'NoContent', 400: 'BadRequest', 401: 'Unauthorized', 403: 'Forbidden',
    404: 'NotFound', 405: 'MethodNotAllowed', 409: 'Conflict', 414: 'RequestUriTooLong', 415: 'UnsupportedMediaType',
    500: 'InternalServerError', 501: 'NotImplemented',
    502: 'BadGateway', 503: 'ServiceUnavailable', 504: 'GatewayTimeout',
}


def status_name(code):
    """The .NET HttpStatusCode name EM (HTTP.sys/WCF) puts in the status line."""
    return _HTTP_STATUS_NAMES.get(code, 'Error')


class Link:
    """A ``<Link>``: JSON always carries all four keys (missing ones as null)."""

    __slots__ = ('rel', 'href', 'type', 'name')

    def __init__(self, rel, href, type_=None, name=None):
        self.rel = rel
        self.href = href
        self.type = type_
        self.name = name


class Node:
    """A neutral representation: XML attrs, links, elements, and the JSON key order."""

    __slots__ = ('tag', 'attrs', 'links', 'elems', 'json_order')

    def __init__(self, tag, attrs, links, elems, json_order):
        self.tag = tag
        self.attrs = attrs
        self.links = links
        self.elems = elems
        self.json_order = json_order


class Context:
    """Per-request rendering settings."""

    def __init__(self, base, camel_case=False, cdp_href_quirk=True):
        self.base = base.rstrip('/')
        self.camel_case = camel_case
        self.cdp_href_quirk = cdp_href_quirk

    def url(self, path):
        """Absolute URL of an API path such as ``backupSessions/{id}``."""
        return '%s/%s' % (self.base, path)


# -- building nodes -------------------------------------------------------------------

def _server_link(ctx, row):
    server = row['server']
    return Link('Up', ctx.url('backupServers/' + server['id']), 'BackupServerReference', server['name'])


def _parent_links(kind, row, ctx):
    """The Up links every session representation starts with."""
    links = [_server_link(ctx, row)]
    if kind in ('BackupJobSession', 'ReplicaJobSession', 'RestoreSession') and row.get('job'):
        job_path = KINDS['AgentBackupJob']['path'] if row.get('job_type') in _AGENT_SESSION_TYPES else 'jobs'
        links.append(Link('Up', ctx.url('%s/%s' % (job_path, row['job']['id'])), 'JobReference', row['job']['name']))
        parent = row.get('parent_session')
        if parent is not None:
            links.append(Link('Up', ctx.url('backupSessions/' + parent['id']), 'BackupJobSessionReference', parent['name']))
    elif kind == 'CdpReplicaSession':
        links.append(Link('Up', ctx.url('cdpPolicies/' + row['policy']['id']), 'CdpPolicyReference', row['policy']['name']))
    elif kind in ('BackupTaskSession', 'ReplicaTaskSession', 'CdpReplicaTaskSession'):
        parent_kind = {'BackupTaskSession': 'BackupJobSession', 'ReplicaTaskSession': 'ReplicaJobSession',
                       'CdpReplicaTaskSession': 'CdpReplicaSession'}[kind]
        parent = row['job_session']
        links.append(Link('Up', ctx.url('%s/%s' % (KINDS[parent_kind]['path'], parent['id'])), parent_kind + 'Reference',
                          parent['name']))
    return links


def _down_link(kind, row, ctx):
    down = {'BackupJobSession': ('taskSessions', 'BackupTaskSessionReferenceList'),
            'ReplicaJobSession': ('replicaTaskSessions', 'ReplicaTaskSessionReferenceList'),
            'CdpReplicaSession': ('cdpReplicaTaskSessions', 'CdpReplicaTaskSessionReferenceList')}.get(kind)
    if not down:
        return []
    links = [Link('Down', ctx.url('%s/%s/%s' % (KINDS[kind]['path'], row['id'], down[0])), down[1])]
    if row.get('job_type') == 'AgentBackup':
        links.append(Link('Down', ctx.url('backupSessions/%s/agentManagementSessions' % row['id']),
                          'BackupJobSessionReferenceList'))
    return links


def _related_point_links(kind, row, ctx):
    """The ``Related`` link a finished session carries to what it produced (docs: backupTaskSessions/{ID}, backupSessions/{ID})."""
    if kind == 'BackupTaskSession' and made_point(row):
        return [Link('Related', ctx.url('vmRestorePoints/%s?format=Entity' % point_id(row)), 'VmRestorePoint',
                     point_name(row['vm_name'], row['end']))]
    if kind != 'BackupJobSession' or row['end'] is None or row['result'] not in ('Success', 'Warning'):
        return []
    if row['job_type'] == 'Backup':
        return [Link('Related', ctx.url('restorePoints/' + derived_id('restorepoint', row['id'])), 'RestorePointReference',
                     sql_time_name(row['creation']))]
    if row['job_type'] == 'AgentManagement':
        return [Link('Related', ctx.url('%s/%s' % (KINDS['AgentRestorePoint']['path'], point_id(row))),
                     'AgentRestorePointReference', point_name(row['computer_name'], row['end']))]
    return []


def reference(kind, row, ctx):
    """The reference (``Ref``/``EntityRef``) representation of a row."""
    path = ctx.url('%s/%s' % (KINDS[kind]['path'], row['id']))
    if kind in PROTECTION_KINDS:
        links = [_server_link(ctx, row), Link('Alternate', path + '?format=Entity', kind, row['name'])]
    elif kind in ('BackupServer', 'Job', 'CdpPolicy'):
        links = [Link('Alternate', path + '?format=Entity', kind, row['name'])]
        if kind == 'BackupServer':
            links.insert(0, Link('Down', path + '/jobs', 'JobReferenceList'))
        else:
            links.insert(0, _server_link(ctx, row))
    else:
        links = _parent_links(kind, row, ctx)
        links.append(Link('Alternate', path + '?format=Entity', kind, row['name']))
        links.extend(_down_link(kind, row, ctx))
    attrs = [('Type', kind + 'Reference'), ('Href', path), ('Name', row['name']), ('UID', row['uid'])]
    return Node('Ref', attrs, links, [], ['Links', 'UID', 'Name', 'Href', 'Type'])


def _time(value):
    return format_utc(value) if value is not None else None


def entity(kind, row, ctx):
    """The entity (``?format=Entity``) representation of a row."""
    ref_path = ctx.url('%s/%s' % (KINDS[kind]['path'], row['id']))
    href = ref_path + '?format=Entity'
    if kind == 'CdpReplicaTaskSession' and ctx.cdp_href_quirk:
        # Both v13 docs examples show this Href under /replicaTaskSessions/ (a server bug kept on purpose).
        href = ctx.url('replicaTaskSessions/%s?format=Entity' % row['id'])
    attrs = [('Href', href), ('Type', kind), ('Name', row['name']), ('UID', row['uid'])]
    tail = ['Name', 'UID', 'Links', 'Href', 'Type']
    if kind in ('BackupServer', 'Job', 'CdpPolicy'):
        return _infrastructure_entity(kind, row, ctx, attrs, tail, ref_path)
    if kind in PROTECTION_KINDS:
        return _protection_entity(kind, row, ctx, attrs, tail, ref_path)
    links = _parent_links(kind, row, ctx) + [Link('Alternate', ref_path, kind + 'Reference', row['name'])]
    links.extend(_down_link(kind, row, ctx))
    if kind in ('BackupJobSession', 'ReplicaJobSession', 'RestoreSession'):
        if kind == 'BackupJobSession':
            links.append(Link('Stop', ref_path + '?action=stop'))
            links.extend(_related_point_links(kind, row, ctx))
        elems = [('JobUid', row['job_uid'], ALWAYS), ('JobName', row['job_name'], ALWAYS), ('JobType', row['job_type'], ALWAYS),
                 ('CreationTimeUTC', _time(row['creation']), ALWAYS), ('EndTimeUTC', _time(row['end']), OMIT_NONE),
                 ('State', row['state'], ALWAYS), ('Result', row['result'], ALWAYS), ('Progress', row['progress'], ALWAYS),
                 ('FailureMessage', row['failure_message'] or None, OMIT_EMPTY)]
        if kind == 'RestoreSession':
            attrs.append(('VmDisplayName', row['vm_name']))
            return Node(kind, attrs, links, elems, [e[0] for e in elems] + ['VmDisplayName'] + tail)
        elems.append(('IsRetry', row['is_retry'], ALWAYS))
        return Node(kind, attrs, links, elems, ['IsRetry'] + [e[0] for e in elems[:-1]] + tail)
    if kind == 'CdpReplicaSession':
        elems = [('PolicyUid', row['policy_uid'], ALWAYS), ('PolicyName', row['policy_name'], ALWAYS),
                 ('PolicyType', row['policy_type'], ALWAYS), ('CreationTimeUTC', _time(row['creation']), ALWAYS),
                 ('EndTimeUTC', _time(row['end']), OMIT_NONE), ('State', row['state'], ALWAYS), ('Result', row['result'], ALWAYS),
                 ('Progress', row['progress'], ALWAYS), ('FailureMessage', row['failure_message'] or None, EMPTY_TAG),
                 ('IsRetry', row['is_retry'], ALWAYS)]
        return Node(kind, attrs, links, elems, ['IsRetry'] + [e[0] for e in elems[:-1]] + tail)
    # Task sessions.
    attrs.append(('VmDisplayName', row['vm_name']))
    parent_key = 'PolicySessionUid' if kind == 'CdpReplicaTaskSession' else 'JobSessionUid'
    elems = [(parent_key, row['job_session_uid'], ALWAYS), ('CreationTimeUTC', _time(row['creation']), ALWAYS),
             ('EndTimeUTC', _time(row['end']), OMIT_NONE), ('State', row['state'], ALWAYS), ('Result', row['result'], ALWAYS),
             ('Reason', row['reason'] or None, OMIT_EMPTY if kind == 'CdpReplicaTaskSession' else EMPTY_TAG),
             ('TotalSize', row['total_size'], ALWAYS)]
    if kind == 'BackupTaskSession':
        elems.append(('VmUid', row['vm_uid'], ALWAYS))
        links.extend(_related_point_links(kind, row, ctx))
    return Node(kind, attrs, links, elems, [e[0] for e in elems] + ['VmDisplayName'] + tail)


def _up(ctx, kind, row):
    """An ``Up`` link to another protection row (restore point, backup file, backup)."""
    return Link('Up', ctx.url('%s/%s' % (KINDS[kind]['path'], row['id'])), kind + 'Reference', row['name'])


def _protection_entity(kind, row, ctx, attrs, tail, ref_path):
    """Entities of the restore point, backup and agent pages, links in the order of the docs' examples."""
    server = _server_link(ctx, row)
    alternate = Link('Alternate', ref_path, kind + 'Reference', row['name'])
    order = None
    if kind in ('VmRestorePoint', 'AgentRestorePoint'):
        links = [server, _up(ctx, 'RestorePoint', row['restore_point']), _up(ctx, 'BackupFile', row['backup_file']),
                 alternate, Link('Down', ref_path + '/mounts', kind + 'MountList'),
                 Link('Create', ref_path + '/mounts', kind + 'Mount')]
        elems = [('CreationTimeUTC', _time(row['creation']), ALWAYS)]
        if kind == 'VmRestorePoint':
            links.insert(0, Link('Restore', ref_path + '?action=restore'))
            elems.append(('VmName', row['vm_name'], ALWAYS))
        elems += [('Algorithm', row['algorithm'], ALWAYS), ('PointType', row['point_type'], ALWAYS)]
        if kind == 'VmRestorePoint':
            elems.append(('HierarchyObjRef', row['vm_uid'], OMIT_NONE))
    elif kind == 'VmReplicaPoint':
        links = [Link('Failover', ref_path + '?action=failover'), server,
                 Link('Up', ctx.url('replicas/' + row['replica_id']), 'ReplicaReference', row['replica_name']), alternate,
                 Link('Down', ref_path + '/mounts', 'VmReplicaPointMountList'),
                 Link('Create', ref_path + '/mounts', 'VmReplicaPointMount')]
        elems = [('CreationTimeUTC', _time(row['creation']), ALWAYS), ('Algorithm', row['algorithm'], ALWAYS),
                 ('PointType', row['point_type'], ALWAYS)]
        attrs.append(('VmDisplayName', row['vm_name']))
        order = [e[0] for e in elems] + ['VmDisplayName'] + tail
    elif kind == 'RestorePoint':
        links = [_up(ctx, 'Backup', row['backup']), server, alternate,
                 Link('Down', ref_path + '/vmRestorePoints', 'VmRestorePointReferenceList'),
                 Link('Down', ref_path + '/vAppRestorePoints', 'VAppRestorePointReferenceList'),
                 # Type as in the docs' example (the table calls it a Down link to the backup files).
                 Link('Related', ref_path + '/backupFiles', 'RestorePointReferenceList')]
        elems = [('BackupDateUTC', _time(row['creation']), ALWAYS)]
    elif kind == 'BackupFile':
        links = [_up(ctx, 'Backup', row['backup']), server, alternate,
                 Link('Related', ref_path + '/restorePoints', 'BackupFileReferenceList'),
                 Link('Down', ref_path + '/vmRestorePoints', 'VmRestorePointReferenceList')]
        elems = [('FilePath', row['file_path'], ALWAYS), ('BackupSize', row['backup_size'], ALWAYS),
                 ('DataSize', row['data_size'], ALWAYS), ('DeduplicationRatio', row['dedup_ratio'], ALWAYS),
                 ('CompressRatio', row['compress_ratio'], ALWAYS), ('CreationTimeUtc', _time(row['creation']), ALWAYS),
                 ('FileType', row['file_type'], ALWAYS)]
    elif kind == 'Backup':
        links = [Link('Up', ctx.url('repositories/' + row['repository_id']), 'RepositoryReference', row['repository_name']),
                 server, alternate]
        elems = [('Platform', row['platform'], ALWAYS), ('BackupType', row['backup_type'], ALWAYS)]
    elif kind == 'HierarchyRoot':
        links = [server, alternate,
                 Link('Related', ctx.url('managedServers/%s?format=Entity' % row['id']), 'ManagedServer', row['name'])]
        elems = [('HierarchyRootId', row['id'], ALWAYS), ('UniqueId', row['unique_id'], ALWAYS),
                 ('HostType', row['host_type'], ALWAYS)]
    else:  # AgentBackupJob
        links = [server, Link('Alternate', ref_path, 'JobReference', row['name']),
                 Link('Down', ref_path + '/includes', 'ObjectInJobList'),
                 Link('ToggleScheduleEnabled', ref_path + '?action=toggleScheduleEnabled'),
                 Link('Down', ref_path + '/backupSessions', 'BackupJobSessionReferenceList'),
                 Link('Start', ref_path + '?action=start'), Link('Stop', ref_path + '?action=stop'),
                 Link('Retry', ref_path + '?action=retry')]
        elems = [('JobType', row['job_type'], ALWAYS), ('Platform', row['platform'], ALWAYS),
                 ('Description', row['description'], ALWAYS), ('ScheduleConfigured', row['schedule_configured'], ALWAYS),
                 ('ScheduleEnabled', row['schedule_enabled'], ALWAYS)]
    return Node(kind, attrs, links, elems, order or [e[0] for e in elems] + tail)


def _infrastructure_entity(kind, row, ctx, attrs, tail, ref_path):
    links = [Link('Alternate', ref_path, kind + 'Reference', row['name'])]
    if kind == 'BackupServer':
        # Links as in the backupServers/{ID} example: QuickBackup and Start (data collection) are served (actions.py).
        links += [Link('Edit', ref_path, kind + 'Reference'), Link('Delete', ref_path, kind + 'Reference'),
                  Link('Down', ref_path + '/jobs', 'JobReferenceList'),
                  Link('Down', ref_path + '/managedServers', 'ManagedServerReferenceList'),
                  Link('Down', ref_path + '/repositories', 'RepositoryReferenceList'),
                  Link('Down', ref_path + '/credentials', 'CredentialsList'), Link('Create', ref_path + '/credentials?action=create'),
                  Link('Down', ref_path + '/passwords', 'PasswordKeyList'), Link('Create', ref_path + '/passwords?action=create'),
                  Link('VeeamZip', ref_path + '?action=veeamzip'), Link('QuickBackup', ref_path + '?action=quickbackup'),
                  Link('Start', ref_path + '?action=collect')]
        elems = [('Description', row['description'], ALWAYS), ('Port', row['port'], ALWAYS), ('Version', row['version'], ALWAYS)]
    elif kind == 'Job':
        # Links as in the jobs/{ID} example; Start is served (actions.py).
        links += [Link('Edit', ref_path, 'JobReference', row['name']), Link('Clone', ref_path + '?action=clone'),
                  Link('ToggleScheduleEnabled', ref_path + '?action=toggleScheduleEnabled'),
                  Link('Down', ref_path + '/includes', 'ObjectInJobList'),
                  Link('Down', ref_path + '/backupSessions', 'BackupJobSessionReferenceList'),
                  Link('Create', ref_path + '/includes', 'ObjectInJob'), Link('Start', ref_path + '?action=start'),
                  Link('Stop', ref_path + '?action=stop'), Link('Retry', ref_path + '?action=retry')]
        links.insert(0, _server_link(ctx, row))
        elems = [('JobType', row['job_type'], ALWAYS), ('Platform', row['platform'], ALWAYS),
                 ('Description', row['description'], ALWAYS), ('ScheduleConfigured', row['schedule_configured'], ALWAYS),
                 ('ScheduleEnabled', row['schedule_enabled'], ALWAYS)]
    else:
        links.insert(0, _server_link(ctx, row))
        elems = [('PolicyType', 'CdpReplica', ALWAYS)]
    return Node(kind, attrs, links, elems, [e[0] for e in elems] + tail)


# -- XML ------------------------------------------------------------------------------

def _xml_value(value):
    if isinstance(value, bool):
        return 'true' if value else 'false'
    if isinstance(value, float):
        return '%.15g' % value
    return escape(str(value))


def xml_links(links, indent):
    """XML ``<Links>`` block (``<Links />`` when empty)."""
    if not links:
        return '%s<Links />\n' % indent
    out = ['%s<Links>\n' % indent]
    for link in links:
        parts = ['Href=' + quoteattr(link.href)]
        if link.name is not None:
            parts.append('Name=' + quoteattr(link.name))
        if link.type is not None:
            parts.append('Type=' + quoteattr(link.type))
        parts.append('Rel=' + quoteattr(link.rel))
        out.append('%s  <Link %s />\n' % (indent, ' '.join(parts)))
    out.append('%s</Links>\n' % indent)
    return ''.join(out)


def node_xml(node, indent='', tag=None, root=False):
    """Serialise a node as an XML element (``root`` adds the namespace declarations)."""
    attrs = ''.join(' %s=%s' % (key, quoteattr(str(value))) for key, value in node.attrs)
    namespaces = (_ROOT_NS + ' xmlns="%s"' % NS) if root else ''
    out = ['%s<%s%s%s>\n' % (indent, tag or node.tag, attrs, namespaces), xml_links(node.links, indent + '  ')]
    for name, value, policy in node.elems:
        if value is None or value == '':
            if policy in (OMIT_NONE, OMIT_EMPTY):
                continue
            out.append('%s  <%s />\n' % (indent, name))
        else:
            out.append('%s  <%s>%s</%s>\n' % (indent, name, _xml_value(value), name))
    out.append('%s</%s>\n' % (indent, tag or node.tag))
    return ''.join(out)


def xml_document(body):
    """Prefix the XML declaration; ``body`` is the root element text."""
    return XML_DECL + body


def xml_root_open(tag, attrs=''):
    """Opening tag of a root element with EM's namespace declarations."""
    return '<%s%s%s xmlns="%s">\n' % (tag, attrs, _ROOT_NS, NS)


def xml_list(tag, items_xml):
    """A root list element (``EntityReferences``, ``BackupTaskSessions``...)."""
    if not items_xml:
        return xml_document('<%s%s xmlns="%s" />\n' % (tag, _ROOT_NS, NS))
    return xml_document(xml_root_open(tag) + ''.join(items_xml) + '</%s>\n' % tag)


def paging_xml(paging):
    """The ``<PagingInfo>`` element of a query result."""
    links = [Link(rel, href) for rel, href in paging['links']]
    return '  <PagingInfo PageNum="%d" PageSize="%d" PagesCount="%d">\n%s  </PagingInfo>\n' % (
        paging['page'], paging['page_size'], paging['pages_count'], xml_links(links, '    '))


def error_xml(status, message):
    """EM's XML error envelope."""
    return xml_document('<Error Message=%s StatusCode="%d"%s xmlns="%s">\n  <FirstChanceExceptionMessage>%s'
                        '</FirstChanceExceptionMessage>\n</Error>\n' % (quoteattr(message), status, _ROOT_NS, NS, escape(message)))


# -- JSON -----------------------------------------------------------------------------

def links_json(links):
    """JSON form of a link list (all four keys, null when absent)."""
    return [{'Rel': link.rel, 'Href': link.href, 'Name': link.name, 'Type': link.type} for link in links]


def node_json(node):
    """JSON object of a node, keys in the order EM's serializer emits them."""
    values = dict(node.attrs)
    values.update((name, value if value != '' else None) for name, value, _policy in node.elems)
    values['Links'] = links_json(node.links)
    return {key: values.get(key) for key in node.json_order}


def paging_json(paging):
    """JSON ``PagingInfo``."""
    return {'Links': links_json([Link(rel, href) for rel, href in paging['links']]), 'PageNum': paging['page'],
            'PageSize': paging['page_size'], 'PagesCount': paging['pages_count']}


def error_json(status, message):
    """EM's JSON error envelope (key order as captured from a real server)."""
    return {'FirstChanceExceptionMessage': None, 'Message': message, 'StackTrace': None, 'Status': None, 'StatusCode': status}


_CAMEL_RE = re.compile(r'^([A-Z]+)(?=[A-Z][a-z]|$|[^A-Za-z])|^[A-Z]')


def camel(key):
    """Newtonsoft-style camelCase: ``UID`` -> ``uid``, ``VmDisplayName`` -> ``vmDisplayName``."""
    return _CAMEL_RE.sub(lambda match: match.group(0).lower(), key, count=1)


def camelize(value):
    """Recursively camelCase every object key."""
    if isinstance(value, dict):
        return {camel(key): camelize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [camelize(item) for item in value]
    return value


def dump_json(value, camel_case=False, bom=False):
    """Serialise compactly as UTF-8, optionally camelCased and BOM-prefixed."""
    if camel_case:
        value = camelize(value)
    data = json.dumps(value, ensure_ascii=False, separators=(',', ':')).encode('utf-8')
    return (b'\xef\xbb\xbf' + data) if bom else data
