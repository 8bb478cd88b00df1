// Twilio's JavaScript worker SDK (twilio-taskrouter, as npm installed it for the worker page) against a live
// local TaskRouter: start-up, every event a worker page listens to, every action it takes, and the token's
// edge cases. Run by tests/local_twilio/eventbridge/test_node_sdk.py, which starts the server and makes the tokens;
// prints one JSON line per scenario and exits non-zero if any failed.
"use strict";
const path = require("path");

const env = JSON.parse(process.env.SCENE);
const { Worker } = require(path.join(env.workerPageDir, "node_modules", "twilio-taskrouter"));
const options = { ebServer: `${env.baseUrl}/v1/wschannels`, wsServer: `${env.wsUrl}/v1/wschannels`, logLevel: "silent" };
const WAIT_MS = 10000;
const auth = "Basic " + Buffer.from(`${env.accountSid}:${env.authToken}`).toString("base64");

function once(emitter, event, ms = WAIT_MS) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms);
    emitter.once(event, (...args) => { clearTimeout(timer); resolve(args); });
  });
}

async function rest(method, url, form) {
  const answer = await fetch(`${env.baseUrl}${url}`, {
    method, headers: { Authorization: auth, "Content-Type": "application/x-www-form-urlencoded" },
    body: form ? new URLSearchParams(form) : undefined,
  });
  const body = await answer.json();
  if (!answer.ok) throw new Error(`${method} ${url}: ${answer.status} ${body.message}`);
  return body;
}

const ws = `/v1/Workspaces/${env.workspaceSid}`;
const createTask = () => rest("POST", `${ws}/Tasks`,
  { Attributes: JSON.stringify({ selected_language: "es" }), WorkflowSid: env.workflowSid });
const cancelTask = (sid) => rest("POST", `${ws}/Tasks/${sid}`, { AssignmentStatus: "canceled", Reason: "test" });
const advanceClock = (seconds) => rest("POST", "/_local/Clock", { AdvanceSeconds: String(seconds) });

// Wait for `event` until `done()` holds (events before it, like Reserved before Busy, are passed over).
function until(emitter, event, done, ms = WAIT_MS) {
  return new Promise((resolve, reject) => {
    if (done()) return resolve();
    const timer = setTimeout(() => { emitter.off(event, look); reject(new Error(`'${event}' never reached it`)); }, ms);
    function look() {
      if (done()) { clearTimeout(timer); emitter.off(event, look); resolve(); }
    }
    emitter.on(event, look);
  });
}

function activity(worker, name) {
  return [...worker.activities.values()].find((a) => a.name === name);
}

async function goIdle(worker) {
  if (worker.activity.name === "Idle") return;
  const updated = once(worker, "activityUpdated");
  await activity(worker, "Idle").setAsCurrent();
  await updated;
}

async function ready(token, extra = {}) {
  const worker = new Worker(token, { ...options, ...extra });
  await once(worker, "ready");
  return worker;
}

function check(condition, what) {
  if (!condition) throw new Error(what);
}

