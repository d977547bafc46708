// #/frameworks/FID/tasks/ID/stdout (or stderr, or #/tasks/ID/stdout): a
// task's output, followed as it grows. The sandbox directory comes from the
// agent's /state and the bytes from its /files/read (Mesos's
// {"data", "offset"}), both through the master's /agent/ID/ proxy, so the
// browser only ever talks to the master.

import { agentPath, getJson } from '../api.js';
import { h, link, replaceChildren } from '../dom.js';
import { stateLabel, TERMINAL_STATES } from '../format.js';
import { arr, findTask } from '../model.js';
import { notice, stateBadge } from '../widgets.js';

const FILES = ['stdout', 'stderr'];
const TAIL_BYTES = 64 * 1024;      // Shown from the end of a long file at first.
const CHUNK_BYTES = 64 * 1024;     // One read.
const MAX_SHOWN_CHARS = 2 * 1024 * 1024;
const FOLLOW_MS = 1000;

const encoder = new TextEncoder();

// The sandbox of the executor that ran `taskId` of `frameworkId`, from the
// agent's /state; null when it is not there.
function sandboxOf(agentState, frameworkId, taskId) {
  const frameworks = [...arr(agentState.frameworks), ...arr(agentState.completed_frameworks)];
  for (const f of frameworks) {
    if (frameworkId && String(f.id) !== frameworkId) continue;
    for (const e of [...arr(f.executors), ...arr(f.completed_executors)]) {
      const tasks = [...arr(e.tasks), ...arr(e.queued_tasks), ...arr(e.completed_tasks)];
      const ids = tasks.map((t) => String(t.task_id && t.task_id.value !== undefined ? t.task_id.value : t.id));
      if (ids.includes(taskId) || (e.id === taskId && !tasks.length)) return e.directory || null;
    }
  }
  return null;
}

