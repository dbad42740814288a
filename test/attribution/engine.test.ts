import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import {
  ActivityIndex, attributeConversion, explain, goalAt, indexGoalsByName, loadWorkspace, sessionize,
  type ActivityEvent, type ConversionInput, type EngineContext, type Outcome, type SessionRules,
} from '../../src/attribution/index.js';
import type { CanonicalEvent } from '../../src/core/index.js';
import type { Goal } from '../../src/store/index.js';
import { T0, testApp, type TestApp } from '../helpers/app.js';

const SEC = 1000;
const MIN = 60 * SEC;
const HOUR = 60 * MIN;
const T = T0;
const DEFAULTS: SessionRules = { timeoutMs: 30 * MIN, maxMs: 24 * HOUR };

// ---------- factories ----------

let nextId = 0;

function activity(type: ActivityEvent['type'], visitorId: string, at: number, over: Partial<ActivityEvent> = {}): ActivityEvent {
  return {
    id: ++nextId, type, visitorId, sessionId: null, userDomain: null, userId: null, optimization: null, variation: null,
    occurredAt: at, receivedAt: at, ...over,
  };
}
const pageview = (v: string, at: number, over: Partial<ActivityEvent> = {}) => activity('pageview', v, at, over);
const view = (v: string, optimization: string, variation: string, at: number, over: Partial<ActivityEvent> = {}) =>
  activity('view', v, at, { optimization, variation, ...over });
const identify = (v: string, userId: string, at: number, receivedAt = at) => activity('identify', v, at, { userDomain: 'crm', userId, receivedAt });

/** Pageviews every `every` ms from `from` to `to` inclusive: a visitor kept active. */
function pings(v: string, from: number, to: number, every: number): ActivityEvent[] {
  const out: ActivityEvent[] = [];
  for (let t = from; t <= to; t += every) out.push(pageview(v, t));
  return out;
}

/** A goal with consecutive names: each [apiName, validFrom] holds until the next one starts. */
function goal(id: number, ...names: [apiName: string, validFrom: number][]): Goal {
  return {
    id, workspaceId: 'ws', name: names[0]![0], createdAt: names[0]![1],
    history: names.map(([apiName, validFrom], i) => ({ apiName, validFrom, validTo: names[i + 1]?.[1] ?? null })),
  };
}

function conversion(name: string, at: number, who: Partial<ConversionInput> = { visitorId: 'v1' }): ConversionInput {
  return { id: ++nextId, name, occurredAt: at, receivedAt: at, visitorId: null, sessionId: null, userDomain: null, userId: null, ...who };
}

/** "signup", created a day before T; in optimization "hero" unless told otherwise. */
const SIGNUP = goal(1, ['signup', T - 24 * HOUR]);

interface Setup {
  goals?: Goal[];
  /** optimization key → goal ids */
  optimizations?: Record<string, number[]>;
  rules?: SessionRules;
}

function context(events: ActivityEvent[], setup: Setup = {}): EngineContext {
  const index = new ActivityIndex(setup.rules ?? DEFAULTS);
  for (const e of events) index.add(e);
  index.build();
  const optimizations = Object.entries(setup.optimizations ?? { hero: [1] })
    .map(([key, goalIds]) => ({ key, goalIds }))
    .sort((a, b) => (a.key < b.key ? -1 : 1));
  return { goalsByName: indexGoalsByName(setup.goals ?? [SIGNUP]), optimizations, activity: index };
}

const judge = (c: ConversionInput, events: ActivityEvent[], setup: Setup = {}): Outcome => attributeConversion(c, context(events, setup));

/** The part of an outcome a user reads: the variations, or the reason. */
function verdict(o: Outcome): string {
  return o.outcome === 'attributed' ? o.attributions.map((a) => `${a.optimization}=${a.variation}`).join(' ') : o.reason;
}

// ---------- rule 4: sessions ----------

