-- Funnel attempts: how each funnel's attempts are followed, and the first step of the exact
-- path. `is_plain`: an ordered funnel without step windows or exclusions, where the chain of
-- earliest events after a step-1 event decides everything (`chains_*.sql`); the others
-- (strict, step windows, exclusions) follow every attempt here (`attempts_*.sql`).
create or replace temp table fa_funnels as
select
    f.funnel,
    f.window_seconds,
    f.order_mode,
    f.steps,
    f.order_mode = 'ordered'
    and f.funnel not in (
        select s.funnel from config.funnel_steps as s where s.window_seconds is not null
    )
    and f.funnel not in (
        select m.funnel from config.funnel_matchers as m where m.step_index is null
    ) as is_plain
from config.funnels as f;

-- Every step-1 event starts an attempt of a strict funnel or an ordered one that is not plain.
-- Its window runs from that event to `window` later, inclusive.
create or replace temp table fa_attempts as
select
    row_number() over (order by s.unit_key, s.unit_seq) as attempt_id,
    s.funnel,
    s.unit_key,
    s.occurred_at as entered_at,
    s.occurred_at + to_seconds(f.window_seconds) as closes_at,
    1 as level,
    s.unit_seq as last_seq
from fa_step_events as s
inner join fa_funnels as f on f.funnel = s.funnel
where s.step_index = 1 and f.order_mode in ('ordered', 'strict') and not f.is_plain;

create or replace temp table fa_steps as
select a.attempt_id, 1 as step_index, a.entered_at as occurred_at, a.last_seq as unit_seq
from fa_attempts as a;

-- The events that reached each step, kept only where the next step has its own window.
create or replace temp table fa_reach as
select attempt_id, step_index, unit_seq, occurred_at from fa_steps;
