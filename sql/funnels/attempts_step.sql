-- Funnel attempts, step $step, for every ordered and strict funnel at once.
-- Candidates: events of the unit matching step $step after the earliest event that reached
-- step $step - 1, within the attempt's window (strict funnels: only the unit's very next event).
-- A step with its own `window` keeps a candidate only if an event that reached step $step - 1
-- lies before it within that window; the latest such event is the one to test. The attempt
-- reaches step $step if a candidate is left; the earliest one is its step time. Taking the
-- earliest event of each step is exact without step windows, and the reachable sets keep it
-- exact with them. An event fills at most one step: it must come after the previous one.
-- Returns how many attempts advanced.
create or replace temp table fa_candidates as
select a.attempt_id, s.unit_seq, s.occurred_at, st.window_seconds
from fa_attempts as a
inner join config.funnels as f on f.funnel = a.funnel
inner join config.funnel_steps as st on st.funnel = a.funnel and st.step_index = $step
inner join fa_steps as p on p.attempt_id = a.attempt_id and p.step_index = $step - 1
inner join intermediate.int_funnels__step_events as s
    on s.funnel = a.funnel and s.unit_id = a.unit_id and s.step_index = $step
where a.level = $step - 1
    and s.unit_seq > p.unit_seq
    and s.occurred_at <= a.closes_at
    and (f.order_mode <> 'strict' or s.unit_seq = p.unit_seq + 1);

create or replace temp table fa_reached as
with merged as (
    select attempt_id, unit_seq, occurred_at, window_seconds, 1 as is_candidate
    from fa_candidates
    union all
    select r.attempt_id, r.unit_seq, r.occurred_at, null, 0
    from fa_reach as r
    where r.step_index = $step - 1
        and r.attempt_id in (select c.attempt_id from fa_candidates as c)
),

latest_before as (
    select
        *,
        max(case when is_candidate = 0 then occurred_at end) over (
            partition by attempt_id
            order by unit_seq, is_candidate desc
            rows between unbounded preceding and current row
        ) as previous_at
    from merged
)

select attempt_id, unit_seq, occurred_at
from latest_before
where is_candidate = 1
    and (window_seconds is null or occurred_at <= previous_at + to_seconds(window_seconds));

insert into fa_reach
select r.attempt_id, $step, r.unit_seq, r.occurred_at
from fa_reached as r
inner join fa_attempts as a on a.attempt_id = r.attempt_id
inner join config.funnel_steps as nxt on nxt.funnel = a.funnel and nxt.step_index = $step + 1
where nxt.window_seconds is not null;

create or replace temp table fa_next as
select attempt_id, min(unit_seq) as unit_seq, min(occurred_at) as occurred_at
from fa_reached
group by attempt_id;

insert into fa_steps
select attempt_id, $step, occurred_at, unit_seq from fa_next;

create or replace temp table fa_attempts as
select
    a.attempt_id, a.funnel, a.unit_id, a.customer_id, a.entered_at, a.closes_at,
    case when n.attempt_id is null then a.level else $step end as level,
    coalesce(n.unit_seq, a.last_seq) as last_seq
from fa_attempts as a
left join fa_next as n on n.attempt_id = a.attempt_id;

select count(*) from fa_next;
