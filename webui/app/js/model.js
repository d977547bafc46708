// What the pages need, derived from the master's /state (DESIGN.md's
// shape): tasks with their framework, resource totals, counts by state.

import { scalar, TASK_STATES, TERMINAL_STATES } from './format.js';

const SCALARS = ['cpus', 'gpus', 'mem', 'disk'];

function add(sum, resources) {
  for (const name of SCALARS) sum[name] = (sum[name] || 0) + scalar(resources, name);
  return sum;
}

function empty() {
  return { cpus: 0, gpus: 0, mem: 0, disk: 0 };
}

export function arr(value) {
  return Array.isArray(value) ? value : [];
}

// One list of every task the master reports, each with `framework` (the
// framework object), `frameworkActive` (false for completed frameworks) and
// `where` ('active', 'unreachable', 'completed').
export function allTasks(state) {
  const out = [];
  const visit = (framework, frameworkActive) => {
    for (const t of arr(framework.tasks)) out.push({ task: t, framework, frameworkActive, where: 'active' });
    for (const t of arr(framework.unreachable_tasks)) out.push({ task: t, framework, frameworkActive, where: 'unreachable' });
    for (const t of arr(framework.completed_tasks)) out.push({ task: t, framework, frameworkActive, where: 'completed' });
  };
  for (const f of arr(state.frameworks)) visit(f, true);
  for (const f of arr(state.completed_frameworks)) visit(f, false);
  return out;
}

export function findTask(state, frameworkId, taskId) {
  const tasks = allTasks(state).filter((e) => String(e.task.id) === taskId);
  if (frameworkId !== null) return tasks.find((e) => String(e.framework.id) === frameworkId) || null;
  // Without a framework: prefer a live task.
  return tasks.find((e) => !TERMINAL_STATES.has(e.task.state)) || tasks[0] || null;
}

export function findAgent(state, agentId) {
  return arr(state.agents).find((a) => String(a.id) === agentId) || null;
}

export function findFramework(state, frameworkId) {
  const active = arr(state.frameworks).find((f) => String(f.id) === frameworkId);
  if (active) return { framework: active, completed: false };
  const completed = arr(state.completed_frameworks).find((f) => String(f.id) === frameworkId);
  return completed ? { framework: completed, completed: true } : null;
}

// Total / allocated / offered / idle per scalar resource, over registered agents.
export function clusterResources(state) {
  const total = empty();
  const allocated = empty();
  const offered = empty();
  for (const agent of arr(state.agents)) {
    add(total, agent.resources);
    add(allocated, agent.used_resources);
    add(offered, agent.offered_resources);
  }
  const idle = empty();
  for (const name of SCALARS) idle[name] = Math.max(0, total[name] - allocated[name] - offered[name]);
  return { total, allocated, offered, idle };
}

export function taskCounts(state) {
  const counts = Object.fromEntries(TASK_STATES.map((s) => [s, 0]));
  for (const { task } of allTasks(state)) counts[task.state] = (counts[task.state] || 0) + 1;
  return counts;
}

export function agentCounts(state) {
  const agents = arr(state.agents);
  return {
    total: agents.length,
    active: agents.filter((a) => a.active !== false).length,
    inactive: agents.filter((a) => a.active === false).length,
    unreachable: arr(state.unreachable_agents).length,
    recovered: arr(state.recovered_agents).length,
  };
}

export function frameworkCounts(state) {
  const frameworks = arr(state.frameworks);
  return {
    active: frameworks.filter((f) => f.active !== false).length,
    inactive: frameworks.filter((f) => f.active === false).length,
    completed: arr(state.completed_frameworks).length,
  };
}

export function agentName(state, agentId) {
  const agent = findAgent(state, String(agentId));
  return agent ? agent.hostname : null;
}

// When a task's first and latest status were recorded (seconds).
export function taskTimes(task) {
  const stamps = arr(task.statuses).map((s) => s.timestamp).filter((t) => typeof t === 'number' && t > 0);
  if (!stamps.length) return { started: null, updated: null };
  return { started: Math.min(...stamps), updated: Math.max(...stamps) };
}

// The highest share of the cluster's total any scalar takes in `used`.
export function dominantShare(used, total) {
  let share = 0;
  let resource = null;
  for (const name of SCALARS) {
    const t = scalar(total, name);
    if (t <= 0) continue;
    const s = scalar(used, name) / t;
    if (s > share) {
      share = s;
      resource = name;
    }
  }
  return { share, resource };
}
