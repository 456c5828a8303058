-- Attempts of unordered funnels: every event matching any step starts one. Its steps are the
-- distinct steps matched by events from the anchor on, within the window; the k-th step is
-- reached when the k-th distinct step first appears. One event fills at most one step, so an
-- attempt reaches at most as many steps as it has distinct matching events.
create or replace temp table fa_unordered_events as
select s.*, f.window_seconds
from fa_step_events as s
inner join config.funnels as f on f.funnel = s.funnel
where f.order_mode = 'unordered' and s.step_index is not null;

create or replace temp table fa_anchors as
select
    (select coalesce(max(attempt_id), 0) from fa_attempts)
    + row_number() over (order by unit_key, unit_seq) as attempt_id,
    funnel,
    unit_key,
    unit_seq as anchor_seq,
    occurred_at as entered_at,
    occurred_at + to_seconds(window_seconds) as closes_at
from (
    select distinct funnel, unit_key, unit_seq, occurred_at, window_seconds
    from fa_unordered_events
) as anchors;

create or replace temp table fa_unordered_steps as
with in_window as (
    select a.attempt_id, s.step_index, s.unit_seq, s.occurred_at
    from fa_anchors as a
    inner join fa_unordered_events as s
        on s.unit_key = a.unit_key
        and s.unit_seq >= a.anchor_seq and s.occurred_at <= a.closes_at
),

step_firsts as (
    select attempt_id, step_index, min(unit_seq) as unit_seq, min(occurred_at) as occurred_at
    from in_window
    group by attempt_id, step_index
),

event_counts as (
    select attempt_id, count(distinct unit_seq) as events
    from in_window
    group by attempt_id
),

ranked as (
    select
        attempt_id,
        row_number() over (partition by attempt_id order by unit_seq, step_index) as step_index,
        occurred_at,
        unit_seq
    from step_firsts
)

select r.*
from ranked as r
inner join event_counts as c on c.attempt_id = r.attempt_id
where r.step_index <= c.events;

insert into fa_attempts
select
    a.attempt_id, a.funnel, a.unit_key, a.entered_at, a.closes_at, max(u.step_index),
    a.anchor_seq
from fa_anchors as a
inner join fa_unordered_steps as u on u.attempt_id = a.attempt_id
group by a.attempt_id, a.funnel, a.unit_key, a.entered_at, a.closes_at, a.anchor_seq;

insert into fa_steps select attempt_id, step_index, occurred_at, unit_seq from fa_unordered_steps;