describe('sessionize (rule 4)', () => {
  it('makes no session of no activity', () => {
    assert.deepEqual(sessionize([], DEFAULTS), { starts: [], ends: [], capped: [] });
  });

  it('ends a session 30 min after its last activity', () => {
    assert.deepEqual(sessionize([T, T + 10 * MIN], DEFAULTS), { starts: [T], ends: [T + 40 * MIN], capped: [false] });
  });

  it('keeps activity exactly 30 min apart in one session', () => {
    assert.deepEqual(sessionize([T, T + 30 * MIN], DEFAULTS), { starts: [T], ends: [T + 60 * MIN], capped: [false] });
  });

  it('starts a new session when more than 30 min passed since the previous activity', () => {
    assert.deepEqual(sessionize([T, T + 30 * MIN + 1], DEFAULTS), {
      starts: [T, T + 30 * MIN + 1], ends: [T + 30 * MIN, T + 60 * MIN + 1], capped: [false, false],
    });
  });

  it('caps a session kept alive every 20 min at 24 h and starts the next at the first activity after the cap', () => {
    const times = pings('v1', T, T + 30 * HOUR, 20 * MIN).map((e) => e.occurredAt);
    // The activity at exactly T + 24 h is not "more than 24 h after the start", so it stays in the first session.
    assert.deepEqual(sessionize(times, DEFAULTS), {
      starts: [T, T + 24 * HOUR + 20 * MIN], ends: [T + 24 * HOUR, T + 30 * HOUR + 30 * MIN], capped: [true, false],
    });
  });

  it('follows the workspace session settings', () => {
    const rules = { timeoutMs: 10 * MIN, maxMs: 1 * HOUR };
    assert.deepEqual(sessionize([T, T + 10 * MIN, T + 20 * MIN + 1], rules), {
      starts: [T, T + 20 * MIN + 1], ends: [T + 20 * MIN, T + 30 * MIN + 1], capped: [false, false],
    });
    const times = pings('v1', T, T + 90 * MIN, 5 * MIN).map((e) => e.occurredAt);
    assert.deepEqual(sessionize(times, rules), { starts: [T, T + 65 * MIN], ends: [T + HOUR, T + 100 * MIN], capped: [true, false] });
  });
});

// ---------- rule 1: goals ----------

describe('goalAt (rule 1)', () => {
  const renamed = goal(7, ['signup', T], ['registration', T + HOUR]);
  const byName = indexGoalsByName([renamed]);

  it('finds the goal from the instant it was created', () => {
    assert.deepEqual(goalAt(byName, 'signup', T), { goal: renamed, apiName: 'signup' });
  });

  it('says goal_not_created_yet for a conversion before the goal was created', () => {
    assert.deepEqual(goalAt(byName, 'signup', T - 1), { reason: 'goal_not_created_yet' });
  });

  it('keeps the old name valid up to the rename, and the new name from the rename on', () => {
    assert.deepEqual(goalAt(byName, 'signup', T + HOUR - 1), { goal: renamed, apiName: 'signup' });
    assert.deepEqual(goalAt(byName, 'registration', T + HOUR), { goal: renamed, apiName: 'registration' });
  });

  it('says goal_renamed for the old name after the rename and for the new name before it', () => {
    assert.deepEqual(goalAt(byName, 'signup', T + HOUR), { reason: 'goal_renamed' });
    assert.deepEqual(goalAt(byName, 'registration', T + HOUR - 1), { reason: 'goal_renamed' });
  });

  it('says unknown_goal for a name no goal ever had', () => {
    assert.deepEqual(goalAt(byName, 'purchase', T + HOUR), { reason: 'unknown_goal' });
  });

  it('gives a name taken over by a second goal to the goal that held it at the conversion time', () => {
    const second = goal(8, ['signup', T + 2 * HOUR]);
    const both = indexGoalsByName([renamed, second]);
    assert.deepEqual(goalAt(both, 'signup', T + 30 * MIN), { goal: renamed, apiName: 'signup' });
    assert.deepEqual(goalAt(both, 'signup', T + 3 * HOUR), { goal: second, apiName: 'signup' });
    // Between the two: the goal now holding the name did not exist yet.
    assert.deepEqual(goalAt(both, 'signup', T + 90 * MIN), { reason: 'goal_not_created_yet' });
  });
});

