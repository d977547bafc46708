// #/agents and #/agents/ID: registered agents with their resources, and one
// agent's details (resources by kind, attributes, its tasks, and its
// executors' sandboxes from the agent's own /state through the master).

import { agentPath, getJson } from '../api.js';
import { h, link, replaceChildren } from '../dom.js';
import { megabytes, number, resources, scalar, time, ago, stateLabel } from '../format.js';
import { allTasks, arr, findAgent } from '../model.js';
import {
  badge, facts, idLink, meter, mono, notice, pageHeader, panel, simplePage, stateBadge, table, unavailable,
} from '../widgets.js';

function usage(agent, name, format) {
  const total = scalar(agent.resources, name);
  const used = scalar(agent.used_resources, name);
  return h('div', { class: 'usage' },
    meter(total > 0 ? used / total : 0, `${format(used)} of ${format(total)}`),
    h('span', { class: 'usage-text' }, `${format(used)} / ${format(total)}`));
}

function agentStatus(agent) {
  if (agent.active === false) return badge('Inactive', 'warning');
  if (agent.connected === false) return badge('Disconnected', 'warning');
  return badge('Active', 'running');
}

function renderList(store) {
  const state = store.state;
  const agents = arr(state.agents);
  return h('div', {},
    pageHeader('Agents', `${agents.length} registered · ${arr(state.unreachable_agents).length} unreachable`),
    panel(null, table([
      { label: 'ID', value: (a) => idLink(['agents', a.id], a.id) },
      { label: 'Host', value: (a) => a.hostname || '' },
      { label: 'HTTP address', value: (a) => mono(a.http_address || (a.hostname ? `${a.hostname}:${a.port}` : '')) },
      { label: 'CPUs', value: (a) => usage(a, 'cpus', (v) => number(v, 2)) },
      { label: 'Memory', value: (a) => usage(a, 'mem', megabytes) },
      { label: 'Disk', value: (a) => usage(a, 'disk', megabytes) },
      { label: 'Registered', value: (a) => ago(a.registered_time) },
      { label: 'Status', value: agentStatus },
    ], agents, { empty: 'No agents registered', id: 'agents-table' })),
    arr(state.unreachable_agents).length ? panel('Unreachable agents', table([
      { label: 'ID', value: (a) => mono(a.id) },
      { label: 'Since', value: (a) => time(a.timestamp) },
    ], arr(state.unreachable_agents))) : null);
}

function executorsPanel(agentState, agentId) {
  const rows = [];
  for (const framework of [...arr(agentState.frameworks), ...arr(agentState.completed_frameworks)]) {
    for (const executor of [...arr(framework.executors), ...arr(framework.completed_executors)]) {
      rows.push({ framework, executor });
    }
  }
  return table([
    { label: 'Executor', value: (r) => mono(r.executor.id) },
    { label: 'Framework', value: (r) => idLink(['frameworks', r.framework.id], r.framework.id) },
    { label: 'State', value: (r) => badge(stateLabel(r.executor.state), r.executor.state === 'RUNNING' ? 'running' : 'muted') },
    { label: 'Tasks', value: (r) => String(arr(r.executor.tasks).length + arr(r.executor.completed_tasks).length) },
    { label: 'Sandbox', value: (r) => mono(r.executor.directory || '') },
  ], rows, { empty: `Agent ${agentId} runs no executors` });
}

function createDetail(params) {
  const node = h('div', { class: 'page' }, h('p', { class: 'loading' }, 'Loading…'));
  const executors = h('div', {}, h('p', { class: 'loading' }, 'Asking the agent…'));
  let lastFetch = 0;
  let disposed = false;

  async function refreshExecutors() {
    lastFetch = Date.now();
    const result = await getJson(agentPath(params.agentId, 'state'));
    if (disposed) return;
    replaceChildren(executors, result.ok ? executorsPanel(result.data, params.agentId)
      : unavailable("The agent's /state", result));
  }

  return {
    node,
    update(store) {
      const state = store.state;
      const agent = findAgent(state, params.agentId);
      if (!agent) {
        replaceChildren(node, pageHeader('Agent', params.agentId),
          notice(`No registered agent ${params.agentId} (it may be unreachable or gone).`, 'muted'),
          h('p', {}, link(['agents'], 'All agents')));
        return;
      }
      const tasks = allTasks(state).filter((e) => String(e.task.agent_id) === params.agentId && e.where === 'active');
      const reserved = Object.entries(agent.reserved_resources || {});
      replaceChildren(node,
        pageHeader(agent.hostname || 'Agent', agent.id, agentStatus(agent)),
        h('div', { class: 'grid two' },
          panel('Agent', facts([
            ['ID', mono(agent.id)],
            ['Hostname', agent.hostname || ''],
            ['HTTP address', mono(agent.http_address || '')],
            ['Version', agent.version || ''],
            ['Registered', `${time(agent.registered_time)} (${ago(agent.registered_time)})`],
            ['Attributes', Object.keys(agent.attributes || {}).length
              ? h('span', {}, Object.entries(agent.attributes).map(([k, v]) => badge(`${k}: ${v}`, 'muted')))
              : 'none'],
          ])),
          panel('Resources', facts([
            ['Total', resources(agent.resources)],
            ['Allocated', resources(agent.used_resources)],
            ['Offered', resources(agent.offered_resources)],
            ['Unreserved', resources(agent.unreserved_resources)],
            ...reserved.map(([role, r]) => [`Reserved for ${role}`, resources(r)]),
          ]))),
        panel(`Tasks (${tasks.length})`, table([
          { label: 'Task', value: (e) => idLink(['frameworks', e.framework.id, 'tasks', e.task.id], e.task.id) },
          { label: 'Name', value: (e) => e.task.name || '' },
          { label: 'Framework', value: (e) => e.framework.name || e.framework.id },
          { label: 'State', value: (e) => stateBadge(e.task.state) },
          { label: 'Resources', value: (e) => resources(e.task.resources) },
        ], tasks, { empty: 'No active tasks on this agent' })),
        panel('Executors and sandboxes', executors));
      if (Date.now() - lastFetch > 5000) refreshExecutors();
    },
    dispose() {
      disposed = true;
    },
  };
}

export const list = simplePage(renderList);
export const detail = { create: createDetail };
