// #/frameworks and #/frameworks/ID: active and completed frameworks, and one
// framework's details with its tasks and outstanding offers.

import { h, link } from '../dom.js';
import { resources, time, ago, TERMINAL_STATES } from '../format.js';
import { agentName, arr, findFramework, taskTimes } from '../model.js';
import { badge, facts, idLink, logLinks, mono, notice, pageHeader, panel, simplePage, stateBadge, table } from '../widgets.js';

function frameworkStatus(f, completed) {
  if (completed) return badge('Completed', 'done');
  if (f.active === false) return badge(f.connected === false ? 'Disconnected' : 'Inactive', 'warning');
  return badge('Active', 'running');
}

function roles(f) {
  const list = arr(f.roles).length ? arr(f.roles) : f.role ? [f.role] : [];
  return list.length ? h('span', {}, list.map((r) => badge(r, 'role'))) : '–';
}

const columns = (completed) => [
  { label: 'ID', value: (f) => idLink(['frameworks', f.id], f.id) },
  { label: 'Name', value: (f) => f.name || '' },
  { label: 'Roles', value: roles },
  { label: 'Principal', value: (f) => f.principal || '–' },
  { label: 'Active tasks', class: 'num', value: (f) => String(arr(f.tasks).length) },
  { label: 'Allocated', value: (f) => resources(f.used_resources) },
  { label: completed ? 'Finished' : 'Registered', value: (f) => (completed ? time(f.unregistered_time) : ago(f.registered_time)) },
  { label: 'Status', value: (f) => frameworkStatus(f, completed) },
];

function renderList(store) {
  const state = store.state;
  return h('div', {},
    pageHeader('Frameworks', `${arr(state.frameworks).length} registered · ${arr(state.completed_frameworks).length} completed`),
    panel('Active', table(columns(false), arr(state.frameworks), { empty: 'No frameworks registered', id: 'frameworks-table' })),
    panel('Completed', table(columns(true), arr(state.completed_frameworks), { empty: 'No completed frameworks' })));
}

function taskColumns(state, frameworkId) {
  return [
    { label: 'Task', value: (t) => idLink(['frameworks', frameworkId, 'tasks', t.id], t.id) },
    { label: 'Name', value: (t) => t.name || '' },
    { label: 'State', value: (t) => stateBadge(t.state) },
    { label: 'Agent', value: (t) => (t.agent_id ? link(['agents', t.agent_id], agentName(state, t.agent_id) || t.agent_id) : '–') },
    { label: 'Resources', value: (t) => resources(t.resources) },
    { label: 'Started', value: (t) => time(taskTimes(t).started) },
    { label: 'Logs', value: (t) => logLinks(frameworkId, t.id) },
  ];
}

function renderDetail(store, params) {
  const state = store.state;
  const found = findFramework(state, params.frameworkId);
  if (!found) {
    return h('div', {}, pageHeader('Framework', params.frameworkId),
      notice(`The master does not know framework ${params.frameworkId}.`, 'muted'),
      h('p', {}, link(['frameworks'], 'All frameworks')));
  }
  const f = found.framework;
  const live = arr(f.tasks).filter((t) => !TERMINAL_STATES.has(t.state));
  const done = [...arr(f.tasks).filter((t) => TERMINAL_STATES.has(t.state)), ...arr(f.completed_tasks)];
  return h('div', {},
    pageHeader(f.name || 'Framework', f.id, frameworkStatus(f, found.completed)),
    h('div', { class: 'grid two' },
      panel('Framework', facts([
        ['ID', mono(f.id)],
        ['Name', f.name || ''],
        ['User', f.user || '–'],
        ['Roles', roles(f)],
        ['Principal', f.principal || '–'],
        ['Hostname', f.hostname || '–'],
        ['Checkpointing', f.checkpoint ? 'yes' : 'no'],
        ['Failover timeout', f.failover_timeout ? `${f.failover_timeout} s` : '–'],
        ['Registered', time(f.registered_time)],
        f.unregistered_time ? ['Unregistered', time(f.unregistered_time)] : null,
      ])),
      panel('Resources', facts([
        ['Allocated', resources(f.used_resources)],
        ['Offered', resources(f.offered_resources)],
        ['Outstanding offers', String(arr(f.offers).length)],
      ]))),
    panel(`Active tasks (${live.length})`, table(taskColumns(state, f.id), live, { empty: 'No active tasks' })),
    arr(f.unreachable_tasks).length
      ? panel('Unreachable tasks', table(taskColumns(state, f.id), arr(f.unreachable_tasks))) : null,
    panel(`Completed tasks (${done.length})`, table(taskColumns(state, f.id), done, { empty: 'No completed tasks' })),
    arr(f.offers).length ? panel('Outstanding offers', table([
      { label: 'Offer', value: (o) => mono(o.id) },
      { label: 'Agent', value: (o) => link(['agents', o.agent_id], agentName(state, o.agent_id) || o.agent_id) },
      { label: 'Role', value: (o) => badge(o.role || '*', 'role') },
      { label: 'Resources', value: (o) => resources(o.resources) },
    ], arr(f.offers))) : null);
}

export const list = simplePage(renderList);
export const detail = simplePage(renderDetail);