// ---------- the activity index ----------

describe('ActivityIndex', () => {
  it('does not count server-side conversions as browser activity', () => {
    const index = new ActivityIndex(DEFAULTS);
    index.add(pageview('v1', T));
    index.add(activity('conversion', 'v1', T + 20 * MIN));
    index.add(activity('conversion', 'v9', T + 20 * MIN));
    assert.deepEqual(index.sessions('v1'), { starts: [T], ends: [T + 30 * MIN], capped: [false] });
    assert.equal(index.hasVisitor('v9'), false);
  });

  it('counts custom browser events as activity that keeps a session alive', () => {
    const index = new ActivityIndex(DEFAULTS);
    index.add(pageview('v1', T));
    index.add(activity('custom', 'v1', T + 20 * MIN));
    assert.deepEqual(index.sessions('v1'), { starts: [T], ends: [T + 50 * MIN], capped: [false] });
  });

  it('links a user only to visitors whose identify was received no later than the given instant', () => {
    const index = new ActivityIndex(DEFAULTS);
    index.add(identify('phone', 'u1', T, T));
    index.add(identify('laptop', 'u1', T, T + 5 * MIN));
    assert.deepEqual(index.visitorsOfUser('crm', 'u1', T + 5 * MIN - 1), ['phone']);
    assert.deepEqual(index.visitorsOfUser('crm', 'u1', T + 5 * MIN), ['phone', 'laptop']);
    assert.deepEqual(index.visitorsOfUser('other-crm', 'u1', T + HOUR), []);
  });

  it('takes the later event of two views at the same instant, whatever order they were added in', () => {
    const first = view('v1', 'hero', 'control', T);
    const second = view('v1', 'hero', 'bold', T);
    for (const order of [[first, second], [second, first]]) {
      const index = new ActivityIndex(DEFAULTS);
      for (const e of order) index.add(e);
      assert.deepEqual(index.latestView('v1', 'hero', T), { t: T, id: second.id, variation: 'bold' });
    }
  });
});

// ---------- rules 1 to 5 together ----------

