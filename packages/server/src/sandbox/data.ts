import { createHash } from 'node:crypto';

/**
 * The sandbox's demo company, generated from a seed: the same seed always gives the same people and
 * tickets (so examples and tests can rely on them), different seeds give different companies.
 */

export interface SandboxEmployee {
  id: string;
  first_name: string;
  last_name: string;
  display_name: string;
  work_email: string;
  job_title: string;
  department: string;
  employment_status: 'active' | 'on_leave' | 'terminated';
  start_date: string;
  manager_id: string | null;
}

export interface SandboxTicket {
  id: string;
  subject: string;
  status: 'open' | 'pending' | 'solved';
  priority: 'low' | 'normal' | 'high' | 'urgent';
  requester_id: string;
  created_at: string;
}

export interface SandboxCompany {
  id: string;
  name: string;
  domain: string;
  employees: SandboxEmployee[];
  tickets: SandboxTicket[];
}

const COMPANIES = [
  'Acme Rockets',
  'Globex',
  'Initech',
  'Umbrella Foods',
  'Stark Textiles',
  'Wayne Logistics',
];
const FIRST = [
  'Ada',
  'Grace',
  'Alan',
  'Linus',
  'Margaret',
  'Ken',
  'Barbara',
  'Dennis',
  'Frances',
  'Edsger',
  'Radia',
  'Tim',
  'Hedy',
  'John',
  'Katherine',
  'Donald',
  'Sophie',
  'Guido',
  'Anita',
  'Niklaus',
];
const LAST = [
  'Lovelace',
  'Hopper',
  'Turing',
  'Torvalds',
  'Hamilton',
  'Thompson',
  'Liskov',
  'Ritchie',
  'Allen',
  'Dijkstra',
  'Perlman',
  'Berners-Lee',
  'Lamarr',
  'McCarthy',
  'Johnson',
  'Knuth',
  'Wilson',
  'van Rossum',
  'Borg',
  'Wirth',
];
const DEPARTMENTS: Record<string, string[]> = {
  Engineering: ['Software Engineer', 'Senior Software Engineer', 'Engineering Manager', 'SRE'],
  Sales: ['Account Executive', 'Sales Development Rep', 'Head of Sales'],
  People: ['HR Business Partner', 'Recruiter', 'People Operations Lead'],
  Finance: ['Accountant', 'Financial Analyst', 'CFO'],
  Support: ['Support Specialist', 'Support Lead'],
};
const SUBJECTS = [
  'Cannot sign in',
  'Invoice is missing',
  'Laptop replacement',
  'VPN drops every hour',
  'Add me to the payroll group',
  'Expense report stuck',
  'New starter needs an account',
  'Printer on 3rd floor',
  'Update my bank details',
  'Holiday balance looks wrong',
];
const STATUSES: SandboxEmployee['employment_status'][] = [
  'active',
  'active',
  'active',
  'active',
  'on_leave',
  'terminated',
];
const TICKET_STATUSES: SandboxTicket['status'][] = ['open', 'pending', 'solved'];
const PRIORITIES: SandboxTicket['priority'][] = ['low', 'normal', 'normal', 'high', 'urgent'];
/** Dates count back from a fixed day, so generated data does not change with the clock. */
const EPOCH = Date.UTC(2026, 0, 1);
const DAY = 86_400_000;

/** mulberry32: small, fast and good enough for demo data; seeded from a SHA-256 of the seed. */
function random(seed: string): () => number {
  let a = createHash('sha256').update(seed).digest().readUInt32BE(0);
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const cache = new Map<string, SandboxCompany>();

export function sandboxCompany(seed: string): SandboxCompany {
  const cached = cache.get(seed);
  if (cached) return cached;
  const next = random(seed);
  const pick = <T>(list: readonly T[]): T => list[Math.floor(next() * list.length)]!;
  const name = pick(COMPANIES);
  const domain = `${name.toLowerCase().replace(/[^a-z]+/g, '-')}.example`;
  const employees: SandboxEmployee[] = [];
  const count = 40 + Math.floor(next() * 25);
  for (let n = 1; n <= count; n++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const department = pick(Object.keys(DEPARTMENTS));
    employees.push({
      id: `emp_${String(n).padStart(4, '0')}`,
      first_name: first,
      last_name: last,
      display_name: `${first} ${last}`,
      work_email: `${`${first}.${last}`.toLowerCase().replace(/[^a-z.]+/g, '')}${n}@${domain}`,
      job_title: pick(DEPARTMENTS[department]!),
      department,
      // Whoever runs the company is at work.
      employment_status: n === 1 ? 'active' : pick(STATUSES),
      start_date: new Date(EPOCH - Math.floor(next() * 3000) * DAY).toISOString().slice(0, 10),
      // The first employee runs the company; everyone else reports to someone hired before them.
      manager_id: n === 1 ? null : `emp_${String(1 + Math.floor(next() * (n - 1))).padStart(4, '0')}`,
    });
  }
  const tickets: SandboxTicket[] = [];
  for (let n = 1; n <= 30; n++) {
    tickets.push({
      id: `tkt_${String(n).padStart(4, '0')}`,
      subject: pick(SUBJECTS),
      status: pick(TICKET_STATUSES),
      priority: pick(PRIORITIES),
      requester_id: pick(employees).id,
      created_at: new Date(EPOCH - Math.floor(next() * 90 * DAY)).toISOString(),
    });
  }
  const company = {
    id: `cmp_${createHash('sha256').update(seed).digest('hex').slice(0, 12)}`,
    name,
    domain,
    employees,
    tickets,
  };
  // A handful of seeds exist in practice (one per sandbox account); the bound only guards against abuse.
  if (cache.size >= 1000) cache.clear();
  cache.set(seed, company);
  return company;
}
