// #/tasks: every task the master reports, filterable; #/tasks/ID and
// #/frameworks/FID/tasks/ID: one task with its state history (statuses[]).

import { h, link, replaceChildren } from '../dom.js';
import { duration, resources, stateLabel, time, ago, TASK_STATES, TERMINAL_STATES } from '../format.js';
import { agentName, allTasks, findTask, taskTimes } from '../model.js';
import { facts, idLink, logLinks, mono, notice, pageHeader, panel, stateBadge, table } from '../widgets.js';

const MAX_ROWS = 500;

function createList() {
  const filter = { text: '', state: 'active' };
  const rows = h('div', {}, h('p', { class: 'loading' }, 'Loading…'));
  const summary = h('p', { class: 'subtitle' }, '');
  let last = null;

  const search = h('input', {
    type: 'search', class: 'input', placeholder: 'Filter by task, name, framework or agent',
    'aria-label': 'Filter tasks',
    oninput: (e) => { filter.text = e.target.value.trim().toLowerCase(); draw(); },
  });
  const select = h('select', {
    class: 'input', 'aria-label': 'Task states',
    onchange: (e) => { filter.state = e.target.value; draw(); },
  },
  h('option', { value: 'active', selected: true }, 'Active'),
  h('option', { value: 'completed' }, 'Completed'),
  h('option', { value: 'all' }, 'All states'),
  TASK_STATES.map((s) => h('option', { value: s }, stateLabel(s))));

  const node = h('div', { class: 'page' },
    h('div', { class: 'page-header' }, h('div', {}, h('h1', {}, 'Tasks'), summary),
      h('div', { class: 'page-actions' }, search, select)),
    panel(null, rows));

  function keep(entry) {
    const t = entry.task;
    const terminal = TERMINAL_STATES.has(t.state);
    if (filter.state === 'active' && terminal) return false;
    if (filter.state === 'completed' && !terminal) return false;
    if (filter.state.startsWith('TASK_') && t.state !== filter.state) return false;
    if (!filter.text) return true;
    const haystack = [t.id, t.name, entry.framework.id, entry.framework.name, t.agent_id,
      agentName(last, t.agent_id)].join('\n').toLowerCase();
    return haystack.includes(filter.text);
  }

  function draw() {
    if (!last) return;
    const all = allTasks(last);
    const shown = all.filter(keep)
      .sort((a, b) => (taskTimes(b.task).updated || 0) - (taskTimes(a.task).updated || 0));
    summary.textContent = `${shown.length} of ${all.length} tasks` +
      (shown.length > MAX_ROWS ? ` (first ${MAX_ROWS} shown)` : '');
    replaceChildren(rows, table([
      { label: 'Task', value: (e) => idLink(['frameworks', e.framework.id, 'tasks', e.task.id], e.task.id) },
      { label: 'Name', value: (e) => e.task.name || '' },
      { label: 'State', value: (e) => stateBadge(e.task.state) },
      { label: 'Framework', value: (e) => link(['frameworks', e.framework.id], e.framework.name || e.framework.id) },
      { label: 'Agent', value: (e) => (e.task.agent_id ? link(['agents', e.task.agent_id], agentName(last, e.task.agent_id) || e.task.agent_id) : '–') },
      { label: 'Resources', value: (e) => resources(e.task.resources) },
      { label: 'Updated', value: (e) => ago(taskTimes(e.task).updated) },
      { label: 'Logs', value: (e) => logLinks(e.framework.id, e.task.id) },
    ], shown.slice(0, MAX_ROWS), { empty: 'No tasks match', id: 'tasks-table' }));
  }

  return {
    node,
    update(store) {
      last = store.state;
      draw();
    },
  };
}

function history(task) {
  const statuses = [...(task.statuses || [])].filter((s) => s && s.state)
    .sort((a, b) => (a.timestamp || 0) - (b.timestamp || 0));
  return statuses.map((s, i) => ({
    ...s,
    after: i > 0 && s.timestamp && statuses[i - 1].timestamp ? s.timestamp - statuses[i - 1].timestamp : null,
  }));
}

function createDetail(params) {
  const node = h('div', { class: 'page' }, h('p', { class: 'loading' }, 'Loading…'));
  const frameworkId = params.frameworkId ?? null;
  return {
    node,
    update(store) {
      const state = store.state;
      const entry = findTask(state, frameworkId, params.taskId);
      if (!entry) {
        replaceChildren(node, pageHeader('Task', params.taskId),
          notice(`The master does not know task ${params.taskId}${frameworkId ? ` of framework ${frameworkId}` : ''}.`, 'muted'),
          h('p', {}, link(['tasks'], 'All tasks')));
        return;
      }
      const t = entry.task;
      const f = entry.framework;
      const times = taskTimes(t);
      const steps = history(t);
      replaceChildren(node,
        pageHeader(t.name || t.id, t.id, stateBadge(t.state),
          link(['frameworks', f.id, 'tasks', t.id, 'stdout'], 'stdout', { class: 'button' }),
          link(['frameworks', f.id, 'tasks', t.id, 'stderr'], 'stderr', { class: 'button' })),
        h('div', { class: 'grid two' },
          panel('Task', facts([
            ['ID', mono(t.id)],
            ['Name', t.name || ''],
            ['State', stateBadge(t.state)],
            ['Framework', link(['frameworks', f.id], f.name ? `${f.name} (${f.id})` : f.id)],
            ['Agent', t.agent_id ? link(['agents', t.agent_id], agentName(state, t.agent_id) || t.agent_id) : '–'],
            ['Executor', t.executor_id ? mono(t.executor_id) : 'command executor'],
            ['Resources', resources(t.resources)],
            ['Started', time(times.started)],
            ['Last update', `${time(times.updated)} (${ago(times.updated)})`],
            ['Run time', times.started ? duration((TERMINAL_STATES.has(t.state) ? times.updated : Date.now() / 1000) - times.started) : '–'],
          ])),
          panel('State history', table([
            { label: 'State', value: (s) => stateBadge(s.state) },
            { label: 'Time', value: (s) => time(s.timestamp) },
            { label: 'After', value: (s) => (s.after === null ? '' : `+${duration(s.after)}`) },
            steps.some((s) => s.reason || s.message)
              ? { label: 'Reason', value: (s) => [s.reason, s.message].filter(Boolean).join(': ') } : null,
          ].filter(Boolean), steps, { empty: 'No status updates yet', id: 'task-history' }))));
    },
  };
}

export const list = { create: createList };
export const detail = { create: createDetail };
