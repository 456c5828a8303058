-- Funnel attempts, step $step, for the strict and the not plain ordered funnels at once.
-- An ordered funnel's attempt takes the earliest event matching step $step after its step
-- $step - 1 event, within the attempt's window: found by one sweep, in the unit's event order,
-- over the attempts' positions and the step's events (the first step event at or after each
-- position; an event already used for the previous step cannot fill this one).
-- Where step $step has its own window, or step $step + 1 does, every such event is a candidate
-- instead: one is kept only if an event that reached step $step - 1 lies before it within that
-- window (the latest such event is the one to test), and the candidates that are kept are the
-- events that reached step $step. A strict funnel's only candidate is the unit's very next
-- event. The attempt reaches step $step if a candidate is left, the earliest one being its step
-- time; keeping every event that reached a step is what makes step windows exact, not greedy.
-- Returns how many attempts advanced.
create or replace temp table fa_open as
select
    a.attempt_id,
    a.funnel,
    a.unit_key,
    a.closes_at,
    a.last_seq,
    f.order_mode,
    f.order_mode = 'ordered'
    and st.window_seconds is null and nxt.window_seconds is null as is_swept,
    st.window_seconds
from fa_attempts as a
inner join fa_funnels as f on f.funnel = a.funnel
inner join config.funnel_steps as st on st.funnel = a.funnel and st.step_index = $step
left join config.funnel_steps as nxt on nxt.funnel = a.funnel and nxt.step_index = $step + 1
where a.level = $step - 1;

create or replace temp table fa_swept as
with step_events as (
    select s.unit_key, s.unit_seq, s.occurred_at
    from fa_step_events as s
    where s.step_index = $step
        and s.unit_key in (select o.unit_key from fa_open as o where o.is_swept)
),

positions as (
    select unit_key, last_seq as unit_seq, attempt_id, closes_at,
        cast(null as timestamp) as occurred_at, 0 as is_step
    from fa_open
    where is_swept
    union all
    select unit_key, unit_seq, null, null, occurred_at, 1
    from step_events
),

swept as (
    select
        *,
        min(case when is_step = 1 then unit_seq end) over ahead as next_seq,
        min(case when is_step = 1 then occurred_at end) over ahead as next_at
    from positions
    window ahead as (
        partition by unit_key
        order by unit_seq, is_step desc
        rows between current row and unbounded following
    )
)

select attempt_id, next_seq as unit_seq, next_at as occurred_at
from swept
where is_step = 0 and next_at <= closes_at;

create or replace temp table fa_candidates as
select o.attempt_id, s.unit_seq, s.occurred_at, o.window_seconds
from fa_open as o
inner join fa_step_events as s
    on s.unit_key = o.unit_key and s.step_index = $step
where not o.is_swept and o.order_mode = 'ordered'
    and s.unit_seq > o.last_seq
    and s.occurred_at <= o.closes_at
union all
select o.attempt_id, s.unit_seq, s.occurred_at, o.window_seconds
from fa_open as o
inner join fa_step_events as s
    on s.unit_key = o.unit_key and s.step_index = $step
    and s.unit_seq = o.last_seq + 1
where o.order_mode = 'strict' and s.occurred_at <= o.closes_at;

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
group by attempt_id
union all
select attempt_id, unit_seq, occurred_at
from fa_swept;

insert into fa_steps
select attempt_id, $step, occurred_at, unit_seq from fa_next;

create or replace temp table fa_attempts as
select
    a.attempt_id, a.funnel, a.unit_key, a.entered_at, a.closes_at,
    case when n.attempt_id is null then a.level else $step end as level,
    coalesce(n.unit_seq, a.last_seq) as last_seq
from fa_attempts as a
left join fa_next as n on n.attempt_id = a.attempt_id;

select count(*) from fa_next;