const scenarios = {
  async startUp() {
    const worker = await ready(env.tokens.alice);
    check(worker.sid === env.aliceSid, `worker.sid ${worker.sid}`);
    check(worker.friendlyName === "Alice" && worker.activity.name === "Offline", `${worker.friendlyName} ${worker.activity.name}`);
    check(["Offline", "Idle", "Busy", "Reserved"].every((n) => activity(worker, n)), "the quickstart's activities");
    check(worker.attributes.languages.includes("es"), "attributes parsed");
    check(worker.channels.size >= 2, `channels ${worker.channels.size}`);
    check(worker.reservations.size === 0, "no reservations yet");
    worker.disconnect();
  },

  async acceptWrapComplete() {
    const worker = await ready(env.tokens.alice);
    await goIdle(worker);
    const created = once(worker, "reservationCreated");
    const task = await createTask();
    const [reservation] = await created;
    check(reservation.task.sid === task.sid && reservation.status === "pending", "reservationCreated");
    check(reservation.task.attributes.selected_language === "es", "the task's attributes");
    check(reservation.task.queueName === "Customer Care Requests - Spanish", reservation.task.queueName);
    const accepted = once(reservation, "accepted");
    const busy = until(worker, "activityUpdated", () => worker.activity.name === "Busy");
    await reservation.accept();
    await accepted;
    await busy;
    check(worker.activity.name === "Busy", `after accept: ${worker.activity.name}`);
    const wrapup = once(reservation, "wrapup");
    await reservation.task.wrapUp();
    await wrapup;
    check(reservation.task.status === "wrapping", `task ${reservation.task.status}`);
    const completed = once(reservation, "completed");
    const taskCompleted = once(reservation.task, "completed");
    await reservation.task.complete("handled");
    await completed;
    await taskCompleted;
    const fetched = await rest("GET", `${ws}/Tasks/${task.sid}`);
    check(fetched.assignment_status === "completed" && fetched.reason === "handled", fetched.assignment_status);
    worker.disconnect();
  },

  async reservationWrapThenComplete() {
    const worker = await ready(env.tokens.alice);
    await goIdle(worker);
    const created = once(worker, "reservationCreated");
    await createTask();
    const [reservation] = await created;
    await reservation.accept();
    const wrapup = once(reservation, "wrapup");
    await reservation.wrap();
    await wrapup;
    const completed = once(reservation, "completed");
    await reservation.complete();
    await completed;
    worker.disconnect();
  },

  async reject() {
    const worker = await ready(env.tokens.alice);
    await goIdle(worker);
    const created = once(worker, "reservationCreated");
    const task = await createTask();
    const [reservation] = await created;
    const rejected = once(reservation, "rejected");
    await reservation.reject({ activitySid: activity(worker, "Offline").sid });
    await rejected;
    const fetched = await rest("GET", `${ws}/Tasks/${task.sid}`);
    check(fetched.assignment_status === "pending", `task after reject: ${fetched.assignment_status}`);
    await cancelTask(task.sid);
    worker.disconnect();
  },

  async timeout() {
    const worker = await ready(env.tokens.alice);
    await goIdle(worker);
    const created = once(worker, "reservationCreated");
    const task = await createTask();
    const [reservation] = await created;
    const timedOut = once(reservation, "timeout");
    await advanceClock(env.reservationTimeout);
    await timedOut;
    check(!worker.reservations.has(reservation.sid) || reservation.status === "timeout", reservation.status);
    await cancelTask(task.sid);
    worker.disconnect();
  },

  async canceled() {
    const worker = await ready(env.tokens.alice);
    await goIdle(worker);
    const created = once(worker, "reservationCreated");
    const task = await createTask();
    const [reservation] = await created;
    const canceled = once(reservation, "canceled");
    await cancelTask(task.sid);
    await canceled;
    worker.disconnect();
  },

  async attributesAndRefusals() {
    const worker = await ready(env.tokens.alice);
    const updated = once(worker, "attributesUpdated");
    await worker.setAttributes({ languages: ["en", "es"], team: "node" });
    await updated;
    check(worker.attributes.team === "node", JSON.stringify(worker.attributes));
    await worker.setAttributes({ languages: ["en", "es"] });
    // A refusal reaches the page as the SDK's error, with Twilio's message.
    let refused = null;
    try {
      await worker.createTask("+15551230000", "+12025550100", "WW" + "0".repeat(32), "WQ" + "0".repeat(32));
    } catch (error) {
      refused = error;
    }
    check(refused && /status code 4\d\d/.test(refused.message), `refusal: ${refused && refused.message}`);
    worker.disconnect();
  },

  async channelAvailabilityAndCapacity() {
    const worker = await ready(env.tokens.alice);
    const channel = [...worker.channels.values()].find((c) => c.taskChannelUniqueName === "voice");
    const availability = once(channel, "availabilityUpdated");
    await rest("POST", `${ws}/Workers/${env.aliceSid}/Channels/${channel.sid}`, { Available: "false" });
    await availability;
    check(channel.available === false, `channel available: ${channel.available}`);
    const capacity = once(channel, "capacityUpdated");
    await rest("POST", `${ws}/Workers/${env.aliceSid}/Channels/${channel.sid}`, { Capacity: "2", Available: "true" });
    await capacity;
    check(channel.capacity === 2, `capacity ${channel.capacity}`);
    worker.disconnect();
  },

  async rescinded() {
    // Two workers reserved for one English task; Bob accepts first, so Alice's reservation is rescinded.
    await rest("POST", `${ws}/TaskQueues/${env.englishQueueSid}`, { MaxReservedWorkers: "2" });
    const worker = await ready(env.tokens.alice);
    await goIdle(worker);
    await rest("POST", `${ws}/Workers/${env.bobSid}`, { ActivitySid: activity(worker, "Idle").sid });
    const created = once(worker, "reservationCreated");
    const task = await rest("POST", `${ws}/Tasks`,
      { Attributes: JSON.stringify({ selected_language: "en" }), WorkflowSid: env.workflowSid });
    const [reservation] = await created;
    const rescinded = once(reservation, "rescinded");
    const bobs = await rest("GET", `${ws}/Tasks/${task.sid}/Reservations?ReservationStatus=pending`);
    const bob = bobs.reservations.find((r) => r.worker_sid === env.bobSid);
    check(bob, "Bob is reserved too");
    await rest("POST", `${ws}/Tasks/${task.sid}/Reservations/${bob.sid}`, { ReservationStatus: "accepted" });
    await rescinded;
    worker.disconnect();
  },

  async badToken() {
    const worker = new Worker(env.tokens.bad, options);
    const [error] = await once(worker, "error");
    check(error && /connect/i.test(error.message), `error: ${error && error.message}`);
    worker.disconnect();
  },

  async expiredToken() {
    const worker = new Worker(env.tokens.expired, options);
    await once(worker, "error");
    worker.disconnect();
  },

  async tokenExpiresAndUpdates() {
    // Its token lives 20 s: the SDK warns 5 s before (token_lifetime from the init frame, in ms). The listener is
    // there from the start: on a busy machine the warning may come as soon as the worker is made.
    const worker = new Worker(env.tokens.short, options);
    const expired = once(worker, "tokenExpired", 25000);
    await once(worker, "ready");
    await expired;
    const updated = once(worker, "tokenUpdated");
    worker.updateToken(env.tokens.alice);
    await updated;
    await goIdle(worker);  // the tunnel takes the new token
    const offline = once(worker, "activityUpdated");
    await activity(worker, "Offline").setAsCurrent();
    await offline;
    worker.disconnect();
  },

  async closeExistingSessions() {
    const first = await ready(env.tokens.alice, { closeExistingSessions: false });
    const gone = once(first, "disconnected");
    const second = await ready(env.tokens.alice, { closeExistingSessions: true });
    const [why] = await gone;
    check(why && /newer session/.test(why.message), `first session: ${JSON.stringify(why)}`);
    first.disconnect();
    second.disconnect();
  },
};

(async () => {
  let failed = 0;
  const only = process.argv.slice(2);
  for (const [name, run] of Object.entries(scenarios)) {
    if (only.length && !only.includes(name)) continue;
    const started = Date.now();
    try {
      await run();
      console.log(JSON.stringify({ scenario: name, ok: true, ms: Date.now() - started }));
    } catch (error) {
      failed += 1;
      console.log(JSON.stringify({ scenario: name, ok: false, error: String(error && error.stack || error) }));
    }
  }
  process.exit(failed ? 1 : 0);
})();