describe('attributeConversion', () => {
  describe('rule 5: a view before the conversion, in the session that covers it', () => {
    const seen = [view('v1', 'hero', 'bold', T), pageview('v1', T + 10 * MIN)];

    it('attributes a conversion 29 min 59 s after the last activity', () => {
      assert.deepEqual(judge(conversion('signup', T + 10 * MIN + 29 * MIN + 59 * SEC), seen), {
        outcome: 'attributed', goalId: 1, visitors: ['v1'],
        attributions: [{ optimization: 'hero', variation: 'bold', viewedAt: T, visitorId: 'v1' }],
      });
    });

    it('says session_expired for a conversion 30 min 1 s after the last activity', () => {
      assert.deepEqual(judge(conversion('signup', T + 10 * MIN + 30 * MIN + 1 * SEC), seen), {
        outcome: 'not_attributed', reason: 'session_expired', goalId: 1, visitors: ['v1'],
        deciding: { optimization: 'hero', variation: 'bold', viewedAt: T, visitorId: 'v1', sessionStart: T, sessionEnd: T + 40 * MIN },
      });
    });

    it('says session_expired for a conversion exactly 30 min after the last activity (a session ends before its end instant)', () => {
      assert.equal(verdict(judge(conversion('signup', T + 40 * MIN), seen)), 'session_expired');
    });

    it('attributes a conversion with a view at exactly the conversion time', () => {
      assert.deepEqual(judge(conversion('signup', T), [view('v1', 'hero', 'bold', T)]), {
        outcome: 'attributed', goalId: 1, visitors: ['v1'],
        attributions: [{ optimization: 'hero', variation: 'bold', viewedAt: T, visitorId: 'v1' }],
      });
    });

    it('says no_view_before_conversion when the only view came 1 ms after the conversion', () => {
      assert.deepEqual(judge(conversion('signup', T), [pageview('v1', T - MIN), view('v1', 'hero', 'bold', T + 1)]), {
        outcome: 'not_attributed', reason: 'no_view_before_conversion', goalId: 1, visitors: ['v1'], deciding: null,
      });
    });

    it('attributes to the latest view at or before the conversion, not to a later one', () => {
      const views = [view('v1', 'hero', 'control', T), view('v1', 'hero', 'bold', T + 5 * MIN), view('v1', 'hero', 'control', T + 15 * MIN)];
      const o = judge(conversion('signup', T + 10 * MIN), views);
      assert.equal(verdict(o), 'hero=bold');
      assert.equal(o.outcome === 'attributed' && o.attributions[0]!.viewedAt, T + 5 * MIN);
    });

    it('says session_expired when the visitor is active again at the conversion but saw the variation in an earlier session', () => {
      const events = [view('v1', 'hero', 'bold', T), pageview('v1', T + 2 * HOUR)];
      assert.equal(verdict(judge(conversion('signup', T + 2 * HOUR + MIN), events)), 'session_expired');
    });

    it('counts activity after the conversion that keeps the view\'s session alive across it', () => {
      // Session: T, T+25 min, T+50 min (gaps ≤ 30 min) → covers T+40 min although nothing happened between T+25 and T+40.
      const events = [view('v1', 'hero', 'bold', T), pageview('v1', T + 25 * MIN), pageview('v1', T + 50 * MIN)];
      assert.equal(verdict(judge(conversion('signup', T + 40 * MIN), events)), 'hero=bold');
    });

    describe('the 24 h cap with activity every 20 min', () => {
      const alive = [view('v1', 'hero', 'bold', T), ...pings('v1', T + 20 * MIN, T + 30 * HOUR, 20 * MIN)];

      it('attributes a conversion 1 s before the session reaches 24 h', () => {
        assert.equal(verdict(judge(conversion('signup', T + 24 * HOUR - SEC), alive)), 'hero=bold');
      });

      it('says session_max_duration for a conversion at 24 h, though the visitor is still active', () => {
        assert.deepEqual(judge(conversion('signup', T + 24 * HOUR), alive), {
          outcome: 'not_attributed', reason: 'session_max_duration', goalId: 1, visitors: ['v1'],
          deciding: { optimization: 'hero', variation: 'bold', viewedAt: T, visitorId: 'v1', sessionStart: T, sessionEnd: T + 24 * HOUR },
        });
        assert.equal(verdict(judge(conversion('signup', T + 26 * HOUR), alive)), 'session_max_duration');
      });

      it('attributes to a view in the new session that starts after the cap', () => {
        const again = [...alive, view('v1', 'hero', 'bold', T + 24 * HOUR + 20 * MIN)];
        const o = judge(conversion('signup', T + 25 * HOUR), again);
        assert.equal(verdict(o), 'hero=bold');
        assert.equal(o.outcome === 'attributed' && o.attributions[0]!.viewedAt, T + 24 * HOUR + 20 * MIN);
      });
    });

    describe('session settings other than the defaults', () => {
      const events = [view('v1', 'hero', 'bold', T)];

      it('expires a session after sessionTimeoutMinutes = 10', () => {
        const c = conversion('signup', T + 15 * MIN);
        assert.equal(verdict(judge(c, events)), 'hero=bold');
        assert.equal(verdict(judge(c, events, { rules: { timeoutMs: 10 * MIN, maxMs: 24 * HOUR } })), 'session_expired');
      });

      it('caps a session at sessionMaxHours = 2', () => {
        const alive = [...events, ...pings('v1', T + 5 * MIN, T + 3 * HOUR, 5 * MIN)];
        const c = conversion('signup', T + 2 * HOUR + MIN);
        assert.equal(verdict(judge(c, alive)), 'hero=bold');
        assert.equal(verdict(judge(c, alive, { rules: { timeoutMs: 30 * MIN, maxMs: 2 * HOUR } })), 'session_max_duration');
      });
    });
  });

  describe('rule 1: the goal name at the conversion time', () => {
    const renamed = goal(1, ['signup', T], ['registration', T + HOUR]);
    const events = [view('v1', 'hero', 'bold', T - 2 * HOUR), ...pings('v1', T - 2 * HOUR, T + 3 * HOUR, 20 * MIN)];
    const setup = { goals: [renamed] };

    it('says goal_not_created_yet for a conversion before the goal existed', () => {
      assert.deepEqual(judge(conversion('signup', T - MIN), events, setup), {
        outcome: 'not_attributed', reason: 'goal_not_created_yet', goalId: null, visitors: [], deciding: null,
      });
    });

    it('says goal_renamed for the old name after a rename and for the new name before it', () => {
      assert.equal(verdict(judge(conversion('signup', T + HOUR), events, setup)), 'goal_renamed');
      assert.equal(verdict(judge(conversion('registration', T + 30 * MIN), events, setup)), 'goal_renamed');
    });

    it('attributes the old name before the rename and the new name after it to the same goal', () => {
      const before = judge(conversion('signup', T + 30 * MIN), events, setup);
      const afterRename = judge(conversion('registration', T + 90 * MIN), events, setup);
      assert.deepEqual([verdict(before), before.goalId, verdict(afterRename), afterRename.goalId], ['hero=bold', 1, 'hero=bold', 1]);
    });

    it('says unknown_goal for a name no goal ever had, before looking at the visitor', () => {
      assert.equal(verdict(judge(conversion('purchase', T, { visitorId: 'nobody' }), events, setup)), 'unknown_goal');
    });
  });

  describe('rule 2: the visitors a conversion names', () => {
    const events = [
      view('v1', 'hero', 'bold', T, { sessionId: 's1' }),
      identify('v1', 'u1', T + MIN, T + MIN),
    ];

    it('links a conversion by visitorId, by sessionId and by userDomain + userId', () => {
      const expected: Outcome = {
        outcome: 'attributed', goalId: 1, visitors: ['v1'],
        attributions: [{ optimization: 'hero', variation: 'bold', viewedAt: T, visitorId: 'v1' }],
      };
      assert.deepEqual(judge(conversion('signup', T + 5 * MIN, { visitorId: 'v1' }), events), expected);
      assert.deepEqual(judge(conversion('signup', T + 5 * MIN, { sessionId: 's1' }), events), expected);
      assert.deepEqual(judge(conversion('signup', T + 5 * MIN, { userDomain: 'crm', userId: 'u1' }), events), expected);
    });

    it('says unknown_user for a visitorId, sessionId or user never seen', () => {
      for (const who of [{ visitorId: 'v2' }, { sessionId: 's2' }, { userDomain: 'crm', userId: 'u2' }, { userDomain: 'erp', userId: 'u1' }]) {
        assert.deepEqual(judge(conversion('signup', T + 5 * MIN, who), events), {
          outcome: 'not_attributed', reason: 'unknown_user', goalId: 1, visitors: [], deciding: null,
        }, JSON.stringify(who));
      }
    });

    it('does not link through an identify received after the conversion was received, even one that happened before it', () => {
      const late = [view('v1', 'hero', 'bold', T), identify('v1', 'u1', T + MIN, T + 10 * MIN)];
      const c = conversion('signup', T + 5 * MIN, { userDomain: 'crm', userId: 'u1', receivedAt: T + 10 * MIN - 1 });
      assert.equal(verdict(judge(c, late)), 'unknown_user');
      assert.equal(verdict(judge({ ...c, receivedAt: T + 10 * MIN }, late)), 'hero=bold');
    });

    it('checks the visitor before the optimizations: unknown_user wins over goal_not_in_any_optimization', () => {
      assert.equal(verdict(judge(conversion('signup', T, { visitorId: 'v2' }), events, { optimizations: {} })), 'unknown_user');
    });
  });

  describe('rule 3: candidate optimizations', () => {
    it('says goal_not_in_any_optimization for a goal no optimization lists', () => {
      const goals = [SIGNUP, goal(2, ['newsletter', T - HOUR])];
      assert.deepEqual(judge(conversion('newsletter', T + MIN), [view('v1', 'hero', 'bold', T)], { goals }), {
        outcome: 'not_attributed', reason: 'goal_not_in_any_optimization', goalId: 2, visitors: ['v1'], deciding: null,
      });
    });

    it('attributes one conversion to two optimizations that list its goal, one variation each, in key order', () => {
      const events = [view('v1', 'pricing', 'cheap', T), view('v1', 'hero', 'bold', T + MIN), view('v1', 'footer', 'dark', T + MIN)];
      const o = judge(conversion('signup', T + 2 * MIN), events, { optimizations: { pricing: [1], hero: [1], footer: [2] } });
      assert.deepEqual(o, {
        outcome: 'attributed', goalId: 1, visitors: ['v1'],
        attributions: [
          { optimization: 'hero', variation: 'bold', viewedAt: T + MIN, visitorId: 'v1' },
          { optimization: 'pricing', variation: 'cheap', viewedAt: T, visitorId: 'v1' },
        ],
      });
    });

    it('attributes to the optimizations that qualify and leaves out one whose view came after the conversion', () => {
      const events = [view('v1', 'hero', 'bold', T), view('v1', 'pricing', 'cheap', T + 10 * MIN)];
      assert.equal(verdict(judge(conversion('signup', T + 5 * MIN), events, { optimizations: { hero: [1], pricing: [1] } })), 'hero=bold');
    });
  });

  describe('several visitors: one user on two devices', () => {
    const devices = (phoneView: number, laptopView: number) => [
      identify('phone', 'u1', T - HOUR), identify('laptop', 'u1', T - HOUR),
      view('phone', 'hero', 'bold', phoneView), view('laptop', 'hero', 'control', laptopView),
    ];
    const byUser = (at: number) => conversion('signup', at, { userDomain: 'crm', userId: 'u1' });

    it('attributes once per optimization, to the latest qualifying view across the devices', () => {
      assert.deepEqual(judge(byUser(T + 20 * MIN), devices(T, T + 10 * MIN)), {
        outcome: 'attributed', goalId: 1, visitors: ['laptop', 'phone'],
        attributions: [{ optimization: 'hero', variation: 'control', viewedAt: T + 10 * MIN, visitorId: 'laptop' }],
      });
    });

    it('skips a later view whose session expired for an earlier one that still qualifies', () => {
      // laptop: last activity T+10 min → session over at T+40 min; phone active every 20 min until T+60 min.
      const events = [...devices(T, T + 10 * MIN), ...pings('phone', T + 20 * MIN, T + 60 * MIN, 20 * MIN)];
      assert.deepEqual(judge(byUser(T + 60 * MIN), events), {
        outcome: 'attributed', goalId: 1, visitors: ['laptop', 'phone'],
        attributions: [{ optimization: 'hero', variation: 'bold', viewedAt: T, visitorId: 'phone' }],
      });
    });

    it('links the visitorId and the user together', () => {
      const events = [view('phone', 'hero', 'bold', T), identify('laptop', 'u1', T), view('laptop', 'hero', 'control', T + MIN)];
      const o = judge(conversion('signup', T + 2 * MIN, { visitorId: 'phone', userDomain: 'crm', userId: 'u1' }), events);
      assert.deepEqual([o.visitors, verdict(o)], [['laptop', 'phone'], 'hero=control']);
    });

    it('gives the reason of the most recent view when no device qualifies', () => {
      const o = judge(byUser(T + 3 * HOUR), devices(T, T + 10 * MIN));
      assert.deepEqual(o, {
        outcome: 'not_attributed', reason: 'session_expired', goalId: 1, visitors: ['laptop', 'phone'],
        deciding: { optimization: 'hero', variation: 'control', viewedAt: T + 10 * MIN, visitorId: 'laptop', sessionStart: T + 10 * MIN, sessionEnd: T + 40 * MIN },
      });
    });
  });

  describe('the reason when every candidate optimization fails', () => {
    const setup = { optimizations: { alpha: [1], beta: [1] } };

    it('gives session_expired when the most recent view (beta) expired, though an older one (alpha) hit the 24 h cap', () => {
      const events = [
        view('v1', 'alpha', 'a1', T + HOUR), ...pings('v1', T, T + 24 * HOUR, 20 * MIN), // session 1: capped at T+24 h
        view('v1', 'beta', 'b1', T + 24 * HOUR + 20 * MIN), // session 2: over at T+24 h 50 min
      ];
      const o = judge(conversion('signup', T + 26 * HOUR), events, setup);
      assert.equal(verdict(o), 'session_expired');
      assert.equal(o.outcome === 'not_attributed' && o.deciding?.optimization, 'beta');
    });

    it('gives session_max_duration when the most recent view (alpha) hit the cap, though an older one (beta) expired', () => {
      const events = [
        view('v1', 'beta', 'b1', T), // session 1: over at T+30 min
        view('v1', 'alpha', 'a1', T + HOUR), ...pings('v1', T + HOUR, T + 25 * HOUR, 20 * MIN), // session 2: capped at T+25 h
      ];
      const o = judge(conversion('signup', T + 25 * HOUR + 10 * MIN), events, setup);
      assert.equal(verdict(o), 'session_max_duration');
      assert.equal(o.outcome === 'not_attributed' && o.deciding?.optimization, 'alpha');
    });

    it('gives a session reason, not no_view_before_conversion, when one candidate has no view and another an expired one', () => {
      assert.equal(verdict(judge(conversion('signup', T + HOUR), [view('v1', 'beta', 'b1', T)], setup)), 'session_expired');
    });
  });

  it('gives the same outcome every time it is asked', () => {
    const events = [view('v1', 'hero', 'bold', T), identify('v2', 'u1', T), view('v2', 'hero', 'control', T)];
    const ctx = context(events);
    const c = conversion('signup', T + MIN, { visitorId: 'v1', userDomain: 'crm', userId: 'u1' });
    const first = attributeConversion(c, ctx);
    assert.deepEqual(attributeConversion(c, ctx), first);
    // A tie at the same instant across visitors goes the same way: the later event.
    assert.equal(verdict(first), 'hero=control');
  });
});

