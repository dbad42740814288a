import { badge, h, link, table } from '../dom.js';
import type { El } from '../env.js';
import { fmtDuration, fmtTime } from '../format.js';
import { href } from '../router.js';
import type { ConversionAnswer, Journey, JourneyEvent } from '../types.js';

/**
 * The view that decided the outcome: for an attributed conversion, the views it was attributed
 * to; otherwise the latest view at or before the conversion (rule 5 of spec/attribution.md).
 */
function decidingViews(journey: Journey, answer: ConversionAnswer): Set<number> {
  const views = journey.events.filter((e) => e.type === 'view');
  if (answer.attributions.length > 0) {
    return new Set(views.filter((v) => answer.attributions.some((a) => a.optimization === v.optimization && a.variation === v.variation
      && a.viewedAt === v.occurredAt && (a.visitorId === undefined || a.visitorId === v.visitorId))).map((v) => v.id));
  }
  const before = views.filter((v) => v.occurredAt <= answer.conversion.occurredAt);
  const latest = before.at(-1);
  return new Set(latest === undefined ? [] : [latest.id]);
}

/** For each visitor the conversion resolved to: their sessions (does one cover the conversion?) and their views. */
export function describeVisitorSessions(journey: Journey, answer: ConversionAnswer, ws: string): El {
  const tc = answer.conversion.occurredAt;
  if (journey.visitors.length === 0) {
    return h('p', {}, 'No visitor matches this conversion: nothing with its visitor id, or no setUserId with its user, was seen before it was received.');
  }
  const deciding = decidingViews(journey, answer);
  const views = (visitor: string): JourneyEvent[] => journey.events.filter((e) => e.type === 'view' && e.visitorId === visitor);
  return h('div', { class: 'visitors' }, ...journey.visitors.map((v) => {
    const covering = v.sessions.findIndex((s) => s.start <= tc && tc < s.end);
    const sessionOf = (t: number) => v.sessions.findIndex((s) => s.start <= t && t < s.end) + 1;
    return h('section', { class: 'visitor' },
      h('h3', {}, 'Visitor ', link(href(ws, 'journeys', [], { visitor: v.visitorId }), v.visitorId)),
      h('p', {}, covering === -1
        ? `${v.sessions.length === 1 ? 'This visitor\'s only session does not cover' : `None of this visitor's ${v.sessions.length} sessions covers`} the conversion at ${fmtTime(tc)}.`
        : `Session ${covering + 1} covers the conversion at ${fmtTime(tc)}.`),
      table(`Sessions of ${v.visitorId}`, ['Session', 'Start', 'End', 'Length', 'Ended by', 'Covers the conversion'],
        v.sessions.map((s, i) => [String(i + 1), fmtTime(s.start), fmtTime(s.end), fmtDuration(s.end - s.start), s.endedBy === 'max_duration' ? 'maximum length' : 'inactivity', i === covering ? badge('yes', 'attributed') : 'no'])),
      views(v.visitorId).length === 0 ? h('p', {}, 'This visitor viewed no variation.') : table(`Views of ${v.visitorId}`, ['Viewed at', 'Optimization', 'Variation', 'Session', 'Relative to the conversion', ''],
        views(v.visitorId).map((e) => [fmtTime(e.occurredAt), e.optimization ?? '—', e.variation ?? '—', String(sessionOf(e.occurredAt) || '—'),
          e.occurredAt <= tc ? `${fmtDuration(tc - e.occurredAt)} before` : `${fmtDuration(e.occurredAt - tc)} after`,
          deciding.has(e.id) ? badge('decided the outcome', 'decided') : ''])));
  }));
}
