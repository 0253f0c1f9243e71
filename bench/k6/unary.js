// One unary gRPC method under constant load: VUS virtual users, each on its own mTLS connection, call
// METHOD in a loop for WARMUP + DURATION seconds, cycling through the requests in REQUESTS_FILE (a JSON
// array, starting at OFFSET). Calls made during the warm-up are tagged phase=warmup and left out of the
// figures; the summary (p50/p95/p99 and the count of the measured calls) goes to SUMMARY_FILE.
// TARGETS is a comma-separated list of host:port; VU n connects to TARGETS[n % len] (client-side
// balancing over replicas). API_KEY, when set, is sent as `authorization: Bearer <key>`.
// The schemas come from PROTO_FILES (comma-separated, under PROTO_ROOT) when given, else by reflection:
// the platform's services allow a peer 4 reflection streams at once, so 16 VUs connecting by reflection
// together would see most of their connects refused. A VU whose connect fails tries again, and counts it
// in connect_failures; an invoke that throws counts in failures.
import grpc from 'k6/net/grpc';
import { sleep } from 'k6';
import exec from 'k6/execution';
import { SharedArray } from 'k6/data';
import { Counter } from 'k6/metrics';

const tls = {
  cacerts: [open(__ENV.CA_FILE)],
  cert: open(__ENV.CERT_FILE),
  key: open(__ENV.KEY_FILE),
};
const requests = new SharedArray('requests', () => JSON.parse(open(__ENV.REQUESTS_FILE)));
const targets = __ENV.TARGETS.split(',');
const warmup = Number(__ENV.WARMUP);
const duration = Number(__ENV.DURATION);
const offset = Number(__ENV.OFFSET || 0);
const metadata = __ENV.API_KEY ? { authorization: `Bearer ${__ENV.API_KEY}` } : {};
const failures = new Counter('failures');
const connectFailures = new Counter('connect_failures');
const client = new grpc.Client();
const protoFiles = (__ENV.PROTO_FILES || '').split(',').filter((f) => f);
if (protoFiles.length) {
  client.load([__ENV.PROTO_ROOT], ...protoFiles);
}
let connected = false;

export const options = {
  scenarios: {
    load: {
      executor: 'constant-vus',
      vus: Number(__ENV.VUS),
      duration: `${warmup + duration}s`,
      gracefulStop: '5s',
    },
  },
  summaryTrendStats: ['avg', 'min', 'med', 'p(50)', 'p(90)', 'p(95)', 'p(99)', 'max', 'count'],
  // Thresholds that always pass: they make k6 keep the phase=measure sub-metrics in the summary.
  thresholds: {
    'grpc_req_duration{phase:measure}': ['max>=0'],
    'failures{phase:measure}': ['count>=0'],
    'connect_failures': ['count>=0'],
  },
};

export default function () {
  const elapsed = exec.instance.currentTestRunDuration / 1000;
  const phase = elapsed < warmup ? 'warmup' : 'measure';
  if (!connected) {
    try {
      const target = targets[exec.vu.idInTest % targets.length];
      client.connect(target, { tls, reflect: !protoFiles.length, timeout: '30s' });
      connected = true;
    } catch (error) {
      connectFailures.add(1, { phase });
      sleep(0.1);
      return;
    }
  }
  const request = requests[(exec.scenario.iterationInTest + offset) % requests.length];
  try {
    const response = client.invoke(__ENV.METHOD, request, {
      metadata,
      timeout: '30s',
      tags: { phase },
      discardResponseMessage: true,
    });
    if (response.status !== grpc.StatusOK) {
      failures.add(1, { phase, code: String(response.status) });
    }
  } catch (error) {
    failures.add(1, { phase, code: 'exception' });
  }
}

export function handleSummary(data) {
  return { [__ENV.SUMMARY_FILE]: JSON.stringify(data) };
}
