// #/ : the cluster at a glance. Resources total / allocated / offered / idle
// (chart and table, as Mesos's home page), counts of agents, frameworks and
// tasks by state, and the latest active tasks.

import { h, link } from '../dom.js';
import { RESOURCES, scalar, TASK_STATES, time, ago } from '../format.js';
import { allTasks, agentCounts, clusterResources, frameworkCounts, taskCounts, taskTimes, agentName } from '../model.js';
import { legend, resourceBars, SERIES, stateDonut } from '../chart.js';
import { facts, idLink, pageHeader, panel, simplePage, stat, stateBadge, table } from '../widgets.js';

const ALWAYS_SHOWN = new Set(['TASK_STAGING', 'TASK_RUNNING', 'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST']);

function render(store) {
  const state = store.state;
  const cluster = clusterResources(state);
  const agents = agentCounts(state);
  const fw = frameworkCounts(state);
  const counts = taskCounts(state);
  const totalTasks = Object.values(counts).reduce((a, b) => a + b, 0);

  const resourceRows = ['total', ...SERIES.map((x) => x.key)];
  const shown = RESOURCES.filter((r) => r.name !== 'gpus' || scalar(cluster.total, 'gpus') > 0);
  const resourceTable = h('table', { class: 'table compact', id: 'resources-table' },
    h('thead', {}, h('tr', {}, h('th', {}, ''), shown.map((r) => h('th', { class: 'num' }, r.label)))),
    h('tbody', {}, resourceRows.map((row) => h('tr', {},
      h('th', { scope: 'row' }, row.charAt(0).toUpperCase() + row.slice(1)),
      shown.map((r) => h('td', { class: 'num', dataset: { resource: `${row}-${r.name}` } },
        r.format(scalar(cluster[row], r.name))))))));

  const states = TASK_STATES.filter((s) => ALWAYS_SHOWN.has(s) || counts[s] > 0);
  const stateList = h('div', { class: 'state-counts' },
    states.map((s) => h('div', { class: 'state-count' },
      stateBadge(s),
      h('span', { class: 'state-count-value', dataset: { count: `tasks-${s}` } }, String(counts[s] || 0)))));

  const active = allTasks(state).filter((e) => e.where === 'active')
    .sort((a, b) => (taskTimes(b.task).updated || 0) - (taskTimes(a.task).updated || 0)).slice(0, 10);

  return h('div', {},
    pageHeader('Cluster overview', `Master ${state.hostname || ''}`),
    h('div', { class: 'stats' },
      stat('Agents', agents.active, 'agents-active', 'primary'),
      stat('Inactive agents', agents.inactive, 'agents-inactive'),
      stat('Unreachable agents', agents.unreachable, 'agents-unreachable', agents.unreachable ? 'warning' : ''),
      stat('Frameworks', fw.active, 'frameworks-active', 'primary'),
      stat('Inactive frameworks', fw.inactive, 'frameworks-inactive'),
      stat('Completed frameworks', fw.completed, 'frameworks-completed'),
      stat('Tasks', totalTasks, 'tasks-total', 'primary'),
      stat('Running tasks', counts.TASK_RUNNING || 0, 'tasks-running', 'running')),
    h('div', { class: 'grid two' },
      panel('Resources', [
        resourceBars(cluster),
        legend(SERIES),
        resourceTable,
      ], { id: 'resources' }),
      panel('Tasks by state', h('div', { class: 'donut-wrap' }, stateDonut(counts), stateList), { id: 'task-states' })),
    h('div', { class: 'grid two' },
      panel('Latest active tasks', table([
        { label: 'Task', value: (e) => idLink(['frameworks', e.framework.id, 'tasks', e.task.id], e.task.id) },
        { label: 'Name', value: (e) => e.task.name || '' },
        { label: 'State', value: (e) => stateBadge(e.task.state) },
        { label: 'Agent', value: (e) => agentName(state, e.task.agent_id) || e.task.agent_id || '–' },
        { label: 'Updated', value: (e) => ago(taskTimes(e.task).updated) },
      ], active, { empty: 'No active tasks' })),
      panel('Master', facts([
        ['ID', h('span', { class: 'mono' }, state.id || '')],
        ['Version', state.version || ''],
        ['Hostname', state.hostname || ''],
        ['Leader', state.leader || ''],
        ['Started', time(state.start_time)],
        ['Agents', link(['agents'], `${agents.total} registered`)],
        ['Recovered agents', String(agents.recovered)],
      ]))));
}

export const { create } = simplePage(render);
