// Formatting numbers, resources, times and task states for display.

export function number(value, digits = 2) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  const rounded = Math.round(value * 10 ** digits) / 10 ** digits;
  return rounded.toLocaleString('en-US', { maximumFractionDigits: digits });
}

// Megabytes (Mesos's unit for mem and disk) for humans.
export function megabytes(mb) {
  if (mb === null || mb === undefined || Number.isNaN(mb)) return '–';
  if (Math.abs(mb) >= 1024 * 1024) return `${number(mb / 1024 / 1024, 1)} TB`;
  if (Math.abs(mb) >= 1024) return `${number(mb / 1024, 1)} GB`;
  return `${number(mb, 0)} MB`;
}

export const RESOURCES = [
  { name: 'cpus', label: 'CPUs', format: (v) => number(v, 2) },
  { name: 'gpus', label: 'GPUs', format: (v) => number(v, 0) },
  { name: 'mem', label: 'Memory', format: megabytes },
  { name: 'disk', label: 'Disk', format: megabytes },
];

export function scalar(resources, name) {
  const value = resources ? resources[name] : undefined;
  return typeof value === 'number' && Number.isFinite(value) ? value : 0;
}

// {cpus: 1, mem: 128, ports: "[31000-31001]"} -> "1 CPUs · 128 MB · ports [31000-31001]"
export function resources(r) {
  if (!r || typeof r !== 'object') return '–';
  const parts = [];
  for (const { name, label, format } of RESOURCES) {
    const v = scalar(r, name);
    if (v <= 0) continue;
    if (name === 'cpus' || name === 'gpus') parts.push(`${format(v)} ${v === 1 ? label.slice(0, -1) : label}`);
    else parts.push(`${format(v)} ${name}`);
  }
  for (const [name, value] of Object.entries(r)) {
    if (RESOURCES.some((x) => x.name === name)) continue;
    if (typeof value === 'number' && value > 0) parts.push(`${number(value)} ${name}`);
    else if (typeof value === 'string' && value !== '' && value !== '[]' && value !== '{}') parts.push(`${name} ${value}`);
  }
  return parts.length ? parts.join(' · ') : 'none';
}

// Seconds since the epoch -> "2024-05-01 12:03:04".
export function time(seconds) {
  if (!seconds) return '–';
  const d = new Date(seconds * 1000);
  if (Number.isNaN(d.getTime())) return '–';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ` +
    `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function duration(seconds) {
  if (seconds === null || seconds === undefined || Number.isNaN(seconds) || seconds < 0) return '–';
  if (seconds < 1) return `${Math.round(seconds * 1000)} ms`;
  if (seconds < 60) return `${number(seconds, 1)} s`;
  const m = Math.floor(seconds / 60);
  if (m < 60) return `${m} min ${Math.floor(seconds % 60)} s`;
  const hours = Math.floor(m / 60);
  if (hours < 48) return `${hours} h ${m % 60} min`;
  return `${Math.floor(hours / 24)} d ${hours % 24} h`;
}

export function ago(seconds) {
  if (!seconds) return '–';
  return `${duration(Date.now() / 1000 - seconds)} ago`;
}

// "TASK_RUNNING" -> "Running"
export function stateLabel(state) {
  if (!state) return 'Unknown';
  const word = String(state).replace(/^TASK_/, '').toLowerCase().replace(/_/g, ' ');
  return word.charAt(0).toUpperCase() + word.slice(1);
}

const STATE_TONES = {
  TASK_STAGING: 'pending', TASK_STARTING: 'pending', TASK_RUNNING: 'running', TASK_KILLING: 'warning',
  TASK_FINISHED: 'done', TASK_FAILED: 'bad', TASK_KILLED: 'warning', TASK_LOST: 'bad', TASK_ERROR: 'bad',
  TASK_DROPPED: 'bad', TASK_UNREACHABLE: 'warning', TASK_GONE: 'bad', TASK_GONE_BY_OPERATOR: 'bad',
  TASK_UNKNOWN: 'muted',
};

export function stateTone(state) {
  return STATE_TONES[state] || 'muted';
}

// Every task state in lifecycle order, for counts and filters.
export const TASK_STATES = [
  'TASK_STAGING', 'TASK_STARTING', 'TASK_RUNNING', 'TASK_KILLING', 'TASK_FINISHED', 'TASK_FAILED',
  'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_UNREACHABLE', 'TASK_GONE',
  'TASK_GONE_BY_OPERATOR', 'TASK_UNKNOWN',
];

export const TERMINAL_STATES = new Set([
  'TASK_FINISHED', 'TASK_FAILED', 'TASK_KILLED', 'TASK_LOST', 'TASK_ERROR', 'TASK_DROPPED', 'TASK_GONE',
  'TASK_GONE_BY_OPERATOR',
]);

export function shortId(id) {
  const text = String(id ?? '');
  return text.length > 24 ? `${text.slice(0, 10)}…${text.slice(-10)}` : text;
}
