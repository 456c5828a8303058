-- Funnel attempts, step 1: every step-1 event starts an attempt of an ordered or strict funnel.
-- Its window runs from that event to `window` later, inclusive.
create or replace temp table fa_attempts as
select
    row_number() over (order by s.funnel, s.unit_id, s.unit_seq) as attempt_id,
    s.funnel,
    s.unit_id,
    s.customer_id,
    s.occurred_at as entered_at,
    s.occurred_at + to_seconds(f.window_seconds) as closes_at,
    1 as level,
    s.unit_seq as last_seq
from intermediate.int_funnels__step_events as s
inner join config.funnels as f on f.funnel = s.funnel
where s.step_index = 1 and f.order_mode in ('ordered', 'strict');

create or replace temp table fa_steps as
select a.attempt_id, 1 as step_index, a.entered_at as occurred_at, a.last_seq as unit_seq
from fa_attempts as a;

-- The events that reached each step, kept only where the next step has its own window.
create or replace temp table fa_reach as
select attempt_id, step_index, unit_seq, occurred_at from fa_steps;