// ---------- explanations ----------

describe('explain', () => {
  const renamed = goal(1, ['signup', T], ['registration', T + HOUR]);
  const setup = { goals: [renamed, goal(2, ['newsletter', T])] };
  const events = [view('v1', 'hero', 'bold', T + MIN), pageview('v1', T + 10 * MIN)];
  const say = (c: ConversionInput, evs = events, rules = DEFAULTS) => explain(c, judge(c, evs, { ...setup, rules }), rules);

  it('names the variation, the view and the conversion time of an attributed conversion', () => {
    assert.equal(say(conversion('signup', T + 20 * MIN)),
      'Attributed to variation "bold" of "hero" (viewed 2026-01-15T12:01:00Z by visitor v1): the view came at or before the conversion at 2026-01-15T12:20:00Z, in the same session.');
  });

  it('says how to fix each reason a conversion was not attributed', () => {
    const cases: [ConversionInput, string][] = [
      [conversion('purchase', T + 20 * MIN),
        'No goal has ever been called "purchase"; create one with that API name (closeloop goals create purchase), then replay or re-run attribution.'],
      [conversion('signup', T - MIN),
        'The goal "signup" was created after this conversion (2026-01-15T11:59:00Z) and conversions from before a goal exists are not attributed: create a goal before its conversions happen.'],
      [conversion('signup', T + 2 * HOUR),
        'A goal was called "signup", but not at 2026-01-15T14:00:00Z (it had another name then): send the name that was valid at the time of the conversion.'],
      [conversion('signup', T + 20 * MIN, { userDomain: 'crm', userId: 'u9' }),
        'No visitor matches setUserId("crm", "u9"): call setUserId with the same domain and id in the browser before the conversion is sent, or send a visitorId or sessionId we have seen.'],
      [conversion('newsletter', T + 20 * MIN),
        'The goal "newsletter" is not a goal of any optimization; add it to the optimization\'s goals.'],
      [conversion('signup', T),
        'The visitor (v1) saw no variation of an optimization with the goal "signup" at or before 2026-01-15T12:00:00Z: check that the page sends the view (optimization and variation) for this visitor before the conversion.'],
      [conversion('signup', T + 40 * MIN + SEC),
        'The latest view (variation "bold" of "hero" at 2026-01-15T12:01:00Z) was in a session that ended at 2026-01-15T12:40:00Z after 30 min without activity, 1 s before the conversion at 2026-01-15T12:40:01Z; to count later conversions, raise the workspace\'s sessionTimeoutMinutes.'],
    ];
    for (const [c, sentence] of cases) assert.equal(say(c), sentence);
  });

  it('names the session start, the maximum and the setting to raise for session_max_duration', () => {
    const alive = [view('v1', 'hero', 'bold', T + MIN), ...pings('v1', T, T + 3 * HOUR, 20 * MIN)];
    assert.equal(say(conversion('signup', T + 50 * MIN), alive, { timeoutMs: 30 * MIN, maxMs: 30 * MIN }),
      'The latest view (variation "bold" of "hero" at 2026-01-15T12:01:00Z) was in a session that started 2026-01-15T12:00:00Z and reached its 30 min maximum at 2026-01-15T12:30:00Z, before the conversion at 2026-01-15T12:50:00Z; to count conversions in longer sessions, raise the workspace\'s sessionMaxHours.');
  });

  it('speaks in the workspace\'s own session timeout', () => {
    assert.match(say(conversion('signup', T + 30 * MIN), events, { timeoutMs: 15 * MIN, maxMs: 24 * HOUR }),
      /ended at 2026-01-15T12:25:00Z after 15 min without activity, 5 min before the conversion/);
  });
});

