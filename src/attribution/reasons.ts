/** Why a conversion was not attributed: the first rule it failed (spec/attribution.md "Rules"). */
export const REASONS = {
  goal_not_created_yet: 'No goal had this name when the conversion happened: the goal with this name was created afterwards.',
  goal_renamed: 'A goal had this name, but not at the time of the conversion: it was renamed before or after.',
  unknown_goal: 'No goal has ever had this name.',
  unknown_user: 'The conversion names no visitor we have seen: no such visitorId, sessionId, or setUserId(userDomain, userId) before it was received.',
  goal_not_in_any_optimization: 'The goal is not a goal of any optimization.',
  no_view_before_conversion: 'The visitor viewed no variation of an optimization with this goal at or before the conversion.',
  session_expired: 'The visitor\'s session with the latest view ended for inactivity (sessionTimeoutMinutes, 30 by default) before the conversion.',
  session_max_duration: 'The visitor\'s session with the latest view reached its maximum length (sessionMaxHours, 24 by default) before the conversion.',
} as const;

export type ReasonCode = keyof typeof REASONS;
export const REASON_CODES = Object.keys(REASONS) as ReasonCode[];