export function create(params) {
  const file = params.file;
  const output = h('pre', { class: 'log', id: 'log-output', tabindex: '0', 'aria-label': `${file} of the task` });
  const status = h('span', { class: 'log-status', id: 'log-status' }, 'Finding the task…');
  const follow = h('input', { type: 'checkbox', checked: true, id: 'log-follow' });
  const header = h('div', { class: 'page-header' }, h('div', {}, h('h1', {}, 'Task output')));
  const pathLine = h('p', { class: 'subtitle mono' }, '');
  const node = h('div', { class: 'page log-page' }, header, h('p', { class: 'loading' }, 'Loading…'));

  let entry = null;       // The task, once the master's state has it.
  let path = null;        // Sandbox path of the file, once known.
  let offset = null;      // Next byte to read.
  let timer = null;
  let disposed = false;
  let resolving = false;
  let bytes = 0;

  function setStatus(text, tone = '') {
    status.textContent = text;
    status.className = `log-status ${tone}`;
  }

  function append(text) {
    if (!text) return;
    const atBottom = output.scrollTop + output.clientHeight >= output.scrollHeight - 8;
    let content = output.textContent + text;
    if (content.length > MAX_SHOWN_CHARS) content = content.slice(content.length - MAX_SHOWN_CHARS);
    output.textContent = content;
    if (follow.checked && atBottom) output.scrollTop = output.scrollHeight;
  }

  function schedule(ms) {
    clearTimeout(timer);
    if (!disposed) timer = setTimeout(read, ms);
  }

  function files() {
    return agentPath(entry.task.agent_id, 'files/read', { path, offset, length: CHUNK_BYTES });
  }

  async function start() {
    // Where the file ends, to show its tail first (Mesos: offset=-1).
    const size = await getJson(agentPath(entry.task.agent_id, 'files/read', { path, offset: -1 }));
    if (disposed) return;
    if (size.ok && typeof size.data.offset === 'number') {
      offset = Math.max(0, size.data.offset - TAIL_BYTES);
      if (offset > 0) append(`… (${offset} earlier bytes not shown)\n`);
    } else if (size.missing || size.status >= 500 || size.status === 0) {
      return failed(size);
    } else {
      offset = 0;  // An agent without offset=-1: read from the start.
    }
    read();
  }

  function failed(result) {
    const why = result.missing
      ? `not available: ${result.error || 'no such file'}`
      : `${result.error || 'failed'}`;
    setStatus(`Cannot read ${file}: ${why}. Retrying…`, 'error');
    offset = null;
    clearTimeout(timer);
    if (!disposed) timer = setTimeout(start, 3 * FOLLOW_MS);
  }

  async function read() {
    if (disposed || offset === null) return;
    const result = await getJson(files());
    if (disposed) return;
    if (!result.ok || typeof result.data !== 'object' || result.data === null) return failed(result);
    const data = typeof result.data.data === 'string' ? result.data.data : '';
    const length = encoder.encode(data).length;
    offset += length;
    bytes += length;
    append(data);
    if (output.textContent === '') output.dataset.empty = 'true';
    else delete output.dataset.empty;
    const terminal = entry && TERMINAL_STATES.has(entry.task.state);
    if (length >= CHUNK_BYTES) return schedule(0);
    setStatus(follow.checked
      ? `Following · ${offset} bytes${terminal ? ` · task ${stateLabel(entry.task.state).toLowerCase()}` : ''}`
      : `Paused · ${offset} bytes`, 'ok');
    schedule(follow.checked ? FOLLOW_MS : 5 * FOLLOW_MS);
  }

  async function resolve(store) {
    resolving = true;
    const agentState = await getJson(agentPath(entry.task.agent_id, 'state'));
    resolving = false;
    if (disposed) return;
    if (!agentState.ok) {
      setStatus(`The agent's state is ${agentState.missing ? 'not available' : 'unreachable'}: ${agentState.error}`, 'error');
      return;
    }
    const directory = sandboxOf(agentState.data, String(entry.framework.id), String(entry.task.id));
    if (!directory) {
      setStatus('The agent has no sandbox for this task (not launched yet, or already garbage-collected).', 'error');
      return;
    }
    path = `${directory}/${file}`;
    pathLine.textContent = path;
    setStatus('Reading…');
    start(store);
  }

  function frame() {
    const t = entry.task;
    const f = entry.framework;
    const base = ['frameworks', f.id, 'tasks', t.id];
    replaceChildren(header,
      h('div', {},
        h('p', { class: 'crumbs' }, link(['tasks'], 'Tasks'), ' / ', link(base, t.name || t.id)),
        h('h1', {}, `${t.name || t.id} · ${file}`),
        pathLine),
      h('div', { class: 'page-actions' },
        stateBadge(t.state),
        h('div', { class: 'tabs', role: 'tablist' },
          FILES.map((name) => link([...base, name], name, { class: ['tab', name === file && 'active'], role: 'tab' }))),
        h('label', { class: 'toggle' }, follow, ' Follow')));
    replaceChildren(node, header, h('div', { class: 'log-bar' }, status), output);
  }

  follow.addEventListener('change', () => {
    if (follow.checked) {
      output.scrollTop = output.scrollHeight;
      schedule(0);
    }
  });

  return {
    node,
    update(store) {
      if (!FILES.includes(file)) {
        replaceChildren(node, notice(`Unknown file '${file}': the viewer shows stdout or stderr.`, 'muted'));
        return;
      }
      const found = findTask(store.state, params.frameworkId ?? null, params.taskId);
      if (!found) {
        if (!entry) replaceChildren(node, header, notice(`The master does not know task ${params.taskId}.`, 'muted'));
        return;
      }
      const first = !entry;
      const stateChanged = entry && entry.task.state !== found.task.state;
      entry = found;
      if (first || stateChanged) frame();
      if (!path && !resolving) resolve(store);
    },
    dispose() {
      disposed = true;
      clearTimeout(timer);
    },
  };
}