// ---------- which events are conversions (the runner's load step, over a real store) ----------

describe('loadWorkspace: which events are conversions', () => {
  let t: TestApp;
  before(async () => { t = await testApp(); });
  after(async () => { await t.close(); });

  const stored = (over: Partial<CanonicalEvent>): CanonicalEvent => ({
    workspaceId: 'conv', type: 'custom', name: null, occurredAt: T, receivedAt: T, idempotencyKey: null, visitorId: 'v1', sessionId: null,
    userDomain: null, userId: null, optimization: null, variation: null, value: null, currency: null, properties: null, userData: null,
    context: null, source: 'native', ...over,
  });

  it('takes server conversions whatever their name, and browser custom events only when named as a goal was at the time', async () => {
    await t.workspace('conv');
    const g = await t.store.goals.create('conv', 'signup', 'Signup', T - HOUR);
    await t.store.goals.rename('conv', g.id, 'registration', T + HOUR);
    await t.store.events.append({
      rejections: [],
      events: [
        stored({ idempotencyKey: 'custom-goal', name: 'signup', occurredAt: T }),
        stored({ idempotencyKey: 'custom-not-goal', name: 'clicked-faq', occurredAt: T }),
        stored({ idempotencyKey: 'custom-old-name', name: 'signup', occurredAt: T + 2 * HOUR }),
        stored({ idempotencyKey: 'custom-new-name', name: 'registration', occurredAt: T + 2 * HOUR }),
        stored({ idempotencyKey: 'server-unknown-name', type: 'conversion', name: 'anything', occurredAt: T, source: 'optimize' }),
        stored({ idempotencyKey: 'received-too-late', type: 'conversion', name: 'signup', occurredAt: T, receivedAt: T + 3 * HOUR + 1 }),
      ],
    });
    const loaded = await loadWorkspace(t.store, 'conv', T + 3 * HOUR);
    // custom-goal, custom-new-name and server-unknown-name, in id order.
    assert.deepEqual([...loaded.conversions].map((c) => [c.name, c.occurredAt, c.source]), [['signup', T, 'native'], ['registration', T + 2 * HOUR, 'native'], ['anything', T, 'optimize']]);
    // A custom conversion is also activity of its visitor.
    assert.deepEqual(loaded.ctx.activity.activityTimes('v1'), [T, T, T + 2 * HOUR, T + 2 * HOUR]);
  });
});
